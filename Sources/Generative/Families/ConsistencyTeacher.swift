import Foundation
import Linear
import Neural

/// A trained diffusion or flow model seen as an EDM denoiser, the teacher of consistency distillation.
///
/// In EDM's coordinates a noisy point is x = x₀ + σ·z (variance exploding), and the teacher's probability-flow
/// ODE is dx/dσ = (x − D(x, σ))/σ with D(x, σ) ≈ E[x₀ | x]. Each family converts:
///
/// - DDPM (VP, discrete): σ_t = √((1 − ᾱ_t)/ᾱ_t); the network sees x/√(1 + σ²) at the (fractional) timestep t
///   with σ_t = σ (log σ interpolated between the table's entries, clamped to 0…T−1), and
///   x̂₀ = x − σ·ε̂ (ε-prediction), x̂₀ (sample), x/(1 + σ²) − σ/√(1 + σ²)·v̂ (velocity);
/// - flow matching (x_t = (1 − (1 − σ_min)t)·x_noise + t·x_data): t = 1/(σ + 1 − σ_min), the network sees t·x,
///   and x̂_data = (1 − (1 − σ_min)t)·v̂ + (1 − σ_min)·t·x;
/// - score SDE: σ(t) = s(t)/m(t) inverted by bisection on [ε, 1], the network sees m(t)·x, and x̂₀ = x − σ·ε̂
///   (ε̂ = −s(t)·score).
///
/// Each family's `guidanceScale` applies.
public protocol ConsistencyTeacher<Scalar>: AnyObject {
    associatedtype Scalar: BLASScalar
    /// D(x, σ): the estimate of x₀ from x = x₀ + σ·z, one σ per row (or one for all). One network evaluation.
    func denoise(_ x: Tensor<Scalar>, sigmas: [Double], labels: [Int]?) throws -> Tensor<Scalar>
}

extension ConsistencyTeacher {
    /// One Heun step (EDM's second-order step, as in consistency distillation) of dx/dσ = (x − D(x, σ))/σ from
    /// σ = `from` to `to` (per row): d = (x − D(x, σ))/σ, x' = x + (σ' − σ)·d, d' = (x' − D(x', σ'))/σ',
    /// x ← x + (σ' − σ)·(d + d')/2. Two evaluations; rows with σ' = 0 take the Euler step.
    public func heunStep(_ x: Tensor<Scalar>, from start: [Double], to end: [Double], labels: [Int]?) throws -> Tensor<Scalar> {
        let n = x.shape.first ?? 0
        let from = perRow(start, n), to = perRow(end, n)
        guard from.count == n, to.count == n, from.allSatisfy({ $0 > 0 }), to.allSatisfy({ $0 >= 0 }) else {
            throw ConfigurationError(field: "ConsistencyTeacher.heunStep(from:to:)", reason: "Heun step: need \(n) positive start levels and \(n) non-negative end levels (or one of each for all rows)")
        }
        let h = zip(from, to).map { $1 - $0 }
        // slope₁ = (x − D(x, σ))/σ, x' = x + h·slope₁.
        let d1 = try denoise(x, sigmas: from, labels: labels)
        let slope1 = try rowwiseCombination(from.map { 1 / $0 }, x, from.map { -1 / $0 }, d1, "Heun step")
        var euler = x
        try euler.addScaled(rowwiseScale(h, slope1, "Heun step"), 1)
        guard to.contains(where: { $0 > 0 }) else { return euler }
        // slope₂ = (x' − D(x', σ'))/σ' (rows with σ' = 0 get weight 0 and keep the Euler step).
        let safe = to.map { Swift.max($0, 1e-12) }
        let d2 = try denoise(euler, sigmas: safe, labels: labels)
        let slope2 = try rowwiseCombination(safe.map { 1 / $0 }, euler, safe.map { -1 / $0 }, d2, "Heun step")
        let w1 = (0..<n).map { to[$0] > 0 ? h[$0] / 2 : h[$0] }, w2 = (0..<n).map { to[$0] > 0 ? h[$0] / 2 : 0 }
        var out = x
        try out.addScaled(rowwiseCombination(w1, slope1, w2, slope2, "Heun step"), 1)
        return out
    }
}

/// One value per row: `v` itself, or its single value repeated n times.
func perRow(_ v: [Double], _ n: Int) -> [Double] { v.count == 1 && n != 1 ? [Double](repeating: v[0], count: n) : v }

