import Foundation
import Generative
import Linear
import Neural
import Substrate

/// Building a recipe's model: the data in model units, the networks and the family's configuration, with the
/// family's defaults (`TrainingRecipe+Defaults.swift`) applied exactly where `vst train` has always applied them.
extension TrainingJob {
    /// A denoising family (ddpm, score-sde, flow-matching, consistency; dit = ddpm with a DiT) built from the recipe.
    func denoisingSetup(loaded: LabeledData<Float>) throws -> TrainingSetup {
        let r = recipe
        let teacherFile: GenerativeModelFile<Float>?
        do { teacherFile = try r.teacher.map { try GenerativeModelFile<Float>.load($0, useEMA: true) } } catch { throw InputError("--teacher \(r.teacher ?? ""): \(error)") }
        let teacherModel0 = try teacherFile.map { t -> DenoisingModel<Float> in
            guard let d = t.denoising else {
                throw ConfigurationError(field: "--teacher", reason: "\(r.teacher!): a \(t.model.familyName.rawValue) model cannot teach (use ddpm, score-sde or flow-matching)")
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
        let conditional = r.conditional ?? false
        if conditional {
            guard let l = loaded.labels else { throw ConfigurationError(field: "--conditional", reason: "data '\(r.data)' has no labels") }
            classes = (l.max() ?? 0) + 1
        }
        let dc: DenoiserConfiguration
        if network == "dit" {
            do {
                dc = .dit(try DiTConfiguration(dimension: x.shape[1], patch: r.patch ?? 2, width: r.width ?? 64, depth: r.depth ?? 4, heads: r.heads ?? 4,
                                               classCount: classes, positionalEmbedding: DiTPositionalEmbedding(parsing: r.positional ?? "sincos")))
            } catch { throw InputError("\(error)") }
        } else {
            dc = .mlp(MLPDenoiserConfiguration(dimension: x.shape[1], hidden: r.hiddenValue, blocks: r.blocksValue, classCount: classes))
        }
        let net: any Denoiser<Float> = try dc.makeDenoiser(seed: r.seedValue)
        let model: any TrainableFamily<Float>
        switch family.denoisingFamily! {
        case .ddpm:
            model = try DDPM(denoiser: net, configuration: DDPMConfiguration(betaSchedule: BetaSchedule(parsing: r.schedule ?? "linear"), timesteps: r.timesteps ?? 1000,
                                                                             target: PredictionTarget(parsing: r.target ?? "x0"),
                                                                             variance: PosteriorVariance(parsing: r.variance ?? "beta-tilde"), clipSample: r.clipSample,
                                                                             lossWeighting: DiffusionLossWeighting(parsing: r.lossWeighting ?? "velocity"),
                                                                             skipVariance: try skip(x)))
        case .scoreSDE:
            var s = try ScoreSDE(parsing: r.sde ?? "vp")
            if case .ve = s { s = try ScoreSDE.ve(fittedTo: x.shape[0] > 2000 ? x.slice(0..<2000) : x) }
            model = try ScoreSDEModel(denoiser: net, configuration: ScoreSDEConfiguration(sde: s, prediction: ScorePrediction(parsing: r.prediction ?? "data"),
                                                                                          skipVariance: try skip(x)))
        case .flowMatching:
            model = try FlowMatching(denoiser: net, configuration: FlowMatchingConfiguration(sigmaMin: r.sigmaMin ?? 1e-4, pairing: OTPairing(parsing: r.pairing ?? "none"),
                                                                                             prediction: FlowPrediction(parsing: r.prediction ?? "data"),
                                                                                             skipVariance: try skip(x)))
        case .consistency:
            var teacherModel: (any ConsistencyTeacher<Float>)? = nil
            if let t = teacherModel0 {
                let name = r.teacher!
                guard t.denoiserConfiguration.dimension == x.shape[1] else {
                    throw ConfigurationError(field: "--teacher", reason: "\(name): the teacher is \(t.denoiserConfiguration.dimension)-dimensional, the data \(x.shape[1])-dimensional")
                }
                guard let tm = t.family as? any ConsistencyTeacher<Float> else {
                    throw ConfigurationError(field: "--teacher", reason: "\(name): a \(t.family.familyName.rawValue) model cannot teach (use ddpm, score-sde or flow-matching)")
                }
                if t.denoiserConfiguration.classCount != classes {
                    throw ConfigurationError(field: "--teacher", reason: "\(name): the teacher has \(t.denoiserConfiguration.classCount) classes, the student \(classes)")
                }
                teacherModel = tm
            }
            // σ_data: 0.5 for the digits in [−1, 1] (the paper's images); for consistency training on other data
            // (λ₁·λ_med)^¼ of the training data's covariance (README, "Where each family stands on the ladder");
            // 1 for distillation.
            let sd: Double = try r.sigmaData ?? r.defaultSigmaData(fitted: r.fitsSigmaData ? Self.fittedSigmaData(x) : nil)
            // Prediction: data for distillation, EDM for training (measured on moons lifted to 64-D, seeds 3–5; README).
            let schedule: ConsistencySchedule
            do {
                schedule = try ConsistencySchedule(sigmaMax: r.sigmaMax ?? 80, sigmaData: sd,
                                                   prediction: ConsistencyPrediction(parsing: r.prediction ?? (teacherModel == nil ? "edm" : "data")))
            } catch { throw InputError("--prediction / --sigma-max / --sigma-data: \(error)") }
            let improved: Bool
            let ctRecipe = r.ctRecipe ?? "improved"
            switch ctRecipe.lowercased() {
            case "improved": improved = true
            case "original": improved = r.improvedCT ?? false
            default: throw ConfigurationError(field: "--ct-recipe", reason: "\(ctRecipe): expected improved or original")
            }
            // The improved recipe applies to consistency training; distillation keeps the paper's (l2, uniform, μ).
            let ict = improved && teacherModel == nil
            var cc = ConsistencyConfiguration(schedule: schedule, mode: teacherModel == nil ? .training : .distillation,
                                              initialSteps: r.ctInitialSteps ?? (ict ? 10 : 2), finalSteps: r.ctFinalSteps ?? 150,
                                              distillationSteps: r.cdSteps ?? 18)
            do {
                cc.metric = try ConsistencyMetric(parsing: r.metric ?? (ict ? "pseudo-huber" : "l2"), dimension: x.shape[1])
                cc.weighting = try ConsistencyWeighting(parsing: r.weighting ?? (ict ? "inverse-gap" : "uniform"))
                cc.noiseSampling = try ConsistencyNoiseSampling(parsing: r.noiseSampling ?? (ict ? "lognormal" : "uniform"))
            } catch { throw InputError("\(error)") }
            cc.trainingDecay = r.targetDecay ?? (ict ? 0 : nil)
            model = try ConsistencyModel(denoiser: net, configuration: cc, teacher: teacherModel)
        }
        var c = TrainingConfiguration(steps: r.stepsValue, batchSize: r.batchValue, learningRate: r.lr ?? TrainingRecipe.defaultLearningRate, seed: r.seedValue)
        c.emaDecay = r.emaDecayValue
        if conditional { c.labelDropout = r.labelDropout ?? 0.1 }
        var metadata: [String: String] = [:]
        if let t = r.teacher { metadata["teacher"] = t }
        return TrainingSetup(model: try DenoisingModel(family: model, denoiser: dc, training: c), scaling: scaling, x: x,
                             labels: conditional ? loaded.labels : nil, metadata: metadata)
    }

    /// vae, vqvae, gan, wgan-gp, cgan, realnvp or latent-diffusion, built from the recipe (or taken from the
    /// --resume file, with its units).
    func familySetup(loaded: LabeledData<Float>, resumed: GenerativeModelFile<Float>?) throws -> TrainingSetup {
        let r = recipe, fam = family
        let isDigits: Bool = { if case .digits = source { return true } else { return false } }()
        let likelihood = r.likelihood ?? "gaussian"

        // Data in model units.
        var scaling: AffineScaling
        var x: Tensor<Float>
        var dequantization: UniformDequantization? = nil
        if fam == .realNVP, let levels = r.dequantize ?? (isDigits ? 17 : nil), levels > 0 {
            // Original units are the integer levels 0 … L − 1; model units [−1, 1]; fresh uniform noise per copy.
            let q = try UniformDequantization(levels: levels)
            let k = try loaded.scaling.invert(loaded.data)
            var g = RandomGenerator(seed: r.seedValue ^ 0xDE0)
            x = try Tensor.concatenate((0..<4).map { _ in try q.apply(levels: k, using: &g) }, axis: 0)
            scaling = try AffineScaling(scale: q.width, shift: q.low)          // (k + u) ↦ low + (k + u)·w
            dequantization = q
        } else if likelihood.lowercased() == "bernoulli" && (fam == .vae || fam == .latentDiffusion) {
            let orig = try loaded.scaling.invert(loaded.data)
            let lo = Double(orig.min()), hi = Double(orig.max())
            guard hi > lo else { throw InputFileError(path: r.data, reason: "the data are constant") }
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
            if let f = r.labelsFile {
                labels = try NPY.read(f).integers()
                guard labels!.count == loaded.count else { throw InputFileError(path: f, reason: "\(labels!.count) labels for \(loaded.count) rows") }
            } else {
                guard let l = loaded.labels else { throw ConfigurationError(field: "--labels-file", reason: "cgan: data '\(r.data)' has no labels; give --labels-file") }
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
                guard let lik = VAELikelihood(rawValue: likelihood.lowercased()) else {
                    throw ConfigurationError(field: "--likelihood", reason: "unknown likelihood '\(likelihood)': expected gaussian or bernoulli")
                }
                if fam == .latentDiffusion, let path = r.vae {
                    let f = try GenerativeModelFile<Float>.load(path)
                    guard let v = f.model as? VAE<Float> else { throw ConfigurationError(field: "--vae", reason: "\(path): a \(f.model.familyName.rawValue) model, not a vae") }
                    guard v.configuration.dimension == d else {
                        throw ConfigurationError(field: "--vae", reason: "\(path): the VAE is \(v.configuration.dimension)-dimensional, the data \(d)-dimensional")
                    }
                    scaling = f.scaling
                    x = try scaling.apply(loaded.scaling.invert(loaded.data))
                    vaeModelForLD = v
                } else {
                    var c = VAEConfiguration(dimension: d, latentDimension: try r.latentDim ?? VAEConfiguration.defaultLatentDimension(for: x), hidden: r.hiddenValue,
                                             hiddenLayers: r.hiddenLayers ?? 2, likelihood: lik, beta: r.beta ?? 1, warmupSteps: r.klWarmup ?? 0)
                    if let l = r.lr { c.learningRate = l }
                    let v = try VAE<Float>(c, seed: r.seedValue)
                    if fam == .latentDiffusion {
                        log?("latent-diffusion: training the VAE first (\(r.stepsValue) steps)\n")
                        try train(v, x, nil)
                        vaeModelForLD = v
                    }
                    built = v
                }
                if fam == .latentDiffusion {
                    let prior = r.prior ?? TrainingRecipe.defaultLatentPrior
                    guard let p = LatentPriorFamily(rawValue: prior.lowercased()) else {
                        throw ConfigurationError(field: "--prior", reason: "unknown prior '\(prior)': expected ddpm or flow-matching")
                    }
                    var c = LatentDiffusionConfiguration(family: p, hidden: r.hiddenValue, blocks: r.blocksValue)
                    if let l = r.lr { c.learningRate = l }
                    built = try LatentDiffusion(vae: vaeModelForLD!, data: x, configuration: c, seed: r.seedValue)
                }
            case .vqvae:
                var c = VQVAEConfiguration(dimension: d, codeCount: r.codebookSize ?? 64, codeDimension: r.latentDim ?? 8, positions: r.codePositions ?? 4,
                                           hidden: r.hiddenValue, hiddenLayers: r.hiddenLayers ?? 2, commitment: r.commitment ?? 0.25, ema: r.emaCodebook ?? false)
                c.restartEvery = r.restartEvery ?? 100
                if let l = r.lr { c.learningRate = l }
                built = try VQVAE<Float>(c, seed: r.seedValue)
            case .gan, .wganGP, .cgan:
                let objective: GANObjective = fam == .gan ? .nonSaturating : .wasserstein
                let classes = labels.map { ($0.max() ?? 0) + 1 } ?? 0
                var c = GANConfiguration(dimension: d, objective: objective, latentDimension: r.latentDim ?? 16, hidden: r.hiddenValue,
                                         hiddenLayers: r.hiddenLayers ?? 3, classCount: classes)
                if objective == .wasserstein { c.penaltyWeight = r.penalty ?? 10 }
                if let k = r.criticSteps { c.criticSteps = k }
                // WGAN-GP: the paper's 1e-4 leaves the generator off the manifold of lifted data at 2 000–6 000 steps
                // (moons in 64-D: precision 0.41 / 0.47 against the Gaussian's 0.71); 6e-4 for 4 000 steps learns it.
                if objective == .wasserstein && classes == 0 { c.learningRate = 6e-4 }
                if let l = r.lr { c.learningRate = l }
                // vst train samples an average of the generator's weights (--ema-decay, 0: the raw generator).
                c.emaDecay = r.emaDecayValue
                let lrDecay = r.lrDecay ?? "none"
                switch lrDecay.lowercased() {
                case "linear": c.decaySteps = r.stepsValue
                case "none": c.decaySteps = nil
                default: throw ConfigurationError(field: "--lr-decay", reason: "\(lrDecay): expected linear or none")
                }
                let r1 = r.r1 ?? 0
                guard r1.isFinite, r1 >= 0 else { throw ConfigurationError(field: "--r1", reason: "must be a finite number ≥ 0, got \(r1)") }
                if r1 > 0 {
                    guard objective == .nonSaturating else { throw ConfigurationError(field: "--r1", reason: "applies to gan and cgan (wgan-gp has its own penalty, --penalty)") }
                    c.r1Weight = r1
                }
                built = try GAN<Float>(c, seed: r.seedValue)
            case .realNVP:
                var c = RealNVPConfiguration(dimension: d, couplings: r.couplings ?? 8, hidden: r.hiddenValue, hiddenLayers: r.hiddenLayers ?? 2,
                                             actNorm: !(r.noActnorm ?? false))
                if let l = r.lr { c.learningRate = l }
                built = try RealNVP<Float>(c, seed: r.seedValue)
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

    /// --skip-variance: none (0), median (of the covariance eigenvalues of the data in model units) or a number.
    func skip(_ x: Tensor<Float>) throws -> Double {
        let s = recipe.skipVariance ?? "none"
        switch s.lowercased() {
        case "none": return 0
        case "median": return try GaussianSkip.medianEigenvalue(of: x)
        default:
            guard let v = Double(s), v >= 0, v.isFinite else {
                throw ConfigurationError(field: "--skip-variance", reason: "\(s): expected none, median or a finite number ≥ 0")
            }
            return v
        }
    }

    /// The model-unit scaling of a toy or a file, as `--scaling` asks.
    func fitScaling(_ data: Tensor<Float>) throws -> AffineScaling {
        let s = recipe.scalingValue
        switch s.lowercased() {
        case "standardize", "standardise": return try AffineScaling.standardizing(data)
        case "isotropic": return try AffineScaling.isotropic(data)
        default: throw ConfigurationError(field: "--scaling", reason: "\(s): expected standardize or isotropic")
        }
    }

    /// `ConsistencySchedule.fittedSigmaData` of data in model units, refused as `--sigma-data` when it cannot be
    /// fitted (a covariance whose median eigenvalue is 0).
    static func fittedSigmaData(_ x: Tensor<Float>) throws -> Double {
        do { return try ConsistencySchedule.fittedSigmaData(to: x) } catch {
            throw ConfigurationError(field: "--sigma-data", reason: "cannot be fitted to this data, give it: \(error)")
        }
    }
}
