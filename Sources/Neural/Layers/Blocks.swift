import Linear

/// A pre-norm residual MLP block: x + W₂·act(W₁·LayerNorm(x)) (the activation fused into the first layer).
public final class ResidualMLPBlock<Scalar: BLASScalar>: ModuleBase, Layer {
    public let norm: LayerNorm<Scalar>
    public let linear1: Dense<Scalar>
    public let linear2: Dense<Scalar>
    public let activation: ActivationFunction

    public init(dimension: Int, hidden: Int, activation: ActivationFunction = .silu, using g: inout RandomGenerator) {
        norm = LayerNorm(dimension)
        linear1 = Dense(dimension, hidden, using: &g)
        linear2 = Dense(hidden, dimension, using: &g)
        self.activation = activation
    }
    public func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar> {
        try x + linear2(linear1(norm(x), activation: activation))
    }
}

/// AdaLN-Zero modulation (Peebles & Xie 2023, DiT): a conditioning vector c [b, cond] is mapped by
/// SiLU → Dense to `chunks` vectors of `dimension` (shift, scale, gate, …). The Dense layer is zero-initialised,
/// so every gate starts at 0 and a block using it starts as the identity.
public final class AdaLNZero<Scalar: BLASScalar>: ModuleBase, Module {
    public let dimension: Int
    public let chunks: Int
    public let linear: Dense<Scalar>

    public init(conditionDimension: Int, dimension: Int, chunks: Int = 6, using g: inout RandomGenerator) {
        self.dimension = dimension
        self.chunks = chunks
        linear = Dense(conditionDimension, chunks * dimension, initialization: .zeros, using: &g)
    }

    /// c [b, cond] → `chunks` variables [b, dimension].
    public func callAsFunction(_ c: Variable<Scalar>) throws -> [Variable<Scalar>] {
        try linear(c.silu()).chunked(chunks, axis: -1)
    }

    /// x·(1 + scale) + shift, with shift and scale [b, d] broadcast over the token axis of x [b, t, d] (or
    /// applied row-wise to x [b, d]).
    public static func modulate(_ x: Variable<Scalar>, shift: Variable<Scalar>, scale: Variable<Scalar>) throws -> Variable<Scalar> {
        let (sh, sc) = x.rank == 3 ? (try shift.unsqueezed(axis: 1), try scale.unsqueezed(axis: 1)) : (shift, scale)
        return try x * (sc + 1) + sh
    }

    /// gate·y with gate [b, d] broadcast over the token axis when y is [b, t, d].
    public static func gated(_ y: Variable<Scalar>, gate: Variable<Scalar>) throws -> Variable<Scalar> {
        try y * (y.rank == 3 ? gate.unsqueezed(axis: 1) : gate)
    }
}

/// A DiT block with AdaLN-Zero conditioning over tokens x [b, t, d] and a condition c [b, cond]:
/// x += gate₁·Attn(modulate(LN(x), shift₁, scale₁)); x += gate₂·MLP(modulate(LN(x), shift₂, scale₂)).
/// Zero-initialised modulation makes the block the identity at initialisation.
public final class DiTBlock<Scalar: BLASScalar>: ModuleBase, Module {
    public let norm1: LayerNorm<Scalar>
    public let attn: MultiHeadAttention<Scalar>
    public let norm2: LayerNorm<Scalar>
    public let mlp: MLP<Scalar>
    public let adaLN: AdaLNZero<Scalar>

    public init(dimension: Int, heads: Int, conditionDimension: Int, mlpRatio: Int = 4, using g: inout RandomGenerator) {
        norm1 = LayerNorm(dimension, epsilon: 1e-6, affine: false)
        attn = MultiHeadAttention(dimension: dimension, heads: heads, using: &g)
        norm2 = LayerNorm(dimension, epsilon: 1e-6, affine: false)
        mlp = MLP(sizes: [dimension, mlpRatio * dimension, dimension], activation: .gelu, using: &g)
        adaLN = AdaLNZero(conditionDimension: conditionDimension, dimension: dimension, chunks: 6, using: &g)
    }

    public func callAsFunction(_ x: Variable<Scalar>, condition c: Variable<Scalar>, mask: Tensor<Scalar>? = nil) throws -> Variable<Scalar> {
        let m = try adaLN(c)
        typealias A = AdaLNZero<Scalar>
        let h = try x + A.gated(attn(A.modulate(norm1(x), shift: m[0], scale: m[1]), mask: mask), gate: m[2])
        return try h + A.gated(mlp(A.modulate(norm2(h), shift: m[3], scale: m[4])), gate: m[5])
    }
}
