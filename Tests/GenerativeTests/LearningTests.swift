// Learning tests: each family, trained briefly on eight Gaussians (2-D, standardised), beats the Gaussian baseline
// on MMD² and precision (SampleQuality.evaluate). Seeded; a few seconds each in a release build.

import Foundation
import Linear
import Neural
import Substrate
import Testing
import Generative
import TestSupport

enum Toy {
    static let train: Tensor<Float> = try! Toy2D.eightGaussians.sample(2000, seed: 11)
    static let heldOut: Tensor<Float> = try! Toy2D.eightGaussians.sample(1000, seed: 12)
    static let scaling = try! AffineScaling.standardizing(train)
    static let denoiser = MLPDenoiserConfiguration(dimension: 2, hidden: 96, blocks: 2, timeFrequencies: 32)

    /// Trains `family` for `steps` steps and returns the trainer (EMA weights not yet in the network).
    static func train<F: TrainableFamily<Float>>(_ family: F, steps: Int, seed: UInt64, batchSize: Int = 256) throws -> (Trainer<Float>, TrainingReport) {
        var c = TrainingConfiguration(steps: steps, batchSize: batchSize, learningRate: 3e-3, seed: seed)
        c.emaDecay = 0.995
        let t = try Trainer(family: family, denoiserConfiguration: denoiser, scaling: scaling, configuration: c)
        let r = try t.train(scaling.apply(train))
        return (t, r)
    }

    static func evaluate(_ samples: Tensor<Float>, _ label: String, _ report: TrainingReport, _ sampleSeconds: Double) throws -> SampleQualityReport {
        let x = try scaling.invert(samples)
        var o = SampleQualityOptions()
        o.permutations = 20
        o.kidSubsets = 2
        let q = try SampleQuality.evaluate(generated: x, real: heldOut, options: o, seed: 1)
        print(String(format: "%@: MMD² %.5f (baseline %.5f), precision %.3f (baseline %.3f), recall %.3f; loss %.4f → %.4f; train %.2f s (%d steps), sample %.2f s",
                     label, q.model.mmd2, q.baseline.mmd2, q.model.precision, q.baseline.precision, q.model.recall,
                     report.initialLoss, report.finalLoss, report.seconds, report.steps, sampleSeconds))
        return q
    }
}

@Suite("Learning: each family beats the Gaussian baseline on eight Gaussians", .serialized)
struct GenerativeLearningTests {
    @Test("DDPM (cosine, T = 250, ε): ancestral and DDIM η = 0 at 50 steps")
    func ddpm() throws {
        let net = try MLPDenoiser<Float>(Toy.denoiser, seed: 1)
        let m = try DDPM(denoiser: net, configuration: DDPMConfiguration(betaSchedule: .cosine(), timesteps: 250))
        let (t, r) = try Toy.train(m, steps: 2500, seed: 2)
        t.useEMAWeights()
        var start = Date()
        let a = try m.sample(1000, noise: SeededNoise(seed: 3))
        let q1 = try Toy.evaluate(a.samples, "DDPM ancestral 250", r, Date().timeIntervalSince(start))
        #expect(q1.model.mmd2 < q1.baseline.mmd2 && q1.model.precision > q1.baseline.precision)
        start = Date()
        let d = try m.sampleDDIM(1000, steps: 50, noise: SeededNoise(seed: 3))
        #expect(d.evaluations == 50)
        let q2 = try Toy.evaluate(d.samples, "DDIM η=0 50 steps", r, Date().timeIntervalSince(start))
        #expect(q2.model.mmd2 < q2.baseline.mmd2 && q2.model.precision > q2.baseline.precision)
    }

    @Test("flow matching (independent pairing), RK4 at 20 steps")
    func flowMatching() throws {
        let net = try MLPDenoiser<Float>(Toy.denoiser, seed: 4)
        let m = try FlowMatching(denoiser: net, configuration: FlowMatchingConfiguration(pairing: .none))
        let (t, r) = try Toy.train(m, steps: 2000, seed: 5)
        t.useEMAWeights()
        let start = Date()
        let s = try m.sample(1000, method: .rk4, steps: 20, noise: SeededNoise(seed: 6))
        #expect(s.evaluations == 80)
        let q = try Toy.evaluate(s.samples, "flow matching rk4 20", r, Date().timeIntervalSince(start))
        #expect(q.model.mmd2 < q.baseline.mmd2 && q.model.precision > q.baseline.precision)
    }

    @Test("OT-CFM: flow matching with exact minibatch OT pairing (batches of 128), Euler at 10 steps")
    func otFlowMatching() throws {
        let net = try MLPDenoiser<Float>(Toy.denoiser, seed: 14)
        let m = try FlowMatching(denoiser: net, configuration: FlowMatchingConfiguration(pairing: .exact))
        let (t, r) = try Toy.train(m, steps: 1500, seed: 15, batchSize: 128)
        t.useEMAWeights()
        let start = Date()
        let s = try m.sample(1000, method: .euler, steps: 10, noise: SeededNoise(seed: 6))
        let q = try Toy.evaluate(s.samples, "OT-CFM (exact) euler 10", r, Date().timeIntervalSince(start))
        #expect(q.model.mmd2 < q.baseline.mmd2 && q.model.precision > q.baseline.precision)
    }

    @Test("score SDE (VP): Euler–Maruyama, predictor–corrector and the probability-flow ODE")
    func scoreSDE() throws {
        let net = try MLPDenoiser<Float>(Toy.denoiser, seed: 7)
        let m = try ScoreSDEModel(denoiser: net)
        let (t, r) = try Toy.train(m, steps: 2500, seed: 8)
        t.useEMAWeights()
        var start = Date()
        let s = try m.sample(1000, sampler: .eulerMaruyama, steps: 250, noise: SeededNoise(seed: 9))
        #expect(s.evaluations == 250 + 1)   // + the final denoising step
        let q = try Toy.evaluate(s.samples, "score SDE VP euler-maruyama 250", r, Date().timeIntervalSince(start))
        #expect(q.model.mmd2 < q.baseline.mmd2 && q.model.precision > q.baseline.precision)
        start = Date()
        let pc = try m.sample(1000, sampler: .predictorCorrector, steps: 100, noise: SeededNoise(seed: 9))
        #expect(pc.evaluations == 200 + 1)
        let q3 = try Toy.evaluate(pc.samples, "score SDE VP pc (snr 0.16) 100", r, Date().timeIntervalSince(start))
        #expect(q3.model.mmd2 < q3.baseline.mmd2 && q3.model.precision > q3.baseline.precision)
        start = Date()
        let o = try m.sample(1000, sampler: .probabilityFlow, steps: 25, method: .rk4, noise: SeededNoise(seed: 9))
        #expect(o.evaluations == 100 + 1)
        let q2 = try Toy.evaluate(o.samples, "score SDE VP pf-ode rk4 25", r, Date().timeIntervalSince(start))
        #expect(q2.model.mmd2 < q2.baseline.mmd2 && q2.model.precision > q2.baseline.precision)
    }
}
