// RealNVP: inverse(forward(x)) = x, log-det against the brute-force Jacobian, dequantisation arithmetic, and the
// digits NLL against a full-covariance Gaussian on the same dequantised data.

import Foundation
import Linear
import Neural
import Testing
@testable import Generative
import TestSupport

@Suite("RealNVP", .serialized)
struct RealNVPTests {
    /// A flow with random (non-identity) coupling weights and initialised ActNorm.
    static func randomFlow<S: BLASScalar>(_ d: Int, _: S.Type, seed: UInt64, principalAxes: Bool = false) throws -> RealNVP<S> {
        let f = try RealNVP<S>(RealNVPConfiguration(dimension: d, couplings: 6, hidden: 32, principalAxes: principalAxes), seed: seed)
        var g = RandomGenerator(seed: seed + 1)
        for c in f.couplings { c.net.layers.last!.weight.value = Tensor<S>.normal(c.net.layers.last!.weight.shape, std: 0.15, using: &g) }
        for a in f.actNorms {
            a.bias.value = .normal([d], std: 0.3, using: &g)
            a.logScale.value = .normal([d], std: 0.1, using: &g)
            a.initialized = true
        }
        return f
    }

    /// ∂z/∂x of row r of `x` by central differences (step 1e-6), d×d.
    static func finiteDifferenceJacobian(_ f: RealNVP<Double>, _ x: Tensor<Double>, row r: Int) throws -> Tensor<Double> {
        let d = x.shape[1], h = 1e-6
        var jac = [Double](repeating: 0, count: d * d)
        for j in 0..<d {
            var xp = try x.slice(r..<(r + 1)), xm = xp
            xp[0, j] += h; xm[0, j] -= h
            let zp = try f.forward(xp).z, zm = try f.forward(xm).z
            for i in 0..<d { jac[i * d + j] = (zp[0, i] - zm[0, i]) / (2 * h) }
        }
        return try Tensor<Double>(jac, shape: [d, d])
    }

    @Test("inverse(forward(x)) = x to 1e-5 in Float; forward(inverse(z)) = z; log-dets of both directions agree")
    func roundTrip() throws {
        let f = try Self.randomFlow(16, Float.self, seed: 1)
        var g = RandomGenerator(seed: 2)
        let x = Tensor<Float>.normal([200, 16], using: &g)
        let (z, ld) = try f.forward(x)
        let back = try f.inverse(z)
        #expect(maxDifference(back, x) < 1e-5)
        #expect(maxDifference(try f.forward(f.inverse(z)).z, z) < 1e-4)
        let inv = try noGrad { try f.inverse(Variable(z)).logDet.value.scalars.map(Double.init) }
        #expect(zip(ld, inv).map { abs($0 - $1) }.max()! < 1e-3)
        // Not the identity.
        #expect(maxDifference(z, x) > 0.1)
    }

    @Test("log-det equals log |det J| of the brute-force (finite-difference) Jacobian, D = 4, Double")
    func logDetBruteForce() throws {
        let d = 4
        let f = try Self.randomFlow(d, Double.self, seed: 3)
        var g = RandomGenerator(seed: 4)
        let x = Tensor<Double>.normal([3, d], using: &g)
        let (_, ld) = try f.forward(x)
        for r in 0..<3 {
            let det = try Self.finiteDifferenceJacobian(f, x, row: r).slogdet()
            #expect(abs(det.logAbsDet - ld[r]) < 1e-6, "row \(r): \(det.logAbsDet) vs \(ld[r])")
        }
        // Also the autodiff Jacobian of one row: log|det| of ∂z/∂x by d VJPs.
        let xv = Variable(try x.slice(0..<1), requiresGrad: true)
        let (z, _) = try f.forward(xv)
        var rows: [Double] = []
        for i in 0..<d {
            var seed = Tensor<Double>.zeros([1, d]); seed[0, i] = 1
            rows += try gradient(of: z, wrt: xv, seed: seed).value.scalars
        }
        #expect(abs(try Tensor<Double>(rows, shape: [d, d]).slogdet().logAbsDet - ld[0]) < 1e-9)
    }

