import Foundation

/// Reads and writes numpy's `.npy` format (one array per file).
///
/// Reading accepts format versions 1.0, 2.0 and 3.0, little- and big-endian data, and C or Fortran order
/// (Fortran-order data is reordered to C order). The element types are float32 (`<f4`), float64 (`<f8`), int32
/// (`<i4`), int64 (`<i8`) and bool (`|b1`); float16 is widened to float32, int8/uint8/int16/uint16 to int32 and
/// uint32 to int64, all exactly. Anything else (uint64, complex, strings, objects, structured dtypes) is refused.
/// The claimed size is checked against the bytes actually present before anything is allocated.
///
/// Writing produces version 1.0 (2.0 when the header would exceed 65535 bytes), little-endian, C order, with
/// the data aligned to 64 bytes, exactly as `numpy.save` does.
public enum NPY {
    /// The six bytes every `.npy` file starts with: `\x93NUMPY`.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    /// Data offset alignment used when writing.
    static let alignment = 64

    /// Reads the `.npy` file at `path`.
    /// - Throws: `TensorError.file` naming the file and what is wrong with it.
    public static func read(_ path: String) throws -> NDArray {
        try decode(AtomicFile.read(path), path: path)
    }

    /// Decodes the bytes of an `.npy` file; `path` only names the source in errors.
    /// - Throws: `TensorError.file` when the bytes are not a well-formed `.npy` file of a supported type.
    public static func decode(_ data: Data, path: String = "<npy>") throws -> NDArray {
        try data.withUnsafeBytes { try decode(raw: $0, path: path) }
    }

    /// Writes `array` to `path` atomically; refuses to replace an existing file unless `overwrite` is true.
    /// - Throws: `TensorError.invalidShape` when the array's shape and values disagree, `TensorError.file` when
    ///   the file exists (without `overwrite`) or cannot be written.
    public static func write(_ array: NDArray, to path: String, overwrite: Bool = false) throws {
        try array.validate(context: "NPY.write(\(path))")
        try AtomicFile.write(encode(array), to: path, overwrite: overwrite)
    }

    /// Magic string, version, header length and the padded header dict of a C-order, little-endian array of
    /// `dtype` and `shape`: everything before the data. Version 1.0 unless the header needs 2.0.
    static func preamble(dtype: DType, shape: [Int]) -> Data {
        let descr: String
        switch dtype {
        case .float32: descr = "<f4"
        case .float64: descr = "<f8"
        case .int32: descr = "<i4"
        case .int64: descr = "<i8"
        case .bool: descr = "|b1"
        }
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        let dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        func header(prefix: Int) -> [UInt8] {
            let unpadded = prefix + dict.utf8.count + 1
            let pad = (alignment - unpadded % alignment) % alignment
            return Array(dict.utf8) + [UInt8](repeating: 0x20, count: pad) + [0x0A]
        }
        var out = Data(magic)
        var h = header(prefix: 10)
        if h.count <= Int(UInt16.max) {
            out.append(contentsOf: [1, 0])
            withUnsafeBytes(of: UInt16(h.count).littleEndian) { out.append(contentsOf: $0) }
        } else {
            h = header(prefix: 12)
            out.append(contentsOf: [2, 0])
            withUnsafeBytes(of: UInt32(h.count).littleEndian) { out.append(contentsOf: $0) }
        }
        out.append(contentsOf: h)
        return out
    }

    /// The bytes of an `.npy` file holding `array`. The array must be valid (see `NDArray.validate`).
    public static func encode(_ array: NDArray) -> Data {
        precondition((try? array.validate()) != nil, "NPY.encode: shape \(array.shape) does not describe \(array.count) values")
        var out = preamble(dtype: array.dtype, shape: array.shape)
        out.reserveCapacity(out.count + array.count * array.dtype.itemSize)
        StoredType.appendLittleEndian(array.values, to: &out)
        return out
    }

    // MARK: Decoding

