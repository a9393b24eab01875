import Foundation
@testable import Generative
import Neural
import Linear
import Testing
import TestSupport

/// The pieces behind `vst train`'s defaults for the consistency, VQ-VAE and GAN families on data lifted to many
/// dimensions: each checked against its formula, its boundary conditions and a model-file round trip.
@Suite struct LadderDefaultsTests {
    @Test("consistency data prediction: f(x, σ_min) = x, c_skip + c_out = 1, c_skip(2σ_min) = ½, c_skip ≈ 0 beyond; EDM unchanged")
    func consistencyDataPrediction() throws {
        let d = try ConsistencySchedule(sigmaData: 1, prediction: .data)
        let e = try ConsistencySchedule(sigmaData: 1)
        #expect(e.prediction == .edm)
        #expect(d.cSkip(d.sigmaMin) == 1 && d.cOut(d.sigmaMin) == 0)
        #expect(abs(d.cSkip(2 * d.sigmaMin) - 0.5) < 1e-12)
        for s in [0.003, 0.01, 0.1, 1, 10, 80] {
            #expect(abs(d.cSkip(s) + d.cOut(s) - 1) < 1e-12)
            let m = s - d.sigmaMin
            #expect(abs(d.cSkip(s) - d.sigmaMin * d.sigmaMin / (m * m + d.sigmaMin * d.sigmaMin)) < 1e-15)
        }
        #expect(d.cSkip(0.1) < 1e-3)
        // EDM at σ = 1 with σ_data 1 keeps about half of x_σ, which the network would have to cancel.
        #expect(abs(e.cSkip(1) - 1 / ((1 - 0.002) * (1 - 0.002) + 1)) < 1e-12)
        #expect(throws: ConfigurationError.self) { try ConsistencyPrediction(parsing: "velocity") }
        #expect(try ConsistencyPrediction(parsing: "x0") == .data && ConsistencyPrediction(parsing: "paper") == .edm)
    }

    @Test("consistency σ_data fitted to data: (λ₁·λ_med)^¼ — 1 for identity covariance, ≈ √D/16 for a standardised lifted toy; the EDM skip's leak peaks at σ_data/2")
    func consistencyFittedSigmaData() throws {
        var g = RandomGenerator(seed: 11)
        let iso = Tensor<Double>.normal([4000, 16], using: &g)
        #expect(abs(try ConsistencySchedule.fittedSigmaData(to: iso) - 1) < 0.1)
        // Scaling the data by a scales σ_data by a.
        #expect(abs(try ConsistencySchedule.fittedSigmaData(to: iso * 3) / ConsistencySchedule.fittedSigmaData(to: iso) - 3) < 1e-9)
        // Eight Gaussians lifted to D and standardised per feature: λ₁ ≈ D/2 along the plane, λ_med the noise floor.
        for (toy, d, low, high) in [(Toy2D.eightGaussians, 64, 0.35, 0.6), (.eightGaussians, 256, 0.7, 1.1), (.eightGaussians, 1024, 1.4, 2.1),
                                    (.moons, 64, 0.45, 0.75), (.moons, 256, 0.9, 1.4), (.moons, 1024, 1.7, 2.6)] {
            let x = try DataSource.toy(toy, dimension: d).load(count: 4000, seed: 1, as: Double.self).data
            let z = try AffineScaling.standardizing(x).apply(x)
            let s = try ConsistencySchedule.fittedSigmaData(to: z)
            print(String(format: "fitted σ_data %@ D = %d: %.3f", toy.rawValue, d, s))
            #expect(s > low && s < high, "\(toy) D = \(d): σ_data \(s)")
        }
        // The skip passes c_skip(σ)·(σ − σ_min) of the noise: at most σ_data/2, at σ − σ_min = σ_data.
        for sd in [0.44, 1, 2.19] {
            let e = try ConsistencySchedule(sigmaData: sd)
            let leak = stride(from: 0.0, through: 10, by: 0.001).map { d in e.cSkip(e.sigmaMin + d) * d }.max()!
            #expect(abs(leak - sd / 2) < 1e-6)
            #expect(abs(e.cSkip(e.sigmaMin + sd) * sd - sd / 2) < 1e-12)
        }
        // Rank-deficient data: the median eigenvalue is 0 and σ_data must be given.
        #expect(throws: ConfigurationError.self) { try ConsistencySchedule.fittedSigmaData(to: Tensor<Double>.normal([10, 64], using: &g)) }
    }

