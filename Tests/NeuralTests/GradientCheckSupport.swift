// Finite-difference gradient checks in Double.
//
// For an operation f of inputs x₁…xₖ the objective is L = Σ w ⊙ f(x) with fixed random weights w (so every
// output element counts and nothing cancels by symmetry). The analytic gradient from `backward()` is compared
// with central differences (L(x + h·eᵢ) − L(x − h·eᵢ))/2h, h = 1e-5, by the normwise relative error
// max|analytic − numeric| / max|numeric|.
//
// Second order: G(x) = Σᵢ ⟨vᵢ, ∂L/∂xᵢ⟩ is computed with `gradients(of:wrt:createGraph: true)` and
// differentiated by `backward()` (Hessian–vector products through the recorded backward graph); the result is
// compared with central differences of G evaluated by plain first-order passes, which also cross-checks the
// fused first-order kernels against the differentiable composite rules.

import Foundation
import Linear
import Neural
import Testing
import TestSupport

/// A differentiable function of Double variables under test.
typealias TestFunction = @Sendable ([Variable<Double>]) throws -> Variable<Double>

/// One gradient-check case: input shapes, how to fill them, and the function.
struct GradCase: CustomStringConvertible, Sendable {
    enum Domain: Sendable { case normal, positive, awayFromZero }
    let name: String
    let shapes: [[Int]]
    let domain: Domain
    let f: TestFunction
    init(_ name: String, _ shapes: [[Int]], _ domain: Domain = .normal, _ f: @escaping TestFunction) {
        self.name = name; self.shapes = shapes; self.domain = domain; self.f = f
    }
    var description: String { name }

    /// Deterministic inputs for this case.
    func inputs(seed: UInt64 = 7) -> [Tensor<Double>] {
        var g = RandomGenerator(seed: seed &+ UInt64(truncatingIfNeeded: name.hashValueStable))
        return shapes.map { s in
            let t = Tensor<Double>.normal(s, using: &g)
            switch domain {
            case .normal: return t
            case .positive: return t.abs() + 0.5
            case .awayFromZero: return t.map { $0 >= 0 ? $0 + 0.3 : $0 - 0.3 }
            }
        }
    }
}

extension String {
    /// A hash that is the same on every run (Swift's `hashValue` is seeded per process).
    var hashValueStable: UInt64 {
        var h: UInt64 = 1469598103934665603
        for b in utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return h
    }
}

/// L = Σ w ⊙ f(x) for fixed weights w drawn from the output's shape.
func objective(_ f: TestFunction, _ xs: [Variable<Double>]) throws -> Variable<Double> {
    let y = try f(xs)
    let w = Tensor<Double>.normal(y.shape, seed: 99)
    return try (y * w).sum()
}

/// max|a − n| / max|n| over all inputs (with a floor of 1e-8 on the denominator).
func relativeError(_ analytic: [Tensor<Double>], _ numeric: [Tensor<Double>]) -> Double {
    var num = 0.0, den = 0.0
    for (a, n) in zip(analytic, numeric) {
        for (x, y) in zip(a.scalars, n.scalars) { num = max(num, abs(x - y)); den = max(den, abs(y)) }
    }
    return num / max(den, 1e-8)
}

/// Central differences of the scalar function `L` with respect to every element of every input.
func numericGradient(_ inputs: [Tensor<Double>], h: Double = 1e-5, _ L: ([Tensor<Double>]) throws -> Double) rethrows -> [Tensor<Double>] {
    var out: [Tensor<Double>] = []
    for i in inputs.indices {
        var g = Tensor<Double>.zeros(inputs[i].shape)
        for j in 0..<inputs[i].count {
            var plus = inputs, minus = inputs
            plus[i].withUnsafeMutableBufferPointer { $0[j] += h }
            minus[i].withUnsafeMutableBufferPointer { $0[j] -= h }
            let d = (try L(plus) - L(minus)) / (2 * h)
            g.withUnsafeMutableBufferPointer { $0[j] = d }
        }
        out.append(g)
    }
    return out
}

/// The first-order relative error of `c` (analytic by backward vs central differences).
func firstOrderError(_ c: GradCase) throws -> Double {
    let x = c.inputs()
    let vars = x.map { Variable($0, requiresGrad: true) }
    try objective(c.f, vars).backward()
    let analytic = vars.map { $0.grad ?? Tensor<Double>.zeros($0.shape) }
    let numeric = try numericGradient(x) { xs in try noGrad { try objective(c.f, xs.map { Variable($0) }).scalar } }
    return relativeError(analytic, numeric)
}

/// G(x) = Σᵢ ⟨vᵢ, ∂L/∂xᵢ⟩, with the gradients built as a graph when `createGraph`.
func directionalGradient(_ c: GradCase, _ vars: [Variable<Double>], createGraph: Bool) throws -> Variable<Double> {
    let L = try objective(c.f, vars)
    let grads = try gradients(of: L, wrt: vars, createGraph: createGraph)
    var total: Variable<Double>? = nil
    for (i, g) in grads.enumerated() {
        let v = Tensor<Double>.normal(g.shape, seed: 1000 + UInt64(i))
        let term = try (g * v).sum()
        total = try total.map { try $0 + term } ?? term
    }
    return total!
}

/// The second-order relative error of `c`: ∇G by backward through the gradient graph vs central differences of G.
func secondOrderError(_ c: GradCase) throws -> Double {
    let x = c.inputs()
    let vars = x.map { Variable($0, requiresGrad: true) }
    let G = try directionalGradient(c, vars, createGraph: true)
    guard G.requiresGrad else {
        // The gradient does not depend on the inputs (a linear function): the Hessian is zero, so the finite
        // differences of G must vanish; their largest magnitude is returned as the (absolute) error.
        let numeric = try numericGradient(x) { xs in try directionalGradient(c, xs.map { Variable($0, requiresGrad: true) }, createGraph: false).scalar }
        return numeric.map { $0.maxAbs() }.max() ?? 0
    }
    try G.backward()
    let analytic = vars.map { $0.grad ?? Tensor<Double>.zeros($0.shape) }
    let numeric = try numericGradient(x) { xs in
        try directionalGradient(c, xs.map { Variable($0, requiresGrad: true) }, createGraph: false).scalar
    }
    return relativeError(analytic, numeric)
}
