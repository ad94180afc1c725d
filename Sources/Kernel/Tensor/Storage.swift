/// A contiguous, 64-byte aligned buffer of `Float`s, owned by one or more tensors (views share it).
///
/// Kernels read and write it through `pointer`; nothing here is bounds-checked, so callers keep to `count`.
public final class Storage {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Allocates `count` floats, zero-filled.
    public init(count: Int) {
        precondition(count >= 0, "Storage count must be non-negative, got \(count)")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// Allocates and copies `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// A new storage holding the same values.
    public func copy() -> Storage {
        let s = Storage(count: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
