import Linear

/// The eigenvalues λ₁ ≥ λ₂ ≥ … ≥ λ_D ≥ 0 of a data set's sample covariance Σ = (X − x̄)ᵀ(X − x̄)/(n − 1), computed in
/// Double. The data-dependent defaults of `vst train` read their scales from it: the isotropic scaling (λ₁), the
/// Gaussian skip's noise floor (the median eigenvalue) and the VAE's latent dimension (the effective rank).
public struct CovarianceSpectrum: Sendable, Equatable {
    /// The eigenvalues in descending order, clamped at 0 (rounding can leave tiny negatives on low-rank data).
    public let eigenvalues: [Double]

    /// The spectrum of `data` ([n ≥ 2, D ≥ 1] rows); `caller` names the user of the spectrum in the error.
    public init<S: BLASScalar>(of data: Tensor<S>, caller: String = "CovarianceSpectrum") throws {
        guard data.rank == 2, data.shape[0] >= 2, data.shape[1] >= 1 else {
            throw TensorError.invalidShape("\(caller): expected [n ≥ 2, D ≥ 1] data, got shape \(data.shape)")
        }
        let x: Tensor<Double> = data.cast()
        let mean = try x.mean(axis: 0)
        let xc = try x - mean.reshaped([1, mean.count])
        eigenvalues = try xc.gram(alpha: 1 / Double(data.shape[0] - 1)).eigvalsh().scalars.map { Swift.max($0, 0) }.sorted(by: >)
    }

    /// A spectrum from eigenvalues already computed (sorted in descending order here, clamped at 0).
    public init(eigenvalues: [Double]) {
        self.eigenvalues = eigenvalues.map { Swift.max($0, 0) }.sorted(by: >)
    }

    /// λ₁, the variance along the leading principal direction.
    public var largest: Double { eigenvalues.first ?? 0 }

    /// The median eigenvalue (the mean of the middle two for even D).
    public var median: Double {
        let w = eigenvalues, m = w.count / 2
        return w.count % 2 == 1 ? w[m] : (w[m - 1] + w[m]) / 2
    }

    /// The effective rank at relative level `level`: how many eigenvalues are at least `level`·λ₁. Data on an
    /// r-dimensional manifold with small isotropic noise have effective rank r at any level above the noise-to-signal
    /// variance ratio (a toy lifted to D dimensions: 2 at level 0.01, whatever D); the digits have 43 at 0.01.
    public func effectiveRank(level: Double = 0.01) -> Int {
        let top = largest
        guard top > 0 else { return 0 }
        return eigenvalues.filter { $0 >= level * top }.count
    }
}