    static func decode(raw: UnsafeRawBufferPointer, path: String) throws -> NDArray {
        func fail(_ message: String) -> TensorError { .file(path: path, message: message) }
        guard raw.count >= magic.count, raw.prefix(magic.count).elementsEqual(magic) else {
            throw fail(raw.count < magic.count && raw.elementsEqual(magic.prefix(raw.count))
                ? "is truncated: \(raw.count) bytes, not even the 6-byte .npy magic string"
                : "is not an .npy file (it does not start with the magic string \\x93NUMPY)")
        }
        guard raw.count >= 10 else { throw fail("is truncated: \(raw.count) bytes, too short for the .npy preamble") }
        let major = raw[6], minor = raw[7]
        let headerStart: Int, headerLength: Int
        switch (major, minor) {
        case (1, 0):
            headerStart = 10
            headerLength = Int(UInt16(raw[8]) | UInt16(raw[9]) << 8)
        case (2, 0), (3, 0):
            guard raw.count >= 12 else { throw fail("is truncated: \(raw.count) bytes, too short for the .npy \(major).0 preamble") }
            headerStart = 12
            headerLength = Int(UInt32(raw[8]) | UInt32(raw[9]) << 8 | UInt32(raw[10]) << 16 | UInt32(raw[11]) << 24)
        default:
            throw fail("has .npy format version \(major).\(minor); only 1.0, 2.0 and 3.0 are supported")
        }
        guard headerLength <= raw.count - headerStart else {
            throw fail("is truncated or corrupt: the header claims \(headerLength) bytes but only \(raw.count - headerStart) follow the preamble")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: raw[headerStart ..< headerStart + headerLength])
        guard isValidUTF8(headerBytes) else {
            throw fail("header is not valid UTF-8 text")
        }
        let header = try NPYHeader.parse(headerBytes, path: path)
        let dataStart = headerStart + headerLength
        let available = raw.count - dataStart
        guard let count = NDArray.elementCount(header.shape) else {
            throw fail("header shape \(header.shape) is too large: its element count overflows")
        }
        let (needed, overflow) = count.multipliedReportingOverflow(by: header.type.itemSize)
        guard !overflow, needed <= available else {
            throw fail("is truncated or corrupt: shape \(header.shape) of '\(header.descr)' needs \(overflow ? "more than \(Int.max)" : "\(needed)") data bytes but only \(available) follow the header")
        }
        guard needed == available else {
            throw fail("has \(available - needed) unexpected bytes after the data of shape \(header.shape) of '\(header.descr)'")
        }
        let body = UnsafeRawBufferPointer(rebasing: raw[dataStart ..< dataStart + needed])
        var values = header.type.decode(body, count: count, bigEndian: header.bigEndian)
        if header.fortranOrder { values = values.fortranToC(shape: header.shape) }
        return try NDArray(shape: header.shape, values: values)
    }
}

extension Tensor {
    /// Reads an `.npy` file, converting any supported numeric or boolean element type to `Scalar`.
    /// - Throws: `TensorError.file` naming the file and what is wrong with it.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func load(npy path: String) throws -> Tensor {
        try NPY.read(path).tensor(Scalar.self)
    }

    /// Writes this tensor as an `.npy` file (`<f4` for `Float`, `<f8` for `Double`), atomically; refuses to
    /// replace an existing file unless `overwrite` is true.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func save(npy path: String, overwrite: Bool = false) throws {
        try NPY.write(NDArray(self), to: path, overwrite: overwrite)
    }
}

// MARK: - Header

/// The parsed `.npy` header dictionary.
struct NPYHeader {
    var descr: String
    var type: StoredType
    var bigEndian: Bool
    var fortranOrder: Bool
    var shape: [Int]

