// The model file: vae, vqvae, the GANs, realnvp and latent diffusion save and load to identical outputs; foreign
// files are refused.

import Foundation
import Linear
import Neural
import Testing
@testable import Generative
import TestSupport

@Suite("Model files of vae, vqvae, GANs, realnvp, latent diffusion")
struct ModelFileTests {
    /// Saves and loads `model`; returns the loaded model.
    func roundTrip(_ model: any GenerativeModel<Float>) throws -> any GenerativeModel<Float> {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        let path = dir.appendingPathComponent("m.safetensors").path
        let scaling = try AffineScaling(scale: 2, shift: 1)
        try GenerativeModelFile<Float>.save(model, scaling: scaling, to: path, step: 7, seed: 3, extra: ["data": "test"])
        #expect(GenerativeModelFile<Float>.isModelFile(path))
        let f = try GenerativeModelFile<Float>.load(path)
        #expect(f.model.familyName == model.familyName && f.scaling == scaling && f.step == 7 && f.metadata["data"] == "test")
        #expect(throws: (any Error).self) { try GenerativeModelFile<Float>.save(model, scaling: scaling, to: path, step: 7, seed: 3) }
        return f.model
    }

    @Test("vae, vqvae (EMA), gan, wgan-gp, cgan, realnvp and latent-diffusion round-trip through a file")
    func everyFamily() throws {
        var g = RandomGenerator(seed: 1)
        let x = Tensor<Float>.normal([16, 6], using: &g)
        let vae = try VAE<Float>(VAEConfiguration(dimension: 6, latentDimension: 2, hidden: 8, beta: 2), seed: 1)
        try GenerativeTrainer.train(vae, data: x, configuration: GenerativeTrainingConfiguration(steps: 3, batchSize: 8))
        do {
            let a: any GenerativeModel<Float> = vae, b = try roundTrip(vae)
            let (va, vb) = (a as! VAE<Float>, b as! VAE<Float>)
            #expect(vb.configuration == va.configuration)
            #expect(try va.encode(x).mean == vb.encode(x).mean)
            #expect(try va.sample(4, seed: 2) == vb.sample(4, seed: 2))
        }
        let vq = try VQVAE<Float>(VQVAEConfiguration(dimension: 6, codeCount: 5, codeDimension: 2, positions: 2, hidden: 8, ema: true), seed: 2)
        try GenerativeTrainer.train(vq, data: x, configuration: GenerativeTrainingConfiguration(steps: 3, batchSize: 8))
        do {
            let a: any GenerativeModel<Float> = vq, b = try roundTrip(vq)
            let (qa, qb) = (a as! VQVAE<Float>, b as! VQVAE<Float>)
            #expect(try qa.encode(x) == qb.encode(x))
            #expect(qa.clusterSize == qb.clusterSize && qa.positionCounts == qb.positionCounts)
            #expect(try qa.generate(4, labels: nil, seed: 1) == qb.generate(4, labels: nil, seed: 1))
        }
        for (objective, classes) in [(GANObjective.nonSaturating, 0), (.wasserstein, 0), (.wasserstein, 3)] {
            let gan = try GAN<Float>(GANConfiguration(dimension: 6, objective: objective, latentDimension: 3, hidden: 8, hiddenLayers: 1, classCount: classes), seed: 3)
            do {
                let a: any GenerativeModel<Float> = gan, b = try roundTrip(gan)
                let l: [Int]? = classes > 0 ? [0, 1, 2, 0] : nil
                #expect(try a.generate(4, labels: l, seed: 5) == b.generate(4, labels: l, seed: 5))
            }
        }
        let flow = try RealNVP<Float>(RealNVPConfiguration(dimension: 6, couplings: 2, hidden: 8), seed: 4)
        try GenerativeTrainer.train(flow, data: x, configuration: GenerativeTrainingConfiguration(steps: 3, batchSize: 8))
        do {
            let a: any GenerativeModel<Float> = flow, b = try roundTrip(flow)
            let (fa, fb) = (a as! RealNVP<Float>, b as! RealNVP<Float>)
            #expect(fb.actNorms.allSatisfy { $0.initialized })
            #expect(try fa.logLikelihood(x) == fb.logLikelihood(x))
        }
        let ld = try LatentDiffusion(vae: vae, data: x, configuration: LatentDiffusionConfiguration(timesteps: 20, hidden: 8, blocks: 1), seed: 5)
        do {
            let a: any GenerativeModel<Float> = ld, b = try roundTrip(ld)
            let (la, lb) = (a as! LatentDiffusion<Float>, b as! LatentDiffusion<Float>)
            #expect(la.scaleFactor == lb.scaleFactor)
            #expect(try la.sample(3, seed: 1, steps: 5) == lb.sample(3, seed: 1, steps: 5))
        }
    }

    @Test("a file that is not a generative model file is refused with its name")
    func foreign() throws {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        let path = dir.appendingPathComponent("other.safetensors").path
        try SafetensorsFile(tensors: ["w": NDArray(Tensor<Float>.zeros([2]))], metadata: ["format": "something"]).write(to: path)
        #expect(!GenerativeModelFile<Float>.isModelFile(path))
        do {
            _ = try GenerativeModelFile<Float>.load(path)
            Issue.record("loaded a foreign file")
        } catch {
            #expect("\(error)".contains("other.safetensors"))
        }
    }
}
