/// NumPy-style broadcasting, reduced to "rows" that kernels can run as flat, vectorizable loops.
///
/// Shapes are aligned on the right; a dimension of size 1 stretches to the other operand's size. The
/// output is walked as rows of the innermost (collapsed) dimension: inside a row each operand is either
/// contiguous (stride 1) or one repeated value (stride 0), so the inner loops are plain pointer loops.
/// Adjacent dimensions that both operands traverse the same way are merged first, so
/// `[2,3,4] + [2,3,4]` is one row of 24, and `[2,3,4] + [4]` is 6 rows of 4 with `b` contiguous.

/// Elements per parallel chunk below which elementwise loops run on one thread (thread start-up and
/// memory bandwidth make smaller chunks a loss).
let elementwiseParallelGrain = 32_768

/// The shape two operands broadcast to, or nil if they are incompatible.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = Swift.max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
}

/// Contiguous row-major strides of `shape`.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[d] = s
        s *= shape[d]
    }
    return strides
}

/// Walks the rows of a strided iteration space (an odometer over the outer dimensions), tracking the
/// starting offset of each row in two operands.
struct RowWalker {
    /// Sizes of the outer dimensions (everything but the innermost, already collapsed).
    let shape: [Int]
    let stridesA: [Int]
    let stridesB: [Int]
    /// The number of rows: the product of `shape`.
    let rows: Int

    init(shape: [Int], stridesA: [Int], stridesB: [Int]) {
        self.shape = shape
        self.stridesA = stridesA
        self.stridesB = stridesB
        rows = shape.reduce(1, *)
    }

    /// Calls `body(row, offsetA, offsetB)` for each row in `range`, in increasing order.
    @inline(__always)
    func forEachRow(_ range: Range<Int>, _ body: (_ row: Int, _ offsetA: Int, _ offsetB: Int) -> Void) {
        let rank = shape.count
        if rank == 0 {
            for row in range { body(row, 0, 0) }
            return
        }
        var index = [Int](repeating: 0, count: rank)
        var offsetA = 0
        var offsetB = 0
        var rest = range.lowerBound
        for d in stride(from: rank - 1, through: 0, by: -1) {
            index[d] = rest % shape[d]
            rest /= shape[d]
            offsetA += index[d] * stridesA[d]
            offsetB += index[d] * stridesB[d]
        }
        for row in range {
            body(row, offsetA, offsetB)
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                offsetA += stridesA[d]
                offsetB += stridesB[d]
                if index[d] < shape[d] { break }
                offsetA -= stridesA[d] * shape[d]
                offsetB -= stridesB[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}

/// Collapses an iteration space given as dimensions (outermost first) with per-operand strides: drops
/// size-1 dimensions and merges neighbours that every operand traverses contiguously relative to each other.
/// Returns the outer dimensions and the innermost one (size 1 with stride 0 if nothing is left).
func collapseDimensions(sizes: [Int], stridesA: [Int], stridesB: [Int])
    -> (outer: RowWalker, inner: Int, innerStrideA: Int, innerStrideB: Int)
{
    var keptSizes: [Int] = []
    var keptA: [Int] = []
    var keptB: [Int] = []
    // Walk from the innermost dimension outwards, merging into the last kept (inner) one when possible.
    for d in stride(from: sizes.count - 1, through: 0, by: -1) where sizes[d] != 1 {
        if let size = keptSizes.last, let sa = keptA.last, let sb = keptB.last,
            stridesA[d] == sa * size, stridesB[d] == sb * size
        {
            keptSizes[keptSizes.count - 1] = size * sizes[d]
        } else {
            keptSizes.append(sizes[d])
            keptA.append(stridesA[d])
            keptB.append(stridesB[d])
        }
    }
    guard let inner = keptSizes.first else {
        return (RowWalker(shape: [], stridesA: [], stridesB: []), 1, 0, 0)
    }
    // kept* are innermost first; the walker wants the outer ones outermost first.
    let walker = RowWalker(
        shape: Array(keptSizes.dropFirst().reversed()),
        stridesA: Array(keptA.dropFirst().reversed()),
        stridesB: Array(keptB.dropFirst().reversed()))
    return (walker, inner, keptA[0], keptB[0])
}

/// How to run an elementwise binary op over two broadcast operands.
struct BroadcastPlan {
    let outShape: [Int]
    let outCount: Int
    /// Rows of `inner` output elements; row r is written at `out + r * inner`.
    let walker: RowWalker
    let inner: Int
    /// 1 if the operand advances along a row, 0 if it repeats one value.
    let innerStrideA: Int
    let innerStrideB: Int

    init(_ a: [Int], _ b: [Int], op: String) {
        guard let out = broadcastShape(a, b) else {
            preconditionFailure("\(op): shapes \(a) and \(b) do not broadcast (sizes must match or be 1)")
        }
        outShape = out
        outCount = Tensor.elementCount(out)
        let rank = out.count
        // Each operand's strides in the output's index space: 0 where it is broadcast (or missing).
        func strides(_ shape: [Int]) -> [Int] {
            let own = contiguousStrides(shape)
            return (0..<rank).map { i in
                let j = i - (rank - shape.count)
                return j < 0 || shape[j] == 1 ? 0 : own[j]
            }
        }
        let collapsed = collapseDimensions(sizes: out, stridesA: strides(a), stridesB: strides(b))
        walker = collapsed.outer
        inner = collapsed.inner
        innerStrideA = collapsed.innerStrideA
        innerStrideB = collapsed.innerStrideB
    }

    /// Runs `body(rowStart, rowLength, offsetA, offsetB)` over the whole output, in parallel when it is
    /// large. Every output element belongs to exactly one call; `out + rowStart` is where the row goes.
    /// A single long row is cut into pieces so that same-shape ops parallelize too.
    @inline(__always)
    func forEachRow(
        parallel: Bool = true,
        _ body: (_ outStart: Int, _ length: Int, _ offsetA: Int, _ offsetB: Int) -> Void
    ) {
        guard outCount > 0 else { return }
        let chunk = parallel ? elementwiseParallelGrain : Int.max
        if walker.rows == 1 {
            Parallel.forRanges(inner, minimumPerChunk: chunk) { r in
                body(r.lowerBound, r.count, r.lowerBound * innerStrideA, r.lowerBound * innerStrideB)
            }
        } else {
            Parallel.forRanges(walker.rows, minimumPerChunk: Swift.max(1, chunk / inner)) { rows in
                walker.forEachRow(rows) { row, offsetA, offsetB in body(row * inner, inner, offsetA, offsetB) }
            }
        }
    }
}
