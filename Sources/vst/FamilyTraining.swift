import ArgumentParser
import Foundation
import Generative
import Linear
import Neural

/// Options of the families that own several networks or a latent space (vae, vqvae, gan, wgan-gp, cgan, realnvp,
/// latent-diffusion) in `vst train`.
struct FamilyTrainOptions: ParsableArguments {
    @Option(name: .customLong("latent-dim"), help: "vae, vqvae (code dimension), gan/wgan-gp/cgan (noise): latent dimension (default: vae and latent-diffusion the effective rank of the data covariance at 1 % of its largest eigenvalue, clamped to 2…9 — 2 for a lifted 2-D toy, 9 for digits; 8 for vqvae codes, 16 for GANs).")
    var latentDim: Int?
    @Option(name: .customLong("hidden-layers"), help: "Hidden layers of each network of vae, vqvae, gan, wgan-gp, cgan and realnvp (default: the family's).")
    var hiddenLayers: Int?
    @Option(help: "vae: KL weight β (1: ELBO, > 1: β-VAE).") var beta: Double = 1
    @Option(name: .customLong("kl-warmup"), help: "vae: steps of the linear KL warm-up of β (0: none).") var klWarmup: Int = 0
    @Option(help: "vae: decoder likelihood, gaussian or bernoulli (bernoulli maps the data to [0, 1]).") var likelihood: String = "gaussian"
    @Option(name: .customLong("codebook-size"), help: "vqvae: number of codes K.") var codebookSize: Int = 64
    @Option(name: .customLong("code-positions"), help: "vqvae: codes per sample.") var codePositions: Int = 4
    @Option(help: "vqvae: commitment weight β.") var commitment: Double = 0.25
    @Flag(name: .customLong("ema-codebook"), help: "vqvae: EMA codebook updates (decay 0.99) instead of the codebook loss.") var emaCodebook = false
    @Option(name: .customLong("restart-every"), help: "vqvae: restart codes unused for this many steps (0: never).") var restartEvery: Int = 100
    @Option(name: .customLong("critic-steps"), help: "gan/wgan-gp/cgan: discriminator steps per generator step (default 1, wgan-gp 5).") var criticSteps: Int?
    @Option(help: "wgan-gp/cgan: gradient-penalty weight λ.") var penalty: Double = 10
    @Option(name: .customLong("lr-decay"), help: "gan/wgan-gp/cgan: learning-rate schedule, none (constant, the papers' algorithms; the default) or linear (to 0 at --steps, as in the WGAN-GP authors' code; on moons in 64-D it did worse: gan precision 0.23 at 10 000 steps, wgan-gp 0.33 at 2 000).") var lrDecay: String = "none"
    @Option(help: "gan/cgan: weight γ of the R1 penalty (γ/2)·‖∇ₓD(x)‖² on real data (Mescheder et al. 2018; 0: none).") var r1: Double = 0
    @Option(name: .customLong("labels-file"), help: "cgan: integer class labels (.npy, one per row) for data without labels.") var labelsFile: String?
    @Option(help: "realnvp: number of affine coupling layers.") var couplings: Int = 8
    @Flag(name: .customLong("no-actnorm"), help: "realnvp: no ActNorm layers.") var noActnorm = false
    @Option(help: "realnvp: uniform dequantisation with this many integer levels of the data's original units (default: 17 for digits, none otherwise; 0: none).") var dequantize: Int?
    @Option(help: "latent-diffusion: frozen VAE model file (default: train one first with the same --steps and --latent-dim).") var vae: String?
    @Option(help: "latent-diffusion: the latent family, ddpm or flow-matching.") var prior: String = "ddpm"
}

/// Options of `vst sample` kept for older command lines.
struct FamilySampleOptions: ParsableArguments {
    /// The old spelling of `--label` for cgan, still accepted.
    @Option(name: .customLong("class-label"), help: .hidden) var classLabel: Int?
}

/// The default of `vst train --lr`: when it is left alone vae, vqvae, the GANs, realnvp and latent-diffusion use their
/// papers' learning rates.
private let defaultTrainLearningRate = 2e-3

/// What `vst train` trains: the model, its data in model units and the units, the labels, and metadata for the file.
struct TrainingSetup {
    var model: any GenerativeModel<Float>
    var scaling: AffineScaling
    var x: Tensor<Float>
    var labels: [Int]?
    var metadata: [String: String] = [:]
    var dequantization: UniformDequantization? = nil

