import Foundation

/// Reads the text options a strategy factory is given (`[String: String]`, e.g. from `--option rank=8`)
/// against the options the strategy declares, so that every strategy validates them the same way:
///
/// - a name that is not declared is an error listing every valid option with its default (and the closest
///   name, if one is close);
/// - a value that does not parse or is out of range is an error naming the option, the value and what is
///   valid.
///
///     var reader = try StrategyOptionReader(strategy: "lora", given: options, declared: [
///         StrategyOption(name: "rank", defaultValue: "8", help: "adapter rank"),
///         StrategyOption(name: "alpha", defaultValue: "16", help: "scale numerator"),
///     ])
///     let rank = try reader.integer("rank", atLeast: 1)
///     let alpha = try reader.number("alpha", above: 0)
///     self.options = reader.options   // declared options with the values in force
public struct StrategyOptionReader {
    /// The strategy's registry name, for messages.
    public let strategy: String
    /// The declared options, each with the value in force (given or default).
    public private(set) var options: [StrategyOption]

    /// Checks that every given name is declared and records the given values.
    public init(strategy: String, given: [String: String], declared: [StrategyOption]) throws {
        self.strategy = strategy
        var options = declared
        for name in given.keys.sorted() {
            guard let i = options.firstIndex(where: { $0.name == name }) else {
                throw StrategyOptionError.unknownOption(
                    strategy: strategy, name: name, valid: declared,
                    suggestion: closestName(to: name, among: declared.map(\.name)))
            }
            options[i].value = given[name]!
        }
        self.options = options
    }

    /// The text value of a declared option.
    public func string(_ name: String) -> String {
        guard let option = options.first(where: { $0.name == name }) else {
            preconditionFailure("StrategyOptionReader(\(strategy)): option '\(name)' was read but never declared")
        }
        return option.value.trimmingCharacters(in: .whitespaces)
    }

    /// A whole number >= `minimum`.
    public func integer(_ name: String, atLeast minimum: Int) throws -> Int {
        let text = string(name)
        guard let value = Int(text), value >= minimum else {
            throw invalid(name, text, expected: "a whole number >= \(minimum)")
        }
        return value
    }

    /// A finite number in `range` (both ends included).
    public func number(_ name: String, in range: ClosedRange<Double>) throws -> Double {
        let text = string(name)
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw invalid(
                name, text, expected: "a number in [\(format(range.lowerBound)), \(format(range.upperBound))]")
        }
        return value
    }

    /// A finite number in the half-open `range` (lower end included, upper end excluded).
    public func number(_ name: String, in range: Range<Double>) throws -> Double {
        let text = string(name)
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw invalid(
                name, text, expected: "a number in [\(format(range.lowerBound)), \(format(range.upperBound)))")
        }
        return value
    }

    /// A finite number > `lowerBound` (strictly), and below `upperBound` (strictly) if given.
    public func number(_ name: String, above lowerBound: Double, below upperBound: Double? = nil) throws -> Double {
        let text = string(name)
        let expected =
            upperBound.map { "a number > \(format(lowerBound)) and < \(format($0))" }
            ?? "a number > \(format(lowerBound))"
        guard let value = Double(text), value.isFinite, value > lowerBound, upperBound.map({ value < $0 }) ?? true
        else {
            throw invalid(name, text, expected: expected)
        }
        return value
    }

    /// A finite number >= `lowerBound`.
    public func number(_ name: String, atLeast lowerBound: Double) throws -> Double {
        let text = string(name)
        guard let value = Double(text), value.isFinite, value >= lowerBound else {
            throw invalid(name, text, expected: "a number >= \(format(lowerBound))")
        }
        return value
    }

    /// `true`/`false` (also `yes`/`no`, `1`/`0`, any case).
    public func boolean(_ name: String) throws -> Bool {
        let text = string(name)
        switch text.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: throw invalid(name, text, expected: "true or false")
        }
    }

    /// One of `choices` (exact spelling).
    public func choice(_ name: String, among choices: [String]) throws -> String {
        let text = string(name)
        guard choices.contains(text) else {
            throw invalid(name, text, expected: "one of " + choices.joined(separator: ", "))
        }
        return text
    }

    /// A comma-separated list of non-empty items (spaces around items are dropped).
    public func list(_ name: String) throws -> [String] {
        let text = string(name)
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !text.isEmpty, items.allSatisfy({ !$0.isEmpty }) else {
            throw invalid(name, text, expected: "a comma-separated list of non-empty names")
        }
        return items
    }

    /// An error for a value of a declared option that the strategy cannot use, saying what is valid.
    public func invalid(_ name: String, _ value: String, expected: String) -> StrategyOptionError {
        .invalidValue(strategy: strategy, option: name, value: value, expected: expected)
    }

    private func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}

extension StrategyOption {
    /// One line per option for listings: `rank=8 (default 8): adapter rank`.
    public static func describe(_ options: [StrategyOption]) -> String {
        options.map { option in
            let current = option.value == option.defaultValue ? "" : " (default \(option.defaultValue))"
            return "\(option.name)=\(option.value)\(current): \(option.help)"
        }.joined(separator: "\n")
    }
}

/// A bad strategy option: an unknown name or an unusable value. The message lists what is valid.
public enum StrategyOptionError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case unknownOption(strategy: String, name: String, valid: [StrategyOption], suggestion: String?)
    case invalidValue(strategy: String, option: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .unknownOption(let strategy, let name, let valid, let suggestion):
            var message = "strategy '\(strategy)' has no option '\(name)'."
            if let suggestion { message += " Did you mean '\(suggestion)'?" }
            if valid.isEmpty {
                message += " It takes no options."
            } else {
                message +=
                    " Valid options: "
                    + valid.map { "\($0.name) (default \($0.defaultValue.isEmpty ? "empty" : $0.defaultValue))" }
                    .joined(separator: ", ") + "."
            }
            return message
        case .invalidValue(let strategy, let option, let value, let expected):
            return
                "strategy '\(strategy)': option \(option)=\(value.isEmpty ? "(empty)" : value) is not valid; expected \(expected)."
        }
    }

    public var errorDescription: String? { description }
}
