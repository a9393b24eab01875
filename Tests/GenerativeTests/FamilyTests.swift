import Foundation
import Linear
import Neural
import Testing
import Generative
import TestSupport

@Suite("Flow matching, score SDE, OT pairing, model files")
struct FamilyTests {
    let net = { try! MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: 2, hidden: 16, blocks: 1), seed: 3) }

    @Test("exact assignment is optimal (brute force over all permutations); Sinkhorn pairing is a permutation")
    func assignment() throws {
        func permutations(_ a: [Int]) -> [[Int]] {
            if a.count <= 1 { return [a] }
            return a.indices.flatMap { i in permutations(Array(a[..<i] + a[(i + 1)...])).map { [a[i]] + $0 } }
        }
        var g = RandomGenerator(seed: 4)
        for _ in 0..<5 {
            let cost = (0..<6).map { _ in (0..<6).map { _ in g.nextUniform() } }
            let best = permutations(Array(0..<6)).map { p in p.enumerated().reduce(0.0) { $0 + cost[$1.offset][$1.element] } }.min()!
            let a = try OptimalTransport.assignment(cost)
            #expect(Set(a).count == 6)
            #expect(abs(a.enumerated().reduce(0.0) { $0 + cost[$1.offset][$1.element] } - best) < 1e-12)
        }
        let x = Tensor<Float>.normal([20, 2], seed: 1), y = Tensor<Float>.normal([20, 2], seed: 2)
        for pairing in OTPairing.allCases {
            #expect(Set(try OptimalTransport.pair(noise: x, data: y, pairing: pairing)).count == 20)
        }
        // Identical clouds pair each point with itself.
        #expect(try OptimalTransport.pair(noise: x, data: x, pairing: .exact) == Array(0..<20))
        #expect(throws: ConfigurationError.self) { try OTPairing(parsing: "greedy") }
    }

    @Test("flow-matching loss on fixed inputs is ‖v_θ(x_t, t) − (x₁ − (1 − σ_min)x₀)‖² on the linear path")
    func flowMatchingLoss() throws {
        let m = try FlowMatching(denoiser: net(), configuration: FlowMatchingConfiguration(sigmaMin: 0.1))
        let x1 = Tensor<Float>.normal([5, 2], seed: 1), x0 = Tensor<Float>.normal([5, 2], seed: 2)
        let times = [0.0, 0.25, 0.5, 0.75, 1.0]
        var xt = x1, u = x1
        xt = Tensor(unsafeUninitializedShape: [5, 2]) { p, _ in
            for i in 0..<5 { for j in 0..<2 { p[i * 2 + j] = Float(1 - 0.9 * times[i]) * x0[i, j] + Float(times[i]) * x1[i, j] } }
        }
        try u.addScaled(x0, -0.9)
        let v = try m.denoiser.predict(xt, times: times.map { 1000 * $0 })
        let expected = Double(try (v - u).square().mean())
        #expect(abs(Double(try m.loss(data: x1, noise: x0, times: times).scalar) - expected) < 1e-5)
        // Samplers: evaluation counts per method, recorder shape, determinism, unknown names.
        let rec = try TrajectoryRecorder<Float>(every: 2)
        let e = try m.sample(7, method: .euler, steps: 10, noise: SeededNoise(seed: 1), recorder: rec)
        let recorded = try rec.tensor().shape
        #expect(e.evaluations == 10 && e.steps == 10 && recorded == [6, 7, 2])
        #expect(try m.sample(7, method: .heun, steps: 10, noise: SeededNoise(seed: 1)).evaluations == 20)
        #expect(try m.sample(7, method: .rk4, steps: 10, noise: SeededNoise(seed: 1)).evaluations == 40)
        let d = try m.sample(7, method: .dopri5, steps: 1, noise: SeededNoise(seed: 1))
        #expect(d.evaluations > 6 && d.steps >= 1)
        #expect(maxDifference(e.samples, try m.sample(7, method: .euler, steps: 10, noise: SeededNoise(seed: 1)).samples) == 0)
        #expect(throws: ConfigurationError.self) { try ODEMethod(parsing: "midpoint") }
        #expect(throws: ConfigurationError.self) { try m.sample(7, method: .euler, steps: 0, noise: SeededNoise(seed: 1)) }
    }

    @Test("score-SDE loss on fixed inputs is (λ/s²)·‖ε̂ − z‖²; samplers count evaluations and are deterministic")
    func scoreSDE() throws {
        for sde in [ScoreSDE.vp(), .subVP(), .ve(sigmaMin: 0.01, sigmaMax: 5)] {
            for w in ScoreSDE.Weighting.allCases {
                let m = try ScoreSDEModel(denoiser: net(), configuration: ScoreSDEConfiguration(sde: sde, weighting: w))
                let x0 = Tensor<Float>.normal([4, 2], seed: 1), z = Tensor<Float>.normal([4, 2], seed: 2)
                let times = [0.1, 0.3, 0.6, 0.9]
                let xt = try sde.perturb(x0, noise: z, times: times)
                let eh = try m.denoiser.predict(xt, times: times.map { 1000 * $0 })
                var expected = 0.0
                for i in 0..<4 {
                    let s = sde.marginalStd(times[i])
                    let wi = sde.lossWeight(times[i], w) / (s * s)
                    for j in 0..<2 { let d = Double(eh[i, j] - z[i, j]); expected += wi * d * d }
                }
                expected /= 8
                let l = Double(try m.loss(x0: x0, times: times, noise: z).scalar)
                #expect(abs(l - expected) < 1e-4 * max(1, expected))
            }
        }
        let m = try ScoreSDEModel(denoiser: net())
        let rec = try TrajectoryRecorder<Float>(every: 5, rows: 3)
        let em = try m.sample(6, sampler: .eulerMaruyama, steps: 20, noise: SeededNoise(seed: 1), recorder: rec)
        let recorded = try rec.tensor().shape
        // One evaluation per step, plus the final denoising step; the trajectory stops at t = ε, before it.
        #expect(em.evaluations == 21 && recorded == [5, 3, 2])
        let raw = try m.sample(6, sampler: .eulerMaruyama, steps: 20, denoise: false, noise: SeededNoise(seed: 1))
        #expect(raw.evaluations == 20)
        #expect(maxDifference(em.samples, try m.denoised(raw.samples)) == 0)
        let pc = try m.sample(6, sampler: .predictorCorrector, steps: 20, noise: SeededNoise(seed: 1))
        #expect(pc.evaluations == 41)
        #expect(maxDifference(pc.samples, try m.sample(6, sampler: .predictorCorrector, steps: 20, noise: SeededNoise(seed: 1)).samples) == 0)
        let ode = try m.sample(6, sampler: .probabilityFlow, steps: 10, method: .heun, noise: SeededNoise(seed: 1))
        #expect(ode.evaluations == 21)
        #expect(throws: ConfigurationError.self) { try ScoreSDESampler(parsing: "ancestral") }
        #expect(throws: ConfigurationError.self) { try m.sample(6, sampler: .eulerMaruyama, steps: 0, noise: SeededNoise(seed: 1)) }
    }

    @Test("score-SDE final denoising is Tweedie's posterior mean: E[x₀ | x_ε] = m·σ₀²/(m²σ₀² + s²)·x_ε for N(0, σ₀²) data")
    func tweedieDenoising() throws {
        let sigma0 = 0.7, d = 3
        let x = Tensor<Double>.normal([5, d], seed: 4)
        for sde in [ScoreSDE.vp(), .subVP(), .ve()] {
            let m = try ScoreSDEModel(denoiser: GaussianOracle(sde: sde, sigma0: sigma0, dimension: d), configuration: ScoreSDEConfiguration(sde: sde))
            let e = sde.samplingEpsilon, me = sde.marginalMeanCoefficient(e), se = sde.marginalStd(e)
            let exact = x * (me * sigma0 * sigma0 / (me * me * sigma0 * sigma0 + se * se))
            #expect(maxDifference(try m.denoised(x), exact) < 1e-12, "\(sde)")
        }
    }

    @Test("a model file round-trips family, configuration, scaling, raw and EMA weights; training resumes at its step")
    func modelFile() throws {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        let data: Tensor<Float> = try Toy2D.moons.sample(256, seed: 1)
        let scaling = try AffineScaling.standardizing(data)
        let dc = MLPDenoiserConfiguration(dimension: 2, hidden: 16, blocks: 1)
        let m = try DDPM(denoiser: MLPDenoiser<Float>(dc, seed: 1), configuration: DDPMConfiguration(betaSchedule: .cosine(), timesteps: 40, target: .velocity))
        var c = TrainingConfiguration(steps: 20, batchSize: 32, seed: 5)
        c.checkpointPath = dir.appendingPathComponent("ck.safetensors").path
        c.checkpointEvery = 10
        let t = try Trainer(family: m, denoiserConfiguration: dc, scaling: scaling, configuration: c)
        let r = try t.train(scaling.apply(data))
        #expect(r.steps == 20 && t.step == 20 && t.emaUpdates == 20)
        let raw = try GenerativeModelFile<Float>.load(c.checkpointPath!)
        let rawModel = try #require(raw.denoising)
        #expect(raw.step == 20 && raw.scaling == scaling && rawModel.family.familyName == .ddpm && rawModel.emaUpdates == 20)
        #expect(rawModel.family.configurationMetadata == m.configurationMetadata)
        for (a, b) in zip(rawModel.family.denoiser.parameters, m.denoiser.parameters) { #expect(maxDifference(a.value, b.value) == 0) }
        let ema = try GenerativeModelFile<Float>.load(c.checkpointPath!, useEMA: true)
        for (a, b) in zip(try #require(ema.denoising).family.denoiser.parameters, t.emaWeights) { #expect(maxDifference(a.value, b) == 0) }
        // Resume: a fresh trainer continues from step 20 to 30 with the saved EMA.
        var c2 = c
        c2.steps = 30
        let m2 = try DDPM(denoiser: MLPDenoiser<Float>(dc, seed: 99), configuration: m.configuration)
        let t2 = try Trainer(family: m2, denoiserConfiguration: dc, scaling: scaling, configuration: c2)
        try t2.resume(from: c.checkpointPath!)
        #expect(t2.step == 20 && t2.emaUpdates == 20)
        let r2 = try t2.train(scaling.apply(data))
        #expect(r2.firstStep == 20 && r2.steps == 10 && t2.step == 30)
        // A flow-matching file cannot resume a DDPM run.
        let fm = try FlowMatching(denoiser: MLPDenoiser<Float>(dc, seed: 1))
        let t3 = try Trainer(family: fm, denoiserConfiguration: dc, configuration: c2)
        #expect(throws: ModelFileError.self) { try t3.resume(from: c.checkpointPath!) }
        #expect(throws: ConfigurationError.self) { try FamilyName(parsing: "gan") }
    }
}

@Suite("Sampling a model file")
struct ModelFileSamplingTests {
    @Test("samplers by name: validated per family, batched identically, returned in data units")
    func samplers() throws {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        let data: Tensor<Float> = try Toy2D.moons.sample(128, seed: 1)
        let scaling = try AffineScaling.standardizing(data)
        let dc = MLPDenoiserConfiguration(dimension: 2, hidden: 8, blocks: 1)
        let families: [any TrainableFamily<Float>] = [
            try DDPM(denoiser: MLPDenoiser<Float>(dc, seed: 1), configuration: DDPMConfiguration(timesteps: 30)),
            try ScoreSDEModel(denoiser: MLPDenoiser<Float>(dc, seed: 1)),
            try FlowMatching(denoiser: MLPDenoiser<Float>(dc, seed: 1)),
        ]
        for f in families {
            let path = dir.appendingPathComponent("\(f.familyName.rawValue).safetensors").path
            let t = try Trainer(family: f, denoiserConfiguration: dc, scaling: scaling, configuration: TrainingConfiguration(steps: 3, batchSize: 16))
            try t.train(scaling.apply(data))
            try t.save(to: path)
            let file = try GenerativeModelFile<Float>.load(path, useEMA: true)
            let fileDouble = try GenerativeModelFile<Double>.load(path, useEMA: true)
            for s in SamplerName.allCases {
                let valid = SamplerName.valid(for: f.familyName).contains(s)
                if !valid {
                    #expect(throws: ConfigurationError.self) { try file.sample(4, sampler: s, steps: 5, seed: 1) }
                    continue
                }
                let steps = s == .ddpm ? 30 : 5
                // dopri5's error control and pc's Langevin step size look at the whole batch; every other sampler gives
                // each sample the same path whatever the batching.
                guard s != .dopri5 && s != .pc else { continue }
                try expectBatchInvariant(file, sampler: s, steps: steps)
                try expectBatchInvariant(fileDouble, sampler: s, steps: steps)
            }
            let d = try file.sample(5, seed: 3)   // the family's default sampler
            #expect(d.samples.shape == [5, 2])
        }
        #expect(throws: ConfigurationError.self) { try SamplerName(parsing: "langevin") }
    }
}

/// Samples 7 rows in batches of 3 (3 + 3 + 1) and in one batch, and checks they agree up to rounding.
///
/// The noise of a row depends only on its index, and no sampler checked here couples rows, so the two runs do the
/// same arithmetic on every row — except that BLAS chooses its kernels by matrix shape, and a row's dot products may
/// be rounded differently in a 1-row, a 3-row and a 7-row product (OpenBLAS's small-matrix and tail kernels
/// accumulate in different orders). Each network evaluation can thus move a value by a few units in the last place
/// of the values it works with, and the sampler carries such differences forward, one per evaluation (measured:
/// at most 0.1 unit per evaluation relative to the output's largest value, Euler–Maruyama on an untrained score
/// model whose samples reach 200). The bound is 4 units of roundoff ε of the scalar type per evaluation, relative to the
/// largest magnitude in the output (at least 1): 4·evaluations·ε·max(1, ‖x‖∞). A sample given another row's noise
/// differs by the noise scale, orders of magnitude above it; in Double the bound is about 10⁻¹³.
func expectBatchInvariant<S: BLASScalar>(_ file: GenerativeModelFile<S>, sampler s: SamplerName, steps: Int,
                                         sourceLocation: SourceLocation = #_sourceLocation) throws {
    var o = SamplingOptions()
    o.batchSize = 3
    let a = try file.sample(7, sampler: s, steps: steps, seed: 2, options: o)
    o.batchSize = 100
    let b = try file.sample(7, sampler: s, steps: steps, seed: 2, options: o)
    #expect(a.samples.shape == [7, 2], sourceLocation: sourceLocation)
    let scale = max(1, b.samples.scalars.map { abs(Double($0)) }.max() ?? .infinity)
    let bound = 4 * Double(b.evaluations) * Double(S.epsilon) * scale
    let d = maxDifference(a.samples, b.samples)
    #expect(d <= bound, "\(s) in \(S.self): batching changed the samples by \(d) (bound \(bound) = 4·\(b.evaluations)·ε·\(scale))",
            sourceLocation: sourceLocation)
}

