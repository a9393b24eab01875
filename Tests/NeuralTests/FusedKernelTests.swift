// The fused kernels of the training step against the unfused operations they replace, in Float and Double:
// values and gradients bit for bit (the same vector kernels and expressions, the same summation order), Float
// gradients against central finite differences taken in Double, and the AdamW update over the flat moment
// buffers against a per-parameter reference update.

import Foundation
import Linear
import Neural
import Testing
import TestSupport

/// Σ w ⊙ y with fixed weights w (every output element counts).
private func weightedSum<S: BLASScalar>(_ y: Variable<S>) throws -> Variable<S> {
    try (y * Tensor<S>.normal(y.shape, seed: 99)).sum()
}

/// Gradients of Σ w ⊙ f(x, W, b) with respect to x, W and b, and the value f(x, W, b).
private func gradientsOf<S: BLASScalar>(_ x: Tensor<S>, _ w: Tensor<S>, _ b: Tensor<S>?,
                                        _ f: (Variable<S>, Variable<S>, Variable<S>?) throws -> Variable<S>)
    throws -> (y: Tensor<S>, grads: [Tensor<S>]) {
    let xv = Variable(x, requiresGrad: true), wv = Variable(w, requiresGrad: true)
    let bv = b.map { Variable($0, requiresGrad: true) }
    let y = try f(xv, wv, bv)
    try weightedSum(y).backward()
    return (y.value, [xv.grad!, wv.grad!] + (bv.map { [$0.grad!] } ?? []))
}

private let fusedActivations: [ActivationFunction] = [.silu, .gelu, .relu]

/// The same values in the other precision (Float → Double is exact; Double → Float rounds).
private func toFloat(_ t: Tensor<Double>) -> Tensor<Float> { try! Tensor<Float>(t.scalars.map { Float($0) }, shape: t.shape) }
private func toDouble(_ t: Tensor<Float>) -> Tensor<Double> { try! Tensor<Double>(t.scalars.map { Double($0) }, shape: t.shape) }

@Suite("Fused kernels of the training step")
struct FusedKernelTests {
    func fusedEqualsUnfused<S: BLASScalar>(_: S.Type, _ act: ActivationFunction, bias: Bool) throws {
        // Shapes large enough for the vector kernels' full-width bodies, tails and (with 2 threads) several chunks.
        let x = Tensor<S>.normal([37, 29], seed: 1), w = Tensor<S>.normal([23, 29], std: 0.3, seed: 2)
        let b: Tensor<S>? = bias ? Tensor<S>.normal([23], seed: 3) : nil
        let fused = try gradientsOf(x, w, b) { try linear($0, weight: $1, bias: $2, activation: act) }
        let plain = try gradientsOf(x, w, b) { act.apply(try linear($0, weight: $1, bias: $2)) }
        #expect(fused.y == plain.y, "\(S.self) \(act): fused forward differs")
        for (i, (a, p)) in zip(fused.grads, plain.grads).enumerated() {
            #expect(a == p, "\(S.self) \(act) bias \(bias): gradient \(i) differs by up to \(maxDifference(a, p))")
        }
    }

    @Test("fused linear + activation equals the unfused operations bit for bit (Float, Double)", arguments: fusedActivations)
    func bitIdentical(_ act: ActivationFunction) throws {
        for bias in [true, false] {
            try fusedEqualsUnfused(Float.self, act, bias: bias)
            try fusedEqualsUnfused(Double.self, act, bias: bias)
        }
    }

    @Test("fused linear + activation in Float: gradients match central differences taken in Double", arguments: fusedActivations)
    func floatFiniteDifferences(_ act: ActivationFunction) throws {
        // The Float inputs, and the same values in Double for the central differences.
        let xf = toFloat(Tensor<Double>.normal([6, 5], seed: 4)), wf = toFloat(Tensor<Double>.normal([4, 5], seed: 5))
        let bf = toFloat(Tensor<Double>.normal([4], seed: 6))
        let analytic = try gradientsOf(xf, wf, bf) { try linear($0, weight: $1, bias: $2, activation: act) }.grads
        let numeric = try numericGradient([toDouble(xf), toDouble(wf), toDouble(bf)]) { t in
            try noGrad { try weightedSum(linear(Variable(t[0]), weight: Variable(t[1]), bias: Variable(t[2]), activation: act)).scalar }
        }
        let err = relativeError(analytic.map(toDouble), numeric)
        #expect(err < 1e-4, "\(act): Float relative error \(err)")
    }

