import Foundation
import Linear
import Neural

/// The configuration of RealNVP (Dinh et al. 2017) for vectors. Defaults: 8 affine couplings with alternating
/// (checkerboard) masks, coupling networks of two hidden layers of 256, tanh-bounded log-scales
/// s = scale ⊙ tanh(ŝ) (the paper's code), ActNorm (Kingma & Dhariwal 2018) before each coupling, Adam lr 1e-3
/// and the paper's L2 weight decay 5e-5.
public struct RealNVPConfiguration: Sendable, Equatable, Codable {
    /// Data dimension D (≥ 2).
    public var dimension: Int
    /// Number of affine coupling layers; layer k transforms the features i with (i + k) odd.
    public var couplings: Int = 8
    /// Width of the hidden layers of each coupling network.
    public var hidden: Int = 256
    /// Hidden layers of each coupling network.
    public var hiddenLayers: Int = 2
    /// Data-initialised ActNorm before each coupling.
    public var actNorm: Bool = true
    /// Adam learning rate.
    public var learningRate: Double = 1e-3
    /// L2 weight decay (added to the gradient, as in the paper).
    public var weightDecay: Double = 5e-5

    public init(dimension: Int, couplings: Int = 8, hidden: Int = 256, hiddenLayers: Int = 2, actNorm: Bool = true,
                learningRate: Double = 1e-3, weightDecay: Double = 5e-5) {
        self.dimension = dimension; self.couplings = couplings; self.hidden = hidden; self.hiddenLayers = hiddenLayers
        self.actNorm = actNorm; self.learningRate = learningRate; self.weightDecay = weightDecay
    }

    func validate() throws {
        try ConfigurationError.check("RealNVPConfiguration", ["dimension": dimension >= 2, "couplings": couplings >= 1, "hidden": hidden >= 1,
                                                            "hiddenLayers": hiddenLayers >= 1, "learningRate": learningRate > 0,
                                                            "weightDecay": weightDecay >= 0],
                                     reason: "RealNVP: invalid configuration \(self) (dimension must be ≥ 2)")
    }
}

/// An affine coupling layer with binary mask m (1 = passed through, conditions the transform):
///
///     (ŝ, t) = NN(m ⊙ x),  s = (1 − m) ⊙ scale ⊙ tanh(ŝ),  t ← (1 − m) ⊙ t
///     y = m ⊙ x + (1 − m) ⊙ (x ⊙ eˢ + t),   log |det ∂y/∂x| = Σ_i s_i
///     x = m ⊙ y + (1 − m) ⊙ (y − t) ⊙ e⁻ˢ     (s, t from m ⊙ y = m ⊙ x).
///
/// The network's last layer starts at zero, so each coupling starts as the identity.
public final class AffineCoupling<S: BLASScalar>: ModuleBase, Module {
    public let mask: Tensor<S>
    public let inverseMask: Tensor<S>
    public let net: FeedForward<S>
    /// The per-feature bound of |s| (starts at 1).
    public let scale: Variable<S>
    let dimension: Int

    init(dimension d: Int, parity: Int, hidden: Int, hiddenLayers: Int, using g: inout RandomGenerator) throws {
        dimension = d
        mask = Tensor<S>((0..<d).map { ($0 + parity) % 2 == 0 ? 1 : 0 })
        inverseMask = Tensor<S>((0..<d).map { ($0 + parity) % 2 == 0 ? 0 : 1 })
        net = try FeedForward(sizes: [d] + [Int](repeating: hidden, count: hiddenLayers) + [2 * d], activation: .relu, using: &g)
        net.layers.last!.weight.value = .zeros(net.layers.last!.weight.shape)
        if let b = net.layers.last!.bias { b.value = .zeros(b.shape) }
        scale = Variable(Tensor<S>.ones([d]), requiresGrad: true)
    }

    public var localParameters: [(String, Variable<S>)] { [("scale", scale)] }
    public var children: [(String, any Module<S>)] { [("net", net)] }

    func shiftAndLogScale(_ conditioner: Variable<S>) throws -> (s: Variable<S>, t: Variable<S>) {
        let h = try net(conditioner * mask)
        let s = try h.slice(0..<dimension, axis: 1).tanh() * scale * inverseMask
        let t = try h.slice(dimension..<(2 * dimension), axis: 1) * inverseMask
        return (s, t)
    }

