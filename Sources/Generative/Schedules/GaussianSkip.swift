import Linear

/// The Gaussian skip of a data-predicting network: x̂ = c(t)·x_t + f_θ(x_t, t), with
///
///     c(t) = a·v/(a²·v + b²)       for x_t = a·x + b·ε, x ~ N(0, v·I), ε ~ N(0, I),
///
/// the exact posterior mean E[x | x_t] = c·x_t of an isotropic Gaussian of variance v. It is the skip of Karras et al.
/// (2022, EDM, eq. 7: c_skip = σ_data²/(σ² + σ_data²)) written for any path coefficients a, b, with v the variance of
/// the data's isotropic noise floor rather than of the whole data. Data near a low-dimensional manifold in D
/// dimensions carry such a floor in every off-manifold direction; a network narrower than D cannot output a
/// full-rank map of x_t and would denoise the floor away (samples then lie *on* the manifold and miss the real points'
/// spread around it). With the skip the floor is reproduced exactly and the network learns the low-rank rest.
/// v = 0 is no skip (c = 0).
public enum GaussianSkip {
    /// c = a·v/(a²·v + b²) (0 when v = 0 or a = b = 0).
    public static func coefficient(signal a: Double, noise b: Double, variance v: Double) -> Double {
        let d = a * a * v + b * b
        return v > 0 && d > 0 ? a * v / d : 0
    }

    /// The floor variance `vst train` uses: the median eigenvalue of the data's sample covariance (model units). For
    /// data on an r-dimensional manifold with r < D/2 this is the off-manifold noise variance; for data that fill
    /// more than half the directions it is a level inside the signal, and the network corrects the skip there.
    public static func medianEigenvalue<S: BLASScalar>(of data: Tensor<S>) throws -> Double {
        try CovarianceSpectrum(of: data, caller: "GaussianSkip.medianEigenvalue").median
    }
}
