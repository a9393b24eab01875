import Foundation

/// Reads the rows of a large C-order `.npy` file a block at a time, so a file bigger than memory can be processed.
///
/// Only the header is parsed on open; `rows(_:)` seeks and decodes just the requested rows (the first axis).
public final class NPYReader {
    public let path: String
    /// The array's full shape.
    public let shape: [Int]
    /// Rows (extent of the first axis) and elements per row.
    public let rowCount: Int
    public let rowElements: Int
    let header: NPYHeader
    let dataStart: UInt64
    let handle: FileHandle

    /// Opens `path` and validates its header and size.
    public init(_ path: String) throws {
        self.path = path
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw TensorError.file(path: path, message: FileManager.default.fileExists(atPath: path) ? "cannot be opened for reading" : "no such file")
        }
        handle = h
        func fail(_ m: String) -> TensorError { .file(path: path, message: m) }
        let pre = try h.read(upToCount: 12) ?? Data()
        guard pre.count >= 10, pre.prefix(6).elementsEqual(NPY.magic) else { throw fail("is not an .npy file (bad or truncated magic string)") }
        let major = pre[pre.startIndex + 6]
        let headerStart: Int, headerLength: Int
        switch major {
        case 1:
            headerStart = 10
            headerLength = Int(pre[pre.startIndex + 8]) | Int(pre[pre.startIndex + 9]) << 8
        case 2, 3:
            guard pre.count >= 12 else { throw fail("is truncated in its preamble") }
            headerStart = 12
            headerLength = (0..<4).reduce(0) { $0 | Int(pre[pre.startIndex + 8 + $1]) << (8 * $1) }
        default:
            throw fail("has .npy format version \(major); only 1.0, 2.0 and 3.0 are supported")
        }
        let size = try h.seekToEnd()
        guard UInt64(headerStart + headerLength) <= size else { throw fail("is truncated: the header runs past the end of the file") }
        try h.seek(toOffset: UInt64(headerStart))
        let headerData = try h.read(upToCount: headerLength) ?? Data()
        header = try headerData.withUnsafeBytes { try NPYHeader.parse($0, path: path) }
        guard !header.fortranOrder else { throw fail("is in Fortran order, which cannot be streamed by rows; load it whole instead") }
        shape = header.shape
        guard let total = NDArray.elementCount(shape), NDArray.nonZeroProduct(shape) != nil else { throw fail("header shape \(shape) is too large") }
        rowCount = shape.first ?? 1
        rowElements = shape.isEmpty ? 1 : shape.dropFirst().reduce(1, *)
        dataStart = UInt64(headerStart + headerLength)
        let (needed, overflow) = total.multipliedReportingOverflow(by: header.type.itemSize)
        guard !overflow, UInt64(needed) == size - dataStart else {
            throw fail("is truncated or corrupt: shape \(shape) of '\(header.descr)' needs \(needed) data bytes but \(size - dataStart) follow the header")
        }
    }

    deinit { try? handle.close() }

    /// True when the file stores 32-bit or narrower floats (float16/bfloat16/float32), so reading rows as `Float`
    /// loses nothing.
    public var storesSinglePrecision: Bool { [.float16, .bfloat16, .float32].contains(header.type) }

    /// True when the file stores float64 (`<f8` or `>f8`), as `NPYWriter` writes.
    public var storesDouble: Bool { header.type == .float64 }

    /// Rows `range` (of the first axis) as a tensor of shape [range.count] + shape[1...].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func rows<S: BLASScalar>(_ range: Range<Int>, as _: S.Type = S.self) throws -> Tensor<S> {
        guard range.lowerBound >= 0, range.upperBound <= rowCount else {
            throw TensorError.invalidShape("\(path): rows \(range) are out of range for \(rowCount) rows")
        }
        let itemSize = header.type.itemSize
        let count = range.count * rowElements
        try handle.seek(toOffset: dataStart + UInt64(range.lowerBound * rowElements * itemSize))
        let bytes = try handle.read(upToCount: count * itemSize) ?? Data()
        guard bytes.count == count * itemSize else { throw TensorError.file(path: path, message: "is truncated: rows \(range) could not be read") }
        let values = bytes.withUnsafeBytes { header.type.decode($0, count: count, bigEndian: header.bigEndian) }
        var s = shape
        if s.isEmpty { s = [1] }
        s[0] = range.count
        return try NDArray(shape: s, values: values).tensor(S.self)
    }
}

