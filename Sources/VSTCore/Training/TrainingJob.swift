import Foundation
import Generative
import Linear
import Neural
import Substrate

/// Where and how a recipe's run writes: not part of the recipe (two runs of one recipe train the same model).
public struct TrainingRunOptions: Sendable {
    /// The model file (.safetensors).
    public var output: String
    /// Continue from this checkpoint (same family, --data and --seed; more --steps).
    public var resume: String?
    /// Overwrite an existing output (and its monitor files).
    public var force = false
    /// Also save every this many steps (0: at the end only).
    public var checkpointEvery = 0
    /// The training-health monitor: a point every K steps (nil: none), on this many noise rows.
    public var monitor: Int?
    public var monitorSamples = 512

    public init(output: String, resume: String? = nil) {
        self.output = output
        self.resume = resume
    }
}

/// What `vst train` does, without a process: validate a `TrainingRecipe`, build its model and data, run the one
/// trainer (`GenerativeTrainer`) with checkpoints, resuming and the monitor, and save the model file. Progress goes
/// to `progress` (the command line draws the line) every `progressEvery` steps (0: never).
public struct TrainingJob {
    public let recipe: TrainingRecipe
    public let family: GenerativeFamilyName
    public let source: DataSource
    /// mlp or dit.
    public let network: String
    public var progressEvery = 0
    public var progress: ((TrainingProgress) -> Void)?
    /// Lines about what the job does (the latent-diffusion VAE's pre-training), for stderr.
    public var log: ((String) -> Void)?

    /// Validates the recipe (`ConfigurationError` naming the option) and parses its data source.
    public init(recipe: TrainingRecipe) throws {
        try recipe.validate()
        self.recipe = recipe
        family = try recipe.familyName()
        network = recipe.isDiT ? "dit" : (recipe.denoiser ?? "mlp").lowercased()
        do { source = try DataSource(parsing: recipe.data, dimension: recipe.dim) } catch { throw InputError("\(error)") }
    }

    /// The data's name in the model file (the denoising families have always recorded the source's description).
    public var dataName: String { family.isDenoising ? source.description : recipe.data }

    /// The checkpoint to continue from, checked against this recipe: same family, a file with optimiser state, the
    /// same --seed and --data (step k's batch and noise come from (seed, k) and the data), fewer steps than --steps.
    public func loadResume(_ r: String) throws -> GenerativeModelFile<Float> {
        let f: GenerativeModelFile<Float>
        do { f = try GenerativeModelFile<Float>.load(r) } catch { throw ConfigurationError(field: "--resume", reason: "\(r): \(error)") }
        guard f.model.familyName == family else { throw ConfigurationError(field: "--resume", reason: "\(r): a \(f.model.familyName.rawValue) model, not \(family.rawValue)") }
        guard f.hasOptimizerState else {
            throw ConfigurationError(field: "--resume", reason: "\(r): the file holds no optimiser state (written before resuming was supported); train again")
        }
        guard f.metadata["seed"] == String(recipe.seedValue) else {
            throw ConfigurationError(field: "--resume", reason: "\(r): trained with --seed \(f.metadata["seed"] ?? "?"); pass the same --seed (step k's batch and noise come from the seed and k)")
        }
        guard f.metadata["data"] == dataName else {
            throw ConfigurationError(field: "--resume", reason: "\(r): trained on --data \(f.metadata["data"] ?? "?"), not \(dataName)")
        }
        guard f.step < recipe.stepsValue else {
            throw ConfigurationError(field: "--resume", reason: "\(r): already trained for \(f.step) steps; ask for more with --steps")
        }
        return f
    }

