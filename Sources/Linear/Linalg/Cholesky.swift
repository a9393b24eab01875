extension Tensor {
    /// Lower-triangular L with A = L·Lᵀ for a symmetric positive-definite A (numpy `linalg.cholesky`), by LAPACK `potrf`.
    ///
    /// Reads the lower triangle of A. Throws "not positive definite at leading minor i" when A is not. Cost n³/3.
    @inlinable
    public func cholesky() throws -> Tensor {
        let n = try requireSquare("cholesky")
        try checkFinite("cholesky input")
        if n == 0 { return self }
        let a = storage.copy()
        // Row-major lower triangle = column-major upper triangle: factor A = UᵀU there; U read row-major is L.
        let info = Scalar.potrf(uplo: 85, n: n, a: a.pointer, lda: n)
        try lapackCheck(info, "potrf") { "matrix is not positive definite at leading minor \($0)" }
        for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { a.pointer[i * n + j] = 0 } }
        return Tensor(storage: a, shape: [n, n])
    }
}
