/// Randomized subspace iteration (Halko, Martinsson & Tropp 2011, "Finding structure with randomness", §4.5 and
/// Algorithm 4.4) for the leading eigenpairs of a symmetric positive semi-definite D×D operator C that is known only
/// through its products Y = CZ.
///
/// The operator is a closure, so C may be an explicit matrix (one gemm per product) or the scatter XᵀX of data read
/// in blocks (two thin products per block, C never formed).
public enum SubspaceIteration {
    /// The top-r eigenpairs of C from an l-column sketch (r ≤ l ≤ D).
    ///
    /// Starts from the orthonormalised Gaussian D×l matrix Ω of `seed`, makes q + 1 orthonormalised applications
    /// Z ← qr(CZ).Q and one more for the Rayleigh–Ritz matrix ZᵀCZ of the last iterate; its eigenvectors W give the
    /// Ritz vectors ZW. The subspace is span(C^{q+1}Ω), so the error of the i-th eigenvalue decays like
    /// (θ_{l+1}/θ_i)^{2q+2}. `apply(Z, t)` returns CZ for the t-th product (t = 0…q + 1), so a caller can do extra
    /// work on a given read of its data.
    ///
    /// - Returns: the Ritz vectors [D, r] (columns in descending order of θ) and θ₁ ≥ … ≥ θ_r clamped at 0.
    public static func topEigenpairs(dimension d: Int, sketch l: Int, rank r: Int, iterations q: Int, seed: UInt64,
                                     apply: (Tensor<Double>, Int) throws -> Tensor<Double>) throws -> (vectors: Tensor<Double>, values: [Double]) {
        guard d >= 1, l >= 1, l <= d, r >= 1, r <= l else {
            throw ConfigurationError(field: "SubspaceIteration.topEigenpairs(rank:)",
                                     reason: "needs 1 ≤ rank ≤ sketch ≤ dimension, got rank \(r), sketch \(l), dimension \(d)")
        }
        var z = try Tensor<Double>.normal([d, l], seed: seed).qr().q                        // D × l, orthonormal
        var y = Tensor<Double>.zeros([d, l])
        let passes = Swift.max(0, q) + 2
        for t in 0..<passes {
            y = try apply(z, t)
            if t < passes - 1 { z = try y.qr().q }
        }
        var m = try matmul(z, y, transposeA: true)                                          // l × l = ZᵀCZ
        m.symmetrizeFromUpper()
        let e = try m.eigh()                                                                // ascending
        let order = Array((0..<l).reversed().prefix(r))
        let values = order.map { Swift.max(0, e.values[$0]) }
        let w = try e.vectors.transposed().gather(rows: order).transposed()                 // l × r
        return (try matmul(z, w), values)
    }
}
