// Exact resume of vae, vqvae, the GANs, realnvp and latent diffusion: N steps, a model file, then N more from the file give the same
// weights, buffers and optimiser moments as 2N steps without a break.

import Foundation
import Linear
import Neural
import Testing
@testable import Generative
import TestSupport

@Suite("Exact resume through the model file (vae, vqvae, GANs, realnvp, latent diffusion)")
struct FamilyResumeTests {
    /// Every network parameter, buffer and optimiser moment of `m`, by name.
    static func everything(_ m: any GenerativeModel<Float>) -> [String: Tensor<Float>] {
        var out: [String: Tensor<Float>] = [:]
        for (n, p) in m.networks.namedParameters() { out["param." + n] = p.value }
        for (n, b) in m.buffers { out["buffer." + n] = b }
        for (name, o) in m.optimizers {
            let s = o.state
            for i in s.firstMoments.indices { out["\(name).m.\(i)"] = s.firstMoments[i]; out["\(name).v.\(i)"] = s.secondMoments[i] }
        }
        return out
    }

    /// Trains `make()` for 2·half steps straight, and for half steps + file + half steps; every tensor must agree exactly.
    func check(_ label: String, _ make: () throws -> any GenerativeModel<Float>, data x: Tensor<Float>, labels: [Int]? = nil, half: Int = 6) throws {
        let config = GenerativeTrainingConfiguration(steps: 2 * half, batchSize: 8, seed: 11)
        func train(_ m: any GenerativeModel<Float>, _ c: GenerativeTrainingConfiguration, from first: Int) throws {
            func open<M: GenerativeModel<Float>>(_ m: M) throws { try GenerativeTrainer.train(m, data: x, labels: labels, configuration: c, firstStep: first) }
            try open(m)
        }
        let straight = try make()
        try train(straight, config, from: 0)

        let first = try make()
        var halfConfig = config
        halfConfig.steps = half
        try train(first, halfConfig, from: 0)
        let path = try makeTemporaryDirectory("GenerativeTests").appendingPathComponent("\(label).safetensors").path
        try GenerativeModelFile<Float>.save(first, scaling: AffineScaling(scale: 1, shift: 0), to: path, step: half, seed: 11)
        let file = try GenerativeModelFile<Float>.load(path)
        #expect(file.hasOptimizerState, "\(label): the file holds the optimiser state")
        #expect(file.step == half)
        try train(file.model, config, from: file.step)

        let a = Self.everything(straight), b = Self.everything(file.model)
        #expect(a.keys.sorted() == b.keys.sorted(), "\(label): different tensors")
        #expect(a.keys.contains { $0.contains(".m.") }, "\(label): no optimiser moments compared")
        var differing: [String] = []
        for (k, v) in a where b[k] != v { differing.append(k) }
        #expect(differing.isEmpty, "\(label): \(differing.count) of \(a.count) tensors differ after resume, e.g. \(differing.sorted().prefix(3))")
    }

    @Test("vae, vqvae (gradient and EMA codebook), gan, wgan-gp, cgan, realnvp, latent diffusion")
    func everyFamily() throws {
        var g = RandomGenerator(seed: 2)
        let x = Tensor<Float>.normal([40, 6], using: &g)
        try check("vae", { try VAE<Float>(VAEConfiguration(dimension: 6, latentDimension: 2, hidden: 8, warmupSteps: 5), seed: 1) }, data: x)
        for ema in [false, true] {
            var c = VQVAEConfiguration(dimension: 6, codeCount: 5, codeDimension: 2, positions: 2, hidden: 8, ema: ema)
            c.restartEvery = 3
            try check("vqvae-ema-\(ema)", { try VQVAE<Float>(c, seed: 2) }, data: x)
        }
        try check("gan", { try GAN<Float>(GANConfiguration(dimension: 6, objective: .nonSaturating, latentDimension: 3, hidden: 8, hiddenLayers: 1), seed: 3) }, data: x)
        try check("wgan-gp", { try GAN<Float>(GANConfiguration(dimension: 6, objective: .wasserstein, latentDimension: 3, hidden: 8, hiddenLayers: 1), seed: 3) }, data: x)
        let labels = (0..<40).map { $0 % 3 }
        try check("cgan", { try GAN<Float>(GANConfiguration(dimension: 6, objective: .wasserstein, latentDimension: 3, hidden: 8, hiddenLayers: 1, classCount: 3), seed: 3) },
                  data: x, labels: labels)
        try check("realnvp", { try RealNVP<Float>(RealNVPConfiguration(dimension: 6, couplings: 2, hidden: 8), seed: 4) }, data: x)
        let vae = try VAE<Float>(VAEConfiguration(dimension: 6, latentDimension: 2, hidden: 8), seed: 1)
        try GenerativeTrainer.train(vae, data: x, configuration: GenerativeTrainingConfiguration(steps: 3, batchSize: 8))
        try check("latent-diffusion", { try LatentDiffusion(vae: vae, data: x, configuration: LatentDiffusionConfiguration(timesteps: 20, hidden: 8, blocks: 1), seed: 5) }, data: x)
    }

