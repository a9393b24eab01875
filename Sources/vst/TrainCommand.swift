import ArgumentParser
import Foundation
import Generative
import Linear
import Neural

/// `vst train <family>`: trains a generative model on a named data set or a file and writes a model file that
/// records the family, its configuration and the data scaling (so `vst sample` needs nothing else).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a generative model (ddpm, score-sde, flow-matching, consistency, dit, vae, vqvae, gan, wgan-gp, cgan, realnvp, latent-diffusion) and save it as .safetensors.",
        discussion: """
        Data: digits, moons, eight-gaussians, checkerboard, spiral (with --dim D to lift a toy), or an [n, D] .npy / CSV \
        file. Toys and files are standardised per feature; digits use their [0, 16] → [−1, 1] scaling. Progress (step, \
        loss, steps/s, ETA) goes to stderr.

        Every family writes the same model-file format: weights, buffers (EMA weights, codebook statistics, …) and each \
        optimiser's moments keyed by parameter path, its configuration, the data scaling and the step, so --resume \
        (same --data and --seed, more --steps) continues any family exactly; files of earlier versions still load. A \
        run whose loss becomes NaN/∞ stops with an error and keeps the last checkpoint. SIGINT/SIGTERM: every family \
        finishes its step, saves and exits 130/143.

        Networks: --denoiser mlp (vectors) or dit (square images, D = side²: --patch, --depth, --heads, --width); `dit` \
        as the family means ddpm with a DiT. Consistency models train from data (ct) or, with --teacher \
        model.safetensors (a ddpm, score-sde or flow-matching model of the same data), by distillation (cd).

        Examples:
          vst train flow-matching --data moons --steps 3000 --seed 1 -o fm.safetensors
          vst train consistency --data moons --teacher fm.safetensors -o cd.safetensors
          vst train dit --data digits --patch 2 --depth 4 --heads 4 -o dit.safetensors
          vst train ddpm --data moons --dim 64 --monitor 200 -o m.safetensors   (watch m.monitor.html while it trains)

        Training-health monitor (--monitor K): every K steps and after the last, the model samples the same \
        --monitor-samples noise rows (its default sampler; ddpm DDIM 50 steps, score-sde Euler–Maruyama 50) and \
        vst analyses them: MMD², precision and recall against held-out data (a fresh draw of a toy; for digits and \
        files a seeded subset of the training rows) beside the moment-matched Gaussian baseline, k* and the regime, \
        the drift (Fréchet distance) from the previous point, and the mean training loss. The curves go to \
        <model>.monitor.json and a self-contained page <model>.monitor.html beside the model, rewritten atomically at \
        every point; one stderr line flags a run that looks diverging (non-finite samples, MMD² rising over 3 points \
        by more than 2× or back above the baseline's after being below it, a non-finite loss) or collapsing (precision ≥ 0.5 with recall < 0.05, k* down to 0/1 while \
        the data's is higher). The monitor never changes the training (the weights, EMA and optimiser state saved are the same with or without it).
        """)

    @Argument(help: "Family: ddpm, score-sde, flow-matching, consistency, dit (= ddpm with a DiT denoiser), vae, vqvae, gan, wgan-gp, cgan, realnvp or latent-diffusion.") var family: String
    @Option(help: "Training data: a data name or a .npy / CSV file.") var data: String
    @Option(help: "Lift a 2-D toy to this dimension.") var dim: Int?
    @Option(help: "Samples drawn from a toy (default 10000) or taken from a file (default all).") var count: Int?
    @Option(name: .customLong("steps"), help: "Training steps (default 2000; gan 10 000: the non-saturating GAN on moons in 64-D reaches precision 0.40 at 2 000 steps, 0.53 at 6 000 and 0.76 at 10 000 against the Gaussian's 0.71; wgan-gp 4 000, with a learning rate of 6e-4).") var stepsOption: Int?
    /// --steps, or the family's default.
    var steps: Int { stepsOption ?? Self.defaultSteps(family: family) }
    /// The default number of training steps of a family.
    static func defaultSteps(family: String) -> Int {
        switch family.lowercased() {
        case "gan": return 10_000
        case "wgan-gp": return 4000
        default: return 2000
        }
    }
    @Option(name: .customLong("batch-size"), help: "Mini-batch size.") var batchSize: Int = 256
    @Option(name: .customLong("scaling"), help: "Toys and files: standardize (per feature; the default) or isotropic (centre, then one scale for all features so the leading principal direction has unit variance; score-sde's default: a 2-D toy standardised in 256-D has variance ≈ 128 along its plane, and score-sde on moons there gives MMD² 0.025 standardised, 0.0009 isotropic, against the Gaussian's 0.0068).") var dataScalingOption: String?
    /// --scaling, or the family's default (isotropic for score-sde, standardize otherwise).
    var dataScaling: String { dataScalingOption ?? (family.lowercased() == "score-sde" ? "isotropic" : "standardize") }
    @Option(help: "Peak learning rate (AdamW, warm-up then cosine decay).") var lr: Double = 2e-3
    @Option(help: "Seed of the network initialisation, batches and noise.") var seed: UInt64 = 0
    @Option(help: "Hidden width of the MLP denoiser.") var hidden: Int = 128
    @Option(help: "Residual blocks of the MLP denoiser.") var blocks: Int = 3
    @Option(name: .customLong("ema-decay"), help: "EMA decay of the sampling weights (diffusion families; gan, wgan-gp, cgan: an average of the generator, 0: none).") var emaDecay: Double = 0.999
    @Option(help: "ddpm: beta schedule (linear, cosine, scaled-linear).") var schedule: String = "linear"
    @Option(help: "ddpm: diffusion steps T.") var timesteps: Int = 1000
    @Option(help: "ddpm: prediction target (x0, the default: learns data on a low-dimensional manifold in high dimension; epsilon, the paper's; v).") var target: String = "x0"
    @Option(help: "ddpm: posterior variance (beta or beta-tilde).") var variance: String = "beta-tilde"
    @Option(name: .customLong("loss-weighting"), help: "ddpm: weight of each timestep's error: velocity (1/(1 − ᾱ_t), bounded; the default, with --target x0 the v-loss) or uniform (the paper's L_simple).") var lossWeighting: String = "velocity"
    @Option(name: .customLong("clip-sample"), help: "ddpm: clip x̂₀ to [−c, c] while sampling (model units).") var clipSample: Double?
    @Option(help: "score-sde: vp, sub-vp or ve (ve: σ_max = the data's largest pairwise distance).") var sde: String = "vp"
    @Option(help: "flow-matching: minibatch OT pairing (none, exact, sinkhorn).") var pairing: String = "none"
    @Option(name: .customLong("sigma-min"), help: "flow-matching: σ_min of the linear path.") var sigmaMin: Double = 1e-4
    @Option(name: .customLong("skip-variance"), help: "ddpm (x0), flow-matching and score-sde (data): variance v of a Gaussian skip x̂ = c(t)·x_t + network, the exact denoiser of an isotropic noise floor: none (the default), median (the median eigenvalue of the training data's covariance) or a number. It restores the data's noise floor around a manifold (recall) at the cost of precision in high D; see the README.") var skipVariance: String = "none"
    @Option(help: "flow-matching, score-sde and consistency: what the network predicts: data (x̂, the default of flow-matching, score-sde and consistency distillation: learns data on a low-dimensional manifold in high dimension; EDM's c_skip keeps full-rank noise a small MLP cannot cancel, e.g. cd on moons in 64-D: precision 0 with edm, 0.87–0.89 with data), or velocity (flow matching) / noise (score-sde) / edm (EDM's c_skip/c_out, the papers' choice and consistency training's default: with data prediction improved ct reaches precision 0.46 instead of 0.89).") var prediction: String?
    @Option(help: "Network: mlp or dit (dit needs square images: D = side² values per row).") var denoiser: String = "mlp"
    @Option(help: "dit: patch side p (divides the image side).") var patch: Int = 2
    @Option(help: "dit: number of DiT blocks.") var depth: Int = 4
    @Option(help: "dit: attention heads.") var heads: Int = 4
    @Option(help: "dit: token width (divisible by heads and by 4).") var width: Int = 64
    @Option(help: "dit: positional embedding (sincos or learned).") var positional: String = "sincos"
    @Flag(help: "Condition on the data's class labels (digits), for class-conditional sampling and guidance.") var conditional = false
    @Option(name: .customLong("label-dropout"), help: "With --conditional: probability of the null label (classifier-free guidance).") var labelDropout: Double = 0.1
    @Option(help: "consistency: distil from this trained ddpm, score-sde or flow-matching model file (cd); without it, consistency training (ct).") var teacher: String?
    @Option(name: .customLong("sigma-data"), help: "consistency: σ_data of the EDM parameterisation (0.5: images in [−1, 1]; 1: standardised data).") var sigmaData: Double?
    @Option(name: .customLong("sigma-max"), help: "consistency: σ_max (80 in the paper).") var sigmaMax: Double = 80
    @Option(name: .customLong("ct-final-steps"), help: "consistency training: s₁ of the N(k) curriculum (N(K) = s₁ + 1).") var ctFinalSteps: Int = 150
    @Option(name: .customLong("cd-steps"), help: "consistency distillation: number N of Karras boundaries.") var cdSteps: Int = 18
    @Option(help: "consistency: distance (l2, pseudo-huber, pseudo-huber:c; default: pseudo-huber for the improved ct recipe, l2 otherwise).") var metric: String?
    @Option(name: .customLong("ct-initial-steps"), help: "consistency training: s₀ of the N(k) curriculum (default: 10 for the improved recipe, 2 for the original).") var ctInitialSteps: Int?
    @Option(name: .customLong("target-decay"), help: "consistency training: a fixed target-network decay instead of μ(k) (0: improved CT; default: 0 for the improved recipe, μ(k) for the original).") var targetDecay: Double?
    @Option(help: "consistency: loss weighting over intervals (uniform, inverse-gap; default: inverse-gap for the improved ct recipe, uniform otherwise).") var weighting: String?
    @Option(name: .customLong("noise-sampling"), help: "consistency: interval sampling (uniform, lognormal, lognormal:mean:std; default: lognormal for the improved ct recipe, uniform otherwise).") var noiseSampling: String?
    @Option(name: .customLong("ct-recipe"), help: "consistency training: improved (Song & Dhariwal 2023: target decay 0, pseudo-Huber, inverse-gap weights, log-normal intervals, s₀ = 10; the default: the original recipe does not learn in 2000 steps, e.g. moons in 64-D MMD² 0.28, precision 0) or original (Song et al. 2023: μ(k) target, l2, uniform; the paper's).") var ctRecipe: String = "improved"
    @Flag(name: .customLong("improved-ct"), help: "consistency: improved CT (the default; same as --ct-recipe improved).") var improvedCT = false
    @Option(name: .customLong("checkpoint-every"), help: "Also save the output every this many steps (0: at the end only).") var checkpointEvery: Int = 0
    @Option(help: "Continue training from this checkpoint (written by vst train with the same family).") var resume: String?
    @Option(name: [.short, .customLong("output")], help: "Model file to write (.safetensors).") var output: String
    @Flag(help: "Overwrite an existing output file (and its .monitor.json / .monitor.html).") var force = false
    @Option(help: ArgumentHelp("Training-health monitor: every K steps (and after the last) sample a fixed noise batch and write MMD², precision/recall (with the Gaussian baseline), k*, regime, drift and loss curves to <model>.monitor.json and <model>.monitor.html (K ≥ 1).", valueName: "K")) var monitor: Int?
    @Option(name: .customLong("monitor-samples"), help: "--monitor: rows of the fixed noise batch (≥ 8).") var monitorSamples: Int = 512
    @Flag(help: "Hide progress on stderr.") var quiet = false
    @OptionGroup(title: "VAE, VQ-VAE, GAN, RealNVP and latent-diffusion options") var familyOptions: FamilyTrainOptions

    func run() throws {
        let isDiT = family.lowercased() == "dit"
        guard let fam = GenerativeFamilyName(parsing: isDiT ? "ddpm" : family) else {
            throw InputError("unknown family '\(family)': expected ddpm, score-sde, flow-matching, consistency, dit (ddpm with a DiT denoiser), vae, vqvae, gan, wgan-gp, cgan, realnvp or latent-diffusion")
        }
        let network = isDiT ? "dit" : denoiser.lowercased()
        guard network == "mlp" || network == "dit" else { throw InputError("unknown denoiser '\(denoiser)': expected mlp or dit") }
        if teacher != nil && fam != .consistency { throw InputError("--teacher applies to the consistency family only") }
        guard emaDecay.isFinite, (0...1).contains(emaDecay) else { throw InputError("--ema-decay must be a number in [0, 1], got \(emaDecay)") }
        if fam.isGAN && emaDecay >= 1 { throw InputError("--ema-decay \(emaDecay): a GAN's generator average needs a decay below 1 (0: none)") }
        guard lr.isFinite, lr > 0 else { throw InputError("--lr must be a positive number, got \(lr)") }
        try checkMonitorOptions()
        // Resuming may write over the file it resumes from; any other existing output needs --force.
        if !force && FileManager.default.fileExists(atPath: output) && !(resume.map { Self.samePath($0, output) } ?? false) {
            throw InputError(resume == nil ? "\(output) exists; pass --force to overwrite it"
                                           : "\(output) exists and is not the --resume file \(resume!); pass --force to overwrite it")
        }
        guard steps >= 1, batchSize >= 1, hidden >= 1 else { throw InputError("--steps, --batch-size and --hidden must be ≥ 1") }
        if let h = familyOptions.hiddenLayers, h < 0 { throw InputError("--hidden-layers must be ≥ 0") }
        let source: DataSource
        do { source = try DataSource(parsing: data, dimension: dim) } catch { throw InputError("\(error)") }
        // The data's name in the model file (the denoising families have always recorded the source's description).
        let dataName = fam.isDenoising ? source.description : data
        var resumed: GenerativeModelFile<Float>? = nil
        if let r = resume {
            // Step k's batch and noise come from (seed, k) and the data: a run resumed with others would silently
            // continue a different run.
            let f: GenerativeModelFile<Float>
            do { f = try GenerativeModelFile<Float>.load(r) } catch { throw InputError("--resume \(r): \(error)") }
            guard f.model.familyName == fam else { throw InputError("--resume \(r): a \(f.model.familyName.rawValue) model, not \(fam.rawValue)") }
            guard f.hasOptimizerState else {
                throw InputError("--resume \(r): the file holds no optimiser state (written before resuming was supported); train again")
            }
            guard f.metadata["seed"] == String(seed) else {
                throw InputError("--resume \(r): trained with --seed \(f.metadata["seed"] ?? "?"); pass the same --seed (step k's batch and noise come from the seed and k)")
            }
            guard f.metadata["data"] == dataName else {
                throw InputError("--resume \(r): trained on --data \(f.metadata["data"] ?? "?"), not \(dataName)")
            }
            guard f.step < steps else { throw InputError("--resume \(r): already trained for \(f.step) steps; ask for more with --steps") }
            resumed = f
        }
        try checkAllocationSizes(source)
        let loaded = try source.load(count: count, seed: seed, as: Float.self)
        var built: TrainingSetup
        do {
            built = fam.isDenoising ? try denoisingSetup(fam, network: network, source: source, loaded: loaded)
                                    : try familySetup(fam, source: source, loaded: loaded, resumed: resumed)
        } catch let e as TensorError { throw InputError("\(fam.rawValue): \(e)") }
        let model = built.model
        if let f = resumed, fam.isDenoising {
            // A denoising model is rebuilt from the options (its learning-rate schedule spans the new --steps) and
            // continues from the checkpoint's weights, EMA, AdamW moments and training state.
            do { try model.restore(from: f.model, optimizerState: true) } catch { throw InputError("--resume \(f.metadata["data"] ?? ""): \(error)") }
            // The data must be in the checkpoint's units (score-sde's default scaling changed from standardize to isotropic).
            guard f.scaling == built.scaling else {
                throw InputError("--resume \(resume ?? ""): the checkpoint's data scaling is not this run's --scaling \(dataScaling); resume with the --scaling it was trained with")
            }
        }
        built.metadata["data"] = dataName
        built.metadata["trained_by"] = "vst train"
        let firstStep = resumed?.step ?? 0
        // SIGINT / SIGTERM: finish the current step, save the model with its optimiser state (atomically) and exit
        // 128 + signal, so that `--resume` continues exactly where the run stopped.
        Interruption.install()
        if !quiet {
            FileHandle.standardError.write(Data("\(fam.rawValue): training steps \(firstStep + 1)…\(steps), batch \(batchSize), seed \(seed)\n".utf8))
        }
        let metadata = built.metadata, scaling = built.scaling
        let monitorHook = try makeMonitor(model: model, source: source, built: built, firstStep: firstStep)
        // The model with its optimisers' state at `step`, written atomically over the output.
        func save(step: Int) throws {
            try GenerativeModelFile<Float>.save(model, scaling: scaling, to: output, step: step, seed: seed, extra: metadata, overwrite: true)
        }
        let report: GenerativeTrainingReport
        do {
            report = try train(model, built.x, built.labels, firstStep: firstStep, monitor: monitorHook) { done in
                if Interruption.received != 0 {
                    try save(step: done)
                    FileHandle.standardError.write(Data(("\nvst: interrupted by \(Interruption.name) after step \(done) of \(steps); the checkpoint \(output) holds that step. "
                        + "Continue with: vst train \(family) … --resume \(output) -o \(output)\n").utf8))
                    throw Interrupted(signal: Interruption.received)
                }
                if checkpointEvery > 0 && done % checkpointEvery == 0 && done < steps { try save(step: done) }
            }
        } catch let e as Interrupted {
            throw ExitCode(128 + e.signal)
        } catch let e as TrainingError {
            if case let .diverged(step, _, reason) = e { monitorHook?.stopped(step: step, reason: reason) }
            throw e.adding(FileManager.default.fileExists(atPath: output) ? "; the last checkpoint (\(output)) was kept" : "; nothing was saved")
        }
        try save(step: steps)
        try monitorHook?.finish(step: steps)
        var summary = String(format: "%@: %d steps (from %d) in %.1f s; loss %.4f → %.4f", fam.rawValue, report.steps, firstStep, report.seconds,
                             report.initial.first?.1 ?? .nan, report.final.first?.1 ?? .nan)
        if report.final.count > 1 { summary += "; final " + report.final.map { String(format: "%@ %.4f", $0.0, $0.1) }.joined(separator: ", ") }
        summary += try built.details(model, built.x, seed: seed)
        print(summary + "; wrote " + output + (monitorHook?.summary ?? ""))
    }

    /// Runs the one trainer on any family, drawing its progress line on stderr unless --quiet.
    @discardableResult
    func train(_ model: any GenerativeModel<Float>, _ x: Tensor<Float>, _ labels: [Int]?, firstStep: Int = 0,
               monitor hook: TrainMonitorHook? = nil, onStep: ((Int) throws -> Void)? = nil) throws -> GenerativeTrainingReport {
        let every = quiet ? 0 : Swift.max(1, steps / 20)
        // With --monitor the trainer reports every step (the monitor averages the loss); the line is drawn as before.
        let c = GenerativeTrainingConfiguration(steps: steps, batchSize: batchSize, seed: seed, progressEvery: hook == nil ? every : 1)
        let progress: (TrainingProgress) -> Void = { p in
            hook?.observe(p)
            if every > 0, p.step % every == 0 || p.step == p.totalSteps { TrainingProgressLine.draw(p) }
        }
        let step: ((Int) throws -> Void)? = hook == nil ? onStep : { done in try hook?.check(); try onStep?(done) }
        func open<M: GenerativeModel<Float>>(_ m: M) throws -> GenerativeTrainingReport {
            try GenerativeTrainer.train(m, data: x, labels: labels, configuration: c, firstStep: firstStep, onStep: step,
                                        progress: progress)
        }
        return try open(model)
    }

    /// A denoising family (ddpm, score-sde, flow-matching, consistency; dit = ddpm with a DiT) built from the options.
    func denoisingSetup(_ fam: GenerativeFamilyName, network: String, source: DataSource, loaded: LabeledData<Float>) throws -> TrainingSetup {
        let teacherFile: GenerativeModelFile<Float>?
        do { teacherFile = try teacher.map { try GenerativeModelFile<Float>.load($0, useEMA: true) } } catch { throw InputError("--teacher \(teacher ?? ""): \(error)") }
        let teacherModel0 = try teacherFile.map { t -> DenoisingModel<Float> in
            guard let d = t.denoising else {
                throw InputError("--teacher \(teacher!): a \(t.model.familyName.rawValue) model cannot teach (use ddpm, score-sde or flow-matching)")
            }
            return d
        }
        let scaling: AffineScaling
        let x: Tensor<Float>
        if let t = teacherFile {
            // The student works in the teacher's model units.
            scaling = t.scaling; x = try scaling.apply(loaded.scaling.invert(loaded.data))
        } else if case .digits = source {
            scaling = loaded.scaling; x = loaded.data
        } else {
            scaling = try fitScaling(loaded.data); x = try scaling.apply(loaded.data)
        }
        var classes = 0
        if conditional {
            guard let l = loaded.labels else { throw InputError("--conditional: data '\(data)' has no labels") }
            classes = (l.max() ?? 0) + 1
        }
        let dc: DenoiserConfiguration
        if network == "dit" {
            do {
                dc = .dit(try DiTConfiguration(dimension: x.shape[1], patch: patch, width: width, depth: depth, heads: heads,
                                               classCount: classes, positionalEmbedding: DiTPositionalEmbedding(parsing: positional)))
            } catch { throw InputError("\(error)") }
        } else {
            dc = .mlp(MLPDenoiserConfiguration(dimension: x.shape[1], hidden: hidden, blocks: blocks, classCount: classes))
        }
        let net: any Denoiser<Float> = try dc.makeDenoiser(seed: seed)
        let model: any TrainableFamily<Float>
        switch fam.denoisingFamily! {
        case .ddpm:
            model = try DDPM(denoiser: net, configuration: DDPMConfiguration(betaSchedule: BetaSchedule(parsing: schedule), timesteps: timesteps,
                                                                             target: PredictionTarget(parsing: target),
                                                                             variance: PosteriorVariance(parsing: variance), clipSample: clipSample,
                                                                             lossWeighting: DiffusionLossWeighting(parsing: lossWeighting),
                                                                             skipVariance: try skip(x)))
        case .scoreSDE:
            var s = try ScoreSDE(parsing: sde)
            if case .ve = s { s = try ScoreSDE.ve(fittedTo: x.shape[0] > 2000 ? x.slice(0..<2000) : x) }
            model = try ScoreSDEModel(denoiser: net, configuration: ScoreSDEConfiguration(sde: s, prediction: ScorePrediction(parsing: prediction ?? "data"),
                                                                                          skipVariance: try skip(x)))
        case .flowMatching:
            model = try FlowMatching(denoiser: net, configuration: FlowMatchingConfiguration(sigmaMin: sigmaMin, pairing: OTPairing(parsing: pairing),
                                                                                             prediction: FlowPrediction(parsing: prediction ?? "data"),
                                                                                             skipVariance: try skip(x)))
        case .consistency:
            var teacherModel: (any ConsistencyTeacher<Float>)? = nil
            if let t = teacherModel0 {
                guard t.denoiserConfiguration.dimension == x.shape[1] else {
                    throw InputError("--teacher \(teacher!): the teacher is \(t.denoiserConfiguration.dimension)-dimensional, the data \(x.shape[1])-dimensional")
                }
                guard let tm = t.family as? any ConsistencyTeacher<Float> else {
                    throw InputError("--teacher \(teacher!): a \(t.family.familyName.rawValue) model cannot teach (use ddpm, score-sde or flow-matching)")
                }
                if t.denoiserConfiguration.classCount != classes {
                    throw InputError("--teacher \(teacher!): the teacher has \(t.denoiserConfiguration.classCount) classes, the student \(classes)")
                }
                teacherModel = tm
            }
            // σ_data: 0.5 for the digits in [−1, 1] (the paper's images); 1 for standardised data.
            let sd: Double = sigmaData ?? { if case .digits = source { return 0.5 } else { return 1 } }()
            // Prediction: data for distillation, EDM for training (measured on moons lifted to 64-D, seeds 3–5; README).
            let schedule: ConsistencySchedule
            do {
                schedule = try ConsistencySchedule(sigmaMax: sigmaMax, sigmaData: sd,
                                                   prediction: ConsistencyPrediction(parsing: prediction ?? (teacherModel == nil ? "edm" : "data")))
            } catch { throw InputError("--prediction / --sigma-max / --sigma-data: \(error)") }
            let improved: Bool
            switch ctRecipe.lowercased() {
            case "improved": improved = true
            case "original": improved = improvedCT
            default: throw InputError("--ct-recipe \(ctRecipe): expected improved or original")
            }
            // The improved recipe applies to consistency training; distillation keeps the paper's (l2, uniform, μ).
            let ict = improved && teacherModel == nil
            var cc = ConsistencyConfiguration(schedule: schedule, mode: teacherModel == nil ? .training : .distillation,
                                              initialSteps: ctInitialSteps ?? (ict ? 10 : 2), finalSteps: ctFinalSteps, distillationSteps: cdSteps)
            do {
                cc.metric = try ConsistencyMetric(parsing: metric ?? (ict ? "pseudo-huber" : "l2"), dimension: x.shape[1])
                cc.weighting = try ConsistencyWeighting(parsing: weighting ?? (ict ? "inverse-gap" : "uniform"))
                cc.noiseSampling = try ConsistencyNoiseSampling(parsing: noiseSampling ?? (ict ? "lognormal" : "uniform"))
            } catch { throw InputError("\(error)") }
            cc.trainingDecay = targetDecay ?? (ict ? 0 : nil)
            model = try ConsistencyModel(denoiser: net, configuration: cc, teacher: teacherModel)
        }
        var c = TrainingConfiguration(steps: steps, batchSize: batchSize, learningRate: lr, seed: seed)
        c.emaDecay = emaDecay
        if conditional { c.labelDropout = labelDropout }
        var metadata: [String: String] = [:]
        if let t = teacher { metadata["teacher"] = t }
        return TrainingSetup(model: try DenoisingModel(family: model, denoiser: dc, training: c), scaling: scaling, x: x,
                             labels: conditional ? loaded.labels : nil, metadata: metadata)
    }
}

