/// A float32 tensor: contiguous row-major storage and a shape, plus what reverse-mode autograd needs.
///
/// Tensors are reference types so that the autograd graph can point at them. A tensor that `requiresGrad`
/// collects its gradient in `grad` when `backward()` runs on a scalar that depends on it. A *leaf* tensor
/// with `requiresGrad == true` is a trainable parameter; set it to `false` to freeze the parameter: backward
/// then never computes anything for it (not even the weight-gradient matmul).
public final class Tensor {
    /// The dimensions, outermost first. A scalar has shape `[]`.
    public let shape: [Int]
    /// The element count, the product of `shape`.
    public let count: Int
    /// The values. Views made by `reshaped` share it.
    public let storage: Storage

    /// Whether a gradient flows to (and, for leaves, accumulates in) this tensor.
    public var requiresGrad: Bool

    /// The accumulated gradient, same shape; `nil` until a backward pass reaches this tensor.
    public var grad: Tensor?

    /// The recorded operation that produced this tensor (nil for leaves and under no-grad).
    internal var gradFn: GradFn?

    /// An optional name, used by error messages and parameter listings.
    public var name: String?

    public init(shape: [Int], storage: Storage, requiresGrad: Bool = false) {
        let n = Tensor.elementCount(shape)
        precondition(storage.count == n, "Tensor: storage has \(storage.count) elements, shape \(shape) needs \(n)")
        self.shape = shape
        self.count = n
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, storage: Storage(count: Tensor.elementCount(shape)), requiresGrad: requiresGrad)
    }

    /// A tensor whose values are not set: for op outputs that a kernel overwrites entirely.
    public convenience init(uninitialized shape: [Int], requiresGrad: Bool = false) {
        self.init(
            shape: shape, storage: Storage(uninitializedCount: Tensor.elementCount(shape)),
            requiresGrad: requiresGrad)
    }

    /// A tensor holding `values` (row-major) with the given shape.
    public convenience init(shape: [Int], values: [Float], requiresGrad: Bool = false) {
        precondition(
            values.count == Tensor.elementCount(shape),
            "Tensor: \(values.count) values do not fill shape \(shape)")
        self.init(shape: shape, storage: Storage(values), requiresGrad: requiresGrad)
    }

    /// A scalar tensor.
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init(shape: [], values: [scalar], requiresGrad: requiresGrad)
    }

    /// A tensor filled with one value.
    public convenience init(filled value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(zeros: shape, requiresGrad: requiresGrad)
        data.update(repeating: value, count: count)
    }

    public static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "Tensor: negative dimension in shape \(shape)")
            n *= d
        }
        return n
    }

    /// Raw access for kernels.
    @inline(__always) public var data: UnsafeMutablePointer<Float> { storage.pointer }

    public var rank: Int { shape.count }

    /// The values as an array (a copy).
    public var array: [Float] { storage.array }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "Tensor.item: tensor of shape \(shape) has \(count) elements, expected 1")
        return data[0]
    }

    /// The size of dimension `axis`; negative axes count from the end.
    public func dim(_ axis: Int) -> Int { shape[normalizedAxis(axis)] }

    public func normalizedAxis(_ axis: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "axis \(axis) out of range for shape \(shape)")
        return a
    }

    /// A copy of the values that takes no part in the graph.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage.copy()) }

    /// Whether this tensor was produced by a recorded operation.
    public var isLeaf: Bool { gradFn == nil }

    /// The gradient buffer, allocated (zero-filled) on first use.
    public func gradStorage() -> UnsafeMutablePointer<Float> {
        if let g = grad { return g.data }
        let g = Tensor(zeros: shape)
        grad = g
        return g.data
    }

    /// The gradient buffer for a backward pass that sets every element: `accumulate` is false when the
    /// gradient did not exist yet (the buffer is new and NOT zeroed: write into it, do not add), true when
    /// it did (add into it). Saves zero-filling a buffer only to add into it once.
    public func gradStorageForUpdate() -> (pointer: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if let g = grad { return (g.data, true) }
        let g = Tensor(uninitialized: shape)
        grad = g
        return (g.data, false)
    }

    /// Drops the accumulated gradient.
    public func zeroGrad() { grad = nil }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown =
            count <= 16
            ? array.map { String($0) }.joined(separator: ", ")
            : array.prefix(8).map { String($0) }.joined(separator: ", ") + ", ..."
        return "Tensor\(name.map { " '\($0)'" } ?? "")(shape: \(shape), [\(shown)])"
    }
}
