// Consistency models (Song et al. 2023): the boundary condition, the CT/CD losses on fixed inputs, the target
// network update, the teachers' EDM view and their Heun step, samplers and model files; learning tests for
// consistency training (one step) on a lifted toy and distillation from a flow-matching teacher.

import Foundation
import Linear
import Neural
import Substrate
import Testing
import Generative
import TestSupport

/// A teacher with the exact denoiser of N(0, s²·I) data: D(x, σ) = s²/(s² + σ²)·x. Its PF-ODE trajectories are
/// x(σ) = x(σ₀)·√(s² + σ²)/√(s² + σ₀²).
final class GaussianTeacher: ConsistencyTeacher {
    typealias Scalar = Double
    let s: Double
    var evaluations = 0
    init(s: Double) { self.s = s }
    func denoise(_ x: Tensor<Double>, sigmas: [Double], labels: [Int]?) throws -> Tensor<Double> {
        evaluations += 1
        let d = x.count / x.shape[0]
        return Tensor(unsafeUninitializedShape: x.shape) { p, _ in
            for i in 0..<x.shape[0] {
                let sg = sigmas[sigmas.count == 1 ? 0 : i], f = s * s / (s * s + sg * sg)
                for j in 0..<d { p[i * d + j] = f * x[i, j] }
            }
        }
    }
}

extension MLPDenoiserConfiguration {
    func withDimension(_ d: Int) -> MLPDenoiserConfiguration { var c = self; c.dimension = d; return c }
}

@Suite("Consistency models")
struct ConsistencyTests {
    let config = MLPDenoiserConfiguration(dimension: 3, hidden: 16, blocks: 1, timeFrequencies: 16)

    @Test("f_θ(x, σ_min) = x exactly; f = c_skip·x + c_out·F_θ(c_in·x) elsewhere")
    func boundary() throws {
        let m = try ConsistencyModel(denoiser: MLPDenoiser<Float>(config, seed: 1))
        let x = Tensor<Float>.normal([4, 3], seed: 2)
        #expect(try m.consistencyFunction(x, sigmas: [0.002], labels: nil, guidance: 0) == x)
        let s = m.schedule
        let sigma = 1.7
        let f = try m.consistencyFunction(x, sigmas: [sigma], labels: nil, guidance: 0)
        let raw = try m.denoiser.predict(x * Float(s.cIn(sigma)), times: [250 * Foundation.log(sigma)])
        let expected = try x * Float(s.cSkip(sigma)) + raw * Float(s.cOut(sigma))
        #expect(maxDifference(f, expected) < 1e-6)
        // The taped version agrees with the tape-free one, per row.
        let taped = try m.consistencyFunction(x, sigmas: [0.5, 1.7, 10, 80], labels: nil).value
        let free = try m.consistencyFunction(x, sigmas: [0.5, 1.7, 10, 80], labels: nil, guidance: 0)
        #expect(maxDifference(taped, free) < 1e-6)
    }

    @Test("CT loss on fixed inputs is mean (f_θ(x + t_{n+1}z, t_{n+1}) − f_θ⁻(x + t_n z, t_n))²; N(k) runs 2 → 151")
    func trainingLoss() throws {
        let m = try ConsistencyModel(denoiser: MLPDenoiser<Float>(config, seed: 1))
        #expect(try m.boundaries(step: 0, of: 1000).count == 2)
        #expect(try m.boundaries(step: 1000, of: 1000).count == 151)
        #expect(abs(try m.targetDecay(step: 0, of: 1000) - 0.9) < 1e-12)
        let t = try m.boundaries(step: 500, of: 1000)
        let x = Tensor<Float>.normal([5, 3], seed: 3), z = Tensor<Float>.normal([5, 3], seed: 4)
        let idx = [0, 3, t.count - 2, 7, 1]
        let hi = idx.map { t[$0 + 1] }, lo = idx.map { t[$0] }
        func noised(_ s: [Double]) -> Tensor<Float> {
            Tensor(unsafeUninitializedShape: [5, 3]) { p, _ in for i in 0..<5 { for j in 0..<3 { p[i * 3 + j] = x[i, j] + Float(s[i]) * z[i, j] } } }
        }
        let a = try m.consistencyFunction(noised(hi), sigmas: hi, labels: nil, guidance: 0)
        let b = try m.consistencyFunction(noised(lo), sigmas: lo, labels: nil, guidance: 0)
        let expected = Double(try (a - b).square().mean())
        let loss = try m.loss(x0: x, noise: z, indices: idx, boundaries: t)
        #expect(abs(Double(loss.scalar) - expected) < 1e-5 * Swift.max(1, expected))
        // Gradients flow to the online network only; the target weights are untouched by backward.
        try loss.backward()
        #expect(m.denoiser.parameters.allSatisfy { $0.grad != nil })
        #expect(throws: ConfigurationError.self) { try m.loss(x0: x, noise: z, indices: [0, 0, 0, 0, t.count - 1], boundaries: t) }
        // Log-normal interval sampling puts most mass near σ ≈ e^(−1.1); probabilities sum to 1.
        let p = ConsistencyNoiseSampling.lognormal(mean: -1.1, std: 2).probabilities(t)
        #expect(abs(p.reduce(0, +) - 1) < 1e-12 && p.count == t.count - 1)
        #expect(try ConsistencyNoiseSampling(parsing: "lognormal") == .lognormal(mean: -1.1, std: 2))
        // Distillation without a teacher is an error.
        var cd = ConsistencyConfiguration()
        cd.mode = .distillation
        let d = try ConsistencyModel(denoiser: MLPDenoiser<Float>(config, seed: 1), configuration: cd)
        #expect(throws: ConfigurationError.self) { try d.loss(x0: x, noise: z, indices: [0, 1, 2, 3, 4], boundaries: try d.boundaries(step: 0, of: 1)) }
    }

