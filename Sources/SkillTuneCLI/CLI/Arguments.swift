import Foundation
import Host
import Kernel

/// Declarative options and a strict parser for `skilltune` commands.
///
/// Options are `--name value`, `--name=value`, or bare `--name` for flags. Unknown options, missing values
/// and bad numbers are errors that say what was expected; nothing is silently ignored.

/// One option a command accepts.
public struct OptionSpec: Sendable {
    public var name: String
    /// Placeholder shown in help (`N`, `DIR`...); nil for a flag that takes no value.
    public var valueName: String?
    public var help: String
    /// Shown in help; also returned by `ParsedArguments.string` when the option is absent.
    public var defaultValue: String?
    /// Whether the option may be given more than once (values are collected in order).
    public var repeatable: Bool

    public static func flag(_ name: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, help: help, defaultValue: nil, repeatable: false)
    }

    public static func value(
        _ name: String, _ valueName: String, _ help: String, default defaultValue: String? = nil,
        repeatable: Bool = false
    ) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help, defaultValue: defaultValue, repeatable: repeatable)
    }

    public var isFlag: Bool { valueName == nil }
}

/// A usage error: the message, and the command whose help to point at.
public struct UsageError: Error, CustomStringConvertible {
    public var message: String
    public var command: String
    public init(_ message: String, command: String) {
        self.message = message
        self.command = command
    }
    public var description: String { message }
}

/// The result of parsing one command's arguments.
public struct ParsedArguments: Sendable {
    public let command: String
    private var values: [String: [String]]
    private let specs: [String: OptionSpec]
    public private(set) var positionals: [String]

    /// Parses `arguments` against `options`. `maxPositionals` bounds bare words.
    public init(command: String, arguments: [String], options: [OptionSpec], maxPositionals: Int = 0) throws {
        self.command = command
        var specs: [String: OptionSpec] = [:]
        for o in options { specs[o.name] = o }
        self.specs = specs
        values = [:]
        positionals = []
        var i = 0
        var onlyPositionals = false
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            if onlyPositionals || !arg.hasPrefix("--") || arg == "-" {
                if arg == "--" && !onlyPositionals {
                    onlyPositionals = true
                    continue
                }
                guard positionals.count < maxPositionals else {
                    throw UsageError(
                        "unexpected argument '\(arg)'"
                            + (maxPositionals == 0 ? " (this command takes only --options)" : ""), command: command)
                }
                positionals.append(arg)
                continue
            }
            var name = String(arg.dropFirst(2))
            var inlineValue: String?
            if let eq = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let spec = specs[name] else {
                let known = options.map { "--" + $0.name }.sorted()
                var message = "unknown option '--\(name)'"
                if let close = closestName(to: name, among: options.map(\.name)) {
                    message += "; did you mean '--\(close)'?"
                }
                message +=
                    known.isEmpty
                    ? " (this command takes no options)" : "; valid options: " + known.joined(separator: ", ")
                throw UsageError(message, command: command)
            }
            let value: String
            if spec.isFlag {
                if let v = inlineValue {
                    guard ["true", "false", "1", "0", "yes", "no"].contains(v.lowercased()) else {
                        throw UsageError(
                            "option '--\(name)' is a flag; expected no value or true/false, got '\(v)'",
                            command: command)
                    }
                    value = ["true", "1", "yes"].contains(v.lowercased()) ? "true" : "false"
                } else {
                    value = "true"
                }
            } else if let v = inlineValue {
                value = v
            } else {
                guard i < arguments.count, !(arguments[i].hasPrefix("--") && arguments[i].count > 2) else {
                    throw UsageError("option '--\(name)' needs a value (\(spec.valueName!))", command: command)
                }
                value = arguments[i]
                i += 1
            }
            if values[name] != nil && !spec.repeatable {
                throw UsageError("option '--\(name)' given more than once", command: command)
            }
            values[name, default: []].append(value)
        }
    }

    /// Whether the option was given on the command line.
    public func has(_ name: String) -> Bool { values[name] != nil }

    /// The option's last value, or its declared default.
    public func string(_ name: String) -> String? {
        precondition(specs[name] != nil, "ParsedArguments: '\(name)' is not a declared option of \(command)")
        return values[name]?.last ?? specs[name]?.defaultValue
    }

    /// Every value of a repeatable option, in order.
    public func strings(_ name: String) -> [String] { values[name] ?? [] }

    /// Whether a flag is on.
    public func flag(_ name: String) -> Bool { string(name) == "true" }

    /// The option as an integer within `range`, or nil when absent with no default.
    public func int(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        guard let s = string(name) else { return nil }
        guard let v = Int(s) else {
            throw UsageError("option '--\(name)' expects a whole number, got '\(s)'", command: command)
        }
        guard range.contains(v) else {
            throw UsageError(
                "option '--\(name)' must be in \(range.lowerBound)...\(range.upperBound), got \(v)", command: command)
        }
        return v
    }

    /// The option as a finite number within `range`, or nil when absent with no default.
    public func double(
        _ name: String, in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
    ) throws -> Double? {
        guard let s = string(name) else { return nil }
        guard let v = Double(s), v.isFinite else {
            throw UsageError("option '--\(name)' expects a finite number, got '\(s)'", command: command)
        }
        guard range.contains(v) else {
            throw UsageError(
                "option '--\(name)' must be in \(range.lowerBound)...\(range.upperBound), got \(v)", command: command)
        }
        return v
    }

    /// A comma-separated list option ("a,b,c"), empty items dropped.
    public func list(_ name: String) -> [String]? {
        string(name).map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    /// A required option's value.
    public func required(_ name: String) throws -> String {
        guard let v = string(name) else {
            throw UsageError("missing required option '--\(name)'", command: command)
        }
        return v
    }
}
