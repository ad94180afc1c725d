extension Tensor {
    /// The sum of all elements, a scalar. Accumulated in Double for accuracy; deterministic.
    public func sum() -> Tensor {
        var s = 0.0
        for i in 0..<count { s += Double(data[i]) }
        let out = Tensor(scalar: Float(s))
        Autograd.record(out, inputs: [self], op: "sum") { [self] dOut in
            let g = gradStorage(), d = dOut[0]
            for i in 0..<count { g[i] += d }
        }
        return out
    }
}
