import Foundation
import Kernel

/// The layouts of data files `DataFileBenchmark` reads, told apart by their content (never the extension).
public enum DataFileFormat: String, CaseIterable, Sendable {
    /// One `{"prompt", "answer", ...}` object per line.
    case skillTune = "SkillTune JSON Lines"
    /// A JSON array of `{"id", "image", "conversations": [{"from", "value"}]}` items (LLaVA, LLaVA-NeXT).
    case llava = "LLaVA conversation JSON"
    /// One `{"messages": [{"role", "content"}], "images"?}` object per line (OpenAI style).
    case messages = "chat-messages JSON Lines"
    /// One `{"conversations": [{"from", "value"}], "images"?}` object per line (ShareGPT style).
    case shareGPT = "ShareGPT JSON Lines"

    /// The format of a file's bytes: a JSON array (first byte after spaces and a UTF-8 byte-order mark is
    /// `[`) is LLaVA conversation JSON; anything else is JSON Lines, whose kind is set by the first line that
    /// is a JSON object: with a `"messages"` field, chat messages; with `"conversations"`, ShareGPT; otherwise
    /// SkillTune. Only the first 100 non-blank lines are looked at.
    public static func detect(_ data: Data) -> DataFileFormat {
        let bytes = DataFileText.withoutByteOrderMark(data)
        guard let first = bytes.first(where: { !DataFileText.isJSONSpace($0) }) else { return .skillTune }
        if first == UInt8(ascii: "[") { return .llava }
        var looked = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            guard line.contains(where: { !DataFileText.isJSONSpace($0) }) else { continue }
            looked += 1
            if looked > 100 { break }
            guard let fields = DataFileText.object(Data(line)) else { continue }
            if fields["messages"] != nil { return .messages }
            if fields["conversations"] != nil { return .shareGPT }
            return .skillTune
        }
        return .skillTune
    }

    /// Whether items are JSON array elements (numbered as items) rather than lines.
    var isArray: Bool { self == .llava }
}

/// Byte-level helpers shared by the data file readers.
enum DataFileText {
    static func isJSONSpace(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r")
    }

    /// `data` without a leading UTF-8 byte-order mark.
    static func withoutByteOrderMark(_ data: Data) -> Data {
        data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data
    }

    /// The JSON object in `data` (after the nesting check), or nil for anything else.
    static func object(_ data: Data) -> [String: Any]? {
        guard JSONNesting.depth(of: data) <= JSONNesting.limit else { return nil }
        return (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as? [String: Any]
    }
}
