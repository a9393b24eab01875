import Linear

/// What a diffusion denoiser is trained to output from (x_t, t).
///
/// With x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε (write a = √ᾱ_t, s = √(1 − ᾱ_t), a² + s² = 1):
/// - ε (Ho et al. 2020): the noise;
/// - x₀ ("sample"): the clean data;
/// - v (Salimans & Ho 2022, "velocity"): v = a·ε − s·x₀.
/// Any one determines the others given x_t: x₀ = (x_t − s·ε)/a = a·x_t − s·v, ε = (x_t − a·x₀)/s = s·x_t + a·v.
public enum PredictionTarget: String, Sendable, CaseIterable {
    case epsilon
    case sample
    case velocity

    /// Parses `epsilon`/`eps`, `sample`/`x0` or `velocity`/`v`.
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "epsilon", "eps", "noise": self = .epsilon
        case "sample", "x0", "x_0", "data": self = .sample
        case "velocity", "v", "v-prediction", "v_prediction": self = .velocity
        default: throw ConfigurationError(field: "PredictionTarget.name", reason: "unknown prediction target '\(name)': expected epsilon, sample (x0) or velocity (v)")
        }
    }
}

extension DiffusionSchedule {
    /// The training target of kind `target` for clean data `x0` noised with `noise` at `timesteps`
    /// (ε, x₀, or v = √ᾱ_t·ε − √(1 − ᾱ_t)·x₀).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func target<S: BLASScalar>(_ target: PredictionTarget, x0: Tensor<S>, noise: Tensor<S>, timesteps ts: [Int]) throws -> Tensor<S> {
        try checkTimesteps(ts, rows: x0.shape.first ?? 0, "target")
        switch target {
        case .epsilon:
            guard noise.shape == x0.shape else { throw TensorError.shapeMismatch(operation: "target", lhs: x0.shape, rhs: noise.shape) }
            return noise
        case .sample:
            guard noise.shape == x0.shape else { throw TensorError.shapeMismatch(operation: "target", lhs: x0.shape, rhs: noise.shape) }
            return x0
        case .velocity:
            return try rowwiseCombination(ts.map { sqrtAlphaBars[$0] }, noise, ts.map { -sqrtOneMinusAlphaBars[$0] }, x0, "target(velocity)")
        }
    }

    /// The x₀ estimate implied by a prediction of kind `target` at x_t:
    /// ε → (x_t − √(1 − ᾱ_t)·ε)/√ᾱ_t; x₀ → itself; v → √ᾱ_t·x_t − √(1 − ᾱ_t)·v.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func sample<S: BLASScalar>(from prediction: Tensor<S>, _ target: PredictionTarget, xt: Tensor<S>, timesteps ts: [Int]) throws -> Tensor<S> {
        try checkTimesteps(ts, rows: xt.shape.first ?? 0, "sample(from:)")
        switch target {
        case .sample:
            guard prediction.shape == xt.shape else { throw TensorError.shapeMismatch(operation: "sample(from:)", lhs: xt.shape, rhs: prediction.shape) }
            return prediction
        case .epsilon:
            return try rowwiseCombination(ts.map { 1 / sqrtAlphaBars[$0] }, xt,
                                          ts.map { -sqrtOneMinusAlphaBars[$0] / sqrtAlphaBars[$0] }, prediction, "sample(from: ε)")
        case .velocity:
            return try rowwiseCombination(ts.map { sqrtAlphaBars[$0] }, xt, ts.map { -sqrtOneMinusAlphaBars[$0] }, prediction, "sample(from: v)")
        }
    }

    /// The ε estimate implied by a prediction of kind `target` at x_t:
    /// ε → itself; x₀ → (x_t − √ᾱ_t·x₀)/√(1 − ᾱ_t); v → √(1 − ᾱ_t)·x_t + √ᾱ_t·v.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func epsilon<S: BLASScalar>(from prediction: Tensor<S>, _ target: PredictionTarget, xt: Tensor<S>, timesteps ts: [Int]) throws -> Tensor<S> {
        try checkTimesteps(ts, rows: xt.shape.first ?? 0, "epsilon(from:)")
        switch target {
        case .epsilon:
            guard prediction.shape == xt.shape else { throw TensorError.shapeMismatch(operation: "epsilon(from:)", lhs: xt.shape, rhs: prediction.shape) }
            return prediction
        case .sample:
            return try rowwiseCombination(ts.map { 1 / sqrtOneMinusAlphaBars[$0] }, xt,
                                          ts.map { -sqrtAlphaBars[$0] / sqrtOneMinusAlphaBars[$0] }, prediction, "epsilon(from: x₀)")
        case .velocity:
            return try rowwiseCombination(ts.map { sqrtOneMinusAlphaBars[$0] }, xt, ts.map { sqrtAlphaBars[$0] }, prediction, "epsilon(from: v)")
        }
    }

    /// The v estimate implied by a prediction of kind `target` at x_t (v = √ᾱ_t·ε − √(1 − ᾱ_t)·x₀).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func velocity<S: BLASScalar>(from prediction: Tensor<S>, _ target: PredictionTarget, xt: Tensor<S>, timesteps ts: [Int]) throws -> Tensor<S> {
        if target == .velocity {
            guard prediction.shape == xt.shape else { throw TensorError.shapeMismatch(operation: "velocity(from:)", lhs: xt.shape, rhs: prediction.shape) }
            return prediction
        }
        let x0 = try sample(from: prediction, target, xt: xt, timesteps: ts)
        let eps = try epsilon(from: prediction, target, xt: xt, timesteps: ts)
        return try rowwiseCombination(ts.map { sqrtAlphaBars[$0] }, eps, ts.map { -sqrtOneMinusAlphaBars[$0] }, x0, "velocity(from:)")
    }
}
