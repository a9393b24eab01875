/// An n-dimensional array of `Float` or `Double`: row-major, contiguous, with value semantics.
///
/// Copies share storage until one of them is written (copy-on-write), so passing tensors around is cheap.
/// Shapes follow numpy: `[]` is a scalar (one element), `[n]` a vector, `[rows, cols]` a matrix.
/// Operations that can receive incompatible shapes throw `TensorError`, naming both shapes.
public struct Tensor<Scalar: BLASScalar>: @unchecked Sendable {
    /// The shared, copy-on-write buffer.
    @usableFromInline var storage: TensorStorage<Scalar>
    /// Extent of each axis.
    public let shape: [Int]

    /// Wraps existing storage; `shape` must describe exactly `storage.count` elements. `package`, like the storage's
    /// pointer.
    @inlinable
    package init(storage: TensorStorage<Scalar>, shape: [Int]) {
        precondition(shape.reduce(1, *) == storage.count, "Tensor: shape \(shape) does not match \(storage.count) elements")
        self.storage = storage
        self.shape = shape
    }

    /// A tensor of the given shape whose elements are not yet set; `body` must initialise all of them.
    @inlinable
    public init(unsafeUninitializedShape shape: [Int], initializingWith body: (UnsafeMutablePointer<Scalar>, Int) throws -> Void) rethrows {
        let n = shape.reduce(1, *)
        let s = TensorStorage<Scalar>(uninitializedCount: n)
        try body(s.pointer, n)
        self.storage = s
        self.shape = shape
    }

    /// Creates a tensor from row-major `scalars` and a `shape`; throws when the counts differ.
    @inlinable
    public init(_ scalars: [Scalar], shape: [Int]) throws {
        try Tensor.checkShape(shape)
        let n = shape.reduce(1, *)
        guard n == scalars.count else {
            throw TensorError.invalidShape("Tensor(_:shape:): shape \(shape) holds \(n) elements but \(scalars.count) were given")
        }
        self.init(unsafeUninitializedShape: shape) { p, _ in
            scalars.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: n) }
        }
    }

    /// A vector from an array.
    @inlinable
    public init(_ scalars: [Scalar]) {
        let n = scalars.count
        self.init(unsafeUninitializedShape: [n]) { p, _ in
            if n > 0 { scalars.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: n) } }
        }
    }

    /// A matrix from nested rows; throws when the rows are ragged.
    @inlinable
    public init(rows: [[Scalar]]) throws {
        let cols = rows.first?.count ?? 0
        for (i, r) in rows.enumerated() where r.count != cols {
            throw TensorError.invalidShape("Tensor(rows:): row \(i) has \(r.count) elements, row 0 has \(cols)")
        }
        try self.init(rows.flatMap { $0 }, shape: [rows.count, cols])
    }

    /// A rank-0 tensor holding one value.
    @inlinable
    public init(scalar: Scalar) {
        self.init(storage: TensorStorage(repeating: scalar, count: 1), shape: [])
    }

    /// Throws unless every extent is non-negative.
    @inlinable
    public static func checkShape(_ shape: [Int]) throws {
        for (i, d) in shape.enumerated() where d < 0 {
            throw TensorError.invalidShape("shape \(shape) has a negative extent at axis \(i)")
        }
    }

    // MARK: Properties

    /// Number of axes.
    @inlinable public var rank: Int { shape.count }
    /// Number of elements (the product of the shape).
    @inlinable public var count: Int { storage.count }
    /// Row-major strides in elements.
    @inlinable public var strides: [Int] { Tensor.contiguousStrides(shape) }
    /// The elements in row-major order, as an array.
    @inlinable public var scalars: [Scalar] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }
    /// The single element of a one-element tensor.
    @inlinable public var scalar: Scalar {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements, not 1")
        return storage.pointer[0]
    }

    @inlinable
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    // MARK: Raw access

    /// Calls `body` with a buffer over the elements (row-major).
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count)) }
    }

    /// Calls `body` with a mutable buffer over the elements, copying the storage first if it is shared.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        makeUnique()
        return try withExtendedLifetime(storage) { try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count)) }
    }

    /// Ensures this tensor is the only owner of its storage.
    @inlinable
    public mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// True when no other tensor shares this one's buffer, so writing to it will not copy (for in-place kernels
    /// that may reuse an operand's storage).
    @inlinable
    public mutating func isStorageUniquelyReferenced() -> Bool { isKnownUniquelyReferenced(&storage) }

    /// True when this tensor and `other` share one buffer (a copy not yet written to).
    @inlinable
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }

    // MARK: Element access

    @inlinable
    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor subscript: \(index.count) indices for a rank-\(shape.count) tensor of shape \(shape)")
        var flat = 0
        for i in 0..<index.count {
            var ix = index[i]
            if ix < 0 { ix += shape[i] }
            precondition(ix >= 0 && ix < shape[i], "Tensor subscript: index \(index[i]) out of range for axis \(i) of shape \(shape)")
            flat = flat * shape[i] + ix
        }
        return flat
    }

    /// The element at a multi-index (negative indices count from the end, as in numpy).
    @inlinable
    public subscript(_ index: Int...) -> Scalar {
        get { storage.pointer[flatIndex(index)] }
        set { let f = flatIndex(index); makeUnique(); storage.pointer[f] = newValue }
    }

    /// The element at a multi-index given as an array.
    @inlinable
    public subscript(index index: [Int]) -> Scalar {
        get { storage.pointer[flatIndex(index)] }
        set { let f = flatIndex(index); makeUnique(); storage.pointer[f] = newValue }
    }

    /// Converts to the other precision (or copies).
    @inlinable
    public func cast<T: BLASScalar>(to: T.Type = T.self) -> Tensor<T> {
        Tensor<T>(unsafeUninitializedShape: shape) { dst, n in
            let src = storage.pointer
            if T.self == Scalar.self {
                UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n &* MemoryLayout<T>.stride)
            } else {
                for i in 0..<n { dst[i] = T(src[i]) }
            }
        }
    }
}

