import Foundation
import Linear

/// Settings of the drift test (docs/method.md §7), with the defaults of docs/method.md.
public struct DriftOptions: Sendable {
    /// Permutations of the MMD² test.
    public var permutations = 200
    /// Significance level: drift when p < α.
    public var alpha = 0.05
    /// At most this many rows (of A) enter the median-heuristic bandwidth.
    public var bandwidthPoints = 1000
    /// Sets of at most this many rows get the exact permutation test on the pooled N×N kernel (2·2500 rows:
    /// 200 MB). Larger sets get the block test over all rows (`blockSize`), unless the smaller set has fewer than
    /// `minBlockTestRows` rows, when the larger one is subsampled to this many rows (reported) for the permutation test.
    public var maxSamples = 2500
    /// Rows per block and set of the block MMD test (B-test; cost ∝ n·blockSize·D, variance of the statistic
    /// ∝ 1/(n·blockSize)); smaller when needed to give at least 20 blocks.
    public var blockSize = 256
    /// The block test needs this many rows in the smaller set (20 blocks of at least 10 rows).
    public var minBlockTestRows = 200
    public var seed: UInt64 = 0
    public var regimeThresholds = RegimeThresholds()
    public init() {}
}

/// Kolmogorov–Smirnov comparison of each feature, Bonferroni-corrected.
public struct KSResult: Sendable {
    /// Two-sample statistics D = sup|F_A − F_B| per feature.
    public var statistics: [Double]
    /// Bonferroni-corrected p-values min(1, features·p) per feature.
    public var correctedPValues: [Double]
    /// Features whose corrected p-value is below α.
    public var flagged: [Int]
    public var json: JSON {
        .object([("statistics", .nums(statistics)), ("p_values_bonferroni", .nums(correctedPValues)),
                 ("flagged_features", .array(flagged.map { .int($0) }))])
    }
}

/// Everything §7 measures between a reference set A and a candidate set B.
public struct DriftReport: Sendable, JSONReportable {
    public var mmd2: Double
    public var pValue: Double
    /// h² of the RBF kernel (the bandwidth h is its square root).
    public var bandwidth2: Double
    public var permutations: Int
    public var alpha: Double
    public var frechetDistance: Double
    public var coreFrechetDistance: Double
    /// Principal-angle similarity of the top-c subspaces, c = min(k*_A, k*_B, 9); nil when c = 0.
    public var coreSimilarity: Double?
    public var coreEnergyDelta: Double
    public var regimeA: Regime
    public var regimeB: Regime
    public var ks: KSResult
    public var drift: Bool
    public var reasons: [String]
    public var warnings: [String]
    /// "permutation" (pooled kernel, permutation p-value) or "block" (B-test over all rows, normal p-value).
    public var test = "permutation"
    /// Rows of A and B that entered the kernel test.
    public var testRows: [Int] = []
    /// Block test: the number of block pairs, the rows per block of A and B, and the z-score of the mean statistic.
    public var blocks: Int? = nil
    public var blockRows: [Int]? = nil
    public var zScore: Double? = nil

    public var json: JSON {
        let blockJSON: [(String, JSON)] = [
            ("test", .string(test)), ("test_rows", .array(testRows.map { .int($0) })),
            ("blocks", blocks.map { JSON.int($0) } ?? JSON.null),
            ("block_rows", blockRows.map { JSON.array($0.map { JSON.int($0) }) } ?? JSON.null),
            ("z", .num(zScore)),
        ]
        return .object([
            ("mmd2", .num(mmd2)), ("p_value", .num(pValue)), ("bandwidth", .num(bandwidth2.squareRoot())),
            ("frechet_distance", .num(frechetDistance)), ("core_frechet_distance", .num(coreFrechetDistance)),
            ("core_similarity", .num(coreSimilarity)), ("drift", .bool(drift)),
            ("alpha", .num(alpha)), ("permutations", .int(permutations)),
            ("delta_core_energy_9", .num(coreEnergyDelta)),
            ("regime_a", .string(regimeA.rawValue)), ("regime_b", .string(regimeB.rawValue)),
            ("ks", ks.json),
            ("reasons", .array(reasons.map { .string($0) })),
            ("warnings", .array(warnings.map { .string($0) })),
        ] + blockJSON)
    }
}

