extension Tensor {
    /// The columns with their signs fixed: each column is flipped so that its entry of largest magnitude (the first
    /// one, on ties) is positive.
    ///
    /// Eigenvectors and singular vectors are defined up to sign, and LAPACK's choice can change with the thread
    /// count or the library version; this rule (the one of scikit-learn's `svd_flip`, applied to columns) makes a
    /// basis reproducible. Flipping is exact. A column of zeros is left as it is.
    @inlinable
    public func orientingColumnSigns() throws -> Tensor {
        guard rank == 2 else { throw TensorError.invalidShape("orientingColumnSigns: needs a matrix, got shape \(shape)") }
        var out = self
        let rows = shape[0], cols = shape[1]
        out.withUnsafeMutableBufferPointer { p in
            // Row by row (contiguous): the first entry of largest magnitude of each column decides its sign.
            var best = [Scalar](repeating: 0, count: cols), negative = [Bool](repeating: false, count: cols)
            for i in 0..<rows {
                for j in 0..<cols {
                    let x = p[i &* cols &+ j], a = Swift.abs(x)
                    if a > best[j] { best[j] = a; negative[j] = x < 0 }
                }
            }
            guard negative.contains(true) else { return }
            for i in 0..<rows { for j in 0..<cols where negative[j] { p[i &* cols &+ j] = -p[i &* cols &+ j] } }
        }
        return out
    }

    /// A D×D orthogonal basis whose first m columns are these D×m orthonormal columns, every column sign-fixed by
    /// `orientingColumnSigns()`: the Householder completion (`householderCompletion`, O(D²m), no random numbers)
    /// when m < D; a square input is already a basis and is only oriented (no D³ check of VᵀV = I).
    @inlinable
    public func orientedBasis(tolerance: Scalar? = nil) throws -> Tensor {
        guard rank == 2 else { throw TensorError.invalidShape("orientedBasis: needs a matrix, got shape \(shape)") }
        let full = shape[0] == shape[1] ? self : try householderCompletion(tolerance: tolerance)
        return try full.orientingColumnSigns()
    }
}