    /// What the summary line adds for a family with a tractable bound or a codebook: RealNVP's training NLL, the
    /// VAE's IWAE-50 bound, the VQ-VAE's codebook usage.
    func details(_ model: any GenerativeModel<Float>, _ x: Tensor<Float>, seed: UInt64) throws -> String {
        let d = x.shape[1]
        if let flow = model as? RealNVP<Float> {
            let nll = try flow.negativeLogLikelihood(x.shape[0] > 2000 ? x.slice(0..<2000) : x)
            if let q = dequantization {
                return String(format: "; training NLL %.2f nats, %.3f bits/dim (dequantised)", q.discreteNLL(continuousNLL: nll, dimension: d),
                              q.bitsPerDimension(continuousNLL: nll, dimension: d))
            }
            return String(format: "; training NLL %.2f nats (model units)", nll)
        }
        if let v = model as? VAE<Float> {
            let sub = x.shape[0] > 1000 ? try x.slice(0..<1000) : x
            let iw = try v.iwae(sub, samples: 50, seed: seed)
            return String(format: "; training IWAE-50 %.2f nats (model units)", iw.reduce(0, +) / Double(iw.count))
        }
        if let vq = model as? VQVAE<Float> {
            let u = try vq.usage(x)
            return String(format: "; codebook usage %.0f%%, perplexity %.1f", 100 * u.usedFraction, u.perplexity)
        }
        return ""
    }
}

/// The progress line of `vst train` on stderr: `step k/N  loss …  r steps/s  ETA s` (the trainer reports, the
/// command line draws).
enum TrainingProgressLine {
    static func draw(_ p: TrainingProgress) {
        let parts = p.statistics.map { String(format: "%@ %.5f", $0.0, $0.1) }.joined(separator: "  ")
        FileHandle.standardError.write(Data(String(format: "step %d/%d  %@  %.1f steps/s  ETA %.0f s\n", p.step, p.totalSteps, parts,
                                                   p.stepsPerSecond, p.remainingSeconds).utf8))
    }
}

