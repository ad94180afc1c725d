import Foundation

/// Softmax and log-softmax over the last axis, numerically stable (the row maximum is subtracted first).
///
/// Both work on any rank >= 1; the rows are all the leading dimensions together. Only the last axis is
/// supported (`axis` must name it): that is what attention, losses and probes need, and it keeps each row
/// contiguous for the vector loops.

/// exp(x - max) / sum(exp(x - max)) along the last axis. Same shape as `x`.
public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let (rows, width) = softmaxRows(x, axis: axis, op: "softmax")
    let out = Tensor(zeros: x.shape)
    let src = x.data
    let dst = out.data
    RowKernels.forEachRow(rows, width: width) { r in
        let xr = src + r * width
        let yr = dst + r * width
        let m = RowKernels.max(xr, width)
        let s = RowKernels.expAndSum(xr, yr, width, scale: 1, shift: m)
        RowKernels.scale(yr, width, by: 1 / s)
    }
    Autograd.record(out, inputs: [x], op: "softmax") { dY in
        // dx = y * (dy - sum(dy * y))
        let dX = x.gradStorage()
        let y = out.data
        RowKernels.forEachRow(rows, width: width) { r in
            let yr = y + r * width
            let gr = dY + r * width
            let dr = dX + r * width
            let inner = RowKernels.dot(yr, gr, width)
            for j in 0..<width { dr[j] = dr[j] + yr[j] * (gr[j] - inner) }
        }
    }
    return out
}

/// x - max - log(sum(exp(x - max))) along the last axis. Same shape as `x`.
public func logSoftmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let (rows, width) = softmaxRows(x, axis: axis, op: "logSoftmax")
    let out = Tensor(zeros: x.shape)
    let src = x.data
    let dst = out.data
    RowKernels.forEachRow(rows, width: width) { r in
        let xr = src + r * width
        let yr = dst + r * width
        let m = RowKernels.max(xr, width)
        // The exponentials go to the output row as scratch, then are overwritten by the result.
        let logSum = m + log(RowKernels.expAndSum(xr, yr, width, scale: 1, shift: m))
        for j in 0..<width { yr[j] = xr[j] - logSum }
    }
    Autograd.record(out, inputs: [x], op: "logSoftmax") { dY in
        // dx = dy - softmax(x) * sum(dy), with softmax(x) = exp(log-softmax).
        let dX = x.gradStorage()
        let y = out.data
        RowKernels.forEachRow(rows, width: width) { r in
            let yr = y + r * width
            let gr = dY + r * width
            let dr = dX + r * width
            let total = RowKernels.sum(gr, width)
            var j = 0
            let t = RowKernels.Vector(repeating: total)
            while j + RowKernels.lanes <= width {
                let p = RowKernels.exp(RowKernels.load(yr + j))
                RowKernels.store(RowKernels.load(dr + j) + RowKernels.load(gr + j) - p * t, dr + j)
                j += RowKernels.lanes
            }
            while j < width {
                dr[j] = dr[j] + gr[j] - RowKernels.exp(yr[j]) * total
                j += 1
            }
        }
    }
    return out
}

/// Checks that `axis` is the last axis and returns (rows, row width).
private func softmaxRows(_ x: Tensor, axis: Int, op: String) -> (rows: Int, width: Int) {
    precondition(x.rank >= 1, "\(op): needs rank >= 1, got shape \(x.shape)")
    precondition(
        x.normalizedAxis(axis) == x.rank - 1,
        "\(op): only the last axis is supported, got axis \(axis) for shape \(x.shape)")
    let width = x.shape[x.rank - 1]
    return (width == 0 ? 0 : x.count / width, width)
}
