import Linear

/// Integrates dx/dt = f(t, x) over batched `Tensor` states with Euler, Heun, RK4 (fixed steps on a time grid)
/// or adaptive Dormand–Prince 5(4). Time may run backwards (t₁ < t₀), as diffusion samplers do.
///
/// One step from t to t + h (k₁ = f(t, x)):
/// - Euler:  x + h·k₁;
/// - Heun:   x + h/2·(k₁ + f(t + h, x + h·k₁));
/// - RK4:    x + h/6·(k₁ + 2k₂ + 2k₃ + k₄), k₂ = f(t + h/2, x + h/2·k₁), k₃ = f(t + h/2, x + h/2·k₂), k₄ = f(t + h, x + h·k₃).
/// Every state update is BLAS axpy on whole tensors.
public enum ODESolver {
    /// `steps` equal steps from t₀ to t₁: [t₀, t₀ + h, …, t₁] with h = (t₁ − t₀)/steps (the last point exactly t₁).
    public static func uniformGrid(from t0: Double, to t1: Double, steps: Int) throws -> [Double] {
        guard steps >= 1 else { throw ConfigurationError(field: "ODESolver.solve(steps:)", reason: "ODE solver: the number of steps must be ≥ 1, got \(steps)") }
        guard t0.isFinite, t1.isFinite, t0 != t1 else {
            throw ConfigurationError(field: "ODESolver.uniformGrid(from:to:)", reason: "ODE solver: need finite, distinct start and end times, got \(t0) and \(t1)")
        }
        return (0...steps).map { $0 == steps ? t1 : t0 + (t1 - t0) * Double($0) / Double(steps) }
    }

    /// One step of a fixed-step method from (t, x) with step h; returns the new state and adds to `statistics`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func step<S: BLASScalar>(_ method: ODEMethod, _ f: VectorField<S>, t: Double, x: Tensor<S>, h: Double,
                                           statistics: inout SolverStatistics) throws -> Tensor<S> {
        let who = method.rawValue
        let k1 = try evaluate(f, t, x, &statistics, who)
        return try step(method, f, t: t, x: x, h: h, k1: k1, statistics: &statistics)
    }

    /// A fixed step given k₁ = f(t, x) already evaluated.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func step<S: BLASScalar>(_ method: ODEMethod, _ f: VectorField<S>, t: Double, x: Tensor<S>, h: Double, k1: Tensor<S>,
                                    statistics: inout SolverStatistics) throws -> Tensor<S> {
        let who = method.rawValue
        switch method {
        case .euler:
            return try combine(x, [(h, k1)])
        case .heun:
            let k2 = try evaluate(f, t + h, combine(x, [(h, k1)]), &statistics, who)
            return try combine(x, [(h / 2, k1), (h / 2, k2)])
        case .rk4:
            let k2 = try evaluate(f, t + h / 2, combine(x, [(h / 2, k1)]), &statistics, who)
            let k3 = try evaluate(f, t + h / 2, combine(x, [(h / 2, k2)]), &statistics, who)
            let k4 = try evaluate(f, t + h, combine(x, [(h, k3)]), &statistics, who)
            return try combine(x, [(h / 6, k1), (h / 3, k2), (h / 3, k3), (h / 6, k4)])
        case .dopri5:
            throw ConfigurationError(field: "ODEMethod", reason: "ODE solver: dopri5 is adaptive; integrate with DormandPrince or solve(…, method: .dopri5)")
        }
    }

    /// Integrates through the points of `times` (monotone, at least two) and returns the state at the last one.
    ///
    /// Fixed-step methods take one step per interval; `.dopri5` integrates each interval adaptively with
    /// `tolerances` (so `times` are the output times, and the step count comes from error control).
    /// `observe` sees step 0 (the initial state) and then the state at each later grid time.
    /// - Throws: `ConfigurationError` (`ODESolver.solve(times:)`) for a grid that is not strictly monotone or has fewer than two
    ///   points, a shape error if f returns the wrong shape, and whatever f throws.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func solve<S: BLASScalar>(_ f: VectorField<S>, initial x0: Tensor<S>, times: [Double], method: ODEMethod,
                                            tolerances: DormandPrince = DormandPrince(),
                                            observe: StepObserver<S>? = nil) throws -> ODESolution<S> {
        try checkGrid(times, method.rawValue)
        var stats = SolverStatistics()
        var x = x0
        try observe?(0, times[0], x)
        if method == .dopri5 {
            var h: Double? = tolerances.initialStep
            for i in 1..<times.count {
                var local = tolerances; local.initialStep = h
                let s = try local.solve(f, initial: x, from: times[i - 1], to: times[i], lastStep: &h)
                x = s.state
                stats.evaluations += s.statistics.evaluations
                stats.acceptedSteps += s.statistics.acceptedSteps
                stats.rejectedSteps += s.statistics.rejectedSteps
                try observe?(i, times[i], x)
            }
            return ODESolution(state: x, time: times[times.count - 1], statistics: stats)
        }
        for i in 1..<times.count {
            x = try step(method, f, t: times[i - 1], x: x, h: times[i] - times[i - 1], statistics: &stats)
            stats.acceptedSteps += 1
            try observe?(i, times[i], x)
        }
        return ODESolution(state: x, time: times[times.count - 1], statistics: stats)
    }

    /// Integrates from t₀ to t₁: `steps` equal steps for the fixed-step methods; for `.dopri5` `steps` is ignored
    /// and the step sizes come from `tolerances`, with `observe` called after every accepted step.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func solve<S: BLASScalar>(_ f: VectorField<S>, initial x0: Tensor<S>, from t0: Double, to t1: Double,
                                            steps: Int, method: ODEMethod, tolerances: DormandPrince = DormandPrince(),
                                            observe: StepObserver<S>? = nil) throws -> ODESolution<S> {
        if method == .dopri5 {
            return try tolerances.solve(f, initial: x0, from: t0, to: t1, observe: observe)
        }
        return try solve(f, initial: x0, times: uniformGrid(from: t0, to: t1, steps: steps), method: method, observe: observe)
    }

    static func checkGrid(_ times: [Double], _ who: String) throws {
        guard times.count >= 2 else { throw ConfigurationError(field: "ODESolver.solve(times:)", reason: "\(who): the time grid needs at least 2 points, got \(times.count)") }
        guard times.allSatisfy(\.isFinite) else { throw ConfigurationError(field: "ODESolver.solve(times:)", reason: "\(who): the time grid has non-finite times") }
        let up = times[1] > times[0]
        for i in 1..<times.count where up ? !(times[i] > times[i - 1]) : !(times[i] < times[i - 1]) {
            throw ConfigurationError(field: "ODESolver.solve(times:)", reason: "\(who): the time grid must be strictly monotone; times[\(i - 1)] = \(times[i - 1]), times[\(i)] = \(times[i])")
        }
    }
}