public enum Drift {
    /// Covariance with ddof 1 (numpy `cov(rowvar=False)`).
    public static func covariance(_ x: Tensor<Double>) throws -> Tensor<Double> {
        let n = x.shape[0]
        guard n >= 2 else { throw AnalysisError.tooFewRows(term: "covariance", needed: 2, got: n, detail: "need at least 2 rows, got \(n)") }
        return try Spectrum.centered(x).xc.gram(alpha: 1 / Double(n - 1))
    }

    /// Fréchet distance ‖μ_A − μ_B‖² + tr(Σ_A + Σ_B − 2(Σ_A^{1/2}Σ_BΣ_A^{1/2})^{1/2}), by symmetric
    /// eigendecompositions only (no complex parts; eigenvalues clamped at 0).
    public static func frechetDistance(_ a: Tensor<Double>, _ b: Tensor<Double>) throws -> Double {
        guard a.rank == 2, b.rank == 2, a.shape[1] == b.shape[1] else {
            throw TensorError.shapeMismatch(operation: "frechetDistance", lhs: a.shape, rhs: b.shape)
        }
        // Means and covariances in one streamed pass per set (CovarianceStatistics: blocks centred in cache, one
        // syrk per block, no centred copy of either set).
        var moments: [(Tensor<Double>, Tensor<Double>)] = []
        for x in [a, b] {
            guard x.shape[0] >= 2 else { throw AnalysisError.tooFewRows(term: "covariance", needed: 2, got: x.shape[0], detail: "need at least 2 rows, got \(x.shape[0])") }
            var s = CovarianceStatistics(dimension: x.shape[1])
            try s.add(x)
            moments.append((s.mean, try s.covariance()))
        }
        return try frechetDistance(meanA: moments[0].0, covarianceA: moments[0].1, meanB: moments[1].0, covarianceB: moments[1].1)
    }

    /// The Fréchet distance from moments.
    public static func frechetDistance(meanA: Tensor<Double>, covarianceA sa: Tensor<Double>,
                                       meanB: Tensor<Double>, covarianceB sb: Tensor<Double>) throws -> Double {
        let diff = try meanA - meanB
        // tr((Σ_A^{1/2}Σ_BΣ_A^{1/2})^{1/2}) = Σ√λᵢ over the eigenvalues of Σ_AΣ_B. When Σ_B = LLᵀ (Cholesky) those
        // are the eigenvalues of the symmetric LᵀΣ_AL: a Cholesky, two products and eigenvalues only, about a third
        // of the flops of the route through Σ_A^{1/2} (a full eigendecomposition with vectors, a product to form
        // the root, two more products, then eigenvalues), which remains the fallback for singular Σ_B.
        var m: Tensor<Double>
        if let l = try? sb.cholesky() {
            m = try matmul(l, matmul(sa, l), transposeA: true)
        } else {
            let root = try sa.sqrtPSD()
            m = try matmul(matmul(root, sb), root)
        }
        m.symmetrizeFromUpper()
        let traceSqrt = try m.eigvalsh().scalars.reduce(0) { $0 + Swift.max(0, $1).squareRoot() }
        let tr = trace(sa) + trace(sb) - 2 * traceSqrt
        return Swift.max(0, try dot(diff, diff) + tr)
    }

    static func trace(_ m: Tensor<Double>) -> Double {
        let n = m.shape[0]
        return m.withUnsafeBufferPointer { p in (0..<n).reduce(0) { $0 + p[$1 * n + $1] } }
    }

    /// Two-sample KS statistic D = sup|F_A − F_B| of two samples.
    public static func ksStatistic(_ a: [Double], _ b: [Double]) -> Double {
        let x = a.sorted(), y = b.sorted()
        var i = 0, j = 0, d = 0.0
        let m = Double(x.count), n = Double(y.count)
        while i < x.count && j < y.count {
            let v = Swift.min(x[i], y[j])
            while i < x.count && x[i] <= v { i += 1 }
            while j < y.count && y[j] <= v { j += 1 }
            d = Swift.max(d, Swift.abs(Double(i) / m - Double(j) / n))
        }
        return d
    }

