import Foundation
import Linear

/// The block MMD statistics of one pair of shards (reference shard, candidate shard), mergeable across pairs.
///
/// Each of the K block pairs gives the unbiased MMD² ηⱼ of `MMDKernels.blockMMD2` (B-test, Zaremba, Gretton &
/// Blaschko 2013) under one kernel bandwidth h² shared by every pair; the pair keeps K, the mean η̄ and the
/// centred sum of squares M₂ = Σ(ηⱼ − η̄)², which merge exactly (Chan, Golub & LeVeque 1979):
/// δ = η̄_b − η̄_a, η̄ = η̄_a + δ·K_b/K, M₂ = M₂ᵃ + M₂ᵇ + δ²·K_a·K_b/K. The corpus test is then the block test over
/// all K blocks of all pairs: z = η̄/(s_η/√K), s_η² = M₂/(K − 1), p = 1 − Φ(z).
public struct BlockMMDStatistics: Sendable, JSONReportable {
    /// K, the number of block pairs.
    public var blocks: Int
    /// η̄, the mean block statistic (an unbiased estimate of MMD²).
    public var mean: Double
    /// M₂ = Σ(ηⱼ − η̄)².
    public var scatter: Double
    /// h² of the RBF kernel every block used.
    public var bandwidth2: Double
    /// Rows of the two sets that entered the blocks.
    public var rows: [Int]
    /// Rows per block of A and B (of the first pair when merged).
    public var blockRows: [Int]

    public init(blocks: Int, mean: Double, scatter: Double, bandwidth2: Double, rows: [Int], blockRows: [Int]) {
        self.blocks = blocks; self.mean = mean; self.scatter = scatter; self.bandwidth2 = bandwidth2
        self.rows = rows; self.blockRows = blockRows
    }

    public var json: JSON {
        .object([
            ("blocks", .int(blocks)), ("mean", .num(mean)), ("scatter", .num(scatter)), ("bandwidth2", .num(bandwidth2)),
            ("rows", .array(rows.map { .int($0) })), ("block_rows", .array(blockRows.map { .int($0) })),
        ])
    }

    /// Merges another pair's statistics (same bandwidth required).
    public mutating func merge(_ o: BlockMMDStatistics) throws {
        guard o.bandwidth2 == bandwidth2 else {
            throw AnalysisError.incompatible(term: "block MMD statistics", problem: "different kernel bandwidths (h² = \(bandwidth2) and \(o.bandwidth2)) cannot be merged")
        }
        let k = blocks + o.blocks
        guard k > 0 else { return }
        let delta = o.mean - mean
        let ka = Double(blocks), kb = Double(o.blocks)
        mean += delta * kb / Double(k)
        scatter += o.scatter + delta * delta * ka * kb / Double(k)
        blocks = k
        rows = zip(rows, o.rows).map { $0 + $1 }
        if blockRows.isEmpty { blockRows = o.blockRows }
    }

    /// The block test over every block: z = η̄/(s_η/√K) and p = 1 − Φ(z) (p = 1, z nil when every ηⱼ is exactly 0).
    public func test() throws -> Drift.BlockTest {
        guard blocks >= 2 else { throw AnalysisError.tooFewRows(term: "block MMD", needed: 2, got: blocks, detail: "need at least 2 blocks, got \(blocks)") }
        let variance = scatter / Double(blocks - 1)
        if variance > 0 {
            let z = mean / (variance / Double(blocks)).squareRoot()
            return Drift.BlockTest(mmd2: mean, pValue: 0.5 * erfc(z / 2.0.squareRoot()), zScore: z, blocks: blocks, blockRows: blockRows)
        }
        return Drift.BlockTest(mmd2: mean, pValue: mean > 0 ? 0 : 1, zScore: nil, blocks: blocks, blockRows: blockRows)
    }
}

