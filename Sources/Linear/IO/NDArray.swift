import Foundation

/// The element types an `NDArray` can hold; the raw values are numpy's dtype names.
public enum DType: String, Sendable, CaseIterable {
    case float32, float64, int32, int64, bool

    /// Size of one element in bytes, as stored in `.npy` and `.safetensors` files.
    public var itemSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .bool: return 1
        }
    }
}

/// The elements of an `NDArray`, row-major, in one of the supported element types.
public enum NDValues: Sendable, Equatable {
    case float32([Float])
    case float64([Double])
    case int32([Int32])
    case int64([Int64])
    case bool([Bool])

    /// The element type.
    public var dtype: DType {
        switch self {
        case .float32: return .float32
        case .float64: return .float64
        case .int32: return .int32
        case .int64: return .int64
        case .bool: return .bool
        }
    }

    /// Number of elements.
    public var count: Int {
        switch self {
        case let .float32(v): return v.count
        case let .float64(v): return v.count
        case let .int32(v): return v.count
        case let .int64(v): return v.count
        case let .bool(v): return v.count
        }
    }
}

/// A framework-neutral n-dimensional array: a shape and row-major (C-order) values of one element type.
///
/// This is what the `.npy` and `.safetensors` readers return and the writers take. It holds integer and
/// boolean arrays (labels, masks) as well as floating-point ones; `tensor(_:)` converts any of them to a
/// `Tensor`, and `init(_:)` wraps a `Tensor`. Equal when shapes and elements are equal (NaN ≠ NaN).
public struct NDArray: Sendable, Equatable {
    /// Extent of each axis; `[]` is a scalar (one element).
    public var shape: [Int]
    /// The elements in row-major order; their count must be the product of `shape`.
    public var values: NDValues

    /// The element type.
    public var dtype: DType { values.dtype }
    /// Number of elements.
    public var count: Int { values.count }

    /// An array of the given shape and values; throws when an extent is negative or the counts differ.
    public init(shape: [Int], values: NDValues) throws {
        self.shape = shape
        self.values = values
        try validate(context: "NDArray(shape:values:)")
    }

    /// Wraps a tensor: a `Tensor<Float>` becomes `float32`, a `Tensor<Double>` `float64`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public init<S: BLASScalar>(_ tensor: Tensor<S>) {
        shape = tensor.shape
        if S.self == Float.self {
            values = .float32(tensor.withUnsafeBufferPointer { b in b.withMemoryRebound(to: Float.self) { Array($0) } })
        } else if S.self == Double.self {
            values = .float64(tensor.withUnsafeBufferPointer { b in b.withMemoryRebound(to: Double.self) { Array($0) } })
        } else {
            values = .float64(tensor.cast(to: Double.self).scalars)
        }
    }

    /// Throws `TensorError.invalidShape` (prefixed by `context`) unless the shape is valid and describes exactly
    /// `values.count` elements.
    public func validate(context: String = "NDArray") throws {
        for (i, d) in shape.enumerated() where d < 0 {
            throw TensorError.invalidShape("\(context): shape \(shape) has a negative extent at axis \(i)")
        }
        guard let n = NDArray.elementCount(shape) else {
            throw TensorError.invalidShape("\(context): the element count of shape \(shape) overflows Int")
        }
        guard n == values.count else {
            throw TensorError.invalidShape("\(context): shape \(shape) holds \(n) elements but there are \(values.count) values")
        }
    }

    /// The elements as a tensor of `S`, converting any element type: integers are rounded to the nearest `S`
    /// (int64 magnitudes above 2^53, or 2^24 for `Float`, lose precision) and booleans become 0 and 1.
    /// Throws `TensorError.invalidShape` when `shape` and `values` disagree.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func tensor<S: BLASScalar>(_: S.Type = S.self) throws -> Tensor<S> {
        try validate(context: "NDArray.tensor")
        guard NDArray.nonZeroProduct(shape) != nil else {
            throw TensorError.invalidShape("NDArray.tensor: shape \(shape) cannot be a tensor: the product of its non-zero extents overflows Int")
        }
        func convert<T>(_ v: [T], _ f: (T) -> S) -> Tensor<S> {
            Tensor<S>(unsafeUninitializedShape: shape) { p, n in
                v.withUnsafeBufferPointer { src in for i in 0..<n { p[i] = f(src[i]) } }
            }
        }
        switch values {
        case let .float32(v):
            if S.self == Float.self { return try Tensor<Float>(v, shape: shape).cast(to: S.self) }
            return convert(v) { S($0) }
        case let .float64(v):
            if S.self == Double.self { return try Tensor<Double>(v, shape: shape).cast(to: S.self) }
            return convert(v) { S($0) }
        case let .int32(v): return convert(v) { S($0) }
        case let .int64(v): return convert(v) { S($0) }
        case let .bool(v): return convert(v) { $0 ? 1 : 0 }
        }
    }

    /// The elements as integers, for label and index arrays: int32 and int64 values as they are, booleans as
    /// 0 and 1. Floating-point arrays are accepted when every element is an integer (e.g. labels saved as
    /// float64); otherwise throws `TensorError.invalidArgument` naming the first element that is not.
    public func integers() throws -> [Int] {
        /// Each element as an Int, or an error naming the first one that has no exact Int value.
        func exact<T>(_ v: [T], _ convert: (T) -> Int?, _ problem: String) throws -> [Int] {
            var out = [Int]()
            out.reserveCapacity(v.count)
            for (i, x) in v.enumerated() {
                guard let k = convert(x) else {
                    throw TensorError.invalidArgument("NDArray.integers: element \(i) (\(x)) \(problem)")
                }
                out.append(k)
            }
            return out
        }
        let notInteger = "of a \(dtype.rawValue) array is not an integer"
        switch values {
        case let .float32(v): return try exact(v, { Int(exactly: $0) }, notInteger)
        case let .float64(v): return try exact(v, { Int(exactly: $0) }, notInteger)
        case let .int32(v): return v.map { Int($0) }
        case let .int64(v): return try exact(v, { Int(exactly: $0) }, "does not fit in Int")
        case let .bool(v): return v.map { $0 ? 1 : 0 }
        }
    }

    /// The product of `shape`, or nil when an extent is negative or the product overflows `Int`.
    /// A zero extent anywhere gives 0 even if the other extents alone would overflow.
    static func elementCount(_ shape: [Int]) -> Int? {
        if shape.contains(where: { $0 < 0 }) { return nil }
        if shape.contains(0) { return 0 }
        return nonZeroProduct(shape)
    }

    /// The product of the non-zero extents, or nil when it overflows `Int`. A `Tensor` (its element count, strides
    /// and row sizes) multiplies extents in any order, so an empty array such as (2⁴⁰, 2⁴⁰, 0) — valid as an
    /// `NDArray` — cannot become a `Tensor`: 2⁸⁰ would trap on the way.
    static func nonZeroProduct(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape where d != 0 {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }
}

