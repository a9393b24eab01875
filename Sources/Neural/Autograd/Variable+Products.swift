import Linear

// Matrix products. Every product, forward or backward, is one gemm with transpose flags: no transpose is
// ever materialised. For C = op(A)·op(B) with upstream gradient G:
//   A·B:   ∂A = G·Bᵀ,   ∂B = Aᵀ·G          A·Bᵀ:  ∂A = G·B,     ∂B = Gᵀ·A
//   Aᵀ·B:  ∂A = B·Gᵀ,   ∂B = A·G           Aᵀ·Bᵀ: ∂A = Bᵀ·Gᵀ,   ∂B = Gᵀ·Aᵀ

/// op(a)·op(b) for matrices (2-D), or per batch entry for 3-D operands of equal batch, as one gemm per matrix.
public func matmul<Scalar>(_ a: Variable<Scalar>, _ b: Variable<Scalar>, transposeA: Bool = false,
                           transposeB: Bool = false) throws -> Variable<Scalar> {
    if a.rank == 3 || b.rank == 3 { return try batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB) }
    let out = try Kernels.matmul(a.value, b.value, transposeA, transposeB)
    return Variable.make("matmul", out, [a, b]) { g in
        let da: Variable<Scalar>? = !a.needsGradient ? nil : try {
            switch (transposeA, transposeB) {
            case (false, false): return try matmul(g, b, transposeB: true)
            case (false, true): return try matmul(g, b)
            case (true, false): return try matmul(b, g, transposeB: true)
            case (true, true): return try matmul(b, g, transposeA: true, transposeB: true)
            }
        }()
        let db: Variable<Scalar>? = !b.needsGradient ? nil : try {
            switch (transposeA, transposeB) {
            case (false, false): return try matmul(a, g, transposeA: true)
            case (false, true): return try matmul(g, a, transposeA: true)
            case (true, false): return try matmul(a, g)
            case (true, true): return try matmul(g, a, transposeA: true, transposeB: true)
            }
        }()
        return [da, db]
    }
}

/// Batched products [batch, m, k]·[batch, k, n] → [batch, m, n] with per-operand transpose flags (attention's
/// Q·Kᵀ and P·V). Both operands must be 3-D with the same batch.
public func batchedMatmul<Scalar>(_ a: Variable<Scalar>, _ b: Variable<Scalar>, transposeA: Bool = false,
                                  transposeB: Bool = false) throws -> Variable<Scalar> {
    guard a.rank == 3, b.rank == 3, a.shape[0] == b.shape[0] else {
        throw TensorError.shapeMismatch(operation: "batchedMatmul (expects 3-D operands with equal batch)", lhs: a.shape, rhs: b.shape)
    }
    let out = try Kernels.batchedMatmul(a.value, b.value, transposeA, transposeB)
    return Variable.make("batchedMatmul", out, [a, b]) { g in
        let da: Variable<Scalar>? = !a.needsGradient ? nil : try {
            switch (transposeA, transposeB) {
            case (false, false): return try batchedMatmul(g, b, transposeB: true)
            case (false, true): return try batchedMatmul(g, b)
            case (true, false): return try batchedMatmul(b, g, transposeB: true)
            case (true, true): return try batchedMatmul(b, g, transposeA: true, transposeB: true)
            }
        }()
        let db: Variable<Scalar>? = !b.needsGradient ? nil : try {
            switch (transposeA, transposeB) {
            case (false, false): return try batchedMatmul(a, g, transposeA: true)
            case (false, true): return try batchedMatmul(g, a, transposeA: true)
            case (true, false): return try batchedMatmul(a, g)
            case (true, true): return try batchedMatmul(g, a, transposeA: true, transposeB: true)
            }
        }()
        return [da, db]
    }
}

/// The affine map y = x·Wᵀ + b of a dense layer, with W stored [out, in] as in PyTorch. The bias is fused
/// into the gemm (the output starts as the broadcast bias, β = 1). x may have any rank ≥ 1; its last axis is
/// the input features and the others are batch axes.
///
/// Backward: ∂x = G·W, ∂W = Gᵀ·x, ∂b = Σ_rows G: two gemms and one column sum.
public func linear<Scalar>(_ x: Variable<Scalar>, weight: Variable<Scalar>, bias: Variable<Scalar>?) throws -> Variable<Scalar> {
    guard weight.rank == 2, x.rank >= 1, x.shape[x.rank - 1] == weight.shape[1] else {
        throw TensorError.shapeMismatch(operation: "linear (x [..., in] with weight [out, in])", lhs: x.shape, rhs: weight.shape)
    }
    if x.rank != 2 {
        let lead = Array(x.shape.dropLast())
        let y = try linear(x.reshaped([-1, weight.shape[1]]), weight: weight, bias: bias)
        return try y.reshaped(lead + [weight.shape[0]])
    }
    let out = try Kernels.linear(x.value, weight.value, bias?.value)
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return Variable.make("linear", out, inputs) { g in
        var grads: [Variable<Scalar>?] = [
            x.needsGradient ? try matmul(g, weight) : nil,
            weight.needsGradient ? try matmul(g, x, transposeA: true) : nil,
        ]
        if let bias { grads.append(bias.needsGradient ? try g.sum(axis: 0) : nil) }
        return grads
    }
}
