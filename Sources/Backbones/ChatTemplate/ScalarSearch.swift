/// Substring search in linear time, so a template cannot hang a render by searching a long string for a long,
/// nearly matching needle. It runs on UTF-8 bytes: a valid UTF-8 needle matches valid UTF-8 text only at code
/// point boundaries, so byte matches are exactly Python's code-point matches.
enum ScalarSearch {
    /// Start offsets of the non-overlapping occurrences of `needle` in `haystack`, left to right, as Python's
    /// `str.count`, `str.split` and `str.replace` find them; at most `limit` of them (all when `limit` < 0).
    /// Knuth-Morris-Pratt: O(haystack + needle) whatever the text. An empty needle matches nowhere here; callers
    /// handle Python's empty-needle rules themselves.
    static func occurrences<T: Equatable>(of needle: [T], in haystack: [T], limit: Int = -1) -> [Int] {
        let m = needle.count
        guard m > 0, m <= haystack.count, limit != 0 else { return [] }
        // failure[i]: length of the longest proper prefix of needle[0...i] that is also its suffix.
        var failure = [Int](repeating: 0, count: m)
        var k = 0
        for i in 1..<m {
            while k > 0 && needle[i] != needle[k] { k = failure[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            failure[i] = k
        }
        var hits: [Int] = []
        var matched = 0
        for i in haystack.indices {
            let c = haystack[i]
            while matched > 0 && c != needle[matched] { matched = failure[matched - 1] }
            if c == needle[matched] { matched += 1 }
            if matched == m {
                hits.append(i - m + 1)
                if limit > 0 && hits.count == limit { break }
                matched = 0  // non-overlapping: the next match starts after this one
            }
        }
        return hits
    }

    /// The byte offset of the last occurrence of `needle` (overlapping ones included), or nil.
    static func lastOccurrence(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        occurrences(of: needle.reversed(), in: haystack.reversed(), limit: 1).first.map {
            haystack.count - $0 - needle.count
        }
    }

    static func contains(_ needle: String, in haystack: String) -> Bool {
        needle.isEmpty || !occurrences(of: Array(needle.utf8), in: Array(haystack.utf8), limit: 1).isEmpty
    }

    /// The number of code points in the first `byteOffset` bytes of `bytes` (Python's string index).
    static func codePointIndex(_ bytes: [UInt8], _ byteOffset: Int) -> Int {
        var n = 0
        for b in bytes[..<byteOffset] where b & 0xC0 != 0x80 { n += 1 }
        return n
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
}
