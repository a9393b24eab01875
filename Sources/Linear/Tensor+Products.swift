// Matrix products: each is one BLAS call (gemm, gemv, dot, ger, syrk), never a Swift loop over elements.

/// op(A)·op(B) of two matrices as one gemm call, where op transposes when asked (no copy is made).
///
/// - `matmul(a, b)`: A (m×k) · B (k×n) → m×n.
/// - `matmul(a, b, transposeA: true)`: Aᵀ·B with A stored k×m. `transposeB` likewise.
/// Cost: 2mnk flops.
@inlinable
public func matmul<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor<Scalar> {
    guard a.rank == 2, b.rank == 2 else {
        if a.rank == 3 || b.rank == 3 { return try batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB) }
        throw TensorError.shapeMismatch(operation: "matmul (expects 2-D or 3-D operands)", lhs: a.shape, rhs: b.shape)
    }
    let m = transposeA ? a.shape[1] : a.shape[0]
    let k = transposeA ? a.shape[0] : a.shape[1]
    let kb = transposeB ? b.shape[1] : b.shape[0]
    let n = transposeB ? b.shape[0] : b.shape[1]
    guard k == kb else {
        throw TensorError.shapeMismatch(operation: "matmul\(transposeA ? " (Aᵀ)" : "")\(transposeB ? " (Bᵀ)" : "")", lhs: a.shape, rhs: b.shape)
    }
    return Tensor(unsafeUninitializedShape: [m, n]) { c, count in
        if count == 0 { return }
        if k == 0 { c.initialize(repeating: 0, count: count); return }
        Scalar.gemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1,
                    a: a.storage.pointer, lda: Swift.max(1, a.shape[1]), b: b.storage.pointer, ldb: Swift.max(1, b.shape[1]),
                    beta: 0, c: c, ldc: Swift.max(1, n))
    }
}

/// Batched product of 3-D tensors [batch, m, k]·[batch, k, n] → [batch, m, n], one gemm per batch entry.
/// A 2-D operand is shared by every batch entry (broadcast).
@inlinable
public func batchedMatmul<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor<Scalar> {
    guard (a.rank == 3 || a.rank == 2), (b.rank == 3 || b.rank == 2) else {
        throw TensorError.shapeMismatch(operation: "batchedMatmul (expects 3-D operands)", lhs: a.shape, rhs: b.shape)
    }
    let ba = a.rank == 3 ? a.shape[0] : 1, bb = b.rank == 3 ? b.shape[0] : 1
    guard ba == bb || ba == 1 || bb == 1 else {
        throw TensorError.shapeMismatch(operation: "batchedMatmul (batch sizes)", lhs: a.shape, rhs: b.shape)
    }
    let batch = Swift.max(ba, bb)
    let ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1], br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1]
    let m = transposeA ? ac : ar, k = transposeA ? ar : ac
    let kb = transposeB ? bc : br, n = transposeB ? br : bc
    guard k == kb else { throw TensorError.shapeMismatch(operation: "batchedMatmul", lhs: a.shape, rhs: b.shape) }
    let strideA = a.rank == 3 && ba > 1 ? ar * ac : 0
    let strideB = b.rank == 3 && bb > 1 ? br * bc : 0
    return Tensor(unsafeUninitializedShape: [batch, m, n]) { c, count in
        if count == 0 { return }
        if k == 0 { c.initialize(repeating: 0, count: count); return }
        for i in 0..<batch {
            Scalar.gemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1,
                        a: a.storage.pointer + i * strideA, lda: Swift.max(1, ac),
                        b: b.storage.pointer + i * strideB, ldb: Swift.max(1, bc),
                        beta: 0, c: c + i * m * n, ldc: Swift.max(1, n))
        }
    }
}

