/// Reductions along one axis (`sum`, `mean`, `max`) and the total `mean()`. (`sum()` total is in Sum.swift.)
///
/// Sums accumulate in Double, in a fixed order, so results are accurate and deterministic for any thread
/// count. A tensor is viewed as [outer, n, inner] around the reduced axis of size n.

extension Tensor {
    /// The sizes before, at and after `axis`: the tensor viewed as [outer, n, inner].
    func splitAround(axis: Int) -> (outer: Int, n: Int, inner: Int) {
        let a = normalizedAxis(axis)
        return (shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
    }

    /// The shape with `axis` removed, or set to 1 when `keepingDimension`.
    func reducedShape(axis: Int, keepingDimension: Bool) -> [Int] {
        let a = normalizedAxis(axis)
        var s = shape
        if keepingDimension { s[a] = 1 } else { s.remove(at: a) }
        return s
    }

    /// The sum along `axis` (negative counts from the end); the axis is dropped, or kept with size 1.
    public func sum(axis: Int, keepingDimension: Bool = false) -> Tensor {
        sumAlong(axis: axis, keepingDimension: keepingDimension, scale: 1, op: "sum_axis")
    }

    /// The mean along `axis` (negative counts from the end); the axis is dropped, or kept with size 1.
    public func mean(axis: Int, keepingDimension: Bool = false) -> Tensor {
        let n = dim(axis)
        return sumAlong(axis: axis, keepingDimension: keepingDimension, scale: 1 / Double(n), op: "mean_axis")
    }

    /// The mean of all elements, a scalar.
    public func mean() -> Tensor {
        let n = count
        let out = Tensor(scalar: Float(sumInDouble(data, n) / Double(n)))
        Autograd.record(out, inputs: [self], op: "mean") { [self] dOut in
            let g = gradStorage()
            let d = dOut[0] / Float(n)
            for i in 0..<n { g[i] += d }
        }
        return out
    }

    /// The maximum along `axis`. Backward sends the gradient to the first position holding the maximum.
    public func max(axis: Int, keepingDimension: Bool = false) -> Tensor {
        let (outer, n, inner) = splitAround(axis: axis)
        precondition(n > 0, "max(axis: \(axis)): the axis of shape \(shape) is empty")
        let out = Tensor(zeros: reducedShape(axis: axis, keepingDimension: keepingDimension))
        let px = data
        let po = out.data
        let recording = Autograd.needsGrad([self])
        var argmax = [Int32](repeating: 0, count: recording ? outer * inner : 0)
        argmax.withUnsafeMutableBufferPointer { arg in
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = px + o * n * inner + i
                    var best = base[0]
                    var at = 0
                    for k in 1..<n where base[k * inner] > best {
                        best = base[k * inner]
                        at = k
                    }
                    po[o * inner + i] = best
                    if recording { arg[o * inner + i] = Int32(at) }
                }
            }
        }
        Autograd.record(out, inputs: [self], op: "max_axis") { [self] g in
            let gx = gradStorage()
            for o in 0..<outer {
                for i in 0..<inner {
                    gx[(o * n + Int(argmax[o * inner + i])) * inner + i] += g[o * inner + i]
                }
            }
        }
        return out
    }

    /// out[o, i] = scale * sum_k x[o, k, i], with backward gx[o, k, i] += scale * g[o, i].
    private func sumAlong(axis: Int, keepingDimension: Bool, scale: Double, op: String) -> Tensor {
        let (outer, n, inner) = splitAround(axis: axis)
        let out = Tensor(zeros: reducedShape(axis: axis, keepingDimension: keepingDimension))
        let px = data
        let po = out.data
        let rowsPerChunk = Swift.max(1, elementwiseParallelGrain / Swift.max(1, n * inner))
        Parallel.forRanges(outer, minimumPerChunk: rowsPerChunk) { rows in
            if inner == 1 {
                for o in rows { po[o] = Float(sumInDouble(px + o * n, n) * scale) }
            } else {
                let sums = UnsafeMutablePointer<Double>.allocate(capacity: inner)
                defer { sums.deallocate() }
                for o in rows {
                    sums.update(repeating: 0, count: inner)
                    for k in 0..<n {
                        let row = px + (o * n + k) * inner
                        for i in 0..<inner { sums[i] += Double(row[i]) }
                    }
                    let dst = po + o * inner
                    for i in 0..<inner { dst[i] = Float(sums[i] * scale) }
                }
            }
        }
        let floatScale = Float(scale)
        Autograd.record(out, inputs: [self], op: op) { [self] g in
            let gx = gradStorage()
            Parallel.forRanges(outer, minimumPerChunk: rowsPerChunk) { rows in
                for o in rows {
                    let src = g + o * inner
                    for k in 0..<n {
                        let dst = gx + (o * n + k) * inner
                        for i in 0..<inner { dst[i] += src[i] * floatScale }
                    }
                }
            }
        }
        return out
    }
}

/// The sum of `count` floats in Double, with eight interleaved partial sums (so the adds pipeline and
/// vectorize) combined in a fixed order: deterministic, and far more accurate than a Float running sum.
@inline(__always)
func sumInDouble(_ values: UnsafePointer<Float>, _ count: Int) -> Double {
    var s0 = 0.0
    var s1 = 0.0
    var s2 = 0.0
    var s3 = 0.0
    var s4 = 0.0
    var s5 = 0.0
    var s6 = 0.0
    var s7 = 0.0
    var i = 0
    while i + 8 <= count {
        s0 += Double(values[i])
        s1 += Double(values[i + 1])
        s2 += Double(values[i + 2])
        s3 += Double(values[i + 3])
        s4 += Double(values[i + 4])
        s5 += Double(values[i + 5])
        s6 += Double(values[i + 6])
        s7 += Double(values[i + 7])
        i += 8
    }
    var tail = 0.0
    while i < count {
        tail += Double(values[i])
        i += 1
    }
    return (((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))) + tail
}
