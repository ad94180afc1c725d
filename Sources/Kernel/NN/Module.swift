/// A tree of named parameters and sub-modules, the way Hugging Face and MLX name them.
///
/// A module owns parameters (`weight`, `bias`...) and children (`self_attn`, `mlp`, `layers.3`...). Names join
/// with dots, so a parameter is found by the same key a Hugging Face checkpoint uses:
/// `model.layers.3.self_attn.q_proj.weight`. That makes a tuning recipe a predicate on names
/// (`freeze(where:)`/`setTrainable(where:)`) and loading a checkpoint a lookup by name.
///
/// Children can be replaced by key (`replaceChild`, `replaceModule(at:with:)`), which is how strategies add
/// adapters or swap a feed-forward block for a mixture of experts without the model knowing about them.
open class Module {
    private var parameterEntries: [(key: String, tensor: Tensor)] = []
    private var childEntries: [(key: String, module: Module)] = []

    /// Training or evaluation mode (dropout, mixture routing). Set for a whole tree with `setTraining`.
    public private(set) var isTraining = true

    public init() {}

    // MARK: Building

    /// Registers (or replaces) a parameter under `key` (no dots).
    @discardableResult
    public func registerParameter(_ key: String, _ tensor: Tensor) -> Tensor {
        precondition(!key.contains("."), "Module: parameter key '\(key)' must not contain '.'")
        if let i = parameterEntries.firstIndex(where: { $0.key == key }) {
            parameterEntries[i].tensor = tensor
        } else {
            parameterEntries.append((key, tensor))
        }
        return tensor
    }

    /// Registers (or replaces) a child module under `key`. Keys may contain dots for list-like children
    /// (`layers.0`), but a lookup walks the tree one registered key at a time.
    @discardableResult
    public func registerChild<M: Module>(_ key: String, _ module: M) -> M {
        if let i = childEntries.firstIndex(where: { $0.key == key }) {
            childEntries[i].module = module
        } else {
            childEntries.append((key, module))
        }
        return module
    }

    /// The direct parameter registered under `key`.
    public func parameter(_ key: String) -> Tensor? { parameterEntries.first { $0.key == key }?.tensor }

    /// The direct child registered under `key`.
    public func child(_ key: String) -> Module? { childEntries.first { $0.key == key }?.module }

    /// Direct parameters in registration order.
    public var localParameters: [(key: String, tensor: Tensor)] { parameterEntries }

    /// Direct children in registration order.
    public var children: [(key: String, module: Module)] { childEntries }

    // MARK: Naming

