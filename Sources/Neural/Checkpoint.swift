import Foundation
import Linear

/// Saving and loading module parameters as `.safetensors`: tensor names are the parameter paths, the dtype is
/// the module's precision, and string metadata (the model's configuration) travels in `__metadata__`.
public enum Checkpoint {
    /// Writes every parameter of `module` to `path` (atomically; refuses to replace a file unless `overwrite`).
    public static func save<M: Module>(_ module: M, to path: String, metadata: [String: String] = [:], overwrite: Bool = false) throws {
        var tensors: [String: NDArray] = [:]
        for (n, p) in module.namedParameters() { tensors[n] = NDArray(p.value) }
        try SafetensorsFile(tensors: tensors, metadata: metadata).write(to: path, overwrite: overwrite)
    }

    /// Loads parameters from `path` into `module` and returns the file's metadata. Values are converted to the
    /// module's precision. Nothing is changed unless every name and shape matches.
    /// - Throws: `ModelFileError` listing missing, unexpected and mis-shaped tensors; `TensorError.file` when the
    ///   file cannot be read.
    @discardableResult
    public static func load<M: Module>(_ module: M, from path: String) throws -> [String: String] {
        let file = try SafetensorsFile.read(path)
        let named = module.namedParameters()
        do {
            try check(expected: named.map { ($0.name, $0.parameter.shape) }, found: file.tensors.mapValues(\.shape))
        } catch let e as ModelStateError {
            throw ModelFileError(path: path, reason: e.reason)
        }
        var values: [Tensor<M.Scalar>] = []
        for (n, _) in named { values.append(try file.tensor(n, as: M.Scalar.self)) }
        for ((_, p), v) in zip(named, values) { p.value = v }
        return file.metadata
    }

    /// Throws unless `found` has exactly the names and shapes of `expected`, listing every difference.
    static func check(expected: [(String, [Int])], found: [String: [Int]]) throws {
        var missing: [String] = [], mismatched: [String] = []
        let expectedNames = Set(expected.map(\.0))
        for (n, s) in expected {
            guard let f = found[n] else { missing.append(n); continue }
            if f != s { mismatched.append("\(n) (expected \(s), found \(f))") }
        }
        let unexpected = found.keys.filter { !expectedNames.contains($0) }.sorted()
        guard missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty else {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected: \(unexpected.joined(separator: ", "))") }
            if !mismatched.isEmpty { parts.append("shape mismatch: \(mismatched.joined(separator: ", "))") }
            throw ModelStateError(reason: "parameters do not match the model; " + parts.joined(separator: "; "))
        }
    }
}

extension Module {
    /// Saves the parameters to a `.safetensors` file (see `Checkpoint.save`).
    public func save(to path: String, metadata: [String: String] = [:], overwrite: Bool = false) throws {
        try Checkpoint.save(self, to: path, metadata: metadata, overwrite: overwrite)
    }

    /// Loads parameters from a `.safetensors` file and returns its metadata (see `Checkpoint.load`).
    @discardableResult
    public func load(from path: String) throws -> [String: String] {
        try Checkpoint.load(self, from: path)
    }
}
