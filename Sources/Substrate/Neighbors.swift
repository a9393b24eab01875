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
    /// `reference` and row i never counts as its own neighbour. Cost: one gemm of n_q·n_r·D flops, in blocks; with
    /// `excludeSelf` half of that, since each block pair of the symmetric product is computed once.
    /// `progress(done, total)` is called after each block of query rows.
    public static func nearest(_ query: Tensor<Double>, in reference: Tensor<Double>, k: Int,
                               metric: Metric = .euclidean, excludeSelf: Bool = false,
                               progress: ((Int, Int) -> Void)? = nil) throws -> (indices: [Int], values: [Double]) {
        guard query.rank == 2, reference.rank == 2, query.shape[1] == reference.shape[1] else {
            throw TensorError.shapeMismatch(operation: "nearest neighbours", lhs: query.shape, rhs: reference.shape)
        }
        let nq = query.shape[0], nr = reference.shape[0]
        let available = nr - (excludeSelf ? 1 : 0)
        guard k >= 1, k <= available else {
            throw AnalysisError.parameter(term: "nearest neighbours", name: "k", problem: "k = \(k) needs at least \(k + (excludeSelf ? 1 : 0)) reference rows, got \(nr)")
        }
        if excludeSelf && nq != nr { throw AnalysisError.parameter(term: "nearest neighbours", name: "excludeSelf", problem: "excludeSelf needs query == reference") }
        if excludeSelf { return try selfJoin(query, k: k, metric: metric, progress: progress) }
        let rnorm = metric == .euclidean ? try reference.square().sum(axis: 1).scalars : []
        let qnorm = metric == .euclidean ? try query.square().sum(axis: 1).scalars : []
        var top = TopK(rows: nq, k: k)
        let block = Swift.max(1, Swift.min(nq, (1 << 22) / Swift.max(1, nr)))
        var start = 0
        while start < nq {
            let end = Swift.min(nq, start + block)
            let g = try matmul(query.slice(start..<end), reference, transposeB: true)  // (end−start)×nr inner products
            g.withUnsafeBufferPointer { gp in
                top.withPointers { v, ix, f in
                    for r in 0..<(end - start) {
                        let row = gp.baseAddress! + r * nr
                        for j in 0..<nr {
                            // Score: smaller is nearer.
                            offer(start + r, j, metric == .euclidean ? rnorm[j] - 2 * row[j] : -row[j], k: k, v, ix, f)
                        }
                    }
                }
            }
            start = end
            progress?(end, nq)
        }
        return top.result(metric: metric, queryNorms: qnorm)
    }

    /// Row-wise top-k candidate lists: `values` ascending (smaller is nearer), ties kept in the order offered.
    struct TopK {
        let k: Int
        var indices: [Int], values: [Double], filled: [Int]
        init(rows: Int, k: Int) {
            self.k = k
            indices = [Int](repeating: -1, count: rows * k)
            values = [Double](repeating: .infinity, count: rows * k)
            filled = [Int](repeating: 0, count: rows)
        }

        /// `body` with the scores, indices and fill counts, for `offer`.
        mutating func withPointers(_ body: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>) -> Void) {
            values.withUnsafeMutableBufferPointer { vp in
                indices.withUnsafeMutableBufferPointer { ip in
                    filled.withUnsafeMutableBufferPointer { fp in body(vp.baseAddress!, ip.baseAddress!, fp.baseAddress!) }
                }
            }
        }

        /// Indices and, from the scores, Euclidean distances √(score + ‖q‖²) or inner products (−score).
        func result(metric: Metric, queryNorms: [Double]) -> (indices: [Int], values: [Double]) {
            (indices, values.indices.map { t in
                metric == .euclidean ? Swift.max(0, values[t] + queryNorms[t / k]).squareRoot() : -values[t]
            })
        }
    }

    /// Offers candidate `j` with score `s` to row `i`'s list (insertion into a sorted array of k).
    @inline(__always)
    static func offer(_ i: Int, _ j: Int, _ s: Double, k: Int, _ vi: UnsafeMutablePointer<Double>, _ ii: UnsafeMutablePointer<Int>,
                      _ filled: UnsafeMutablePointer<Int>) {
        let base = i * k
        var p: Int
        if filled[i] < k { p = filled[i]; filled[i] += 1 } else if s < vi[base + k - 1] { p = k - 1 } else { return }
        while p > 0 && vi[base + p - 1] > s { vi[base + p] = vi[base + p - 1]; ii[base + p] = ii[base + p - 1]; p -= 1 }
        vi[base + p] = s; ii[base + p] = j
    }

    /// k nearest other rows of `x` for every row. The product X·Xᵀ is symmetric, so each pair of row blocks (I, J ≥ I)
    /// is multiplied once and its entries are offered to the rows of I and, transposed, to the rows of J. Candidates
    /// reach each row in ascending index order, as in the one-sided search, so ties resolve the same way. The
    /// selection runs over rows in parallel (`Parallel.threads`).
    /// Products run in the precision of `x` (float32 data: sgemm, twice the rate of dgemm); candidates are ranked in
    /// float64 from those products.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func selfJoin<S: BLASScalar>(_ x: Tensor<S>, k: Int, metric: Metric,
                                        progress: ((Int, Int) -> Void)?) throws -> (indices: [Int], values: [Double]) {
        let n = x.shape[0]
        guard k >= 1, k <= n - 1 else {
            throw AnalysisError.parameter(term: "nearest neighbours", name: "k", problem: "k = \(k) needs at least \(k + 1) rows, got \(n)")
        }
        let norm = metric == .euclidean ? try x.square().sum(axis: 1).scalars.map { Double($0) } : []
        let b = Swift.max(1, Swift.min(n, 1024))
        let blocks = (n + b - 1) / b
        var top = TopK(rows: n, k: k)
        var pairsDone = 0
        let pairs = blocks * (blocks + 1) / 2
        for bi in 0..<blocks {
            let i0 = bi * b, i1 = Swift.min(n, i0 + b)
            let xi = try x.slice(i0..<i1)
            for bj in bi..<blocks {
                let j0 = bj * b, j1 = Swift.min(n, j0 + b)
                let g = bi == bj ? try matmul(xi, xi, transposeB: true) : try matmul(xi, x.slice(j0..<j1), transposeB: true)
                let w = j1 - j0
                g.withUnsafeBufferPointer { gp in
                    top.withPointers { v, ix, f in
                        let gv = gp.baseAddress!
                        // Rows of I against the columns of J (row-major access).
                        Parallel.forChunks(i1 - i0, minimum: 32) { rows in
                            for r in rows {
                                let i = i0 + r, row = gv + r * w
                                for c in 0..<w where j0 + c != i {
                                    let gij = Double(row[c])
                                    let s = metric == .euclidean ? norm[j0 + c] - 2 * gij : -gij
                                    offer(i, j0 + c, s, k: k, v, ix, f)
                                }
                            }
                        }
                        // Rows of J against the columns of I, from the same product (strided access).
                        if bi != bj {
                            Parallel.forChunks(w, minimum: 32) { cols in
                                for c in cols {
                                    let j = j0 + c
                                    for r in 0..<(i1 - i0) {
                                        let gij = Double(gv[r * w + c])
                                        let s = metric == .euclidean ? norm[i0 + r] - 2 * gij : -gij
                                        offer(j, i0 + r, s, k: k, v, ix, f)
                                    }
                                }
                            }
                        }
                    }
                }
                pairsDone += 1
                progress?(Swift.min(n, Int(Double(n) * Double(pairsDone) / Double(pairs))), n)
            }
        }
        return top.result(metric: metric, queryNorms: norm)
    }
}