// MARK: - Shared element codec for the file formats

/// An element encoding found in a file, and the `DType` it is read as. Narrow integers are widened to
/// int32 (uint32 to int64) and half-precision floats (IEEE float16, bfloat16) to float32, all exactly.
enum StoredType: Sendable, Equatable {
    case float16, bfloat16, float32, float64, int8, uint8, int16, uint16, int32, uint32, int64, bool

    /// The stored type that writes `dtype` without conversion.
    init(_ dtype: DType) {
        switch dtype {
        case .float32: self = .float32
        case .float64: self = .float64
        case .int32: self = .int32
        case .int64: self = .int64
        case .bool: self = .bool
        }
    }

    /// Bytes per element in the file.
    var itemSize: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .float16, .bfloat16, .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64: return 8
        }
    }

    /// The in-memory element type it is read as.
    var dtype: DType {
        switch self {
        case .float16, .bfloat16, .float32: return .float32
        case .float64: return .float64
        case .int8, .uint8, .int16, .uint16, .int32: return .int32
        case .uint32, .int64: return .int64
        case .bool: return .bool
        }
    }

    /// Decodes `count` elements from `raw`, which must hold at least `count · itemSize` bytes (callers check).
    func decode(_ raw: UnsafeRawBufferPointer, count: Int, bigEndian: Bool) -> NDValues {
        precondition(raw.count >= count * itemSize, "StoredType.decode: \(raw.count) bytes for \(count) elements of \(self)")
        switch self {
        case .float16: return .float32(load(raw, count, bigEndian) { (b: UInt16) in halfToFloat(b) })
        case .bfloat16: return .float32(load(raw, count, bigEndian) { (b: UInt16) in Float(bitPattern: UInt32(b) << 16) })
        case .float32: return .float32(load(raw, count, bigEndian) { (b: UInt32) in Float(bitPattern: b) })
        case .float64: return .float64(load(raw, count, bigEndian) { (b: UInt64) in Double(bitPattern: b) })
        case .int8: return .int32(load(raw, count, bigEndian) { (b: UInt8) in Int32(Int8(bitPattern: b)) })
        case .uint8: return .int32(load(raw, count, bigEndian) { (b: UInt8) in Int32(b) })
        case .int16: return .int32(load(raw, count, bigEndian) { (b: UInt16) in Int32(Int16(bitPattern: b)) })
        case .uint16: return .int32(load(raw, count, bigEndian) { (b: UInt16) in Int32(b) })
        case .int32: return .int32(load(raw, count, bigEndian) { (b: UInt32) in Int32(bitPattern: b) })
        case .uint32: return .int64(load(raw, count, bigEndian) { (b: UInt32) in Int64(b) })
        case .int64: return .int64(load(raw, count, bigEndian) { (b: UInt64) in Int64(bitPattern: b) })
        case .bool: return .bool(load(raw, count, bigEndian) { (b: UInt8) in b != 0 })
        }
    }

    /// Reads `count` unaligned `Bits` from `raw` in the given byte order and converts each.
    @inline(__always)
    private func load<Bits: FixedWidthInteger, T>(_ raw: UnsafeRawBufferPointer, _ count: Int, _ bigEndian: Bool,
                                                  _ convert: (Bits) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buf, n in
            let size = MemoryLayout<Bits>.size
            for i in 0..<count {
                let b = raw.loadUnaligned(fromByteOffset: i &* size, as: Bits.self)
                buf.initializeElement(at: i, to: convert(bigEndian ? Bits(bigEndian: b) : Bits(littleEndian: b)))
            }
            n = count
        }
    }

    /// Appends `values` to `data` little-endian in their own type (`StoredType(values.dtype)`).
    static func appendLittleEndian(_ values: NDValues, to data: inout Data) {
        func append<T, Bits: FixedWidthInteger>(_ v: [T], _ bits: (T) -> Bits) {
            #if _endian(little)
            if MemoryLayout<T>.size == MemoryLayout<Bits>.size {
                v.withUnsafeBytes { data.append(contentsOf: $0) }
                return
            }
            #endif
            data.reserveCapacity(data.count + v.count * MemoryLayout<Bits>.size)
            for x in v { withUnsafeBytes(of: bits(x).littleEndian) { data.append(contentsOf: $0) } }
        }
        switch values {
        case let .float32(v): append(v) { $0.bitPattern }
        case let .float64(v): append(v) { $0.bitPattern }
        case let .int32(v): append(v) { UInt32(bitPattern: $0) }
        case let .int64(v): append(v) { UInt64(bitPattern: $0) }
        case let .bool(v): data.append(contentsOf: v.map { $0 ? UInt8(1) : 0 })
        }
    }
}