    @Test("a file without optimiser state still loads, says so, and (the control) does not resume exactly")
    func olderFiles() throws {
        var g = RandomGenerator(seed: 3)
        let x = Tensor<Float>.normal([30, 4], using: &g)
        let vae = try VAE<Float>(VAEConfiguration(dimension: 4, latentDimension: 2, hidden: 8), seed: 1)
        try GenerativeTrainer.train(vae, data: x, configuration: GenerativeTrainingConfiguration(steps: 5, batchSize: 8, seed: 4))
        let dir = try makeTemporaryDirectory("GenerativeTests")
        let path = dir.appendingPathComponent("v.safetensors").path
        try GenerativeModelFile<Float>.save(vae, scaling: AffineScaling(scale: 1, shift: 0), to: path, step: 5, seed: 4)
        // Strip the optimiser tensors and metadata, as in a file written before they were saved.
        let full = try SafetensorsFile.read(path)
        let tensors = full.tensors.filter { !$0.key.hasPrefix("optimizer.") }
        let meta = full.metadata.filter { !$0.key.hasPrefix("optimizer.") }
        let old = dir.appendingPathComponent("old.safetensors").path
        try SafetensorsFile(tensors: tensors, metadata: meta).write(to: old)
        let f = try GenerativeModelFile<Float>.load(old)
        #expect(!f.hasOptimizerState)
        let withState = try GenerativeModelFile<Float>.load(path)
        #expect(withState.hasOptimizerState)
        // Without the moments, five more steps land elsewhere than with them: the state matters to the comparison above.
        let more = GenerativeTrainingConfiguration(steps: 10, batchSize: 8, seed: 4)
        try GenerativeTrainer.train(f.model as! VAE<Float>, data: x, configuration: more, firstStep: 5)
        try GenerativeTrainer.train(withState.model as! VAE<Float>, data: x, configuration: more, firstStep: 5)
        #expect(Self.everything(f.model).filter { $0.key.hasPrefix("param.") } != Self.everything(withState.model).filter { $0.key.hasPrefix("param.") })
        // A missing moment is named.
        // Moments are keyed by parameter path: optimizer.<optimiser>.v.<path>.
        var broken = full.tensors
        let firstV = try #require(broken.keys.filter { $0.hasPrefix("optimizer.optimizer.v.") }.sorted().first)
        broken.removeValue(forKey: firstV)
        let bad = dir.appendingPathComponent("bad.safetensors").path
        try SafetensorsFile(tensors: broken, metadata: full.metadata).write(to: bad)
        #expect { try GenerativeModelFile<Float>.load(bad) } throws: { "\($0)".contains(firstV) }
        // Step counts that Adam cannot have reached are refused too.
        var badMeta = full.metadata
        var counts = try JSONDecoder().decode([String: Int].self, from: Data(badMeta["optimizer.optimizer.steps"]!.utf8))
        counts[counts.keys.sorted()[0]] = -1
        badMeta["optimizer.optimizer.steps"] = String(decoding: try JSONEncoder().encode(counts), as: UTF8.self)
        let negative = dir.appendingPathComponent("negative.safetensors").path
        try SafetensorsFile(tensors: full.tensors, metadata: badMeta).write(to: negative)
        #expect { try GenerativeModelFile<Float>.load(negative) } throws: { "\($0)".contains("step counts") }
    }
}
