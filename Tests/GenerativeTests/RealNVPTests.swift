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
    static func randomFlow<S: BLASScalar>(_ d: Int, _: S.Type, seed: UInt64) throws -> RealNVP<S> {
        let f = try RealNVP<S>(RealNVPConfiguration(dimension: d, couplings: 6, hidden: 32), seed: seed)
        var g = RandomGenerator(seed: seed + 1)
        for c in f.couplings { c.net.layers.last!.weight.value = Tensor<S>.normal(c.net.layers.last!.weight.shape, std: 0.15, using: &g) }
        for a in f.actNorms {
            a.bias.value = .normal([d], std: 0.3, using: &g)
            a.logScale.value = .normal([d], std: 0.1, using: &g)
            a.initialized = true
        }
        return f
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
        let h = 1e-6
        for r in 0..<3 {
            var jac = [Double](repeating: 0, count: d * d)
            for j in 0..<d {
                var xp = try x.slice(r..<(r + 1)), xm = xp
                xp[0, j] += h; xm[0, j] -= h
                let zp = try f.forward(xp).z, zm = try f.forward(xm).z
                for i in 0..<d { jac[i * d + j] = (zp[0, i] - zm[0, i]) / (2 * h) }
            }
            let det = try Tensor<Double>(jac, shape: [d, d]).slogdet()
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