extension DDPM: ConsistencyTeacher {
    /// σ_t = √((1 − ᾱ_t)/ᾱ_t) of the discrete schedule, ascending in t.
    var sigmaTable: [Double] { schedule.alphaBars.map { ((1 - $0) / $0).squareRoot() } }

    /// The fractional timestep whose σ is `sigma` (log-linear between table entries, clamped to 0…T−1).
    public func timestep(sigma: Double) -> Double {
        let table = sigmaTable
        if sigma <= table[0] { return 0 }
        if sigma >= table[table.count - 1] { return Double(table.count - 1) }
        var lo = 0, hi = table.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if table[mid] <= sigma { lo = mid } else { hi = mid }
        }
        let a = Foundation.log(table[lo]), b = Foundation.log(table[hi])
        return Double(lo) + (Foundation.log(sigma) - a) / Swift.max(b - a, 1e-300)
    }

    public func denoise(_ x: Tensor<S>, sigmas given: [Double], labels: [Int]?) throws -> Tensor<S> {
        let sigmas = perRow(given, x.shape.first ?? 0)
        let input = try rowwiseScale(sigmas.map { 1 / (1 + $0 * $0).squareRoot() }, x, "DDPM teacher input")
        let pred = try denoiser.predict(input, times: sigmas.map(timestep(sigma:)), labels: labels, guidance: guidanceScale)
        switch configuration.target {
        case .epsilon: return try rowwiseCombination(sigmas.map { _ in 1 }, x, sigmas.map { -$0 }, pred, "DDPM teacher")
        case .sample:
            // x_t = x/√(1 + σ²): the skip c_t·x_t is v/(v + σ²)·x.
            let v = configuration.skipVariance
            return v > 0 ? try rowwiseCombination(sigmas.map { _ in 1 }, pred, sigmas.map { v / (v + $0 * $0) }, x, "DDPM teacher skip") : pred
        case .velocity:
            return try rowwiseCombination(sigmas.map { 1 / (1 + $0 * $0) }, x, sigmas.map { -$0 / (1 + $0 * $0).squareRoot() }, pred, "DDPM teacher")
        }
    }
}

extension FlowMatching: ConsistencyTeacher {
    public func denoise(_ x: Tensor<S>, sigmas given: [Double], labels: [Int]?) throws -> Tensor<S> {
        let sigmas = perRow(given, x.shape.first ?? 0)
        let c = 1 - configuration.sigmaMin
        let t = sigmas.map { 1 / ($0 + c) }
        let xt = try rowwiseScale(t, x, "flow-matching teacher input")
        let v = try denoiser.predict(xt, times: t.map(embeddingTime), labels: labels, guidance: guidanceScale)
        if configuration.prediction == .data { return try withSkip(v, xt, times: t) }   // the network's output (plus skip) is x̂₁
        return try rowwiseCombination(t.map { 1 - c * $0 }, v, t.map { _ in c }, xt, "flow-matching teacher")
    }
}

extension ScoreSDEModel: ConsistencyTeacher {
    /// The SDE time t ∈ [ε, 1] with s(t)/m(t) = σ (bisection; clamped at the ends).
    public func time(sigma: Double) -> Double {
        let e = sde.trainingEpsilon
        func ratio(_ t: Double) -> Double { sde.marginalStd(t) / sde.marginalMeanCoefficient(t) }
        if sigma <= ratio(e) { return e }
        if sigma >= ratio(1) { return 1 }
        var lo = e, hi = 1.0
        for _ in 0..<60 {
            let mid = 0.5 * (lo + hi)
            if ratio(mid) < sigma { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }

    public func denoise(_ x: Tensor<S>, sigmas given: [Double], labels: [Int]?) throws -> Tensor<S> {
        let sigmas = perRow(given, x.shape.first ?? 0)
        var cache: [Double: Double] = [:]
        let ts = sigmas.map { s -> Double in
            if let t = cache[s] { return t }
            let t = time(sigma: s); cache[s] = t; return t
        }
        let xt = try rowwiseScale(ts.map(sde.marginalMeanCoefficient), x, "score-SDE teacher input")
        let eps = try noisePrediction(xt, times: ts, labels: labels)
        // ε̂ from the network (score = −ε̂/s), x̂₀ = (x_t − s·ε̂)/m = x − σ·ε̂ with σ the requested level.
        return try rowwiseCombination(sigmas.map { _ in 1 }, x, sigmas.map { -$0 }, eps, "score-SDE teacher")
    }
}