    /// y and log |det| per row [n].
    public func forward(_ x: Variable<S>) throws -> (y: Variable<S>, logDet: Variable<S>) {
        let (s, t) = try shiftAndLogScale(x)
        let y = try x * s.exp() + t          // s = t = 0 on the masked features, so they pass through
        return (y, try s.sum(axis: 1))
    }

    /// x from y, and log |det ∂y/∂x| per row [n] (so the inverse's log-det is its negative).
    public func inverse(_ y: Variable<S>) throws -> (x: Variable<S>, logDet: Variable<S>) {
        let (s, t) = try shiftAndLogScale(y)
        let x = try (y - t) * (-s).exp()
        return (x, try s.sum(axis: 1))
    }
}

/// ActNorm (Kingma & Dhariwal 2018): y = (x + b) ⊙ e^{log s}, log |det| = Σ log s per row, with b and log s set
/// from the first batch seen in training so that its output has zero mean and unit variance per feature.
public final class ActNorm<S: BLASScalar>: ModuleBase, Module {
    public let bias: Variable<S>
    public let logScale: Variable<S>
    /// Whether the data-dependent initialisation has run (saved in model files).
    public var initialized = false

    init(dimension d: Int) {
        bias = Variable(Tensor<S>.zeros([d]), requiresGrad: true)
        logScale = Variable(Tensor<S>.zeros([d]), requiresGrad: true)
    }

    public var localParameters: [(String, Variable<S>)] { [("bias", bias), ("log_scale", logScale)] }

    func initialize(from x: Tensor<S>) throws {
        let mean = try x.mean(axis: 0), std = try x.std(axis: 0)
        bias.value = mean * S(-1)
        logScale.value = (std + S(1e-6)).log() * S(-1)
        initialized = true
    }

    public func forward(_ x: Variable<S>) throws -> (y: Variable<S>, logDet: Variable<S>) {
        if !initialized && isTraining { try initialize(from: x.value) }
        let y = try (x + bias) * logScale.exp()
        let ld = try logScale.sum() * Variable(Tensor<S>.ones([x.shape[0]]))
        return (y, ld)
    }

    public func inverse(_ y: Variable<S>) throws -> (x: Variable<S>, logDet: Variable<S>) {
        let x = try y * (-logScale).exp() - bias
        let ld = try logScale.sum() * Variable(Tensor<S>.ones([y.shape[0]]))
        return (x, ld)
    }
}

/// RealNVP (Dinh et al. 2017): an invertible f = f_L ∘ … ∘ f_1 from data x to latent z with a standard normal
/// base, so the log-likelihood is exact:
///
///     log p(x) = log N(f(x); 0, I) + Σ_l log |det ∂f_l/∂h_{l−1}|,   log N(z; 0, I) = −½‖z‖² − (D/2)·log 2π.
///
/// Training minimises the mean negative log-likelihood per dimension (nats). `forward` maps data → latent with
/// the log-det, `inverse` latent → data; sampling is inverse(z), z ~ N(0, I). Cost per row: L coupling
/// networks, in both directions.
public final class RealNVP<S: BLASScalar>: GenerativeModel {
    public typealias Scalar = S
    public let configuration: RealNVPConfiguration
    public let couplings: [AffineCoupling<S>]
    public let actNorms: [ActNorm<S>]
    public let networks: ModuleGroup<S>
    lazy var optimizer = Adam(parameters: networks.parameters, learningRate: configuration.learningRate)
    /// Its one optimiser, for model files and exact resume.
    public var optimizers: [(name: String, optimizer: Adam<S>)] { [("optimizer", optimizer)] }

    public var familyName: GenerativeFamilyName { .realNVP }

    public init(_ c: RealNVPConfiguration, seed: UInt64) throws {
        try c.validate()
        configuration = c
        var g = RandomGenerator(seed: seed)
        couplings = try (0..<c.couplings).map { try AffineCoupling(dimension: c.dimension, parity: $0 % 2, hidden: c.hidden,
                                                                    hiddenLayers: c.hiddenLayers, using: &g) }
        actNorms = c.actNorm ? (0..<c.couplings).map { _ in ActNorm(dimension: c.dimension) } : []
        var members: [(String, any Module<S>)] = []
        for k in 0..<c.couplings {
            if c.actNorm { members.append(("actnorm.\(k)", actNorms[k])) }
            members.append(("coupling.\(k)", couplings[k]))
        }
        networks = ModuleGroup(members)
    }


