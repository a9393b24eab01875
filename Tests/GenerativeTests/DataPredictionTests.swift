import Foundation
import Testing
@testable import Generative
import Linear
import Neural
import TestSupport

/// The exact x̂₀-predictor of N(0, σ₀²·I) data under a VP/sub-VP SDE: x̂₀ = E[x₀ | x_t] = m·σ₀²·x/(m²σ₀² + s²).
final class GaussianDataOracle: Denoiser {
    typealias Scalar = Double
    let sde: ScoreSDE, sigma0: Double, dimension: Int
    var classCount: Int { 0 }
    var isTraining = false
    init(sde: ScoreSDE, sigma0: Double, dimension: Int) { self.sde = sde; self.sigma0 = sigma0; self.dimension = dimension }
    func callAsFunction(_ x: Variable<Double>, time: Tensor<Double>, labels: [Int]?) throws -> Variable<Double> {
        let c = try Tensor<Double>(time.scalars.map { e in
            let t = e / 1000, m = sde.marginalMeanCoefficient(t), s = sde.marginalStd(t)
            return m * sigma0 * sigma0 / (m * m * sigma0 * sigma0 + s * s)
        }, shape: [time.count, 1])
        return try x * c
    }
}

/// A network that returns a fixed multiple of its input (to check how a family turns its output into a velocity).
final class ScaledIdentity: Denoiser {
    typealias Scalar = Double
    let factor: Double, dimension: Int
    var classCount: Int { 0 }
    var isTraining = false
    init(_ factor: Double, dimension: Int) { self.factor = factor; self.dimension = dimension }
    func callAsFunction(_ x: Variable<Double>, time: Tensor<Double>, labels: [Int]?) throws -> Variable<Double> { x * factor }
}

@Suite("Data (x̂) prediction")
struct DataPredictionTests {
    @Test("score-SDE: x̂₀ from the exact posterior mean gives the exact score and the Gaussian log-likelihood")
    func scoreSDEData() throws {
        let sigma0 = 0.7, d = 3
        let x = Tensor<Double>.normal([6, d], std: sigma0, seed: 3)
        let truth = gaussianLogDensity(x, variance: sigma0 * sigma0)
        for sde in [ScoreSDE.vp(), .subVP()] {
            let m = try ScoreSDEModel(denoiser: GaussianDataOracle(sde: sde, sigma0: sigma0, dimension: d),
                                      configuration: ScoreSDEConfiguration(sde: sde, prediction: .data))
            // ∇ log p_t(x) = −x/(m²σ₀² + s²) at several times, including small t where 1/s² is large.
            for t in [0.002, 0.05, 0.5, 1.0] {
                let mt = sde.marginalMeanCoefficient(t), st = sde.marginalStd(t)
                let exact = x * (-1 / (mt * mt * sigma0 * sigma0 + st * st))
                // Tweedie's x − m·x̂₀ cancels to x·s²/(m²σ₀² + s²): rounding of x (ε·‖x‖∞) is amplified by 1/s².
                let bound = 1e-9 * exact.scalars.map(abs).max()! + 100 * Double.ulpOfOne * x.scalars.map(abs).max()! / (st * st)
                #expect(maxDifference(try m.score(x, t), exact) < bound, "\(sde) t = \(t)")
            }
            let ll = try m.logLikelihood(x, steps: 200, method: .rk4)
            #expect(maxRelativeDifference(ll.logLikelihood, truth) < 2e-3, "\(sde)")
        }
    }

    @Test("score-SDE data loss: (λ/s²)·(m/max(s, δ))²·‖x̂₀ − x₀‖², zero for the exact x₀")
    func scoreSDEDataLoss() throws {
        let sde = ScoreSDE.vp(), d = 4
        let x0 = Tensor<Double>.normal([5, d], seed: 1), z = Tensor<Double>.normal([5, d], seed: 2)
        let times = [0.001, 0.01, 0.1, 0.5, 1.0]
        let m = try ScoreSDEModel(denoiser: ScaledIdentity(0.5, dimension: d), configuration: ScoreSDEConfiguration(sde: sde, prediction: .data))
        let got = try m.loss(x0: x0, times: times, noise: z).value.scalars[0]
        let xt = try sde.perturb(x0, noise: z, times: times)
        var want = 0.0
        for i in 0..<5 {
            let s = sde.marginalStd(times[i]), mt = sde.marginalMeanCoefficient(times[i]), r = mt / max(s, 0.05)
            for j in 0..<d { let e = 0.5 * xt[i, j] - x0[i, j]; want += r * r * e * e }
        }
        want /= Double(5 * d)
        #expect(abs(got - want) < 1e-10 * want)
        // The velocity weighting: the x̂₀ error times (m² + s²)/max(s, δ)², SNR + 1 for VP (m² + s² = 1).
        let v = try ScoreSDEModel(denoiser: ScaledIdentity(0.5, dimension: d), configuration: ScoreSDEConfiguration(sde: sde, weighting: .velocity, prediction: .data))
        let gotV = try v.loss(x0: x0, times: times, noise: z).value.scalars[0]
        var wantV = 0.0
        for i in 0..<5 {
            let s = sde.marginalStd(times[i]), mt = sde.marginalMeanCoefficient(times[i])
            #expect(abs(mt * mt + s * s - 1) < 1e-12)
            for j in 0..<d { let e = 0.5 * xt[i, j] - x0[i, j]; wantV += e * e / (max(s, 0.05) * max(s, 0.05)) }
        }
        wantV /= Double(5 * d)
        #expect(abs(gotV - wantV) < 1e-10 * wantV)
        #expect(sde.lossWeight(1, .velocity) > 1e4 * sde.lossWeight(1, .variance))
    }

