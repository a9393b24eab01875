import Foundation
import Linear

/// Exact k-nearest-neighbour search by blocks of BLAS products (no n×n matrix is ever held).
public enum Neighbors {
    /// How neighbours are ranked.
    public enum Metric: Sendable {
        /// Smallest Euclidean distance ‖q − x‖ (computed as ‖q‖² + ‖x‖² − 2qᵀx).
        case euclidean
        /// Largest inner product qᵀx (cosine similarity when rows are L2-normalised).
        case innerProduct
    }

    /// The `k` nearest rows of `reference` to each row of `query`.
    ///
    /// Returns flat row-major arrays of shape [queries, k]: neighbour indices, and their Euclidean distances
    /// (`.euclidean`) or inner products (`.innerProduct`), nearest first. With `excludeSelf`, `query` must be
    /// `reference` and row i never counts as its own neighbour. Cost: one gemm of n_q·n_r·D flops, in blocks.
    public static func nearest(_ query: Tensor<Double>, in reference: Tensor<Double>, k: Int,
                               metric: Metric = .euclidean, excludeSelf: Bool = false) throws -> (indices: [Int], values: [Double]) {
        guard query.rank == 2, reference.rank == 2, query.shape[1] == reference.shape[1] else {
            throw TensorError.shapeMismatch(operation: "nearest neighbours", lhs: query.shape, rhs: reference.shape)
        }
        let nq = query.shape[0], nr = reference.shape[0]
        let available = nr - (excludeSelf ? 1 : 0)
        guard k >= 1, k <= available else {
            throw TensorError.invalidArgument("nearest neighbours: k = \(k) needs at least \(k + (excludeSelf ? 1 : 0)) reference rows, got \(nr)")
        }
        if excludeSelf && nq != nr { throw TensorError.invalidArgument("nearest neighbours: excludeSelf needs query == reference") }
        let rnorm = metric == .euclidean ? try reference.square().sum(axis: 1).scalars : []
        let qnorm = metric == .euclidean ? try query.square().sum(axis: 1).scalars : []
        var indices = [Int](repeating: 0, count: nq * k)
        var values = [Double](repeating: 0, count: nq * k)
        let block = Swift.max(1, Swift.min(nq, (1 << 22) / Swift.max(1, nr)))
        var start = 0
        while start < nq {
            let end = Swift.min(nq, start + block)
            let qb = try query.slice(start..<end)
            let g = try matmul(qb, reference, transposeB: true)  // (end−start)×nr inner products
            g.withUnsafeBufferPointer { gp in
                var bestI = [Int](repeating: -1, count: k)
                var bestV = [Double](repeating: 0, count: k)
                for r in 0..<(end - start) {
                    let i = start + r
                    let row = gp.baseAddress! + r * nr
                    var filled = 0
                    for j in 0..<nr {
                        if excludeSelf && j == i { continue }
                        // Score: smaller is nearer.
                        let s = metric == .euclidean ? rnorm[j] - 2 * row[j] : -row[j]
                        if filled < k {
                            var p = filled; filled += 1
                            while p > 0 && bestV[p - 1] > s { bestV[p] = bestV[p - 1]; bestI[p] = bestI[p - 1]; p -= 1 }
                            bestV[p] = s; bestI[p] = j
                        } else if s < bestV[k - 1] {
                            var p = k - 1
                            while p > 0 && bestV[p - 1] > s { bestV[p] = bestV[p - 1]; bestI[p] = bestI[p - 1]; p -= 1 }
                            bestV[p] = s; bestI[p] = j
                        }
                    }
                    for t in 0..<k {
                        indices[i * k + t] = bestI[t]
                        values[i * k + t] = metric == .euclidean ? Swift.max(0, bestV[t] + qnorm[i]).squareRoot() : -bestV[t]
                    }
                }
            }
            start = end
        }
        return (indices, values)
    }
}

/// TwoNN intrinsic dimension (Facco, d'Errico, Rodriguez & Laio 2017).
public enum TwoNN {
    /// For each point μᵢ = r₂/r₁ (its second- over first-nearest-neighbour distance); with μ sorted and the
    /// empirical F(μ₍ᵢ₎) = i/N, d is the least-squares slope through the origin of −log(1 − F) against log μ,
    /// after discarding the largest `discard` fraction of μ (default 10 %). Points with a duplicate (r₁ = 0)
    /// are skipped. Returns nil when fewer than 3 usable points remain.
    public static func dimension(_ x: Tensor<Double>, discard: Double = 0.1) throws -> Double? {
        let n = x.shape[0]
        guard n >= 3 else { return nil }
        let (_, dist) = try Neighbors.nearest(x, in: x, k: 2, excludeSelf: true)
        var mu: [Double] = []
        mu.reserveCapacity(n)
        for i in 0..<n where dist[2 * i] > 0 { mu.append(dist[2 * i + 1] / dist[2 * i]) }
        mu.sort()
        let total = mu.count
        let keep = Int((Double(total) * (1 - discard)).rounded(.down))
        guard keep >= 3 else { return nil }
        var sxy = 0.0, sxx = 0.0
        for i in 0..<keep {
            let f = Double(i + 1) / Double(total)
            let xv = Foundation.log(mu[i]), yv = -Foundation.log(1 - f)
            sxy += xv * yv; sxx += xv * xv
        }
        return sxx > 0 ? sxy / sxx : nil
    }
}
