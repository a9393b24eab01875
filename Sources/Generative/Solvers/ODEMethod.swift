import Linear

/// A time-dependent vector field f(t, x) over batched states: dx/dt = f(t, x). It must return a tensor of the
/// state's shape.
public typealias VectorField<S: BLASScalar> = (_ t: Double, _ x: Tensor<S>) throws -> Tensor<S>

/// Called with the step number (0 for the initial state, then 1, 2, … after each accepted step), the time and
/// the state: the hook for progress reports and trajectory recording.
public typealias StepObserver<S: BLASScalar> = (_ step: Int, _ t: Double, _ x: Tensor<S>) throws -> Void

/// The ODE integrators, by the names used on the command line.
public enum ODEMethod: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Forward Euler, order 1, one evaluation per step.
    case euler
    /// Heun's method (explicit trapezoidal rule), order 2, two evaluations per step. (EDM's sampler, Karras et al.
    /// 2022, also takes an Euler step instead when it lands on σ = 0; that belongs to the sampler, not to this solver.)
    case heun
    /// The classical Runge–Kutta method, order 4, four evaluations per step.
    case rk4
    /// Adaptive Dormand–Prince 5(4) with error control (see `DormandPrince`).
    case dopri5

    /// Parses `euler`, `heun`, `rk4` or `dopri5` (case-insensitive); anything else is an error, never a fallback.
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "euler": self = .euler
        case "heun": self = .heun
        case "rk4", "runge-kutta", "rungekutta": self = .rk4
        case "dopri5", "dormand-prince", "rk45": self = .dopri5
        default: throw ConfigurationError(field: "ODEMethod.name", reason: "unknown ODE solver '\(name)': expected euler, heun, rk4 or dopri5")
        }
    }

    /// Order of accuracy: the global error of a fixed step h is O(hᵖ).
    public var order: Int {
        switch self { case .euler: return 1; case .heun: return 2; case .rk4: return 4; case .dopri5: return 5 }
    }

    /// Evaluations of f per step (nil for the adaptive method, whose count is reported in `SolverStatistics`).
    public var evaluationsPerStep: Int? {
        switch self { case .euler: return 1; case .heun: return 2; case .rk4: return 4; case .dopri5: return nil }
    }

    /// Whether the step size is chosen by error control rather than by the caller.
    public var isAdaptive: Bool { self == .dopri5 }

    public var description: String { rawValue }
}

/// What an integration cost.
public struct SolverStatistics: Sendable, Equatable, CustomStringConvertible {
    /// Evaluations of the vector field (network evaluations, when f is a network).
    public var evaluations: Int = 0
    /// Steps taken (for the adaptive method: accepted steps).
    public var acceptedSteps: Int = 0
    /// Steps rejected by error control (always 0 for the fixed-step methods).
    public var rejectedSteps: Int = 0

    public init(evaluations: Int = 0, acceptedSteps: Int = 0, rejectedSteps: Int = 0) {
        self.evaluations = evaluations; self.acceptedSteps = acceptedSteps; self.rejectedSteps = rejectedSteps
    }

    public var description: String { "\(evaluations) evaluations, \(acceptedSteps) steps accepted, \(rejectedSteps) rejected" }
}

/// The end of an integration: the final state and time, and what it cost.
public struct ODESolution<S: BLASScalar>: Sendable {
    public var state: Tensor<S>
    public var time: Double
    public var statistics: SolverStatistics

    public init(state: Tensor<S>, time: Double, statistics: SolverStatistics) {
        self.state = state; self.time = time; self.statistics = statistics
    }
}

/// Evaluates f and checks that it returned a tensor of the state's shape.
@inline(__always)
func evaluate<S: BLASScalar>(_ f: VectorField<S>, _ t: Double, _ x: Tensor<S>, _ stats: inout SolverStatistics, _ who: String) throws -> Tensor<S> {
    let y = try f(t, x)
    stats.evaluations += 1
    guard y.shape == x.shape else {
        throw TensorError.shapeMismatch(operation: "\(who): the vector field must return the state's shape (state, returned)", lhs: x.shape, rhs: y.shape)
    }
    return y
}

/// x + Σ cᵢ·kᵢ by BLAS axpy (the terms with cᵢ = 0 are skipped).
@inline(__always)
func combine<S: BLASScalar>(_ x: Tensor<S>, _ terms: [(Double, Tensor<S>)]) throws -> Tensor<S> {
    var y = x
    for (c, k) in terms where c != 0 { try y.addScaled(k, S(c)) }
    return y
}
