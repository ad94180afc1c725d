/// Picking parts of tensors and joining them: `slice`, `concat`, `indexSelect`. All copy; backward adds
/// the gradient back into the positions that were read (repeated indices accumulate).
///
/// Each works on the tensor viewed as [outer, n, inner] around its axis, so it moves whole runs of
/// `inner` contiguous floats at a time.

extension Tensor {
    /// A copy of positions `start..<end` along `axis` (negative axis counts from the end).
    public func slice(axis: Int, start: Int, end: Int) -> Tensor {
        let a = normalizedAxis(axis)
        precondition(
            0 <= start && start <= end && end <= shape[a],
            "slice: range \(start)..<\(end) is out of bounds for axis \(axis) of shape \(shape)")
        let (outer, n, inner) = splitAround(axis: a)
        var outShape = shape
        outShape[a] = end - start
        let out = Tensor(zeros: outShape)
        let block = (end - start) * inner
        let px = data
        let po = out.data
        let rowsPerChunk = Swift.max(1, elementwiseParallelGrain / Swift.max(1, block))
        Parallel.forRanges(outer, minimumPerChunk: rowsPerChunk) { rows in
            for o in rows { (po + o * block).update(from: px + (o * n + start) * inner, count: block) }
        }
        Autograd.record(out, inputs: [self], op: "slice") { [self] g in
            let gx = gradStorage()
            Parallel.forRanges(outer, minimumPerChunk: rowsPerChunk) { rows in
                for o in rows {
                    let dst = gx + (o * n + start) * inner
                    let src = g + o * block
                    for j in 0..<block { dst[j] += src[j] }
                }
            }
        }
        return out
    }

    /// The positions `indices` along `axis`, in that order (repeats allowed): PyTorch `index_select`.
    /// The result has `indices.count` in place of the axis size. Backward scatter-adds the gradient.
    public func indexSelect(axis: Int, indices: [Int]) -> Tensor {
        let a = normalizedAxis(axis)
        let (outer, n, inner) = splitAround(axis: a)
        for (k, index) in indices.enumerated() {
            precondition(
                index >= 0 && index < n,
                "indexSelect: index \(index) at position \(k) is out of range 0..<\(n) for axis \(axis) of shape \(shape)"
            )
        }
        var outShape = shape
        outShape[a] = indices.count
        let out = Tensor(zeros: outShape)
        let m = indices.count
        let px = data
        let po = out.data
        indices.withUnsafeBufferPointer { idx in
            for o in 0..<outer {
                gatherRows(from: px + o * n * inner, width: inner, indices: idx, into: po + o * m * inner)
            }
        }
        Autograd.record(out, inputs: [self], op: "index_select") { [self] g in
            let gx = gradStorage()
            indices.withUnsafeBufferPointer { idx in
                for o in 0..<outer {
                    scatterAddRows(from: g + o * m * inner, width: inner, indices: idx, into: gx + o * n * inner)
                }
            }
        }
        return out
    }
}

/// Joins `tensors` along `axis`. All must have the same rank and the same sizes on every other axis.
public func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
    precondition(!tensors.isEmpty, "concat: needs at least one tensor")
    let first = tensors[0]
    let a = first.normalizedAxis(axis)
    for t in tensors {
        var expected = first.shape
        if t.rank == first.rank { expected[a] = t.shape[a] }
        precondition(
            t.shape == expected,
            "concat: shapes \(tensors.map { $0.shape }) differ outside axis \(axis)")
    }
    let (outer, _, inner) = first.splitAround(axis: a)
    let sizes = tensors.map { $0.shape[a] }
    let total = sizes.reduce(0, +)
    var outShape = first.shape
    outShape[a] = total
    let out = Tensor(zeros: outShape)
    let sources = tensors.map { $0.data }
    let po = out.data
    let rowBlock = total * inner
    let rowsPerChunk = Swift.max(1, elementwiseParallelGrain / Swift.max(1, rowBlock))
    Parallel.forRanges(outer, minimumPerChunk: rowsPerChunk) { rows in
        for o in rows {
            var offset = o * rowBlock
            for (t, size) in sizes.enumerated() {
                let block = size * inner
                (po + offset).update(from: sources[t] + o * block, count: block)
                offset += block
            }
        }
    }
    Autograd.record(out, inputs: tensors, op: "concat") { g in
        var start = 0
        for (t, tensor) in tensors.enumerated() {
            let block = sizes[t] * inner
            defer { start += block }
            guard tensor.requiresGrad else { continue }
            let gt = tensor.gradStorage()
            let from = start
            Parallel.forRanges(outer, minimumPerChunk: rowsPerChunk) { rows in
                for o in rows {
                    let dst = gt + o * block
                    let src = g + o * rowBlock + from
                    for j in 0..<block { dst[j] += src[j] }
                }
            }
        }
    }
    return out
}

/// destination[k, :] = source[indices[k], :] for rows of `width` floats (parallel over k when large).
func gatherRows<Index: BinaryInteger>(
    from source: UnsafePointer<Float>, width: Int, indices: UnsafeBufferPointer<Index>,
    into destination: UnsafeMutablePointer<Float>
) {
    let rowsPerChunk = Swift.max(1, elementwiseParallelGrain / Swift.max(1, width))
    Parallel.forRanges(indices.count, minimumPerChunk: rowsPerChunk) { ks in
        for k in ks { (destination + k * width).update(from: source + Int(indices[k]) * width, count: width) }
    }
}

/// destination[indices[k], :] += source[k, :] for k in increasing order, so repeated indices accumulate in
/// a fixed order. Large problems split the columns among threads (each column keeps the k order).
func scatterAddRows<Index: BinaryInteger>(
    from source: UnsafePointer<Float>, width: Int, indices: UnsafeBufferPointer<Index>,
    into destination: UnsafeMutablePointer<Float>
) {
    let columnsPerChunk = Swift.max(16, elementwiseParallelGrain / Swift.max(1, indices.count))
    Parallel.forRanges(width, minimumPerChunk: columnsPerChunk) { columns in
        for k in 0..<indices.count {
            let dst = destination + Int(indices[k]) * width + columns.lowerBound
            let src = source + k * width + columns.lowerBound
            for j in 0..<columns.count { dst[j] += src[j] }
        }
    }
}