/// IEEE 754 binary16 to `Float`, exactly (subnormals, infinities and NaN payloads included).
func halfToFloat(_ h: UInt16) -> Float {
    let sign: UInt32 = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1f)
    let mantissa = UInt32(h & 0x3ff)
    if exponent == 0 {
        let magnitude = Float(mantissa) * 0x1p-24
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }
    return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
}

/// Reorders column-major (Fortran-order) elements of `shape` into row-major (C) order.
func fortranToC<T>(_ src: [T], shape: [Int]) -> [T] {
    let rank = shape.count
    let n = src.count
    guard rank > 1, n > 1 else { return src }
    var fstride = [Int](repeating: 1, count: rank)
    for i in 1..<rank { fstride[i] = fstride[i - 1] * shape[i - 1] }
    var index = [Int](repeating: 0, count: rank)
    var offset = 0
    var out = [T]()
    out.reserveCapacity(n)
    for _ in 0..<n {
        out.append(src[offset])
        var axis = rank - 1
        while axis >= 0 {
            index[axis] += 1
            offset += fstride[axis]
            if index[axis] < shape[axis] { break }
            offset -= fstride[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
    return out
}

extension NDValues {
    /// The same values reordered from Fortran to C order for `shape`.
    func fortranToC(shape: [Int]) -> NDValues {
        switch self {
        case let .float32(v): return .float32(Linear.fortranToC(v, shape: shape))
        case let .float64(v): return .float64(Linear.fortranToC(v, shape: shape))
        case let .int32(v): return .int32(Linear.fortranToC(v, shape: shape))
        case let .int64(v): return .int64(Linear.fortranToC(v, shape: shape))
        case let .bool(v): return .bool(Linear.fortranToC(v, shape: shape))
        }
    }
}

/// True when `bytes` are well-formed UTF-8 (portable: does not need the Swift 6 `String(validating:)`).
func isValidUTF8<C: Sequence>(_ bytes: C) -> Bool where C.Element == UInt8 {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}