    /// Survival function of the limiting Kolmogorov distribution, Q(λ) = 2Σ_{k≥1}(−1)^{k−1}e^{−2k²λ²}
    /// (scipy `kstwobign.sf`).
    public static func kolmogorovSurvival(_ lambda: Double) -> Double {
        if lambda <= 0 { return 1 }
        if lambda < 0.2 { return 1 }
        var sum = 0.0
        for k in 1...100 {
            let term = Foundation.exp(-2 * Double(k * k) * lambda * lambda)
            sum += (k % 2 == 1 ? term : -term)
            if term < 1e-17 { break }
        }
        return Swift.min(1, Swift.max(0, 2 * sum))
    }

    /// Per-feature two-sided KS tests with the asymptotic p-value Q(D·√(mn/(m+n))), Bonferroni-corrected.
    public static func ks(_ a: Tensor<Double>, _ b: Tensor<Double>, alpha: Double) throws -> KSResult {
        let d = a.shape[1]
        let m = Double(a.shape[0]), n = Double(b.shape[0])
        let at = try a.transposed(), bt = try b.transposed()
        var stats: [Double] = [], ps: [Double] = [], flagged: [Int] = []
        for f in 0..<d {
            let s = ksStatistic(try at.row(f).scalars, try bt.row(f).scalars)
            let p = Swift.min(1, Double(d) * kolmogorovSurvival(s * (m * n / (m + n)).squareRoot()))
            stats.append(s); ps.append(p)
            if p < alpha { flagged.append(f) }
        }
        return KSResult(statistics: stats, correctedPValues: ps, flagged: flagged)
    }

    /// MMD² with its permutation p-value and the bandwidth used.
    public static func mmdTest(_ a: Tensor<Double>, _ b: Tensor<Double>, permutations: Int = 200, bandwidthPoints: Int = 1000,
                               seed: UInt64 = 0) throws -> (mmd2: Double, pValue: Double, bandwidth2: Double) {
        let m = a.shape[0], n = b.shape[0]
        guard m >= 2, n >= 2 else { throw AnalysisError.tooFewRows(term: "MMD", needed: 2, got: Swift.min(m, n), detail: "each set needs at least 2 rows (got \(m) and \(n))") }
        let h2 = try MMDKernels.medianBandwidth2(a, maxPoints: bandwidthPoints, seed: seed)
        let pooled = try Tensor.concatenate([a, b])
        let k = MMDKernels.rbf(squaredDistances: try MMDKernels.squaredDistances(pooled, pooled), bandwidth2: h2)
        let observed = MMDKernels.mmd2(pooledKernel: k, m: m)
        let perms = try MMDKernels.permutedMMD2(pooledKernel: k, m: m, permutations: permutations, seed: seed &+ 1)
        let exceed = perms.filter { $0 >= observed }.count
        return (observed, Double(1 + exceed) / Double(1 + permutations), h2)
    }

