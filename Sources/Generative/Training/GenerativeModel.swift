import Foundation
import Linear
import Neural

/// Every generative family by its command-line name.
public enum GenerativeFamilyName: String, Sendable, CaseIterable, Codable {
    case ddpm
    case scoreSDE = "score-sde"
    case flowMatching = "flow-matching"
    case consistency
    case vae
    case vqvae
    case gan
    case wganGP = "wgan-gp"
    case cgan
    case realNVP = "realnvp"
    case latentDiffusion = "latent-diffusion"

    /// Parses a family name (case-insensitive); nil for anything else.
    public init?(parsing name: String) {
        self.init(rawValue: name.lowercased())
    }

    /// The name of a denoising (diffusion or flow) family.
    public init(_ family: FamilyName) {
        switch family {
        case .ddpm: self = .ddpm
        case .scoreSDE: self = .scoreSDE
        case .flowMatching: self = .flowMatching
        case .consistency: self = .consistency
        }
    }

    /// The denoising family of this name (nil for the families that are not a denoiser trained with a noising loss).
    public var denoisingFamily: FamilyName? { FamilyName(rawValue: rawValue) }

    /// Whether the family is a denoising family (`DenoisingModel`: ddpm, score-sde, flow-matching, consistency).
    public var isDenoising: Bool { denoisingFamily != nil }

    /// Whether the family is a GAN variant.
    public var isGAN: Bool { self == .gan || self == .wganGP || self == .cgan }
}

/// A training step's named losses and statistics (e.g. `loss`, `kl`, `d_loss`, `penalty`); the first is the
/// headline loss.
public typealias StepStatistics = [(String, Double)]

/// The contract every generative family meets, so that one trainer (`GenerativeTrainer`), one model file
/// (`GenerativeModelFile`) and one `vst train` / `vst sample` serve them all:
///
/// - **named networks** (`networks`): every parameter has a path `<network>.<parameter path>`, e.g.
///   `generator.layers.0.weight` or `denoiser.blocks.1.dense.weight`; model files store weights under those paths;
/// - **named optimisers** (`optimizers`): each Adam/AdamW owns a subset of the parameters; its moments are stored
///   by the parameter's path, so a run resumes exactly;
/// - **one training step** (`trainStep`): the model draws every random number of step k from the generator the
///   trainer seeds with (seed, k), computes its losses, and updates its own parameters with its own optimisers
///   (a GAN alternates discriminator and generator updates; a denoising family takes one AdamW step and updates
///   its EMA);
/// - **sampling** (`draw`, and `generate` for the plain case) in model units from noise seeded by `seed`;
/// - **a Codable configuration** (`configuration`), written into model files as JSON and read back to rebuild
///   the model before its weights are loaded.
///
/// Determinism: a model's step k depends only on its state, the batch and the generator of step k, so training
/// n + m steps equals training n steps, saving, loading and training m more, bit for bit.
public protocol GenerativeModel<Scalar>: AnyObject {
    associatedtype Scalar: BLASScalar
    associatedtype Configuration: Codable
    /// The command-line family name.
    var familyName: GenerativeFamilyName { get }
    /// The configuration the model was built from (stored in model files as JSON).
    var configuration: Configuration { get }
    /// Every network of the model, by name (the tensors of a model file are `<name>.<parameter path>`).
    var networks: ModuleGroup<Scalar> { get }
    /// The model's optimisers by name; every parameter an optimiser updates is one of `networks`' parameters.
    var optimizers: [(name: String, optimizer: Adam<Scalar>)] { get }
    /// Non-parameter state that must be saved (EMA weights, EMA codebook statistics, ActNorm initialisation flags, a
    /// consistency model's target network…).
    var buffers: [String: Tensor<Scalar>] { get }
    /// Restores the buffers written by `buffers` (called after the networks' weights are loaded).
    func loadBuffers(_ b: [String: Tensor<Scalar>]) throws
    /// Real batches one `trainStep` consumes (a WGAN-GP critic takes n_critic of them; the trainer stacks them).
    var batchesPerStep: Int { get }
    /// Salt of the generator of step k, mix(mix(seed ⊕ salt) ⊕ k) (distinct per kind of model, so that runs of
    /// earlier versions of the trainer repeat bit for bit).
    var trainingStream: UInt64 { get }
    /// One optimisation step (0-based `step`) on a batch in model units (labels for conditional models), drawing
    /// its randomness from `g`; returns its statistics, the first being the headline loss.
    /// - Throws: `TrainingError.nonFinite` when a loss or gradient is not finite, before the weights were touched.
    func trainStep(_ x: Tensor<Scalar>, labels: [Int]?, step: Int, using g: inout RandomGenerator) throws -> StepStatistics
    /// Called by the trainer before the first step of a run that starts at step 0, with all the training data in
    /// model units (default: nothing; RealNVP fits its principal-axes rotation here).
    func startTraining(data: Tensor<Scalar>) throws
    /// Called by the trainer once the last step of a run is done (default: evaluation mode; the VQ-VAE also fits its
    /// code prior to the training data here).
    func finishTraining(data: Tensor<Scalar>) throws
    /// Classes the model is conditioned on (0: unconditional).
    var classCount: Int { get }
    /// `n` samples in model units (labels for conditional models), from noise seeded by `seed`.
    func generate(_ n: Int, labels: [Int]?, seed: UInt64) throws -> Tensor<Scalar>
    /// `n` samples in model units with a named sampler and step count (nil: the family's defaults), class labels and
    /// guidance from `options`, the first batch's trajectory into `recorder`; `progress` sees (done, n).
    /// - Throws: `ConfigurationError` (field `sampler`, `steps`, `trajectory`, `n` or a `SamplingOptions` field) when
    ///   the family has no such sampler, takes no steps or no trajectory.
    func draw(_ n: Int, sampler: SamplerName?, steps: Int?, seed: UInt64, options: SamplingOptions,
              recorder: TrajectoryRecorder<Scalar>?, progress: ((Int, Int) -> Void)?) throws -> SamplingResult<Scalar>
}