extension TrainCommand {
    /// --skip-variance: none (0), median (of the covariance eigenvalues of the data in model units) or a number.
    func skip(_ x: Tensor<Float>) throws -> Double {
        switch skipVariance.lowercased() {
        case "none": return 0
        case "median": return try GaussianSkip.medianEigenvalue(of: x)
        default:
            guard let v = Double(skipVariance), v >= 0, v.isFinite else {
                throw InputError("--skip-variance \(skipVariance): expected none, median or a finite number ≥ 0")
            }
            return v
        }
    }

    /// The model-unit scaling of a toy or a file, as `--scaling` asks.
    func fitScaling(_ data: Tensor<Float>) throws -> AffineScaling {
        switch dataScaling.lowercased() {
        case "standardize", "standardise": return try AffineScaling.standardizing(data)
        case "isotropic": return try AffineScaling.isotropic(data)
        default: throw InputError("--scaling \(dataScaling): expected standardize or isotropic")
        }
    }
}

extension TrainCommand {
    /// Refuses, before anything is allocated, sizes whose tensors this machine could not hold: the toy data
    /// (--count × --dim), a hidden×hidden weight matrix (--hidden), a hidden×D one (--hidden with --dim), the
    /// activations of a batch (--batch-size × --hidden), the networks' depth (--blocks, --hidden-layers, --couplings)
    /// and the codebook (--codebook-size × --latent-dim × --code-positions). Each product is taken in 4-byte
    /// floats without overflow and compared with the physical memory; the error names the option (exit 2) instead
    /// of an abort inside malloc.
    func checkAllocationSizes(_ source: DataSource) throws {
        let limit = Swift.max(Int64(1) << 30, Int64(clamping: ProcessInfo.processInfo.physicalMemory))
        func product(_ xs: [Int]) -> Int64? {
            var p: Int64 = 4
            for x in xs {
                let (r, o) = p.multipliedReportingOverflow(by: Int64(Swift.max(0, x)))
                if o { return nil }
                p = r
            }
            return p
        }
        func check(_ option: String, _ value: Int, _ what: String, _ xs: [Int]) throws {
            if let b = product(xs), b <= limit { return }
            let bytes = xs.reduce(4.0) { $0 * Double($1) }
            throw InputError(String(format: "%@ %d: %@ would need %.3g bytes, more than this machine's %.3g bytes of memory",
                                    option, value, what, bytes, Double(limit)))
        }
        var d = 64
        if case let .toy(_, dimension) = source {
            d = dimension
            try check("--dim", dimension, "the lifting matrix (\(dimension) × \(dimension))", [dimension, dimension])
            if let c = count { try check("--count", c, "the data (\(c) × \(dimension))", [c, dimension]) }
        }
        let o = familyOptions
        let depth = Swift.max(blocks, o.hiddenLayers ?? 3, o.couplings) + 1
        try check("--hidden", hidden, "a \(hidden) × \(hidden) weight matrix", [hidden, hidden])
        try check("--hidden", hidden, "a \(hidden) × \(d) weight matrix", [hidden, d])
        try check("--batch-size", batchSize, "a batch's activations (\(batchSize) × \(Swift.max(hidden, d)))", [batchSize, Swift.max(hidden, d)])
        try check(blocks >= depth - 1 ? "--blocks" : (o.couplings >= depth - 1 ? "--couplings" : "--hidden-layers"), depth - 1,
                  "\(depth - 1) layers of \(hidden) × \(hidden)", [depth, hidden, hidden])
        let codes = o.latentDim ?? 16
        try check("--latent-dim", codes, "a \(codes) × \(hidden) weight matrix", [codes, hidden])
        try check("--codebook-size", o.codebookSize, "the codebook (\(o.codebookSize) × \(codes))", [o.codebookSize, codes])
        try check("--code-positions", o.codePositions, "the code vectors (\(o.codePositions) × \(codes) × \(hidden))", [o.codePositions, codes, hidden])
    }
}

extension TrainCommand {
    /// Whether two paths name the same file (after standardising and resolving symbolic links).
    static func samePath(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath().path
            == URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
