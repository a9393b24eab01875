import Foundation
import Linear
import Neural

/// The adversarial objective.
public enum GANObjective: String, Sendable, Codable, CaseIterable {
    /// Goodfellow et al. (2014) with the non-saturating generator loss:
    /// L_D = −log σ(D(x)) − log(1 − σ(D(G(z)))) = softplus(−D(x)) + softplus(D(G(z))),
    /// L_G = −log σ(D(G(z))) = softplus(−D(G(z))).
    case nonSaturating = "non-saturating"
    /// WGAN-GP (Gulrajani et al. 2017): L_D = D(G(z)) − D(x) + λ·(‖∇_x̂ D(x̂)‖₂ − 1)², x̂ = εx + (1 − ε)G(z),
    /// ε ~ U[0, 1] per sample; L_G = −D(G(z)).
    case wasserstein = "wgan-gp"
}

/// The configuration of the GAN family (plain, WGAN-GP, conditional). `init(dimension:objective:)` fills in
/// each paper's defaults:
///
/// - non-saturating GAN: Adam lr 2e-4, β = (0.5, 0.999) (DCGAN, Radford et al. 2016), one D step per G step;
/// - WGAN-GP: λ = 10, n_critic = 5, Adam lr 1e-4, β = (0, 0.9) (Gulrajani et al. 2017, Algorithm 1).
///
/// Networks are MLPs without any normalisation layer (the WGAN-GP penalty is per sample; batch norm in the
/// critic would couple the samples): the generator uses ReLU, the discriminator/critic leaky ReLU 0.2. A
/// conditional GAN (Mirza & Osindero 2014) has `classCount` > 0: a learned class embedding is concatenated to the
/// generator's noise and to the discriminator's input.
public struct GANConfiguration: Sendable, Equatable, Codable {
    public var dimension: Int
    public var objective: GANObjective
    public var latentDimension: Int = 16
    public var hidden: Int = 256
    /// Hidden layers of each network (0 gives linear networks, as in the penalty test with a linear critic).
    public var hiddenLayers: Int = 3
    /// Classes of a conditional GAN (0: unconditional).
    public var classCount: Int = 0
    /// Width of the class embeddings.
    public var classEmbedding: Int = 16
    /// Gradient-penalty weight λ (WGAN-GP).
    public var penaltyWeight: Double
    /// Discriminator (critic) steps per generator step.
    public var criticSteps: Int
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    /// Slope of the discriminator's leaky ReLU.
    public var leakySlope: Double = 0.2
    /// Decay of an exponential moving average of the generator's weights, used for sampling (nil or 0: sample the
    /// raw generator, as the papers do). The average θ̄ ← d·θ̄ + (1 − d)·θ after each generator step, with
    /// d = min(decay, (1 + n)/(10 + n)) after n updates, smooths out the oscillation of simultaneous gradient play
    /// around its equilibrium (Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training";
    /// Karras et al. 2018).
    public var emaDecay: Double? = nil
    /// Steps K of a linear learning-rate decay to zero for both networks, lr_k = lr·(1 − k/K) at step k (nil or 0:
    /// a constant rate, as in the papers' algorithms). Gulrajani et al.'s WGAN-GP code decays the rate this way; it
    /// lets simultaneous gradient play, which does not converge at a constant rate (Mescheder et al. 2018), settle
    /// at the end of training instead of jittering around the equilibrium.
    public var decaySteps: Int? = nil
    /// Weight γ of the R1 penalty (γ/2)·E_x[‖∇_x D(x)‖²] on real data added to the non-saturating discriminator's
    /// loss (Mescheder, Geiger & Nowozin 2018, "Which Training Methods for GANs do actually Converge?"): it makes the
    /// equilibrium locally convergent (nil or 0: none).
    public var r1Weight: Double? = nil

    public init(dimension: Int, objective: GANObjective = .nonSaturating, latentDimension: Int = 16, hidden: Int = 256,
                hiddenLayers: Int = 3, classCount: Int = 0) {
        self.dimension = dimension; self.objective = objective; self.latentDimension = latentDimension
        self.hidden = hidden; self.hiddenLayers = hiddenLayers; self.classCount = classCount
        switch objective {
        case .nonSaturating:
            penaltyWeight = 0; criticSteps = 1; learningRate = 2e-4; beta1 = 0.5; beta2 = 0.999
        case .wasserstein:
            penaltyWeight = 10; criticSteps = 5; learningRate = 1e-4; beta1 = 0; beta2 = 0.9
        }
    }

