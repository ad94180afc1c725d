import Foundation
import Kernel

/// Which parameters train: a study recipe, or regular expressions on full parameter names.
///
/// `apply(to:strategy:)` makes exactly the selected parameters trainable and freezes all others; a
/// selection that matches nothing (the `vision` recipe on a text-only model, a mistyped pattern) is an error
/// that shows what the model's names look like.
public struct TrainableSelection {
    /// In words, for messages: "recipe 'mlp' (names model.layers.N.{...})" or "pattern 'self_attn.(q|v)_proj'".
    public let description: String
    /// Recipes select by a parameter's name in the component scheme (`Backbone.componentPath`), patterns by its
    /// full name.
    private let byComponentName: Bool
    /// Parts that must each match at least one parameter (one per pattern; one for a recipe).
    private let parts: [(description: String, matches: (String) -> Bool)]

    /// Whether the parameter trains.
    public func contains(_ parameter: ParameterShape) -> Bool {
        let name = byComponentName ? parameter.componentName : parameter.name
        return parts.contains { $0.matches(name) }
    }

    /// The parameters of a study recipe.
    public static func recipe(_ recipe: ComponentRecipe) -> TrainableSelection {
        let text = "recipe '\(recipe.name)' (\(recipe.selection))"
        return TrainableSelection(description: text, byComponentName: true, parts: [(text, recipe.trains)])
    }

    /// The parameters whose full name contains a match of any of `patterns` (ICU regular expressions, searched
    /// anywhere in the name like Python's `re.search`; anchor with `^`/`$`). Throws for an invalid pattern.
    public static func patterns(_ patterns: [String]) throws -> TrainableSelection {
        precondition(!patterns.isEmpty, "TrainableSelection.patterns: needs at least one pattern")
        var parts: [(String, (String) -> Bool)] = []
        for pattern in patterns {
            let regex: NSRegularExpression
            do {
                regex = try NSRegularExpression(pattern: pattern)
            } catch {
                throw PatternError(pattern: pattern)
            }
            parts.append(
                (
                    "pattern '\(pattern)'",
                    { name in
                        regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
                    }
                ))
        }
        return TrainableSelection(
            description: patterns.count == 1
                ? "pattern '\(patterns[0])'" : "patterns " + patterns.map { "'\($0)'" }.joined(separator: ", "),
            byComponentName: false, parts: parts)
    }

    /// A pattern NSRegularExpression rejects.
    public struct PatternError: Error, CustomStringConvertible {
        public let pattern: String
        public var description: String { "'\(pattern)' is not a valid regular expression" }
    }

    /// Makes exactly the selected parameters of `model` trainable and freezes the rest; returns the trainable
    /// names. Throws `StrategyError.nothingSelected` if the selection, or one of its patterns, matches no
    /// parameter (nothing is changed then).
    @discardableResult
    public func apply(to model: any Backbone, strategy: String) throws -> [String] {
        let names = model.namedParameters().map { byComponentName ? model.componentPath($0.name) : $0.name }
        for part in parts where !names.contains(where: part.matches) {
            throw StrategyError.nothingSelected(
                strategy: strategy, selection: part.description, family: model.family,
                available: model.parameterNameShapes)
        }
        let byComponent = byComponentName
        return model.setTrainable { name in
            let key = byComponent ? model.componentPath(name) : name
            return parts.contains { $0.matches(key) }
        }
    }
}

/// Splits a list of regular expressions at the commas that are not inside (), [] or {} and not escaped, so
/// `self_attn.(q|v)_proj,mlp.down_proj` gives two patterns and `layers.[0-9]{1,2}.mlp` stays one.
public func splitPatternList(_ text: String) -> [String] {
    var out: [String] = []
    var current = ""
    var depth = 0
    var escaped = false
    for ch in text {
        if escaped {
            current.append(ch)
            escaped = false
            continue
        }
        switch ch {
        case "\\":
            escaped = true
            current.append(ch)
        case "(", "[", "{":
            depth += 1
            current.append(ch)
        case ")", "]", "}":
            depth = max(0, depth - 1)
            current.append(ch)
        case "," where depth == 0:
            out.append(current)
            current = ""
        default: current.append(ch)
        }
    }
    out.append(current)
    return out.map { $0.trimmingCharacters(in: .whitespaces) }
}