    @Test("flow matching: the data prediction's velocity is (x̂₁ − c·x)/max(1 − c·t, δ), and its loss the clipped velocity loss")
    func flowMatchingData() throws {
        let d = 3, a = 0.8
        let fm = try FlowMatching(denoiser: ScaledIdentity(a, dimension: d), configuration: FlowMatchingConfiguration(prediction: .data))
        let x = Tensor<Double>.normal([4, d], seed: 5)
        let c = 1 - fm.configuration.sigmaMin
        for t in [0.0, 0.5, 0.97, 1.0] {
            let v = try fm.velocity()(t, x)
            let want = x * ((a - c) / max(1 - c * t, 0.05))
            #expect(maxDifference(v, want) < 1e-12, "t = \(t)")
        }
        let x1 = Tensor<Double>.normal([4, d], seed: 6), noise = Tensor<Double>.normal([4, d], seed: 7)
        let times = [0.1, 0.5, 0.9, 0.99]
        let got = try fm.loss(data: x1, noise: noise, times: times).value.scalars[0]
        var want = 0.0
        for i in 0..<4 {
            let r = 1 / max(1 - c * times[i], 0.05)
            for j in 0..<d {
                let xt = (1 - c * times[i]) * noise[i, j] + times[i] * x1[i, j]
                let e = (a * xt - x1[i, j]) * r
                want += e * e
            }
        }
        want /= Double(4 * d)
        #expect(abs(got - want) < 1e-10 * want)
        // As a teacher, the data prediction is the denoised estimate itself.
        let den = try fm.denoise(x, sigmas: [0.5], labels: nil)
        let tt = 1 / (0.5 + c)
        #expect(maxDifference(den, x * (a * tt)) < 1e-12)
    }

    @Test("DDPM velocity weighting: w_t = 1/max(1 − ᾱ_t, δ²) times the squared error")
    func ddpmWeighting() throws {
        let d = 2
        let m = try DDPM(denoiser: ScaledIdentity(0.3, dimension: d),
                         configuration: DDPMConfiguration(timesteps: 100, target: .sample, lossWeighting: .velocity))
        let x0 = Tensor<Double>.normal([3, d], seed: 1), z = Tensor<Double>.normal([3, d], seed: 2)
        let ts = [0, 10, 99]
        let got = try m.loss(x0: x0, timesteps: ts, noise: z).value.scalars[0]
        let xt = try m.schedule.addNoise(x0, noise: z, timesteps: ts)
        var want = 0.0
        for i in 0..<3 {
            let w = 1 / max(1 - m.schedule.alphaBars[ts[i]], 0.0025)
            for j in 0..<d { let e = 0.3 * xt[i, j] - x0[i, j]; want += w * e * e }
        }
        want /= Double(3 * d)
        #expect(abs(got - want) < 1e-10 * want)
        #expect(throws: ConfigurationError.self) { try DiffusionLossWeighting(parsing: "snr") }
    }