    public var buffers: [String: Tensor<S>] {
        ["actnorm_initialized": Tensor<S>([actNorms.allSatisfy(\.initialized) ? 1 : 0])]
    }

    public func loadBuffers(_ b: [String: Tensor<S>]) throws {
        let on = (b["actnorm_initialized"]?.scalars.first ?? 0) != 0
        for a in actNorms { a.initialized = on }
    }

    // MARK: Transforms

    /// z = f(x) and Σ log |det| per row (recorded; differentiable in x and the parameters).
    public func forward(_ x: Variable<S>) throws -> (z: Variable<S>, logDet: Variable<S>) {
        guard x.rank == 2, x.shape[1] == configuration.dimension else {
            throw TensorError.invalidShape("RealNVP: expected [n, \(configuration.dimension)], got \(x.shape)")
        }
        var h = x
        var total: Variable<S>? = nil
        for k in 0..<couplings.count {
            if configuration.actNorm {
                let (y, ld) = try actNorms[k].forward(h)
                h = y; total = try total.map { try $0 + ld } ?? ld
            }
            let (y, ld) = try couplings[k].forward(h)
            h = y; total = try total.map { try $0 + ld } ?? ld
        }
        return (h, total!)
    }

    /// x = f⁻¹(z) and Σ log |det ∂f/∂x| per row (the forward direction's log-det at that x).
    public func inverse(_ z: Variable<S>) throws -> (x: Variable<S>, logDet: Variable<S>) {
        guard z.rank == 2, z.shape[1] == configuration.dimension else {
            throw TensorError.invalidShape("RealNVP: expected [n, \(configuration.dimension)], got \(z.shape)")
        }
        var h = z
        var total: Variable<S>? = nil
        for k in (0..<couplings.count).reversed() {
            let (x, ld) = try couplings[k].inverse(h)
            h = x; total = try total.map { try $0 + ld } ?? ld
            if configuration.actNorm {
                let (x2, ld2) = try actNorms[k].inverse(h)
                h = x2; total = try total.map { try $0 + ld2 } ?? ld2
            }
        }
        return (h, total!)
    }

    /// Data → latent with log |det| per row (no tape).
    public func forward(_ x: Tensor<S>) throws -> (z: Tensor<S>, logDet: [Double]) {
        try noGrad { let (z, ld) = try forward(Variable(x)); return (z.value, ld.value.scalars.map(Double.init)) }
    }

    /// Latent → data (no tape).
    public func inverse(_ z: Tensor<S>) throws -> Tensor<S> { try noGrad { try inverse(Variable(z)).x.value } }

    /// log p(x) per row [n] (recorded).
    public func logProbability(_ x: Variable<S>) throws -> Variable<S> {
        let (z, ld) = try forward(x)
        let d = Double(configuration.dimension)
        return try z.square().sum(axis: 1) * S(-0.5) + ld - S(0.5 * d * log(2 * Double.pi))
    }

    /// log p(x) per row, in Double (no tape), in chunks of 1024 rows.
    public func logLikelihood(_ x: Tensor<S>) throws -> [Double] {
        let t: Tensor<S> = try ModelSupport.chunked(x.shape[0], 1024) { r in
            try noGrad { try logProbability(Variable(x.slice(r))).value }
        }
        return t.scalars.map(Double.init)
    }

    /// Mean negative log-likelihood in nats (per sample, not per dimension).
    public func negativeLogLikelihood(_ x: Tensor<S>) throws -> Double {
        let l = try logLikelihood(x)
        return -l.reduce(0, +) / Double(l.count)
    }

    public func trainStep(_ x: Tensor<S>, labels: [Int]?, step: Int, using g: inout RandomGenerator) throws -> StepStatistics {
        let lp = try logProbability(Variable(x))
        let loss = -lp.mean() * S(1 / Double(configuration.dimension))
        optimizer.zeroGrad()
        try loss.backward()
        if configuration.weightDecay > 0 {
            for p in optimizer.parameters { if var gr = p.grad { try gr.addScaled(p.value, S(configuration.weightDecay)); p.grad = gr } }
        }
        try optimizer.step()
        return [("nll_per_dim", Double(loss.scalar))]
    }

    /// z ~ N(0, I) mapped to data; row i depends only on (seed, i).
    public func sample(_ n: Int, seed: UInt64) throws -> Tensor<S> {
        guard n >= 1 else { throw ConfigurationError(field: "RealNVP.sample(_:)", reason: "RealNVP.sample: n must be ≥ 1, got \(n)") }
        return try inverse(ModelSupport.normal(n, configuration.dimension, seed: seed))
    }