/// Corpus-scale analysis from mergeable per-shard statistics: what `Regimes` and `Drift` compute on one machine,
/// computed instead from the shards' (n, μ, M₂) (`CovarianceStatistics`, merged exactly) and per-shard block
/// MMD statistics, so a corpus spread over many machines never has to be read by one process.
///
/// What is exact and what is not:
/// - the spectrum (λ, PR, k*, ρ, E_k, τ) is that of the merged covariance, equal to the one-process spectrum up to
///   rounding (the covariance of the concatenated rows is the merged one);
/// - the Fréchet distance ‖μ_A − μ_B‖² + tr(Σ_A + Σ_B − 2(Σ_A^{1/2}Σ_BΣ_A^{1/2})^{1/2}) and the core Fréchet
///   distance (the same between (Vᵀμ, VᵀΣV), V the top-c directions of A) need only means and covariances: exact;
/// - the signal stability uses half-splits of the SHARDS (a seeded permutation of the shards, the first ⌊S/2⌋ in
///   one half) instead of half-splits of the rows: the same statistic P(k) = mean cos² of the principal angles
///   between the halves' top-k subspaces, measuring reproducibility across shards (needs S ≥ 2);
/// - the block MMD test merges the block statistics of shard pairs under one bandwidth (`BlockMMDStatistics`);
/// - TwoNN and the per-coordinate KS tests are not mergeable (neighbours and order statistics of all rows): they
///   run on seeded row subsamples that the caller gathers, and a warning says so.
public enum CorpusAnalysis {
    /// Merges shard statistics in the order given.
    public static func merged(_ shards: [CovarianceStatistics]) throws -> CovarianceStatistics {
        guard let first = shards.first else { throw AnalysisError.tooFewRows(term: "corpus", needed: 1, got: 0, detail: "no shard statistics") }
        var m = first
        for s in shards.dropFirst() { try m.merge(s) }
        return m
    }

    /// The spectrum statistics (docs/method.md §3) of the merged statistics (`Spectrum.analyze(statistics:…)`, scale
    /// invariant) for data stored with unit roundoff `storageUnitRoundoff`; TwoNN on `twoNNSample` when given.
    public static func spectrum(_ stats: CovarianceStatistics, storageUnitRoundoff uIn: Double,
                                twoNNSample: Tensor<Double>? = nil, twoNNOptions: TwoNNOptions = TwoNNOptions()) throws -> SpectrumStatistics {
        let n = stats.count, d = stats.dimension
        guard n >= 2 else { throw AnalysisError.tooFewRows(term: "spectrum", needed: 2, got: n, detail: "need at least 2 states, got n = \(n)") }
        var est: TwoNNEstimate? = nil
        if let sample = twoNNSample {
            guard sample.rank == 2, sample.shape[1] == d else {
                throw AnalysisError.incompatible(term: "TwoNN subsample", problem: "rows of the corpus' width D = \(d) expected, got shape \(sample.shape)")
            }
            try sample.checkFinite("TwoNN subsample")
            est = try TwoNN.estimate(subsample: sample, options: twoNNOptions)
        }
        return try Spectrum.analyze(statistics: stats, storageUnitRoundoff: uIn, twoNN: est)
    }

    /// P(k) over `splits` seeded half-splits of the shards: split s permutes the S shards with the seed
    /// seed + s·0x9E3779B9 (as `Regimes.stability` seeds its row permutations), merges the first ⌊S/2⌋ and the
    /// rest, and compares the top-k eigenvectors of the two scatters. Ks above either half's row count or D are
    /// skipped; fewer than 2 shards give no estimate.
    public static func stability(shards: [CovarianceStatistics], ks: [Int], splits: Int = 5, seed: UInt64 = 0) throws -> [Int: Stability] {
        let count = shards.count
        guard count >= 2, splits >= 1, let d = shards.first?.dimension else { return [:] }
        var samples: [Int: [Double]] = [:]
        for s in 0..<splits {
            var g = RandomGenerator(seed: seed &+ UInt64(s) &* 0x9E37_79B9)
            let perm = g.permutation(count)
            let a = try merged(perm[0..<(count / 2)].map { shards[$0] })
            let b = try merged(perm[(count / 2)...].map { shards[$0] })
            let usable = ks.filter { $0 >= 1 && $0 <= Swift.min(a.count, d) && $0 <= Swift.min(b.count, d) }
            guard let kmax = usable.max() else { continue }
            let va = try RegimeAccumulator.topDirections(a, k: kmax), vb = try RegimeAccumulator.topDirections(b, k: kmax)
            for k in usable {
                samples[k, default: []].append(try Subspace.similarity(va.slice(0..<k, axis: 1), vb.slice(0..<k, axis: 1)))
            }
        }
        return samples.mapValues { Stability(mean: $0.reduce(0, +) / Double($0.count), min: $0.min() ?? .nan) }
    }