/// How TwoNN is estimated on a large set.
public struct TwoNNOptions: Sendable {
    /// Rows of the seeded subsample the estimate uses (all rows when the set has no more than this).
    public var rows = 10_000
    /// Use every row (exact neighbours over the whole set); refused above `TwoNN.exactRowLimit` rows.
    public var exact = false
    /// Fraction of the largest μ discarded before the fit (Facco et al.: 10 %).
    public var discard = 0.1
    /// Bootstrap resamples of the μ values behind the confidence interval (0: no interval).
    public var bootstrap = 200
    /// Coverage of the percentile bootstrap interval.
    public var confidence = 0.95
    /// Seed of the subsample and of the bootstrap.
    public var seed: UInt64 = 0
    /// Called with (query rows done, query rows) while the neighbours are searched.
    public var progress: (@Sendable (Int, Int) -> Void)? = nil
    public init() {}
}

/// A TwoNN estimate with its uncertainty and the rows it used.
public struct TwoNNEstimate: Sendable, Equatable {
    /// d̂, the least-squares slope (nil when fewer than 3 usable points remain).
    public var dimension: Double?
    /// Percentile bootstrap interval [lower, upper] of d̂ at `TwoNNOptions.confidence` (nil without one).
    public var interval: [Double]?
    /// Rows the neighbour search ran over (the subsample size, or n when exact).
    public var rows: Int
}