    /// The whole of §7 for reference A [m, D] and candidate B [n, D] (Float or Double input).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func compare<S: BLASScalar>(_ reference: Tensor<S>, _ candidate: Tensor<S>, options o: DriftOptions = DriftOptions()) throws -> DriftReport {
        guard reference.rank == 2, candidate.rank == 2, reference.shape[1] == candidate.shape[1] else {
            throw AnalysisError.incompatible(term: "drift", problem: "both sets must be n×D with the same D, got shapes \(reference.shape) and \(candidate.shape)")
        }
        if usesBlockTest(reference.shape[0], candidate.shape[0], options: o) {
            return try compare(reference: StateRows(reference, label: "reference set"), candidate: StateRows(candidate, label: "candidate set"), options: o)
        }
        let a: Tensor<Double> = reference.cast(), b: Tensor<Double> = candidate.cast()
        try a.checkFinite("reference set"); try b.checkFinite("candidate set")
        var warnings: [String] = []
        var g = RandomGenerator(seed: o.seed &+ 17)
        if a.shape[0] > o.maxSamples {
            warnings.append("reference set subsampled from \(a.shape[0]) to \(o.maxSamples) rows for the kernel test")
        }
        if b.shape[0] > o.maxSamples {
            warnings.append("candidate set subsampled from \(b.shape[0]) to \(o.maxSamples) rows for the kernel test")
        }
        let ak = a.shape[0] > o.maxSamples ? try a.gather(rows: g.choice(a.shape[0], count: o.maxSamples)) : a
        let bk = b.shape[0] > o.maxSamples ? try b.gather(rows: g.choice(b.shape[0], count: o.maxSamples)) : b
        let test = try mmdTest(ak, bk, permutations: o.permutations, bandwidthPoints: o.bandwidthPoints, seed: o.seed)
        let fd = try frechetDistance(a, b)
        let d = a.shape[1]
        let core = try Projection.fit(a, options: ProjectionOptions(k: Swift.min(9, d)))
        let za = try core.project(a), zb = try core.project(b)
        let coreFD = try frechetDistance(za, zb)
        let ks = try Drift.ks(za, zb, alpha: o.alpha)
        let ra = try Regimes.classify(a, thresholds: o.regimeThresholds, seed: o.seed, twoNN: false)
        let rb = try Regimes.classify(b, thresholds: o.regimeThresholds, seed: o.seed, twoNN: false)
        let c = Swift.min(ra.spectrum.signalRank, rb.spectrum.signalRank, 9)
        var coreSim: Double? = nil
        if c > 0 {
            let va = try Subspace.topDirections(centered: Spectrum.centered(a).xc, k: c)
            let vb = try Subspace.topDirections(centered: Spectrum.centered(b).xc, k: c)
            coreSim = try Subspace.similarity(va, vb)
        }
        let drift = test.pValue < o.alpha
        var reasons = [drift
            ? "MMD² = \(String(format: "%.4g", test.mmd2)) with permutation p = \(String(format: "%.4f", test.pValue)) < α = \(o.alpha): the sets differ"
            : "MMD² = \(String(format: "%.4g", test.mmd2)) with permutation p = \(String(format: "%.4f", test.pValue)) ≥ α = \(o.alpha): no significant difference"]
        if !ks.flagged.isEmpty { reasons.append("KS (Bonferroni) flags core coordinates \(ks.flagged.map { $0 + 1 })") }
        if ra.regime != rb.regime { reasons.append("regime changes \(ra.regime.rawValue) → \(rb.regime.rawValue)") }
        var report = DriftReport(mmd2: test.mmd2, pValue: test.pValue, bandwidth2: test.bandwidth2, permutations: o.permutations, alpha: o.alpha,
                           frechetDistance: fd, coreFrechetDistance: coreFD, coreSimilarity: coreSim,
                           coreEnergyDelta: (rb.spectrum.coreEnergy[9] ?? 0) - (ra.spectrum.coreEnergy[9] ?? 0),
                           regimeA: ra.regime, regimeB: rb.regime, ks: ks, drift: drift, reasons: reasons, warnings: warnings)
        report.testRows = [ak.shape[0], bk.shape[0]]
        return report
    }
}

extension Drift {
    /// True when `compare` uses the block test over all rows rather than the permutation test on ≤ `maxSamples` rows.
    public static func usesBlockTest(_ m: Int, _ n: Int, options o: DriftOptions) -> Bool {
        Swift.max(m, n) > o.maxSamples && Swift.min(m, n) >= Swift.max(40, o.minBlockTestRows)
    }

    /// Result of the block MMD test.
    public struct BlockTest: Sendable {
        /// Mean of the block statistics: an unbiased estimate of MMD².
        public var mmd2: Double
        /// One-sided p = 1 − Φ(z), z = mean/(sd/√blocks) (p = 1 when every block statistic is exactly 0).
        public var pValue: Double
        public var zScore: Double?
        public var blocks: Int
        public var blockRows: [Int]
    }

    /// The verdict of a block test with its side results, worded alike for streamed and sharded drift: drift when
    /// p < α; the core similarity of the top-c directions, c = min(k*_A, k*_B, 9) (nil when c = 0); the reasons,
    /// including the KS flags and a regime change.
    /// `directionsA`, when given, holds A's top directions (D × at least c, descending) already computed.
    static func blockVerdict(_ test: BlockTest, alpha: Double, ks: KSResult, a: (statistics: CovarianceStatistics, report: RegimeReport),
                             b: (statistics: CovarianceStatistics, report: RegimeReport),
                             directionsA: Tensor<Double>? = nil) throws -> (coreSimilarity: Double?, drift: Bool, reasons: [String]) {
        let ra = a.report, rb = b.report
        let c = Swift.min(ra.spectrum.signalRank, rb.spectrum.signalRank, 9)
        var coreSim: Double? = nil
        if c > 0 {
            let va = try directionsA.map { try $0.slice(0..<c, axis: 1) } ?? RegimeAccumulator.topDirections(a.statistics, k: c)
            coreSim = try Subspace.similarity(va, RegimeAccumulator.topDirections(b.statistics, k: c))
        }
        let drift = test.pValue < alpha
        let zText = test.zScore.map { String(format: "z = %.3f, ", $0) } ?? ""
        var reasons = [drift
            ? "block MMD² = \(String(format: "%.4g", test.mmd2)) over \(test.blocks) block pairs (\(zText)p = \(String(format: "%.4g", test.pValue))) < α = \(alpha): the sets differ"
            : "block MMD² = \(String(format: "%.4g", test.mmd2)) over \(test.blocks) block pairs (\(zText)p = \(String(format: "%.4g", test.pValue))) ≥ α = \(alpha): no significant difference"]
        if !ks.flagged.isEmpty { reasons.append("KS (Bonferroni) flags core coordinates \(ks.flagged.map { $0 + 1 })") }
        if ra.regime != rb.regime { reasons.append("regime changes \(ra.regime.rawValue) → \(rb.regime.rawValue)") }
        return (coreSim, drift, reasons)
    }

