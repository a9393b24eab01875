import Foundation
import Linear
import Substrate

/// Rows of every input file, a block at a time (.npy streams from disk; other formats load whole).
public enum RowBlocks {
    /// Rows per block: about 2²¹ elements (16 MB in Double), below glibc's mmap threshold so blocks reuse memory.
    public static func blockRows(_ d: Int) -> Int { Swift.max(64, (1 << 21) / Swift.max(1, d)) }

    /// Calls `body` with consecutive blocks of the rows of `path`, each checked finite.
    public static func forEach(_ path: String, key: String?, _ body: (Tensor<Double>) throws -> Void) throws {
        try forEach(path, key: key, as: Double.self, body)
    }

    /// Blocks of rows read as `S` (Float keeps a float32 file in single precision, halving memory traffic).
    public static func forEach<S: BLASScalar>(_ path: String, key: String?, as _: S.Type, _ body: (Tensor<S>) throws -> Void) throws {
        if path.lowercased().hasSuffix(".npy") {
            let r = try NPYReader(path)
            guard r.shape.count == 2 else { throw InputFileError(path: path, reason: "expected an n×D matrix, got shape \(r.shape)") }
            let block = blockRows(r.shape[1])
            var start = 0
            while start < r.rowCount {
                let end = Swift.min(r.rowCount, start + block)
                let x: Tensor<S> = try r.rows(start..<end)
                try StateChecks.requireFinite(x, label: path, rowOffset: start, rows: start..<end)
                try body(x)
                start = end
            }
        } else {
            try body(Inputs.matrix(path, key: key, minRows: 1).cast())
        }
    }

    /// The first `rows` rows of a file (all of them when it has fewer).
    public static func first(_ path: String, key: String?, rows: Int) throws -> Tensor<Double> {
        if path.lowercased().hasSuffix(".npy") {
            let r = try NPYReader(path)
            return try r.rows(0..<Swift.min(rows, r.rowCount))
        }
        let x = try Inputs.matrix(path, key: key, minRows: 1)
        return x.shape[0] > rows ? try x.slice(0..<rows) : x
    }

    /// True when every input is a .npy file of single-precision floats.
    public static func allSinglePrecision(_ paths: [String]) -> Bool {
        paths.allSatisfy { $0.lowercased().hasSuffix(".npy") && ((try? NPYReader($0))?.storesSinglePrecision ?? false) }
    }

    /// The width D of the rows of `path` (read from the header of a .npy file).
    public static func dimension(_ path: String, key: String?) throws -> Int {
        if path.lowercased().hasSuffix(".npy") {
            let r = try NPYReader(path)
            guard r.shape.count == 2 else { throw InputFileError(path: path, reason: "expected an n×D matrix, got shape \(r.shape)") }
            return r.shape[1]
        }
        return try Inputs.matrix(path, key: key, minRows: 1).shape[1]
    }

    /// The number of rows n of `path`.
    public static func rowCount(_ path: String, key: String?) throws -> Int {
        path.lowercased().hasSuffix(".npy") ? try NPYReader(path).rowCount : try Inputs.matrix(path, key: key, minRows: 1).shape[0]
    }
}
