import Foundation
import Linear

extension Projection {
    /// Saves to one `.safetensors` file: tensors `mean`, `basis`, `eigenvalues` (and `scale` when standardised);
    /// metadata k, D, n, method, whiten, total variance, creation time and source (docs/method.md §2). Atomic; refuses to
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
        if varianceExponent != 0 { meta["variance_exponent"] = String(varianceExponent) }
        try SafetensorsFile(tensors: tensors, metadata: meta).write(to: path, overwrite: overwrite)
    }

    /// Loads a projection written by `save`, checking that every part is present and consistent: k ≤ the number of
    /// eigenvalues ≤ D, every eigenvalue finite and ≥ 0 (the core's > 0 when whitened, since z/√λ divides by them),
    /// the total variance finite and ≥ 0, mean, basis and scale finite, the basis orthonormal. Each refusal names
    /// the file.
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
        guard total.isFinite, total >= 0 else { throw TensorError.file(path: path, message: "metadata total_variance = \(total) is not a finite variance ≥ 0") }
        var exponent = 0
        if let text = file.metadata["variance_exponent"] {
            guard let e = Int(text), Swift.abs(e) <= 4400 else {
                throw TensorError.file(path: path, message: "metadata variance_exponent = '\(text)' is not an integer binary exponent")
            }
            exponent = e
        }
        let scale = file.tensors["scale"] != nil ? try need("scale") : nil
        if let scale, scale.shape != [d] { throw TensorError.file(path: path, message: "scale has shape \(scale.shape), expected [\(d)]") }
        do {
            try basis.checkFinite("basis"); try mean.checkFinite("mean"); try scale?.checkFinite("scale")
        } catch let e as TensorError { throw TensorError.file(path: path, message: e.description) }
        if let scale, let bad = scale.scalars.firstIndex(where: { !($0 > 0) }) {
            throw TensorError.file(path: path, message: "scale[\(bad)] = \(scale.scalars[bad]) is not a positive standard deviation")
        }
        let lambda = eig.scalars
        guard eig.rank == 1, lambda.count >= k, lambda.count <= d else {
            throw TensorError.file(path: path, message: "holds \(lambda.count) eigenvalues (shape \(eig.shape)); a projection with k = \(k) and D = \(d) needs between k and D")
        }
        if let bad = lambda.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
            throw TensorError.file(path: path, message: "eigenvalue \(bad + 1) is \(lambda[bad]); variances must be finite and ≥ 0")
        }
        let whiten = file.metadata["whiten"] == "true"
        if whiten, let bad = lambda.prefix(k).firstIndex(where: { !($0 > 0) }) {
            throw TensorError.file(path: path, message: "is whitened but core eigenvalue \(bad + 1) is \(lambda[bad]): z/√λ needs every one of the k = \(k) core variances > 0")
        }
        var p = Projection(mean: mean, scale: scale, basis: basis, eigenvalues: lambda, totalVariance: total, k: k, n: n,
                           method: method, whiten: whiten)
        p.varianceExponent = exponent
        p.metadata = file.metadata.filter { ["created", "source"].contains($0.key) }
        let err = p.orthonormalityError
        guard err < 1e-6 else { throw TensorError.file(path: path, message: "the basis is not orthonormal (max|VᵀV − I| = \(err))") }
        return p
    }
}

extension CovarianceStatistics {
    /// Saves the shard statistics (n, μ̃, M̃₂ in Double, and the scale 2ᵉ) to a `.safetensors` file. Statistics of
    /// ordinary magnitude (scale 1) are written as format `substrate.covariance-stats/1`, readable by every
    /// version; scaled ones as `/2` (metadata `scale`, the power of two 2ᵉ), which older versions refuse instead of
    /// misreading.
    public func save(_ path: String, overwrite: Bool = false, source: String? = nil) throws {
        var meta = ["format": "substrate.covariance-stats/1", "n": String(count), "D": String(dimension), "scale": "\(scale)"]
        if scaleExponent != 0 { meta["format"] = "substrate.covariance-stats/2" }
        if let source { meta["source"] = source }
        try SafetensorsFile(tensors: ["mean": NDArray(scaledMean), "scatter": NDArray(scaledScatter)], metadata: meta)
            .write(to: path, overwrite: overwrite)
    }

    /// Loads statistics written by `save` (formats 1 and 2; a missing `scale` is 1), checking that n is a
    /// non-negative integer, the scale a power of two and every value finite.
    public static func load(_ path: String) throws -> CovarianceStatistics {
        let file = try SafetensorsFile.read(path)
        let format = file.metadata["format"] ?? ""
        guard format == "substrate.covariance-stats/1" || format == "substrate.covariance-stats/2" else {
            throw TensorError.file(path: path, message: "is not a statistics file written by `vst fit-projection --stats-only`")
        }
        guard let n = Int(file.metadata["n"] ?? ""), n >= 0 else {
            throw TensorError.file(path: path, message: "metadata n = '\(file.metadata["n"] ?? "")' is not a non-negative integer row count")
        }
        var e = 0
        if let text = file.metadata["scale"] {
            guard let scale = Double(text), scale.isFinite, scale > 0, scale.significand == 1 else {
                throw TensorError.file(path: path, message: "metadata scale = '\(text)' is not a positive power of two")
            }
            e = Int(scale.exponent)
        }
        do {
            let mean = try file.tensor("mean", as: Double.self), scatter = try file.tensor("scatter", as: Double.self)
            try mean.checkFinite("mean"); try scatter.checkFinite("scatter")
            return try CovarianceStatistics(count: n, scaledMean: mean, scaledScatter: scatter, scaleExponent: e)
        } catch let e as TensorError {
            if case .file = e { throw e }
            throw TensorError.file(path: path, message: e.description)
        }
    }
}
