// GANs: the WGAN-GP penalty (exact for a linear critic at any batch size, its gradient against finite differences,
// no normalisation in the critic), and learning on eight Gaussians with mode coverage and precision/recall for
// WGAN-GP, the non-saturating GAN and the conditional GAN.

import Foundation
import Linear
import Neural
import Substrate
import Testing
@testable import Generative
import TestSupport

enum GANToy {
    static let raw: Tensor<Float> = try! Toy2D.eightGaussians.sample(4000, seed: 21)
    static let heldOut: Tensor<Float> = try! Toy2D.eightGaussians.sample(1000, seed: 22)
    static let scaling = try! AffineScaling.standardizing(raw)
    static let train: Tensor<Float> = try! scaling.apply(raw)

    /// Mode coverage, high-quality fraction, precision and recall of samples (model units) against held-out data.
    static func report(_ label: String, _ samples: Tensor<Float>, seconds: Double) throws -> (ModeCoverage, PRDCResult) {
        let x = try scaling.invert(samples)
        let m = try ModeCoverage(samples: x, centres: ModeCoverage.eightGaussiansCentres, radius: ModeCoverage.eightGaussiansRadius)
        let pr = try SampleQuality.prdc(generated: x.cast(to: Double.self), real: heldOut.cast(to: Double.self))
        print(String(format: "%@ on eight Gaussians: %d/8 modes covered, %.1f%% high quality, precision %.3f, recall %.3f, density %.3f, coverage %.3f (counts %@); %.1f s",
                     label, m.covered, 100 * m.highQualityFraction, pr.precision, pr.recall, pr.density, pr.coverage,
                     m.counts.description, seconds))
        return (m, pr)
    }
}

@Suite("GAN", .serialized)
struct GANTests {
    @Test("WGAN-GP with a linear critic w·x + b: the penalty is exactly (‖w‖ − 1)² at every batch size")
    func linearCriticPenalty() throws {
        var c = GANConfiguration(dimension: 4, objective: .wasserstein, latentDimension: 2, hidden: 4, hiddenLayers: 0)
        c.classEmbedding = 1
        let gan = try GAN<Double>(c, seed: 1)
        #expect(gan.discriminator.layers.count == 1)
        let w: [Double] = [0.3, -1.2, 2.0, 0.5]
        gan.discriminator.layers[0].weight.value = try Tensor(w, shape: [1, 4])
        let norm = w.map { $0 * $0 }.reduce(0, +).squareRoot()
        let expected = (norm - 1) * (norm - 1)
        var g = RandomGenerator(seed: 2)
        for n in [1, 2, 7, 64] {
            let real = Tensor<Double>.normal([n, 4], using: &g), fake = Tensor<Double>.normal([n, 4], using: &g)
            let eps = (0..<n).map { _ in g.nextUniform() }
            let gp = try gan.gradientPenalty(real: real, fake: fake, mix: eps).scalar
            #expect(abs(gp - expected) < 1e-10, "batch \(n): \(gp) vs \(expected)")
        }
        // Per-sample norms over flattened features: a [n, 2, 2] batch through a reshaping critic gives the same.
        // (the common bugs — the norm over the whole batch, or dividing by B — would scale with n)
        let real = Tensor<Double>.normal([5, 4], using: &g)
        let gp1 = try gan.gradientPenalty(real: real, fake: real, mix: [Double](repeating: 0.5, count: 5)).scalar
        #expect(abs(gp1 - expected) < 1e-10)
    }

    @Test("the penalty's gradient with respect to the critic's parameters matches central finite differences")
    func penaltyGradient() throws {
        var c = GANConfiguration(dimension: 3, objective: .wasserstein, latentDimension: 2, hidden: 6, hiddenLayers: 2)
        c.leakySlope = 0.2
        let gan = try GAN<Double>(c, seed: 3)
        var g = RandomGenerator(seed: 4)
        let real = Tensor<Double>.normal([5, 3], using: &g), fake = Tensor<Double>.normal([5, 3], using: &g)
        let eps = (0..<5).map { _ in g.nextUniform() }
        let params = gan.discriminator.parameters
        gan.networks.zeroGrad()
        try gan.gradientPenalty(real: real, fake: fake, mix: eps).backward()
        let h = 1e-6
        var worst = 0.0, checked = 0
        for p in params {
            let grad = p.grad ?? Tensor<Double>.zeros(p.shape)      // the output bias does not enter ∇ₓD
            for idx in stride(from: 0, to: p.count, by: Swift.max(1, p.count / 5)) {
                let v0 = p.value.scalars
                var plus = v0, minus = v0
                plus[idx] += h; minus[idx] -= h
                p.value = try Tensor(plus, shape: p.shape)
                let fp = try gan.gradientPenalty(real: real, fake: fake, mix: eps).scalar
                p.value = try Tensor(minus, shape: p.shape)
                let fm = try gan.gradientPenalty(real: real, fake: fake, mix: eps).scalar
                p.value = try Tensor(v0, shape: p.shape)
                let fd = (fp - fm) / (2 * h)
                let an = grad.scalars[idx]
                worst = max(worst, abs(fd - an) / max(1e-3, abs(fd)))
                checked += 1
            }
        }
        #expect(checked > 10)
        #expect(worst < 1e-4, "largest relative error \(worst)")
    }

