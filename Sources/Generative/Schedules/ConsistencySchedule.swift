import Foundation
import Linear

/// The EDM-style parameterisation of a consistency model (Song, Dhariwal, Chen & Sutskever 2023, after Karras et
/// al. 2022): f_θ(x, σ) = c_skip(σ)·x + c_out(σ)·F_θ(c_in(σ)·x, σ), with
///
///     c_skip(σ) = σ_data² / ((σ − σ_min)² + σ_data²),
///     c_out(σ)  = σ_data·(σ − σ_min) / √(σ² + σ_data²),
///     c_in(σ)   = 1 / √(σ² + σ_data²),
///
/// so that f_θ(x, σ_min) = x exactly (the boundary condition): c_skip(σ_min) = 1, c_out(σ_min) = 0. Note the
/// asymmetry, which is that of the paper's code and what the published values need: c_skip shifts σ by σ_min,
/// c_out's denominator does not. With the defaults (σ_min 0.002, σ_max 80, ρ = 7, σ_data 0.5):
/// c_skip(1) = 0.20064, c_out(1) = 0.44632.
///
/// With `prediction` `.data` the network predicts the clean data itself at every noise level above the boundary:
///
///     c_skip(σ) = σ_min² / ((σ − σ_min)² + σ_min²),     c_out(σ) = 1 − c_skip(σ),
///
/// so f_θ(x, σ_min) = x still, c_skip has fallen to ½ at 2σ_min and f_θ ≈ F_θ beyond. EDM's c_skip with σ_data
/// keeps a share of x_σ = x + σ·z for σ ≲ σ_data, which the network then has to cancel with c_out·F: full-rank noise
/// in every dimension, which a small MLP cannot output when the data lie on a low-dimensional manifold in many
/// dimensions (the same cause as DDPM's ε target there; Li & He 2025, "Back to Basics: Let Denoising Generative
/// Models Denoise"). The data, by contrast, are low-rank. c_in is EDM's in both cases.
public struct ConsistencySchedule: Sendable, Equatable {
    /// σ_min = ε, the smallest noise level (the boundary): 0.002.
    public var sigmaMin: Double
    /// σ_max = T, the largest noise level: 80.
    public var sigmaMax: Double
    /// ρ of the Karras discretisation: 7.
    public var rho: Double
    /// σ_data, the standard deviation of the data: 0.5.
    public var sigmaData: Double
    /// What F_θ predicts: `.edm` (the paper's c_skip/c_out) or `.data` (the clean data above the boundary).
    public var prediction: ConsistencyPrediction = .edm

    /// The paper's defaults.
    public init(sigmaMin: Double = 0.002, sigmaMax: Double = 80, rho: Double = 7, sigmaData: Double = 0.5,
                prediction: ConsistencyPrediction = .edm) throws {
        guard sigmaMin > 0, sigmaMax > sigmaMin, sigmaMax.isFinite, rho > 0, sigmaData > 0 else {
            throw ConfigurationError(field: "ConsistencySchedule", reason: "consistency schedule: need 0 < σ_min < σ_max, ρ > 0 and σ_data > 0, got σ_min \(sigmaMin), σ_max \(sigmaMax), ρ \(rho), σ_data \(sigmaData)")
        }
        self.init(validSigmaMin: sigmaMin, sigmaMax: sigmaMax, rho: rho, sigmaData: sigmaData, prediction: prediction)
    }

    /// A schedule whose values the caller knows to be valid (`paperDefaults`), without the checks.
    init(validSigmaMin sigmaMin: Double, sigmaMax: Double, rho: Double, sigmaData: Double, prediction: ConsistencyPrediction) {
        self.sigmaMin = sigmaMin; self.sigmaMax = sigmaMax; self.rho = rho; self.sigmaData = sigmaData; self.prediction = prediction
    }

    /// The paper's defaults, as `try ConsistencySchedule()` gives them: σ_min 0.002, σ_max 80, ρ 7, σ_data 0.5, `.edm`.
    static let paperDefaults = ConsistencySchedule(validSigmaMin: 0.002, sigmaMax: 80, rho: 7, sigmaData: 0.5, prediction: .edm)

    /// c_skip(σ) = σ_data²/((σ − σ_min)² + σ_data²) (`.edm`), or σ_min²/((σ − σ_min)² + σ_min²) (`.data`).
    public func cSkip(_ sigma: Double) -> Double {
        let d = sigma - sigmaMin
        let s = prediction == .edm ? sigmaData : sigmaMin
        return s * s / (d * d + s * s)
    }

