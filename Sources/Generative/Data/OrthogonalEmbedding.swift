import Linear

/// A fixed, seeded isometric embedding of k-dimensional data into D dimensions (k ≤ D): a D×k matrix W with
/// orthonormal columns (WᵀW = I), so y = W·x + σ·ξ, ξ ~ N(0, I_D), keeps every distance of the k-D data and adds
/// small isotropic noise off (and on) the plane. `project` is the exact left inverse, x = Wᵀ·y.
///
/// W is the Q factor of the QR decomposition of a D×k standard normal matrix drawn from `seed`, with the signs
/// chosen so that R has a positive diagonal: Haar-distributed, and the same for the same (D, k, seed) on every run.
/// This is how a 2-D toy is put on a rung of the ladder (64 … 1024) with a known two-dimensional core.
public struct OrthogonalEmbedding: Sendable, Equatable {
    /// The default embedding seed: the same plane for every run that does not ask for another.
    public static let defaultSeed: UInt64 = 0x0E3B_ED01
    /// The default noise standard deviation of `lift` (per coordinate, in data units).
    public static let defaultNoise = 0.01

    /// Input dimension k.
    public let inputDimension: Int
    /// Output dimension D.
    public let dimension: Int
    /// The seed W was drawn from.
    public let seed: UInt64
    /// W, [D, k] with orthonormal columns.
    public let basis: Tensor<Double>

    /// The embedding of k = `inputDimension` (default 2) dimensions into D = `dimension`.
    /// - Throws: `ConfigurationError` (`OrthogonalEmbedding.inputDimension`) unless 1 ≤ k ≤ D.
    public init(dimension: Int, inputDimension: Int = 2, seed: UInt64 = OrthogonalEmbedding.defaultSeed) throws {
        guard inputDimension >= 1, dimension >= inputDimension else {
            throw ConfigurationError(field: "OrthogonalEmbedding.inputDimension", reason: "OrthogonalEmbedding: need 1 ≤ input dimension ≤ dimension, got \(inputDimension) → \(dimension)")
        }
        self.inputDimension = inputDimension
        self.dimension = dimension
        self.seed = seed
        let g = Tensor<Double>.normal([dimension, inputDimension], seed: seed)
        let (q, r) = try g.qr()
        // Fix the signs: multiply column j of Q by sign(R_jj), making the factorisation unique.
        let signs = (0..<inputDimension).map { r[$0, $0] < 0 ? -1.0 : 1.0 }
        basis = try q * Tensor(signs, shape: [1, inputDimension])
    }

    /// y = x·Wᵀ + σ·ξ for [n, k] data: the rows lifted into D dimensions, with N(0, σ²) noise per coordinate drawn
    /// from `generator` (no noise when σ = 0).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func lift<S: BLASScalar>(_ x: Tensor<S>, noise sigma: Double = OrthogonalEmbedding.defaultNoise, using g: inout RandomGenerator) throws -> Tensor<S> {
        guard x.rank == 2, x.shape[1] == inputDimension else {
            throw TensorError.invalidShape("OrthogonalEmbedding.lift: expected [n, \(inputDimension)] data, got shape \(x.shape)")
        }
        guard sigma >= 0, sigma.isFinite else { throw ConfigurationError(field: "OrthogonalEmbedding.lift(noise:)", reason: "OrthogonalEmbedding.lift: noise must be ≥ 0, got \(sigma)") }
        var y = try matmul(x, basis.cast(to: S.self), transposeB: true)
        if sigma > 0 { try y.addScaled(Tensor<S>.normal(y.shape, using: &g), S(sigma)) }
        return y
    }

    /// x = y·W for [n, D] data: the coordinates in the embedded k-plane (exact inverse of a noiseless lift).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func project<S: BLASScalar>(_ y: Tensor<S>) throws -> Tensor<S> {
        guard y.rank == 2, y.shape[1] == dimension else {
            throw TensorError.invalidShape("OrthogonalEmbedding.project: expected [n, \(dimension)] data, got shape \(y.shape)")
        }
        return try matmul(y, basis.cast(to: S.self))
    }
}