    @Test("model files keep the prediction and weighting; the library's defaults stay the papers'")
    func modelFiles() throws {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        let data: Tensor<Float> = try Toy2D.moons.sample(64, seed: 1)
        let dc = MLPDenoiserConfiguration(dimension: 2, hidden: 8, blocks: 1)
        let families: [any TrainableFamily<Float>] = [
            try DDPM(denoiser: MLPDenoiser<Float>(dc, seed: 1), configuration: DDPMConfiguration(timesteps: 20, target: .sample, lossWeighting: .velocity)),
            try ScoreSDEModel(denoiser: MLPDenoiser<Float>(dc, seed: 1), configuration: ScoreSDEConfiguration(weighting: .velocity, prediction: .data)),
            try FlowMatching(denoiser: MLPDenoiser<Float>(dc, seed: 1), configuration: FlowMatchingConfiguration(prediction: .data)),
        ]
        for f in families {
            let path = dir.appendingPathComponent("\(f.familyName.rawValue).safetensors").path
            let t = try Trainer(family: f, denoiserConfiguration: dc, configuration: TrainingConfiguration(steps: 2, batchSize: 16))
            try t.train(data)
            try t.save(to: path)
            let back = try #require(GenerativeModelFile<Float>.load(path).denoising).family
            #expect(back.configurationMetadata == f.configurationMetadata)
            switch back {
            case let m as DDPM<Float>: #expect(m.configuration.lossWeighting == .velocity && m.configuration.target == .sample)
            case let m as ScoreSDEModel<Float>: #expect(m.configuration.prediction == .data && m.configuration.weighting == .velocity)
            case let m as FlowMatching<Float>: #expect(m.configuration.prediction == .data)
            default: Issue.record("unexpected family \(back.familyName)")
            }
        }
        #expect(DDPMConfiguration().lossWeighting == .uniform && ScoreSDEConfiguration().prediction == .noise
                && FlowMatchingConfiguration().prediction == .velocity)
        #expect(throws: ConfigurationError.self) { try FlowPrediction(parsing: "noise") }
        #expect(throws: ConfigurationError.self) { try ScorePrediction(parsing: "velocity") }
    }

    @Test("Gaussian skip alone is the exact denoiser of N(0, v·I): score-SDE score and likelihood, flow-matching velocity, DDPM x̂₀")
    func gaussianSkip() throws {
        let v = 0.49, d = 3
        let x = Tensor<Double>.normal([6, d], std: v.squareRoot(), seed: 4)
        #expect(GaussianSkip.coefficient(signal: 0.8, noise: 0.6, variance: v) == 0.8 * v / (0.64 * v + 0.36))
        #expect(GaussianSkip.coefficient(signal: 0.8, noise: 0.6, variance: 0) == 0)
        let zero = ScaledIdentity(0, dimension: d)
        // Score SDE: −x/(m²v + s²), and the Gaussian log density (the skip's Jacobian enters the divergence).
        let sde = ScoreSDE.vp()
        let m = try ScoreSDEModel(denoiser: zero, configuration: ScoreSDEConfiguration(sde: sde, prediction: .data, skipVariance: v))
        for t in [0.01, 0.3, 1.0] {
            let mt = sde.marginalMeanCoefficient(t), st = sde.marginalStd(t)
            let exact = x * (-1 / (mt * mt * v + st * st))
            #expect(maxDifference(try m.score(x, t), exact) < 1e-9 + 100 * Double.ulpOfOne / (st * st), "t = \(t)")
        }
        let truth = gaussianLogDensity(x, variance: v)
        #expect(maxRelativeDifference(try m.logLikelihood(x, steps: 200, method: .rk4).logLikelihood, truth) < 2e-3)
        // Flow matching: E[x₁ − c·x₀ | x_t] for x₁ ~ N(0, v), x₀ ~ N(0, I) is linear in x_t with slope (t·v − c(1 − c·t))/(t²v + (1 − c·t)²).
        let fm = try FlowMatching(denoiser: zero, configuration: FlowMatchingConfiguration(prediction: .data, skipVariance: v))
        let c = 1 - fm.configuration.sigmaMin
        for t in [0.1, 0.5, 0.9] {
            let b = 1 - c * t, slope = (t * v - c * b) / (t * t * v + b * b)
            #expect(maxDifference(try fm.velocity()(t, x), x * slope) < 1e-12, "t = \(t)")
        }
        // DDPM: x̂₀ = √ᾱ·v/(ᾱ·v + 1 − ᾱ)·x_t.
        let ddpm = try DDPM(denoiser: zero, configuration: DDPMConfiguration(timesteps: 50, target: .sample, skipVariance: v))
        for t in [0, 25, 49] {
            let a = ddpm.schedule.alphaBars[t]
            #expect(maxDifference(try ddpm.estimate(x, timestep: t).x0, x * (a.squareRoot() * v / (a * v + 1 - a))) < 1e-12)
        }
        #expect(throws: ConfigurationError.self) { try DDPM(denoiser: zero, configuration: DDPMConfiguration(skipVariance: -1)) }
        #expect(throws: ConfigurationError.self) { try FlowMatching(denoiser: zero, configuration: FlowMatchingConfiguration(skipVariance: .nan)) }
    }

    @Test("the skip variance vst train uses: the median covariance eigenvalue is the lifted toy's noise floor")
    func medianEigenvalue() throws {
        var g = RandomGenerator(seed: 9)
        for dim in [64, 256] {
            let plane: Tensor<Double> = try Toy2D.moons.sample(4000, seed: 2)
            let lifted = try OrthogonalEmbedding(dimension: dim).lift(plane, noise: 0.01, using: &g)
            let v = try GaussianSkip.medianEigenvalue(of: lifted)
            #expect(abs(v / 1e-4 - 1) < 0.2, "D = \(dim): median eigenvalue \(v), noise variance 1e-4")
        }
    }
}
