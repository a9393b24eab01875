import Foundation
import Linear

extension Projection {
    /// Saves to one `.safetensors` file: tensors `mean`, `basis`, `eigenvalues` (and `scale` when standardised);
    /// metadata k, D, n, method, whiten, total variance, creation time and source (spec §2). Atomic; refuses to
    /// overwrite unless asked.
    public func save(_ path: String, overwrite: Bool = false) throws {
        var tensors: [String: NDArray] = [
            "mean": NDArray(mean), "basis": NDArray(basis), "eigenvalues": NDArray(Tensor(eigenvalues)),
        ]
        if let scale { tensors["scale"] = NDArray(scale) }
        var meta = metadata
        meta["format"] = "substrate.projection/1"
        meta["k"] = String(k); meta["D"] = String(dimension); meta["n"] = String(n)
        meta["method"] = method.rawValue
        meta["whiten"] = whiten ? "true" : "false"
        meta["total_variance"] = "\(totalVariance)"
        try SafetensorsFile(tensors: tensors, metadata: meta).write(to: path, overwrite: overwrite)
    }

    /// Loads a projection written by `save`, checking that every part is present and consistent.
    public static func load(_ path: String) throws -> Projection {
        let file = try SafetensorsFile.read(path)
        func need(_ name: String) throws -> Tensor<Double> {
            guard file.tensors[name] != nil else {
                throw TensorError.file(path: path, message: "is not a projection file: tensor '\(name)' is missing (found: \(file.tensors.keys.sorted().joined(separator: ", ")))")
            }
            return try file.tensor(name, as: Double.self)
        }
        func meta(_ key: String) throws -> String {
            guard let v = file.metadata[key] else { throw TensorError.file(path: path, message: "is not a projection file: metadata '\(key)' is missing") }
            return v
        }
        let mean = try need("mean"), basis = try need("basis"), eig = try need("eigenvalues")
        let d = mean.count
        guard mean.rank == 1, basis.shape == [d, d] else {
            throw TensorError.file(path: path, message: "mean \(mean.shape) and basis \(basis.shape) do not describe one dimension D")
        }
        guard let k = Int(try meta("k")), k >= 1, k <= d else { throw TensorError.file(path: path, message: "metadata k is not an integer in 1...\(d)") }
        guard let n = Int(try meta("n")) else { throw TensorError.file(path: path, message: "metadata n is not an integer") }
        guard let method = ProjectionMethod(rawValue: try meta("method")) else {
            throw TensorError.file(path: path, message: "unknown method '\(file.metadata["method"] ?? "")'")
        }
        guard let total = Double(try meta("total_variance")) else { throw TensorError.file(path: path, message: "metadata total_variance is not a number") }
        let scale = file.tensors["scale"] != nil ? try need("scale") : nil
        if let scale, scale.shape != [d] { throw TensorError.file(path: path, message: "scale has shape \(scale.shape), expected [\(d)]") }
        try basis.checkFinite("\(path): basis"); try mean.checkFinite("\(path): mean")
        var p = Projection(mean: mean, scale: scale, basis: basis, eigenvalues: eig.scalars, totalVariance: total, k: k, n: n,
                           method: method, whiten: file.metadata["whiten"] == "true")
        p.metadata = file.metadata.filter { ["created", "source"].contains($0.key) }
        let err = p.orthonormalityError
        guard err < 1e-6 else { throw TensorError.file(path: path, message: "the basis is not orthonormal (max|VᵀV − I| = \(err))") }
        return p
    }
}

extension CovarianceStatistics {
    /// Saves the shard statistics (n, μ, M₂ in Double) to a `.safetensors` file.
    public func save(_ path: String, overwrite: Bool = false, source: String? = nil) throws {
        var meta = ["format": "substrate.covariance-stats/1", "n": String(count), "D": String(dimension)]
        if let source { meta["source"] = source }
        try SafetensorsFile(tensors: ["mean": NDArray(mean), "scatter": NDArray(scatter)], metadata: meta)
            .write(to: path, overwrite: overwrite)
    }

    /// Loads statistics written by `save`.
    public static func load(_ path: String) throws -> CovarianceStatistics {
        let file = try SafetensorsFile.read(path)
        guard file.metadata["format"] == "substrate.covariance-stats/1", let n = Int(file.metadata["n"] ?? "") else {
            throw TensorError.file(path: path, message: "is not a statistics file written by `vst fit-projection --stats-only`")
        }
        do {
            return try CovarianceStatistics(count: n, mean: file.tensor("mean", as: Double.self), scatter: file.tensor("scatter", as: Double.self))
        } catch let e as TensorError {
            throw TensorError.file(path: path, message: e.description)
        }
    }
}
