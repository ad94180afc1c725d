import Foundation

/// How a batch-1 product (decoding: one row of activations times a weight [out, in], `GemmSmallRows`) reads
/// the weight rows.
///
/// Such a product runs at memory speed: each weight is read once from memory and used once. Which order
/// reads memory fastest depends on the CPU and on the row length, by up to 1.6x, and in opposite directions:
/// - `oneRow`: one dot product at a time. Consecutive weight rows follow each other in memory, so the reads
///   are one sequential stream through the whole matrix; the activation row is loaded once per weight vector.
/// - `fourRows`: four dot products at a time: four streams, the activation row loaded once per four weight
///   vectors.
///
/// On an AMD EPYC Zen 4 (one thread, the haswell build, Qwen2-0.5B's decoder, `bench eval`), `oneRow` read
/// the rows of 896 values 1.5x faster than `fourRows` and `fourRows` the rows of 4864 values faster than
/// `oneRow` (one row everywhere: 74 ms per token; four rows everywhere: 97-100 ms; one row for the 896-value
/// rows and four for the 4864-value ones: 65 ms, and 38 ms against 65 on two threads). On an Ice Lake Xeon,
/// four rows of 896 values read 11 GB/s against one row's 7-10. So the order is chosen per row length, by
/// timing this process's first products of that length (`GemmRowOrderChoice`). Both orders sum each dot
/// product exactly as `GemmSimple.dot` does, so the choice never changes a number, only the speed.
public enum GemmRowOrder: Int, CaseIterable, Sendable {
    case oneRow, fourRows

    /// A readable name, e.g. "one row".
    var name: String { self == .oneRow ? "one row" : "four rows" }
}

/// Chooses a `GemmRowOrder` per weight row length, from the times of real products.
///
/// Until a length is decided, its products of at least `minimumTimedValues` weights (smaller ones may sit in
/// cache, where the order hardly matters) alternate between the orders (A B B A A B B A ..., so neither
/// always gets the first of two neighbouring products) and report their wall time per weight. Once each order
/// has `triesPerOrder` times, the one with the lower median is kept for the rest of the process. Smaller
/// products before that use `fourRows`. A decode of a Qwen2-0.5B-sized model decides within its first token.
///
/// `SKILLTUNE_DECODE_ROWS=1|4` forces one row or four rows (for measurements).
final class GemmRowOrderChoice: @unchecked Sendable {
    /// The process's chooser (reads `SKILLTUNE_DECODE_ROWS`).
    static let shared = GemmRowOrderChoice(
        forced: { () -> GemmRowOrder? in
            switch ProcessInfo.processInfo.environment["SKILLTUNE_DECODE_ROWS"] {
            case "1": return .oneRow
            case "4": return .fourRows
            default: return nil
            }
        }())

    /// Timed products per order before a row length is decided.
    static let triesPerOrder = 8
    /// Products with fewer weights are not timed: 256K values, a megabyte.
    static let minimumTimedValues = 1 << 18

    /// The order every product takes, if forced.
    let forced: GemmRowOrder?
    private let lock = NSLock()
    /// Per row length, per order: nanoseconds per weight of each timed product.
    private var times: [Int: [[Double]]] = [:]
    private var chosen: [Int: GemmRowOrder] = [:]

    init(forced: GemmRowOrder? = nil) { self.forced = forced }

    /// The order for a product of `values` weights in rows of `rowLength`, and whether to time it (then pass
    /// its time to `record`).
    func order(rowLength: Int, values: Int) -> (order: GemmRowOrder, timed: Bool) {
        if let forced { return (forced, false) }
        lock.lock()
        defer { lock.unlock() }
        if let decided = chosen[rowLength] { return (decided, false) }
        guard values >= Self.minimumTimedValues else { return (.fourRows, false) }
        let done = times[rowLength, default: [[], []]].reduce(0) { $0 + $1.count }
        return (GemmRowOrder(rawValue: (done + done / 2) % 2)!, true)
    }

    /// Records a timed product's wall time; decides the row length once both orders have enough times.
    func record(rowLength: Int, order: GemmRowOrder, values: Int, nanoseconds: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        guard chosen[rowLength] == nil else { return }
        var perOrder = times[rowLength, default: [[], []]]
        perOrder[order.rawValue].append(Double(nanoseconds) / Double(max(values, 1)))
        times[rowLength] = perOrder
        guard perOrder.allSatisfy({ $0.count >= Self.triesPerOrder }) else { return }
        let medians = perOrder.map { $0.sorted()[$0.count / 2] }
        chosen[rowLength] = medians[0] < medians[1] ? .oneRow : .fourRows
    }

    /// The decided orders, by row length.
    var choices: [Int: GemmRowOrder] {
        lock.lock()
        defer { lock.unlock() }
        return chosen
    }
}

extension Gemm {
    /// How this process's batch-1 products read their weights, per row length, e.g. "896: one row, 4864: four
    /// rows" (forced: "one row (forced)"); empty before any is decided. For reports (see `GemmRowOrder`).
    public static var decodeRowOrders: String {
        let choice = GemmRowOrderChoice.shared
        if let forced = choice.forced { return forced.name + " (forced)" }
        return choice.choices.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.name)" }.joined(
            separator: ", ")
    }
}