    /// The regime report (docs/method.md §4) of a corpus from its shards' statistics: the merged spectrum, shard-level
    /// stability, and the verdict of `Regimes.classify(spectrum:stability:stabilityRank:thresholds:)`.
    public static func regimes(shards: [CovarianceStatistics], thresholds t: RegimeThresholds = RegimeThresholds(), seed: UInt64 = 0,
                               storageUnitRoundoff uIn: Double = Spectrum.floatUnitRoundoff,
                               twoNNSample: Tensor<Double>? = nil, twoNNOptions: TwoNNOptions = TwoNNOptions()) throws -> RegimeReport {
        let all = try merged(shards)
        let spectrum = try spectrum(all, storageUnitRoundoff: uIn, twoNNSample: twoNNSample, twoNNOptions: twoNNOptions)
        let ks = Swift.min(spectrum.signalRank, spectrum.n / 4)
        let stab = try stability(shards: shards, ks: Regimes.stabilityRanks(signalRank: spectrum.signalRank, n: spectrum.n),
                                 splits: t.splits, seed: seed)
        var report = Regimes.classify(spectrum: spectrum, stability: stab, stabilityRank: ks, thresholds: t)
        if shards.count < 2 {
            report.warnings.append("stability is measured across half-splits of the shards: one shard gives no estimate")
        }
        if let sample = twoNNSample, sample.shape[0] < spectrum.n {
            report.warnings.append("TwoNN runs on a subsample of \(sample.shape[0]) of \(spectrum.n) rows (neighbours are not mergeable)")
        }
        return report
    }

    /// The block MMD statistics of one shard pair: K = ⌊min(m, n)/b⌋ consecutive block pairs with
    /// b = min(blockSize, ⌊min(m, n)/20⌋) (at least 2), laid out as `Drift.blockTest` lays them out, each giving
    /// `MMDKernels.blockMMD2` under the shared bandwidth h².
    public static func blockStatistics(_ a: StateRows, _ b: StateRows, bandwidth2 h2: Double, blockSize: Int = 256,
                                       progress: ((Int, Int) -> Void)? = nil) throws -> BlockMMDStatistics {
        let m = a.rowCount, n = b.rowCount
        guard a.dimension == b.dimension else {
            throw AnalysisError.incompatible(term: "block MMD", problem: "both sets must have the same D, got \(m)×\(a.dimension) and \(n)×\(b.dimension)")
        }
        guard h2.isFinite, h2 > 0 else { throw AnalysisError.parameter(term: "block MMD", name: "bandwidth2", problem: "the bandwidth h² must be positive and finite, got \(h2)") }
        let size = Swift.max(2, Swift.min(blockSize, Swift.min(m, n) / 20))
        let count = Swift.min(m, n) / size
        guard count >= 2 else { throw AnalysisError.tooFewRows(term: "block MMD", needed: 2, got: count, detail: "need at least 2 blocks of 2 rows per set (got \(m) and \(n) rows)") }
        func bound(_ j: Int, _ rows: Int) -> Int { j == count ? rows : Int((Double(j) * Double(rows) / Double(count)).rounded(.down)) }
        var stats = BlockMMDStatistics(blocks: 0, mean: 0, scatter: 0, bandwidth2: h2, rows: [m, n], blockRows: [m / count, n / count])
        for j in 0..<count {
            let eta = try MMDKernels.blockMMD2(a.rows(bound(j, m)..<bound(j + 1, m)), b.rows(bound(j, n)..<bound(j + 1, n)), bandwidth2: h2)
            // Welford's update of (K, η̄, M₂).
            stats.blocks += 1
            let delta = eta - stats.mean
            stats.mean += delta / Double(stats.blocks)
            stats.scatter += delta * (eta - stats.mean)
            progress?(j + 1, count)
        }
        return stats
    }

