import Foundation

/// Rotary position embedding (RoPE) in the HF "rotate_half" convention used by Llama and Qwen2.
///
/// Layout: x is [B, T, H, Dh] (batch, tokens, heads, head dim), the layout q/k/v have straight out of their
/// linear layers reshaped from [B, T, H * Dh]; `attention` uses the same layout. With half = Dh / 2 and
/// frequency i < half, `angle = position * theta^(-2i / Dh)`, and for each head vector x = [x1, x2]
/// (two halves):
///
///     out = x * [cos, cos] + rotate_half(x) * [sin, sin],   rotate_half(x) = [-x2, x1]
///
/// i.e. out1 = x1 cos - x2 sin, out2 = x2 cos + x1 sin. The backward pass is the inverse rotation.
///
/// - Parameters:
///   - x: [B, T, H, Dh] with Dh even.
///   - positions: the absolute position of each token: T entries (the same for every batch row), or B * T
///     entries (row-major [B, T]; e.g. left-padded batched generation). Must be >= 0.
///   - theta: the RoPE base (`rope_theta` in HF configs: 10000 for Llama 2, 1e6 for Qwen2).
/// - Returns: [B, T, H, Dh].
public func applyRotary(_ x: Tensor, positions: [Int], theta: Float) -> Tensor {
    precondition(x.rank == 4, "applyRotary: x must be [B, T, H, Dh], got \(x.shape)")
    let b = x.shape[0]
    let t = x.shape[1]
    let h = x.shape[2]
    let dh = x.shape[3]
    precondition(dh % 2 == 0 && dh > 0, "applyRotary: head dim Dh must be even and > 0, x is \(x.shape)")
    let perRow = positions.count == b * t && b > 1
    precondition(
        positions.count == t || positions.count == b * t,
        "applyRotary: positions has \(positions.count) entries; x \(x.shape) needs T = \(t) or B * T = \(b * t)")
    let maxPosition = positions.max() ?? 0
    precondition(positions.allSatisfy { $0 >= 0 }, "applyRotary: positions must be >= 0")
    let table = RotaryTable.shared(headDim: dh, theta: theta, covering: maxPosition)
    let out = Tensor(uninitialized: x.shape)
    let half = dh / 2
    let rowWidth = h * dh

    /// Writes every head of every token of `src` rotated by +angle into `dst`, or, with `inverse` (backward),
    /// rotated by -angle, added into `dst` when `accumulate`.
    func rotate(
        _ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, inverse: Bool,
        accumulate: Bool = false
    ) {
        let cosTable = table.cos.pointer
        let sinTable = table.sin.pointer  // `table` stays alive with this function
        positions.withUnsafeBufferPointer { pos in
            RowKernels.forEachRow(b * t, width: rowWidth) { token in
                let p = perRow ? pos[token] : pos[token % t]
                let c = cosTable + p * half
                let s = sinTable + p * half
                for head in 0..<h {
                    let xr = src + token * rowWidth + head * dh
                    let yr = dst + token * rowWidth + head * dh
                    if inverse && !accumulate {  // (g1 c + g2 s, g2 c - g1 s)
                        for j in 0..<half {
                            let x1 = xr[j]
                            let x2 = xr[j + half]
                            yr[j] = x1 * c[j] + x2 * s[j]
                            yr[j + half] = x2 * c[j] - x1 * s[j]
                        }
                    } else if inverse {  // the same, added into the gradient
                        for j in 0..<half {
                            let x1 = xr[j]
                            let x2 = xr[j + half]
                            yr[j] = yr[j] + (x1 * c[j] + x2 * s[j])
                            yr[j + half] = yr[j + half] + (x2 * c[j] - x1 * s[j])
                        }
                    } else {
                        for j in 0..<half {
                            let x1 = xr[j]
                            let x2 = xr[j + half]
                            yr[j] = x1 * c[j] - x2 * s[j]
                            yr[j + half] = x2 * c[j] + x1 * s[j]
                        }
                    }
                }
            }
        }
    }

    rotate(x.data, out.data, inverse: false)
    Autograd.record(out, inputs: [x], op: "applyRotary") { dY in
        let (dX, accumulate) = x.gradStorageForUpdate()
        rotate(dY, dX, inverse: true, accumulate: accumulate)
    }
    return out
}

/// Cached cos/sin tables of rotary embeddings for one (head dim, theta), rows 0..<length positions,
/// `half = Dh / 2` columns each.
///
/// The angles are formed exactly as HF forms them in float32 (`inv_freq = 1 / theta^(2i / Dh)` and
/// `position * inv_freq`, each rounded to float), then cos and sin are evaluated in Double and rounded once,
/// so the tables match HF's to within one float rounding.
public final class RotaryTable {
    public let headDim: Int
    public let theta: Float
    /// Positions covered: 0..<length.
    public let length: Int
    /// [length, headDim / 2].
    public let cos: Storage
    /// [length, headDim / 2].
    public let sin: Storage

    public init(headDim: Int, theta: Float, length: Int) {
        precondition(headDim % 2 == 0 && headDim > 0, "RotaryTable: head dim must be even and > 0, got \(headDim)")
        self.headDim = headDim
        self.theta = theta
        self.length = length
        let half = headDim / 2
        cos = Storage(count: length * half)
        sin = Storage(count: length * half)
        let inverseFrequency = (0..<half).map { i -> Float in
            let exponent = Float(2 * i) / Float(headDim)
            return 1 / Float(Foundation.pow(Double(theta), Double(exponent)))
        }
        for p in 0..<length {
            for i in 0..<half {
                let angle = Double(Float(p) * inverseFrequency[i])
                cos.pointer[p * half + i] = Float(Foundation.cos(angle))
                sin.pointer[p * half + i] = Float(Foundation.sin(angle))
            }
        }
    }

    nonisolated(unsafe) private static var cache: [String: RotaryTable] = [:]
    private static let lock = NSLock()

    /// A table for (headDim, theta) covering at least positions 0...maxPosition, built once and reused
    /// (grown to the next power of two when a longer one is needed). Thread-safe.
    public static func shared(headDim: Int, theta: Float, covering maxPosition: Int) -> RotaryTable {
        let key = "\(headDim)/\(theta.bitPattern)"
        lock.lock()
        defer { lock.unlock() }
        if let table = cache[key], table.length > maxPosition { return table }
        var length = 256
        while length <= maxPosition { length *= 2 }
        let table = RotaryTable(headDim: headDim, theta: theta, length: length)
        cache[key] = table
        return table
    }
}