    func validate() throws {
        try ConfigurationError.check("GANConfiguration", ["dimension": dimension >= 1, "latentDimension": latentDimension >= 1, "hidden": hidden >= 1,
                                                        "hiddenLayers": hiddenLayers >= 0, "classCount": classCount >= 0,
                                                        "classEmbedding": classEmbedding >= 1, "penaltyWeight": penaltyWeight >= 0,
                                                        "criticSteps": criticSteps >= 1, "learningRate": learningRate > 0,
                                                        "beta1": beta1 >= 0 && beta1 < 1, "beta2": beta2 >= 0 && beta2 < 1,
                                                        "emaDecay": (emaDecay ?? 0) >= 0 && (emaDecay ?? 0) < 1, "decaySteps": (decaySteps ?? 0) >= 0,
                                                        "r1Weight": (r1Weight ?? 0) >= 0 && (r1Weight ?? 0).isFinite],
                                     reason: "GAN: invalid configuration \(self)")
    }
}

/// A generator G: z ~ N(0, I) (⊕ class embedding) → x, and a discriminator / critic D: x (⊕ class embedding) → ℝ,
/// trained adversarially (`GANObjective`). Each `trainStep` runs `criticSteps` D updates on as many real batches
/// (the trainer hands it `criticSteps` batches stacked) and one G update.
public final class GAN<S: BLASScalar>: GenerativeModel {
    public typealias Scalar = S
    public let configuration: GANConfiguration
    public let generator: FeedForward<S>
    public let discriminator: FeedForward<S>
    public let generatorLabels: Embedding<S>?
    public let discriminatorLabels: Embedding<S>?
    public let networks: ModuleGroup<S>
    let generatorModules: ModuleGroup<S>
    let discriminatorModules: ModuleGroup<S>
    lazy var generatorOptimizer = Adam(parameters: generatorModules.parameters, learningRate: configuration.learningRate,
                                       beta1: configuration.beta1, beta2: configuration.beta2)
    lazy var discriminatorOptimizer = Adam(parameters: discriminatorModules.parameters, learningRate: configuration.learningRate,
                                           beta1: configuration.beta1, beta2: configuration.beta2)
    /// Its two optimisers, for model files and exact resume.
    public var optimizers: [(name: String, optimizer: Adam<S>)] { [("generator", generatorOptimizer), ("discriminator", discriminatorOptimizer)] }

    /// The moving average of the generator's weights (in `generatorModules.parameters` order) when
    /// `configuration.emaDecay` > 0, and its number of updates.
    public private(set) var generatorAverage: [Tensor<S>]?
    public private(set) var averageUpdates = 0

    public var buffers: [String: Tensor<S>] {
        guard let a = generatorAverage else { return [:] }
        return WeightAverage.buffers(a, updates: averageUpdates, names: generatorModules.namedParameters())
    }

    public func loadBuffers(_ b: [String: Tensor<S>]) throws {
        guard generatorAverage != nil else { return }
        let names = generatorModules.namedParameters()
        guard let stored = try WeightAverage.load(b, names: names, label: "GAN: the generator's average") else {
            throw ModelStateError(reason: "GAN: the generator's average '\(names.first?.0 ?? "")' is missing")
        }
        generatorAverage = stored.weights
        averageUpdates = stored.updates
    }

    /// θ̄ ← d·θ̄ + (1 − d)·θ with d = min(decay, (1 + n)/(10 + n)).
    func updateAverage() throws {
        guard var a = generatorAverage, let decay = configuration.emaDecay else { return }
        generatorAverage = nil
        try WeightAverage.update(&a, updates: &averageUpdates, from: generatorModules.parameters, decay: decay)
        generatorAverage = a
    }

    /// Runs `body` with the averaged generator weights swapped in (the raw ones when there is no average).
    func withAveragedGenerator<R>(_ body: () throws -> R) throws -> R {
        guard let a = generatorAverage else { return try body() }
        return try WeightAverage.withWeights(a, in: generatorModules.parameters, body)
    }

