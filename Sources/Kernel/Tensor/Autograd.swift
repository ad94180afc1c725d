/// Reverse-mode automatic differentiation over a dynamic graph.
///
/// Every op builds its output eagerly, then calls `Autograd.record` with its inputs and a backward closure.
/// The closure receives the output's gradient and *adds* into the gradients of those inputs that
/// `requiresGrad` (via `input.gradStorage()`), skipping the rest: a frozen weight costs nothing in backward.
///
///     let y = matmul(x, w)          // records a node if x or w requires grad
///     let loss = y.sum()
///     loss.backward()               // fills w.grad (and x.grad) if they require grad
public enum Autograd {
    /// Whether ops record the graph. Off inside `withNoGrad`.
    nonisolated(unsafe) public private(set) static var isEnabled = true

    /// Runs `body` without recording any graph (evaluation, generation, optimizer updates).
    @discardableResult
    public static func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
        let previous = isEnabled
        isEnabled = false
        defer { isEnabled = previous }
        return try body()
    }

    /// Whether an op over `inputs` must be recorded.
    @inline(__always)
    public static func needsGrad(_ inputs: [Tensor]) -> Bool {
        guard isEnabled else { return false }
        for t in inputs where t.requiresGrad { return true }
        return false
    }

    /// Records that `output` was computed from `inputs`. `backward` is called once during the backward pass
    /// with the output's gradient (same count as `output`) and must accumulate into the inputs' gradients.
    /// Does nothing (and `output` stays a leaf that does not require grad) when no input requires grad
    /// or the graph is disabled.
    public static func record(
        _ output: Tensor, inputs: [Tensor], op: String,
        backward: @escaping (_ gradOutput: UnsafeMutablePointer<Float>) -> Void
    ) {
        guard needsGrad(inputs) else { return }
        output.requiresGrad = true
        output.gradFn = GradFn(op: op, inputs: inputs, backward: backward)
    }

    /// Records that `output` is a view of `input`'s values (same element count and order, e.g. a reshape).
    /// In backward the gradient is handed over without copying when `input` has none yet (the buffer becomes
    /// the input's gradient); otherwise `backward` adds it as usual.
    public static func recordView(
        _ output: Tensor, of input: Tensor, op: String,
        backward: @escaping (_ gradOutput: UnsafeMutablePointer<Float>) -> Void
    ) {
        precondition(
            output.count == input.count, "recordView: \(op) output \(output.shape) is not a view of \(input.shape)")
        guard needsGrad([input]) else { return }
        output.requiresGrad = true
        output.gradFn = GradFn(op: op, inputs: [input], backward: backward, isView: true)
    }
}

/// One recorded operation: what it read and how to send a gradient back to it.
final class GradFn {
    let op: String
    var inputs: [Tensor]
    var backward: ((UnsafeMutablePointer<Float>) -> Void)?
    /// Whether the output is a view of the single input (see `Autograd.recordView`).
    let isView: Bool

    init(
        op: String, inputs: [Tensor], backward: @escaping (UnsafeMutablePointer<Float>) -> Void,
        isView: Bool = false
    ) {
        self.op = op
        self.inputs = inputs
        self.backward = backward
        self.isView = isView
    }
}

extension Tensor {
    /// Back-propagates from this scalar: `grad` of every tensor it depends on that requires grad is
    /// increased by d(self)/d(tensor). The graph is released afterwards (call the forward again to rebuild).
    public func backward() {
        precondition(count == 1, "backward() needs a scalar (one element), got shape \(shape)")
        backward(seed: Tensor(filled: 1, shape: shape))
    }

    /// Back-propagates with an explicit output gradient `seed` (same shape as this tensor).
    public func backward(seed: Tensor) {
        precondition(seed.shape == shape, "backward(seed:): seed shape \(seed.shape) != tensor shape \(shape)")
        guard requiresGrad else { return }
        let order = topologicalOrder()
        let g = gradStorage()
        for i in 0..<count { g[i] += seed.data[i] }
        for t in order.reversed() {
            guard let fn = t.gradFn, let grad = t.grad else { continue }
            if fn.isView, let input = fn.inputs.first, input.grad == nil {
                // Hand the buffer over: t's gradient is complete and t drops it just below.
                input.grad = Tensor(shape: input.shape, storage: grad.storage)
            } else {
                fn.backward?(grad.data)
            }
            // Free the graph as we go: intermediate activations and their gradients are released.
            fn.backward = nil
            fn.inputs = []
            t.gradFn = nil
            t.grad = nil
        }
    }

    /// Tensors reachable from self through recorded ops, inputs before outputs.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative DFS: graphs of deep models would overflow the stack with recursion.
        var stack: [(Tensor, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (t, next) = stack.popLast() {
            let inputs = t.gradFn?.inputs ?? []
            if next < inputs.count {
                stack.append((t, next + 1))
                let child = inputs[next]
                if child.requiresGrad && visited.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                order.append(t)
            }
        }
        return order
    }
}
