import Foundation
import Linear
import Neural

// What the Generative II families (VAE, VQ-VAE, GANs, RealNVP, latent diffusion) share: their names, a small
// feed-forward network with a leaky-ReLU option, a training-loop driver with progress on stderr, and helpers.

/// The families of issue #6 by their command-line names.
public enum GenerativeIIFamilyName: String, Sendable, CaseIterable, Codable {
    case vae
    case vqvae
    case gan
    case wganGP = "wgan-gp"
    case cgan
    case realNVP = "realnvp"
    case latentDiffusion = "latent-diffusion"

    /// Parses a family name (case-insensitive); nil for anything else (a diffusion/flow family, say).
    public init?(parsing name: String) {
        self.init(rawValue: name.lowercased())
    }

    /// Whether the family is a GAN variant.
    public var isGAN: Bool { self == .gan || self == .wganGP || self == .cgan }
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
public final class FeedForward<Scalar: BLASScalar>: Layer {
    public let layers: [Dense<Scalar>]
    public let activation: FeedForwardActivation
    public var isTraining = true

    /// - Parameter sizes: input, hidden…, output (at least two entries).
    public init(sizes: [Int], activation: FeedForwardActivation, using g: inout RandomGenerator) throws {
        guard sizes.count >= 2, sizes.allSatisfy({ $0 >= 1 }) else {
            throw TensorError.invalidArgument("FeedForward: sizes need an input and an output, all ≥ 1, got \(sizes)")
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
public final class ModuleGroup<Scalar: BLASScalar>: Module {
    public let members: [(String, any Module<Scalar>)]
    public var isTraining = true
    public init(_ members: [(String, any Module<Scalar>)]) { self.members = members }
    public var children: [(String, any Module<Scalar>)] { members }
}

/// A training step's named losses and statistics (e.g. `loss`, `kl`, `d_loss`, `penalty`).
public typealias StepStatistics = [(String, Double)]

/// What a Generative II family exposes to `GenerativeIITrainer` and to model files.
public protocol GenerativeIIModel<Scalar>: AnyObject {
    associatedtype Scalar: BLASScalar
    /// The command-line family name.
    var familyName: GenerativeIIFamilyName { get }
    /// Every network of the model, by name (the tensors of a model file are `<name>.<parameter path>`).
    var networks: ModuleGroup<Scalar> { get }
    /// The configuration as JSON (stored in the model file's metadata).
    func configurationJSON() throws -> String
    /// Non-parameter state that must be saved (EMA codebook statistics, ActNorm initialisation flags…).
    var buffers: [String: Tensor<Scalar>] { get }
    /// Restores the buffers written by `buffers`.
    func loadBuffers(_ b: [String: Tensor<Scalar>]) throws
    /// One optimisation step on a batch of data in model units (labels for conditional models), drawing its
    /// randomness from `g`; returns its statistics, the first being the headline loss.
    func trainStep(_ x: Tensor<Scalar>, labels: [Int]?, step: Int, using g: inout RandomGenerator) throws -> StepStatistics
    /// Real batches one `trainStep` consumes (a WGAN-GP critic takes n_critic of them; the trainer stacks them).
    var batchesPerStep: Int { get }
    /// `n` samples in model units (labels for conditional models), from noise seeded by `seed`.
    func generate(_ n: Int, labels: [Int]?, seed: UInt64) throws -> Tensor<Scalar>
    /// The model's optimisers by name: a model file holds their state (moments and step counts), so training can
    /// resume exactly where it stopped.
    var optimizers: [(name: String, optimizer: Adam<Scalar>)] { get }
}

extension GenerativeIIModel {
    public var batchesPerStep: Int { 1 }
    public var optimizers: [(name: String, optimizer: Adam<Scalar>)] { [] }
    public var buffers: [String: Tensor<Scalar>] { [:] }
    public func loadBuffers(_ b: [String: Tensor<Scalar>]) throws {}
}

/// The settings of `GenerativeIITrainer`.
public struct GenerativeIITrainingConfiguration: Sendable, Equatable {
    public var steps: Int = 2000
    public var batchSize: Int = 128
    public var seed: UInt64 = 0
    /// Print a progress line (step, losses, steps/s, ETA) to stderr every this many steps (0: never).
    public var logEvery: Int = 0
    public init(steps: Int = 2000, batchSize: Int = 128, seed: UInt64 = 0, logEvery: Int = 0) {
        self.steps = steps; self.batchSize = batchSize; self.seed = seed; self.logEvery = logEvery
    }
}

/// What a Generative II training run did: first and last 10 % means of each statistic, and the time taken.
public struct GenerativeIITrainingReport: Sendable {
    public var steps: Int
    public var seconds: Double
    public var initial: StepStatistics
    public var final: StepStatistics
    /// The final mean of a statistic by name.
    public func final(_ name: String) -> Double? { final.first { $0.0 == name }?.1 }
    public func initial(_ name: String) -> Double? { initial.first { $0.0 == name }?.1 }
}

/// The training loop of the Generative II families: the batch of step k (rows drawn with replacement) and every
/// random draw of that step come from a generator seeded by (seed, k), so runs are reproducible.
public enum GenerativeIITrainer {
    /// The generator of step k.
    public static func generator(seed: UInt64, step: Int) -> RandomGenerator {
        RandomGenerator(seed: SeededNoise.mix(SeededNoise.mix(seed ^ 0x6E4E_2_0000) ^ UInt64(step)))
    }

    /// Runs `configuration.steps` steps of `model.trainStep` from step `firstStep` on `data` [n, D]; `onStep`, when
    /// given, is called after every step with the number of steps done (it may save the model, or throw to stop).
    @discardableResult
    public static func train<M: GenerativeIIModel>(_ model: M, data: Tensor<M.Scalar>, labels: [Int]? = nil,
                                                   configuration c: GenerativeIITrainingConfiguration,
                                                   firstStep: Int = 0, onStep: ((Int) throws -> Void)? = nil) throws -> GenerativeIITrainingReport {
        guard data.rank == 2, data.shape[0] >= 1 else { throw TensorError.invalidShape("training: expected data [n, D], got \(data.shape)") }
        guard c.batchSize >= 1, c.steps >= 0 else { throw TensorError.invalidArgument("training: need steps ≥ 0 and batch size ≥ 1") }
        if let l = labels, l.count != data.shape[0] { throw TensorError.invalidArgument("training: \(l.count) labels for \(data.shape[0]) rows") }
        let n = data.shape[0]
        var history: [StepStatistics] = []
        let start = Date()
        model.networks.train()
        var step = firstStep
        while step < c.steps {
            var g = generator(seed: c.seed, step: step)
            let rows = (0..<(Swift.min(c.batchSize, n) * model.batchesPerStep)).map { _ in g.nextInt(below: n) }
            let x = try data.batch(rows)
            let stats = try model.trainStep(x, labels: labels.map { l in rows.map { l[$0] } }, step: step, using: &g)
            for (k, v) in stats where !v.isFinite {
                throw TensorError.invalidArgument("training diverged: \(k) = \(v) at step \(step)")
            }
            history.append(stats)
            step += 1
            try onStep?(step)
            if c.logEvery > 0 && (step % c.logEvery == 0 || step == c.steps) {
                let elapsed = Date().timeIntervalSince(start), done = step - firstStep
                let rate = Double(done) / Swift.max(elapsed, 1e-9)
                let eta = Double(c.steps - step) / Swift.max(rate, 1e-9)
                let parts = stats.map { String(format: "%@ %.4f", $0.0, $0.1) }.joined(separator: "  ")
                FileHandle.standardError.write(Data(String(format: "step %d/%d  %@  %.1f steps/s  ETA %.0f s\n", step, c.steps, parts, rate, eta).utf8))
            }
        }
        model.networks.eval()
        // The VQ-VAE's prior is fitted to the trained model's codes of the training rows (van den Oord et al. 2017
        // fit theirs after training the autoencoder).
        if let vq = model as? VQVAE<M.Scalar> { try vq.fitPrior(data) }
        func mean(_ part: ArraySlice<StepStatistics>) -> StepStatistics {
            guard let first = part.first else { return [] }
            return first.indices.map { i in (first[i].0, part.map { $0[i].1 }.reduce(0, +) / Double(part.count)) }
        }
        let k = Swift.max(1, history.count / 10)
        return GenerativeIITrainingReport(steps: history.count, seconds: Date().timeIntervalSince(start),
                                          initial: mean(history.prefix(k)), final: mean(history.suffix(k)))
    }
}

/// Helpers shared by the families.
enum GenII {
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
