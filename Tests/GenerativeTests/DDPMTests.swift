import Foundation
import Linear
import Neural
import Testing
import Generative
import TestSupport

@Suite("DDPM and DDIM")
struct DDPMTests {
    func model(_ c: DDPMConfiguration = DDPMConfiguration(timesteps: 50), seed: UInt64 = 1) throws -> DDPM<Float> {
        try DDPM(denoiser: MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: 3, hidden: 16, blocks: 1), seed: seed), configuration: c)
    }

    @Test("the denoiser maps [n, D] to [n, D] and checks its inputs")
    func denoiserShapes() throws {
        let net = try MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: 3, hidden: 8, blocks: 2, classCount: 4), seed: 0)
        let x = Tensor<Float>.normal([5, 3], seed: 1)
        #expect(try net.predict(x, times: [10]).shape == [5, 3])
        #expect(try net.predict(x, times: [10], labels: [0, 1, 2, 3, 4]).shape == [5, 3])
        #expect(throws: TensorError.self) { try net.predict(Tensor<Float>.normal([5, 2], seed: 1), times: [1]) }
        #expect(throws: TensorError.self) { try net.predict(x, times: [1, 2]) }
        let plain = try MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: 3, hidden: 8, blocks: 0), seed: 0)
        #expect(try plain.predict(x, times: [3]).shape == [5, 3])
        #expect(throws: ConfigurationError.self) { try plain.predict(x, times: [1], labels: [0, 0, 0, 0, 0]) }
    }

    @Test("classifier-free guidance is (1 + w)·conditional − w·unconditional, the null label being classCount")
    func guidance() throws {
        let net = try MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: 3, hidden: 8, blocks: 1, classCount: 3), seed: 2)
        let x = Tensor<Float>.normal([4, 3], seed: 1)
        let c = try net.predict(x, times: [7], labels: [0, 1, 2, 1]), u = try net.predict(x, times: [7], labels: [3, 3, 3, 3])
        let g = try net.predict(x, times: [7], labels: [0, 1, 2, 1], guidance: 2)
        #expect(maxDifference(g, try c * 3 - u * 2) < 1e-5)
        #expect(maxDifference(try net.predict(x, times: [7], labels: [0, 1, 2, 1], guidance: 0), c) == 0)
        let m = try DDPM(denoiser: net, configuration: DDPMConfiguration(timesteps: 20))
        m.guidanceScale = 1.5
        let a = try m.sampleDDIM(4, steps: 5, noise: SeededNoise(seed: 1), labels: [0, 1, 2, 0])
        #expect(a.samples.shape == [4, 3])
        var tc = TrainingConfiguration(steps: 3, batchSize: 4)
        tc.labelDropout = 0.5
        let t = try Trainer(family: m, denoiserConfiguration: net.configuration, configuration: tc)
        try t.train(Tensor<Float>.normal([8, 3], seed: 3), labels: [0, 1, 2, 0, 1, 2, 0, 1])
        #expect(t.step == 3)
    }

    @Test("the loss on fixed inputs is the MSE of the prediction against ε, x₀ or v")
    func lossOnFixedInputs() throws {
        let x0 = Tensor<Float>.normal([4, 3], seed: 2), eps = Tensor<Float>.normal([4, 3], seed: 3)
        let ts = [0, 10, 25, 49]
        for target in PredictionTarget.allCases {
            let m = try model(DDPMConfiguration(timesteps: 50, target: target))
            let xt = try m.schedule.addNoise(x0, noise: eps, timesteps: ts)
            let pred = try m.denoiser.predict(xt, times: ts.map(Double.init))
            let y = try m.schedule.target(target, x0: x0, noise: eps, timesteps: ts)
            let expected = Double(try (pred - y).square().mean())
            let l = try m.loss(x0: x0, timesteps: ts, noise: eps)
            #expect(abs(Double(l.scalar) - expected) < 1e-5 * max(1, expected))
            try l.backward()
            #expect(m.denoiser.parameters.allSatisfy { $0.grad != nil })
        }
    }

    @Test("ancestral sampling costs T evaluations, is deterministic per seed and records T + 1 states")
    func ancestral() throws {
        let m = try model()
        let rec = try TrajectoryRecorder<Float>(every: 10, rows: 4)
        let a = try m.sample(8, noise: SeededNoise(seed: 5), recorder: rec)
        let b = try m.sample(8, noise: SeededNoise(seed: 5))
        #expect(a.evaluations == 50 && a.steps == 50)
        #expect(maxDifference(a.samples, b.samples) == 0)
        #expect(try rec.tensor().shape == [6, 4, 3])   // steps 0, 10, …, 50
        // Sampling rows 4…7 alone gives the same rows.
        let tail = try m.sample(4, noise: SeededNoise(seed: 5), firstRow: 4)
        #expect(maxDifference(tail.samples, try a.samples.slice(4..<8)) < 1e-5)
        let c = try m.sample(8, noise: SeededNoise(seed: 6))
        #expect(maxDifference(a.samples, c.samples) > 0)
    }

    @Test("DDIM validates its step count, counts evaluations and inverts deterministically")
    func ddim() throws {
        let m = try model()
        #expect(throws: ConfigurationError.self) { try m.sampleDDIM(4, steps: 0, noise: SeededNoise(seed: 1)) }
        #expect(throws: ConfigurationError.self) { try m.sampleDDIM(4, steps: 51, noise: SeededNoise(seed: 1)) }
        for spacing in TimestepSpacing.allCases {
            let r = try m.sampleDDIM(6, steps: 7, spacing: spacing, noise: SeededNoise(seed: 1))
            #expect(r.evaluations == 7 && r.samples.shape == [6, 3])
        }
        let s1 = try m.sampleDDIM(6, steps: 10, eta: 0.5, noise: SeededNoise(seed: 2))
        let s2 = try m.sampleDDIM(6, steps: 10, eta: 0.5, noise: SeededNoise(seed: 2))
        #expect(maxDifference(s1.samples, s2.samples) == 0)
        // Inversion round trip with every timestep (η = 0): noise → data → noise.
        let x0 = try m.sampleDDIM(6, steps: 50, noise: SeededNoise(seed: 3)).samples
        let inv = try m.ddimInvert(x0, steps: 50)
        #expect(inv.evaluations == 50)
        let back = try m.sampleDDIM(6, steps: 50, noise: ConstantPrior(prior: inv.samples)).samples
        #expect(maxDifference(back, x0) < 0.05)
    }

    @Test("one DDIM step returns the next state and the x₀ estimate; x₀ clipping bounds the estimate")
    func stepAndClip() throws {
        let m = try model(DDPMConfiguration(timesteps: 50, target: .sample, clipSample: 0.1))
        let ddim = try DDIMSchedule(m.schedule, steps: 5)
        let x = Tensor<Float>.normal([4, 3], seed: 9)
        let s = try m.ddimStep(x, schedule: ddim, index: 0, eta: 0, noise: nil)
        #expect(s.next.shape == [4, 3] && s.x0.scalars.allSatisfy { abs($0) <= 0.1 + 1e-6 })
        let a = try m.ancestralStep(x, timestep: 0, noise: nil)
        #expect(maxDifference(a.next, a.x0) < 1e-6)   // at t = 0 the step returns μ̃ = x̂₀
    }
}

/// A noise source whose prior is a given tensor (rows from `firstRow`), with zero sampler noise.
struct ConstantPrior: NoiseSource {
    let prior: Tensor<Float>
    func normal<S: BLASScalar>(_ shape: [Int], step: Int, stream: NoiseStream, firstRow: Int) -> Tensor<S> {
        if stream == .prior { return (try! prior.slice(firstRow..<(firstRow + shape[0]))).cast() }
        return .zeros(shape)
    }
    func uniform<S: BLASScalar>(_ shape: [Int], step: Int, stream: NoiseStream, firstRow: Int) -> Tensor<S> { .full(shape, S(0.5)) }
}