/// The exact ε-predictor of N(0, σ₀²·I) data under a VP/sub-VP/VE SDE: ε̂ = s(t)·x/(m(t)²σ₀² + s(t)²).
final class GaussianOracle: Denoiser {
    typealias Scalar = Double
    let sde: ScoreSDE, sigma0: Double, dimension: Int
    var classCount: Int { 0 }
    var isTraining = false
    init(sde: ScoreSDE, sigma0: Double, dimension: Int) { self.sde = sde; self.sigma0 = sigma0; self.dimension = dimension }
    func callAsFunction(_ x: Variable<Double>, time: Tensor<Double>, labels: [Int]?) throws -> Variable<Double> {
        let t = time.scalars.map { $0 / 1000 }
        let c = try Tensor<Double>(t.map { t in let m = sde.marginalMeanCoefficient(t), s = sde.marginalStd(t); return s / (m * m * sigma0 * sigma0 + s * s) },
                                   shape: [t.count, 1])
        return try x * c
    }
}

@Suite("Score-SDE log-likelihood")
struct LikelihoodTests {
    @Test("the probability-flow likelihood of Gaussian data with the exact score is the Gaussian log density (exact trace and Hutchinson)")
    func gaussian() throws {
        let sigma0 = 0.7, d = 3
        let x = Tensor<Double>.normal([6, d], std: sigma0, seed: 3)
        let truth = gaussianLogDensity(x, variance: sigma0 * sigma0)
        for sde in [ScoreSDE.vp(), .subVP()] {
            let m = try ScoreSDEModel(denoiser: GaussianOracle(sde: sde, sigma0: sigma0, dimension: d), configuration: ScoreSDEConfiguration(sde: sde))
            let exact = try m.logLikelihood(x, steps: 200, method: .rk4)
            #expect(maxRelativeDifference(exact.logLikelihood, truth) < 2e-3, "\(sde)")
            #expect(exact.statistics.evaluations == 800)
            // The oracle's Jacobian is a multiple of I, so Rademacher probes give the exact trace too.
            let h = try m.logLikelihood(x, steps: 200, method: .rk4, hutchinsonProbes: 1)
            #expect(maxRelativeDifference(h.logLikelihood, exact.logLikelihood) < 1e-9)
        }
    }
}

extension Array {
    func chunked(_ k: Int) -> [[Element]] { stride(from: 0, to: count, by: k).map { Array(self[$0..<Swift.min($0 + k, count)]) } }
}
