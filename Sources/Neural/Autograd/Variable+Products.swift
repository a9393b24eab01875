import Linear

// Matrix products. Every product, forward or backward, is one gemm with transpose flags: no transpose is
// ever materialised. For C = op(A)·op(B) with upstream gradient G:
//   A·B:   ∂A = G·Bᵀ,   ∂B = Aᵀ·G          A·Bᵀ:  ∂A = G·B,     ∂B = Gᵀ·A
//   Aᵀ·B:  ∂A = B·Gᵀ,   ∂B = A·G           Aᵀ·Bᵀ: ∂A = Bᵀ·Gᵀ,   ∂B = Gᵀ·Aᵀ

/// op(a)·op(b) for matrices (2-D), or per batch entry for 3-D operands of equal batch, as one gemm per matrix.
public func matmul<Scalar>(_ a: Variable<Scalar>, _ b: Variable<Scalar>, transposeA: Bool = false,
                           transposeB: Bool = false) throws -> Variable<Scalar> {
    if a.rank == 3 || b.rank == 3 { return try batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB) }
    let out = try AutogradKernels.matmul(a.value, b.value, transposeA, transposeB)
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
    let out = try AutogradKernels.batchedMatmul(a.value, b.value, transposeA, transposeB)
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
    let out = try AutogradKernels.linear(x.value, weight.value, bias?.value)
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

/// A dense layer with its activation fused in: y = f(x·Wᵀ + b), W [out, in] (PyTorch `f(F.linear(x, W, b))`).
///
/// For SiLU, GELU (tanh form) and ReLU the activation runs inside the layer's kernels: forward, one gemm into
/// z = x·Wᵀ + b (started from the broadcast bias) and one pass z → y; backward, one pass forming
/// G_z = G ⊙ f′(z) and then ∂x = G_z·W, ∂W = G_zᵀ·x, ∂b = Σ_rows G_z — one tape node instead of two, no separate
/// σ(z) or f′(z) temporaries. The values and gradients equal those of `activation.apply(linear(x, …))` bit for bit
/// (the same vector kernels and expressions, the bias sums in the same order). Other activations, and gradients
/// of gradients (`createGraph`), take the composite path.
public func linear<Scalar>(_ x: Variable<Scalar>, weight: Variable<Scalar>, bias: Variable<Scalar>?,
                           activation: ActivationFunction) throws -> Variable<Scalar> {
    guard let f = activation.fusedKernel else { return activation.apply(try linear(x, weight: weight, bias: bias)) }
    guard weight.rank == 2, x.rank >= 1, x.shape[x.rank - 1] == weight.shape[1] else {
        throw TensorError.shapeMismatch(operation: "linear (x [..., in] with weight [out, in])", lhs: x.shape, rhs: weight.shape)
    }
    if x.rank != 2 {
        let lead = Array(x.shape.dropLast())
        let y = try linear(x.reshaped([-1, weight.shape[1]]), weight: weight, bias: bias, activation: activation)
        return try y.reshaped(lead + [weight.shape[0]])
    }
    let r = try AutogradKernels.linearActivation(x.value, weight.value, bias?.value, f)
    let z = r.z
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    let name = f == .silu ? "linear+silu" : f == .gelu ? "linear+gelu" : "linear+relu"
    return Variable.make(name, r.y, inputs) { g in
        if GradMode.isEnabled {
            // A graph of the backward pass: the composite rules of the two unfused operations, recorded.
            let zv = try linear(x, weight: weight, bias: bias)
            let yv = activation.apply(zv)
            guard let gz = try yv.rule?(g)[0], let rule = zv.rule else { return inputs.map { _ in nil } }
            return try rule(gz)
        }
        let b = try AutogradKernels.activationBackward(z, g.value, f, bias: bias?.needsGradient ?? false)
        let gz = Variable(b.gz)
        var grads: [Variable<Scalar>?] = [
            x.needsGradient ? try matmul(gz, weight) : nil,
            weight.needsGradient ? try matmul(gz, x, transposeA: true) : nil,
        ]
        if bias != nil { grads.append(b.db.map { Variable($0) }) }
        return grads
    }
}