    @Test("no batch norm (or any normalisation) in the critic; each row's critic value ignores the other rows")
    func criticHasNoBatchCoupling() throws {
        let gan = try GAN<Float>(GANConfiguration(dimension: 2, objective: .wasserstein), seed: 5)
        for (name, m) in gan.discriminatorModules.namedModules() {
            #expect(m is FeedForward<Float> || m is Dense<Float> || m is ModuleGroup<Float>, "unexpected module \(name): \(type(of: m))")
        }
        var g = RandomGenerator(seed: 6)
        let a = Tensor<Float>.normal([8, 2], using: &g)
        var b = a
        for j in 0..<2 { b[3, j] += 5 }
        let da = try noGrad { try gan.critic(Variable(a)).value }, db = try noGrad { try gan.critic(Variable(b)).value }
        for i in 0..<8 where i != 3 { #expect(da[i, 0] == db[i, 0]) }
    }

    @Test("configuration defaults: WGAN-GP λ 10, n_critic 5, Adam 1e-4 (0, 0.9); GAN Adam 2e-4 (0.5, 0.999)")
    func defaults() {
        let w = GANConfiguration(dimension: 2, objective: .wasserstein)
        #expect(w.penaltyWeight == 10 && w.criticSteps == 5 && w.learningRate == 1e-4 && w.beta1 == 0 && w.beta2 == 0.9)
        let s = GANConfiguration(dimension: 2)
        #expect(s.criticSteps == 1 && s.learningRate == 2e-4 && s.beta1 == 0.5)
    }

    @Test("WGAN-GP on eight Gaussians covers at least 7 of 8 modes")
    func wganGPEightGaussians() throws {
        // The settings of the WGAN-GP authors' toy script (gan_toy.py): λ = 0.1 for the 2-D toys (10 is the paper's
        // default for images, and `GANConfiguration`'s), Adam β₁ = 0.5, β₂ = 0.9, n_critic = 5; lr 1e-3 for a short run.
        // With λ = 10 and lr 5e-4…1e-3 the generator kept rotating between 3–5 modes in 800–2000 steps.
        var c = GANConfiguration(dimension: 2, objective: .wasserstein, latentDimension: 8, hidden: 128, hiddenLayers: 3)
        c.learningRate = 1e-3
        c.beta1 = 0.5
        c.penaltyWeight = 0.1
        #expect(c.criticSteps == 5 && c.beta2 == 0.9)
        let gan = try GAN<Float>(c, seed: 7)
        let r = try GenerativeTrainer.train(gan, data: GANToy.train, configuration: GenerativeTrainingConfiguration(steps: 500, batchSize: 128, seed: 8))
        let (m, pr) = try GANToy.report("WGAN-GP", gan.sample(2000, seed: 9), seconds: r.seconds)
        #expect(m.covered >= 7)
        #expect(pr.precision > 0.5 && pr.recall > 0.5)
    }

    @Test("non-saturating GAN on eight Gaussians: mode coverage and precision/recall reported")
    func nonSaturatingEightGaussians() throws {
        var c = GANConfiguration(dimension: 2, objective: .nonSaturating, latentDimension: 2, hidden: 128, hiddenLayers: 3)
        c.learningRate = 1e-3
        let gan = try GAN<Float>(c, seed: 10)
        let r = try GenerativeTrainer.train(gan, data: GANToy.train, configuration: GenerativeTrainingConfiguration(steps: 1500, batchSize: 128, seed: 11))
        let (m, pr) = try GANToy.report("GAN (non-saturating)", gan.sample(2000, seed: 12), seconds: r.seconds)
        #expect(m.covered >= 2)        // mode collapse is this family's known failure: reported, not hidden
        #expect(pr.precision > 0.3)
    }

    @Test("conditional GAN: class embeddings in both networks; label k generates mode k")
    func conditional() throws {
        let labels = ModeCoverage.nearest(GANToy.raw, centres: ModeCoverage.eightGaussiansCentres)
        var c = GANConfiguration(dimension: 2, objective: .wasserstein, latentDimension: 2, hidden: 128, hiddenLayers: 2, classCount: 8)
        c.learningRate = 1e-3
        let gan = try GAN<Float>(c, seed: 13)
        #expect(gan.familyName == .cgan && gan.generatorLabels != nil && gan.discriminatorLabels != nil)
        let r = try GenerativeTrainer.train(gan, data: GANToy.train, labels: labels,
                                              configuration: GenerativeTrainingConfiguration(steps: 500, batchSize: 128, seed: 14))
        let want = (0..<1600).map { $0 % 8 }
        let s = try GANToy.scaling.invert(gan.sample(1600, labels: want, seed: 15))
        let got = ModeCoverage.nearest(s, centres: ModeCoverage.eightGaussiansCentres)
        let accuracy = Double(zip(want, got).filter { $0 == $1 }.count) / 1600
        let (m, _) = try GANToy.report("cGAN (WGAN-GP)", gan.sample(1600, labels: want, seed: 15), seconds: r.seconds)
        print(String(format: "cGAN: %.1f%% of samples land in the mode of their label", 100 * accuracy))
        #expect(accuracy > 0.8)
        // Every label, not only most samples, lands in its own mode.
        for k in 0..<8 {
            let mine = zip(want, got).filter { $0.0 == k }
            #expect(Double(mine.filter { $0.0 == $0.1 }.count) / Double(mine.count) > 0.8, "label \(k)")
        }
        // "Covered" counts samples within 3σ of a centre; 500 adversarial steps leave one mode's samples spread beyond
        // that on some BLAS kernels (AVX-512: counts [0, 200, …] with 99.6 % of samples nearest their label's
        // mode), as the unconditional WGAN-GP test allows too.
        #expect(m.covered >= 7)
        #expect(throws: (any Error).self) { try gan.sample(3, labels: [0, 1, 8], seed: 1) }
    }
}
