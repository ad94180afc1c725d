import Foundation
import Kernel
import Transformer

/// Qwen2-VL's and Qwen2.5-VL's vision tower with Hugging Face's names under `visual`: `patch_embed.proj`
/// (a Conv3d of kernel = stride = [temporal, patch, patch], no bias: a linear map of each patch's 1176 values),
/// `blocks.N.{norm1, attn.qkv, attn.proj, norm2, mlp}`, `merger.{ln_q, mlp.0, mlp.2}`.
///
/// Images arrive as the processor packs them: `pixel_values` [patches, 1176] in merge-block order (each 2 x 2
/// block of patches consecutive) and each image's grid (t, h, w) in patches. Attention runs within each image
/// (transformers' `cu_seqlens`), or, in Qwen2.5-VL's windowed blocks, within windows of `window_size` pixels;
/// queries and keys turn by 2D rotary positions (row, column) of their patch. The merger maps each block of
/// `mergeUnit` patches to one language-model position.
public final class HFQwenVisionTransformer: Module {
    public let config: HFQwenVisionConfig

    init(_ c: HFQwenVisionConfig, generator: inout RandomGenerator) {
        config = c
        super.init()
        let patch = Module()
        let proj = Module()
        proj.registerParameter(
            "weight",
            Tensor(zeros: [c.width, 3, c.temporalPatchSize, c.patchSize, c.patchSize], requiresGrad: true))
        patch.registerChild("proj", proj)
        registerChild("patch_embed", patch)
        let blocks = Module()
        for i in 0..<c.depth { blocks.registerChild("\(i)", HFQwenVisionBlock(c, generator: &generator)) }
        registerChild("blocks", blocks)
        registerChild("merger", HFQwenPatchMerger(c, generator: &generator))
    }

    func block(_ i: Int) -> HFQwenVisionBlock { child("blocks")!.child("\(i)") as! HFQwenVisionBlock }

    /// Each image's merged features, concatenated in image order: [sum of t*h*w / mergeUnit, outputWidth].
    /// - Parameters:
    ///   - pixels: [sum of t*h*w patches, patchValues], row-major, as the processor gives them.
    ///   - grids: each image's (t, h, w) in patches.
    public func features(pixels: [Float], grids: [[Int]]) -> Tensor {
        let c = config
        let layout = HFQwenVisionLayout(grids: grids, config: c)
        precondition(
            pixels.count == layout.patchCount * c.patchValues,
            "Qwen vision tower: \(pixels.count) pixel values for \(layout.patchCount) patches of \(c.patchValues)")
        let weight = child("patch_embed")!.child("proj")!.parameter("weight")!.reshaped([c.width, c.patchValues])
        var x = linear(Tensor(shape: [layout.patchCount, c.patchValues], values: pixels), weight)
        var positions = layout.positions
        if let order = layout.windowOrder {
            x = x.indexSelect(axis: 0, indices: order)
            positions = RotaryPositions(planes: positions.planes.map { plane in order.map { plane[$0] } })
        }
        for i in 0..<c.depth {
            let windowed = layout.windowOrder != nil && !c.fullAttentionBlocks.contains(i)
            x = block(i)(x, positions: positions, segments: windowed ? layout.windows : layout.images)
        }
        var merged = (child("merger") as! HFQwenPatchMerger)(x)
        if let inverse = layout.unitInverse { merged = merged.indexSelect(axis: 0, indices: inverse) }
        return merged
    }
}

/// Where each patch of a batch of images sits: its 2D rotary position, the images' and (Qwen2.5-VL) the
/// windows' ranges of the sequence, and the window order transformers processes the patches in.
struct HFQwenVisionLayout {
    let patchCount: Int
    /// (row, column) of every patch in processor order.
    let positions: RotaryPositions
    /// Each image's frames as ranges of the sequence (transformers' `cu_seqlens`).
    let images: [Range<Int>]
    /// Qwen2.5-VL: each window's range in window order (`cu_window_seqlens`), empty windows dropped.
    let windows: [Range<Int>]
    /// Qwen2.5-VL: the patch order of the windowed sequence (`window_index`, expanded to patches); nil without
    /// windows.
    let windowOrder: [Int]?
    /// The merge units' way back from window order to processor order (`argsort(window_index)`).
    let unitInverse: [Int]?

