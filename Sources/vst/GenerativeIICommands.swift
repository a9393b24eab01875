import ArgumentParser
import Foundation
import Generative
import Linear
import Neural

/// Options of the Generative II families (vae, vqvae, gan, wgan-gp, cgan, realnvp, latent-diffusion) in `vst train`.
struct GenerativeIITrainOptions: ParsableArguments {
    @Option(name: .customLong("latent-dim"), help: "vae, vqvae (code dimension), gan/wgan-gp/cgan (noise): latent dimension (default 9 for vae, 8 for vqvae codes, 16 for GANs).")
    var latentDim: Int?
    @Option(name: .customLong("hidden-layers"), help: "Hidden layers of each network of the Generative II families (default: the family's).")
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

/// Options of the Generative II families in `vst sample`.
struct GenerativeIISampleOptions: ParsableArguments {
    /// The old spelling of `--label` for cgan, still accepted.
    @Option(name: .customLong("class-label"), help: .hidden) var classLabel: Int?
}

/// The default of `vst train --lr`: when it is left alone the Generative II families use their papers' learning rates.
private let defaultTrainLearningRate = 2e-3

extension TrainCommand {
    /// Trains a Generative II family when `family` names one; false for the diffusion/flow families.
    func runGenerativeII() throws -> Bool {
        guard let fam = GenerativeIIFamilyName(parsing: family) else { return false }
        let o = generativeII
        // Resuming may write over the file it resumes from; anything else needs --force.
        if !force && FileManager.default.fileExists(atPath: output) && !(resume.map { Self.samePath($0, output) } ?? false) {
            throw InputError(resume == nil ? "\(output) exists; pass --force to overwrite it"
                                           : "\(output) exists and is not the --resume file \(resume!); pass --force to overwrite it")
        }
        guard steps >= 1, batchSize >= 1, hidden >= 1 else { throw InputError("--steps, --batch-size and --hidden must be ≥ 1") }
        guard emaDecay.isFinite, (0...1).contains(emaDecay) else { throw InputError("--ema-decay must be a number in [0, 1], got \(emaDecay)") }
        if (fam == .gan || fam == .wganGP || fam == .cgan) && emaDecay >= 1 {
            throw InputError("--ema-decay \(emaDecay): a GAN's generator average needs a decay below 1 (0: none)")
        }
        guard lr.isFinite, lr > 0 else { throw InputError("--lr must be a positive number, got \(lr)") }
        var resumed: GenerativeIIModelFile<Float>? = nil
        if let r = resume {
            let f: GenerativeIIModelFile<Float>
            do { f = try GenerativeIIModelFile<Float>.load(r) } catch { throw InputError("--resume \(r): \(error)") }
            guard f.model.familyName == fam else { throw InputError("--resume \(r): a \(f.model.familyName.rawValue) model, not \(fam.rawValue)") }
            guard f.hasOptimizerState else {
                throw InputError("--resume \(r): the file holds no optimiser state (written before resuming was supported); train again")
            }
            guard f.metadata["seed"] == String(seed) else {
                throw InputError("--resume \(r): trained with --seed \(f.metadata["seed"] ?? "?"); pass the same --seed (step k's batch and noise come from the seed and k)")
            }
            guard f.metadata["data"] == data else {
                throw InputError("--resume \(r): trained on --data \(f.metadata["data"] ?? "?"), not \(data)")
            }
            guard f.step < steps else { throw InputError("--resume \(r): already trained for \(f.step) steps; ask for more with --steps") }
            resumed = f
        }
        if let h = o.hiddenLayers, h < 0 { throw InputError("--hidden-layers must be ≥ 0") }
        let source: DataSource
        do { source = try DataSource(parsing: data, dimension: dim) } catch { throw InputError("\(error)") }
        try checkAllocationSizes(source)
        let loaded = try source.load(count: count, seed: seed, as: Float.self)
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

        var built: (any GenerativeIIModel<Float>)? = nil
        var vaeModelForLD: VAE<Float>? = nil
        if let f = resumed {
            // The model, its optimisers and its units come from the file; the data are put into those units.
            built = f.model
            if dequantization == nil { x = try f.scaling.apply(loaded.scaling.invert(loaded.data)) }
            scaling = f.scaling
        } else { do {
            switch fam {
            case .vae, .latentDiffusion:
                guard let lik = VAELikelihood(rawValue: o.likelihood.lowercased()) else {
                    throw InputError("unknown --likelihood '\(o.likelihood)': expected gaussian or bernoulli")
                }
                if fam == .latentDiffusion, let path = o.vae {
                    let f = try GenerativeIIModelFile<Float>.load(path)
                    guard let v = f.model as? VAE<Float> else { throw InputError("--vae \(path): a \(f.model.familyName.rawValue) model, not a vae") }
                    guard v.configuration.dimension == d else { throw InputError("--vae \(path): the VAE is \(v.configuration.dimension)-dimensional, the data \(d)-dimensional") }
                    scaling = f.scaling
                    x = try scaling.apply(loaded.scaling.invert(loaded.data))
                    vaeModelForLD = v
                } else {
                    var c = VAEConfiguration(dimension: d, latentDimension: o.latentDim ?? 9, hidden: hidden, hiddenLayers: o.hiddenLayers ?? 2,
                                             likelihood: lik, beta: o.beta, warmupSteps: o.klWarmup)
                    if let l = lrGiven { c.learningRate = l }
                    let v = try VAE<Float>(c, seed: seed)
                    if fam == .latentDiffusion {
                        if !quiet { FileHandle.standardError.write(Data("latent-diffusion: training the VAE first (\(steps) steps)\n".utf8)) }
                        try runTraining(v, x, nil)
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
            }
        } catch let e as TensorError { throw InputError("\(fam.rawValue): \(e)") } }
        let model = built!
        var extra = ["data": data, "trained_by": "vst train"]
        if let q = dequantization {
            extra["dequantization"] = String(decoding: try JSONEncoder().encode(q), as: UTF8.self)
        }
        let firstStep = resumed?.step ?? 0
        // SIGINT / SIGTERM: finish the current step, save the model with its optimiser state (atomically) and exit
        // 128 + signal, so that `--resume` continues exactly where the run stopped.
        Interruption.install()
        if !quiet {
            FileHandle.standardError.write(Data("\(fam.rawValue): training steps \(firstStep + 1)…\(steps), batch \(batchSize), seed \(seed)\n".utf8))
        }
        // The model with its optimisers' state at `step`, written atomically over the output.
        func save(step: Int) throws {
            try GenerativeIIModelFile<Float>.save(model, scaling: scaling, to: output, step: step, seed: seed, extra: extra, overwrite: true)
        }
        let report: GenerativeIITrainingReport
        do {
            report = try runTrainingAny(model, x, labels, firstStep: firstStep) { done in
                if Interruption.received != 0 {
                    try save(step: done)
                    FileHandle.standardError.write(Data(("\nvst: interrupted by \(Interruption.name) after step \(done) of \(steps); \(output) holds that step. "
                        + "Continue with: vst train \(fam.rawValue) … --resume \(output) -o \(output)\n").utf8))
                    throw Interrupted(signal: Interruption.received)
                }
                if checkpointEvery > 0 && done % checkpointEvery == 0 && done < steps { try save(step: done) }
            }
        } catch let e as Interrupted {
            throw ExitCode(128 + e.signal)
        }
        try save(step: steps)
        let parts = report.final.map { String(format: "%@ %.4f", $0.0, $0.1) }.joined(separator: ", ")
        var summary = String(format: "%@: %d steps (from %d) in %.1f s; final %@", fam.rawValue, report.steps, firstStep, report.seconds, parts)
        if let flow = model as? RealNVP<Float> {
            let nll = try flow.negativeLogLikelihood(x.shape[0] > 2000 ? x.slice(0..<2000) : x)
            if let q = dequantization {
                summary += String(format: "; training NLL %.2f nats, %.3f bits/dim (dequantised)", q.discreteNLL(continuousNLL: nll, dimension: d),
                                  q.bitsPerDimension(continuousNLL: nll, dimension: d))
            } else {
                summary += String(format: "; training NLL %.2f nats (model units)", nll)
            }
        }
        if let v = model as? VAE<Float> {
            let sub = x.shape[0] > 1000 ? try x.slice(0..<1000) : x
            let iw = try v.iwae(sub, samples: 50, seed: seed)
            summary += String(format: "; training IWAE-50 %.2f nats (model units)", iw.reduce(0, +) / Double(iw.count))
        }
        if let vq = model as? VQVAE<Float> {
            let u = try vq.usage(x)
            summary += String(format: "; codebook usage %.0f%%, perplexity %.1f", 100 * u.usedFraction, u.perplexity)
        }
        print(summary + "; wrote " + output)
        return true
    }

    @discardableResult
    private func runTraining<M: GenerativeIIModel<Float>>(_ m: M, _ x: Tensor<Float>, _ labels: [Int]?, firstStep: Int = 0,
                                                          onStep: ((Int) throws -> Void)? = nil) throws -> GenerativeIITrainingReport {
        let c = GenerativeIITrainingConfiguration(steps: steps, batchSize: batchSize, seed: seed, logEvery: quiet ? 0 : Swift.max(1, steps / 20))
        return try GenerativeIITrainer.train(m, data: x, labels: labels, configuration: c, firstStep: firstStep, onStep: onStep)
    }

    private func runTrainingAny(_ m: any GenerativeIIModel<Float>, _ x: Tensor<Float>, _ labels: [Int]?, firstStep: Int,
                                onStep: @escaping (Int) throws -> Void) throws -> GenerativeIITrainingReport {
        func open<M: GenerativeIIModel<Float>>(_ m: M) throws -> GenerativeIITrainingReport {
            try runTraining(m, x, labels, firstStep: firstStep, onStep: onStep)
        }
        return try open(m)
    }
}

extension SampleCommand {
    /// Samples a Generative II model file; false when `model` holds a diffusion/flow family.
    func runGenerativeII() throws -> Bool {
        guard GenerativeIIModelFile<Float>.isModelFile(model) else { return false }
        let file = try GenerativeIIModelFile<Float>.load(model)
        guard n >= 1 else { throw InputError("-n must be ≥ 1") }
        let start = Date()
        var labels: [Int]? = nil
        if let a = label, let b = generativeII.classLabel, a != b {
            throw InputError("--label \(a) and --class-label \(b) disagree (--class-label is the old name of --label)")
        }
        let wanted = label ?? generativeII.classLabel
        if let g = file.model as? GAN<Float>, g.configuration.classCount > 0 {
            let k = g.configuration.classCount
            if let l = wanted {
                guard l >= 0 && l < k else { throw InputError("--label \(l): the model has classes 0…\(k - 1)") }
                labels = [Int](repeating: l, count: n)
            } else {
                labels = (0..<n).map { $0 % k }
            }
        } else if wanted != nil {
            throw InputError("--label: \(model) is not class-conditional")
        }
        let samples: Tensor<Float>
        var recorder: TrajectoryRecorder<Float>? = nil
        if let ld = file.model as? LatentDiffusion<Float> {
            recorder = try trajectory.map { _ in try TrajectoryRecorder<Float>(every: every, rows: trajectoryRows) }
            samples = try ld.sample(n, seed: seed, steps: steps, recorder: recorder)
        } else {
            if trajectory != nil { throw InputError("--trajectory: \(file.model.familyName.rawValue) samples in one step (latent-diffusion records its latent trajectory)") }
            samples = try file.model.generate(n, labels: labels, seed: seed)
        }
        let out = try file.scaling.invert(samples)
        try writeOutputs(samples: { try out.save(npy: output, overwrite: force) },
                         trajectory: trajectory.flatMap { t in recorder.map { rec in { try rec.write(npy: t, overwrite: force) } } })
        print(String(format: "%@ model: %d samples × %d in %.2f s; wrote %@", file.model.familyName.rawValue, n, out.shape[1],
                     Date().timeIntervalSince(start), output))
        return true
    }
}