    public var familyName: GenerativeFamilyName {
        configuration.classCount > 0 ? .cgan : (configuration.objective == .wasserstein ? .wganGP : .gan)
    }
    public var batchesPerStep: Int { configuration.criticSteps }
    public var classCount: Int { configuration.classCount }

    public init(_ c: GANConfiguration, seed: UInt64) throws {
        try c.validate()
        configuration = c
        var g = RandomGenerator(seed: seed)
        let e = c.classCount > 0 ? c.classEmbedding : 0
        let hidden = [Int](repeating: c.hidden, count: c.hiddenLayers)
        generator = try FeedForward(sizes: [c.latentDimension + e] + hidden + [c.dimension], activation: .relu, using: &g)
        discriminator = try FeedForward(sizes: [c.dimension + e] + hidden + [1], activation: .leakyRelu(c.leakySlope), using: &g)
        generatorLabels = c.classCount > 0 ? Embedding(count: c.classCount, dimension: e, using: &g) : nil
        discriminatorLabels = c.classCount > 0 ? Embedding(count: c.classCount, dimension: e, using: &g) : nil
        var gm: [(String, any Module<S>)] = [("generator", generator)]
        var dm: [(String, any Module<S>)] = [("discriminator", discriminator)]
        if let l = generatorLabels { gm.append(("generator_labels", l)) }
        if let l = discriminatorLabels { dm.append(("discriminator_labels", l)) }
        generatorModules = ModuleGroup(gm)
        discriminatorModules = ModuleGroup(dm)
        networks = ModuleGroup(gm + dm)
        if let d = c.emaDecay, d > 0 { generatorAverage = generatorModules.parameters.map(\.value) }
    }


    func checkLabels(_ labels: [Int]?, _ n: Int) throws {
        if configuration.classCount > 0 {
            guard let l = labels, l.count == n else { throw TensorError.invalidShape("conditional GAN: give one label per row (\(n))") }
            for v in l where v < 0 || v >= configuration.classCount {
                throw ConfigurationError(field: "GAN.sample(labels:)", reason: "conditional GAN: label \(v) outside 0..<\(configuration.classCount)")
            }
        }
    }

    /// G(z, c) for z [n, latent] (recorded).
    public func generate(_ z: Variable<S>, labels: [Int]? = nil) throws -> Variable<S> {
        try checkLabels(labels, z.shape[0])
        if let emb = generatorLabels, let l = labels { return try generator(Variable.concatenate([z, emb(l)], axis: 1)) }
        return try generator(z)
    }

    /// D(x, c) [n, 1] (recorded; differentiable in x to any order).
    public func critic(_ x: Variable<S>, labels: [Int]? = nil) throws -> Variable<S> {
        try checkLabels(labels, x.shape[0])
        if let emb = discriminatorLabels, let l = labels { return try discriminator(Variable.concatenate([x, emb(l)], axis: 1)) }
        return try discriminator(x)
    }

    /// The WGAN-GP penalty mean_i (‖∇_x̂ Σ_j D(x̂_j)‖₂ − 1)² at x̂_i = ε_i·real_i + (1 − ε_i)·fake_i.
    ///
    /// The gradient of the *summed* critic output with respect to the batch is, row by row, each sample's own
    /// gradient (the critic treats rows independently); its norm is taken over each sample's flattened features
    /// and the squared deviations are averaged over the batch. The result is recorded with `createGraph`, so its
    /// gradient with respect to the critic's parameters is exact (second-order autodiff).
    public func gradientPenalty(real: Tensor<S>, fake: Tensor<S>, mix eps: [Double], labels: [Int]? = nil) throws -> Variable<S> {
        guard real.shape == fake.shape, real.rank >= 2, eps.count == real.shape[0] else {
            throw TensorError.invalidShape("gradient penalty: real \(real.shape), fake \(fake.shape), \(eps.count) mixing weights")
        }
        let n = real.shape[0]
        let flatReal = try real.reshaped([n, -1]), flatFake = try fake.reshaped([n, -1])
        let xhat = try rowwiseCombination(eps, flatReal, eps.map { 1 - $0 }, flatFake, "gradient penalty")
        let xv = Variable(try xhat.reshaped(real.shape), requiresGrad: true)
        let out = try critic(xv, labels: labels).sum()
        let gx = try gradient(of: out, wrt: xv, createGraph: true)
        let norms = try gx.reshaped([n, -1]).norm(axis: 1, epsilon: S(1e-12))
        return (norms - 1).square().mean()
    }

