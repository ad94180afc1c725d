/// Shape changes: `reshaped` (a zero-copy view), `permuted` and `transposed` (copies into the new order).

extension Tensor {
    /// The same values with a new shape, sharing this tensor's storage (no copy). One dimension may be
    /// -1 and is then inferred from the element count. Backward passes the gradient through, reshaped.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let resolved = resolvedShape(newShape)
        let view = Tensor(shape: resolved, storage: storage)
        let n = count
        Autograd.record(view, inputs: [self], op: "reshape") { [self] g in
            let gx = gradStorage()
            Parallel.forRanges(n, minimumPerChunk: elementwiseParallelGrain) { r in
                for i in r { gx[i] += g[i] }
            }
        }
        return view
    }

    /// `newShape` with a -1 replaced by the size that keeps the element count.
    private func resolvedShape(_ newShape: [Int]) -> [Int] {
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        precondition(inferred.count <= 1, "reshaped: at most one -1 allowed in \(newShape) (from \(shape))")
        precondition(newShape.allSatisfy { $0 >= -1 }, "reshaped: negative size in \(newShape) (from \(shape))")
        guard let at = inferred.first else {
            precondition(Tensor.elementCount(newShape) == count,
                         "reshaped: \(shape) has \(count) elements, \(newShape) has \(Tensor.elementCount(newShape))")
            return newShape
        }
        let known = newShape.enumerated().reduce(1) { $1.offset == at ? $0 : $0 * $1.element }
        precondition(known > 0 && count % known == 0,
                     "reshaped: cannot infer -1 in \(newShape) for \(shape) (\(count) elements)")
        var resolved = newShape
        resolved[at] = count / known
        return resolved
    }

    /// A copy with dimensions `first` and `second` swapped (negative axes count from the end).
    public func transposed(_ first: Int, _ second: Int) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(normalizedAxis(first), normalizedAxis(second))
        return permuted(order)
    }

    /// A copy whose dimension i is this tensor's dimension `order[i]` (as PyTorch `permute`).
    /// Dimensions that stay contiguous are copied as whole rows.
    public func permuted(_ order: [Int]) -> Tensor {
        let axes = order.map { axis -> Int in
            precondition(axis >= -rank && axis < rank, "permuted: axis \(axis) out of range in \(order) for shape \(shape)")
            return axis < 0 ? axis + rank : axis
        }
        precondition(axes.count == rank && Set(axes).count == rank,
                     "permuted: \(order) is not a permutation of the \(rank) axes of \(shape)")
        let outShape = axes.map { shape[$0] }
        let inputStrides = contiguousStrides(shape)
        // Iterate over the output in order; A = offset in the input, B = offset in the output.
        let plan = collapseDimensions(sizes: outShape, stridesA: axes.map { inputStrides[$0] },
                                      stridesB: contiguousStrides(outShape))
        let out = Tensor(zeros: outShape)
        let walker = plan.outer, inner = plan.inner, step = plan.innerStrideA
        let px = data, po = out.data
        let rowsPerChunk = Swift.max(1, elementwiseParallelGrain / Swift.max(1, inner))
        if count > 0 {
            Parallel.forRanges(walker.rows, minimumPerChunk: rowsPerChunk) { rows in
                walker.forEachRow(rows) { _, inputOffset, outputOffset in
                    let src = px + inputOffset, dst = po + outputOffset
                    if step == 1 {
                        dst.update(from: src, count: inner)
                    } else {
                        for j in 0..<inner { dst[j] = src[j * step] }
                    }
                }
            }
        }
        Autograd.record(out, inputs: [self], op: "permute") { [self] g in
            let gx = gradStorage()
            // Each input element receives from exactly one output element: rows run in parallel.
            Parallel.forRanges(walker.rows, minimumPerChunk: rowsPerChunk) { rows in
                walker.forEachRow(rows) { _, inputOffset, outputOffset in
                    let dst = gx + inputOffset, src = g + outputOffset
                    if step == 1 {
                        for j in 0..<inner { dst[j] += src[j] }
                    } else {
                        for j in 0..<inner { dst[j * step] += src[j] }
                    }
                }
            }
        }
        return out
    }
}