    @Test("principal axes: V orthogonal, by decreasing variance, the same after a refit; log-det stays exact; buffers round-trip")
    func principalAxes() throws {
        let d = 4
        var g = RandomGenerator(seed: 11)
        // Anisotropic, correlated data: x = z·A + b.
        let a = Tensor<Double>.normal([d, d], using: &g), b = Tensor<Double>.normal([d], using: &g)
        let data = try matmul(Tensor<Double>.normal([500, d], using: &g), a) + b
        let f = try Self.randomFlow(d, Double.self, seed: 12, principalAxes: true)
        #expect(f.principalAxes == nil)
        try f.startTraining(data: data)
        let v = try #require(f.principalAxes), mu = try #require(f.principalMean)
        #expect(maxDifference(try matmul(v, v, transposeA: true), Tensor<Double>.eye(d)) < 1e-12)
        #expect(maxDifference(mu, try data.mean(axis: 0)) < 1e-12)
        // Vᵀ·C·V is diagonal with the eigenvalues of C, largest first.
        let centred = try data - mu
        let c = try matmul(centred, centred, transposeA: true) * (1 / 500.0)
        let rotated = try matmul(matmul(v, c, transposeA: true), v)
        let eigen = Array(try c.eigvalsh().scalars.reversed())
        for i in 0..<d {
            #expect(abs(rotated[i, i] - eigen[i]) < 1e-10)
            for j in 0..<d where j != i { #expect(abs(rotated[i, j]) < 1e-10) }
        }
        // A second call (a resumed run) keeps the rotation.
        try f.startTraining(data: data * 3)
        #expect(f.principalAxes == v)
        // The rotation's log-det is 0: the flow's log-det still equals log |det J| of the finite-difference Jacobian.
        let x = try data.slice(0..<2)
        let (z, ld) = try f.forward(x)
        for r in 0..<2 { #expect(abs(try Self.finiteDifferenceJacobian(f, x, row: r).slogdet().logAbsDet - ld[r]) < 1e-6) }
        #expect(maxDifference(try f.inverse(z), x) < 1e-10)
        // A fresh flow (identity couplings, no ActNorm) with the rotation: log p(x) = log N(x − μ; 0, I).
        let fresh = try RealNVP<Double>(RealNVPConfiguration(dimension: d, couplings: 2, hidden: 8, actNorm: false, principalAxes: true), seed: 1)
        try fresh.startTraining(data: data)
        let expected = try (0..<2).map { r -> Double in
            let row = try x.slice(r..<(r + 1)) - mu
            return -0.5 * row.scalars.map { $0 * $0 }.reduce(0, +) - 0.5 * Double(d) * log(2 * Double.pi)
        }
        #expect(zip(try fresh.logLikelihood(x), expected).map { abs($0 - $1) }.max()! < 1e-12)
        // The rotation travels in the buffers (model files), and files without it load as no rotation.
        let copy = try Self.randomFlow(d, Double.self, seed: 12, principalAxes: true)
        try copy.loadBuffers(f.buffers)
        #expect(maxDifference(try copy.forward(x).z, z) == 0)
        #expect(throws: TensorError.self) { try copy.loadBuffers(["principal_mean": Tensor<Double>.zeros([d]), "principal_axes": .zeros([d, 2])]) }
        let old = try RealNVP<Double>(RealNVPConfiguration(dimension: d, principalAxes: true), seed: 1)
        try old.loadBuffers(["actnorm_initialized": Tensor<Double>([1])])
        #expect(old.principalAxes == nil)
        // Off (the default): training fits nothing.
        let plain = try Self.randomFlow(d, Double.self, seed: 12)
        try plain.startTraining(data: data)
        #expect(plain.principalAxes == nil && plain.buffers["principal_axes"] == nil)
    }

    @Test("coupled features: the couplings touch only the first K features, the rest are factored out; K fitted as the effective rank")
    func coupledFeatures() throws {
        let d = 6, k = 2
        let f = try Self.randomFlow(d, Double.self, seed: 21)
        f.restrictCouplings(toFirst: k)
        var g = RandomGenerator(seed: 22)
        let x = Tensor<Double>.normal([2, d], using: &g)
        let (z, ld) = try f.forward(x)
        #expect(maxDifference(try f.inverse(z), x) < 1e-10)
        for r in 0..<2 {
            let jt = try Self.finiteDifferenceJacobian(f, x, row: r), jac = jt.scalars
            // Factored-out features depend only on themselves; the coupled ones not on the factored-out ones.
            for i in 0..<d { for j in 0..<d where (i >= k && j != i) || (i < k && j >= k) { #expect(abs(jac[i * d + j]) < 1e-8, "∂z\(i)/∂x\(j)") } }
            // Coupled features depend on each other (the couplings still act).
            #expect(abs(jac[1 * d + 0]) + abs(jac[0 * d + 1]) > 1e-3)
            #expect(abs(try jt.slogdet().logAbsDet - ld[r]) < 1e-6)
        }
        // Fitted: a 2-D toy lifted to 16-D with its 0.01 noise has effective rank 2.
        var gen = RandomGenerator(seed: 23)
        let toy: Tensor<Double> = try Toy2D.moons.sample(400, seed: 24)
        let lifted = try OrthogonalEmbedding(dimension: 16).lift(toy, using: &gen)
        let fitted = try RealNVP<Double>(RealNVPConfiguration(dimension: 16, couplings: 2, hidden: 8, principalAxes: true, coupledFeatures: 0), seed: 1)
        #expect(fitted.coupledFeatures == 16)
        try fitted.startTraining(data: lifted)
        #expect(fitted.coupledFeatures == 2)
        let copy = try RealNVP<Double>(RealNVPConfiguration(dimension: 16, couplings: 2, hidden: 8, principalAxes: true, coupledFeatures: 0), seed: 1)
        try copy.loadBuffers(fitted.buffers)
        #expect(copy.coupledFeatures == 2)
        #expect(maxDifference(try copy.forward(lifted).z, try fitted.forward(lifted).z) == 0)
        // An explicit K; K needs the principal axes.
        #expect(try RealNVP<Double>(RealNVPConfiguration(dimension: 16, couplings: 2, hidden: 8, principalAxes: true, coupledFeatures: 3), seed: 1).coupledFeatures == 3)
        #expect(throws: ConfigurationError.self) { try RealNVP<Double>(RealNVPConfiguration(dimension: 16, principalAxes: false, coupledFeatures: 3), seed: 1) }
    }

    @Test("uniform dequantisation: values in their bins, bits/dim arithmetic")
    func dequantisation() throws {
        let q = UniformDequantization.digits
        var g = RandomGenerator(seed: 1)
        let k = try Tensor<Float>([0, 16, 5, 8], shape: [1, 4])
        let x = try q.apply(levels: k, using: &g)
        for (kk, v) in zip(k.scalars, x.scalars) {
            let lo = -1 + Double(kk) * 2 / 17
            #expect(Double(v) >= lo - 1e-6 && Double(v) <= lo + 2 / 17 + 1e-6)
        }
        // A uniform density on [−1, 1]^D has continuous NLL D·log 2 and discrete NLL D·log 17 → log₂ 17 bits/dim.
        let bpd = q.bitsPerDimension(continuousNLL: 64 * log(2), dimension: 64)
        #expect(abs(bpd - log2(17)) < 1e-12)
    }

    @Test("digits: test NLL of RealNVP beats a full-covariance Gaussian on the same dequantised data")
    func digitsLikelihood() throws {
        let q = UniformDequantization.digits
        func levels(_ y: Tensor<Float>) -> Tensor<Float> { ((y + 1) * 8).map { $0.rounded() } }
        var g = RandomGenerator(seed: 5)
        let trainK = levels(DigitsSplit.train), testK = levels(DigitsSplit.heldOut)
        // Four dequantised copies of the training set; one of the test set.
        let train = try Tensor.concatenate((0..<4).map { _ in try q.apply(levels: trainK, using: &g) }, axis: 0)
        let test = try q.apply(levels: testK, using: &g)
        let gauss = try FullCovarianceGaussian(fitting: train)
        let gaussNLL = try gauss.negativeLogLikelihood(test)
        let flow = try RealNVP<Float>(RealNVPConfiguration(dimension: 64, couplings: 6, hidden: 128), seed: 6)
        let r = try GenerativeTrainer.train(flow, data: train, configuration: GenerativeTrainingConfiguration(steps: 300, batchSize: 256, seed: 7))
        let flowNLL = try flow.negativeLogLikelihood(test)
        let trainNLL = try flow.negativeLogLikelihood(train.slice(0..<1000))
        let bFlow = q.bitsPerDimension(continuousNLL: flowNLL, dimension: 64)
        let bGauss = q.bitsPerDimension(continuousNLL: gaussNLL, dimension: 64)
        print(String(format: "RealNVP digits: test NLL %.2f nats (%.3f bits/dim) vs full-covariance Gaussian %.2f nats (%.3f bits/dim); train NLL %.2f; %d steps in %.1f s",
                     flowNLL, bFlow, gaussNLL, bGauss, trainNLL, r.steps, r.seconds))
        #expect(flowNLL < gaussNLL)
        #expect(bFlow < bGauss)
        // Samples are finite and of the right shape.
        let s = try flow.sample(50, seed: 1)
        #expect(s.shape == [50, 64] && s.allFinite)
    }
}
