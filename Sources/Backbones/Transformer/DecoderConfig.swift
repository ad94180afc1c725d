import Kernel

/// The shape of a Qwen2/Llama-style decoder, with Hugging Face `config.json` key names.
public struct DecoderConfig: Codable, Equatable, Sendable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ropeTheta: Double
    public var rmsNormEps: Double
    /// Biases on q/k/v projections (Qwen2 has them, Llama does not).
    public var attentionBias: Bool
    /// Whether lm_head shares the embedding matrix.
    public var tieWordEmbeddings: Bool
    public var maxPositions: Int
    /// M-RoPE sections (Qwen2-VL's `mrope_section`, summing to head_dim / 2): rotary frequencies take their
    /// positions from the temporal, height and width planes; nil for ordinary RoPE.
    public var ropeSections: [Int]?

    /// How the attention layers' rotary frequencies take their positions.
    public var rotaryLayout: RotaryLayout { ropeSections.map { .sections($0) } ?? .standard }

    public init(
        vocabularySize: Int, hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int,
        kvHeads: Int, headDim: Int? = nil, ropeTheta: Double = 10_000, rmsNormEps: Double = 1e-6,
        attentionBias: Bool = true, tieWordEmbeddings: Bool = false, maxPositions: Int = 4096,
        ropeSections: [Int]? = nil
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim ?? hiddenSize / max(heads, 1)
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.attentionBias = attentionBias
        self.tieWordEmbeddings = tieWordEmbeddings
        self.maxPositions = maxPositions
        self.ropeSections = ropeSections
    }

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case layers = "num_hidden_layers"
        case heads = "num_attention_heads"
        case kvHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case ropeTheta = "rope_theta"
        case rmsNormEps = "rms_norm_eps"
        case attentionBias = "attention_bias"
        case tieWordEmbeddings = "tie_word_embeddings"
        case maxPositions = "max_position_embeddings"
        case ropeSections = "mrope_section"
    }

    /// Problems with the sizes, each naming the HF key; empty when the config is usable.
    public func problems() -> [String] {
        var out: [String] = []
        for (key, v) in [
            ("vocab_size", vocabularySize), ("hidden_size", hiddenSize),
            ("intermediate_size", intermediateSize), ("num_hidden_layers", layers),
            ("num_attention_heads", heads), ("num_key_value_heads", kvHeads), ("head_dim", headDim),
            ("max_position_embeddings", maxPositions),
        ] where v <= 0 {
            out.append("\(key) must be > 0, got \(v)")
        }
        if kvHeads > 0 && heads % kvHeads != 0 {
            out.append("num_attention_heads (\(heads)) must be a multiple of num_key_value_heads (\(kvHeads))")
        }
        if headDim % 2 != 0 { out.append("head_dim must be even for rotary embeddings, got \(headDim)") }
        if let sections = ropeSections,
            sections.count != 3 || sections.contains(where: { $0 < 0 })
                || sections.reduce(0, +) != headDim / 2
        {
            out.append("mrope_section must be 3 sizes adding up to head_dim / 2 = \(headDim / 2), got \(sections)")
        }
        if !(ropeTheta > 0) { out.append("rope_theta must be > 0, got \(ropeTheta)") }
        if !(rmsNormEps > 0) { out.append("rms_norm_eps must be > 0, got \(rmsNormEps)") }
        return out
    }
}