    /// c_out(σ) = σ_data·(σ − σ_min)/√(σ² + σ_data²) (`.edm`), or 1 − c_skip(σ) (`.data`).
    public func cOut(_ sigma: Double) -> Double {
        if prediction == .data { return 1 - cSkip(sigma) }
        return sigmaData * (sigma - sigmaMin) / (sigma * sigma + sigmaData * sigmaData).squareRoot()
    }

    /// c_in(σ) = 1/√(σ² + σ_data²).
    public func cIn(_ sigma: Double) -> Double { 1 / (sigma * sigma + sigmaData * sigmaData).squareRoot() }

    /// EDM's noise conditioning c_noise(σ) = ¼·log σ (the paper's code feeds 1000·c_noise to its time embedding).
    public func cNoise(_ sigma: Double) -> Double { 0.25 * Foundation.log(sigma) }

    /// The N boundaries t₁ = σ_min < … < t_N = σ_max of the Karras discretisation,
    /// t_i = (σ_min^{1/ρ} + (i − 1)/(N − 1)·(σ_max^{1/ρ} − σ_min^{1/ρ}))^ρ  (ascending; consistency training/distillation).
    public func karrasBoundaries(count n: Int) throws -> [Double] {
        guard n >= 2 else { throw ConfigurationError(field: "ConsistencySchedule.karrasBoundaries(count:)", reason: "Karras discretisation: need at least 2 noise levels, got \(n)") }
        let a = Foundation.pow(sigmaMin, 1 / rho), b = Foundation.pow(sigmaMax, 1 / rho)
        return (0..<n).map { i in
            if i == 0 { return sigmaMin }
            if i == n - 1 { return sigmaMax }
            return Foundation.pow(a + Double(i) / Double(n - 1) * (b - a), rho)
        }
    }

    /// The sampling noise levels of EDM, descending: σ_i = (σ_max^{1/ρ} + i/(N − 1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ,
    /// i = 0 … N − 1, followed by σ_N = 0 when `appendZero` (Karras et al. 2022, eq. 5).
    public func karrasSigmas(count n: Int, appendZero: Bool = true) throws -> [Double] {
        let s = try karrasBoundaries(count: n).reversed()
        return appendZero ? Array(s) + [0] : Array(s)
    }

    /// f(x, σ) = c_skip(σ)·x + c_out(σ)·F for one σ per row (or one for all rows), where F is the network output.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func denoised<S: BLASScalar>(_ x: Tensor<S>, networkOutput: Tensor<S>, sigmas: [Double]) throws -> Tensor<S> {
        try rowwiseCombination(sigmas.map(cSkip), x, sigmas.map(cOut), networkOutput, "consistency denoised")
    }

    /// c_in(σ)·x for one σ per row (or one for all rows): the scaled network input.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func scaledInput<S: BLASScalar>(_ x: Tensor<S>, sigmas: [Double]) throws -> Tensor<S> {
        try rowwiseScale(sigmas.map(cIn), x, "consistency input scaling")
    }
}

