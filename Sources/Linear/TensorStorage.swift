/// The heap buffer behind a `Tensor`: `count` scalars in 64-byte-aligned memory.
///
/// A `Tensor` is a value type that shares one storage between copies and copies it on the first write
/// (copy-on-write through `isKnownUniquelyReferenced`), exactly as `Array` does.
public final class TensorStorage<Scalar: BLASScalar>: @unchecked Sendable {
    /// The first element. Aligned to 64 bytes (one cache line, the widest SIMD register). `package`: raw memory
    /// stays inside this package (modules outside it use `Tensor.withUnsafeBufferPointer`).
    @usableFromInline package let pointer: UnsafeMutablePointer<Scalar>
    /// Number of elements.
    public let count: Int
    /// The block as allocated (`pointer` is the first 64-byte boundary in it).
    @usableFromInline let base: UnsafeMutableRawPointer

    /// Allocates uninitialised storage for `count` elements (a zero count still allocates one cache line).
    ///
    /// The block is a plain (16-byte aligned) allocation 64 bytes longer than the data, and `pointer` the first
    /// 64-byte boundary in it. An aligned allocation (`posix_memalign`) would ask glibc for size + alignment +
    /// header each time, which a freed block of the same tensor size cannot serve: a loop that allocates one large
    /// result per call then grew the heap by a new block for each of its first six or seven calls (each paying its
    /// page faults: lift-core at 20 000 × 1024 took 98 ms per call instead of 19 ms) before freed blocks had merged
    /// into ones large enough. Equal requests now reuse a freed block at once.
    @inlinable
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        let bytes = Swift.max(count, 1) * MemoryLayout<Scalar>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes + 64, alignment: 16)
        let aligned = (Int(bitPattern: raw) + 63) & ~63
        self.base = raw
        self.pointer = (raw + (aligned - Int(bitPattern: raw))).bindMemory(to: Scalar.self, capacity: Swift.max(count, 1))
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
        base.deallocate()
    }
}
