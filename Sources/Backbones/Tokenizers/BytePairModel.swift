import Foundation

/// The `model` of a `tokenizer.json` of type BPE: a vocabulary and ranked merges, applied to one pre-tokenized
/// piece at a time exactly as Hugging Face's `BPE::merge_word` + `Word::merge_all` do: start from one symbol per
/// scalar, then repeatedly merge the adjacent pair with the lowest rank (leftmost on ties).
final class BytePairModel {
    /// Token (byte-level form) to id.
    let vocabulary: [String: Int32]
    /// Merges keyed by `pairKey(left, right)`.
    private let merges: [UInt64: Merge]
    /// With `ignore_merges`, a piece that is itself in the vocabulary becomes that one token.
    private let ignoreMerges: Bool
    private let unknownID: Int32?
    private let fuseUnknown: Bool
    /// Ids of single-scalar tokens for scalar values below `directScalarLimit` (the byte-level alphabet), -1 if none.
    private let singleScalarIDs: [Int32]
    private static let directScalarLimit = 0x144

    private struct Merge {
        var rank: Int32
        var newID: Int32
    }

    private let cacheLock = NSLock()
    private var cache: [String: [Int32]] = [:]
    /// Same limits as Hugging Face: 10 000 words, each shorter than 256 bytes.
    private let cacheCapacity = 10_000
    private let cacheMaxWordBytes = 256

    private static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Reads `model` (its `type` must be BPE or absent).
    init(_ json: JSONObject) throws {
        let file = json.file
        if let type = try json.optionalString("type"), type != "BPE" {
            throw TokenizerFileError.unsupported(file, json.keyPath("type"), value: type, supported: ["BPE"])
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = try json.optionalString(key), !affix.isEmpty {
                throw TokenizerFileError.unsupported(
                    file, json.keyPath(key), value: affix, supported: ["null", "\"\""])
            }
        }

        let vocabKey = json.keyPath("vocab")
        guard let rawVocab = json.value("vocab") else { throw TokenizerFileError.missing(file, vocabKey) }
        guard let vocabObject = rawVocab as? [String: Any] else {
            throw TokenizerFileError.wrongType(file, vocabKey, expected: "an object of token: id", found: rawVocab)
        }
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(vocabObject.count)
        for (token, rawID) in vocabObject {
            guard let id = JSONValue.tokenID(rawID), id < HFTokenizer.maximumTokenID else {
                throw TokenizerFileError.wrongType(
                    file, "\(vocabKey)[\"\(token)\"]", expected: "a token id (0 ..< 16777216)", found: rawID)
            }
            vocabulary[token] = id
        }
        self.vocabulary = vocabulary

        let mergesKey = json.keyPath("merges")
        let rawMerges = json.has("merges") ? try json.array("merges") : []
        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(rawMerges.count)
        for (rank, raw) in rawMerges.enumerated() {
            let key = "\(mergesKey)[\(rank)]"
            let pair: [String]
            if let list = raw as? [Any] {
                guard list.count == 2, let a = list[0] as? String, let b = list[1] as? String else {
                    throw TokenizerFileError.wrongType(file, key, expected: "a pair [\"a\", \"b\"]", found: raw)
                }
                pair = [a, b]
            } else if let line = raw as? String {
                pair = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                guard pair.count == 2 else {
                    throw TokenizerFileError.invalid(
                        file, key, "should be two tokens separated by one space, found \"\(line)\"")
                }
            } else {
                throw TokenizerFileError.wrongType(
                    file, key, expected: "\"a b\" or a pair [\"a\", \"b\"]", found: raw)
            }
            func id(_ token: String) throws -> Int32 {
                guard let id = vocabulary[token] else {
                    throw TokenizerFileError.invalid(file, key, "names \"\(token)\", which is not in \(vocabKey)")
                }
                return id
            }
            let left = try id(pair[0])
            let right = try id(pair[1])
            let merged = try id(pair[0] + pair[1])
            // A repeated pair keeps its last rank, as Hugging Face's map does.
            merges[BytePairModel.pairKey(left, right)] = Merge(rank: Int32(rank), newID: merged)
        }
        self.merges = merges
        self.ignoreMerges = try json.bool("ignore_merges", default: false)
        self.fuseUnknown = try json.bool("fuse_unk", default: false)
        if let unknown = try json.optionalString("unk_token") {
            guard let id = vocabulary[unknown] else {
                throw TokenizerFileError.invalid(
                    file, json.keyPath("unk_token"), "names \"\(unknown)\", which is not in \(vocabKey)")
            }
            self.unknownID = id
        } else {
            self.unknownID = nil
        }

        var direct = [Int32](repeating: -1, count: BytePairModel.directScalarLimit)
        for (token, id) in vocabulary {
            let scalars = token.unicodeScalars
            if scalars.count == 1, let s = scalars.first, Int(s.value) < direct.count { direct[Int(s.value)] = id }
        }
        self.singleScalarIDs = direct
    }