/// TwoNN intrinsic dimension (Facco, d'Errico, Rodriguez & Laio 2017).
public enum TwoNN {
    /// Largest set `TwoNNOptions.exact` accepts: an exact search costs n²·D multiply–adds (50 000 × 256-D rows:
    /// 6.4·10¹¹, about half a minute on two cores), so larger sets must be subsampled.
    public static let exactRowLimit = 50_000

    /// `[lower, upper]`, or null.
    public static func json(interval: [Double]?) -> JSON { interval.map { JSON.nums($0) } ?? JSON.null }
    /// The row count, or null.
    public static func json(rows: Int?) -> JSON { rows.map { JSON.int($0) } ?? JSON.null }

    /// d̂ with a confidence interval, on a seeded subsample of at most `options.rows` rows.
    ///
    /// The neighbours of the subsampled points are searched **within the subsample**. A uniform random subsample of
    /// N points drawn from density ρ is itself a sample of density ρ·N/n, and TwoNN rests only on local uniformity:
    /// for a locally Poisson process of any intensity, μ = r₂/r₁ is Pareto with P(μ > x) = x^{−d}, so the ratio's law
    /// — and the estimator — is the same at the subsample's density (this is the decimation Facco et al. use to probe
    /// d at coarser scales). Searching the subsample's neighbours among all n rows would probe a finer scale but cost
    /// N·n·D instead of N²·D (10⁴ × 10⁶ × 256: about 40 times longer than the whole rest of `vst regimes`), and
    /// would not change what is estimated on a locally flat set. The scale is coarser by (n/N)^{1/d}, so on noisy
    /// data the subsample sees less of the noise and can report a lower d than an exact run; `rows` says which ran.
    ///
    /// The interval is a percentile bootstrap (Efron 1979) over the N values of μ: `bootstrap` resamples with
    /// replacement, each refitted by the same least-squares rule; it reflects the sampling spread of the estimate
    /// at N rows (≈ d̂/√N, the asymptotic standard deviation of the maximum-likelihood form d̂ = N/Σlog μ).
    public static func estimate(_ x: Tensor<Double>, options o: TwoNNOptions = TwoNNOptions()) throws -> TwoNNEstimate {
        guard x.rank == 2 else { throw AnalysisError.shape(term: "TwoNN", problem: "expected an n×D matrix, got shape \(x.shape)") }
        let n = x.shape[0]
        if o.exact {
            guard n <= exactRowLimit else {
                throw AnalysisError.parameter(term: "TwoNN", name: "exact", problem: "an exact estimate is limited to \(exactRowLimit) rows (n = \(n)); subsample instead (TwoNNOptions.rows)")
            }
            return try estimate(subsample: x, options: o)
        }
        guard o.rows >= 3 else { throw AnalysisError.parameter(term: "TwoNN", name: "rows", problem: "the subsample needs at least 3 rows, got \(o.rows)") }
        if n <= o.rows { return try estimate(subsample: x, options: o) }
        var g = RandomGenerator(seed: o.seed)
        let picked = try g.choice(n, count: o.rows).sorted()
        return try estimate(subsample: x.gather(rows: picked), options: o)
    }

