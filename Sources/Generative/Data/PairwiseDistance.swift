import Linear

/// The largest Euclidean distance between two rows of a data matrix (the VE SDE's recommended σ_max).
public enum PairwiseDistance {
    /// max_{i<j} ‖x_i − x_j‖ over the rows of an [n, D] (or [n, …]) tensor, in `Double`.
    ///
    /// Squared distances come from blocks of the Gram matrix, ‖x_i‖² + ‖x_j‖² − 2⟨x_i, x_j⟩ (one gemm per block of
    /// rows, memory O(block·n)); the winning pair is then recomputed directly, so the result is exact to rounding.
    /// Cost O(n²D). Rows are centred first (distances do not change; cancellation does).
    /// - Throws: `TensorError.invalidShape` for fewer than two rows, `TensorError.nonFinite` for non-finite values.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func largest<S: BLASScalar>(_ data: Tensor<S>) throws -> Double {
        guard data.rank >= 1, data.shape[0] >= 2 else {
            throw TensorError.invalidShape("largest pairwise distance: need at least 2 rows, got shape \(data.shape)")
        }
        try data.checkFinite("largest pairwise distance")
        let n = data.shape[0]
        let x0: Tensor<Double> = try data.cast(to: Double.self).reshaped([n, data.count / n])
        let x = try x0 - x0.mean(axis: 0)
        let d = x.shape[1]
        let norms = x.withUnsafeBufferPointer { p in
            (0..<n).map { i in var s = 0.0; for j in 0..<d { let v = p[i * d + j]; s += v * v }; return s }
        }
        let block = Swift.max(1, Swift.min(n, (1 << 21) / n))
        var best = -1.0, bi = 0, bj = 1
        var start = 0
        while start < n {
            let end = Swift.min(n, start + block)
            let g = try matmul(x.slice(start..<end), x, transposeB: true)   // [b, n]
            g.withUnsafeBufferPointer { p in
                for r in 0..<(end - start) {
                    let i = start + r
                    for j in (i + 1)..<n {
                        let d2 = norms[i] + norms[j] - 2 * p[r * n + j]
                        if d2 > best { best = d2; bi = i; bj = j }
                    }
                }
            }
            start = end
        }
        // Exact distance of the winning pair (and guard against the Gram formula's rounding).
        return x.withUnsafeBufferPointer { p in
            var s = 0.0
            for k in 0..<d { let v = p[bi * d + k] - p[bj * d + k]; s += v * v }
            return s.squareRoot()
        }
    }
}
