import Foundation

/// Finds the elements of a top-level JSON array without parsing them, so that each element is parsed on its
/// own and a malformed one is reported by its number and line while the others still load.
///
/// Brackets and commas inside strings (with escapes) are skipped; a stray closing bracket inside an element
/// is left for the element's own parse to refuse. One pass, O(1) memory besides the element list.
enum JSONArrayScanner {
    struct Element {
        /// Byte offsets of the element's text (surrounding whitespace excluded).
        var range: Range<Int>
        /// The line (from 1) the element starts on.
        var line: Int
    }

    struct ScanError: Error { var reason: String }

    /// The elements of the array `bytes` holds (after an optional UTF-8 byte-order mark). Throws when the
    /// text is not an array, is not closed, has text after it, or has more than `maxElements` elements.
    static func elements(of data: Data, maxElements: Int) throws -> [Element] {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Element] in
            let bytes = raw.bindMemory(to: UInt8.self)
            var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            var line = 1
            func skipSpaces() {
                while i < bytes.count, DataFileText.isJSONSpace(bytes[i]) {
                    if bytes[i] == UInt8(ascii: "\n") { line += 1 }
                    i += 1
                }
            }
            skipSpaces()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "[") else {
                throw ScanError(reason: "expected a JSON array [...] of items")
            }
            i += 1
            skipSpaces()
            var elements: [Element] = []
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                i += 1
            } else {
                var closed = false
                while i < bytes.count {
                    skipSpaces()
                    let start = i
                    let startLine = line
                    var depth = 0
                    var inString = false
                    var escaped = false
                    var end: UInt8 = 0
                    while i < bytes.count {
                        let b = bytes[i]
                        if b == UInt8(ascii: "\n") { line += 1 }
                        if inString {
                            if escaped {
                                escaped = false
                            } else if b == UInt8(ascii: "\\") {
                                escaped = true
                            } else if b == UInt8(ascii: "\"") {
                                inString = false
                            }
                        } else if b == UInt8(ascii: "\"") {
                            inString = true
                        } else if b == UInt8(ascii: "[") || b == UInt8(ascii: "{") {
                            depth += 1
                        } else if depth == 0 && (b == UInt8(ascii: ",") || b == UInt8(ascii: "]")) {
                            end = b
                            break
                        } else if b == UInt8(ascii: "]") || b == UInt8(ascii: "}") {
                            depth = max(0, depth - 1)
                        }
                        i += 1
                    }
                    guard end != 0 else { break }
                    var stop = i
                    while stop > start, DataFileText.isJSONSpace(bytes[stop - 1]) { stop -= 1 }
                    guard elements.count < maxElements else {
                        throw ScanError(reason: "more than \(maxElements) items (the limit)")
                    }
                    elements.append(Element(range: start..<stop, line: startLine))
                    i += 1
                    if end == UInt8(ascii: "]") {
                        closed = true
                        break
                    }
                }
                guard closed else {
                    throw ScanError(reason: "the JSON array is not closed (no ] at the end of the file)")
                }
            }
            skipSpaces()
            guard i == bytes.count else {
                throw ScanError(reason: "line \(line): text after the closing ] of the JSON array")
            }
            return elements
        }
    }
}