/// Matrix–vector product A·x (or Aᵀ·x) as one gemv call.
@inlinable
public func matvec<Scalar>(_ a: Tensor<Scalar>, _ x: Tensor<Scalar>, transposeA: Bool = false) throws -> Tensor<Scalar> {
    guard a.rank == 2, x.rank == 1, (transposeA ? a.shape[0] : a.shape[1]) == x.shape[0] else {
        throw TensorError.shapeMismatch(operation: "matvec", lhs: a.shape, rhs: x.shape)
    }
    let outN = transposeA ? a.shape[1] : a.shape[0]
    return Tensor(unsafeUninitializedShape: [outN]) { y, n in
        if n == 0 { return }
        if x.count == 0 { y.initialize(repeating: 0, count: n); return }
        Scalar.gemv(trans: transposeA, m: a.shape[0], n: a.shape[1], alpha: 1, a: a.storage.pointer,
                    lda: Swift.max(1, a.shape[1]), x: x.storage.pointer, incx: 1, beta: 0, y: y, incy: 1)
    }
}

/// Inner product Σ xᵢyᵢ of two equal-length tensors (any shape, flattened).
@inlinable
public func dot<Scalar>(_ x: Tensor<Scalar>, _ y: Tensor<Scalar>) throws -> Scalar {
    guard x.count == y.count else { throw TensorError.shapeMismatch(operation: "dot", lhs: x.shape, rhs: y.shape) }
    return Scalar.dot(n: x.count, x: x.storage.pointer, incx: 1, y: y.storage.pointer, incy: 1)
}

/// Outer product x·yᵀ of two vectors (ger).
@inlinable
public func outer<Scalar>(_ x: Tensor<Scalar>, _ y: Tensor<Scalar>) throws -> Tensor<Scalar> {
    guard x.rank == 1, y.rank == 1 else { throw TensorError.shapeMismatch(operation: "outer (expects vectors)", lhs: x.shape, rhs: y.shape) }
    var out = Tensor<Scalar>.zeros([x.count, y.count])
    if out.count > 0 {
        out.makeUnique()
        Scalar.ger(m: x.count, n: y.count, alpha: 1, x: x.storage.pointer, incx: 1, y: y.storage.pointer, incy: 1,
                   a: out.storage.pointer, lda: y.count)
    }
    return out
}

extension Tensor {
    /// This matrix times `other` (see `matmul`).
    @inlinable public func matmul(_ other: Tensor) throws -> Tensor { try Linear.matmul(self, other) }

    /// The Gram matrix XᵀX (d×d for X of n×d) by one syrk call, mirrored to a full symmetric matrix.
    /// Half the flops of `matmul(x, x, transposeA: true)`: n·d² instead of 2n·d².
    @inlinable
    public func gram(alpha: Scalar = 1) throws -> Tensor {
        guard rank == 2 else { throw TensorError.invalidShape("gram: expected a 2-D tensor, got shape \(shape)") }
        let n = shape[0], d = shape[1]
        var c = Tensor.zeros([d, d])
        if d == 0 { return c }
        c.makeUnique()
        if n > 0 {
            Scalar.syrk(trans: true, n: d, k: n, alpha: alpha, a: storage.pointer, lda: d, beta: 0, c: c.storage.pointer, ldc: d)
        }
        c.symmetrizeFromUpper()
        return c
    }

    /// The row Gram matrix XXᵀ (n×n for X of n×d: every pair of rows' inner product) by one syrk call, mirrored to
    /// a full symmetric matrix; n·n·d flops instead of the general product's 2·n·n·d.
    public func rowGram() throws -> Tensor {
        guard rank == 2 else { throw TensorError.invalidShape("rowGram: expected a 2-D tensor, got shape \(shape)") }
        let n = shape[0], d = shape[1]
        var g = Tensor.zeros([n, n])
        if n == 0 || d == 0 { return g }
        g.withUnsafeMutableBufferPointer { gp in
            withUnsafeBufferPointer { xp in
                Scalar.syrk(trans: false, n: n, k: d, alpha: 1, a: xp.baseAddress!, lda: d, beta: 0, c: gp.baseAddress!, ldc: n)
            }
        }
        g.symmetrizeFromUpper()
        return g
    }

    /// Copies the upper triangle onto the lower one (square matrices).
    @inlinable
    public mutating func symmetrizeFromUpper() {
        precondition(rank == 2 && shape[0] == shape[1], "symmetrizeFromUpper: square matrix expected, got \(shape)")
        makeUnique()
        let d = shape[0], p = storage.pointer
        for i in 0..<d { for j in 0..<i { p[i &* d &+ j] = p[j &* d &+ i] } }
    }
}