extension TrainCommand {
    /// vae, vqvae, gan, wgan-gp, cgan, realnvp or latent-diffusion, built from the options (or taken from the
    /// --resume file, with its units).
    func familySetup(_ fam: GenerativeFamilyName, source: DataSource, loaded: LabeledData<Float>, resumed: GenerativeModelFile<Float>?) throws -> TrainingSetup {
        let o = familyOptions
        let isDigits: Bool = { if case .digits = source { return true } else { return false } }()
        let lrGiven: Double? = lr == defaultTrainLearningRate ? nil : lr

        // Data in model units.
        var scaling: AffineScaling
        var x: Tensor<Float>
        var dequantization: UniformDequantization? = nil
        if fam == .realNVP, let levels = o.dequantize ?? (isDigits ? 17 : nil), levels > 0 {
            // Original units are the integer levels 0 … L − 1; model units [−1, 1]; fresh uniform noise per copy.
            let q = try UniformDequantization(levels: levels)
            let k = try loaded.scaling.invert(loaded.data)
            var g = RandomGenerator(seed: seed ^ 0xDE0)
            x = try Tensor.concatenate((0..<4).map { _ in try q.apply(levels: k, using: &g) }, axis: 0)
            scaling = try AffineScaling(scale: q.width, shift: q.low)          // (k + u) ↦ low + (k + u)·w
            dequantization = q
        } else if o.likelihood.lowercased() == "bernoulli" && (fam == .vae || fam == .latentDiffusion) {
            let orig = try loaded.scaling.invert(loaded.data)
            let lo = Double(orig.min()), hi = Double(orig.max())
            guard hi > lo else { throw InputError("data '\(data)' is constant") }
            scaling = try AffineScaling(scale: 1 / (hi - lo), shift: -lo / (hi - lo))       // onto [0, 1]
            x = try scaling.apply(orig)
        } else if isDigits {
            scaling = loaded.scaling; x = loaded.data
        } else {
            scaling = try fitScaling(loaded.data); x = try scaling.apply(loaded.data)
        }
        let d = x.shape[1]
        var labels: [Int]? = nil
        if fam == .cgan {
            if let f = o.labelsFile {
                labels = try NPY.read(f).integers()
                guard labels!.count == loaded.count else { throw InputError("\(f): \(labels!.count) labels for \(loaded.count) rows") }
            } else {
                guard let l = loaded.labels else { throw InputError("cgan: data '\(data)' has no labels; give --labels-file") }
                labels = l
            }
            guard labels!.allSatisfy({ $0 >= 0 }) else { throw InputError("cgan: labels must be ≥ 0") }
        }

        var built: (any GenerativeModel<Float>)? = nil
        var vaeModelForLD: VAE<Float>? = nil
        if let f = resumed {
            // The model, its optimisers and its units come from the file; the data are put into those units.
            built = f.model
            if dequantization == nil { x = try f.scaling.apply(loaded.scaling.invert(loaded.data)) }
            scaling = f.scaling
        } else {
            switch fam {
            case .vae, .latentDiffusion:
                guard let lik = VAELikelihood(rawValue: o.likelihood.lowercased()) else {
                    throw InputError("unknown --likelihood '\(o.likelihood)': expected gaussian or bernoulli")
                }
                if fam == .latentDiffusion, let path = o.vae {
                    let f = try GenerativeModelFile<Float>.load(path)
                    guard let v = f.model as? VAE<Float> else { throw InputError("--vae \(path): a \(f.model.familyName.rawValue) model, not a vae") }
                    guard v.configuration.dimension == d else { throw InputError("--vae \(path): the VAE is \(v.configuration.dimension)-dimensional, the data \(d)-dimensional") }
                    scaling = f.scaling
                    x = try scaling.apply(loaded.scaling.invert(loaded.data))
                    vaeModelForLD = v
                } else {
                    var c = VAEConfiguration(dimension: d, latentDimension: try o.latentDim ?? VAEConfiguration.defaultLatentDimension(for: x), hidden: hidden, hiddenLayers: o.hiddenLayers ?? 2,
                                             likelihood: lik, beta: o.beta, warmupSteps: o.klWarmup)
                    if let l = lrGiven { c.learningRate = l }
                    let v = try VAE<Float>(c, seed: seed)
                    if fam == .latentDiffusion {
                        if !quiet { FileHandle.standardError.write(Data("latent-diffusion: training the VAE first (\(steps) steps)\n".utf8)) }
                        try train(v, x, nil)
                        vaeModelForLD = v
                    }
                    built = v
                }
                if fam == .latentDiffusion {
                    guard let p = LatentPriorFamily(rawValue: o.prior.lowercased()) else {
                        throw InputError("unknown --prior '\(o.prior)': expected ddpm or flow-matching")
                    }
                    var c = LatentDiffusionConfiguration(family: p, hidden: hidden, blocks: blocks)
                    if let l = lrGiven { c.learningRate = l }
                    built = try LatentDiffusion(vae: vaeModelForLD!, data: x, configuration: c, seed: seed)
                }
            case .vqvae:
                var c = VQVAEConfiguration(dimension: d, codeCount: o.codebookSize, codeDimension: o.latentDim ?? 8, positions: o.codePositions,
                                           hidden: hidden, hiddenLayers: o.hiddenLayers ?? 2, commitment: o.commitment, ema: o.emaCodebook)
                c.restartEvery = o.restartEvery
                if let l = lrGiven { c.learningRate = l }
                built = try VQVAE<Float>(c, seed: seed)
            case .gan, .wganGP, .cgan:
                let objective: GANObjective = fam == .gan ? .nonSaturating : .wasserstein
                let classes = labels.map { ($0.max() ?? 0) + 1 } ?? 0
                var c = GANConfiguration(dimension: d, objective: objective, latentDimension: o.latentDim ?? 16, hidden: hidden,
                                         hiddenLayers: o.hiddenLayers ?? 3, classCount: classes)
                if objective == .wasserstein { c.penaltyWeight = o.penalty }
                if let k = o.criticSteps { c.criticSteps = k }
                // WGAN-GP: the paper's 1e-4 leaves the generator off the manifold of lifted data at 2 000–6 000 steps
                // (moons in 64-D: precision 0.41 / 0.47 against the Gaussian's 0.71); 6e-4 for 4 000 steps learns it.
                if objective == .wasserstein && classes == 0 { c.learningRate = 6e-4 }
                if let l = lrGiven { c.learningRate = l }
                // vst train samples an average of the generator's weights (--ema-decay, 0: the raw generator).
                c.emaDecay = emaDecay
                switch o.lrDecay.lowercased() {
                case "linear": c.decaySteps = steps
                case "none": c.decaySteps = nil
                default: throw InputError("--lr-decay \(o.lrDecay): expected linear or none")
                }
                guard o.r1.isFinite, o.r1 >= 0 else { throw InputError("--r1 must be a finite number ≥ 0, got \(o.r1)") }
                if o.r1 > 0 {
                    guard objective == .nonSaturating else { throw InputError("--r1 applies to gan and cgan (wgan-gp has its own penalty, --penalty)") }
                    c.r1Weight = o.r1
                }
                built = try GAN<Float>(c, seed: seed)
            case .realNVP:
                var c = RealNVPConfiguration(dimension: d, couplings: o.couplings, hidden: hidden, hiddenLayers: o.hiddenLayers ?? 2, actNorm: !o.noActnorm)
                if let l = lrGiven { c.learningRate = l }
                built = try RealNVP<Float>(c, seed: seed)
            case .ddpm, .scoreSDE, .flowMatching, .consistency:
                throw InputError("\(fam.rawValue) is a denoising family (its options are those of the diffusion models)")
            }
        }
        var setup = TrainingSetup(model: built!, scaling: scaling, x: x, labels: labels, dequantization: dequantization)
        if let q = dequantization {
            setup.metadata["dequantization"] = String(decoding: try JSONEncoder().encode(q), as: UTF8.self)
        }
        return setup
    }
}