extension Tensor: Equatable {
    /// Equal when shapes and every element are equal (NaN ≠ NaN, as for scalars).
    @inlinable
    public static func == (a: Tensor, b: Tensor) -> Bool {
        guard a.shape == b.shape else { return false }
        if a.storage === b.storage { return !a.scalars.contains { $0.isNaN } }
        let p = a.storage.pointer, q = b.storage.pointer
        for i in 0..<a.count where p[i] != q[i] { return false }
        return true
    }
}

extension Tensor: CustomStringConvertible {
    /// A numpy-like rendering; large tensors are summarised.
    public var description: String {
        if rank == 0 { return "\(scalar)" }
        let maxShown = 6
        func fmt(_ x: Scalar) -> String {
            let d = Double(x)
            if d == d.rounded() && Swift.abs(d) < 1e6 { return String(format: "%.1f", d) }
            return String(format: "%.5g", d)
        }
        func render(_ axis: Int, _ offset: Int) -> String {
            let n = shape[axis]
            let stride = strides[axis]
            var parts: [String] = []
            let idx: [Int] = n > maxShown ? Array(0..<3) + [-1] + Array((n - 3)..<n) : Array(0..<n)
            for i in idx {
                if i < 0 { parts.append("..."); continue }
                if axis == rank - 1 { parts.append(fmt(storage.pointer[offset + i])) }
                else { parts.append(render(axis + 1, offset + i * stride)) }
            }
            let sep = axis == rank - 1 ? ", " : ",\n" + String(repeating: " ", count: axis + 1)
            return "[" + parts.joined(separator: sep) + "]"
        }
        return "Tensor<\(Scalar.dtypeName)>\(shape)\n" + render(0, 0)
    }
}

import Foundation