    /// Parses the header, a Python dict literal such as `{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }`.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> NPYHeader {
        func fail(_ message: String) -> TensorError { .file(path: path, message: "malformed .npy header: \(message)") }
        var parser = PyLiteralParser(bytes: bytes, path: path)
        let literal = try parser.parseTopLevel()
        guard case let .dict(items) = literal else { throw fail("it is not a Python dict literal") }
        func value(_ key: String) throws -> PyLiteral {
            guard let v = items.last(where: { $0.key == .string(key) })?.value else { throw fail("it has no '\(key)' key") }
            return v
        }
        let descrValue = try value("descr")
        guard case let .string(descr) = descrValue else {
            throw TensorError.file(path: path, message: "has a structured dtype (descr \(descrValue)); only plain numeric and bool arrays are supported")
        }
        guard case let .bool(fortranOrder) = try value("fortran_order") else { throw fail("'fortran_order' is not True or False") }
        let shapeValue = try value("shape")
        let extents: [PyLiteral]
        switch shapeValue {
        case let .tuple(v), let .list(v): extents = v
        default: throw fail("'shape' is not a tuple (got \(shapeValue))")
        }
        var shape = [Int]()
        for e in extents {
            guard case let .int(d) = e else { throw fail("'shape' \(shapeValue) contains a non-integer") }
            guard d >= 0 else { throw TensorError.file(path: path, message: "header shape \(shapeValue) has a negative extent") }
            shape.append(d)
        }
        let (type, bigEndian) = try parseDescr(descr, path: path)
        return NPYHeader(descr: descr, type: type, bigEndian: bigEndian, fortranOrder: fortranOrder, shape: shape)
    }

    /// Maps a numpy type string such as `<f8` to the stored type and byte order.
    static func parseDescr(_ descr: String, path: String) throws -> (StoredType, Bool) {
        var s = Substring(descr)
        var bigEndian = false
        switch s.first {
        case "<": s = s.dropFirst()
        case ">": s = s.dropFirst(); bigEndian = true
        case "|", "=":
            s = s.dropFirst()
            #if _endian(big)
            bigEndian = true
            #endif
        default: break
        }
        let type: StoredType?
        switch s {
        case "f2", "e": type = .float16
        case "f4", "f": type = .float32
        case "f8", "d": type = .float64
        case "i1", "b": type = .int8
        case "u1", "B": type = .uint8
        case "i2", "h": type = .int16
        case "u2", "H": type = .uint16
        case "i4", "i": type = .int32
        case "u4", "I": type = .uint32
        case "i8", "q": type = .int64
        case "b1", "?": type = .bool
        default: type = nil
        }
        guard let type else {
            throw TensorError.file(path: path, message: "has dtype '\(descr)', which is not supported (supported: float16/32/64, int8/16/32/64, uint8/16/32, bool)")
        }
        return (type, type.itemSize == 1 ? false : bigEndian)
    }
}

