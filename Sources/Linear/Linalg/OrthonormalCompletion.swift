extension Tensor {
    /// Completes a D×k matrix with orthonormal columns to a D×D orthogonal matrix [V | V⊥].
    ///
    /// V⊥ spans the orthogonal complement of span(V): seeded Gaussian directions are projected off span(V)
    /// twice (classical Gram–Schmidt with re-orthogonalisation) and orthonormalised by QR. Deterministic for a
    /// seed. Throws when V's columns are not orthonormal to `tolerance`.
    @inlinable
    public func completingOrthonormalBasis(seed: UInt64 = 0, tolerance: Scalar? = nil) throws -> Tensor {
        try requireMatrix("completingOrthonormalBasis")
        let d = shape[0], k = shape[1]
        guard k <= d else { throw TensorError.invalidShape("completingOrthonormalBasis: \(k) columns cannot be orthonormal in \(d) dimensions") }
        let tol = tolerance ?? Scalar(Swift.max(d, 16)) * 100 * Scalar.epsilon
        if k > 0 {
            let gram = try Linear.matmul(self, self, transposeA: true)
            let err = try (gram - Tensor.eye(k)).maxAbs()
            guard err <= tol else {
                throw TensorError.invalidArgument("completingOrthonormalBasis: columns are not orthonormal (max |VᵀV − I| = \(err), tolerance \(tol))")
            }
        }
        if k == d { return self }
        var g = Tensor.normal([d, d - k], seed: seed)
        if k > 0 {
            for _ in 0..<2 { try g -= Linear.matmul(self, Linear.matmul(self, g, transposeA: true)) }
        }
        let q = try g.qr().q
        return try Tensor.concatenate([self, q], axis: 1)
    }
}
