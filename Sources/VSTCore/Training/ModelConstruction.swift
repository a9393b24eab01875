import Foundation
import Generative
import Linear
import Neural
import Substrate

/// Building a recipe's model: the data in model units, the networks and the family's configuration. Every default
/// comes from `TrainingRecipe.resolved` (`TrainingRecipe+Defaults.swift`), the one place that states them: the
/// construction reads the resolved recipe's fields and applies none of its own, so a model built from a recipe
/// and one built from that recipe written out (`--print-recipe`, the model file's metadata) are the same.
extension TrainingJob {
    /// A denoising family (ddpm, score-sde, flow-matching, consistency; dit = ddpm with a DiT) built from the recipe.
    func denoisingSetup(loaded: LabeledData<Float>) throws -> TrainingSetup {
        let given = recipe
        let teacherFile: GenerativeModelFile<Float>?
        do { teacherFile = try given.teacher.map { try GenerativeModelFile<Float>.load($0, useEMA: true) } } catch { throw ConfigurationError(field: "--teacher", reason: "\(given.teacher ?? ""): \(error)") }
        let teacherModel0 = try teacherFile.map { t -> DenoisingModel<Float> in
            guard let d = t.denoising else {
                throw ConfigurationError(field: "--teacher", reason: "\(given.teacher!): a \(t.model.familyName.rawValue) model cannot teach (use ddpm, score-sde or flow-matching)")
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
        // σ_data of consistency training is fitted to the data in model units (when not given).
        let fitted = family == .consistency && given.fitsSigmaData ? try Self.fittedSigmaData(x) : nil
        let r = try given.resolved(fittedSigmaData: fitted)
        var classes = 0
        let conditional = r.conditional!
        if conditional {
            guard let l = loaded.labels else { throw ConfigurationError(field: "--conditional", reason: "data '\(r.data)' has no labels") }
            classes = (l.max() ?? 0) + 1
        }
        let dc: DenoiserConfiguration
        if network == "dit" {
            dc = .dit(try DiTConfiguration(dimension: x.shape[1], patch: r.patch!, width: r.width!, depth: r.depth!, heads: r.heads!,
                                           classCount: classes, positionalEmbedding: DiTPositionalEmbedding(parsing: r.positional!)))
        } else {
            dc = .mlp(MLPDenoiserConfiguration(dimension: x.shape[1], hidden: r.hidden!, blocks: r.blocks!, classCount: classes))
        }
        let net: any Denoiser<Float> = try dc.makeDenoiser(seed: r.seed!)
        let model: any TrainableFamily<Float>
        switch family.denoisingFamily! {
        case .ddpm:
            model = try DDPM(denoiser: net, configuration: DDPMConfiguration(betaSchedule: BetaSchedule(parsing: r.schedule!), timesteps: r.timesteps!,
                                                                             target: PredictionTarget(parsing: r.target!),
                                                                             variance: PosteriorVariance(parsing: r.variance!), clipSample: r.clipSample,
                                                                             lossWeighting: DiffusionLossWeighting(parsing: r.lossWeighting!),
                                                                             skipVariance: try skip(x)))
        case .scoreSDE:
            var s = try ScoreSDE(parsing: r.sde!)
            if case .ve = s { s = try ScoreSDE.ve(fittedTo: x.shape[0] > 2000 ? x.slice(0..<2000) : x) }
            guard let w = ScoreSDE.Weighting(rawValue: r.lossWeighting!.lowercased()) else {
                throw ConfigurationError(field: "--loss-weighting", reason: "'\(r.lossWeighting!)' is not a score-sde weighting: expected velocity, variance or likelihood")
            }
            model = try ScoreSDEModel(denoiser: net, configuration: ScoreSDEConfiguration(sde: s, weighting: w, prediction: ScorePrediction(parsing: r.prediction!),
                                                                                          skipVariance: try skip(x)))
        case .flowMatching:
            model = try FlowMatching(denoiser: net, configuration: FlowMatchingConfiguration(sigmaMin: r.sigmaMin!, pairing: OTPairing(parsing: r.pairing!),
                                                                                             prediction: FlowPrediction(parsing: r.prediction!),
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
            // σ_data, prediction, the curriculum, metric, weighting and noise sampling as resolved: the improved
            // recipe (Song & Dhariwal 2023) for consistency training, the paper's (l2, uniform) for distillation.
            let schedule: ConsistencySchedule
            do {
                schedule = try ConsistencySchedule(sigmaMax: r.sigmaMax!, sigmaData: r.sigmaData!, prediction: ConsistencyPrediction(parsing: r.prediction!))
            } catch { throw ConfigurationError(field: "--prediction / --sigma-max / --sigma-data", reason: "\(error)") }
            var cc: ConsistencyConfiguration
            if teacherModel == nil {
                cc = ConsistencyConfiguration(schedule: schedule, mode: .training, initialSteps: r.ctInitialSteps!, finalSteps: r.ctFinalSteps!)
            } else {
                cc = ConsistencyConfiguration(schedule: schedule, mode: .distillation, distillationSteps: r.cdSteps!)
            }
            cc.metric = try ConsistencyMetric(parsing: r.metric!, dimension: x.shape[1])
            cc.weighting = try ConsistencyWeighting(parsing: r.weighting!)
            cc.noiseSampling = try ConsistencyNoiseSampling(parsing: r.noiseSampling!)
            cc.trainingDecay = r.targetDecay
            model = try ConsistencyModel(denoiser: net, configuration: cc, teacher: teacherModel)
        }
        var c = TrainingConfiguration(steps: r.steps!, batchSize: r.batchSize!, learningRate: r.lr!, seed: r.seed!)
        c.emaDecay = r.emaDecay!
        if conditional { c.labelDropout = r.labelDropout! }
        var metadata: [String: String] = [:]
        if let t = r.teacher { metadata["teacher"] = t }
        return TrainingSetup(model: try DenoisingModel(family: model, denoiser: dc, training: c), scaling: scaling, x: x,
                             labels: conditional ? loaded.labels : nil, metadata: metadata)
    }

    /// vae, vqvae, gan, wgan-gp, cgan, realnvp or latent-diffusion, built from the recipe (or taken from the
    /// --resume file, with its units).
    func familySetup(loaded: LabeledData<Float>, resumed: GenerativeModelFile<Float>?) throws -> TrainingSetup {
        // The latent size of vae and latent-diffusion is the one data-dependent default: it is read from the data
        // in model units below (`VAEConfiguration.defaultLatentDimension`), when not given.
        let r = try recipe.resolved(), fam = family
        let isDigits: Bool = { if case .digits = source { return true } else { return false } }()
        let likelihood = r.likelihood ?? ""

        // Data in model units.
        var scaling: AffineScaling
        var x: Tensor<Float>
        var dequantization: UniformDequantization? = nil
        if fam == .realNVP, let levels = r.dequantize, levels > 0 {
            // Original units are the integer levels 0 … L − 1; model units [−1, 1]; fresh uniform noise per copy.
            let q = try UniformDequantization(levels: levels)
            let k = try loaded.scaling.invert(loaded.data)
            var g = RandomGenerator(seed: r.seed! ^ 0xDE0)
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
                    var c = VAEConfiguration(dimension: d, latentDimension: try r.latentDim ?? VAEConfiguration.defaultLatentDimension(for: x), hidden: r.hidden!,
                                             hiddenLayers: r.hiddenLayers!, likelihood: lik, beta: r.beta!, warmupSteps: r.klWarmup!, learningRate: r.lr!)
                    c.latentComponents = r.latentComponents
                    let v = try VAE<Float>(c, seed: r.seed!)
                    if fam == .latentDiffusion {
                        log?("latent-diffusion: training the VAE first (\(r.steps!) steps)\n")
                        try train(v, x, nil)
                        vaeModelForLD = v
                    }
                    built = v
                }
                if fam == .latentDiffusion {
                    let prior = r.prior!
                    guard let p = LatentPriorFamily(rawValue: prior.lowercased()) else {
                        throw ConfigurationError(field: "--prior", reason: "unknown prior '\(prior)': expected ddpm or flow-matching")
                    }
                    var c = LatentDiffusionConfiguration(family: p, hidden: r.hidden!, blocks: r.blocks!, learningRate: r.lr!)
                    c.emaDecay = r.emaDecay!
                    built = try LatentDiffusion(vae: vaeModelForLD!, data: x, configuration: c, seed: r.seed!)
                }
            case .vqvae:
                var c = VQVAEConfiguration(dimension: d, codeCount: r.codebookSize!, codeDimension: r.latentDim!, positions: r.codePositions!,
                                           hidden: r.hidden!, hiddenLayers: r.hiddenLayers!, commitment: r.commitment!, ema: r.emaCodebook!, learningRate: r.lr!)
                c.restartEvery = r.restartEvery!
                built = try VQVAE<Float>(c, seed: r.seed!)
            case .gan, .wganGP, .cgan:
                let objective: GANObjective = fam == .gan ? .nonSaturating : .wasserstein
                let classes = labels.map { ($0.max() ?? 0) + 1 } ?? 0
                var c = GANConfiguration(dimension: d, objective: objective, latentDimension: r.latentDim!, hidden: r.hidden!,
                                         hiddenLayers: r.hiddenLayers!, classCount: classes)
                if objective == .wasserstein { c.penaltyWeight = r.penalty! }
                c.criticSteps = r.criticSteps!
                c.learningRate = r.lr!
                // vst train samples an average of the generator's weights (--ema-decay, 0: the raw generator).
                c.emaDecay = r.emaDecay!
                let lrDecay = r.lrDecay!
                switch lrDecay.lowercased() {
                case "linear": c.decaySteps = r.steps!
                case "none": c.decaySteps = nil
                default: throw ConfigurationError(field: "--lr-decay", reason: "\(lrDecay): expected linear or none")
                }
                let r1 = recipe.r1 ?? (fam == .gan ? TrainingRecipe.defaultR1 : 0)
                guard r1.isFinite, r1 >= 0 else { throw ConfigurationError(field: "--r1", reason: "must be a finite number ≥ 0, got \(r1)") }
                if r1 > 0 {
                    guard objective == .nonSaturating else { throw ConfigurationError(field: "--r1", reason: "applies to gan and cgan (wgan-gp has its own penalty, --penalty)") }
                    c.r1Weight = r1
                }
                built = try GAN<Float>(c, seed: r.seed!)
            case .realNVP:
                if !r.principalAxes!, r.coupledFeatures != nil {
                    throw ConfigurationError(field: "--coupled-features", reason: "the coupled features are leading principal features: add --principal-axes")
                }
                if let k = r.coupledFeatures, k < 0 { throw ConfigurationError(field: "--coupled-features", reason: "must be ≥ 0 (0: fitted), got \(k)") }
                let c = RealNVPConfiguration(dimension: d, couplings: r.couplings!, hidden: r.hidden!, hiddenLayers: r.hiddenLayers!,
                                             actNorm: !r.noActnorm!, principalAxes: r.principalAxes!,
                                             coupledFeatures: r.coupledFeatures, learningRate: r.lr!)
                built = try RealNVP<Float>(c, seed: r.seed!)
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
