// Files written before the one generative contract still load: the two earlier formats, written here by copies of
// main's writers (EarlierModelFiles) and, in data/golden/model-files/, by the old vst binary itself.

import Foundation
import Linear
import Neural
import Testing
@testable import Generative
import TestSupport

@Suite("Model files of the earlier formats", .serialized)
struct EarlierModelFileTests {
    static let data: Tensor<Float> = {
        let x: Tensor<Float> = try! Toy2D.moons.sample(512, seed: 1)
        return try! AffineScaling.standardizing(x).apply(x)
    }()
    static let dc = MLPDenoiserConfiguration(dimension: 2, hidden: 16, blocks: 1, timeFrequencies: 8)

    /// Weights, EMA, AdamW's moments and counts, and the consistency target of a denoising model.
    static func snapshot(_ m: DenoisingModel<Float>) -> [Tensor<Float>] {
        let o = m.optimizer.state
        return m.family.denoiser.parameters.map(\.value) + m.emaWeights + o.firstMoments + o.secondMoments
            + ((m.family as? ConsistencyModel<Float>)?.targetWeights ?? [])
    }

    @Test("a substrate-generative/1 checkpoint (flow matching, consistency) loads whole and resumes exactly like one of the current format")
    func denoisingFormat1() throws {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        let schedule = try ConsistencySchedule(sigmaData: 1)
        let makers: [(String, (UInt64) throws -> any TrainableFamily<Float>)] = [
            ("flow-matching", { try FlowMatching(denoiser: MLPDenoiser<Float>(Self.dc, seed: $0)) }),
            ("consistency", { try ConsistencyModel(denoiser: MLPDenoiser<Float>(Self.dc, seed: $0), configuration: ConsistencyConfiguration(schedule: schedule, finalSteps: 20)) }),
        ]
        for (name, make) in makers {
            let c = TrainingConfiguration(steps: 40, batchSize: 32, seed: 4)
            let t = try Trainer(family: make(1), scaling: .identity, configuration: c)
            try t.train(Self.data, until: 20)
            let old = dir.appendingPathComponent("\(name)-old.safetensors").path
            try EarlierModelFiles.writeDenoising(to: old, family: t.family, denoiser: t.denoiserConfiguration, scaling: .identity, ema: t.emaWeights,
                                                 step: t.step, seed: c.seed, emaUpdates: t.emaUpdates, optimizer: t.optimizer.state, extra: ["data": "moons"])
            let new = dir.appendingPathComponent("\(name)-new.safetensors").path
            try t.save(to: new)
            let a = try GenerativeModelFile<Float>.load(old), b = try GenerativeModelFile<Float>.load(new)
            #expect(a.metadata["format"] == "substrate-generative/1" && b.metadata["format"] == GenerativeModelFile<Float>.format)
            #expect(a.hasOptimizerState && b.hasOptimizerState && a.step == 20 && b.step == 20 && a.seed == 4 && a.metadata["data"] == "moons")
            let ma = try #require(a.denoising), mb = try #require(b.denoising)
            #expect(ma.family.configurationMetadata == mb.family.configurationMetadata && ma.emaUpdates == mb.emaUpdates)
            let sa = Self.snapshot(ma), sb = Self.snapshot(mb), st = Self.snapshot(t.model)
            #expect(sa.count == st.count && zip(sa, st).allSatisfy { $0 == $1 }, "\(name): the old file's state differs from the trainer's")
            #expect(sb.count == st.count && zip(sb, st).allSatisfy { $0 == $1 }, "\(name): the new file's state differs from the trainer's")
            // Sampled with the EMA weights, both files give the same samples.
            let ea = try GenerativeModelFile<Float>.load(old, useEMA: true), eb = try GenerativeModelFile<Float>.load(new, useEMA: true)
            #expect(try ea.sample(16, seed: 9).samples == eb.sample(16, seed: 9).samples)
            // Resumed from either file, the remaining 20 steps end in the same state as the uninterrupted run.
            let straight = try Trainer(family: make(1), scaling: .identity, configuration: c)
            try straight.train(Self.data)
            for path in [old, new] {
                let r = try Trainer(family: make(77), scaling: .identity, configuration: c)
                try r.resume(from: path)
                try r.train(Self.data)
                let x = Self.snapshot(r.model), y = Self.snapshot(straight.model)
                #expect(x.count == y.count && zip(x, y).allSatisfy { $0 == $1 }, "\(name): resuming \(path) is not exact")
            }
        }
    }

