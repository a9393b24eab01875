import Linear

/// Scaled dot-product attention of q [b·h, t, d], k [b·h, s, d], v [b·h, s, dv]:
/// softmax(q·kᵀ/√d + mask)·v, as two batched gemms. `mask` (1 = attend, 0 = blocked) has shape [t, s] or
/// [b, t, s] and is applied to every head; blocked scores get −10⁹ before the softmax.
public func scaledDotProductAttention<S>(query q: Variable<S>, key k: Variable<S>, value v: Variable<S>,
                                         heads: Int, mask: Tensor<S>? = nil) throws -> Variable<S> {
    guard q.rank == 3, k.rank == 3, v.rank == 3 else {
        throw TensorError.invalidShape("scaledDotProductAttention: expected 3-D query, key and value, got \(q.shape), \(k.shape), \(v.shape)")
    }
    let bh = q.shape[0], t = q.shape[1], s = k.shape[1], d = q.shape[2]
    var scores = try batchedMatmul(q, k, transposeB: true) * (1 / S(d).squareRoot())   // [b·h, t, s]
    if let mask {
        let b = bh / heads
        let additive = AutogradKernels.mulScalar(AutogradKernels.addScalar(mask, -1), 1e9)   // 0 where allowed, −1e9 where blocked
        let m: Tensor<S>
        switch mask.shape {
        case [t, s]: m = additive
        case [b, t, s]: m = try additive.reshaped([b, 1, t, s])
        default: throw TensorError.invalidShape("attention mask: expected [\(t), \(s)] or [\(b), \(t), \(s)], got \(mask.shape)")
        }
        scores = try (scores.reshaped([b, heads, t, s]) + m).reshaped([bh, t, s])
    }
    return try batchedMatmul(scores.softmax(axis: -1), v)
}

/// Multi-head attention (Vaswani et al. 2017) over x [b, t, dim]. Self-attention projects q, k, v with one
/// fused `qkv` layer [3·dim, dim] (q, k, v stacked in that order, heads contiguous inside each); with a
/// `contextDimension` it is cross-attention: `q` from x and a fused `kv` layer from the context [b, s, ctx].
/// The heads' outputs are concatenated and mapped by `proj`.
public final class MultiHeadAttention<Scalar: BLASScalar>: ModuleBase, Module {
    public let dimension: Int
    public let heads: Int
    public let qkv: Dense<Scalar>?
    public let q: Dense<Scalar>?
    public let kv: Dense<Scalar>?
    public let proj: Dense<Scalar>

    public init(dimension: Int, heads: Int, contextDimension: Int? = nil, bias: Bool = true, using g: inout RandomGenerator) {
        precondition(heads > 0 && dimension % heads == 0, "MultiHeadAttention: \(heads) heads do not divide dimension \(dimension)")
        self.dimension = dimension
        self.heads = heads
        if let c = contextDimension {
            qkv = nil
            q = Dense(dimension, dimension, bias: bias, initialization: .xavierUniform, using: &g)
            kv = Dense(c, 2 * dimension, bias: bias, initialization: .xavierUniform, using: &g)
        } else {
            qkv = Dense(dimension, 3 * dimension, bias: bias, initialization: .xavierUniform, using: &g)
            q = nil
            kv = nil
        }
        proj = Dense(dimension, dimension, bias: bias, initialization: .xavierUniform, using: &g)
    }

    /// [b, t, parts·dim] → `parts` variables [b·heads, t, dim/heads].
    func splitHeads(_ x: Variable<Scalar>, parts: Int) throws -> [Variable<Scalar>] {
        let b = x.shape[0], t = x.shape[1], dh = dimension / heads
        let y = try x.reshaped([b, t, parts, heads, dh]).permuted([2, 0, 3, 1, 4])   // [parts, b, h, t, dh]
        return try (0..<parts).map { try y.slice($0..<($0 + 1), axis: 0).reshaped([b * heads, t, dh]) }
    }

    /// Attention of x [b, t, dim] to itself, or to `context` [b, s, ctx] for cross-attention.
    /// `mask` ([t, s] or [b, t, s], 1 = attend) blocks positions, e.g. a causal mask.
    public func callAsFunction(_ x: Variable<Scalar>, context: Variable<Scalar>? = nil, mask: Tensor<Scalar>? = nil) throws -> Variable<Scalar> {
        guard x.rank == 3, x.shape[2] == dimension else {
            throw TensorError.invalidShape("MultiHeadAttention: expected x [b, t, \(dimension)], got \(x.shape)")
        }
        let b = x.shape[0], t = x.shape[1]
        let qh, kh, vh: Variable<Scalar>
        if let qkv {
            if context != nil { throw ConfigurationError(field: "MultiHeadAttention.contextDimension", reason: "MultiHeadAttention: a self-attention layer got a context; create it with contextDimension") }
            let parts = try splitHeads(qkv(x), parts: 3)
            (qh, kh, vh) = (parts[0], parts[1], parts[2])
        } else {
            guard let context, context.rank == 3, context.shape[0] == b else {
                throw TensorError.invalidShape("MultiHeadAttention: cross-attention needs a context [\(b), s, ctx]")
            }
            qh = try splitHeads(q!(x), parts: 1)[0]
            let parts = try splitHeads(kv!(context), parts: 2)
            (kh, vh) = (parts[0], parts[1])
        }
        let o = try scaledDotProductAttention(query: qh, key: kh, value: vh, heads: heads, mask: mask)   // [b·h, t, dh]
        let merged = try o.reshaped([b, heads, t, dimension / heads]).permuted([0, 2, 1, 3]).reshaped([b, t, dimension])
        return try proj(merged)
    }
}

/// A causal mask [t, t]: position i attends to positions ≤ i.
public func causalMask<S: BLASScalar>(_ t: Int, as _: S.Type = S.self) -> Tensor<S> {
    Tensor<S>(unsafeUninitializedShape: [t, t]) { p, _ in
        for i in 0..<t { for j in 0..<t { p[i * t + j] = j <= i ? 1 : 0 } }
    }
}
