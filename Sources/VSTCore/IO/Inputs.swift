import Foundation
import Linear
import Substrate

/// Reading inputs: .npy, .safetensors (with a key) and CSV, as Double or Float.
public enum Inputs {
    /// Loads a numeric array from `path`; `key` chooses the tensor of a .safetensors file.
    public static func array(_ path: String, key: String? = nil) throws -> Tensor<Double> { try array(path, key: key, as: Double.self) }

    /// Loads a numeric array from `path` as `S` (float32 files read as Float lose nothing).
    public static func array<S: BLASScalar>(_ path: String, key: String?, as _: S.Type) throws -> Tensor<S> {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        switch ext {
        case "npy":
            return try NPY.read(path).tensor(S.self)
        case "safetensors":
            let file = try SafetensorsFile.read(path)
            let names = file.tensors.keys.sorted()
            if let key {
                guard file.tensors[key] != nil else {
                    throw InputFileError(path: path, reason: "no tensor named '\(key)' (available: \(names.joined(separator: ", ")))")
                }
                return try file.tensor(key, as: S.self)
            }
            guard names.count == 1 else {
                throw InputFileError(path: path, reason: "holds \(names.count) tensors (\(names.joined(separator: ", "))); choose one with --key")
            }
            return try file.tensor(names[0], as: S.self)
        case "csv", "txt":
            return try CSV.read(path).data.cast(to: S.self)
        default:
            throw InputFileError(path: path, reason: "unknown file type '.\(ext)' (expected .npy, .safetensors or .csv)")
        }
    }

    /// An n×D matrix of states (a 1-D array is one state per row of width 1; higher ranks are refused), with at least
    /// `minRows` rows, D ≥ 1 and only finite values.
    public static func matrix(_ path: String, key: String? = nil, minRows: Int = 2) throws -> Tensor<Double> {
        try matrix(path, key: key, minRows: minRows, as: Double.self)
    }

    /// `matrix(_:key:minRows:)` read as `S`.
    public static func matrix<S: BLASScalar>(_ path: String, key: String?, minRows: Int = 2, as _: S.Type) throws -> Tensor<S> {
        let a = try array(path, key: key, as: S.self)
        let m: Tensor<S>
        switch a.rank {
        case 2: m = a
        case 1: m = try a.reshaped([a.count, 1])
        default:
            throw InputFileError(path: path, reason: "expected an n×D matrix of states, got shape \(a.shape)\(a.rank == 3 ? " (a T×n×D trajectory? use `vst trajectory`)" : "")")
        }
        try StateChecks.require(m, label: path, minRows: minRows)
        return m
    }

    /// True for an .npy file that stores float32 (or narrower) values: such states can be analysed in float32 where
    /// an analysis offers it, without losing anything the file holds.
    public static func storesSinglePrecision(_ path: String) -> Bool {
        URL(fileURLWithPath: path).pathExtension.lowercased() == "npy" && ((try? NPYReader(path))?.storesSinglePrecision ?? false)
    }
}

/// The checks every matrix of states passes before an analysis: enough rows, at least one column, finite values.
/// One place, used by `Inputs.matrix` and by the fit dispatch (`ProjectionJobs.fit`) for pooled inputs.
public enum StateChecks {
    /// Throws `InputFileError` naming `label` (a path, or the list of inputs) when `x` has fewer than `minRows` rows,
    /// no columns, or non-finite values (with their count and the first position).
    public static func require<S: BLASScalar>(_ x: Tensor<S>, label: String, minRows: Int) throws {
        guard x.shape[0] >= minRows else { throw InputFileError(path: label, reason: "need at least \(minRows) rows, got \(x.shape[0])") }
        guard x.shape[1] >= 1 else { throw InputFileError(path: label, reason: "has no columns (D = 0); need n×D states with D ≥ 1") }
        try requireFinite(x, label: label)
    }

    /// Throws `InputFileError` naming `label` when `x` holds NaN or ±Inf; `rowOffset` is added to the row reported.
    public static func requireFinite<S: BLASScalar>(_ x: Tensor<S>, label: String, rowOffset: Int = 0, rows: Range<Int>? = nil) throws {
        do { try x.checkFinite("states") } catch let TensorError.nonFinite(count, first, _) {
            let place = rows.map { " in rows \($0.lowerBound)..<\($0.upperBound)" } ?? ""
            throw InputFileError(path: label, reason: "\(count) non-finite value\(count == 1 ? "" : "s") (NaN or ±Inf)\(place), first at row \(rowOffset + first[0]), column \(first.count > 1 ? first[1] : 0)")
        }
    }
}