    init(grids: [[Int]], config c: HFQwenVisionConfig) {
        let m = c.mergeSize
        var rows: [Int] = []
        var columns: [Int] = []
        var images: [Range<Int>] = []
        var windows: [Range<Int>] = []
        var unitOrder: [Int] = []
        var start = 0
        var unitStart = 0
        let windowUnits = c.windowSize / m / c.patchSize
        for grid in grids {
            precondition(
                grid.count == 3 && grid.allSatisfy { $0 > 0 } && grid[1] % m == 0 && grid[2] % m == 0,
                "Qwen vision tower: image grid \(grid) is not (t, h, w) with h and w multiples of \(m)")
            let (t, h, w) = (grid[0], grid[1], grid[2])
            for _ in 0..<t {
                for blockRow in 0..<(h / m) {
                    for blockColumn in 0..<(w / m) {
                        for i in 0..<m {
                            for j in 0..<m {
                                rows.append(blockRow * m + i)
                                columns.append(blockColumn * m + j)
                            }
                        }
                    }
                }
                images.append(start..<(start + h * w))
                start += h * w
            }
            if windowUnits > 0 {
                let (unitRows, unitColumns) = (h / m, w / m)
                for frame in 0..<t {
                    for top in stride(from: 0, to: unitRows, by: windowUnits) {
                        for left in stride(from: 0, to: unitColumns, by: windowUnits) {
                            let first = unitOrder.count
                            for r in top..<min(top + windowUnits, unitRows) {
                                for col in left..<min(left + windowUnits, unitColumns) {
                                    unitOrder.append(unitStart + (frame * unitRows + r) * unitColumns + col)
                                }
                            }
                            let unit = c.mergeUnit
                            windows.append((first * unit)..<(unitOrder.count * unit))
                        }
                    }
                }
                unitStart += t * (h / m) * (w / m)
            }
        }
        patchCount = start
        positions = RotaryPositions(planes: [rows, columns])
        self.images = images
        self.windows = windows
        if windowUnits > 0 {
            let unit = c.mergeUnit
            windowOrder = unitOrder.flatMap { u in (u * unit)..<((u + 1) * unit) }
            var inverse = [Int](repeating: 0, count: unitOrder.count)
            for (position, u) in unitOrder.enumerated() { inverse[u] = position }
            unitInverse = inverse
        } else {
            windowOrder = nil
            unitInverse = nil
        }
    }
}

/// One vision block: `x + attn(norm1(x))`, then `x + mlp(norm2(x))`. Qwen2-VL: LayerNorms, `fc1`/`fc2`;
/// Qwen2.5-VL: RMSNorms, `gate_proj`/`up_proj`/`down_proj` with biases.
final class HFQwenVisionBlock: Module {
    init(_ c: HFQwenVisionConfig, generator: inout RandomGenerator) {
        super.init()
        let norm: () -> Module = {
            c.kind == .qwen2VL ? LayerNorm(c.width, eps: 1e-6) : RMSNorm(c.width, eps: 1e-6)
        }
        registerChild("norm1", norm())
        registerChild("attn", HFQwenVisionAttention(c, generator: &generator))
        registerChild("norm2", norm())
        registerChild(
            "mlp",
            c.kind == .qwen2VL
                ? GELUMLP(
                    hidden: c.width, intermediate: c.intermediateSize, approximation: c.activation.approximation,
                    generator: &generator)
                : GatedMLP(hidden: c.width, intermediate: c.intermediateSize, bias: true, generator: &generator))
    }

    func callAsFunction(_ x: Tensor, positions: RotaryPositions, segments: [Range<Int>]) -> Tensor {
        let norm1 = child("norm1") as! any UnaryLayer
        let norm2 = child("norm2") as! any UnaryLayer
        let attention = child("attn") as! HFQwenVisionAttention
        let h = x + attention(norm1(x), positions: positions, segments: segments)
        return h + (child("mlp") as! any UnaryLayer)(norm2(h))
    }
}

/// Bidirectional attention with a fused `qkv` projection (columns: all heads' queries, then keys, then values)
/// and `proj`, queries and keys turned by axial 2D rotary positions, each query seeing the keys of its segment.
final class HFQwenVisionAttention: Module {
    let heads: Int
    let theta: Float

