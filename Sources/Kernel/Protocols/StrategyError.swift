import Foundation

/// A strategy that cannot be applied to a model: what it would train or change is not there.
public enum StrategyError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// A selection (recipe, name pattern, adapter target) matched nothing in the model. `available` lists
    /// what the model's names look like (see `Module.parameterNameShapes`).
    case nothingSelected(strategy: String, selection: String, family: String, available: [String])
    /// The model's structure does not allow the strategy (e.g. a module of an unexpected type).
    case unsupportedModel(strategy: String, reason: String)

    public var description: String {
        switch self {
        case .nothingSelected(let strategy, let selection, let family, let available):
            let shown = available.prefix(60)
            return "strategy '\(strategy)': \(selection) matches nothing in this \(family) model. "
                + "Its names look like (N = any index): \(shown.joined(separator: ", "))"
                + (available.count > shown.count ? ", ... (\(available.count) in all)" : "") + "."
        case .unsupportedModel(let strategy, let reason):
            return "strategy '\(strategy)': \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
