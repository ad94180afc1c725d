/// Text to token ids and back.
public protocol Tokenizer: AnyObject {
    /// Number of ids the tokenizer can produce (the embedding table may be larger).
    var vocabularySize: Int { get }
    /// Encodes text as given: no special tokens are added.
    func encode(_ text: String) -> [Int32]
    /// Decodes ids back to text.
    func decode(_ ids: [Int32]) -> String
    /// The text one token stands for (decoded on its own), or nil for an unknown id. Probes use it to find
    /// the number tokens of a vocabulary.
    func tokenText(_ id: Int32) -> String?
    /// Ids that end generation.
    var endOfSequenceIDs: Set<Int32> { get }
}
