extension Module {
    /// The parameter names with every all-digit path component replaced by `N`, without repeats, in first-seen
    /// order: a compact picture of a model's names (`model.layers.N.self_attn.q_proj.weight`) for messages
    /// that must say what the names look like.
    public var parameterNameShapes: [String] { nameShapes(namedParameters().map(\.name)) }
}

/// `names` with every all-digit dotted component replaced by `N`, without repeats, in first-seen order.
public func nameShapes(_ names: [String]) -> [String] {
    var seen = Set<String>()
    var out: [String] = []
    for name in names {
        let shape = name.split(separator: ".", omittingEmptySubsequences: false)
            .map { $0.allSatisfy(\.isNumber) && !$0.isEmpty ? "N" : String($0) }
            .joined(separator: ".")
        if seen.insert(shape).inserted { out.append(shape) }
    }
    return out
}