    public func generate(_ n: Int, labels: [Int]?, seed: UInt64) throws -> Tensor<S> { try sample(n, seed: seed) }
}

/// Uniform dequantisation (Theis et al. 2016; Dinh et al. 2017) of integer-valued data with `levels` values
/// 0 … L − 1 onto the model interval [low, high]:
///
///     x = low + (k + u)·w,   u ~ U[0, 1)^D,   w = (high − low)/L,
///
/// so that a density p on x bounds the discrete likelihood: −log P(k) ≤ E_u[−log p(x)] − D·log w. NLL in bits per
/// dimension is that bound divided by D·ln 2.
public struct UniformDequantization: Sendable, Equatable, Codable {
    public var levels: Int
    public var low: Double
    public var high: Double

    public init(levels: Int, low: Double = -1, high: Double = 1) throws {
        try ConfigurationError.check("UniformDequantization", ["levels": levels >= 2, "high": high > low], reason: "dequantisation: need levels ≥ 2 and high > low")
        self.init(validLevels: levels, low: low, high: high)
    }

    /// Levels and a range the caller knows to be valid (the constant below), without the checks.
    init(validLevels levels: Int, low: Double, high: Double) {
        self.levels = levels; self.low = low; self.high = high
    }

    /// The UCI digits: 17 intensities 0 … 16 onto [−1, 1].
    public static let digits = UniformDequantization(validLevels: 17, low: -1, high: 1)

    /// Bin width w in model units.
    public var width: Double { (high - low) / Double(levels) }

    /// Dequantised samples in model units from integer levels k [n, D] (values rounded to the nearest level).
    public func apply<S: BLASScalar>(levels k: Tensor<S>, using g: inout RandomGenerator) throws -> Tensor<S> {
        let u = Tensor<S>.uniform(k.shape, using: &g)
        let kk = k.map { Swift.min(Swift.max($0.rounded(), 0), S(levels - 1)) }
        return try (kk + u) * S(width) + S(low)
    }

    /// The discrete NLL bound in nats per sample from a continuous NLL (nats per sample) in model units.
    public func discreteNLL(continuousNLL nll: Double, dimension: Int) -> Double { nll - Double(dimension) * log(width) }

    /// Bits per dimension from a continuous NLL (nats per sample) in model units.
    public func bitsPerDimension(continuousNLL nll: Double, dimension: Int) -> Double {
        discreteNLL(continuousNLL: nll, dimension: dimension) / (Double(dimension) * log(2))
    }
}

/// A full-covariance Gaussian density fitted by maximum likelihood (the likelihood baseline of the flows).
public struct FullCovarianceGaussian: Sendable {
    public let mean: Tensor<Double>
    public let covariance: Tensor<Double>
    let cholesky: Tensor<Double>
    let logDet: Double

    /// Fits mean and covariance (divided by n) of [n, D] data, adding `ridge`·I for stability.
    public init<S: BLASScalar>(fitting x: Tensor<S>, ridge: Double = 1e-6) throws {
        let xd: Tensor<Double> = x.cast()
        mean = try xd.mean(axis: 0)
        let xc = try xd - mean
        covariance = try xc.gram(alpha: 1 / Double(xd.shape[0])) + Tensor<Double>.eye(xd.shape[1]) * ridge
        cholesky = try covariance.cholesky()
        logDet = try covariance.logdet()
    }

    /// log N(x; μ, Σ) per row.
    public func logLikelihood<S: BLASScalar>(_ x: Tensor<S>) throws -> [Double] {
        let xc = try (x.cast(to: Double.self) - mean)
        let y = try choleskySolve(cholesky, xc.transposed())          // Σ⁻¹(x − μ)ᵀ, [D, n]
        let q = try (xc.transposed() * y).sum(axis: 0).scalars
        let d = Double(xc.shape[1])
        return q.map { -0.5 * ($0 + logDet + d * log(2 * Double.pi)) }
    }

    /// Mean negative log-likelihood in nats per sample.
    public func negativeLogLikelihood<S: BLASScalar>(_ x: Tensor<S>) throws -> Double {
        let l = try logLikelihood(x)
        return -l.reduce(0, +) / Double(l.count)
    }
}