    /// The R1 penalty mean_i ‖∇_x D(x_i)‖² at the real rows (recorded with `createGraph`, so its gradient with respect
    /// to the discriminator's parameters is exact).
    public func realGradientPenalty(real: Tensor<S>, labels: [Int]? = nil) throws -> Variable<S> {
        let n = real.shape[0]
        let xv = Variable(real, requiresGrad: true)
        let out = try critic(xv, labels: labels).sum()
        let gx = try gradient(of: out, wrt: xv, createGraph: true)
        return try gx.reshaped([n, -1]).square().sum(axis: 1).mean()
    }

    /// The learning rate at step k: lr·(1 − k/K) with a decay over K steps, else lr.
    public func learningRate(atStep k: Int) -> Double {
        guard let total = configuration.decaySteps, total > 0 else { return configuration.learningRate }
        return configuration.learningRate * Swift.max(0, 1 - Double(k) / Double(total))
    }

    /// The discriminator's loss on a real batch and fake samples (the generator's output, detached).
    public func discriminatorLoss(real: Tensor<S>, fake: Tensor<S>, labels: [Int]?, mix eps: [Double]) throws -> (loss: Variable<S>, penalty: Double) {
        let dReal = try critic(Variable(real), labels: labels)
        let dFake = try critic(Variable(fake), labels: labels)
        switch configuration.objective {
        case .nonSaturating:
            let loss = try (-dReal).softplus().mean() + dFake.softplus().mean()
            guard let gamma = configuration.r1Weight, gamma > 0 else { return (loss, 0) }
            let r1 = try realGradientPenalty(real: real, labels: labels)
            return (try loss + r1 * S(gamma / 2), Double(r1.scalar))
        case .wasserstein:
            let gp = try gradientPenalty(real: real, fake: fake, mix: eps, labels: labels)
            return (try dFake.mean() - dReal.mean() + gp * S(configuration.penaltyWeight), Double(gp.scalar))
        }
    }

    /// The generator's loss on fake samples (recorded through G).
    public func generatorLoss(_ fake: Variable<S>, labels: [Int]?) throws -> Variable<S> {
        let d = try critic(fake, labels: labels)
        switch configuration.objective {
        case .nonSaturating: return (-d).softplus().mean()
        case .wasserstein: return -d.mean()
        }
    }

    public func trainStep(_ x: Tensor<S>, labels: [Int]?, step: Int, using g: inout RandomGenerator) throws -> StepStatistics {
        let k = configuration.criticSteps
        let b = Swift.max(1, x.shape[0] / k)
        let rate = learningRate(atStep: step)
        generatorOptimizer.learningRate = rate
        discriminatorOptimizer.learningRate = rate
        var dLoss = 0.0, penalty = 0.0
        for i in 0..<k {
            let lo = Swift.min(i * b, x.shape[0] - 1), hi = Swift.min(x.shape[0], lo + b)
            let real = try x.slice(lo..<hi)
            let l = labels.map { Array($0[lo..<hi]) }
            let n = hi - lo
            let z = Tensor<S>.normal([n, configuration.latentDimension], using: &g)
            let fake = try noGrad { try generate(Variable(z), labels: l).value }
            let eps = (0..<n).map { _ in g.nextUniform() }
            let (loss, gp) = try discriminatorLoss(real: real, fake: fake, labels: l, mix: eps)
            discriminatorOptimizer.zeroGrad()
            try loss.backward()
            try discriminatorOptimizer.step()
            dLoss += Double(loss.scalar) / Double(k); penalty += gp / Double(k)
        }
        let n = b
        let z = Tensor<S>.normal([n, configuration.latentDimension], using: &g)
        let gl = labels.map { l in (0..<n).map { _ in l[g.nextInt(below: l.count)] } }
        let gLoss = try generatorLoss(generate(Variable(z), labels: gl), labels: gl)
        generatorOptimizer.zeroGrad()
        try gLoss.backward()
        try generatorOptimizer.step()
        try updateAverage()
        discriminatorOptimizer.zeroGrad()
        var out: StepStatistics = [("d_loss", dLoss), ("g_loss", Double(gLoss.scalar))]
        if configuration.objective == .wasserstein || (configuration.r1Weight ?? 0) > 0 { out.append(("penalty", penalty)) }
        return out
    }