    /// The block MMD test (B-test, Zaremba, Gretton & Blaschko 2013; the linear-time idea of Gretton et al. 2012 §6
    /// with blocks instead of pairs) over every row of A [m, D] and B [n, D], streamed.
    ///
    /// The rows are cut into K = ⌊min(m, n)/b⌋ consecutive block pairs (A's block j is rows ⌊jm/K⌋..<⌊(j+1)m/K⌋,
    /// B's likewise), b = min(blockSize, ⌊min(m, n)/20⌋). Each pair gives the unbiased MMD² ηⱼ of
    /// `MMDKernels.blockMMD2`; under H₀ (both sets i.i.d. from one law) the ηⱼ are independent with mean 0, so
    /// z = η̄/(s_η/√K) is asymptotically standard normal (K → ∞) and the one-sided p = 1 − Φ(z) is a valid test; the
    /// mean is also consistent against every alternative for a characteristic kernel. Cost O((m + n)·b·D), memory
    /// O(b·D) per pair (reading `chunkBlocks` pairs at a time). Rows are assumed exchangeable (in random order):
    /// files sorted by a label should be shuffled first. When A and B are the same rows every pair is identical,
    /// every ηⱼ is exactly 0 and p = 1, for any seed. `visit(start, rows)` sees every chunk of A (.0) and B (.1) once, in
    /// order, so other statistics can be accumulated in the same pass.
    public static func blockTest(_ a: StateRows, _ b: StateRows, bandwidth2 h2: Double, blockSize: Int = 256, chunkBlocks: Int = 64,
                                 visit: ((Int, Tensor<Double>, Int, Tensor<Double>) throws -> Void)? = nil,
                                 progress: ((Int, Int) -> Void)? = nil) throws -> BlockTest {
        try blockTest(a, b, bandwidth2: h2, blockSize: blockSize, chunkBlocks: chunkBlocks, read: { try $0.rows($1) }, visit: visit, progress: progress)
    }