    @Test("consistency model files record the data prediction; files without the key load as EDM")
    func consistencyModelFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ladder-defaults-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for prediction in ConsistencyPrediction.allCases {
            let net = try MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: 3, hidden: 8, blocks: 1), seed: 1)
            let c = ConsistencyConfiguration(schedule: try ConsistencySchedule(sigmaData: 1, prediction: prediction))
            let m = try ConsistencyModel(denoiser: net, configuration: c)
            #expect((m.configurationMetadata["prediction"] != nil) == (prediction == .data))
            let back = try ConsistencyModel<Float>.configuration(metadata: m.configurationMetadata, dimension: 3)
            #expect(back.schedule.prediction == prediction)
        }
        let net = try MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: 3, hidden: 8, blocks: 1), seed: 1)
        var old = try ConsistencyModel(denoiser: net, configuration: ConsistencyConfiguration(schedule: try ConsistencySchedule(sigmaData: 1, prediction: .data)))
            .configurationMetadata
        old["prediction"] = nil
        #expect(try ConsistencyModel<Float>.configuration(metadata: old, dimension: 3).schedule.prediction == .edm)
        _ = dir
    }

    @Test("VQ-VAE joint prior: after training, samples decode code tuples of training rows; it survives the model file")
    func vqvaeJointPrior() throws {
        var g = RandomGenerator(seed: 5)
        // Two clusters whose two code positions are perfectly correlated.
        let x = try Tensor<Float>.concatenate([Tensor<Float>.normal([100, 4], using: &g) * 0.05 + 2,
                                               Tensor<Float>.normal([100, 4], using: &g) * 0.05 - 2], axis: 0)
        var c = VQVAEConfiguration(dimension: 4, codeCount: 8, codeDimension: 2, positions: 2, hidden: 16, learningRate: 3e-3)
        c.restartEvery = 0
        let vq = try VQVAE<Float>(c, seed: 3)
        #expect(vq.priorCodes == nil)
        _ = try GenerativeTrainer.train(vq, data: x, configuration: GenerativeTrainingConfiguration(steps: 60, batchSize: 32, seed: 4))
        let prior = try #require(vq.priorCodes)
        #expect(prior.shape == [200, 2])
        let tuples = Set(try vq.encode(x).map { $0 })
        #expect(Set((0..<200).map { [Int(prior.scalars[2 * $0]), Int(prior.scalars[2 * $0 + 1])] }) == tuples)
        // Every sample is the decode of a training tuple.
        let s = try vq.generate(50, labels: nil, seed: 9)
        let decodes = try tuples.map { try vq.decode(codes: [$0]) }
        for i in 0..<50 {
            let row = try s.slice(i..<(i + 1))
            #expect(try decodes.contains { Double(try ($0 - row).square().max()) < 1e-10 })
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vq-prior-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try GenerativeModelFile<Float>.save(vq, scaling: AffineScaling(scale: 1, shift: 0), to: path, step: 60, seed: 4)
        let back = try GenerativeModelFile<Float>.load(path)
        let s2 = try back.model.generate(50, labels: nil, seed: 9)
        #expect(try (s2 - s).abs().max() == 0)
        // Bad prior codes in a file are refused.
        #expect(throws: ModelStateError.self) { try vq.loadBuffers(["prior_codes": Tensor<Float>([9, 0], shape: [1, 2])]) }
    }

    @Test("GAN generator average: θ̄ follows the warm-up EMA formula, sampling uses it, and it survives the model file")
    func ganAverage() throws {
        var c = GANConfiguration(dimension: 3, latentDimension: 2, hidden: 8, hiddenLayers: 1)
        c.emaDecay = 0.9
        let gan = try GAN<Float>(c, seed: 1)
        let plain = try GAN<Float>(GANConfiguration(dimension: 3, latentDimension: 2, hidden: 8, hiddenLayers: 1), seed: 1)
        #expect(plain.generatorAverage == nil && plain.buffers.isEmpty)
        var expected = gan.generatorModules.parameters.map(\.value)
        var g = RandomGenerator(seed: 2)
        let x = Tensor<Float>.normal([16, 3], using: &g)
        for n in 0..<5 {
            _ = try gan.trainStep(x, labels: nil, step: n, using: &g)
            let d = Float(Swift.min(0.9, Double(1 + n) / Double(10 + n)))
            for (i, p) in gan.generatorModules.parameters.enumerated() { expected[i] = try expected[i] * d + p.value * (1 - d) }
        }
        #expect(gan.averageUpdates == 5)
        for (a, e) in zip(try #require(gan.generatorAverage), expected) { #expect(Double(try (a - e).abs().max()) < 1e-6) }
        // Samples come from the average, and the raw weights are restored afterwards.
        let raw = gan.generatorModules.parameters.map(\.value)
        let s = try gan.sample(4, seed: 3)
        let z: Tensor<Float> = ModelSupport.normal(4, 2, seed: 3)
        for (p, w) in zip(gan.generatorModules.parameters, expected) { p.value = w }
        let byHand = try gan.generator.predict(z)
        for (p, w) in zip(gan.generatorModules.parameters, raw) { p.value = w }
        #expect(Double(try (s - byHand).abs().max()) < 1e-5)
        #expect(zip(gan.generatorModules.parameters.map(\.value), raw).allSatisfy { $0 == $1 })
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gan-ema-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try GenerativeModelFile<Float>.save(gan, scaling: AffineScaling(scale: 1, shift: 0), to: path, step: 5, seed: 1)
        let back = try #require(try GenerativeModelFile<Float>.load(path).model as? GAN<Float>)
        #expect(back.averageUpdates == 5)
        #expect(try (back.sample(4, seed: 3) - s).abs().max() == 0)
        var bad = c; bad.emaDecay = 1
        #expect(throws: ConfigurationError.self) { try GAN<Float>(bad, seed: 1) }
    }

    @Test("GAN R1 penalty: ‖∇ₓD‖² of a linear discriminator is ‖w‖²; the linear learning-rate decay reaches 0 at K")
    func ganR1AndDecay() throws {
        var c = GANConfiguration(dimension: 3, latentDimension: 2, hidden: 4, hiddenLayers: 0)
        c.r1Weight = 2
        c.decaySteps = 10
        let gan = try GAN<Float>(c, seed: 1)
        let w = try #require(gan.discriminator.namedParameters().first { $0.0.hasSuffix("weight") }).1.value
        var g = RandomGenerator(seed: 2)
        let x = Tensor<Float>.normal([5, 3], using: &g)
        let r1 = try gan.realGradientPenalty(real: x)
        #expect(abs(Double(r1.scalar) - Double(try w.square().sum())) < 1e-5)
        #expect(gan.learningRate(atStep: 0) == c.learningRate)
        #expect(abs(gan.learningRate(atStep: 5) - c.learningRate / 2) < 1e-15)
        #expect(gan.learningRate(atStep: 10) == 0 && gan.learningRate(atStep: 12) == 0)
        // The penalty enters the discriminator's loss with weight γ/2, and the step reports it.
        let fake = Tensor<Float>.normal([5, 3], using: &g)
        let (withR1, p) = try gan.discriminatorLoss(real: x, fake: fake, labels: nil, mix: [Double](repeating: 0.5, count: 5))
        var plainC = c; plainC.r1Weight = nil
        let plain = try GAN<Float>(plainC, seed: 1)
        let (without, _) = try plain.discriminatorLoss(real: x, fake: fake, labels: nil, mix: [Double](repeating: 0.5, count: 5))
        #expect(abs(Double(withR1.scalar) - Double(without.scalar) - 1 * p) < 1e-5)
        let stats = try gan.trainStep(x, labels: nil, step: 3, using: &g)
        #expect(stats.contains { $0.0 == "penalty" })
        #expect(abs(gan.optimizers[0].optimizer.learningRate - c.learningRate * 0.7) < 1e-15)
        var bad = c; bad.r1Weight = -1
        #expect(throws: ConfigurationError.self) { try GAN<Float>(bad, seed: 1) }
    }
}
