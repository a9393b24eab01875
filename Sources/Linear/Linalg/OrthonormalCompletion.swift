extension Tensor {
    /// Completes a D×k matrix with orthonormal columns to a D×D orthogonal matrix [V | V⊥].
    ///
    /// V⊥ spans the orthogonal complement of span(V): seeded Gaussian directions are projected off span(V)
    /// twice (classical Gram–Schmidt with re-orthogonalisation) and orthonormalised by QR. Deterministic for a
    /// seed. Throws when V's columns are not orthonormal to `tolerance`.
    @inlinable
    public func completingOrthonormalBasis(seed: UInt64 = 0, tolerance: Scalar? = nil) throws -> Tensor {
        try checkOrthonormalColumns("completingOrthonormalBasis", tolerance: tolerance)
        let d = shape[0], k = shape[1]
        if k == d { return self }
        var g = Tensor.normal([d, d - k], seed: seed)
        if k > 0 {
            for _ in 0..<2 { try g -= Linear.matmul(self, Linear.matmul(self, g, transposeA: true)) }
        }
        let q = try g.qr().q
        return try Tensor.concatenate([self, q], axis: 1)
    }
}

extension Tensor {
    /// Completes a D×k matrix V with orthonormal columns to a D×D orthogonal matrix [V | V⊥] by Householder QR.
    ///
    /// The Householder QR of V (LAPACK `geqrf`) is V = H₁⋯H_k·[R; 0] with R diagonal ±1; the last D − k columns of
    /// the product Q = H₁⋯H_k (formed in full by `orgqr`) are an orthonormal basis of span(V)^⊥, orthogonal to V to
    /// working precision (Householder QR is backward stable). No random numbers and O(D²k) work (the seeded
    /// `completingOrthonormalBasis(seed:)` costs O(D³)). Throws when V's columns are not orthonormal to `tolerance`.
    @inlinable
    public func householderCompletion(tolerance: Scalar? = nil) throws -> Tensor {
        try checkFinite("householderCompletion input")
        try checkOrthonormalColumns("householderCompletion", tolerance: tolerance)
        let d = shape[0], k = shape[1]
        if k == d { return self }
        if k == 0 { return Tensor.eye(d) }
        // Column-major D×D work array whose first k columns are V (orgqr overwrites the rest with Q's columns).
        let a = TensorStorage<Scalar>(uninitializedCount: d * d)
        a.pointer.initialize(repeating: 0, count: d * d)
        withUnsafeBufferPointer { v in
            for i in 0..<d { for j in 0..<k { a.pointer[i &+ j &* d] = v[i &* k &+ j] } }
        }
        let tau = TensorStorage<Scalar>(uninitializedCount: k)
        try lapackCheck(Scalar.geqrf(m: d, n: k, a: a.pointer, lda: d, tau: tau.pointer), "geqrf") { "failed (info \($0))" }
        try lapackCheck(Scalar.orgqr(m: d, n: d, k: k, a: a.pointer, lda: d, tau: tau.pointer), "orgqr") { "failed (info \($0))" }
        // Q (row-major), then its first k columns replaced by V itself (they equal V up to signs and rounding).
        var full = Tensor.fromColumnMajor(a.pointer, rows: d, cols: d, ld: d)
        withUnsafeBufferPointer { v in
            full.withUnsafeMutableBufferPointer { out in
                for i in 0..<d { for j in 0..<k { out[i &* d &+ j] = v[i &* k &+ j] } }
            }
        }
        return full
    }
}

extension Tensor {
    /// Throws unless this is a D×k matrix (k ≤ D) whose columns are orthonormal: max |VᵀV − I| ≤ `tolerance`
    /// (default 100·max(D, 16)·ε). `op` names the caller in the messages.
    @inlinable
    func checkOrthonormalColumns(_ op: String, tolerance: Scalar?) throws {
        try requireMatrix(op)
        let d = shape[0], k = shape[1]
        guard k <= d else { throw TensorError.invalidShape("\(op): \(k) columns cannot be orthonormal in \(d) dimensions") }
        guard k > 0 else { return }
        let tol = tolerance ?? Scalar(Swift.max(d, 16)) * 100 * Scalar.epsilon
        let err = try (Linear.matmul(self, self, transposeA: true) - Tensor.eye(k)).maxAbs()
        guard err <= tol else {
            throw TensorError.invalidArgument("\(op): columns are not orthonormal (max |VᵀV − I| = \(err), tolerance \(tol))")
        }
    }
}
