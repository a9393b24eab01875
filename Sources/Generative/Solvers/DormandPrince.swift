import Foundation
import Linear

/// The adaptive Dormand–Prince 5(4) method (Dormand & Prince 1980; Hairer, Nørsett & Wanner, *Solving ODEs I*,
/// §II.4–5): seven stages with the first-same-as-last property (six new evaluations per attempted step), the
/// fifth-order solution propagated and the embedded fourth-order one used for the error estimate.
///
/// Error control: with sc_i = atol + rtol·max(|x_i|, |x̂_i|) and err = √(mean_i((x̂_i − x̃_i)/sc_i)²) (RMS norm),
/// a step is accepted when err ≤ 1; the next step is h·min(maxFactor, max(minFactor, safety·err^{−1/5})), never
/// growing right after a rejection. Without `initialStep` the first step comes from Hairer's starting-step
/// algorithm (one extra evaluation).
///
/// Defaults rtol = atol = 1e-5 (as FFJORD and most continuous-normalising-flow code), safety 0.9, factors
/// 0.2…10, at most 10 000 attempted steps.
public struct DormandPrince: Sendable, Equatable {
    public var relativeTolerance: Double
    public var absoluteTolerance: Double
    /// The first step size to try (its sign is ignored); nil picks one automatically.
    public var initialStep: Double?
    /// The largest number of attempted steps before giving up with an error.
    public var maxSteps: Int
    public var safety: Double
    public var minFactor: Double
    public var maxFactor: Double

    public init(relativeTolerance: Double = 1e-5, absoluteTolerance: Double = 1e-5, initialStep: Double? = nil,
                maxSteps: Int = 10_000, safety: Double = 0.9, minFactor: Double = 0.2, maxFactor: Double = 10) {
        self.relativeTolerance = relativeTolerance; self.absoluteTolerance = absoluteTolerance
        self.initialStep = initialStep; self.maxSteps = maxSteps
        self.safety = safety; self.minFactor = minFactor; self.maxFactor = maxFactor
    }