    @Test("fused layer norm in Float: gradients match central differences taken in Double")
    func layerNormFloat() throws {
        let x = toFloat(Tensor<Double>.normal([5, 8], seed: 7)), g = toFloat(Tensor<Double>.normal([8], seed: 8) + 1)
        let b = toFloat(Tensor<Double>.normal([8], seed: 9))
        let xv = Variable(x, requiresGrad: true), gv = Variable(g, requiresGrad: true), bv = Variable(b, requiresGrad: true)
        try weightedSum(xv.layerNorm(weight: gv, bias: bv)).backward()
        let numeric = try numericGradient([toDouble(x), toDouble(g), toDouble(b)]) { t in
            try noGrad { try weightedSum(Variable(t[0]).layerNorm(weight: Variable(t[1]), bias: Variable(t[2]))).scalar }
        }
        let err = relativeError([xv.grad!, gv.grad!, bv.grad!].map(toDouble), numeric)
        #expect(err < 1e-4, "layerNorm Float relative error \(err)")
    }

    @Test("fused layer norm: first-order gradients equal the composite (createGraph) rule's within rounding")
    func layerNormMatchesComposite() throws {
        let x = Tensor<Double>.normal([7, 33], seed: 10), g = Tensor<Double>.normal([33], seed: 11), b = Tensor<Double>.normal([33], seed: 12)
        let vars = [x, g, b].map { Variable($0, requiresGrad: true) }
        let L = try weightedSum(vars[0].layerNorm(weight: vars[1], bias: vars[2]))
        let fast = try gradients(of: L, wrt: vars)
        let composite = try gradients(of: L, wrt: vars, createGraph: true)
        for (f, c) in zip(fast, composite) { #expect(maxDifference(f.value, c.value) < 1e-12) }
    }

    /// The update every parameter got before the moments were flattened (AutogradKernels.adamUpdate's scalar loop), in S.
    static func referenceAdamW<S: BLASScalar>(p: inout [S], g: [S], m: inout [S], v: inout [S], t: Int, lr: Double, wd: Double) {
        let b1 = 0.9, b2 = 0.999, eps = 1e-8
        let c1 = 1 - Foundation.pow(b1, Double(t)), c2 = 1 - Foundation.pow(b2, Double(t))
        let sb1 = S(b1), sb2 = S(b2), ob1 = S(1 - b1), ob2 = S(1 - b2)
        let stepSize = S(lr / c1), rc2 = S(1 / c2.squareRoot()), e = S(eps), shrink = S(1 - lr * wd)
        for i in p.indices {
            let gi = g[i] + 0 * p[i]
            m[i] = sb1 * m[i] + ob1 * gi
            v[i] = sb2 * v[i] + ob2 * gi * gi
            p[i] = p[i] * shrink - stepSize * m[i] / (v[i].squareRoot() * rc2 + e)
        }
    }

    func adamWMatchesReference<S: BLASScalar>(_: S.Type) throws {
        let shapes = [[7, 5], [5], [3, 11], [1], [40]]
        let params = shapes.enumerated().map { Variable(Tensor<S>.normal($0.element, seed: UInt64(20 + $0.offset)), requiresGrad: true) }
        let opt = AdamW(parameters: params, learningRate: 1e-2, weightDecay: 0.05)
        var ref = params.map { $0.value.scalars }, m = params.map { [S](repeating: 0, count: $0.count) }, v = m
        var t = [Int](repeating: 0, count: params.count)
        for step in 0..<6 {
            for (i, p) in params.enumerated() {
                // Parameter 3 skips every other step (no gradient): its own step count stays behind.
                p.grad = (i == 3 && step % 2 == 1) ? nil : Tensor<S>.normal(p.shape, seed: UInt64(100 * step + i))
            }
            try opt.step()
            for (i, p) in params.enumerated() {
                guard let g = p.grad else { continue }
                t[i] += 1
                Self.referenceAdamW(p: &ref[i], g: g.scalars, m: &m[i], v: &v[i], t: t[i], lr: 1e-2, wd: 0.05)
            }
        }
        for (i, p) in params.enumerated() {
            var worst = 0
            for (a, b) in zip(p.value.scalars, ref[i]) where a != b {
                worst = Swift.max(worst, a == b.nextUp || a == b.nextDown ? 1 : 2)
            }
            #expect(worst <= 1, "\(S.self) parameter \(i): the flat update differs from the reference by \(worst) ulp")
        }
        // The state export is per parameter and round-trips.
        let s = opt.state
        #expect(s.firstMoments.count == params.count && s.parameterSteps == t)
        for i in params.indices {
            #expect(s.firstMoments[i].shape == params[i].shape && s.secondMoments[i].shape == params[i].shape)
            #expect(s.firstMoments[i].scalars == m[i] && s.secondMoments[i].scalars == v[i])
        }
        let other = AdamW(parameters: params, learningRate: 1e-2, weightDecay: 0.05)
        try other.load(state: s)
        #expect(other.state.firstMoments.map(\.scalars) == s.firstMoments.map(\.scalars) && other.stepCount == opt.stepCount)
    }

    @Test("AdamW over the flat moment buffers equals the per-parameter update within 1 ulp (Float, Double)")
    func adamWFlat() throws {
        try adamWMatchesReference(Float.self)
        try adamWMatchesReference(Double.self)
    }
}