/// Writes a float64 (or, with `dtype: .float32`, float32) `.npy` file of known shape a block of rows at a time,
/// atomically: the data goes to a temporary file that `finish()` flushes and moves into place (refusing to replace
/// an existing file unless `overwrite`). A writer dropped before `finish()` leaves nothing behind.
public final class NPYWriter {
    public let path: String
    public let shape: [Int]
    /// float64 (the default) or float32.
    public let dtype: DType
    let rowElements: Int
    let overwrite: Bool
    let temporary: String
    var handle: FileHandle?
    public private(set) var rowsWritten = 0

    /// Starts a file of `shape` (rows along the first axis).
    public init(_ path: String, shape: [Int], dtype: DType = .float64, overwrite: Bool = false) throws {
        guard let first = shape.first, first >= 0, shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape("NPYWriter: invalid shape \(shape)")
        }
        guard dtype == .float64 || dtype == .float32 else { throw TensorError.invalidArgument("NPYWriter: dtype \(dtype.rawValue) is not float32 or float64") }
        self.dtype = dtype
        _ = first
        if FileManager.default.fileExists(atPath: path) && !overwrite {
            throw TensorError.file(path: path, message: "already exists; refusing to overwrite it (pass overwrite: true, or --force on the command line)")
        }
        self.path = path; self.shape = shape; self.overwrite = overwrite
        rowElements = shape.dropFirst().reduce(1, *)
        temporary = AtomicFile.temporaryPath(for: path)
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let h = FileHandle(forWritingAtPath: temporary) else {
            throw TensorError.file(path: path, message: "cannot be written (is the directory there and writable?)")
        }
        handle = h
        try h.write(contentsOf: NPY.preamble(dtype: dtype, shape: shape))
    }

    /// Appends rows [m] + shape[1...] (converted to the file's dtype).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func append<S: BLASScalar>(_ rows: Tensor<S>) throws {
        guard let h = handle else { throw TensorError.file(path: path, message: "writer already finished") }
        guard rows.rank == shape.count, Array(rows.shape.dropFirst()) == Array(shape.dropFirst()) else {
            throw TensorError.shapeMismatch(operation: "NPYWriter.append (rows of \(Array(shape.dropFirst())))", lhs: shape, rhs: rows.shape)
        }
        guard rowsWritten + rows.shape[0] <= shape[0] else {
            throw TensorError.invalidShape("NPYWriter: \(rowsWritten + rows.shape[0]) rows exceed the declared \(shape[0])")
        }
        if dtype == .float32 {
            let f: Tensor<Float> = rows.cast()
            try f.withUnsafeBufferPointer { try h.write(contentsOf: Data(buffer: $0)) }
        } else {
            let d: Tensor<Double> = rows.cast()
            try d.withUnsafeBufferPointer { try h.write(contentsOf: Data(buffer: $0)) }
        }
        rowsWritten += rows.shape[0]
    }

    /// Flushes and moves the file into place; throws unless every declared row was written.
    public func finish() throws {
        guard let h = handle else { return }
        guard rowsWritten == shape[0] else {
            throw TensorError.invalidShape("NPYWriter: \(rowsWritten) of \(shape[0]) rows written; the file was not finished")
        }
        try h.synchronize()
        try h.close()
        handle = nil
        try AtomicFile.place(temporary: temporary, at: path, overwrite: overwrite)
    }

    deinit {
        if let h = handle { try? h.close(); unlink(temporary) }
    }
}
