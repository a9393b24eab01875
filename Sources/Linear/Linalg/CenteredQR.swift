extension Tensor {
    /// R [D, D] of the thin QR factorisation X_c = QR of the centred and scaled n×D matrix
    /// X_c = (X − 1μᵀ)·diag(1/s), for n ≥ D, in Double (s nil: no scaling). Q is not formed.
    ///
    /// X_c and R have the same singular values and right singular vectors (X_c = Q·UΣVᵀ when R = UΣVᵀ), so the
    /// SVD of the D×D factor R gives the principal directions and variances of X without the n×D factors Q and U:
    /// LAPACK's own first step for tall matrices (the R-SVD of T. F. Chan, "An improved algorithm for computing the
    /// singular value decomposition", ACM TOMS 8(1), 1982), and about a third of the flops and memory of a thin SVD
    /// that builds U.
    ///
    /// One Householder QR (`dgeqrf`) of a column-major Double copy of X_c, written straight from the row-major input
    /// in tiles of 64 rows (so that the rows read and the columns written both stay in cache): no row-major
    /// intermediate. Memory n·D Doubles. The strictly lower triangle of the result is zero.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func centeredTriangularFactor(mean mu: [Double], scale: [Double]?) throws -> Tensor<Double> {
        try requireMatrix("centeredTriangularFactor")
        let n = shape[0], d = shape[1]
        guard mu.count == d, scale.map({ $0.count == d }) ?? true else {
            throw TensorError.shapeMismatch(operation: "centeredTriangularFactor (mean and scale of length D)", lhs: shape, rhs: [mu.count, scale?.count ?? d])
        }
        guard n >= d else { throw TensorError.invalidShape("centeredTriangularFactor: needs n ≥ D rows, got shape \(shape)") }
        if d == 0 { return Tensor<Double>.zeros([0, 0]) }
        let a = UnsafeMutablePointer<Double>.allocate(capacity: n * d)
        let tau = UnsafeMutablePointer<Double>.allocate(capacity: d)
        defer { a.deallocate(); tau.deallocate() }
        withUnsafeBufferPointer { xp in
            let inv = scale.map { $0.map { 1 / $0 } }
            var i0 = 0
            while i0 < n {
                let i1 = Swift.min(n, i0 + 64)
                for j in 0..<d {
                    let col = a + j * n, m = mu[j]
                    if let inv {
                        let f = inv[j]
                        for i in i0..<i1 { col[i] = (Double(xp[i * d + j]) - m) * f }
                    } else {
                        for i in i0..<i1 { col[i] = Double(xp[i * d + j]) - m }
                    }
                }
                i0 = i1
            }
        }
        try lapackCheck(Double.geqrf(m: n, n: d, a: a, lda: n, tau: tau), "geqrf") { "failed (info \($0))" }
        return Tensor<Double>(unsafeUninitializedShape: [d, d]) { dst, _ in
            for i in 0..<d { for j in 0..<d { dst[i * d + j] = j >= i ? a[i + j * n] : 0 } }
        }
    }
}