    /// `blockTest` with the chunks read as `S` by `read`: single-precision sets are read as Float (`floatRows`, half
    /// the bytes of Double chunks, which `visit` then gets without a cast) and each block pair is widened to Double
    /// only for its kernels — the same values as Double chunks, so the same statistics.
    static func blockTest<S: BLASScalar>(_ a: StateRows, _ b: StateRows, bandwidth2 h2: Double, blockSize: Int, chunkBlocks: Int,
                                        read: (StateRows, Range<Int>) throws -> Tensor<S>,
                                        visit: ((Int, Tensor<S>, Int, Tensor<S>) throws -> Void)?,
                                        progress: ((Int, Int) -> Void)?) throws -> BlockTest {
        func widened(_ t: Tensor<S>) -> Tensor<Double> { (t as? Tensor<Double>) ?? t.cast() }
        let m = a.rowCount, n = b.rowCount
        guard a.dimension == b.dimension else {
            throw AnalysisError.incompatible(term: "block MMD", problem: "both sets must have the same D, got \(m)×\(a.dimension) and \(n)×\(b.dimension)")
        }
        let size = Swift.max(2, Swift.min(blockSize, Swift.min(m, n) / 20))
        let count = Swift.min(m, n) / size
        guard count >= 2 else { throw AnalysisError.tooFewRows(term: "block MMD", needed: 2, got: count, detail: "need at least 2 blocks of 2 rows per set (got \(m) and \(n) rows)") }
        func bound(_ j: Int, _ rows: Int) -> Int { Int((Double(j) * Double(rows) / Double(count)).rounded(.down)) }
        var stats: [Double] = []
        stats.reserveCapacity(count)
        var j = 0
        while j < count {
            let jEnd = Swift.min(count, j + Swift.max(1, chunkBlocks))
            let (a0, a1) = (bound(j, m), jEnd == count ? m : bound(jEnd, m))
            let (b0, b1) = (bound(j, n), jEnd == count ? n : bound(jEnd, n))
            let xa = try read(a, a0..<a1), xb = try read(b, b0..<b1)
            for q in j..<jEnd {
                let ra = (bound(q, m) - a0)..<(q + 1 == count ? m - a0 : bound(q + 1, m) - a0)
                let rb = (bound(q, n) - b0)..<(q + 1 == count ? n - b0 : bound(q + 1, n) - b0)
                stats.append(try MMDKernels.blockMMD2(widened(xa.slice(ra)), widened(xb.slice(rb)), bandwidth2: h2))
            }
            try visit?(a0, xa, b0, xb)
            j = jEnd
            progress?(j, count)
        }
        let mean = stats.reduce(0, +) / Double(count)
        let variance = stats.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count - 1)
        let p: Double, z: Double?
        if variance > 0 {
            let zz = mean / (variance / Double(count)).squareRoot()
            z = zz; p = 0.5 * erfc(zz / 2.0.squareRoot())
        } else {
            z = nil; p = mean > 0 ? 0 : 1
        }
        return BlockTest(mmd2: mean, pValue: p, zScore: z, blocks: count, blockRows: [m / count, n / count])
    }

    /// The regime reports (no TwoNN) of two accumulated sets; with BLAS.threads > 1 both at once on two threads,
    /// each with single-threaded BLAS (their cost is the Householder tridiagonalisations of D×D scatters, whose
    /// matrix-vector half is memory-bound and gains little from a second BLAS thread, while two reports in parallel
    /// halve the wall time).
    static func reports(_ a: RegimeAccumulator, _ b: RegimeAccumulator, thresholds t: RegimeThresholds) throws -> (RegimeReport, RegimeReport) {
        if BLAS.threads <= 1 {
            return (try a.report(thresholds: t, twoNN: nil), try b.report(thresholds: t, twoNN: nil))
        }
        var results = [Result<RegimeReport, Error>?](repeating: nil, count: 2)
        results.withUnsafeMutableBufferPointer { rp in
            BLAS.withThreads(1) {
                Parallel.perform(iterations: 2) { i in
                    rp[i] = Result { try (i == 0 ? a : b).report(thresholds: t, twoNN: nil) }
                }
            }
        }
        return (try results[0]!.get(), try results[1]!.get())
    }

    /// The whole of §7 over row blocks, for sets too large to hold (or to put in one kernel matrix).
    ///
    /// Small sets (see `usesBlockTest`) are read whole and go to the in-memory `compare`. Otherwise: the median
    /// bandwidth from at most `bandwidthPoints` seeded rows of A; one pass over both sets for the block MMD test,
    /// the means and covariances (Fréchet distance) and the regimes (`RegimeAccumulator`, no TwoNN); the core of A
    /// (top min(9, D) covariance directions V, one partial eigendecomposition of its scatter, shared with the core
    /// similarity) from those statistics; a second pass that projects both sets into it, z = (x − μ_A)V, for the core
    /// Fréchet distance and the per-coordinate KS tests (both unchanged by the directions' signs). The two regime
    /// reports (spectrum and split-half stability: eigendecompositions of D×D scatters) run on two threads at once
    /// when BLAS.threads > 1. Memory O(block·D + splits·D²), plus the n×9
    /// core coordinates of each set that the exact KS statistics sort. `progress(done, total)` over both passes.
    public static func compare(reference a: StateRows, candidate b: StateRows, options o: DriftOptions = DriftOptions(),
                               progress: ((Int, Int) -> Void)? = nil) throws -> DriftReport {
        let m = a.rowCount, n = b.rowCount, d = a.dimension
        guard a.dimension == b.dimension else {
            throw AnalysisError.incompatible(term: "drift", problem: "both sets must be n×D with the same D, got \(m)×\(a.dimension) and \(n)×\(b.dimension)")
        }
        guard usesBlockTest(m, n, options: o) else {
            return try compare(a.rows(0..<m), b.rows(0..<n), options: o)
        }
        var g = RandomGenerator(seed: o.seed)
        let bwRows = try g.choice(m, count: Swift.min(m, Swift.max(2, o.bandwidthPoints))).sorted()
        let h2 = try MMDKernels.medianBandwidth2(a.rows(at: bwRows), maxPoints: o.bandwidthPoints, seed: o.seed)
        var accA = try RegimeAccumulator(n: m, d: d, splits: o.regimeThresholds.splits, seed: o.seed, twoNN: nil)
        var accB = try RegimeAccumulator(n: n, d: d, splits: o.regimeThresholds.splits, seed: o.seed, twoNN: nil)
        let size = Swift.max(2, Swift.min(o.blockSize, Swift.min(m, n) / 20))
        let totalBlocks = Swift.min(m, n) / size
        let test: BlockTest
        if a.storesSinglePrecision && b.storesSinglePrecision {
            // Both sets single precision: read as Float and accumulated in Float (ssyrk), as their rows lose nothing.
            test = try blockTest(a, b, bandwidth2: h2, blockSize: o.blockSize, chunkBlocks: 64, read: { try $0.floatRows($1) }, visit: { a0, xa, b0, xb in
                try accA.add(xa, start: a0)
                try accB.add(xb, start: b0)
            }, progress: { done, _ in progress?(done, 2 * totalBlocks) })
        } else {
            test = try blockTest(a, b, bandwidth2: h2, blockSize: o.blockSize, visit: { a0, xa, b0, xb in
                // A single-precision set is accumulated in Float (ssyrk), as its rows lose nothing.
                if a.storesSinglePrecision { try accA.add(xa.cast(to: Float.self), start: a0) } else { try accA.add(xa, start: a0) }
                if b.storesSinglePrecision { try accB.add(xb.cast(to: Float.self), start: b0) } else { try accB.add(xb, start: b0) }
            }, progress: { done, _ in progress?(done, 2 * totalBlocks) })
        }
        let sa = try accA.statistics(), sb = try accB.statistics()
        let fd = try frechetDistance(meanA: sa.mean, covarianceA: sa.covariance(), meanB: sb.mean, covarianceB: sb.covariance())
        let coreDirections = try RegimeAccumulator.topDirections(sa, k: Swift.min(9, d))      // D × min(9, D), descending
        let coreMean = sa.mean
        var doneRows = 0
        func coordinates(_ set: StateRows) throws -> Tensor<Double> {
            var parts: [Tensor<Double>] = []
            try set.forEachBlock(blockRows: Swift.min(16_384, Swift.max(256, (1 << 21) / Swift.max(1, d)))) { _, x in
                parts.append(try matmul(x - coreMean, coreDirections))
                doneRows += x.shape[0]
                progress?(totalBlocks + Int(Double(totalBlocks) * Double(doneRows) / Double(m + n)), 2 * totalBlocks)
            }
            return try Tensor.concatenate(parts)
        }
        let zA = try coordinates(a), zB = try coordinates(b)
        let coreFD = try frechetDistance(zA, zB)
        let ks = try Drift.ks(zA, zB, alpha: o.alpha)
        let (ra, rb) = try Self.reports(accA, accB, thresholds: o.regimeThresholds)
        let (coreSim, drift, reasons) = try Drift.blockVerdict(test, alpha: o.alpha, ks: ks, a: (sa, ra), b: (sb, rb), directionsA: coreDirections)
        var report = DriftReport(mmd2: test.mmd2, pValue: test.pValue, bandwidth2: h2, permutations: 0, alpha: o.alpha,
                                 frechetDistance: fd, coreFrechetDistance: coreFD, coreSimilarity: coreSim,
                                 coreEnergyDelta: (rb.spectrum.coreEnergy[9] ?? 0) - (ra.spectrum.coreEnergy[9] ?? 0),
                                 regimeA: ra.regime, regimeB: rb.regime, ks: ks, drift: drift, reasons: reasons, warnings: [])
        report.test = "block"
        report.testRows = [m, n]
        report.blocks = test.blocks
        report.blockRows = test.blockRows
        report.zScore = test.zScore
        return report
    }
}