extension ConsistencySchedule {
    /// σ_data fitted to data in model units: the geometric mean of the leading and the median principal standard
    /// deviations,
    ///
    ///     σ_data = (λ₁·λ_med)^{1/4},      λ₁ ≥ … ≥ λ_D the eigenvalues of the data's covariance,
    ///
    /// which is 1 for data with identity covariance (EDM's σ_data of standardised, isotropic data) and balances two
    /// errors of the EDM parameterisation on data near a low-dimensional manifold, whose covariance is λ₁ along it
    /// and the noise floor λ_med across it:
    /// - across the manifold, f keeps c_skip(σ)·(σ − σ_min)·z = σ_data²·d/(d² + σ_data²)·z of the noise (d = σ − σ_min),
    ///   at most σ_data/2 per coordinate (at d = σ_data), which the network has to cancel down to √λ_med; a smaller
    ///   σ_data leaves less to cancel;
    /// - along it, the network sees c_in(σ)·x with c_in = 1/√(σ² + σ_data²), of size √λ₁/σ_data at small σ, and
    ///   the skip carries the identity only up to σ ≈ σ_data; a larger σ_data keeps both in range.
    /// The geometric mean makes the two ratios equal: σ_data/√λ_med = √λ₁/σ_data. Measured with improved CT on toys
    /// standardised feature by feature (λ₁ ≈ D/2, so both scales grow as √D): eight Gaussians in 64-D (σ_data
    /// 0.44 by this rule) fail with σ_data 1 (precision 0.479 against the Gaussian baseline's 0.542) and pass with
    /// 0.5 (0.889); moons in 1024-D (2.19 by this rule) fail with 1 (MMD² 0.0101 against 0.0063: the samples'
    /// spread along the plane shrinks to 1.54 from the data's 1.82) and with 0.5 (0.0244), and pass with 2
    /// (0.0017). The paper's images in [−1, 1] use 0.5 (Song et al. 2023; Karras et al. 2022).
    /// - Throws: `TensorError` for fewer than 2 rows, or a covariance whose median eigenvalue is 0 (fewer rows
    ///   than about D/2, or constant features), for which σ_data has to be given.
    public static func fittedSigmaData<S: BLASScalar>(to data: Tensor<S>) throws -> Double {
        let spectrum = try CovarianceSpectrum(of: data, caller: "ConsistencySchedule.fittedSigmaData")
        let v = Foundation.pow(spectrum.largest * spectrum.median, 0.25)
        guard spectrum.median > 1e-12 * spectrum.largest, v > 0, v.isFinite else {
            throw ConfigurationError(field: "ConsistencySchedule.sigmaData", reason: "ConsistencySchedule.fittedSigmaData: the data's covariance has λ₁ \(spectrum.largest) and median eigenvalue \(spectrum.median) (\(data.shape[0]) rows of \(data.shape[1]) features): σ_data cannot be fitted, give it")
        }
        return v
    }
}

/// The curriculum of consistency training (Song et al. 2023, Appendix C): at training step k of K the
/// discretisation has N(k) boundaries and the target network's EMA decay is μ(k),
///
///     N(k) = ⌈√(k/K·((s₁ + 1)² − s₀²) + s₀²) − 1⌉ + 1,      μ(k) = exp(s₀·log μ₀ / N(k)),
///
/// with the paper's CIFAR-10 defaults s₀ = 2, s₁ = 150, μ₀ = 0.9: N(0) = 2 and N(K) = 151.
public struct ConsistencyTrainingSchedule: Sendable, Equatable {
    /// Total number of training steps K.
    public var totalSteps: Int
    /// s₀, the initial number of discretisation steps: 2.
    public var initialSteps: Int
    /// s₁, the final number of discretisation steps: 150.
    public var finalSteps: Int
    /// μ₀, the initial EMA decay of the target network: 0.9.
    public var initialDecay: Double

    public init(totalSteps: Int, initialSteps: Int = 2, finalSteps: Int = 150, initialDecay: Double = 0.9) throws {
        try ConfigurationError.check("ConsistencyTrainingSchedule", ["totalSteps": totalSteps >= 1, "initialSteps": initialSteps >= 1,
                                                                   "finalSteps": finalSteps >= initialSteps,
                                                                   "initialDecay": initialDecay > 0 && initialDecay < 1], reason: "consistency training schedule: need K ≥ 1, 1 ≤ s₀ ≤ s₁ and 0 < μ₀ < 1, got K \(totalSteps), s₀ \(initialSteps), s₁ \(finalSteps), μ₀ \(initialDecay)")
        self.totalSteps = totalSteps; self.initialSteps = initialSteps; self.finalSteps = finalSteps; self.initialDecay = initialDecay
    }

    /// N(k), the number of discretisation boundaries at step k (k clamped to 0…K).
    public func discretisation(atStep k: Int) -> Int {
        let kk = Double(Swift.min(Swift.max(k, 0), totalSteps)) / Double(totalSteps)
        let s0 = Double(initialSteps), s1 = Double(finalSteps)
        let r = (kk * ((s1 + 1) * (s1 + 1) - s0 * s0) + s0 * s0).squareRoot()
        return Int((r - 1).rounded(.up)) + 1
    }

    /// μ(k) = exp(s₀·log μ₀ / N(k)), the EMA decay of the target network at step k.
    public func emaDecay(atStep k: Int) -> Double {
        Foundation.exp(Double(initialSteps) * Foundation.log(initialDecay) / Double(discretisation(atStep: k)))
    }
}