    init(_ c: HFQwenVisionConfig, generator: inout RandomGenerator) {
        heads = c.heads
        theta = Float(c.ropeTheta)
        super.init()
        registerChild("qkv", Linear(c.width, 3 * c.width, generator: &generator))
        registerChild("proj", Linear(c.width, c.width, generator: &generator))
    }

    /// x: [N, width]; `positions`: (row, column) planes of N entries; `segments`: ranges covering 0..<N.
    func callAsFunction(_ x: Tensor, positions: RotaryPositions, segments: [Range<Int>]) -> Tensor {
        let n = x.shape[0]
        let width = x.shape[1]
        let dh = width / heads
        let qkv = (child("qkv") as! any UnaryLayer)(x)
        func part(_ i: Int) -> Tensor { qkv.slice(axis: 1, start: i * width, end: (i + 1) * width) }
        let q = applyRotary(part(0).reshaped([1, n, heads, dh]), positions: positions, theta: theta, layout: .axial)
        let k = applyRotary(part(1).reshaped([1, n, heads, dh]), positions: positions, theta: theta, layout: .axial)
        let v = part(2).reshaped([1, n, heads, dh])
        let o = segmentedAttention(q, k, v, segments: segments)
        return (child("proj") as! any UnaryLayer)(o.reshaped([n, width]))
    }
}

/// Bidirectional attention of q, k, v [1, N, H, Dh] where each query sees only the keys of its segment
/// (transformers' packed `cu_seqlens`). Segments are packed as rows of one batch, padded to the longest, with
/// the padding keys masked; returns [1, N, H, Dh].
func segmentedAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, segments: [Range<Int>]) -> Tensor {
    let n = q.shape[1]
    if segments.count == 1 && segments[0] == 0..<n { return attention(q, k, v, causal: false) }
    let longest = segments.map(\.count).max() ?? 0
    var gather: [Int] = []
    var mask: [Bool] = []
    var back = [Int](repeating: 0, count: n)
    for (s, segment) in segments.enumerated() {
        for (j, i) in segment.enumerated() { back[i] = s * longest + j }
        gather += Array(segment) + [Int](repeating: segment.lowerBound, count: longest - segment.count)
        mask += [Bool](repeating: true, count: segment.count) + [Bool](repeating: false, count: longest - segment.count)
    }
    let width = q.shape[2] * q.shape[3]
    func packed(_ t: Tensor) -> Tensor {
        t.reshaped([n, width]).indexSelect(axis: 0, indices: gather).reshaped([
            segments.count, longest, q.shape[2], q.shape[3],
        ])
    }
    let o = attention(packed(q), packed(k), packed(v), causal: false, keyMask: mask)
    return o.reshaped([segments.count * longest, width]).indexSelect(axis: 0, indices: back).reshaped(q.shape)
}

/// `merger`: `ln_q` (LayerNorm in Qwen2-VL, RMSNorm in Qwen2.5-VL, eps 1e-6) on each patch, each block of
/// `mergeUnit` consecutive patches concatenated, then `mlp.0` (Linear), GELU (erf), `mlp.2` (Linear).
final class HFQwenPatchMerger: Module, UnaryLayer {
    let unit: Int

    init(_ c: HFQwenVisionConfig, generator: inout RandomGenerator) {
        unit = c.mergeUnit
        super.init()
        registerChild("ln_q", c.kind == .qwen2VL ? LayerNorm(c.width, eps: 1e-6) : RMSNorm(c.width, eps: 1e-6))
        let mlp = Module()
        let merged = c.width * c.mergeUnit
        mlp.registerChild("0", Linear(merged, merged, generator: &generator))
        mlp.registerChild("2", Linear(merged, c.outputWidth, generator: &generator))
        registerChild("mlp", mlp)
    }

    /// x: [N, width] -> [N / mergeUnit, outputWidth].
    func callAsFunction(_ x: Tensor) -> Tensor {
        let normed = (child("ln_q") as! any UnaryLayer)(x)
        let rows = normed.reshaped([x.shape[0] / unit, x.shape[1] * unit])
        let mlp = child("mlp")!
        let hidden = gelu((mlp.child("0") as! any UnaryLayer)(rows), approximation: .erf)
        return (mlp.child("2") as! any UnaryLayer)(hidden)
    }
}
