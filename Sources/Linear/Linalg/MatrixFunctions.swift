extension Tensor {
    /// V·diag(f(λ))·Vᵀ for a symmetric matrix with eigenpairs (λ, V), computed as W·Wᵀ-style products with BLAS.
    @inlinable
    func symmetricFunction(_ op: String, _ f: (Scalar, Scalar) -> Scalar) throws -> Tensor {
        let n = try requireSquare(op)
        if n == 0 { return self }
        let e = try eigh()
        let lmax = Swift.max(Swift.abs(e.values.max()), Swift.abs(e.values.min()))
        // Scale each eigenvector column by f(λ), then multiply by Vᵀ: (V·diag f)·Vᵀ.
        var scaled = e.vectors
        scaled.makeUnique()
        let p = scaled.storage.pointer, w = e.values.storage.pointer
        for j in 0..<n {
            let fj = f(w[j], lmax)
            for i in 0..<n { p[i * n + j] *= fj }
        }
        var out = try Linear.matmul(scaled, e.vectors, transposeB: true)
        // Symmetrise against rounding: (M + Mᵀ)/2.
        out.makeUnique()
        let o = out.storage.pointer
        for i in 0..<n { for j in 0..<i { let v = (o[i * n + j] + o[j * n + i]) / 2; o[i * n + j] = v; o[j * n + i] = v } }
        return out
    }

    /// The symmetric positive semi-definite square root A^{1/2} (scipy `linalg.sqrtm` for symmetric PSD input).
    ///
    /// Via `eigh`: V·diag(√max(λ, 0))·Vᵀ; negative eigenvalues from rounding are clamped at 0.
    @inlinable
    public func sqrtPSD() throws -> Tensor {
        try symmetricFunction("sqrtPSD") { l, _ in l > 0 ? l.squareRoot() : 0 }
    }

    /// The symmetric inverse square root A^{−1/2} of a symmetric PSD matrix (a pseudo-inverse root).
    ///
    /// Via `eigh`: V·diag(λ^{−1/2})·Vᵀ over eigenvalues λ > `relativeTolerance`·max|λ|; smaller ones
    /// (the null space and rounding noise) map to 0 instead of blowing up. Default tolerance: n·ε.
    @inlinable
    public func inverseSqrtPSD(relativeTolerance: Scalar? = nil) throws -> Tensor {
        let n = try requireSquare("inverseSqrtPSD")
        let tol = relativeTolerance ?? Scalar(Swift.max(n, 1)) * Scalar.epsilon
        return try symmetricFunction("inverseSqrtPSD") { l, lmax in l > tol * lmax && l > 0 ? 1 / l.squareRoot() : 0 }
    }
}
