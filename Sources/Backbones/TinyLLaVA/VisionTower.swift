import Kernel
import Transformer

/// A CLIP/SigLIP-like vision encoder: `embeddings.patch_embedding` (a stride-p convolution, stored as HF's
/// [hidden, 3, p, p]), `embeddings.position_embedding`, `encoder.layers.N`, `post_layernorm`.
public final class VisionTower: Module {
    public let config: VisionConfig

    init(_ c: VisionConfig, generator: inout RandomGenerator) {
        config = c
        super.init()
        let embeddings = Module()
        let patch = Module()
        patch.registerParameter(
            "weight", Tensor(zeros: [c.hiddenSize, 3, c.patchSize, c.patchSize], requiresGrad: true))
        patch.registerParameter("bias", Tensor(zeros: [c.hiddenSize], requiresGrad: true))
        embeddings.registerChild("patch_embedding", patch)
        let position = Module()
        position.registerParameter("weight", Tensor(zeros: [c.patchCount, c.hiddenSize], requiresGrad: true))
        embeddings.registerChild("position_embedding", position)
        registerChild("embeddings", embeddings)
        let encoder = Module()
        for i in 0..<c.layers {
            encoder.registerChild(
                "layers.\(i)",
                VisionEncoderLayer(
                    hidden: c.hiddenSize, heads: c.heads, intermediate: c.intermediateSize, eps: Float(c.layerNormEps),
                    approximation: .tanh, generator: &generator))
        }
        registerChild("encoder", encoder)
        registerChild("post_layernorm", LayerNorm(c.hiddenSize, eps: Float(c.layerNormEps)))
    }

    /// Patch embedding uniform in +-1/sqrt(3 p p) (PyTorch's convolution default), zero bias; position
    /// embedding N(0, 0.02).
    func initializePatchAndPositionEmbeddings(generator g: inout RandomGenerator) {
        let embeddings = child("embeddings")!
        let patch = embeddings.child("patch_embedding")!
        let w = patch.parameter("weight")!
        let bound = 1 / Float(3 * config.patchSize * config.patchSize).squareRoot()
        for i in 0..<w.count { w.data[i] = g.uniform(-bound, bound) }
        patch.parameter("bias")!.storage.zero()
        let position = embeddings.child("position_embedding")!.parameter("weight")!
        for i in 0..<position.count { position.data[i] = g.normal() * 0.02 }
    }

    /// Pixels scaled to [-1, 1] and cut into patches: [images * patches, 3 * p * p], each patch in
    /// (channel, row, column) order, matching the convolution weight's layout.
    func patches(_ images: [Image]) -> Tensor {
        let p = config.patchSize
        let side = config.patchesPerSide
        let size = config.imageSize
        let per = 3 * p * p
        let out = Tensor(zeros: [images.count * config.patchCount, per])
        for (n, image) in images.enumerated() {
            precondition(
                image.width == size && image.height == size,
                "tiny-llava: image is \(image.width)x\(image.height), the vision tower expects \(size)x\(size)")
            image.pixels.withUnsafeBufferPointer { px in
                for py in 0..<side {
                    for pxIndex in 0..<side {
                        let row = out.data + ((n * side + py) * side + pxIndex) * per
                        for c in 0..<3 {
                            for y in 0..<p {
                                for x in 0..<p {
                                    let v = px[((py * p + y) * size + pxIndex * p + x) * 3 + c]
                                    row[(c * p + y) * p + x] = Float(v) / 127.5 - 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Features [images, patches, hidden].
    public func callAsFunction(_ images: [Image]) -> Tensor {
        let c = config
        let embeddings = child("embeddings")!
        let patch = embeddings.child("patch_embedding")!
        let weight = patch.parameter("weight")!.reshaped([c.hiddenSize, 3 * c.patchSize * c.patchSize])
        var x = linear(patches(images), weight, bias: patch.parameter("bias")!)
            .reshaped([images.count, c.patchCount, c.hiddenSize])
        x = x + embeddings.child("position_embedding")!.parameter("weight")!
        let encoder = child("encoder")!
        for i in 0..<c.layers { x = (encoder.child("layers.\(i)") as! VisionEncoderLayer)(x) }
        return (child("post_layernorm") as! LayerNorm)(x)
    }
}

/// LLaVA's "mlp2x_gelu" projector: `mm_projector.0` (linear), GELU, `mm_projector.2` (linear).
public final class Projector: Module, UnaryLayer {
    init(from: Int, to: Int, generator: inout RandomGenerator) {
        super.init()
        registerChild("0", Linear(from, to, generator: &generator))
        registerChild("2", Linear(to, to, generator: &generator))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        (child("2") as! any UnaryLayer)(gelu((child("0") as! any UnaryLayer)(x), approximation: .erf))
    }
}
