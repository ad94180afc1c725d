import Foundation

/// A template that cannot be parsed or rendered: where (the template's source name, line and column, 1-based) and
/// what went wrong. `raise_exception(msg)` in a template gives `message == msg` and `isRaisedByTemplate`.
public struct ChatTemplateError: Error, CustomStringConvertible, Equatable {
    /// The file (or "chat template") the template came from.
    public var source: String
    public var line: Int?
    public var column: Int?
    public var message: String
    /// True when the template itself called `raise_exception` (a conversation the template refuses).
    public var isRaisedByTemplate = false

    public init(source: String, line: Int?, column: Int?, message: String, isRaisedByTemplate: Bool = false) {
        self.source = source
        self.line = line
        self.column = column
        self.message = message
        self.isRaisedByTemplate = isRaisedByTemplate
    }

    public var description: String {
        var place = source
        if let line { place += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        return isRaisedByTemplate
            ? "\(place): the chat template refused the conversation: \(message)" : "\(place): \(message)"
    }
}

/// A line and column (1-based) in the template source.
struct SourceLocation: Equatable {
    var line: Int
    var column: Int
}

/// An error raised while evaluating, before the evaluator attaches the location of the tag it was in.
struct RenderFailure: Error {
    var message: String
    var raisedByTemplate = false
    var location: SourceLocation?

    init(_ message: String, raisedByTemplate: Bool = false, at location: SourceLocation? = nil) {
        self.message = message
        self.raisedByTemplate = raisedByTemplate
        self.location = location
    }
}

/// Bounds that keep a hostile template from hanging or exhausting memory. Exceeding one is a render error naming
/// the bound.
public struct RenderLimits: Sendable, Equatable {
    /// Characters of output (and of any one string a template builds).
    public var maxOutputLength: Int
    /// Loop iterations over the whole render, counting every `for` body run.
    public var maxLoopIterations: Int
    /// Work over the whole render: expression and statement evaluations, plus the size of the strings and
    /// collections they build (see `Renderer.charge`). The real templates use a few thousand per conversation.
    public var maxSteps: Int
    /// Nested macro calls.
    public var maxCallDepth: Int
    /// Nesting of blocks and expressions when parsing.
    public var maxParseDepth: Int
    /// Items in one list or range a template builds.
    public var maxCollectionCount: Int

    public init(
        maxOutputLength: Int = 8_000_000, maxLoopIterations: Int = 1_000_000, maxSteps: Int = 5_000_000,
        maxCallDepth: Int = 64, maxParseDepth: Int = 100, maxCollectionCount: Int = 1_000_000
    ) {
        self.maxOutputLength = maxOutputLength
        self.maxLoopIterations = maxLoopIterations
        self.maxSteps = maxSteps
        self.maxCallDepth = maxCallDepth
        self.maxParseDepth = maxParseDepth
        self.maxCollectionCount = maxCollectionCount
    }

    public static let standard = RenderLimits()
}
