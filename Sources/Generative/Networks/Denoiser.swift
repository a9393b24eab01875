import Foundation
import Linear
import Neural

/// A network usable by every family: (x_t [n, D], time [n], optional class labels) → [n, D].
///
/// What the output means (ε, x₀, v, a velocity, a scaled score) is the family's business; what the time means
/// (a DDPM timestep 0…T−1, a continuous t ∈ [0, 1]) too: every family hands the network its *embedding time*,
/// a number of order 0…1000 (continuous families pass 1000·t), so one sinusoidal embedding suits all of them.
/// Any user `Module` that conforms can be plugged in.
public protocol Denoiser<Scalar>: Module {
    /// The data dimension D the network reads and writes.
    var dimension: Int { get }
    /// Number of classes the network is conditioned on (0: unconditional). Label `classCount` is the
    /// "no label" token used by classifier-free guidance.
    var classCount: Int { get }
    /// x [n, D], time [n] (one per row), labels (n entries in 0…classCount, or nil) → [n, D].
    func callAsFunction(_ x: Variable<Scalar>, time: Tensor<Scalar>, labels: [Int]?) throws -> Variable<Scalar>
}

extension Denoiser {
    /// Evaluation without a tape: x [n, D] and one time for all rows, or one per row.
    public func predict(_ x: Tensor<Scalar>, times: [Double], labels: [Int]? = nil) throws -> Tensor<Scalar> {
        let n = x.shape.first ?? 0
        guard times.count == n || times.count == 1 else {
            throw TensorError.invalidShape("denoiser: \(times.count) times for \(n) rows (give one per row, or one for all)")
        }
        let t = Tensor<Scalar>(unsafeUninitializedShape: [n]) { p, _ in
            for i in 0..<n { p[i] = Scalar(times[times.count == 1 ? 0 : i]) }
        }
        return try noGrad { try self(Variable(x), time: t, labels: labels).value }
    }

    /// Classifier-free guidance (Ho & Salimans 2022): (1 + w)·f(x, t, c) − w·f(x, t, ∅), the null label ∅ being
    /// `classCount`. Both branches run as one forward pass over 2n rows. With w = 0 or no labels it is `predict`.
    public func predict(_ x: Tensor<Scalar>, times: [Double], labels: [Int]?, guidance w: Double) throws -> Tensor<Scalar> {
        guard let l = labels, w != 0 else { return try predict(x, times: times, labels: labels) }
        let n = x.shape.first ?? 0
        let out = try predict(Tensor.concatenate([x, x], axis: 0), times: times.count == 1 ? times : times + times,
                              labels: l + [Int](repeating: classCount, count: n))
        return try rowwiseCombination([1 + w], out.slice(0..<n), [-w], out.slice(n..<(2 * n)), "classifier-free guidance")
    }

    /// Throws unless x is [n, D] with this network's D and labels (when given) fit.
    func checkInput(_ x: Variable<Scalar>, time: Tensor<Scalar>, labels: [Int]?) throws {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw TensorError.invalidShape("denoiser: expected x of shape [n, \(dimension)], got \(x.shape)")
        }
        guard time.rank == 1, time.count == x.shape[0] else {
            throw TensorError.invalidShape("denoiser: expected one time per row ([\(x.shape[0])]), got shape \(time.shape)")
        }
        if let l = labels {
            guard classCount > 0 else { throw ConfigurationError(field: "Denoiser.predict(labels:)", reason: "denoiser: labels given to an unconditional network") }
            guard l.count == x.shape[0] else { throw TensorError.invalidShape("denoiser: \(l.count) labels for \(x.shape[0]) rows") }
        }
    }
}

/// The configuration of `MLPDenoiser` (defaults: a small network that learns 2-D toys in seconds).
public struct MLPDenoiserConfiguration: Sendable, Equatable, Codable {
    /// Data dimension D.
    public var dimension: Int
    /// Width of the hidden layers.
    public var hidden: Int = 128
    /// Number of residual MLP blocks (0: a plain MLP with `hidden` width and two hidden layers).
    public var blocks: Int = 3
    /// Sinusoidal frequencies of the time embedding (DDPM/DiT convention, max period 10 000).
    public var timeFrequencies: Int = 64
    /// Classes to condition on (0: unconditional).
    public var classCount: Int = 0

