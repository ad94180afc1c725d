import Foundation

/// Refuses work that cannot fit in memory before anything is allocated: a checkpoint whose weights (as
/// Float32) exceed the machine's memory gets a clear error instead of an out-of-memory kill halfway through.
///
/// The limit is the physical memory, or `SKILLTUNE_MEMORY_LIMIT` (bytes; suffixes K, M, G allowed) when set.
public enum MemoryBudget {
    /// The budget in bytes.
    public static var limit: UInt64 {
        if let text = ProcessInfo.processInfo.environment["SKILLTUNE_MEMORY_LIMIT"], let value = parseSize(text) {
            return value
        }
        return ProcessInfo.processInfo.physicalMemory
    }

    /// Throws `MemoryBudgetError` unless `float32Bytes` (nil: too large to count) fits in `limit`.
    /// - Parameter what: names the thing in the message ("the weights of checkpoints/x/model.safetensors").
    public static func check(float32Bytes: UInt64?, what: String, limit: UInt64 = MemoryBudget.limit) throws {
        guard let needed = float32Bytes, needed <= limit else {
            throw MemoryBudgetError(what: what, neededBytes: float32Bytes, limitBytes: limit)
        }
    }

    /// `a * b` and sums of such products without overflow: nil once anything overflows.
    public static func product(_ factors: [Int]) -> UInt64? {
        var result: UInt64 = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (p, overflow) = result.multipliedReportingOverflow(by: UInt64(f))
            if overflow { return nil }
            result = p
        }
        return result
    }

    /// `a * b`, nil on overflow.
    public static func times(_ a: UInt64, _ b: UInt64) -> UInt64? {
        let (v, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : v
    }

    /// The sum of `terms`, nil if any is nil or the sum overflows.
    public static func sum(_ terms: [UInt64?]) -> UInt64? {
        var total: UInt64 = 0
        for term in terms {
            guard let term else { return nil }
            let (s, overflow) = total.addingReportingOverflow(term)
            if overflow { return nil }
            total = s
        }
        return total
    }

    /// "123", "512M", "4G" (powers of 1024) as bytes.
    static func parseSize(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let scales: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        if let last = trimmed.last, let scale = scales[last], let n = UInt64(trimmed.dropLast()) {
            let (v, overflow) = n.multipliedReportingOverflow(by: scale)
            return overflow ? nil : v
        }
        return UInt64(trimmed)
    }
}

/// Work refused because it would not fit in memory.
public struct MemoryBudgetError: Error, CustomStringConvertible {
    public var what: String
    /// nil when the size overflows 64 bits.
    public var neededBytes: UInt64?
    public var limitBytes: UInt64

    public var description: String {
        func gb(_ b: UInt64) -> String { String(format: "%.2f GB", Double(b) / 1e9) }
        let needed = neededBytes.map(gb) ?? "more than 18 EB"
        return "\(what) would need \(needed) as Float32 but the memory limit is \(gb(limitBytes)) "
            + "(physical memory, or SKILLTUNE_MEMORY_LIMIT); refusing to load it"
    }
}