    @Test("a substrate-generative-ii/1 file (gan, vae) loads whole, moments by index, and resumes exactly")
    func multiNetworkFormat1() throws {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        var g = RandomGenerator(seed: 2)
        let x = Tensor<Float>.normal([40, 6], using: &g)
        let makers: [(String, () throws -> any GenerativeModel<Float>)] = [
            ("gan", { var c = GANConfiguration(dimension: 6, objective: .nonSaturating, latentDimension: 3, hidden: 8, hiddenLayers: 1)
                      c.emaDecay = 0.9
                      return try GAN<Float>(c, seed: 3) }),
            ("vae", { try VAE<Float>(VAEConfiguration(dimension: 6, latentDimension: 2, hidden: 8), seed: 1) }),
        ]
        for (name, make) in makers {
            func train(_ m: any GenerativeModel<Float>, steps: Int, from first: Int) throws {
                func open<M: GenerativeModel<Float>>(_ m: M) throws {
                    try GenerativeTrainer.train(m, data: x, configuration: GenerativeTrainingConfiguration(steps: steps, batchSize: 8, seed: 11), firstStep: first)
                }
                try open(m)
            }
            let first = try make()
            try train(first, steps: 6, from: 0)
            let old = dir.appendingPathComponent("\(name)-old.safetensors").path
            try EarlierModelFiles.writeMultiNetwork(first, scaling: AffineScaling(scale: 2, shift: 1), to: old, step: 6, seed: 11, extra: ["data": "x"])
            let f = try GenerativeModelFile<Float>.load(old)
            #expect(f.metadata["format"] == "substrate-generative-ii/1" && f.hasOptimizerState && f.step == 6 && f.seed == 11)
            #expect(f.scaling == (try AffineScaling(scale: 2, shift: 1)) && f.model.familyName.rawValue == name)
            let a = FamilyResumeTests.everything(first), b = FamilyResumeTests.everything(f.model)
            #expect(a.keys.sorted() == b.keys.sorted() && a.allSatisfy { b[$0.key] == $0.value }, "\(name): the old file's state differs")
            #expect(try first.generate(5, labels: nil, seed: 2) == f.model.generate(5, labels: nil, seed: 2))
            // Resumed from the old file, six more steps equal twelve straight ones.
            let straight = try make()
            try train(straight, steps: 12, from: 0)
            try train(f.model, steps: 12, from: f.step)
            let s = FamilyResumeTests.everything(straight), r = FamilyResumeTests.everything(f.model)
            #expect(s.allSatisfy { r[$0.key] == $0.value }, "\(name): resuming the old file is not exact")
        }
    }

    /// data/golden/model-files/.
    static func golden(_ name: String) -> String { dataPath("golden/model-files/" + name) }

    @Test("files written by the old vst binary (ddpm, flow-matching, consistency: format 1; vae, gan, realnvp: ii/1) sample bit for bit as it did",
          arguments: ["ddpm", "flow-matching", "consistency", "vae", "gan", "realnvp"])
    func oldBinaryFiles(_ family: String) throws {
        let file = try GenerativeModelFile<Float>.load(Self.golden("\(family).safetensors"), useEMA: true)
        #expect(file.model.familyName.rawValue == family)
        #expect([GenerativeModelFile<Float>.denoisingFormat1, GenerativeModelFile<Float>.multiNetworkFormat1].contains(file.metadata["format"] ?? ""))
        // `vst sample -n 64 --seed 4` of the old binary wrote these samples (data units, float32).
        let expected = try Tensor<Float>.load(npy: Self.golden("\(family)-samples.npy"))
        let samples = try file.sample(64, seed: 4).samples
        #expect(samples.shape == expected.shape && samples == expected, "\(family): max difference \(maxDifference(samples, expected))")
    }
}
