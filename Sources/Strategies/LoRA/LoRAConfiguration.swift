/// The hyperparameters of one low-rank adapter, in PEFT's terms (`r`, `lora_alpha`, `lora_dropout`,
/// `use_rslora`).
public struct LoRAConfiguration: Equatable, Sendable {
    /// Rank r of the update `B A` (A: [r, in], B: [out, r]).
    public var rank: Int
    /// `lora_alpha`: the update is scaled by alpha / r (alpha / sqrt(r) with rsLoRA).
    public var alpha: Double
    /// Dropout probability on the adapter's input, applied only in training.
    public var dropout: Double
    /// rsLoRA scaling (alpha / sqrt(r)) instead of alpha / r.
    public var rankStabilized: Bool

    public init(rank: Int, alpha: Double, dropout: Double = 0, rankStabilized: Bool = false) {
        precondition(rank >= 1, "LoRAConfiguration: rank must be >= 1, got \(rank)")
        precondition(alpha.isFinite, "LoRAConfiguration: alpha must be finite, got \(alpha)")
        precondition(dropout >= 0 && dropout < 1, "LoRAConfiguration: dropout must be in [0, 1), got \(dropout)")
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.rankStabilized = rankStabilized
    }

    /// The factor on `B A x`: alpha / r, or alpha / sqrt(r) with rsLoRA (as PEFT computes it, in Double).
    public var scaling: Float {
        Float(rankStabilized ? alpha / Double(rank).squareRoot() : alpha / Double(rank))
    }
}
