extension Tensor {
    /// The sum of all elements, a scalar. Accumulated in Double for accuracy; deterministic.
    public func sum() -> Tensor {
        let out = Tensor(scalar: Float(sumInDouble(data, count)))
        Autograd.record(out, inputs: [self], op: "sum") { [self] dOut in
            let g = gradStorage()
            let d = dOut[0]
            for i in 0..<count { g[i] += d }
        }
        return out
    }
}