    /// The ids of one pre-tokenized piece (in byte-level form).
    func tokenize(_ piece: String) -> [Int32] {
        if piece.isEmpty { return [] }
        if ignoreMerges, let id = vocabulary[piece] { return [id] }
        let cacheable = piece.utf8.count < cacheMaxWordBytes
        if cacheable {
            cacheLock.lock()
            let hit = cache[piece]
            cacheLock.unlock()
            if let hit { return hit }
        }
        let ids = mergeWord(piece)
        if cacheable {
            cacheLock.lock()
            if cache.count < cacheCapacity { cache[piece] = ids }
            cacheLock.unlock()
        }
        return ids
    }

    /// One symbol per scalar (unknown scalars become `unk_token` if there is one, else are dropped), then merges.
    private func mergeWord(_ piece: String) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(piece.utf8.count)
        var pendingUnknown = false
        for scalar in piece.unicodeScalars {
            let v = Int(scalar.value)
            let found: Int32?
            if v < singleScalarIDs.count {
                found = singleScalarIDs[v] >= 0 ? singleScalarIDs[v] : nil
            } else {
                found = vocabulary[String(scalar)]
            }
            if let id = found {
                if pendingUnknown, let unknownID { symbols.append(unknownID) }
                pendingUnknown = false
                symbols.append(id)
            } else if let unknownID {
                if pendingUnknown && !fuseUnknown { symbols.append(unknownID) }
                pendingUnknown = true
            }
        }
        if pendingUnknown, let unknownID { symbols.append(unknownID) }
        if symbols.count < 2 || merges.isEmpty { return symbols }
        return mergeAll(symbols)
    }

    /// Hugging Face's `Word::merge_all` without dropout: a queue of candidate merges ordered by (rank, position);
    /// stale entries (a side already merged into something else) are skipped when popped.
    private func mergeAll(_ initial: [Int32]) -> [Int32] {
        let n = initial.count
        var ids = initial
        var next = (0..<n).map { Int32($0 + 1 < n ? $0 + 1 : -1) }
        var previous = (0..<n).map { Int32($0 - 1) }
        var alive = [Bool](repeating: true, count: n)
        var queue = MergeQueue()
        for i in 0..<(n - 1) {
            if let m = merges[BytePairModel.pairKey(ids[i], ids[i + 1])] {
                queue.push(.init(rank: m.rank, position: Int32(i), newID: m.newID))
            }
        }
        while let top = queue.pop() {
            let pos = Int(top.position)
            guard alive[pos], next[pos] >= 0 else { continue }
            let right = Int(next[pos])
            guard let m = merges[BytePairModel.pairKey(ids[pos], ids[right])], m.newID == top.newID else { continue }
            ids[pos] = top.newID
            alive[right] = false
            next[pos] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(pos) }
            if previous[pos] >= 0 {
                let left = Int(previous[pos])
                if let m = merges[BytePairModel.pairKey(ids[left], ids[pos])] {
                    queue.push(.init(rank: m.rank, position: Int32(left), newID: m.newID))
                }
            }
            if next[pos] >= 0, let m = merges[BytePairModel.pairKey(ids[pos], ids[Int(next[pos])])] {
                queue.push(.init(rank: m.rank, position: Int32(pos), newID: m.newID))
            }
        }
        var result: [Int32] = []
        result.reserveCapacity(n)
        for i in 0..<n where alive[i] { result.append(ids[i]) }
        return result
    }
}

/// A binary min-heap of candidate merges ordered by rank, then position.
private struct MergeQueue {
    struct Entry {
        var rank: Int32
        var position: Int32
        var newID: Int32
        func precedes(_ other: Entry) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    private var heap: [Entry] = []

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var best = parent
                if left < heap.count && heap[left].precedes(heap[best]) { best = left }
                if right < heap.count && heap[right].precedes(heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return top
    }
}
