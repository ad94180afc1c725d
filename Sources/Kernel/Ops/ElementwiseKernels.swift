/// The two drivers behind every elementwise op: `mapElements` (unary) and `mapBroadcast` (binary with
/// broadcasting). An op supplies only its per-element math as a small kernel type; the drivers run it in
/// one fused pass over raw pointers (parallel when large) and record a backward pass that is one fused
/// pass too. Kernels are generic parameters, not closures, so the compiler specializes and vectorizes
/// each loop.

/// Per-element math of a unary op y = f(x).
protocol UnaryElementKernel {
    /// Whether `derivative` reads the output y. Only then is the output's storage kept for backward.
    static var derivativeNeedsOutput: Bool { get }
    func value(_ x: Float) -> Float
    /// dy/dx at input `x` whose output is `y` (`y` is meaningless unless `derivativeNeedsOutput`).
    func derivative(_ x: Float, _ y: Float) -> Float
}

extension UnaryElementKernel {
    static var derivativeNeedsOutput: Bool { false }
}

/// Per-element math of a binary op y = f(a, b).
protocol BinaryElementKernel {
    static func value(_ a: Float, _ b: Float) -> Float
    /// g * df/da.
    static func gradientA(_ a: Float, _ b: Float, _ g: Float) -> Float
    /// g * df/db.
    static func gradientB(_ a: Float, _ b: Float, _ g: Float) -> Float
}

/// y[i] = kernel.value(x[i]), differentiable.
func mapElements<K: UnaryElementKernel>(_ x: Tensor, _ kernel: K, op: String) -> Tensor {
    let out = Tensor(uninitialized: x.shape)
    let n = x.count
    let source = x.data
    let destination = out.data
    Parallel.forRanges(n, minimumPerChunk: elementwiseParallelGrain) { r in
        for i in r { destination[i] = kernel.value(source[i]) }
    }
    guard Autograd.needsGrad([x]) else { return out }
    // Keep the output's storage rather than the tensor: the tensor owns this closure (no cycle).
    let keptOutput: Storage? = K.derivativeNeedsOutput ? out.storage : nil
    Autograd.record(out, inputs: [x], op: op) { g in
        let (gx, accumulate) = x.gradStorageForUpdate()
        let xs = x.data
        let ys = keptOutput?.pointer ?? xs
        Parallel.forRanges(n, minimumPerChunk: elementwiseParallelGrain) { r in
            if accumulate {
                for i in r { gx[i] += g[i] * kernel.derivative(xs[i], ys[i]) }
            } else {
                for i in r { gx[i] = g[i] * kernel.derivative(xs[i], ys[i]) }
            }
        }
    }
    return out
}

/// out = f(a, b) with NumPy broadcasting, differentiable. Each input's gradient is summed over the
/// dimensions along which it was broadcast.
func mapBroadcast<K: BinaryElementKernel>(_ a: Tensor, _ b: Tensor, _ kernel: K.Type, op: String) -> Tensor {
    let plan = BroadcastPlan(a.shape, b.shape, op: op)
    let out = Tensor(uninitialized: plan.outShape)  // every row is written
    let pa = a.data
    let pb = b.data
    let po = out.data
    let sa = plan.innerStrideA
    let sb = plan.innerStrideB
    plan.forEachRow { start, n, offsetA, offsetB in
        let ra = pa + offsetA
        let rb = pb + offsetB
        let ro = po + start
        if sa == 1 && sb == 1 {
            for j in 0..<n { ro[j] = K.value(ra[j], rb[j]) }
        } else if sa == 1 {
            let bv = rb[0]
            for j in 0..<n { ro[j] = K.value(ra[j], bv) }
        } else if sb == 1 {
            let av = ra[0]
            for j in 0..<n { ro[j] = K.value(av, rb[j]) }
        } else {
            let v = K.value(ra[0], rb[0])
            for j in 0..<n { ro[j] = v }
        }
    }
    Autograd.record(out, inputs: [a, b], op: op) { g in
        if a.requiresGrad {
            let (target, accumulate) = broadcastGradientTarget(a, plan)
            accumulateBroadcastGradient(
                GradientOfA<K>.self, plan, into: target, accumulate: accumulate,
                count: a.count, a: pa, b: pb, g: g)
        }
        if b.requiresGrad {
            let (target, accumulate) = broadcastGradientTarget(b, plan)
            accumulateBroadcastGradient(
                GradientOfB<K>.self, plan, into: target, accumulate: accumulate,
                count: b.count, a: pa, b: pb, g: g)
        }
    }
    return out
}

