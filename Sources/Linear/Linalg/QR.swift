extension Tensor {
    /// Reduced QR decomposition A = Q·R of an m×n matrix (numpy `linalg.qr`, mode "reduced").
    ///
    /// Q is m×k with orthonormal columns and R is k×n upper triangular, k = min(m, n); by LAPACK `geqrf`
    /// (Householder) and `orgqr`. Cost O(mn·k).
    @inlinable
    public func qr() throws -> (q: Tensor, r: Tensor) {
        try requireMatrix("qr")
        try checkFinite("qr input")
        let m = shape[0], n = shape[1], k = Swift.min(m, n)
        if k == 0 { return (Tensor.zeros([m, k]), Tensor.zeros([k, n])) }
        let a = columnMajorCopy()  // column-major m×n, lda = m
        let tau = TensorStorage<Scalar>(uninitializedCount: k)
        try lapackCheck(Scalar.geqrf(m: m, n: n, a: a.pointer, lda: m, tau: tau.pointer), "geqrf") { "failed (info \($0))" }
        let r = Tensor(unsafeUninitializedShape: [k, n]) { dst, _ in
            for i in 0..<k { for j in 0..<n { dst[i &* n &+ j] = j >= i ? a.pointer[i &+ j &* m] : 0 } }
        }
        try lapackCheck(Scalar.orgqr(m: m, n: k, k: k, a: a.pointer, lda: m, tau: tau.pointer), "orgqr") { "failed (info \($0))" }
        return (Tensor.fromColumnMajor(a.pointer, rows: m, cols: k, ld: m), r)
    }
}
