@testable import Generative
import Linear
import Neural
import Testing
import TestSupport

/// Every network of the generative families lists every parameter it holds, so optimisers, EMA and model files
/// see all of them (the Neural layers are checked in NeuralTests).
@Suite("Generative networks: every parameter is seen")
struct NetworkRegistrationTests {
    @Test("denoisers and the digits classifier")
    func denoisers() throws {
        let mlp = try MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: 6, hidden: 8, blocks: 2), seed: 1)
        #expect(mlp.unregisteredParameters().isEmpty, "\(mlp.unregisteredParameters())")
        for positions in DiTPositionalEmbedding.allCases {
            let dit = try DiT<Float>(DiTConfiguration(imageSide: 8, patch: 2, width: 32, depth: 2, heads: 4, classCount: 3,
                                                      positionalEmbedding: positions), seed: 1)
            #expect(dit.unregisteredParameters().isEmpty, "\(dit.unregisteredParameters())")
        }
        let classifier = DigitsClassifier()
        #expect(classifier.unregisteredParameters().isEmpty, "\(classifier.unregisteredParameters())")
    }

    @Test("the networks of VAE, VQ-VAE, GANs and RealNVP")
    func familyNetworks() throws {
        let models: [(String, any GenerativeModel<Float>)] = [
            ("vae", try VAE<Float>(VAEConfiguration(dimension: 6, latentDimension: 2, hidden: 8), seed: 1)),
            ("vqvae", try VQVAE<Float>(VQVAEConfiguration(dimension: 6), seed: 2)),
            ("gan", try GAN<Float>(GANConfiguration(dimension: 6, objective: .nonSaturating, latentDimension: 3, hidden: 8, hiddenLayers: 1), seed: 3)),
            ("cgan", try GAN<Float>(GANConfiguration(dimension: 6, objective: .wasserstein, latentDimension: 3, hidden: 8, hiddenLayers: 1, classCount: 3), seed: 3)),
            ("realnvp", try RealNVP<Float>(RealNVPConfiguration(dimension: 6, couplings: 2, hidden: 8), seed: 4)),
        ]
        for (name, model) in models {
            let missing = model.networks.unregisteredParameters()
            #expect(missing.isEmpty, "\(name): \(missing)")
            #expect(!model.networks.namedParameters().isEmpty, "\(name) lists no parameters")
        }
    }
}