    /// Loads the data and builds the model (from the recipe, or for vae … latent-diffusion from `resumed`); a
    /// denoising model rebuilt from the recipe continues from the checkpoint's weights, EMA and optimiser state.
    public func setup(resumed: GenerativeModelFile<Float>? = nil) throws -> TrainingSetup {
        try checkAllocationSizes()
        let loaded = try source.load(count: recipe.count, seed: recipe.seedValue, as: Float.self)
        var built: TrainingSetup
        do {
            built = family.isDenoising ? try denoisingSetup(loaded: loaded) : try familySetup(loaded: loaded, resumed: resumed)
        } catch let e as TensorError { throw InputError("\(family.rawValue): \(e)") }
        if let f = resumed, family.isDenoising {
            // A denoising model is rebuilt from the recipe (its learning-rate schedule spans the new --steps) and
            // continues from the checkpoint's weights, EMA, AdamW moments and training state.
            do { try built.model.restore(from: f.model, optimizerState: true) } catch { throw ConfigurationError(field: "--resume", reason: "\(f.metadata["data"] ?? ""): \(error)") }
            // The data must be in the checkpoint's units (score-sde's default scaling changed from standardize to isotropic).
            guard f.scaling == built.scaling else {
                throw ConfigurationError(field: "--scaling", reason: "the checkpoint's data scaling is not this run's --scaling \(recipe.scalingValue); resume with the --scaling it was trained with")
            }
        }
        built.metadata["data"] = dataName
        built.metadata["trained_by"] = "vst train"
        return built
    }

    /// The recipe with every default written out, the data-dependent latent size of vae and latent-diffusion
    /// included (the data are loaded; nothing is trained).
    public func resolvedRecipe() throws -> TrainingRecipe {
        var latent: Int? = nil
        if (family == .vae || family == .latentDiffusion) && recipe.latentDim == nil && recipe.vae == nil {
            try checkAllocationSizes()
            let loaded = try source.load(count: recipe.count, seed: recipe.seedValue, as: Float.self)
            let bernoulli = (recipe.likelihood ?? "gaussian").lowercased() == "bernoulli"
            var x: Tensor<Float>
            if bernoulli {
                let orig = try loaded.scaling.invert(loaded.data)
                let lo = Double(orig.min()), hi = Double(orig.max())
                x = try AffineScaling(scale: 1 / Swift.max(hi - lo, .leastNormalMagnitude), shift: -lo / Swift.max(hi - lo, .leastNormalMagnitude)).apply(orig)
            } else if case .digits = source {
                x = loaded.data
            } else {
                x = try fitScaling(loaded.data).apply(loaded.data)
            }
            latent = try VAEConfiguration.defaultLatentDimension(for: x)
        }
        var sigmaData: Double? = nil
        if family == .consistency && recipe.fitsSigmaData {
            try checkAllocationSizes()
            let loaded = try source.load(count: recipe.count, seed: recipe.seedValue, as: Float.self)
            sigmaData = try Self.fittedSigmaData(fitScaling(loaded.data).apply(loaded.data))
        }
        return try recipe.resolved(latentDimension: latent, fittedSigmaData: sigmaData)
    }

    /// Runs the one trainer on any family from `firstStep`, reporting to `observe` (the monitor) every step when
    /// given, and drawing through `progress` every `progressEvery` steps and at the last.
    @discardableResult
    public func train(_ model: any GenerativeModel<Float>, _ x: Tensor<Float>, _ labels: [Int]?, firstStep: Int = 0,
                      observe: ((TrainingProgress) -> Void)? = nil, onStep: ((Int) throws -> Void)? = nil) throws -> GenerativeTrainingReport {
        let every = progress == nil ? 0 : progressEvery
        // With a monitor the trainer reports every step (the monitor averages the loss); the line is drawn as before.
        let c = GenerativeTrainingConfiguration(steps: recipe.stepsValue, batchSize: recipe.batchValue, seed: recipe.seedValue,
                                                progressEvery: observe == nil ? every : 1)
        let draw = progress
        let report: (TrainingProgress) -> Void = { p in
            observe?(p)
            if every > 0, p.step % every == 0 || p.step == p.totalSteps { draw?(p) }
        }
        func open<M: GenerativeModel<Float>>(_ m: M) throws -> GenerativeTrainingReport {
            try GenerativeTrainer.train(m, data: x, labels: labels, configuration: c, firstStep: firstStep, onStep: onStep, progress: report)
        }
        return try open(model)
    }
}
