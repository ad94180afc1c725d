import Kernel

extension RandomGenerator {
    /// Uniform integer in `range`.
    mutating func int(in range: ClosedRange<Int>) -> Int { range.lowerBound + int(below: range.count) }

    /// A uniformly chosen element.
    mutating func pick<T>(_ items: [T]) -> T { items[int(below: items.count)] }

    /// `count` distinct elements in random order.
    mutating func sample<T>(_ items: [T], _ count: Int) -> [T] {
        precondition(count <= items.count, "sample: \(count) of \(items.count) items")
        var copy = items
        shuffle(&copy)
        return Array(copy.prefix(count))
    }

    /// True with probability `p`.
    mutating func chance(_ p: Float) -> Bool { uniform() < p }

    /// Uniform Float in `low...high` rounded to a multiple of `step` (keeps content keys short and exact).
    mutating func grid(_ low: Float, _ high: Float, step: Float = 0.5) -> Float {
        let steps = Int(((high - low) / step).rounded(.down))
        return low + Float(int(below: steps + 1)) * step
    }
}