    public init(dimension: Int, hidden: Int = 128, blocks: Int = 3, timeFrequencies: Int = 64, classCount: Int = 0) {
        self.dimension = dimension; self.hidden = hidden; self.blocks = blocks
        self.timeFrequencies = timeFrequencies; self.classCount = classCount
    }

    func validate() throws {
        try ConfigurationError.check("MLPDenoiserConfiguration", ["dimension": dimension >= 1, "hidden": hidden >= 1, "blocks": blocks >= 0,
                                                                "timeFrequencies": timeFrequencies >= 2, "classCount": classCount >= 0],
                                     reason: "MLPDenoiser: invalid configuration \(self)")
    }
}

/// A residual-MLP denoiser for vectors:
///
///     e = Dense(SiLU(Dense(sinusoidal(time)))) [+ Embedding(label)]       (time/label embedding, width H)
///     h = Dense_in(x) + e
///     h = h + W₂·SiLU(W₁·LayerNorm(h))   × blocks                         (ResidualMLPBlock)
///     out = Dense_out(SiLU(LayerNorm(h)))
///
/// With `blocks` = 0 the trunk is two SiLU Dense layers of width H instead. Cost per row: O(blocks·H²).
public final class MLPDenoiser<Scalar: BLASScalar>: ModuleBase, Denoiser {
    public let configuration: MLPDenoiserConfiguration
    public let timeEmbedding: TimestepEmbedding<Scalar>
    public let labelEmbedding: Embedding<Scalar>?
    public let input: Dense<Scalar>
    public let residual: [ResidualMLPBlock<Scalar>]
    public let plain: [Dense<Scalar>]
    public let outputNorm: LayerNorm<Scalar>
    public let output: Dense<Scalar>

    public var dimension: Int { configuration.dimension }
    public var classCount: Int { configuration.classCount }

    /// A network with weights drawn from `g`.
    public init(_ c: MLPDenoiserConfiguration, using g: inout RandomGenerator) throws {
        try c.validate()
        configuration = c
        timeEmbedding = TimestepEmbedding(dimension: c.hidden, frequencyDimension: c.timeFrequencies, using: &g)
        labelEmbedding = c.classCount > 0 ? Embedding(count: c.classCount + 1, dimension: c.hidden, using: &g) : nil
        input = Dense(c.dimension, c.hidden, using: &g)
        residual = (0..<c.blocks).map { _ in ResidualMLPBlock(dimension: c.hidden, hidden: 2 * c.hidden, activation: .silu, using: &g) }
        plain = c.blocks == 0 ? (0..<2).map { _ in Dense(c.hidden, c.hidden, using: &g) } : []
        outputNorm = LayerNorm(c.hidden)
        output = Dense(c.hidden, c.dimension, using: &g)
    }

    /// A network seeded by `seed`.
    public convenience init(_ c: MLPDenoiserConfiguration, seed: UInt64) throws {
        var g = RandomGenerator(seed: seed)
        try self.init(c, using: &g)
    }

    public var children: [(String, any Module<Scalar>)] {
        var out: [(String, any Module<Scalar>)] = [("time", timeEmbedding)]
        if let l = labelEmbedding { out.append(("label", l)) }
        out.append(("input", input))
        for (i, b) in residual.enumerated() { out.append(("blocks.\(i)", b)) }
        for (i, d) in plain.enumerated() { out.append(("plain.\(i)", d)) }
        out += [("outputNorm", outputNorm), ("output", output)]
        return out
    }

    public func callAsFunction(_ x: Variable<Scalar>, time: Tensor<Scalar>, labels: [Int]?) throws -> Variable<Scalar> {
        try checkInput(x, time: time, labels: labels)
        var e = try timeEmbedding(Variable(time))
        if let l = labels, let emb = labelEmbedding { e = try e + emb(l) }
        var h = try input(x) + e
        for b in residual { h = try b(h) }
        for d in plain { h = try d(h).silu() }
        return try output(outputNorm(h).silu())
    }
}