    // Butcher tableau.
    static let c: [Double] = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1]
    static let a: [[Double]] = [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
        [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ]
    /// b − b̂: fifth-order weights minus the embedded fourth-order ones.
    static let e: [Double] = [71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40]

    func validate() throws {
        guard relativeTolerance >= 0, absoluteTolerance >= 0, relativeTolerance + absoluteTolerance > 0,
              relativeTolerance.isFinite, absoluteTolerance.isFinite else {
            throw ConfigurationError(field: "DormandPrince.relativeTolerance", reason: "dopri5: tolerances must be ≥ 0 and not both 0, got rtol \(relativeTolerance), atol \(absoluteTolerance)")
        }
        try ConfigurationError.check("DormandPrince", ["maxSteps": maxSteps >= 1, "safety": safety > 0 && safety <= 1,
                                                     "minFactor": minFactor > 0 && minFactor <= 1, "maxFactor": maxFactor >= 1],
                                     reason: "dopri5: need maxSteps ≥ 1, 0 < safety ≤ 1, 0 < minFactor ≤ 1 ≤ maxFactor")
        if let h = initialStep, !(h.isFinite && h != 0) {
            throw ConfigurationError(field: "DormandPrince.initialStep", reason: "dopri5: the initial step must be finite and non-zero, got \(h)")
        }
    }

    /// Integrates dx/dt = f(t, x) from t₀ to t₁ (either direction) and returns the state at t₁ with the number of
    /// evaluations and of accepted and rejected steps. `observe` sees step 0 and then every accepted step.
    /// - Throws: `ConfigurationError` (`DormandPrince`, `.maxSteps`) if the step size underflows or the step budget
    ///   runs out, `TensorError.nonFinite` if the state becomes non-finite, naming the time reached.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func solve<S: BLASScalar>(_ f: VectorField<S>, initial x0: Tensor<S>, from t0: Double, to t1: Double,
                                     observe: StepObserver<S>? = nil) throws -> ODESolution<S> {
        var h: Double? = initialStep
        return try solve(f, initial: x0, from: t0, to: t1, lastStep: &h, observe: observe)
    }

    /// As `solve`, starting from step size `lastStep` when given and returning the last proposed step in it
    /// (so that consecutive intervals of a time grid continue smoothly).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func solve<S: BLASScalar>(_ f: VectorField<S>, initial x0: Tensor<S>, from t0: Double, to t1: Double,
                              lastStep: inout Double?, observe: StepObserver<S>? = nil) throws -> ODESolution<S> {
        try validate()
        guard t0.isFinite, t1.isFinite else { throw ConfigurationError(field: "DormandPrince.solve(from:to:)", reason: "dopri5: times must be finite, got \(t0) → \(t1)") }
        var stats = SolverStatistics()
        try observe?(0, t0, x0)
        if t0 == t1 { return ODESolution(state: x0, time: t1, statistics: stats) }
        let direction: Double = t1 > t0 ? 1 : -1
        var t = t0, x = x0
        var k1 = try evaluate(f, t, x, &stats, "dopri5")
        var proposed = Swift.abs(lastStep ?? 0)
        if proposed == 0 { proposed = try startingStep(f, t: t, x: x, k1: k1, direction: direction, statistics: &stats) }
        var previousRejected = false
        var attempts = 0
        while direction * (t1 - t) > 0 {
            guard attempts < maxSteps else {
                throw ConfigurationError(field: "DormandPrince.maxSteps", reason: "dopri5: \(maxSteps) steps were not enough to reach t = \(t1) (reached \(t)); loosen the tolerances or raise maxSteps")
            }
            attempts += 1
            let remaining = Swift.abs(t1 - t)
            let last = proposed >= remaining
            let h = last ? remaining : proposed
            guard !h.isNaN else {
                throw TensorError.nonFinite(count: 1, firstIndex: [], context: "dopri5: the step size at t = \(t) (h = \(h)); the field or the state is non-finite")
            }
            guard h > 16 * Swift.max(t.ulp, t1.ulp) else {
                throw ConfigurationError(field: "DormandPrince", reason: "dopri5: step size underflow (h = \(h)) at t = \(t); the problem may be stiff or the field non-finite")
            }
            let hs = direction * h
            var k = [k1]
            k.reserveCapacity(7)
            for s in 1..<6 {
                let xs = try combine(x, (0..<s).map { (hs * DormandPrince.a[s][$0], k[$0]) })
                k.append(try evaluate(f, t + DormandPrince.c[s] * hs, xs, &stats, "dopri5"))
            }
            let xNew = try combine(x, (0..<6).map { (hs * DormandPrince.a[6][$0], k[$0]) })
            let tNew = last ? t1 : t + hs
            let k7 = try evaluate(f, tNew, xNew, &stats, "dopri5")
            k.append(k7)
            let err = errorNorm(x, xNew, k, hs)
            if err <= 1 {
                t = tNew; x = xNew; k1 = k7
                stats.acceptedSteps += 1
                try observe?(stats.acceptedSteps, t, x)
                var factor = err == 0 ? maxFactor : Swift.min(maxFactor, Swift.max(minFactor, safety * Foundation.pow(err, -0.2)))
                if previousRejected { factor = Swift.min(factor, 1) }
                previousRejected = false
                // A step shortened to land on t₁ says little about the next one: keep the larger proposal.
                proposed = last ? Swift.max(proposed, h * factor) : h * factor
            } else {
                // err is > 1 or NaN (a non-finite state): shrink and retry.
                stats.rejectedSteps += 1
                previousRejected = true
                proposed = h * (err.isFinite ? Swift.max(minFactor, safety * Foundation.pow(err, -0.2)) : minFactor)
            }
        }
        lastStep = proposed
        return ODESolution(state: x, time: t1, statistics: stats)
    }

    /// RMS over elements of (h·Σ eⱼkⱼ)_i / (atol + rtol·max(|x_i|, |x̂_i|)), accumulated in Double.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func errorNorm<S: BLASScalar>(_ x: Tensor<S>, _ xNew: Tensor<S>, _ k: [Tensor<S>], _ h: Double) -> Double {
        let n = x.count
        if n == 0 { return 0 }
        let e = DormandPrince.e
        var acc = 0.0
        x.withUnsafeBufferPointer { px in
            xNew.withUnsafeBufferPointer { py in
                k[0].withUnsafeBufferPointer { k0 in k[2].withUnsafeBufferPointer { k2 in k[3].withUnsafeBufferPointer { k3 in
                k[4].withUnsafeBufferPointer { k4 in k[5].withUnsafeBufferPointer { k5 in k[6].withUnsafeBufferPointer { k6 in
                    for i in 0..<n {
                        let d = h * (e[0] * Double(k0[i]) + e[2] * Double(k2[i]) + e[3] * Double(k3[i])
                                     + e[4] * Double(k4[i]) + e[5] * Double(k5[i]) + e[6] * Double(k6[i]))
                        let sc = absoluteTolerance + relativeTolerance * Swift.max(Swift.abs(Double(px[i])), Swift.abs(Double(py[i])))
                        let r = d / sc
                        acc += r * r
                    }
                } } } } } }
            }
        }
        return (acc / Double(n)).squareRoot()
    }

    /// Hairer, Nørsett & Wanner's starting step (Solving ODEs I, §II.4): h₀ = 0.01·‖x‖/‖f‖ (scaled norms), one Euler
    /// step to estimate the second derivative, then h = min(100·h₀, (0.01/max(‖f‖, ‖f′‖))^{1/5}).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func startingStep<S: BLASScalar>(_ f: VectorField<S>, t: Double, x: Tensor<S>, k1: Tensor<S>, direction: Double,
                                     statistics: inout SolverStatistics) throws -> Double {
        func scaledNorm(_ v: Tensor<S>) -> Double {
            let n = Swift.max(1, v.count)
            var acc = 0.0
            v.withUnsafeBufferPointer { pv in x.withUnsafeBufferPointer { px in
                for i in 0..<v.count {
                    let r = Double(pv[i]) / (absoluteTolerance + relativeTolerance * Swift.abs(Double(px[i])))
                    acc += r * r
                }
            } }
            return (acc / Double(n)).squareRoot()
        }
        let d0 = scaledNorm(x), d1 = scaledNorm(k1)
        let h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
        let x1 = try combine(x, [(direction * h0, k1)])
        let k2 = try evaluate(f, t + direction * h0, x1, &statistics, "dopri5")
        let d2 = scaledNorm(try k2 - k1) / h0
        let m = Swift.max(d1, d2)
        let h1 = m <= 1e-15 ? Swift.max(1e-6, h0 * 1e-3) : Foundation.pow(0.01 / m, 0.2)
        return Swift.min(100 * h0, h1)
    }
}
