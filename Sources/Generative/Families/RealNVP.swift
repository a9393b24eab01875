import Foundation
import Linear
import Neural

/// The configuration of RealNVP (Dinh et al. 2017) for vectors. Defaults: 8 affine couplings with alternating
/// (checkerboard) masks, coupling networks of two hidden layers of 256, tanh-bounded log-scales
/// s = scale ⊙ tanh(ŝ) (the paper's code), ActNorm (Kingma & Dhariwal 2018) before each coupling, Adam lr 1e-3
/// and the paper's L2 weight decay 5e-5. Optional: a first fixed rotation onto the training data's principal axes,
/// and couplings restricted to the leading principal features.
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
    /// Rotate the data onto its principal axes before the first layer (`RealNVP.principalAxes`; off by default:
    /// on 2-D toys lifted to 1024-D it moved precision from 0.438 to 0.483 on the spiral but from 0.686 to 0.665 on
    /// moons, both still below the Gaussian baseline). nil (model files written before the option) means no rotation.
    public var principalAxes: Bool?
    /// How many leading principal features the couplings transform and condition on (needs `principalAxes`): nil
    /// all D; 0 fitted to the training data as its effective rank (eigenvalues ≥ 1 % of the largest, at least 2);
    /// k ≥ 1 the first min(k, D). The other features are factored out after the first ActNorm, as RealNVP's
    /// multi-scale architecture factors out half of them at each scale (Dinh et al. 2017, §3.6): only the ActNorms
    /// act on them, so they are modelled as independent Gaussians of fitted scale.
    public var coupledFeatures: Int?
    /// Adam learning rate.
    public var learningRate: Double = 1e-3
    /// L2 weight decay (added to the gradient, as in the paper).
    public var weightDecay: Double = 5e-5

    public init(dimension: Int, couplings: Int = 8, hidden: Int = 256, hiddenLayers: Int = 2, actNorm: Bool = true,
                principalAxes: Bool = false, coupledFeatures: Int? = nil, learningRate: Double = 1e-3, weightDecay: Double = 5e-5) {
        self.dimension = dimension; self.couplings = couplings; self.hidden = hidden; self.hiddenLayers = hiddenLayers
        self.actNorm = actNorm; self.principalAxes = principalAxes; self.coupledFeatures = coupledFeatures
        self.learningRate = learningRate; self.weightDecay = weightDecay
    }

    func validate() throws {
        try ConfigurationError.check("RealNVPConfiguration", ["dimension": dimension >= 2, "couplings": couplings >= 1, "hidden": hidden >= 1,
                                                            "hiddenLayers": hiddenLayers >= 1, "learningRate": learningRate > 0,
                                                            "weightDecay": weightDecay >= 0, "coupledFeatures": (coupledFeatures ?? 0) >= 0],
                                     reason: "RealNVP: invalid configuration \(self) (dimension must be ≥ 2)")
        if coupledFeatures != nil && principalAxes != true {
            throw ConfigurationError(field: "RealNVPConfiguration.coupledFeatures", reason: "RealNVP: coupled features are leading principal features; they need principalAxes")
        }
    }
}

/// An affine coupling layer with binary mask m (1 = passed through, conditions the transform):
///
///     (ŝ, t) = NN(m ⊙ x),  s = (1 − m) ⊙ scale ⊙ tanh(ŝ),  t ← (1 − m) ⊙ t
///     y = m ⊙ x + (1 − m) ⊙ (x ⊙ eˢ + t),   log |det ∂y/∂x| = Σ_i s_i
///     x = m ⊙ y + (1 − m) ⊙ (y − t) ⊙ e⁻ˢ     (s, t from m ⊙ y = m ⊙ x).
///
/// The network's last layer starts at zero, so each coupling starts as the identity. Restricted to the first K
/// features (`restrict(toFirst:)`), features ≥ K pass through and are not seen by the network either.
public final class AffineCoupling<S: BLASScalar>: ModuleBase, Module {
    public private(set) var mask: Tensor<S>
    public private(set) var inverseMask: Tensor<S>
    /// The features the network sees: `mask` below K, 0 from K on.
    public private(set) var conditionerMask: Tensor<S>
    let parity: Int
    public let net: FeedForward<S>
    /// The per-feature bound of |s| (starts at 1).
    public let scale: Variable<S>
    let dimension: Int

    init(dimension d: Int, parity: Int, hidden: Int, hiddenLayers: Int, using g: inout RandomGenerator) throws {
        dimension = d
        self.parity = parity
        (mask, inverseMask, conditionerMask) = Self.masks(dimension: d, parity: parity, first: d)
        net = try FeedForward(sizes: [d] + [Int](repeating: hidden, count: hiddenLayers) + [2 * d], activation: .relu, using: &g)
        net.layers.last!.weight.value = .zeros(net.layers.last!.weight.shape)
        if let b = net.layers.last!.bias { b.value = .zeros(b.shape) }
        scale = Variable(Tensor<S>.ones([d]), requiresGrad: true)
    }

    public var localParameters: [(String, Variable<S>)] { [("scale", scale)] }
    public var children: [(String, any Module<S>)] { [("net", net)] }

    /// Transforms, and conditions on, only the features 0 ..< k (k ≥ D: all, the default).
    func restrict(toFirst k: Int) {
        (mask, inverseMask, conditionerMask) = Self.masks(dimension: dimension, parity: parity, first: k)
    }

    /// The pass-through mask (features ≥ k, and those of the layer's parity), its complement, and the features
    /// the network sees (the pass-through ones below k).
    static func masks(dimension d: Int, parity: Int, first k: Int) -> (Tensor<S>, Tensor<S>, Tensor<S>) {
        let passed = (0..<d).map { i -> S in i >= k || (i + parity) % 2 == 0 ? 1 : 0 }
        return (Tensor<S>(passed), Tensor<S>(passed.map { 1 - $0 }), Tensor<S>((0..<d).map { i -> S in i < k ? passed[i] : 0 }))
    }