    /// Every parameter of the tree with its dotted name, in a stable order (registration order, depth first).
    public func namedParameters(prefix: String = "") -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        collectParameters(prefix: prefix, into: &out)
        return out
    }

    private func collectParameters(prefix: String, into out: inout [(name: String, tensor: Tensor)]) {
        for (key, t) in parameterEntries { out.append((prefix + key, t)) }
        for (key, m) in childEntries { m.collectParameters(prefix: prefix + key + ".", into: &out) }
    }

    /// Every module of the tree with its dotted path ("" for self).
    public func namedModules(prefix: String = "") -> [(path: String, module: Module)] {
        var out: [(path: String, module: Module)] = [(prefix.isEmpty ? "" : String(prefix.dropLast()), self)]
        for (key, m) in childEntries { out += m.namedModules(prefix: prefix + key + ".") }
        return out
    }

    /// The module at a dotted path (`model.layers.3.mlp`), or nil.
    public func module(at path: String) -> Module? {
        if path.isEmpty { return self }
        // Child keys may themselves contain dots (`layers.3`): try the longest registered key prefix.
        for (key, m) in childEntries.sorted(by: { $0.key.count > $1.key.count }) {
            if path == key { return m }
            if path.hasPrefix(key + "."), let found = m.module(at: String(path.dropFirst(key.count + 1))) {
                return found
            }
        }
        return nil
    }

    /// Replaces the module at a dotted path. Throws if no module is registered there.
    public func replaceModule(at path: String, with module: Module) throws {
        for (parentPath, parent) in namedModules() {
            for (key, _) in parent.children where (parentPath.isEmpty ? key : parentPath + "." + key) == path {
                parent.registerChild(key, module)
                return
            }
        }
        throw ModuleError.noSuchModule(path: path, available: namedModules().map(\.path).filter { !$0.isEmpty })
    }

    /// The parameter with this dotted name, or nil.
    public func parameter(named name: String) -> Tensor? {
        namedParameters().first { $0.name == name }?.tensor
    }

    // MARK: Trainable or frozen

    /// Marks exactly the parameters whose name satisfies `predicate` as trainable; all others frozen.
    /// Returns the names made trainable.
    @discardableResult
    public func setTrainable(where predicate: (String) -> Bool) -> [String] {
        var names: [String] = []
        for (name, t) in namedParameters() {
            t.requiresGrad = predicate(name)
            if t.requiresGrad { names.append(name) }
        }
        return names
    }

    /// Freezes every parameter whose name satisfies `predicate`, leaving others as they are.
    public func freeze(where predicate: (String) -> Bool = { _ in true }) {
        for (name, t) in namedParameters() where predicate(name) { t.requiresGrad = false }
    }

    /// Parameters that currently train.
    public var trainableParameters: [(name: String, tensor: Tensor)] {
        namedParameters().filter { $0.tensor.requiresGrad }
    }

    /// (trainable, total) parameter element counts.
    public var parameterCounts: (trainable: Int, total: Int) {
        var trainable = 0
        var total = 0
        for (_, t) in namedParameters() {
            total += t.count
            if t.requiresGrad { trainable += t.count }
        }
        return (trainable, total)
    }

    /// Drops every accumulated gradient.
    public func zeroGrad() { for (_, t) in namedParameters() { t.grad = nil } }

    /// Sets training or evaluation mode for the whole tree.
    public func setTraining(_ training: Bool) {
        isTraining = training
        for (_, m) in childEntries { m.setTraining(training) }
    }

    // MARK: Loading and snapshots

    /// Copies values from `tensors` into the parameters of the same name. Shapes must match.
    /// - Parameter strict: when true, every parameter must be present in `tensors` and every entry of
    ///   `tensors` must name a parameter.
    public func load(_ tensors: [String: Tensor], strict: Bool = true, source: String = "tensors") throws {
        let params = namedParameters()
        var known = Set<String>()
        for (name, t) in params {
            known.insert(name)
            guard let src = tensors[name] else {
                if strict { throw ModuleError.missingTensor(name: name, source: source) }
                continue
            }
            guard src.shape == t.shape else {
                throw ModuleError.shapeMismatch(name: name, source: source, expected: t.shape, found: src.shape)
            }
            t.data.update(from: src.data, count: t.count)
        }
        if strict, let extra = tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw ModuleError.unexpectedTensor(name: extra, source: source)
        }
    }

    /// A deep copy of every parameter value, by name (for teachers, interpolation and checkpoints).
    public func parameterSnapshot() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, t) in namedParameters() { out[name] = t.detached() }
        return out
    }
}

public enum ModuleError: Error, CustomStringConvertible, Equatable {
    case noSuchModule(path: String, available: [String])
    case missingTensor(name: String, source: String)
    case unexpectedTensor(name: String, source: String)
    case shapeMismatch(name: String, source: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .noSuchModule(let path, let available):
            return "no module at '\(path)'; modules are: \(available.prefix(40).joined(separator: ", "))"
                + (available.count > 40 ? ", ... (\(available.count) in all)" : "")
        case .missingTensor(let name, let source):
            return "\(source): tensor '\(name)' is missing (the model needs it)"
        case .unexpectedTensor(let name, let source):
            return "\(source): tensor '\(name)' does not match any parameter of the model"
        case .shapeMismatch(let name, let source, let expected, let found):
            return "\(source): tensor '\(name)' has shape \(found), expected \(expected)"
        }
    }
}
