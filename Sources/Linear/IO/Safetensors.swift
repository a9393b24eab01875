import Foundation

/// A `.safetensors` file: named arrays plus string metadata.
///
/// The format is an 8-byte little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}}`,
/// then the data buffer; offsets are relative to the start of the buffer and data is little-endian, row-major.
///
/// Reading accepts the dtypes F32, F64, I32, I64 and BOOL; F16 and BF16 are widened to float32, I8/U8/I16/U16 to
/// int32 and U32 to int64, all exactly; others (U64, F8 variants, complex) are refused. Every entry is checked:
/// known dtype, non-negative shape, offsets inside the buffer, `end − begin` equal to the element count times
/// the item size (so an absurd shape is refused before anything is allocated), no two tensors overlapping.
/// Gaps between tensors are tolerated. Metadata values must be strings.
///
/// Writing stores the tensors contiguously in sorted name order, pads the header with spaces to a multiple of
/// 8 bytes, and writes atomically.
public struct SafetensorsFile: Sendable, Equatable {
    /// The arrays, by name.
    public var tensors: [String: NDArray]
    /// Free-form string metadata (the `__metadata__` entry).
    public var metadata: [String: String]

    /// A file holding `tensors` and `metadata`.
    public init(tensors: [String: NDArray] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The reserved header key holding the metadata.
    static let metadataKey = "__metadata__"

    /// Reads the `.safetensors` file at `path`.
    /// - Throws: `TensorError.file` naming the file and what is wrong with it.
    public static func read(_ path: String) throws -> SafetensorsFile {
        try decode(AtomicFile.read(path), path: path)
    }

    /// Decodes the bytes of a `.safetensors` file; `path` only names the source in errors.
    /// - Throws: `TensorError.file` when the bytes are not a well-formed `.safetensors` file of supported dtypes.
    public static func decode(_ data: Data, path: String = "<safetensors>") throws -> SafetensorsFile {
        try data.withUnsafeBytes { try decode(raw: $0, path: path) }
    }

    /// The tensor called `name` converted to `S` (see `NDArray.tensor`).
    /// - Throws: `TensorError.invalidArgument` listing the available names when there is no such tensor.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func tensor<S: BLASScalar>(_ name: String, as _: S.Type = S.self) throws -> Tensor<S> {
        guard let a = tensors[name] else {
            throw TensorError.invalidArgument("SafetensorsFile: no tensor named '\(name)' (available: \(tensors.keys.sorted().joined(separator: ", ")))")
        }
        return try a.tensor(S.self)
    }

    /// The bytes of the file.
    /// - Throws: `TensorError.invalidShape` when an array's shape and values disagree,
    ///   `TensorError.invalidArgument` when a tensor is named `__metadata__`.
    public func encode() throws -> Data {
        let names = tensors.keys.sorted()
        var json = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(metadata[$0] ?? ""))" }
            fields.append("\(JSONText.quoted(Self.metadataKey)):{\(items.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            guard name != Self.metadataKey else {
                throw TensorError.invalidArgument("SafetensorsFile.encode: a tensor cannot be named '\(Self.metadataKey)' (that key holds the metadata)")
            }
            guard let a = tensors[name] else { continue }
            try a.validate(context: "SafetensorsFile.encode: tensor '\(name)'")
            let bytes = a.count * a.dtype.itemSize
            let shape = a.shape.map(String.init).joined(separator: ",")
            fields.append("\(JSONText.quoted(name)):{\"dtype\":\"\(Self.code(a.dtype))\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        json += fields.joined(separator: ",") + "}"
        var header = Array(json.utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        var out = Data()
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for name in names { if let a = tensors[name] { StoredType.appendLittleEndian(a.values, to: &out) } }
        return out
    }

    /// Writes the file to `path` atomically; refuses to replace an existing file unless `overwrite` is true.
    public func write(to path: String, overwrite: Bool = false) throws {
        try AtomicFile.write(encode(), to: path, overwrite: overwrite)
    }

    // MARK: Codes

    /// The safetensors dtype code written for `dtype`.
    static func code(_ dtype: DType) -> String {
        switch dtype {
        case .float32: return "F32"
        case .float64: return "F64"
        case .int32: return "I32"
        case .int64: return "I64"
        case .bool: return "BOOL"
        }
    }

