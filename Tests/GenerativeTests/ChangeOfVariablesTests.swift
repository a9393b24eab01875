import Foundation
@testable import Generative
import Linear
import Neural
import Testing
import TestSupport

/// The exact velocity of flow matching's linear path when the data are N(0, s²I): x_t ~ N(0, σ_t²I) with
/// σ_t² = (1 − ct)² + t²s², and v(x, t) = x·(−c(1 − ct) + ts²)/σ_t² (the velocity that keeps each marginal).
final class GaussianVelocityOracle: Denoiser {
    typealias Scalar = Double
    let dimension: Int
    let classCount = 0
    var isTraining = false
    let variance: Double
    let c: Double
    init(dimension: Int, variance: Double, sigmaMin: Double) { self.dimension = dimension; self.variance = variance; c = 1 - sigmaMin }
    func callAsFunction(_ x: Variable<Double>, time: Tensor<Double>, labels: [Int]?) throws -> Variable<Double> {
        let t = time.scalars[0] / 1000
        let sigma2 = (1 - c * t) * (1 - c * t) + t * t * variance
        return x * ((-c * (1 - c * t) + t * variance) / sigma2)
    }
}

@Suite("Likelihoods through the change of variables")
struct ChangeOfVariablesTests {
    static func gaussianRows(_ n: Int, _ d: Int, std: Double, seed: UInt64) -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        return Tensor<Double>.normal([n, d], using: &g) * std
    }

    static func closedForm(_ x: Tensor<Double>, variance v: Double) -> [Double] {
        let n = x.shape[0], d = x.shape[1], a = x.scalars
        return (0..<n).map { i in
            let sq = (0..<d).reduce(0.0) { $0 + a[i * d + $1] * a[i * d + $1] }
            return -0.5 * Double(d) * log(2 * Double.pi * v) - 0.5 * sq / v
        }
    }

    @Test("flow matching with the exact Gaussian velocity gives the closed-form log-density (exact and Hutchinson divergence)",
          arguments: [8, 64])
    func flowMatchingGaussianOracle(_ d: Int) throws {
        let s2 = 0.25, sigmaMin = 1e-4
        let fm = try FlowMatching<Double>(denoiser: GaussianVelocityOracle(dimension: d, variance: s2, sigmaMin: sigmaMin),
                                          configuration: FlowMatchingConfiguration(sigmaMin: sigmaMin))
        let x = Self.gaussianRows(40, d, std: 0.5, seed: 3)
        let c = 1 - sigmaMin
        let truth = Self.closedForm(x, variance: (1 - c) * (1 - c) + s2)
        for divergence: ChangeOfVariables.Divergence in [.exact, .hutchinson(probes: 2)] {
            let (got, stats) = try fm.logLikelihood(x, steps: 100, method: .rk4, divergence: divergence)
            #expect(stats.evaluations >= 100)
            let worst = zip(got, truth).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-6 * Double(d), "D = \(d), \(divergence): largest error \(worst) nats")
        }
    }

    @Test("Hutchinson's estimate is unbiased on a field with a non-constant Jacobian diagonal")
    func hutchinsonUnbiased() throws {
        var g = RandomGenerator(seed: 9)
        let x = Tensor<Double>.normal([30, 6], using: &g)
        let f: (Variable<Double>) throws -> Variable<Double> = { v in try v.tanh() * 2 + v * v }   // ∂fⱼ/∂xⱼ = 2(1 − tanh²) + 2xⱼ
        let exact = try ChangeOfVariables.valueAndDivergence(x, probes: ChangeOfVariables.probes(.exact, n: 30, d: 6, noise: SeededNoise(seed: 0)),
                                                             average: false, f).divergence
        let a = x.scalars
        for i in 0..<30 {
            let want = (0..<6).reduce(0.0) { s, j in let t = Foundation.tanh(a[i * 6 + j]); return s + 2 * (1 - t * t) + 2 * a[i * 6 + j] }
            #expect(abs(exact[i] - want) < 1e-10)
        }
        // A diagonal Jacobian makes every Rademacher probe exact: vᵀJv = Σ Jⱼⱼ vⱼ² = tr J.
        let probes: [Tensor<Double>] = try ChangeOfVariables.probes(.hutchinson(probes: 3), n: 30, d: 6, noise: SeededNoise(seed: 1))
        let est = try ChangeOfVariables.valueAndDivergence(x, probes: probes, average: true, f).divergence
        for i in 0..<30 { #expect(abs(est[i] - exact[i]) < 1e-10) }
        // A full Jacobian: the mean over many probes approaches the trace.
        let w = Tensor<Double>.normal([6, 6], using: &g)
        let mixing: (Variable<Double>) throws -> Variable<Double> = { v in try matmul(v, Variable(w)) }
        let trace = (0..<6).reduce(0.0) { $0 + w.scalars[$1 * 6 + $1] }
        let many: [Tensor<Double>] = try ChangeOfVariables.probes(.hutchinson(probes: 2000), n: 30, d: 6, noise: SeededNoise(seed: 2))
        let mean = try ChangeOfVariables.valueAndDivergence(x, probes: many, average: true, mixing).divergence
        let offDiagonal = (0..<36).filter { $0 / 6 != $0 % 6 }.reduce(0.0) { $0 + w.scalars[$1] * w.scalars[$1] }
        let tolerance = 6 * (2 * offDiagonal / 2000).squareRoot()   // the estimator's std is at most √(2·Σ_{j≠k} J_jk² / probes)
        for i in 0..<30 { #expect(abs(mean[i] - trace) < tolerance, "row \(i): \(mean[i]) vs trace \(trace)") }
    }

    @Test("LikelihoodReport adds the scaling's log-Jacobian and reports the Gaussian baseline")
    func reportUnits() throws {
        let d = 8, s2 = 0.25
        let fm = try FlowMatching<Double>(denoiser: GaussianVelocityOracle(dimension: d, variance: s2, sigmaMin: 1e-4),
                                          configuration: FlowMatchingConfiguration(sigmaMin: 1e-4))
        // Data in units 1000× the model's: model units y = x/1000, so log p_x = log p_y − D·log 1000.
        let y = Self.gaussianRows(200, d, std: 0.5, seed: 4)
        let x = y * 1000
        let report = try LikelihoodReport.evaluate(fm, data: x, scaling: AffineScaling(scale: 1e-3, shift: 0), chunk: 64)
        let modelUnits = try fm.logLikelihood(y, divergence: .exact).logLikelihood
        #expect(abs(report.logScaleJacobian + Double(d) * log(1000)) < 1e-9)
        for i in 0..<200 { #expect(abs(report.logLikelihood[i] - (modelUnits[i] - Double(d) * log(1000))) < 1e-6) }
        // The fitted Gaussian of Gaussian data is within sampling error of the true density.
        #expect(abs(report.baselineNLL - report.nll) < 0.5, "baseline \(report.baselineNLL), model \(report.nll)")
        #expect(abs(report.bitsPerDimension - report.nll / (Double(d) * log(2))) < 1e-12)
    }

    @Test("score-SDE likelihoods of data-prediction models start where the noise std reaches the loss floor δ")
    func scoreLikelihoodStart() throws {
        let d = 3
        let data = try ScoreSDEModel(denoiser: GaussianVelocityOracle(dimension: d, variance: 1, sigmaMin: 0),
                                     configuration: ScoreSDEConfiguration(prediction: .data))
        let noise = try ScoreSDEModel(denoiser: GaussianVelocityOracle(dimension: d, variance: 1, sigmaMin: 0),
                                      configuration: ScoreSDEConfiguration())
        #expect(abs(data.sde.marginalStd(data.likelihoodEpsilon) - ScoreSDEModel<Double>.dataPredictionFloor) < 1e-9)
        #expect(noise.likelihoodEpsilon == noise.sde.trainingEpsilon)
    }
}