extension GenerativeModel {
    public var batchesPerStep: Int { 1 }
    public var optimizers: [(name: String, optimizer: Adam<Scalar>)] { [] }
    public var buffers: [String: Tensor<Scalar>] { [:] }
    public func loadBuffers(_ b: [String: Tensor<Scalar>]) throws {}
    public var trainingStream: UInt64 { 0x6E4E_2_0000 }
    public var classCount: Int { 0 }
    public func startTraining(data: Tensor<Scalar>) throws {}
    public func finishTraining(data: Tensor<Scalar>) throws { networks.eval() }

    /// The configuration as JSON (the model file's `configuration` entry).
    public func configurationJSON() throws -> String { try ModelSupport.json(configuration) }

    /// The labels of `n` samples: none for an unconditional model; `options.label` for every sample, or the classes
    /// in turn (sample i gets i mod classCount), for a conditional one.
    public func sampleLabels(_ n: Int, options: SamplingOptions) throws -> [Int]? {
        let k = classCount
        guard k > 0 else {
            if options.label != nil { throw ConfigurationError(field: "SamplingOptions.label", reason: "this \(familyName.rawValue) model is unconditional; it takes no label") }
            return nil
        }
        if let l = options.label {
            guard (0..<k).contains(l) else { throw ConfigurationError(field: "SamplingOptions.label", reason: "label \(l) is outside the model's classes 0…\(k - 1)") }
            return [Int](repeating: l, count: n)
        }
        return (0..<n).map { $0 % k }
    }

    /// The default `draw`: one call of `generate` (no named samplers, no steps, no trajectory, no guidance).
    public func draw(_ n: Int, sampler: SamplerName?, steps: Int?, seed: UInt64, options: SamplingOptions,
                     recorder: TrajectoryRecorder<Scalar>?, progress: ((Int, Int) -> Void)?) throws -> SamplingResult<Scalar> {
        let name = familyName.rawValue
        if let s = sampler { throw ConfigurationError(field: "sampler", reason: "sampler '\(s.rawValue)': a \(name) model has no named samplers") }
        if steps != nil { throw ConfigurationError(field: "steps", reason: "steps: a \(name) model samples in one pass") }
        if recorder != nil { throw ConfigurationError(field: "trajectory", reason: "trajectory: a \(name) model samples in one pass (latent-diffusion records its latent trajectory)") }
        if options.guidance != 0 { throw ConfigurationError(field: "SamplingOptions.guidance", reason: "guidance: a \(name) model has no classifier-free guidance") }
        guard n >= 1 else { throw ConfigurationError(field: "n", reason: "sampling: need n ≥ 1, got \(n)") }
        let x = try generate(n, labels: sampleLabels(n, options: options), seed: seed)
        progress?(n, n)
        return SamplingResult(samples: x, evaluations: 1, steps: 1)
    }

    /// Copies `other`'s weights, buffers and (when `optimizerState`) optimiser states into this model, which must be
    /// of the same family and shape (for `--resume` and `Trainer.resume`).
    public func restore(from other: any GenerativeModel<Scalar>, optimizerState: Bool) throws {
        guard other.familyName == familyName else {
            throw ModelStateError(reason: "a \(other.familyName.rawValue) model cannot be restored into a \(familyName.rawValue) model")
        }
        try networks.loadStateDict(other.networks.stateDict())
        try loadBuffers(other.buffers)
        guard optimizerState else { return }
        let theirs = Dictionary(other.optimizers.map { ($0.name, $0.optimizer) }, uniquingKeysWith: { a, _ in a })
        for (name, o) in optimizers {
            guard let t = theirs[name] else { throw ModelStateError(reason: "optimiser '\(name)' is missing") }
            try o.load(state: t.state)
        }
    }
}

