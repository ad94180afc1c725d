import Foundation

/// A named collection of factories: how the host finds backbones, strategies and benchmarks by name.
///
/// `Factory` is whatever makes an instance, typically a closure such as
/// `([String: String]) throws -> any TuningStrategy`. Each entry also has a one-line summary (shown by
/// listings) and an optional description of its options.
///
///     let strategies = Registry<(StrategyOptions) throws -> any TuningStrategy>(kind: "strategy")
///     try strategies.register(name: "lora", summary: "low-rank adapters on the MLP linears") { LoRA($0) }
///     let strategy = try strategies.make("lora")(options)
///
/// Registration and look-up are guarded by a lock, so plugins may register from any thread.
public final class Registry<Factory>: @unchecked Sendable {
    /// One registered factory.
    public struct Entry {
        public let name: String
        /// One line saying what the entry is.
        public let summary: String
        /// A free-form description of the options the factory understands (for help output), if any.
        public let options: String?
        public let make: Factory
    }

    /// What the entries are, singular ("strategy", "backbone", "benchmark"): used in error messages.
    public let kind: String

    private var storage: [String: Entry] = [:]
    /// Names in the order they were registered.
    private var order: [String] = []
    private let lock = NSLock()

    public init(kind: String) {
        self.kind = kind
    }

    /// Adds `factory` under `name`. Throws if the name is empty, contains whitespace, or is taken.
    public func register(name: String, summary: String, options: String? = nil, factory: Factory) throws {
        guard !name.isEmpty, !name.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw RegistryError.invalidName(kind: kind, name: name)
        }
        lock.lock()
        defer { lock.unlock() }
        if let existing = storage[name] {
            throw RegistryError.duplicateName(kind: kind, name: name, existingSummary: existing.summary)
        }
        storage[name] = Entry(name: name, summary: summary, options: options, make: factory)
        order.append(name)
    }

    /// The entry registered under `name`; an unknown name throws an error listing every registered name
    /// and the closest one, if any is close.
    public func entry(named name: String) throws -> Entry {
        lock.lock()
        let found = storage[name]
        let registered = storage.keys.sorted()
        lock.unlock()
        if let found { return found }
        throw RegistryError.unknownName(
            kind: kind, name: name, registered: registered,
            suggestion: closestName(to: name, among: registered))
    }

    /// The factory registered under `name` (call it to make an instance). Throws like `entry(named:)`.
    public func make(_ name: String) throws -> Factory {
        try entry(named: name).make
    }

    /// Whether `name` is registered.
    public func contains(_ name: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return storage[name] != nil
    }

    /// Registered names, sorted.
    public var names: [String] {
        lock.lock()
        defer { lock.unlock() }
        return storage.keys.sorted()
    }

    /// Registered names in the order they were registered (a plugin's own order, e.g. the study's strategies).
    public var namesInRegistrationOrder: [String] {
        lock.lock()
        defer { lock.unlock() }
        return order
    }

    /// Registered entries, sorted by name.
    public var entries: [Entry] {
        lock.lock()
        defer { lock.unlock() }
        return storage.values.sorted { $0.name < $1.name }
    }
}

/// A misuse of a `Registry`: a bad or duplicate name at registration, or an unknown name at look-up.
public enum RegistryError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case invalidName(kind: String, name: String)
    case duplicateName(kind: String, name: String, existingSummary: String)
    case unknownName(kind: String, name: String, registered: [String], suggestion: String?)

    public var description: String {
        switch self {
        case .invalidName(let kind, let name):
            return "invalid \(kind) name \"\(name)\": names must be non-empty and contain no whitespace"
        case .duplicateName(let kind, let name, let existingSummary):
            return "a \(kind) named \"\(name)\" is already registered (\(existingSummary)); "
                + "register yours under another name"
        case .unknownName(let kind, let name, let registered, let suggestion):
            var message = "unknown \(kind) \"\(name)\"."
            if let suggestion { message += " Did you mean \"\(suggestion)\"?" }
            message +=
                registered.isEmpty
                ? " No \(kind) is registered."
                : " Registered: \(registered.joined(separator: ", "))."
            return message
        }
    }

    public var errorDescription: String? { description }
}

/// The registered name closest to `query` by edit distance (case-insensitive, adjacent transpositions count
/// as one edit), if it is close: at most a third of the query's length in edits (at least 1, at most 3).
/// Ties go to the alphabetically first name.
public func closestName(to query: String, among names: [String]) -> String? {
    let q = Array(query.lowercased())
    let allowed = min(3, max(1, q.count / 3))
    var best: (name: String, distance: Int)?
    for name in names.sorted() {
        let d = editDistance(q, Array(name.lowercased()))
        if d <= allowed && (best == nil || d < best!.distance) { best = (name, d) }
    }
    return best?.name
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent transpositions.
public func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    let width = b.count + 1
    // Rows i-2, i-1 and i of the dynamic-programming table.
    var previous2 = [Int](repeating: 0, count: width)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: width)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = min(d, previous2[j - 2] + 1)
            }
            current[j] = d
        }
        (previous2, previous, current) = (previous, current, previous2)
    }
    return previous[b.count]
}
