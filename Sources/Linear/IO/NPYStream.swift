import Foundation

/// Reads the rows of a large `.npy` file a block at a time, so a file bigger than memory can be processed.
///
/// Only the header is parsed on open; `rows(_:)` seeks and decodes just the requested rows (the first axis).
/// Fortran-order (column-major) files are streamed too: element (i, j) of an n×m file lies at j·n + i, so the
/// rows i₀..<i₁ are one run of i₁ − i₀ items in each of the m columns. Columns are read in spans of at most
/// `fortranSpanBytes` (a bounded buffer), each span is gathered into the block's column-major layout and the
/// block is reordered to C order. A Fortran file of at most `fortranCacheBytes` is read once and kept, so that
/// reading it a row at a time (a trajectory) costs one read, not one pass per row.
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
    /// The whole data section of a small Fortran-order file, read on first use.
    var fortranCache: Data?

    /// Bytes read per span of columns from a large Fortran-order file.
    public static let fortranSpanBytes = 8 << 20
    /// Fortran-order files with at most this many data bytes are read whole on first use.
    public static let fortranCacheBytes = 256 << 20

    /// Data bytes up to which a Fortran-order file is read whole on first use (`fortranCacheBytes` by default).
    public var fortranCacheLimit = NPYReader.fortranCacheBytes
    /// Bytes per span of columns read from a larger Fortran-order file (`fortranSpanBytes` by default).
    public var fortranSpanLimit = NPYReader.fortranSpanBytes

    /// True when the file is in Fortran (column-major) order.
    public var fortranOrder: Bool { header.fortranOrder }

    /// Opens `path` and validates its header and size.
    public init(_ path: String) throws {
        self.path = path
        try FileKind.requireRegularFile(path)
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
        var s = shape
        if s.isEmpty { s = [1] }
        s[0] = range.count
        if header.fortranOrder && s.count > 1 && count > 0 {
            let bytes = try fortranBlock(range)
            let values = bytes.withUnsafeBytes { header.type.decode($0, count: count, bigEndian: header.bigEndian) }
            return try NDArray(shape: s, values: values.fortranToC(shape: s)).tensor(S.self)
        }
        try handle.seek(toOffset: dataStart + UInt64(range.lowerBound * rowElements * itemSize))
        let bytes = try readExactly(count * itemSize, what: "rows \(range)")
        let values = bytes.withUnsafeBytes { header.type.decode($0, count: count, bigEndian: header.bigEndian) }
        return try NDArray(shape: s, values: values).tensor(S.self)
    }

    /// `byteCount` bytes from the current offset (retrying short reads), or an error naming the file.
    func readExactly(_ byteCount: Int, what: String) throws -> Data {
        var bytes = Data()
        while bytes.count < byteCount {
            guard let more = try handle.read(upToCount: byteCount - bytes.count), !more.isEmpty else { break }
            bytes.append(more)
        }
        guard bytes.count == byteCount else { throw TensorError.file(path: path, message: "is truncated: \(what) could not be read") }
        return bytes
    }

    /// The bytes of rows `range` of a Fortran-order file in the block's own column-major layout: for each of the
    /// `rowElements` columns (the trailing axes in Fortran order), the items of rows `range`.
    func fortranBlock(_ range: Range<Int>) throws -> Data {
        let itemSize = header.type.itemSize
        let n = rowCount, c = range.count, m = rowElements
        var out = Data(count: c * m * itemSize)
        let columnBytes = n * itemSize
        if fortranCache == nil && n * m * itemSize <= fortranCacheLimit {
            try handle.seek(toOffset: dataStart)
            fortranCache = try readExactly(n * m * itemSize, what: "the data")
        }
        out.withUnsafeMutableBytes { dst in
            if let cache = fortranCache {
                cache.withUnsafeBytes { src in
                    for j in 0..<m {
                        memcpy(dst.baseAddress! + j * c * itemSize, src.baseAddress! + (j * n + range.lowerBound) * itemSize, c * itemSize)
                    }
                }
            }
        }
        if fortranCache != nil { return out }
        // Spans of whole columns, at most fortranSpanBytes each (one column at least).
        let columnsPerSpan = Swift.max(1, fortranSpanLimit / Swift.max(1, columnBytes))
        var j0 = 0
        while j0 < m {
            let j1 = Swift.min(m, j0 + columnsPerSpan)
            let first = j0 * n + range.lowerBound
            let last = (j1 - 1) * n + range.upperBound
            try handle.seek(toOffset: dataStart + UInt64(first * itemSize))
            let span = try readExactly((last - first) * itemSize, what: "rows \(range)")
            out.withUnsafeMutableBytes { dst in
                span.withUnsafeBytes { src in
                    for j in j0..<j1 {
                        memcpy(dst.baseAddress! + j * c * itemSize, src.baseAddress! + (j - j0) * columnBytes, c * itemSize)
                    }
                }
            }
            j0 = j1
        }
        return out
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
    /// The temporary file's descriptor (-1 once finished).
    var fd: Int32 = -1
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
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if let kind = FileKind.nonRegularDescription(dir), kind != "a directory" {
            throw TensorError.file(path: path, message: "\(dir) is \(kind), not a directory")
        }
        if let kind = FileKind.nonRegularDescription(path) {
            throw TensorError.file(path: path, message: "exists and is \(kind); only a regular file can be written there")
        }
        temporary = AtomicFile.temporaryPath(for: path)
        TemporaryFiles.register(temporary)
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            let err = errno
            TemporaryFiles.unregister(temporary)
            throw TensorError.file(path: path, message: err == ENOENT ? "cannot be written: directory \(dir) does not exist" : "cannot be written: \(FileKind.reason(err))")
        }
        try writeAll(NPY.preamble(dtype: dtype, shape: shape))
    }

    /// Writes every byte of `data` to the temporary file (retrying short writes and EINTR); a failure (disk full)
    /// removes the temporary file and names the output.
    func writeAll(_ data: Data) throws {
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += n
            }
        }
        if failure != 0 {
            abandon()
            throw TensorError.file(path: path, message: "cannot be written: \(FileKind.reason(failure)); nothing was left behind")
        }
    }

    /// Closes and removes the temporary file.
    func abandon() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(temporary)
        TemporaryFiles.unregister(temporary)
    }

    /// Appends rows [m] + shape[1...] (converted to the file's dtype).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func append<S: BLASScalar>(_ rows: Tensor<S>) throws {
        guard fd >= 0 else { throw TensorError.file(path: path, message: "writer already finished") }
        guard rows.rank == shape.count, Array(rows.shape.dropFirst()) == Array(shape.dropFirst()) else {
            throw TensorError.shapeMismatch(operation: "NPYWriter.append (rows of \(Array(shape.dropFirst())))", lhs: shape, rhs: rows.shape)
        }
        guard rowsWritten + rows.shape[0] <= shape[0] else {
            throw TensorError.invalidShape("NPYWriter: \(rowsWritten + rows.shape[0]) rows exceed the declared \(shape[0])")
        }
        if dtype == .float32 {
            let f: Tensor<Float> = rows.cast()
            try f.withUnsafeBufferPointer { try writeAll(Data(buffer: $0)) }
        } else {
            let d: Tensor<Double> = rows.cast()
            try d.withUnsafeBufferPointer { try writeAll(Data(buffer: $0)) }
        }
        rowsWritten += rows.shape[0]
    }

    /// Flushes and moves the file into place; throws unless every declared row was written.
    public func finish() throws {
        guard fd >= 0 else { return }
        guard rowsWritten == shape[0] else {
            throw TensorError.invalidShape("NPYWriter: \(rowsWritten) of \(shape[0]) rows written; the file was not finished")
        }
        if fsync(fd) != 0 {
            let err = errno
            abandon()
            throw TensorError.file(path: path, message: "cannot be written: \(FileKind.reason(err)); nothing was left behind")
        }
        close(fd)
        fd = -1
        defer { TemporaryFiles.unregister(temporary) }
        try AtomicFile.place(temporary: temporary, at: path, overwrite: overwrite)
    }

    deinit { abandon() }
}
