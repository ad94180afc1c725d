/// What each token id decodes to: an array indexed by id when the ids are dense (every real vocabulary),
/// a dictionary when they are sparse, so that a file naming one token with id 16,000,000 does not make us
/// allocate a 16-million-entry table.
struct TokenBytesTable {
    private var dense: [[UInt8]?] = []
    private var sparse: [Int32: [UInt8]] = [:]
    private let isDense: Bool

    /// `entries` (id, bytes) pairs with ids in 0..<`idCount`; later entries win.
    init(idCount: Int, entries: [(Int32, [UInt8])]) {
        isDense = idCount <= 4 * entries.count + 65_536
        if isDense {
            dense = [[UInt8]?](repeating: nil, count: idCount)
            for (id, bytes) in entries { dense[Int(id)] = bytes }
        } else {
            for (id, bytes) in entries { sparse[id] = bytes }
        }
    }

    subscript(id: Int32) -> [UInt8]? {
        guard id >= 0 else { return nil }
        if isDense { return Int(id) < dense.count ? dense[Int(id)] : nil }
        return sparse[id]
    }
}