    /// The seeded rows `estimate` would use out of n (sorted), so a streamed reader can fetch only those.
    public static func subsampleRows(n: Int, options o: TwoNNOptions) throws -> [Int] {
        if o.exact || n <= o.rows { return Array(0..<n) }
        var g = RandomGenerator(seed: o.seed)
        return try g.choice(n, count: o.rows).sorted()
    }

    /// d̂ and its interval using every row of `x` (the subsample already drawn).
    public static func estimate(subsample x: Tensor<Double>, options o: TwoNNOptions) throws -> TwoNNEstimate {
        let n = x.shape[0]
        guard n >= 3 else { return TwoNNEstimate(dimension: nil, interval: nil, rows: n) }
        let mu = try ratios(x, progress: o.progress)
        let d = fit(sorted: mu.sorted(), discard: o.discard)
        var interval: [Double]? = nil
        if let d, o.bootstrap >= 2, mu.count >= 3 {
            var g = RandomGenerator(seed: o.seed &+ 0x7C0F_FEE5)
            var fits: [Double] = []
            fits.reserveCapacity(o.bootstrap)
            var resample = [Double](repeating: 0, count: mu.count)
            for _ in 0..<o.bootstrap {
                for i in 0..<mu.count { resample[i] = mu[g.nextInt(below: mu.count)] }
                resample.sort()
                if let f = fit(sorted: resample, discard: o.discard) { fits.append(f) }
            }
            if fits.count >= 2 {
                fits.sort()
                let tail = (1 - o.confidence) / 2
                let lo = fits[Swift.max(0, Int((tail * Double(fits.count - 1)).rounded(.down)))]
                let hi = fits[Swift.min(fits.count - 1, Int(((1 - tail) * Double(fits.count - 1)).rounded(.up)))]
                interval = [Swift.min(lo, d), Swift.max(hi, d)]
            }
        }
        return TwoNNEstimate(dimension: d, interval: interval, rows: n)
    }

    /// μᵢ = r₂/r₁ of every row with a non-duplicate nearest neighbour (r₁ > 0), by the blocked exact search.
    static func ratios(_ x: Tensor<Double>, progress: ((Int, Int) -> Void)? = nil) throws -> [Double] {
        let n = x.shape[0]
        let (_, dist) = try Neighbors.nearest(x, in: x, k: 2, excludeSelf: true, progress: progress)
        var mu: [Double] = []
        mu.reserveCapacity(n)
        for i in 0..<n where dist[2 * i] > 0 { mu.append(dist[2 * i + 1] / dist[2 * i]) }
        return mu
    }

    /// The least-squares slope through the origin of −log(1 − i/N) against log μ₍ᵢ₎ over the smallest
    /// (1 − discard)·N of the sorted μ.
    static func fit(sorted mu: [Double], discard: Double) -> Double? {
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

    /// For each point μᵢ = r₂/r₁ (its second- over first-nearest-neighbour distance); with μ sorted and the
    /// empirical F(μ₍ᵢ₎) = i/N, d is the least-squares slope through the origin of −log(1 − F) against log μ,
    /// after discarding the largest `discard` fraction of μ (default 10 %). Points with a duplicate (r₁ = 0)
    /// are skipped. Returns nil when fewer than 3 usable points remain. Exact: every row, O(n²D); see
    /// `estimate` for large sets.
    public static func dimension(_ x: Tensor<Double>, discard: Double = 0.1) throws -> Double? {
        guard x.shape[0] >= 3 else { return nil }
        return fit(sorted: try ratios(x).sorted(), discard: discard)
    }
}