    /// Drift (docs/method.md §7) between a reference corpus A and a candidate corpus B from their shards' statistics, the
    /// merged block statistics of shard pairs, and seeded row subsamples of each (for the KS tests only).
    ///
    /// The core is the top c = min(9, D) eigenvectors V of A's scatter; core coordinates are Vᵀ(x − μ_A), so their
    /// moments are (Vᵀ(μ − μ_A), VᵀΣV) and the core Fréchet distance needs no rows.
    public static func drift(reference: [CovarianceStatistics], candidate: [CovarianceStatistics], blocks: BlockMMDStatistics,
                             referenceSample: Tensor<Double>, candidateSample: Tensor<Double>,
                             options o: DriftOptions = DriftOptions(),
                             storageUnitRoundoff uIn: Double = Spectrum.floatUnitRoundoff) throws -> DriftReport {
        let sa = try merged(reference), sb = try merged(candidate)
        let d = sa.dimension
        guard sb.dimension == d else {
            throw AnalysisError.incompatible(term: "drift", problem: "both corpora must have the same D, got \(sa.count)×\(d) and \(sb.count)×\(sb.dimension)")
        }
        guard sa.count >= 2, sb.count >= 2 else { throw AnalysisError.tooFewRows(term: "drift", needed: 2, got: Swift.min(sa.count, sb.count), detail: "need at least 2 rows per corpus (got \(sa.count) and \(sb.count))") }
        for (name, x) in [("reference", referenceSample), ("candidate", candidateSample)] {
            guard x.rank == 2, x.shape[1] == d, x.shape[0] >= 1 else {
                throw AnalysisError.incompatible(term: "drift", problem: "the \(name) subsample needs rows of width \(d), got shape \(x.shape)")
            }
            try x.checkFinite("\(name) subsample")
        }
        let test = try blocks.test()
        let covA = try sa.covariance(), covB = try sb.covariance()
        let fd = try Drift.frechetDistance(meanA: sa.mean, covarianceA: covA, meanB: sb.mean, covarianceB: covB)
        let v = try RegimeAccumulator.topDirections(sa, k: Swift.min(9, d))
        func coreMoments(_ mean: Tensor<Double>, _ cov: Tensor<Double>) throws -> (Tensor<Double>, Tensor<Double>) {
            let shift = try (mean - sa.mean).reshaped([1, d])
            let mu = try matmul(shift, v).reshaped([v.shape[1]])
            let sigma = try matmul(matmul(v, cov, transposeA: true), v)
            return (mu, sigma)
        }
        let (muA, sigA) = try coreMoments(sa.mean, covA), (muB, sigB) = try coreMoments(sb.mean, covB)
        let coreFD = try Drift.frechetDistance(meanA: muA, covarianceA: sigA, meanB: muB, covarianceB: sigB)
        func coordinates(_ x: Tensor<Double>) throws -> Tensor<Double> { try matmul(x - sa.mean, v) }
        let ks = try Drift.ks(coordinates(referenceSample), coordinates(candidateSample), alpha: o.alpha)
        let ra = try regimes(shards: reference, thresholds: o.regimeThresholds, seed: o.seed, storageUnitRoundoff: uIn)
        let rb = try regimes(shards: candidate, thresholds: o.regimeThresholds, seed: o.seed, storageUnitRoundoff: uIn)
        let (coreSim, drift, reasons) = try Drift.blockVerdict(test, alpha: o.alpha, ks: ks, a: (sa, ra), b: (sb, rb))
        var warnings = ["KS runs on seeded subsamples of \(referenceSample.shape[0]) and \(candidateSample.shape[0]) rows (order statistics are not mergeable)"]
        if reference.count < 2 || candidate.count < 2 { warnings.append("regimes: stability across shard half-splits needs at least 2 shards per corpus") }
        var report = DriftReport(mmd2: test.mmd2, pValue: test.pValue, bandwidth2: blocks.bandwidth2, permutations: 0, alpha: o.alpha,
                                 frechetDistance: fd, coreFrechetDistance: coreFD, coreSimilarity: coreSim,
                                 coreEnergyDelta: (rb.spectrum.coreEnergy[9] ?? 0) - (ra.spectrum.coreEnergy[9] ?? 0),
                                 regimeA: ra.regime, regimeB: rb.regime, ks: ks, drift: drift, reasons: reasons, warnings: warnings)
        report.test = "block"
        report.testRows = [sa.count, sb.count]
        report.blocks = test.blocks
        report.blockRows = test.blockRows
        report.zScore = test.zScore
        return report
    }
}
