/// Shape changes: `reshaped` (a zero-copy view), `permuted` and `transposed` (copies into the new order).

extension Tensor {
    /// The same values with a new shape, sharing this tensor's storage (no copy). One dimension may be
    /// -1 and is then inferred from the element count. Backward passes the gradient through, reshaped.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let resolved = resolvedShape(newShape)
        let view = Tensor(shape: resolved, storage: storage)
        let n = count
        Autograd.recordView(view, of: self, op: "reshape") { [self] g in
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
            precondition(
                Tensor.elementCount(newShape) == count,
                "reshaped: \(shape) has \(count) elements, \(newShape) has \(Tensor.elementCount(newShape))")
            return newShape
        }
        let known = newShape.enumerated().reduce(1) { $1.offset == at ? $0 : $0 * $1.element }
        precondition(
            known > 0 && count % known == 0,
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
            precondition(
                axis >= -rank && axis < rank, "permuted: axis \(axis) out of range in \(order) for shape \(shape)")
            return axis < 0 ? axis + rank : axis
        }
        precondition(
            axes.count == rank && Set(axes).count == rank,
            "permuted: \(order) is not a permutation of the \(rank) axes of \(shape)")
        let outShape = axes.map { shape[$0] }
        let out = Tensor(zeros: outShape)
        permuteCopy(data, shape: shape, order: axes, into: out.data, accumulate: false)
        Autograd.record(out, inputs: [self], op: "permute") { [self] g in
            // The gradient goes back through the inverse permutation, walked in the input's order so the
            // accumulating writes are contiguous and only the reads are strided.
            var inverse = [Int](repeating: 0, count: axes.count)
            for (i, axis) in axes.enumerated() { inverse[axis] = i }
            permuteCopy(g, shape: outShape, order: inverse, into: gradStorage(), accumulate: true)
        }
        return out
    }
}

/// destination = source permuted (`destination` dimension i is `source` dimension `order[i]`), or
/// destination += that when `accumulate`. Each destination element is written by one thread.
private func permuteCopy(
    _ source: UnsafePointer<Float>, shape: [Int], order: [Int],
    into destination: UnsafeMutablePointer<Float>, accumulate: Bool
) {
    let outShape = order.map { shape[$0] }
    let sourceStrides = contiguousStrides(shape)
    // Walk the destination in order; A = offset in the source, B = offset in the destination.
    let plan = collapseDimensions(
        sizes: outShape, stridesA: order.map { sourceStrides[$0] },
        stridesB: contiguousStrides(outShape))
    let walker = plan.outer
    let inner = plan.inner
    let step = plan.innerStrideA
    guard Tensor.elementCount(shape) > 0 else { return }
    let rowsPerChunk = Swift.max(1, elementwiseParallelGrain / inner)
    Parallel.forRanges(walker.rows, minimumPerChunk: rowsPerChunk) { rows in
        if step == 1 {
            walker.forEachRow(rows) { _, sourceOffset, destinationOffset in
                let src = source + sourceOffset
                let dst = destination + destinationOffset
                if accumulate {
                    for j in 0..<inner { dst[j] += src[j] }
                } else {
                    dst.update(from: src, count: inner)
                }
            }
        } else {
            forEachTile(walker, rows: rows, inner: inner) { sourceOffset, destinationOffset, columns in
                let src = source + sourceOffset
                let dst = destination + destinationOffset
                if accumulate {
                    for j in columns { dst[j] += src[j * step] }
                } else {
                    for j in columns { dst[j] = src[j * step] }
                }
            }
        }
    }
}

/// Visits `rows` of a permutation in groups of 16 rows by blocks of 16 columns, calling
/// `body(sourceOffset, destinationOffset, columns)` for each row of a tile. When the source is read with a
/// stride (a transpose), the 16 rows of a tile read neighbouring source elements, so each cache line
/// fetched is used 16 times instead of once.
@inline(__always)
private func forEachTile(
    _ walker: RowWalker, rows: Range<Int>, inner: Int,
    _ body: (_ sourceOffset: Int, _ destinationOffset: Int, _ columns: Range<Int>) -> Void
) {
    let tile = 16
    var offsets: [(source: Int, destination: Int)] = []
    offsets.reserveCapacity(tile)
    var start = rows.lowerBound
    while start < rows.upperBound {
        let group = start..<Swift.min(start + tile, rows.upperBound)
        offsets.removeAll(keepingCapacity: true)
        walker.forEachRow(group) { _, sourceOffset, destinationOffset in
            offsets.append((sourceOffset, destinationOffset))
        }
        var column = 0
        while column < inner {
            let columns = column..<Swift.min(column + tile, inner)
            for (source, destination) in offsets { body(source, destination, columns) }
            column = columns.upperBound
        }
        start = group.upperBound
    }
}