/// The subset of Python literals that appears in `.npy` headers.
indirect enum PyLiteral: Equatable, CustomStringConvertible {
    case string(String), int(Int), bool(Bool), none
    case tuple([PyLiteral]), list([PyLiteral])
    case dict([(key: PyLiteral, value: PyLiteral)])

    static func == (a: PyLiteral, b: PyLiteral) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.none, .none): return true
        case let (.tuple(x), .tuple(y)), let (.list(x), .list(y)): return x == y
        case let (.dict(x), .dict(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    var description: String {
        switch self {
        case let .string(s): return "'\(s)'"
        case let .int(i): return String(i)
        case let .bool(b): return b ? "True" : "False"
        case .none: return "None"
        case let .tuple(v): return v.count == 1 ? "(\(v[0]),)" : "(" + v.map(\.description).joined(separator: ", ") + ")"
        case let .list(v): return "[" + v.map(\.description).joined(separator: ", ") + "]"
        case let .dict(v): return "{" + v.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A recursive-descent parser for Python literals (dicts, tuples, lists, strings, integers, True/False/None),
/// tolerant of whitespace, trailing commas and Python 2 `L` suffixes, with a nesting limit.
struct PyLiteralParser {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var pos = 0
    static let maxDepth = 32

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    func fail(_ message: String) -> TensorError {
        .file(path: path, message: "malformed .npy header: \(message) at byte \(pos) of the header")
    }

    /// Parses one literal that must be followed only by whitespace.
    mutating func parseTopLevel() throws -> PyLiteral {
        let v = try parseValue(depth: 0)
        skipSpace()
        guard pos == bytes.count else { throw fail("unexpected '\(Self.show(bytes[pos]))' after the dict") }
        return v
    }

    var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0C || c == 0x0B { pos += 1 }
    }

    static func show(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7F ? String(UnicodeScalar(c)) : String(format: "\\x%02x", c)
    }

    mutating func parseValue(depth: Int) throws -> PyLiteral {
        guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth) levels") }
        skipSpace()
        guard let c = peek else { throw fail("unexpected end of header") }
        switch c {
        case UInt8(ascii: "{"): return try parseDict(depth: depth)
        case UInt8(ascii: "("):
            let (items, trailingComma) = try parseSequence(close: UInt8(ascii: ")"), depth: depth)
            // `(x)` is just x in Python; `(x,)` and `()` are tuples.
            if items.count == 1 && !trailingComma { return items[0] }
            return .tuple(items)
        case UInt8(ascii: "["): return .list(try parseSequence(close: UInt8(ascii: "]"), depth: depth).items)
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .int(try parseInt())
        default:
            for (word, value) in [("True", PyLiteral.bool(true)), ("False", .bool(false)), ("None", .none)] where matches(word) {
                pos += word.utf8.count
                return value
            }
            throw fail("unexpected '\(Self.show(c))'")
        }
    }

    func matches(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard bytes.count - pos >= w.count else { return false }
        for i in 0..<w.count where bytes[pos + i] != w[i] { return false }
        // The word must not continue as an identifier (e.g. `Trueish`).
        if pos + w.count < bytes.count {
            let n = bytes[pos + w.count]
            if (n >= 0x41 && n <= 0x5A) || (n >= 0x61 && n <= 0x7A) || (n >= 0x30 && n <= 0x39) || n == 0x5F { return false }
        }
        return true
    }

    mutating func parseDict(depth: Int) throws -> PyLiteral {
        pos += 1  // {
        var items: [(key: PyLiteral, value: PyLiteral)] = []
        while true {
            skipSpace()
            guard let c = peek else { throw fail("unterminated dict") }
            if c == UInt8(ascii: "}") { pos += 1; return .dict(items) }
            let key = try parseValue(depth: depth + 1)
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw fail("expected ':' after dict key \(key)") }
            pos += 1
            let value = try parseValue(depth: depth + 1)
            items.append((key, value))
            skipSpace()
            guard let d = peek else { throw fail("unterminated dict") }
            if d == UInt8(ascii: ",") { pos += 1; continue }
            if d == UInt8(ascii: "}") { pos += 1; return .dict(items) }
            throw fail("expected ',' or '}' in dict, found '\(Self.show(d))'")
        }
    }

    /// Parses `(a, b, )` or `[a, b]`; reports whether the last item was followed by a comma.
    mutating func parseSequence(close: UInt8, depth: Int) throws -> (items: [PyLiteral], trailingComma: Bool) {
        pos += 1  // ( or [
        var items: [PyLiteral] = []
        var trailingComma = false
        while true {
            skipSpace()
            guard let c = peek else { throw fail("unterminated \(close == UInt8(ascii: ")") ? "tuple" : "list")") }
            if c == close { pos += 1; return (items, trailingComma) }
            items.append(try parseValue(depth: depth + 1))
            trailingComma = false
            skipSpace()
            guard let d = peek else { throw fail("unterminated \(close == UInt8(ascii: ")") ? "tuple" : "list")") }
            if d == UInt8(ascii: ",") { pos += 1; trailingComma = true; continue }
            if d == close { pos += 1; return (items, trailingComma) }
            throw fail("expected ',' or '\(Self.show(close))', found '\(Self.show(d))'")
        }
    }

    mutating func parseString() throws -> String {
        let quote = bytes[pos]
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw fail("unterminated string") }
            pos += 1
            if c == quote { break }
            if c == 0x0A { throw fail("newline inside a string") }
            if c == UInt8(ascii: "\\") {
                guard let e = peek else { throw fail("unterminated string") }
                pos += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "0"): out.append(0x00)
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
                default: out.append(UInt8(ascii: "\\")); out.append(e)
                }
            } else {
                out.append(c)
            }
        }
        guard isValidUTF8(out) else { throw fail("string is not valid UTF-8") }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func parseInt() throws -> Int {
        let start = pos
        var negative = false
        if peek == UInt8(ascii: "-") || peek == UInt8(ascii: "+") { negative = peek == UInt8(ascii: "-"); pos += 1 }
        var value = 0
        var digits = 0
        while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
            if o1 || o2 { pos = start; throw fail("integer too large") }
            value = a
            digits += 1
            pos += 1
        }
        guard digits > 0 else { throw fail("expected digits") }
        if let c = peek, c == UInt8(ascii: "L") || c == UInt8(ascii: "l") { pos += 1 }  // Python 2 long suffix
        if let c = peek, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "j") {
            throw fail("only integer numbers are expected")
        }
        return negative ? -value : value
    }
}