    /// `n` samples G(z) with z ~ N(0, I) (row i depends only on (seed, i)); labels for a conditional GAN. The
    /// averaged generator is used when there is one.
    public func sample(_ n: Int, labels: [Int]? = nil, seed: UInt64) throws -> Tensor<S> {
        guard n >= 1 else { throw ConfigurationError(field: "GAN.sample(_:)", reason: "GAN.sample: n must be ≥ 1, got \(n)") }
        let z: Tensor<S> = ModelSupport.normal(n, configuration.latentDimension, seed: seed)
        return try withAveragedGenerator { try noGrad { try generate(Variable(z), labels: labels).value } }
    }

    public func generate(_ n: Int, labels: [Int]?, seed: UInt64) throws -> Tensor<S> {
        if configuration.classCount > 0 && labels == nil {
            return try sample(n, labels: (0..<n).map { $0 % configuration.classCount }, seed: seed)
        }
        return try sample(n, labels: labels, seed: seed)
    }
}

/// Mode coverage of samples against known mode centres (the GAN literature's check for mode collapse, e.g.
/// Metz et al. 2017 on eight Gaussians): a sample is *high quality* when its nearest centre is within `radius`
/// (3σ of the modes); a mode is *covered* when at least `minimumFraction` of all samples are high-quality samples
/// nearest to it.
public struct ModeCoverage: Sendable {
    /// Samples per mode (high-quality ones only).
    public var counts: [Int]
    /// Modes covered.
    public var covered: Int
    /// Fraction of samples within `radius` of their nearest mode.
    public var highQualityFraction: Double

    public init<S: BLASScalar>(samples: Tensor<S>, centres: [[Double]], radius: Double, minimumFraction: Double = 0.02) throws {
        guard samples.rank == 2, let d = centres.first?.count, samples.shape[1] == d else {
            throw TensorError.invalidShape("ModeCoverage: samples \(samples.shape) vs centres of dimension \(centres.first?.count ?? 0)")
        }
        let n = samples.shape[0], x = samples.scalars
        var counts = [Int](repeating: 0, count: centres.count)
        var good = 0
        for i in 0..<n {
            var best = 0, bestD = Double.infinity
            for (k, c) in centres.enumerated() {
                var s = 0.0
                for j in 0..<d { let t = Double(x[i * d + j]) - c[j]; s += t * t }
                if s < bestD { bestD = s; best = k }
            }
            if bestD.squareRoot() <= radius { counts[best] += 1; good += 1 }
        }
        self.counts = counts
        covered = counts.filter { Double($0) >= minimumFraction * Double(n) }.count
        highQualityFraction = Double(good) / Double(Swift.max(1, n))
    }

    /// The centres of `Toy2D.eightGaussians`: 4·(cos kπ/4, sin kπ/4)/1.414.
    public static let eightGaussiansCentres: [[Double]] = (0..<8).map { k in
        [4 * cos(Double(k) * Double.pi / 4) / 1.414, 4 * sin(Double(k) * Double.pi / 4) / 1.414]
    }
    /// 3σ of the eight Gaussians (σ = 0.5/1.414).
    public static let eightGaussiansRadius = 3 * 0.5 / 1.414

    /// The nearest centre of each row (labels for a conditional model of a mixture).
    public static func nearest<S: BLASScalar>(_ samples: Tensor<S>, centres: [[Double]]) -> [Int] {
        let d = centres[0].count, x = samples.scalars
        return (0..<samples.shape[0]).map { i in
            var best = 0, bestD = Double.infinity
            for (k, c) in centres.enumerated() {
                var s = 0.0
                for j in 0..<d { let t = Double(x[i * d + j]) - c[j]; s += t * t }
                if s < bestD { bestD = s; best = k }
            }
            return best
        }
    }
}
