import Foundation

/// A numeric table read from CSV: the samples, and optionally the labels split off one column.
public struct CSVTable: Sendable {
    /// The numeric columns, rows × columns.
    public var data: Tensor<Double>
    /// The values of the label column, when one was split off (they must be integers).
    public var labels: [Int]?
    /// Column names, when the file has a header line (without the label column's name).
    public var header: [String]?
}

/// Reads and writes numeric CSV: comma-separated, optional header line, `#` comment lines, blank lines ignored.
public enum CSV {
    /// Reads a numeric CSV file.
    ///
    /// - Parameters:
    ///   - labelColumn: a column (negative counts from the end) whose integer values become `labels`.
    ///   - hasHeader: whether the first non-comment line names the columns; `nil` detects it (a first line that
    ///     does not parse as numbers is a header).
    /// - Throws: `TensorError.file` naming the line and column of the first bad value or ragged row.
    public static func read(_ path: String, labelColumn: Int? = nil, hasHeader: Bool? = nil) throws -> CSVTable {
        let bytes = try AtomicFile.read(path)
        guard let text = String(data: bytes, encoding: .utf8) else { throw TensorError.file(path: path, message: "is not UTF-8 text") }
        return try parse(text, path: path, labelColumn: labelColumn, hasHeader: hasHeader)
    }

    /// Parses CSV text (see `read`); `path` only names the source in errors.
    public static func parse(_ text: String, path: String = "<csv>", labelColumn: Int? = nil, hasHeader: Bool? = nil) throws -> CSVTable {
        var values: [Double] = []
        var labels: [Int] = []
        var header: [String]? = nil
        var columns = -1
        var rows = 0
        var labelIndex: Int? = nil
        var first = true
        var lineNumber = 0
        // Split on every newline character ("\r\n" is one Character in Swift, so splitting on "\n" alone would
        // miss Windows line ends).
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if first {
                first = false
                columns = fields.count
                if let lc = labelColumn {
                    let li = lc < 0 ? lc + columns : lc
                    guard li >= 0 && li < columns else {
                        throw TensorError.file(path: path, message: "label column \(lc) is out of range for \(columns) columns")
                    }
                    labelIndex = li
                }
                let isHeader = hasHeader ?? fields.contains { Double($0) == nil }
                if isHeader {
                    header = fields.enumerated().filter { $0.offset != labelIndex }.map { String($0.element) }
                    continue
                }
            }
            guard fields.count == columns else {
                throw TensorError.file(path: path, message: "line \(lineNumber) has \(fields.count) fields, expected \(columns)")
            }
            for (j, f) in fields.enumerated() {
                // `Double(_:)` parses through a C string, so it would stop at an embedded NUL and accept "2\0junk".
                guard !f.utf8.contains(0), let v = Double(f) else {
                    throw TensorError.file(path: path, message: "line \(lineNumber), column \(j + 1): '\(f)' is not a number")
                }
                if j == labelIndex {
                    guard v == v.rounded(), Swift.abs(v) < 1e15 else {
                        throw TensorError.file(path: path, message: "line \(lineNumber), column \(j + 1): label '\(f)' is not an integer")
                    }
                    labels.append(Int(v))
                } else {
                    values.append(v)
                }
            }
            rows += 1
        }
        guard rows > 0 else { throw TensorError.file(path: path, message: "contains no data rows") }
        let dataColumns = columns - (labelIndex == nil ? 0 : 1)
        let data = try Tensor<Double>(values, shape: [rows, dataColumns])
        return CSVTable(data: data, labels: labelIndex == nil ? nil : labels, header: header)
    }

    /// Writes a 2-D tensor as CSV (full round-trip precision), with an optional header and label column last.
    /// When labels are written and the header names only the data columns, "label" is appended to it.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func write<Scalar>(_ tensor: Tensor<Scalar>, to path: String, header: [String]? = nil,
                                     labels: [Int]? = nil, overwrite: Bool = false) throws {
        guard tensor.rank == 2 || tensor.rank == 1 else {
            throw TensorError.invalidShape("CSV.write: expected a 1-D or 2-D tensor, got shape \(tensor.shape)")
        }
        let rows = tensor.shape[0], cols = tensor.rank == 2 ? tensor.shape[1] : 1
        if let labels, labels.count != rows {
            throw TensorError.invalidShape("CSV.write: \(labels.count) labels for \(rows) rows")
        }
        var out = ""
        if var header {
            if labels != nil && header.count == cols { header.append("label") }
            out += header.joined(separator: ",") + "\n"
        }
        tensor.withUnsafeBufferPointer { p in
            for i in 0..<rows {
                var fields = (0..<cols).map { "\(p[i * cols + $0])" }
                if let labels { fields.append(String(labels[i])) }
                out += fields.joined(separator: ",") + "\n"
            }
        }
        try AtomicFile.write(Data(out.utf8), to: path, overwrite: overwrite)
    }
}
