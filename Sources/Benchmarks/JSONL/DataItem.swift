import Foundation
import Kernel

/// One item of a data file as written, before its image is read: an optional system message and one or more
/// turns (a user message and the assistant's answer), with the item's own fields.
struct DataItem {
    var id: String?
    var split: Split?
    var system: String?
    var turns: [ChatTurn]
    /// Image references in order: paths (relative to the image folder) or `data:` URIs.
    var images: [String]
    /// More reference answers for the scored (last) turn, from an `"answers"` list.
    var answers: [String]
    /// Multiple-choice option texts, in letter order.
    var options: [String]?

    /// Why an item is malformed (the reader adds where it is).
    struct Problem: Error { var reason: String }

    /// An item holds at most this many messages (each turn becomes a training example carrying all earlier
    /// turns, so memory grows with the square of this).
    static let maxMessages = 512

    static let placeholder = "<image>"

    /// Checks the placeholders against the images: a single image without a placeholder gets `<image>\n` in
    /// front of the first user message; otherwise the counts must match, and at most one image is supported.
    mutating func placeImages() throws {
        if images.count > 1 {
            throw Problem(reason: "\(images.count) images; at most one per item is supported")
        }
        for (k, turn) in turns.enumerated() where turn.assistant.contains(Self.placeholder) {
            throw Problem(reason: "turn \(k + 1): an <image> placeholder in the answer")
        }
        let count =
            turns.reduce(0) { $0 + $1.user.occurrences(of: Self.placeholder) }
            + (system?.occurrences(of: Self.placeholder) ?? 0)
        if images.count == 1 && count == 0 {
            turns[0].user = Self.placeholder + "\n" + turns[0].user
        } else if count != images.count {
            let placeholders = "\(count) <image> placeholder\(count == 1 ? "" : "s")"
            throw Problem(
                reason: images.isEmpty
                    ? "the prompt has \(placeholders) but the item has no image"
                    : "\(placeholders) for \(images.count) image")
        }
    }

    /// The text the hash split is computed from: system, every message, the image references. For a
    /// single-turn item this is `prompt \u{1} answer \u{1} image`, as JSONLBenchmark always hashed lines.
    var hashKey: String {
        ((system.map { [$0] } ?? []) + turns.flatMap { [$0.user, $0.assistant] } + [images.joined(separator: "\u{1}")])
            .joined(separator: "\u{1}")
    }

    /// The split an item without a `split` field falls in: one in five items goes to eval, by an FNV-1a hash
    /// of `hashKey` (so every turn of an item lands in the same split, and the same item always does).
    var hashedSplit: Split {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in hashKey.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return (h >> 17) % 5 == 0 ? .eval : .train
    }
}

extension String {
    func occurrences(of needle: String) -> Int {
        var count = 0
        var rest = self[...]
        while let range = rest.range(of: needle) {
            count += 1
            rest = rest[range.upperBound...]
        }
        return count
    }
}

// MARK: Fields every format shares

extension DataItem {
    /// Reads `id`, `split`, `answers` and `options` from `fields` into a new item with `turns`.
    static func withSharedFields(_ fields: [String: Any], system: String?, turns: [ChatTurn], images: [String])
        throws -> DataItem
    {
        var item = DataItem(
            id: nil, split: nil, system: system, turns: turns, images: images, answers: [], options: nil)
        if let value = fields["id"], !(value is NSNull) {
            if let s = value as? String {
                item.id = s
            } else if let n = value as? NSNumber, !(value is Bool) {
                item.id = n.stringValue
            } else {
                throw Problem(reason: "\"id\" must be a string")
            }
        }
        if let value = fields["split"], !(value is NSNull) {
            guard let s = value as? String else { throw Problem(reason: "\"split\" must be a string") }
            switch s.lowercased() {
            case "train": item.split = .train
            case "eval", "test", "val", "validation": item.split = .eval
            default: throw Problem(reason: "unknown split \"\(s)\" (expected train or eval)")
            }
        }
        if let value = fields["answers"], !(value is NSNull) {
            guard let list = value as? [Any], !list.isEmpty else {
                throw Problem(reason: "\"answers\" must be a non-empty array of strings or numbers")
            }
            item.answers = try list.map { try answerText($0, field: "\"answers\" entries") }
        }
        if let value = fields["options"], !(value is NSNull) {
            guard let list = value as? [String], !list.isEmpty else {
                throw Problem(reason: "\"options\" must be a non-empty array of strings")
            }
            item.options = list
        }
        return item
    }

    /// A string answer, or a number written as text; never empty.
    static func answerText(_ value: Any, field: String) throws -> String {
        let text: String
        if let s = value as? String {
            text = s
        } else if let n = value as? NSNumber, !(value is Bool) {
            text = n.stringValue
        } else {
            throw Problem(reason: "\(field) must be a string or a number")
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw Problem(reason: "\(field) is empty")
        }
        return text
    }

    /// Image references from a field holding a path, a list of paths, or null.
    static func imageList(_ fields: [String: Any], _ key: String) throws -> [String] {
        guard let value = fields[key], !(value is NSNull) else { return [] }
        if let s = value as? String, !s.isEmpty { return [s] }
        if let list = value as? [Any] {
            return try list.map {
                guard let s = $0 as? String, !s.isEmpty else {
                    throw Problem(reason: "\"\(key)\" must be a path string or a list of path strings")
                }
                return s
            }
        }
        throw Problem(reason: "\"\(key)\" must be a path string or a list of path strings")
    }
}
