/// The heap buffer behind a `Tensor`: `count` scalars in 64-byte-aligned memory.
///
/// A `Tensor` is a value type that shares one storage between copies and copies it on the first write
/// (copy-on-write through `isKnownUniquelyReferenced`), exactly as `Array` does.
public final class TensorStorage<Scalar: BLASScalar>: @unchecked Sendable {
    /// The first element. Aligned to 64 bytes (one cache line, the widest SIMD register).
    public let pointer: UnsafeMutablePointer<Scalar>
    /// Number of elements.
    public let count: Int

    /// Allocates uninitialised storage for `count` elements (a zero count still allocates one cache line).
    @inlinable
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        let bytes = Swift.max(count, 1) * MemoryLayout<Scalar>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        self.pointer = raw.bindMemory(to: Scalar.self, capacity: Swift.max(count, 1))
        self.count = count
    }

    /// Allocates storage with every element set to `value`.
    @inlinable
    public convenience init(repeating value: Scalar, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    /// A new storage holding a copy of this one's elements.
    @inlinable
    public func copy() -> TensorStorage {
        let s = TensorStorage(uninitializedCount: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }

    deinit {
        UnsafeMutableRawPointer(pointer).deallocate()
    }
}