    func shiftAndLogScale(_ conditioner: Variable<S>) throws -> (s: Variable<S>, t: Variable<S>) {
        let h = try net(conditioner * conditionerMask)
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
///
/// With `configuration.principalAxes` the first layer is the fixed rotation h = (x − μ)·V onto the principal axes
/// of the training data (V the eigenvectors of its covariance, largest variance first), fitted once by
/// `startTraining(data:)`. V is orthogonal, so the layer adds log |det V| = 0 to the likelihood: it is Glow's
/// invertible linear mixing (Kingma & Dhariwal 2018, §3.2) with W = Vᵀ fixed instead of learned. Data on a
/// k-dimensional plane inside D dimensions then reach the couplings with the plane in features 0…k−1 (alternately
/// masked) and the off-plane noise in the others, axis-aligned, where the first ActNorm sets each one's scale: the
/// couplings no longer have to learn a rotation of D dimensions to shrink the D − k directions of noise.
public final class RealNVP<S: BLASScalar>: GenerativeModel {
    public typealias Scalar = S
    public let configuration: RealNVPConfiguration
    public let couplings: [AffineCoupling<S>]
    public let actNorms: [ActNorm<S>]
    public let networks: ModuleGroup<S>
    /// μ [D] and V [D, D] of the principal-axes rotation (nil until fitted, or when the configuration has none).
    public private(set) var principalMean: Tensor<S>?
    public private(set) var principalAxes: Tensor<S>?
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
        coupledFeatures = c.dimension
        if let k = c.coupledFeatures, k > 0 { restrictCouplings(toFirst: k) }
    }


    public var buffers: [String: Tensor<S>] {
        var b = ["actnorm_initialized": Tensor<S>([actNorms.allSatisfy(\.initialized) ? 1 : 0])]
        if let m = principalMean, let v = principalAxes { b["principal_mean"] = m; b["principal_axes"] = v }
        if coupledFeatures < configuration.dimension { b["coupled_features"] = Tensor<S>([S(coupledFeatures)]) }
        return b
    }

    public func loadBuffers(_ b: [String: Tensor<S>]) throws {
        let on = (b["actnorm_initialized"]?.scalars.first ?? 0) != 0
        for a in actNorms { a.initialized = on }
        if let m = b["principal_mean"], let v = b["principal_axes"] {
            let d = configuration.dimension
            guard m.shape == [d], v.shape == [d, d] else {
                throw TensorError.invalidShape("RealNVP: principal axes of shapes \(m.shape) and \(v.shape) for dimension \(d)")
            }
            principalMean = m; principalAxes = v
        }
        if let k = b["coupled_features"]?.scalars.first {
            guard k >= 1, k <= S(configuration.dimension) else { throw TensorError.invalidShape("RealNVP: \(k) coupled features for dimension \(configuration.dimension)") }
            restrictCouplings(toFirst: Int(k))
        }
    }

    /// The features the couplings transform: the first `coupledFeatures` (D unless restricted).
    public private(set) var coupledFeatures: Int

    func restrictCouplings(toFirst k: Int) {
        coupledFeatures = Swift.min(k, configuration.dimension)
        for c in couplings { c.restrict(toFirst: coupledFeatures) }
    }

    /// Fits the principal-axes rotation to the training data [n, D] (once: a model that has one keeps it, so a
    /// resumed run goes on with the same rotation). The covariance (1/n)·(X − μ)ᵀ(X − μ) is one gemm and its
    /// eigendecomposition one `syevd`, both in Double; the columns of V are sorted by decreasing eigenvalue and
    /// sign-fixed (`orientingColumnSigns`), so the same data give the same V. A fitted `coupledFeatures` (0) is
    /// chosen here from the same eigenvalues.
    public func startTraining(data: Tensor<S>) throws {
        guard configuration.principalAxes == true, principalAxes == nil else { return }
        let d = configuration.dimension
        guard data.rank == 2, data.shape[1] == d, data.shape[0] >= 1 else {
            throw TensorError.invalidShape("RealNVP: expected training data [n, \(d)], got \(data.shape)")
        }
        let x = data.cast(to: Double.self)
        let mu = try x.mean(axis: 0)
        let centred = try x - mu
        let covariance = try matmul(centred, centred, transposeA: true) * (1 / Double(data.shape[0]))
        let e = try covariance.eigh()
        let v = try e.vectors.transposed().gather(rows: Array((0..<d).reversed())).transposed().orientingColumnSigns()
        principalMean = mu.cast(); principalAxes = v.cast()
        // An explicit K was applied at construction; 0 is fitted here.
        if configuration.coupledFeatures == 0 {
            restrictCouplings(toFirst: Swift.max(2, CovarianceSpectrum(eigenvalues: e.values.scalars).effectiveRank()))
        }
    }

    // MARK: Transforms

    /// z = f(x) and Σ log |det| per row (recorded; differentiable in x and the parameters).
    public func forward(_ x: Variable<S>) throws -> (z: Variable<S>, logDet: Variable<S>) {
        guard x.rank == 2, x.shape[1] == configuration.dimension else {
            throw TensorError.invalidShape("RealNVP: expected [n, \(configuration.dimension)], got \(x.shape)")
        }
        var h = x
        if let m = principalMean, let v = principalAxes { h = try matmul(h - Variable(m), Variable(v)) }
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
        if let m = principalMean, let v = principalAxes { h = try matmul(h, Variable(v), transposeB: true) + Variable(m) }
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