    /// The stored type for a safetensors dtype code, or nil when it is not supported.
    static func storedType(_ code: String) -> StoredType? {
        switch code {
        case "F16": return .float16
        case "BF16": return .bfloat16
        case "F32": return .float32
        case "F64": return .float64
        case "I8": return .int8
        case "U8": return .uint8
        case "I16": return .int16
        case "U16": return .uint16
        case "I32": return .int32
        case "U32": return .uint32
        case "I64": return .int64
        case "BOOL": return .bool
        default: return nil
        }
    }

    // MARK: Decoding

    static func decode(raw: UnsafeRawBufferPointer, path: String) throws -> SafetensorsFile {
        func fail(_ message: String) -> TensorError { .file(path: path, message: message) }
        guard raw.count >= 8 else {
            throw fail("is truncated: \(raw.count) bytes, too short for the 8-byte .safetensors header length")
        }
        let claimed = raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard claimed <= UInt64(raw.count - 8) else {
            throw fail("is truncated or not a .safetensors file: the header length is \(claimed) bytes but only \(raw.count - 8) follow")
        }
        let headerLength = Int(claimed)
        let headerBytes = UnsafeRawBufferPointer(rebasing: raw[8 ..< 8 + headerLength])
        guard isValidUTF8(headerBytes) else { throw fail("header is not valid UTF-8 text") }
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: Data(headerBytes))
        } catch {
            throw fail("header is not valid JSON")
        }
        guard case let .object(entries) = json else { throw fail("header is not a JSON object") }

        let buffer = UnsafeRawBufferPointer(rebasing: raw[(8 + headerLength)...])
        var file = SafetensorsFile()
        var spans: [(begin: Int, end: Int, name: String)] = []
        for name in entries.keys.sorted() {
            guard let entry = entries[name] else { continue }
            if name == metadataKey {
                guard case let .object(items) = entry else { throw fail("'\(metadataKey)' is not a JSON object") }
                for (k, v) in items {
                    guard case let .string(s) = v else { throw fail("metadata value for key '\(k)' is not a string") }
                    file.metadata[k] = s
                }
                continue
            }
            func bad(_ what: String) -> TensorError { fail("tensor '\(name)': \(what)") }
            guard case let .object(fields) = entry else { throw bad("entry is not a JSON object") }
            guard case let .string(code)? = fields["dtype"] else { throw bad("missing or non-string 'dtype'") }
            guard let type = storedType(code) else {
                throw bad("dtype '\(code)' is not supported (supported: F16, BF16, F32, F64, I8, U8, I16, U16, I32, U32, I64, BOOL)")
            }
            guard case let .array(shapeValues)? = fields["shape"] else { throw bad("missing or non-array 'shape'") }
            var shape = [Int]()
            for v in shapeValues {
                guard case let .int(d) = v else { throw bad("'shape' contains a value that is not an integer") }
                guard d >= 0 else { throw bad("shape \(JSONValue.array(shapeValues)) has a negative extent") }
                shape.append(d)
            }
            guard case let .array(offsets)? = fields["data_offsets"], offsets.count == 2,
                  case let .int(begin) = offsets[0], case let .int(end) = offsets[1], begin >= 0, end >= 0 else {
                throw bad("'data_offsets' is not a pair of non-negative integers")
            }
            guard begin <= end, end <= buffer.count else {
                throw bad("data_offsets [\(begin), \(end)] are outside the \(buffer.count)-byte data buffer (truncated file?)")
            }
            guard let count = NDArray.elementCount(shape) else { throw bad("shape \(shape) is too large: its element count overflows") }
            let (needed, overflow) = count.multipliedReportingOverflow(by: type.itemSize)
            guard !overflow, needed == end - begin else {
                throw bad("shape \(shape) of \(code) needs \(overflow ? "more than \(Int.max)" : "\(needed)") bytes but data_offsets [\(begin), \(end)] span \(end - begin)")
            }
            let body = UnsafeRawBufferPointer(rebasing: buffer[begin ..< end])
            let values = type.decode(body, count: count, bigEndian: false)
            file.tensors[name] = try NDArray(shape: shape, values: values)
            if end > begin { spans.append((begin, end, name)) }
        }
        spans.sort { $0.begin < $1.begin }
        for i in spans.indices.dropFirst() where spans[i].begin < spans[i - 1].end {
            throw fail("tensors '\(spans[i - 1].name)' and '\(spans[i].name)' overlap in the data buffer")
        }
        return file
    }
}

