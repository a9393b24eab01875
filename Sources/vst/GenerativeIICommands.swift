import ArgumentParser
import Foundation
import Generative
import Linear

/// Options of the Generative II families (vae, vqvae, gan, wgan-gp, cgan, realnvp, latent-diffusion) in `vst train`.
struct GenerativeIITrainOptions: ParsableArguments {}

/// Options of the Generative II families in `vst sample`.
struct GenerativeIISampleOptions: ParsableArguments {}

extension TrainCommand {
    /// Trains a Generative II family when `family` names one; false for the diffusion/flow families.
    func runGenerativeII() throws -> Bool { false }
}

extension SampleCommand {
    /// Samples a Generative II model file; false when `model` holds a diffusion/flow family.
    func runGenerativeII() throws -> Bool { false }
}
