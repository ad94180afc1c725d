import Foundation

/// The positions rotary embeddings turn each token by: one plane (ordinary RoPE), or several (Qwen2-VL's
/// M-RoPE: temporal, height and width; its vision blocks' axial RoPE: row and column).
///
/// Each plane holds T entries (the same for every batch row) or B * T (row-major [B, T], e.g. left-padded
/// generation); every plane has the same count. Positions are >= 0.
public struct RotaryPositions: Sendable, Equatable, ExpressibleByArrayLiteral {
    public let planes: [[Int]]

    /// One plane: ordinary positions.
    public init(_ positions: [Int]) { planes = [positions] }

    public init(arrayLiteral elements: Int...) { planes = [elements] }

    /// Several planes of equal length (M-RoPE: temporal, height, width).
    public init(planes: [[Int]]) {
        precondition(!planes.isEmpty, "RotaryPositions: at least one plane")
        precondition(
            planes.allSatisfy { $0.count == planes[0].count },
            "RotaryPositions: planes differ in length: \(planes.map(\.count))")
        self.planes = planes
    }

    /// Entries per plane.
    public var count: Int { planes[0].count }
    /// The largest position of any plane (0 when empty).
    public var maximum: Int { planes.map { $0.max() ?? 0 }.max() ?? 0 }
    /// `planes[plane]`, or the only plane when there is one (ordinary positions stand for every plane of a
    /// text token).
    public func plane(_ plane: Int) -> [Int] { planes.count == 1 ? planes[0] : planes[plane] }
}

/// Which position turns each rotary frequency. With `half = Dh / 2` frequencies per head:
public enum RotaryLayout: Sendable, Equatable {
    /// Frequency i turns by `position * theta^(-2i / Dh)` (Llama, Qwen2).
    case standard
    /// M-RoPE (Qwen2-VL's language model, `mrope_section`): sections [s0, s1, s2] summing to `half`; frequency i
    /// turns by `theta^(-2i / Dh)` times the position of the plane whose section holds i (temporal, height,
    /// width). transformers: `torch.cat([m[i % 3] for i, m in enumerate(freqs.split(mrope_section, -1))], -1)`.
    /// Ordinary positions (one plane) give exactly `.standard`.
    case sections([Int])
    /// Axial 2D RoPE (Qwen2-VL's vision blocks): two planes (row, column); frequency i < half / 2 turns by
    /// `row * theta^(-4i / Dh)`, frequency half / 2 + i by `column * theta^(-4i / Dh)`. transformers:
    /// `VisionRotaryEmbedding(head_dim // 2)` over (h, w), concatenated.
    case axial

    /// Each frequency's (plane, column of a `RotaryTable`) and the head dim that table is built for.
    func frequencyMap(headDim dh: Int) -> (planes: [Int], columns: [Int], tableHeadDim: Int) {
        let half = dh / 2
        switch self {
        case .standard:
            return ([Int](repeating: 0, count: half), Array(0..<half), dh)
        case .sections(let sections):
            precondition(
                sections.allSatisfy { $0 >= 0 } && sections.reduce(0, +) == half,
                "applyRotary: mrope sections \(sections) must add up to head dim / 2 = \(half)")
            var planes: [Int] = []
            for (plane, size) in sections.enumerated() { planes += [Int](repeating: plane, count: size) }
            return (planes, Array(0..<half), dh)
        case .axial:
            precondition(half % 2 == 0, "applyRotary: axial rotary needs a head dim divisible by 4, got \(dh)")
            let quarter = half / 2
            return (
                [Int](repeating: 0, count: quarter) + [Int](repeating: 1, count: quarter),
                Array(0..<quarter) + Array(0..<quarter), half
            )
        }
    }

    /// Planes of positions this layout reads.
    var planeCount: Int {
        switch self {
        case .standard: return 1
        case .sections(let s): return s.count
        case .axial: return 2
        }
    }
}

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
    applyRotary(x, positions: RotaryPositions(positions), theta: theta, layout: .standard)
}

/// Rotary position embedding with several position planes (`RotaryLayout`): the rotation above, where each
/// frequency takes its angle from the plane and table column the layout gives it. One plane of positions
/// stands for every plane the layout reads.
public func applyRotary(_ x: Tensor, positions: RotaryPositions, theta: Float, layout: RotaryLayout) -> Tensor {
    precondition(x.rank == 4, "applyRotary: x must be [B, T, H, Dh], got \(x.shape)")
    let b = x.shape[0]
    let t = x.shape[1]
    let h = x.shape[2]
    let dh = x.shape[3]
    precondition(dh % 2 == 0 && dh > 0, "applyRotary: head dim Dh must be even and > 0, x is \(x.shape)")
    let count = positions.count
    let perRow = count == b * t && b > 1
    precondition(
        count == t || count == b * t,
        "applyRotary: positions has \(count) entries; x \(x.shape) needs T = \(t) or B * T = \(b * t)")
    precondition(
        positions.planes.count == 1 || positions.planes.count == layout.planeCount,
        "applyRotary: \(positions.planes.count) position planes for a layout that reads \(layout.planeCount)")
    precondition(positions.planes.allSatisfy { $0.allSatisfy { $0 >= 0 } }, "applyRotary: positions must be >= 0")
    let map = layout.frequencyMap(headDim: dh)
    let table = RotaryTable.shared(headDim: map.tableHeadDim, theta: theta, covering: positions.maximum)
    let tableHalf = map.tableHeadDim / 2
    // One plane read straight from the table's rows: ordinary RoPE, or M-RoPE of text-only positions.
    let direct = map.tableHeadDim == dh && (positions.planes.count == 1 || layout == .standard)
    let planes = (0..<layout.planeCount).map { positions.plane($0) }
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
        /// Every head of `token`, turned by the angles whose cosines and sines are `c` and `s` (half each).
        func rotateHeads(_ token: Int, _ c: UnsafePointer<Float>, _ s: UnsafePointer<Float>) {
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
        RowKernels.forEachRow(b * t, width: rowWidth) { token in
            let index = perRow ? token : token % t
            if direct {
                let p = planes[0][index]
                rotateHeads(token, cosTable + p * tableHalf, sinTable + p * tableHalf)
                return
            }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * half) { scratch in
                let base = scratch.baseAddress!
                for j in 0..<half {
                    let row = planes[map.planes[j]][index] * tableHalf + map.columns[j]
                    base[j] = cosTable[row]
                    base[half + j] = sinTable[row]
                }
                rotateHeads(token, base, base + half)
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