/// Which operand's gradient a backward loop computes, as a type so that the loop is fully specialized
/// (a closure argument here is not reliably inlined through the nested row closures).
protocol BroadcastGradientSide {
    static var isA: Bool { get }
    static func gradient(_ a: Float, _ b: Float, _ g: Float) -> Float
}

enum GradientOfA<K: BinaryElementKernel>: BroadcastGradientSide {
    static var isA: Bool { true }
    @inline(__always) static func gradient(_ a: Float, _ b: Float, _ g: Float) -> Float { K.gradientA(a, b, g) }
}

enum GradientOfB<K: BinaryElementKernel>: BroadcastGradientSide {
    static var isA: Bool { false }
    @inline(__always) static func gradient(_ a: Float, _ b: Float, _ g: Float) -> Float { K.gradientB(a, b, g) }
}

/// The gradient buffer of an operand: one that was not broadcast gets each element from exactly one output
/// element, so a new buffer is written, not zero-filled (accumulate false); a broadcast one is summed into.
private func broadcastGradientTarget(_ t: Tensor, _ plan: BroadcastPlan) -> (UnsafeMutablePointer<Float>, Bool) {
    t.count == plan.outCount ? t.gradStorageForUpdate() : (t.gradStorage(), true)
}

/// target += S.gradient(a, b, g) (or = when not `accumulate`, only for a target as large as the output),
/// summed over the broadcast dimensions of the target operand.
private func accumulateBroadcastGradient<S: BroadcastGradientSide>(
    _ side: S.Type, _ plan: BroadcastPlan, into target: UnsafeMutablePointer<Float>, accumulate: Bool, count: Int,
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, g: UnsafePointer<Float>
) {
    let sa = plan.innerStrideA
    let sb = plan.innerStrideB
    let st = S.isA ? sa : sb
    // A target as large as the output gets each element from exactly one output element, so its rows
    // can run in parallel; a broadcast target is summed serially, in a fixed order (deterministic).
    let parallel = count == plan.outCount
    plan.forEachRow(parallel: parallel) { start, n, offsetA, offsetB in
        let ra = a + offsetA
        let rb = b + offsetB
        let rg = g + start
        let t = target + (S.isA ? offsetA : offsetB)
        if st == 0 {
            var sum: Float = 0
            for j in 0..<n { sum += S.gradient(ra[j * sa], rb[j * sb], rg[j]) }
            t[0] = accumulate ? t[0] + sum : sum  // not accumulating only when one element feeds t[0]
        } else if !accumulate {
            if sa == 1 && sb == 1 {
                for j in 0..<n { t[j] = S.gradient(ra[j], rb[j], rg[j]) }
            } else if sa == 1 {
                let bv = rb[0]
                for j in 0..<n { t[j] = S.gradient(ra[j], bv, rg[j]) }
            } else {
                let av = ra[0]
                for j in 0..<n { t[j] = S.gradient(av, rb[j], rg[j]) }
            }
        } else if sa == 1 && sb == 1 {
            for j in 0..<n { t[j] += S.gradient(ra[j], rb[j], rg[j]) }
        } else if sa == 1 {
            let bv = rb[0]
            for j in 0..<n { t[j] += S.gradient(ra[j], bv, rg[j]) }
        } else {
            let av = ra[0]
            for j in 0..<n { t[j] += S.gradient(av, rb[j], rg[j]) }
        }
    }
}
