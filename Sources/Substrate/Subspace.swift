import Linear

/// Principal directions of a set of states and the principal-angle similarity of two subspaces.
public enum Subspace {
    /// The top-`k` principal directions [D, k] of centred rows `xc` [n, D] (orthonormal columns, descending
    /// variance), by the cheaper exact route: eigenvectors of the D×D covariance when D ≤ n, otherwise of
    /// the n×n Gram matrix mapped back through X_cᵀ (v = X_cᵀu/σ).
    public static func topDirections(centered xc: Tensor<Double>, k: Int) throws -> Tensor<Double> {
        let n = xc.shape[0], d = xc.shape[1]
        guard k >= 1, k <= Swift.min(n, d) else {
            throw AnalysisError.parameter(term: "topDirections", name: "k", problem: "k = \(k) must be in 1...\(Swift.min(n, d))")
        }
        if d <= n {
            let e = try xc.gram().eigh(top: k)
            return try reversedColumns(e.vectors)
        }
        let e = try xc.transposed().gram().eigh(top: k)            // n × k eigenvectors of X_c X_cᵀ
        let u = try reversedColumns(e.vectors)
        var v = try matmul(xc, u, transposeA: true)                 // D × k, columns scaled by σ
        let norms = try v.norm(axis: 0).map { $0 > 0 ? 1 / $0 : 0 }
        v = try v * norms
        return v
    }

    static func reversedColumns(_ v: Tensor<Double>) throws -> Tensor<Double> {
        let k = v.shape[1]
        return try v.transposed().gather(rows: Array((0..<k).reversed())).transposed()
    }

    /// Cosines of the principal angles between span(A) and span(B) (A, B with orthonormal columns):
    /// the singular values of AᵀB, descending.
    public static func principalCosines(_ a: Tensor<Double>, _ b: Tensor<Double>) throws -> [Double] {
        try matmul(a, b, transposeA: true).singularValues().scalars.map { Swift.min(1, $0) }
    }

    /// Mean cos²θ over the principal angles of two k-dimensional subspaces, = ‖AᵀB‖_F² / k ∈ [0, 1].
    public static func similarity(_ a: Tensor<Double>, _ b: Tensor<Double>) throws -> Double {
        let k = Swift.min(a.shape[1], b.shape[1])
        guard k > 0 else { return .nan }
        let m = try matmul(a, b, transposeA: true)
        let f = m.norm()
        return Swift.min(1, f * f / Double(k))
    }
}