/// What stops a training run of any family.
public enum TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A loss, a gradient norm or a reported statistic was not finite at `step` (1-based) of a run of `of` steps;
    /// the weights are as they were before that step. `reason` says what was not finite (and what was kept).
    case diverged(step: Int, of: Int, reason: String)
    /// Thrown by a model's `trainStep`, which does not know the step number, before it touches the weights;
    /// `GenerativeTrainer` rethrows it as `.diverged` with the step.
    case nonFinite(String)

    /// The same error with `note` appended to its reason (e.g. which checkpoint was kept).
    public func adding(_ note: String) -> TrainingError {
        switch self {
        case let .diverged(step, of, reason): return .diverged(step: step, of: of, reason: reason + note)
        case let .nonFinite(reason): return .nonFinite(reason + note)
        }
    }

    public var description: String {
        switch self {
        case let .diverged(step, of, reason): return "training diverged at step \(step) of \(of): \(reason)"
        case let .nonFinite(reason): return "training diverged: \(reason)"
        }
    }
}

/// Activations of `FeedForward`, including the leaky ReLU that GAN discriminators use.
public enum FeedForwardActivation: Sendable, Equatable, Codable {
    case relu
    case silu
    case tanh
    case leakyRelu(Double)

    func apply<S>(_ x: Variable<S>) throws -> Variable<S> {
        switch self {
        case .relu: return x.relu()
        case .silu: return x.silu()
        case .tanh: return x.tanh()
        case let .leakyRelu(a): return try x.leakyRelu(S(a))
        }
    }
}

/// A multilayer perceptron y = W_L·f(… f(W_1·x + b_1) …) + b_L with no normalisation layers (so it is safe as a
/// WGAN-GP critic, whose per-sample gradient penalty batch norm would break). Parameters `layers.i.weight/bias`.
/// Cost per row: Σ_l in_l·out_l multiply-adds.
public final class FeedForward<Scalar: BLASScalar>: ModuleBase, Layer {
    public let layers: [Dense<Scalar>]
    public let activation: FeedForwardActivation

    /// - Parameter sizes: input, hidden…, output (at least two entries).
    public init(sizes: [Int], activation: FeedForwardActivation, using g: inout RandomGenerator) throws {
        guard sizes.count >= 2, sizes.allSatisfy({ $0 >= 1 }) else {
            throw ConfigurationError(field: "FeedForward.sizes", reason: "FeedForward: sizes need an input and an output, all ≥ 1, got \(sizes)")
        }
        layers = (0..<(sizes.count - 1)).map { Dense(sizes[$0], sizes[$0 + 1], using: &g) }
        self.activation = activation
    }

    public var children: [(String, any Module<Scalar>)] { layers.enumerated().map { ("layers.\($0.offset)", $0.element) } }

    public func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar> {
        var h = x
        for (i, l) in layers.enumerated() {
            h = try l(h)
            if i < layers.count - 1 { h = try activation.apply(h) }
        }
        return h
    }

    /// Evaluation without a tape.
    public func predict(_ x: Tensor<Scalar>) throws -> Tensor<Scalar> { try noGrad { try self(Variable(x)).value } }
}

/// Several named modules as one (for saving, loading and listing the parameters of a multi-network family).
public final class ModuleGroup<Scalar: BLASScalar>: ModuleBase, Module {
    public let members: [(String, any Module<Scalar>)]
    public init(_ members: [(String, any Module<Scalar>)]) { self.members = members }
    public var children: [(String, any Module<Scalar>)] { members }
}

/// Helpers shared by the families.
enum ModelSupport {
    /// Standard normal noise [n, d] where row i depends only on (seed, i, stream): sampling n rows in one call or
    /// in batches gives the same rows.
    static func normal<S: BLASScalar>(_ n: Int, _ d: Int, seed: UInt64, stream: UInt64 = 1, firstRow: Int = 0) -> Tensor<S> {
        SeededNoise(seed: seed).normal([n, d], step: 0, stream: NoiseStream(rawValue: 100 + stream), firstRow: firstRow)
    }

    /// Runs `body` over rows in chunks of `chunk` and concatenates the results along axis 0.
    static func chunked<S: BLASScalar>(_ n: Int, _ chunk: Int, _ body: (Range<Int>) throws -> Tensor<S>) throws -> Tensor<S> {
        var parts: [Tensor<S>] = []
        var i = 0
        while i < n {
            let j = Swift.min(n, i + chunk)
            parts.append(try body(i..<j))
            i = j
        }
        return parts.count == 1 ? parts[0] : try Tensor.concatenate(parts, axis: 0)
    }

    static func json<T: Encodable>(_ v: T) throws -> String { String(decoding: try JSONEncoder().encode(v), as: UTF8.self) }
    static func decode<T: Decodable>(_ t: T.Type, _ s: String) throws -> T { try JSONDecoder().decode(t, from: Data(s.utf8)) }

    /// Checks x is [n, d].
    static func checkRows<S>(_ x: Tensor<S>, _ d: Int, _ what: String) throws {
        guard x.rank == 2, x.shape[1] == d else { throw TensorError.invalidShape("\(what): expected [n, \(d)], got \(x.shape)") }
    }
}