    @Test("the target network moves by θ⁻ ← μθ⁻ + (1 − μ)θ after each step, and is a checkpointed training state")
    func targetUpdate() throws {
        let m = try ConsistencyModel(denoiser: MLPDenoiser<Float>(config, seed: 1))
        let before = m.targetWeights
        for p in m.denoiser.parameters { p.value = try p.value + 1 }
        try m.didTrain(step: 0, of: 100)   // μ(0) = 0.9
        for (i, p) in m.denoiser.parameters.enumerated() {
            let expected = try before[i] * 0.9 + p.value * Float(0.1)
            #expect(maxDifference(m.targetWeights[i], expected) < 1e-6)
        }
        let state = m.trainingState
        #expect(state.count == m.denoiser.parameters.count && state.keys.allSatisfy { $0.hasPrefix("target.") })
        let other = try ConsistencyModel(denoiser: MLPDenoiser<Float>(config, seed: 7))
        try other.loadTrainingState(state)
        for (a, b) in zip(other.targetWeights, m.targetWeights) { #expect(a == b) }
    }

    @Test("Heun step of a teacher's PF ODE is second order (exact Gaussian denoiser); CD's x_lo is that step")
    func heun() throws {
        let teacher = GaussianTeacher(s: 0.7)
        let x = Tensor<Double>.normal([4, 3], seed: 1) * 5.0
        func error(_ h: Double) throws -> Double {
            let from = 5.0, to = from - h
            let step = try teacher.heunStep(x, from: [from], to: [to], labels: nil)
            let exact = x * ((0.49 + to * to).squareRoot() / (0.49 + from * from).squareRoot())
            return maxDifference(step, exact)
        }
        let e1 = try error(0.5), e2 = try error(0.25)
        print(String(format: "Heun step errors: h = 0.5: %.3e, h = 0.25: %.3e (ratio %.1f, 8 for a local O(h³) error)", e1, e2, e1 / e2))
        #expect(e1 / e2 > 6 && e1 / e2 < 11)
        #expect(teacher.evaluations == 4)
        // σ' = 0 rows take the Euler step (one evaluation): x − σ·(x − D)/σ = D.
        let toZero = try teacher.heunStep(x, from: [2], to: [0], labels: nil)
        #expect(maxDifference(toZero, try teacher.denoise(x, sigmas: [2], labels: nil)) < 1e-12)
    }

    @Test("teachers in EDM coordinates: DDPM's σ_t ↔ t, flow matching's t = 1/(σ + 1 − σ_min), score SDE's σ(t) = s(t)/m(t)")
    func teachers() throws {
        let net = try MLPDenoiser<Double>(config, seed: 2)
        let ddpm = try DDPM(denoiser: net, configuration: DDPMConfiguration(timesteps: 1000))
        for t in [0, 10, 487, 999] {
            let sigma = (1 - ddpm.schedule.alphaBars[t]).squareRoot() / ddpm.schedule.alphaBars[t].squareRoot()
            #expect(abs(ddpm.timestep(sigma: sigma) - Double(t)) < 1e-9)
        }
        #expect(ddpm.timestep(sigma: 1e-6) == 0 && ddpm.timestep(sigma: 1e6) == 999)
        let sde = try ScoreSDEModel(denoiser: net)
        for t in [0.01, 0.3, 0.9] {
            let sigma = sde.sde.marginalStd(t) / sde.sde.marginalMeanCoefficient(t)
            #expect(abs(sde.time(sigma: sigma) - t) < 1e-9)
        }
        // Flow matching: D(x, σ) from the velocity; with the exact velocity of N(0, I) data (x₁ = data at t = 1)…
        // checked through the identity x̂ = (1 − ct)·v̂ + c·t·x for a network that returns v = 0: x̂ = c·t·x.
        let fm = try FlowMatching(denoiser: net, configuration: FlowMatchingConfiguration(sigmaMin: 0.1))
        for p in fm.denoiser.parameters { p.value = p.value * 0.0 }
        let x = Tensor<Double>.normal([2, 3], seed: 3)
        let d = try fm.denoise(x, sigmas: [1.5], labels: nil)
        let t = 1 / (1.5 + 0.9)
        #expect(maxDifference(d, x * (0.9 * t)) < 1e-12)
    }

    @Test("samplers: one step is one evaluation of f at σ_max; multistep over Karras levels; recorder; determinism; names")
    func samplers() throws {
        let m = try ConsistencyModel(denoiser: MLPDenoiser<Float>(config, seed: 1))
        let one = try m.sample(6, noise: SeededNoise(seed: 1))
        #expect(one.evaluations == 1 && one.samples.shape == [6, 3])
        let prior: Tensor<Float> = SeededNoise(seed: 1).prior([6, 3], std: 80)
        #expect(maxDifference(one.samples, try m.consistencyFunction(prior, sigmas: [80], labels: nil, guidance: 0)) < 1e-5)
        let levels = try m.samplingLevels(steps: 3)
        #expect(levels.count == 3 && levels[0] == 80 && levels[1] > levels[2] && levels[2] > 0.002)
        let rec = try TrajectoryRecorder<Float>(every: 1)
        let three = try m.sample(6, steps: 3, noise: SeededNoise(seed: 1), recorder: rec)
        let recorded = try rec.tensor().shape
        #expect(three.evaluations == 3 && recorded == [4, 6, 3])
        #expect(try m.sample(6, steps: 3, noise: SeededNoise(seed: 1)).samples == three.samples)
        // Batches: rows keep their noise.
        let a = try m.sample(4, steps: 2, noise: SeededNoise(seed: 5))
        let b = try m.sample(2, steps: 2, noise: SeededNoise(seed: 5), firstRow: 2)
        #expect(maxDifference(try a.samples.slice(2..<4), b.samples) < 1e-5)
        #expect(throws: ConfigurationError.self) { try m.sample(2, levels: [10, 20], noise: SeededNoise(seed: 1)) }
        #expect(throws: ConfigurationError.self) { try m.sample(2, steps: 0, noise: SeededNoise(seed: 1)) }
        #expect(try SamplerName(parsing: "consistency") == .multistep)
        #expect(SamplerName.valid(for: .consistency) == [.onestep, .multistep])
        #expect(try FamilyName(parsing: "consistency") == .consistency)
    }

    @Test("class-conditional consistency models: labels in the loss and the samplers, guidance (1 + w)·F(c) − w·F(∅) on F_θ")
    func conditional() throws {
        let c = MLPDenoiserConfiguration(dimension: 3, hidden: 16, blocks: 1, timeFrequencies: 16, classCount: 3)
        let m = try ConsistencyModel(denoiser: MLPDenoiser<Float>(c, seed: 1))
        let x = Tensor<Float>.normal([4, 3], seed: 2), z = Tensor<Float>.normal([4, 3], seed: 3)
        let t = try m.boundaries(step: 10, of: 20)
        let l = try m.loss(x0: x, noise: z, indices: [0, 1, 2, 3], boundaries: t, labels: [0, 1, 2, 3])
        #expect(Double(l.scalar).isFinite)
        let a = try m.sample(4, noise: SeededNoise(seed: 1), labels: [0, 0, 0, 0]).samples
        let b = try m.sample(4, noise: SeededNoise(seed: 1), labels: [1, 1, 1, 1]).samples
        #expect(maxDifference(a, b) > 0)
        // Guidance: f = c_skip·x + c_out·((1 + w)·F(c) − w·F(∅)).
        m.guidanceScale = 2
        let guided = try m.sample(4, noise: SeededNoise(seed: 1), labels: [1, 1, 1, 1]).samples
        let xT: Tensor<Float> = SeededNoise(seed: 1).prior([4, 3], std: 80)
        let input = xT * Float(m.schedule.cIn(80))
        let time = 1000 * m.schedule.cNoise(80)
        let fc = try m.denoiser.predict(input, times: [time], labels: [1, 1, 1, 1])
        let fu = try m.denoiser.predict(input, times: [time], labels: [3, 3, 3, 3])
        let expected = try xT * Float(m.schedule.cSkip(80)) + (fc * Float(3) - fu * Float(2)) * Float(m.schedule.cOut(80))
        #expect(maxDifference(guided, expected) < 1e-4)
        #expect(throws: ConfigurationError.self) { try m.sample(2, noise: SeededNoise(seed: 1), labels: [5, 0]) }
    }

    @Test("the DDPM teacher's D(x, σ) follows its prediction target (ε: x − σ·ε̂; x₀: x̂₀; v: x/(1 + σ²) − σ/√(1 + σ²)·v̂)")
    func ddpmTeacherTargets() throws {
        let x = Tensor<Double>.normal([3, 3], seed: 1)
        for target in PredictionTarget.allCases {
            let net = try MLPDenoiser<Double>(config.withDimension(3), seed: 2)
            for p in net.parameters { p.value = p.value * 0.0 }   // the network predicts 0
            let ddpm = try DDPM(denoiser: net, configuration: DDPMConfiguration(timesteps: 100, target: target))
            let sigma = 2.0
            let d = try ddpm.denoise(x, sigmas: [sigma], labels: nil)
            let expected: Tensor<Double>
            switch target {
            case .epsilon: expected = x
            case .sample: expected = x * 0.0
            case .velocity: expected = x * (1 / (1 + sigma * sigma))
            }
            #expect(maxDifference(d, expected) < 1e-12)
        }
    }

    @Test("a consistency model file round-trips configuration, target network and samplers by name")
    func modelFile() throws {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        let path = dir.appendingPathComponent("cm.safetensors").path
        let schedule = try ConsistencySchedule(sigmaMax: 40, sigmaData: 1)
        let cc = ConsistencyConfiguration(schedule: schedule, finalSteps: 40, metric: .pseudoHuber(c: 0.01))
        let m = try ConsistencyModel(denoiser: MLPDenoiser<Float>(config, seed: 1), configuration: cc)
        var tc = TrainingConfiguration(steps: 12, batchSize: 16, seed: 3)
        tc.checkpointPath = path
        let t = try Trainer(family: m, scaling: .identity, configuration: tc)
        try t.train(Tensor<Float>.normal([64, 3], seed: 2))
        let f = try GenerativeModelFile<Float>.load(path)
        let loaded = try #require(f.denoising?.family as? ConsistencyModel<Float>)
        #expect(loaded.configuration == cc)
        for (a, b) in zip(loaded.targetWeights, m.targetWeights) { #expect(a == b) }
        let s = try f.sample(5, seed: 1)
        #expect(s.evaluations == 1)
        #expect(try f.sample(5, sampler: .multistep, seed: 1).evaluations == 2)
        #expect(try f.sample(5, sampler: .multistep, steps: 4, seed: 1).evaluations == 4)
        #expect(throws: ConfigurationError.self) { try f.sample(5, sampler: .onestep, steps: 3, seed: 1) }
        #expect(throws: ConfigurationError.self) { try f.sample(5, sampler: .ddim, seed: 1) }
    }
}

/// The toy of the consistency learning tests: eight Gaussians lifted onto 8 dimensions, standardised.
enum LiftedToy {
    static let source = DataSource.toy(.eightGaussians, dimension: 8)
    static let train: Tensor<Float> = try! source.load(count: 4000, seed: 21).data
    static let heldOut: Tensor<Float> = try! source.load(count: 1000, seed: 22).data
    static let scaling = try! AffineScaling.standardizing(train)
    static let denoiser = MLPDenoiserConfiguration(dimension: 8, hidden: 128, blocks: 2, timeFrequencies: 32)

    static func quality(_ samples: Tensor<Float>, _ label: String, seconds: Double) throws -> SampleQualityReport {
        var o = SampleQualityOptions()
        o.permutations = 20
        o.kidSubsets = 2
        let q = try SampleQuality.evaluate(generated: scaling.invert(samples), real: heldOut, options: o, seed: 1)
        print(String(format: "%@: MMD² %.5f (Gaussian baseline %.5f), precision %.3f (baseline %.3f), recall %.3f; %.1f s",
                     label, q.model.mmd2, q.baseline.mmd2, q.model.precision, q.baseline.precision, q.model.recall, seconds))
        return q
    }
}

@Suite("Consistency learning", .serialized)
struct ConsistencyLearningTests {
    /// Improved CT (Song & Dhariwal 2023: target = online network without gradient, pseudo-Huber, 1/(t_{n+1} − t_n)
    /// weights, log-normal intervals, s₀ = 10) with σ_max = 20 for unit-variance data. The paper's original recipe
    /// (μ(k) EMA target, ℓ2, uniform intervals) needs far longer runs here: at 2 000–3 000 steps its one-step
    /// samples do not beat the baseline (MMD² 0.23 with s₁ = 150, 0.014 with s₁ = 40; baseline 0.0073).
    @Test("improved consistency training on eight Gaussians lifted to 8-D: one-step samples beat the Gaussian baseline")
    func consistencyTraining() throws {
        let start = Date()
        let schedule = try ConsistencySchedule(sigmaMax: 20, sigmaData: 1)
        let cc = ConsistencyConfiguration(schedule: schedule, initialSteps: 10, finalSteps: 150, metric: try ConsistencyMetric(parsing: "pseudo-huber", dimension: 8),
                                          trainingDecay: 0, weighting: .inverseGap, noiseSampling: .lognormal(mean: -1.1, std: 2))
        let m = try ConsistencyModel(denoiser: MLPDenoiser<Float>(LiftedToy.denoiser, seed: 1), configuration: cc)
        var tc = TrainingConfiguration(steps: 3000, batchSize: 256, learningRate: 2e-3, seed: 2)
        tc.emaDecay = 0.995
        let t = try Trainer(family: m, scaling: LiftedToy.scaling, configuration: tc)
        let r = try t.train(LiftedToy.scaling.apply(LiftedToy.train))
        t.useEMAWeights()
        print(String(format: "CT: loss %.4f → %.4f in %.1f s", r.initialLoss, r.finalLoss, r.seconds))
        let one = try m.sample(1000, noise: SeededNoise(seed: 3))
        #expect(one.evaluations == 1)
        let q = try LiftedToy.quality(one.samples, "CT one step", seconds: Date().timeIntervalSince(start))
        #expect(q.model.mmd2 < q.baseline.mmd2 && q.model.precision > q.baseline.precision)
        let two = try m.sample(1000, steps: 2, noise: SeededNoise(seed: 3))
        let q2 = try LiftedToy.quality(two.samples, "CT two steps", seconds: Date().timeIntervalSince(start))
        #expect(q2.model.mmd2 < q2.baseline.mmd2)
    }

    @Test("consistency distillation from a flow-matching teacher: one step gets close to the teacher's RK4 samples")
    func distillation() throws {
        let start = Date()
        let x = try LiftedToy.scaling.apply(LiftedToy.train)
        let teacher = try FlowMatching(denoiser: MLPDenoiser<Float>(LiftedToy.denoiser, seed: 4))
        var tc = TrainingConfiguration(steps: 2000, batchSize: 256, learningRate: 3e-3, seed: 5)
        tc.emaDecay = 0.995
        let tt = try Trainer(family: teacher, scaling: LiftedToy.scaling, configuration: tc)
        try tt.train(x)
        tt.useEMAWeights()
        let ts = try teacher.sample(1000, method: .rk4, steps: 20, noise: SeededNoise(seed: 6))
        let qt = try LiftedToy.quality(ts.samples, "teacher: flow matching rk4 20", seconds: Date().timeIntervalSince(start))

        let schedule = try ConsistencySchedule(sigmaData: 1)
        let student = try ConsistencyModel(denoiser: MLPDenoiser<Float>(LiftedToy.denoiser, seed: 7),
                                           configuration: ConsistencyConfiguration(schedule: schedule, mode: .distillation), teacher: teacher)
        var sc = TrainingConfiguration(steps: 2000, batchSize: 256, learningRate: 2e-3, seed: 8)
        sc.emaDecay = 0.995
        let st = try Trainer(family: student, scaling: LiftedToy.scaling, configuration: sc)
        let r = try st.train(x)
        st.useEMAWeights()
        print(String(format: "CD: loss %.5f → %.5f in %.1f s", r.initialLoss, r.finalLoss, r.seconds))
        let one = try student.sample(1000, noise: SeededNoise(seed: 6))
        let qs = try LiftedToy.quality(one.samples, "CD student one step", seconds: Date().timeIntervalSince(start))
        print(String(format: "distillation gap: student MMD² %.5f vs teacher %.5f (baseline %.5f)", qs.model.mmd2, qt.model.mmd2, qs.baseline.mmd2))
        #expect(qs.model.mmd2 < qs.baseline.mmd2)
        #expect(qs.model.mmd2 < qt.model.mmd2 + 0.25 * (qt.baseline.mmd2 - qt.model.mmd2))
    }
}
