/// A backbone whose prompts carry any number of images, each standing in the prompt as one placeholder token
/// that the model expands to the positions its image's features take (LLaVA's `<image>`).
///
/// Commands that take `--image` (`logits`, `generate`) go through this protocol, not a concrete model type.
public protocol ImagePrompting: Backbone {
    /// The id of the image placeholder token.
    var imagePlaceholderID: Int32 { get }
    /// Tokens for a prompt with `imageCount` images: with the chat template on, one user message whose content
    /// is the images then the text, with the generation prompt; otherwise the text after one placeholder line
    /// per image (placeholders already in `text` count as images).
    func encodePrompt(_ text: String, imageCount: Int) -> [Int32]
    /// `tokens` with each image placeholder repeated as many times as its image has features: the ids
    /// Hugging Face's processor gives the model. Throws when the placeholders and `images` do not pair up.
    func expandImagePlaceholders(_ tokens: [Int32], images: [Image]) throws -> [Int32]
}

/// Placeholders and images that do not pair up.
public struct ImagePlaceholderError: Error, CustomStringConvertible {
    public let placeholders: Int
    public let images: Int
    public init(placeholders: Int, images: Int) {
        self.placeholders = placeholders
        self.images = images
    }
    public var description: String {
        "the prompt has \(placeholders) image placeholder(s) but \(images) image(s) were given; each image needs "
            + "one placeholder"
    }
}
