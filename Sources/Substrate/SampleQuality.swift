import Foundation
import Linear

// Sample quality (docs/method.md §8b): generated samples against held-out real ones, always beside a baseline — by default a
// Gaussian with the real data's mean and covariance, sampled as often as the generated set — scored the same way.

/// Settings of `SampleQuality.evaluate`, with the defaults of docs/method.md.
public struct SampleQualityOptions: Sendable {
    /// k of precision / recall (Kynkäänniemi et al. 2019).
    public var precisionK = 3
    /// k of density / coverage (Naeem et al. 2020).
    public var densityK = 5
    /// KID: rows per random subset (capped at both set sizes) and number of subsets (as clean-fid/torch-fidelity,
    /// with 10 subsets instead of 100 by default).
    public var kidSubsetSize = 1000
    public var kidSubsets = 10
    /// Permutations of the MMD² test (§7).
    public var permutations = 200
    /// At most this many real rows enter the median-heuristic bandwidth (§7).
    public var bandwidthPoints = 1000
    /// At most this many rows per set are used (a seeded subset above it, reported): the kernel and distance
    /// computations are O(n²).
    public var maxSamples = 2500
    public init() {}
}

/// KID: mean and standard deviation (ddof 0, as torch-fidelity) of the unbiased polynomial-kernel MMD² over
/// random subsets.
public struct KIDResult: Sendable {
    public var mean: Double
    public var std: Double
    public var subsetSize: Int
    public var subsets: Int
    public var json: JSON { .object([("mean", .num(mean)), ("std", .num(std))]) }
}

/// Precision, recall, density and coverage of one generated set against the real one.
public struct PRDCResult: Sendable {
    /// Fraction of generated points inside some real k-NN ball (k = `precisionK`).
    public var precision: Double
    /// Fraction of real points inside some generated k-NN ball (k = `precisionK`, the generated set's radii).
    public var recall: Double
    /// (1/k)·mean over generated points of the number of real k-NN balls holding them (k = `densityK`); ≈ 1 when
    /// the two sets come from one distribution, above 1 when samples crowd into dense real regions.
    public var density: Double
    /// Fraction of real points whose k-NN ball (k = `densityK`) holds at least one generated point.
    public var coverage: Double
}

/// Every §8b figure for one set of samples (the model's, or the baseline's) against the real set.
public struct SampleQualityMetrics: Sendable, JSONReportable {
    /// Rows of this set and their dimension.
    public var n: Int
    public var d: Int
    /// Unbiased MMD² (RBF kernel, bandwidth from the real set) and its permutation p-value (§7).
    public var mmd2: Double
    public var mmd2PValue: Double
    public var kid: KIDResult
    public var precision: Double
    public var recall: Double
    public var density: Double
    public var coverage: Double
    /// Fréchet distance in the data space (compares means and covariances only).
    public var frechetDistance: Double
    /// Further figures appended to the JSON object (e.g. a feature-space Fréchet distance computed elsewhere).
    public var extra: [(String, JSON)] = []

    public var json: JSON {
        .object([
            ("n", .int(n)), ("d", .int(d)),
            ("mmd2", .num(mmd2)), ("kid", kid.json),
            ("precision", .num(precision)), ("recall", .num(recall)),
            ("density", .num(density)), ("coverage", .num(coverage)),
            ("frechet_distance", .num(frechetDistance)),
            ("mmd2_p_value", .num(mmd2PValue)),
        ] + extra)
    }
}

/// The report of `SampleQuality.evaluate`: the model's figures at the top level, the baseline's under `baseline`.
public struct SampleQualityReport: Sendable, JSONReportable {
    public var model: SampleQualityMetrics
    public var baseline: SampleQualityMetrics
    /// "gaussian" (the default baseline) or "custom" (a baseline set passed in).
    public var baselineKind: String
    /// Real rows used.
    public var nReal: Int
    /// h² of the MMD kernel (shared by model and baseline).
    public var bandwidth2: Double
    /// The model beats the baseline on MMD² (lower) and on precision (higher), both strictly.
    public var beatsBaseline: Bool
    public var reasons: [String]
    public var warnings: [String]
    public var options: SampleQualityOptions
    /// Further top-level figures appended to the JSON object.
    public var extra: [(String, JSON)] = []

    public var json: JSON {
        guard case let .object(pairs) = model.json else { return model.json }
        return .object(pairs + [
            ("baseline", baseline.json),
            ("beats_baseline", .bool(beatsBaseline)),
            ("baseline_kind", .string(baselineKind)),
            ("n_real", .int(nReal)),
            ("bandwidth", .num(bandwidth2.squareRoot())),
            ("precision_k", .int(options.precisionK)), ("density_k", .int(options.densityK)),
            ("reasons", .array(reasons.map { .string($0) })),
            ("warnings", .array(warnings.map { .string($0) })),
        ] + extra)
    }
}

/// The figures of docs/method.md §8b, each usable on its own, and `evaluate`, which runs them all beside a baseline.
public enum SampleQuality {
    static func checkPair(_ generated: Tensor<Double>, _ real: Tensor<Double>, _ op: String) throws {
        guard generated.rank == 2, real.rank == 2, generated.shape[1] == real.shape[1] else {
            throw AnalysisError.incompatible(term: op, problem: "generated and real must be n×D with the same D, got shapes \(generated.shape) and \(real.shape)")
        }
    }

    /// Unbiased MMD² (§7: RBF kernel, h² = ½·median squared distance within the real set) of generated vs real,
    /// with its permutation p-value: `Drift.mmdTest` with the real set as the reference.
    public static func mmd2(generated: Tensor<Double>, real: Tensor<Double>, permutations: Int = 200, bandwidthPoints: Int = 1000,
                            seed: UInt64 = 0) throws -> (mmd2: Double, pValue: Double, bandwidth2: Double) {
        try checkPair(generated, real, "mmd2")
        return try Drift.mmdTest(real, generated, permutations: permutations, bandwidthPoints: bandwidthPoints, seed: seed)
    }

    /// Unbiased MMD² with the polynomial kernel k(x, y) = (xᵀy/D + 1)³ (the KID kernel of Bińkowski et al. 2018):
    /// Σ_{i≠j}k(aᵢ, aⱼ)/(m(m−1)) + Σ_{i≠j}k(bᵢ, bⱼ)/(n(n−1)) − 2·mean k(aᵢ, bⱼ). Symmetric in a and b.
    public static func polynomialMMD2(_ a: Tensor<Double>, _ b: Tensor<Double>) throws -> Double {
        try checkPair(a, b, "polynomialMMD2")
        guard a.shape[0] >= 2, b.shape[0] >= 2 else {
            throw AnalysisError.parameter(term: "polynomialMMD2", name: "rows", problem: "each set needs at least 2 rows (got \(a.shape[0]) and \(b.shape[0]))")
        }
        let d = Double(a.shape[1])
        let pooled = try Tensor.concatenate([a, b])
        var k = try matmul(pooled, pooled, transposeB: true)
        k.mapInPlace { v in let t = v / d + 1; return t * t * t }
        return MMDKernels.mmd2(pooledKernel: k, m: a.shape[0])
    }

    /// KID (Bińkowski et al. 2018) as clean-fid and torch-fidelity compute it: over `subsets` seeded random subsets
    /// of m = min(`subsetSize`, n_generated, n_real) rows of each set (without replacement within a subset), the
    /// unbiased polynomial-kernel MMD² (`polynomialMMD2`); its mean and standard deviation (ddof 0).
    public static func kid(generated: Tensor<Double>, real: Tensor<Double>, subsetSize: Int = 1000, subsets: Int = 10,
                           seed: UInt64 = 0) throws -> KIDResult {
        try checkPair(generated, real, "kid")
        let m = Swift.min(subsetSize, generated.shape[0], real.shape[0])
        guard m >= 2, subsets >= 1 else {
            throw AnalysisError.parameter(term: "kid", name: "subsets", problem: "needs subsets ≥ 1 of at least 2 rows (subset size \(m), subsets \(subsets))")
        }
        var g = RandomGenerator(seed: seed)
        var values: [Double] = []
        for _ in 0..<subsets {
            let f = try generated.gather(rows: g.choice(generated.shape[0], count: m))
            let r = try real.gather(rows: g.choice(real.shape[0], count: m))
            values.append(try polynomialMMD2(f, r))
        }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        return KIDResult(mean: mean, std: variance.squareRoot(), subsetSize: m, subsets: subsets)
    }

    /// The k-NN radius of every row of `x`: its distance to its k-th nearest other row (a duplicate row counts,
    /// at distance 0). Needs n ≥ k + 1.
    public static func kNNRadii(_ x: Tensor<Double>, k: Int) throws -> [Double] {
        let (_, dist) = try Neighbors.nearest(x, in: x, k: k, excludeSelf: true)
        return (0..<x.shape[0]).map { dist[$0 * k + k - 1] }
    }

    /// Precision and recall (Kynkäänniemi et al. 2019, k = `precisionK`) and density and coverage (Naeem et al.
    /// 2020, k = `densityK`), in one blocked pass over the generated × real distances (the formulas of the prdc
    /// reference code). A point is inside a ball when its distance is ≤ the ball's radius (docs/method.md §8b).
    public static func prdc(generated: Tensor<Double>, real: Tensor<Double>, precisionK: Int = 3, densityK: Int = 5) throws -> PRDCResult {
        try checkPair(generated, real, "prdc")
        let nf = generated.shape[0], nr = real.shape[0]
        guard precisionK >= 1, densityK >= 1, nr >= Swift.max(precisionK, densityK) + 1, nf >= precisionK + 1 else {
            throw AnalysisError.parameter(term: "prdc", name: "rows", problem: "needs more than k rows in each set (k = \(precisionK) and \(densityK); got \(nf) generated, \(nr) real)")
        }
        let realP = try kNNRadii(real, k: precisionK).map { $0 * $0 }
        let realD = try kNNRadii(real, k: densityK).map { $0 * $0 }
        let fakeP = try kNNRadii(generated, k: precisionK).map { $0 * $0 }
        var inPrecision = 0, densityCount = 0
        var recalled = [Bool](repeating: false, count: nr)
        var nearest = [Double](repeating: .infinity, count: nr)
        let block = Swift.max(1, Swift.min(nf, (1 << 21) / Swift.max(1, nr)))
        var start = 0
        while start < nf {
            let end = Swift.min(nf, start + block)
            let d2 = try MMDKernels.squaredDistances(generated.slice(start..<end), real)    // (end − start) × nr
            d2.withUnsafeBufferPointer { p in
                for r in 0..<(end - start) {
                    let row = p.baseAddress! + r * nr
                    let j = start + r
                    var inside = false
                    for i in 0..<nr {
                        let v = row[i]
                        if v <= realP[i] { inside = true }
                        if v <= realD[i] { densityCount += 1 }
                        if v <= fakeP[j] { recalled[i] = true }
                        if v < nearest[i] { nearest[i] = v }
                    }
                    if inside { inPrecision += 1 }
                }
            }
            start = end
        }
        var covered = 0
        for i in 0..<nr where nearest[i] <= realD[i] { covered += 1 }
        return PRDCResult(precision: Double(inPrecision) / Double(nf),
                          recall: Double(recalled.filter { $0 }.count) / Double(nr),
                          density: Double(densityCount) / Double(densityK * nf),
                          coverage: Double(covered) / Double(nr))
    }

    /// Precision and recall alone (k = 3 by default).
    public static func precisionRecall(generated: Tensor<Double>, real: Tensor<Double>, k: Int = 3) throws -> (precision: Double, recall: Double) {
        let r = try prdc(generated: generated, real: real, precisionK: k, densityK: k)
        return (r.precision, r.recall)
    }

    /// Density and coverage alone (k = 5 by default).
    public static func densityCoverage(generated: Tensor<Double>, real: Tensor<Double>, k: Int = 5) throws -> (density: Double, coverage: Double) {
        let r = try prdc(generated: generated, real: real, precisionK: 1, densityK: k)
        return (r.density, r.coverage)
    }

    /// Fréchet distance between the generated and real sets in the data space (`Drift.frechetDistance`).
    public static func frechetDistance(generated: Tensor<Double>, real: Tensor<Double>) throws -> Double {
        try checkPair(generated, real, "frechetDistance")
        return try Drift.frechetDistance(real, generated)
    }

    /// `count` samples of the Gaussian with the real data's mean μ and covariance Σ (ddof 1): μ + zΣ^{1/2} with z
    /// standard normal (seeded). Σ^{1/2} = V·diag(√λ)·Vᵀ from the eigendecomposition Σ = VΛVᵀ, with eigenvalues
    /// at or below 100·D·ε·λ_max — zero up to rounding — set to 0. So a singular covariance (n ≤ D, or collinear
    /// features) is handled exactly: the samples stay in the data's affine span instead of leaking √(rounding) off it.
    public static func gaussianBaseline(real: Tensor<Double>, count: Int, seed: UInt64 = 0) throws -> Tensor<Double> {
        guard real.rank == 2, real.shape[0] >= 2, real.shape[1] >= 1 else {
            throw AnalysisError.parameter(term: "gaussianBaseline", name: "rows", problem: "needs an n×D real set with n ≥ 2, got shape \(real.shape)")
        }
        guard count >= 0 else { throw AnalysisError.parameter(term: "gaussianBaseline", name: "count", problem: "count must be ≥ 0, got \(count)") }
        let d = real.shape[1]
        let mu = try real.mean(axis: 0)
        let e = try Drift.covariance(real).eigh()
        let lambda = e.values.scalars
        let floor = 100 * Double(d) * Double.ulpOfOne * Swift.max(0, lambda.max() ?? 0)
        let roots = Tensor<Double>(lambda.map { $0 > floor ? $0.squareRoot() : 0 })
        let root = try matmul(e.vectors * roots, e.vectors, transposeB: true)     // V·diag(√λ)·Vᵀ
        let z = Tensor<Double>.normal([count, d], seed: seed)
        return try matmul(z, root) + mu
    }

    /// Every §8b figure of one set against the real set.
    public static func metrics(generated: Tensor<Double>, real: Tensor<Double>, options o: SampleQualityOptions = SampleQualityOptions(),
                               seed: UInt64 = 0) throws -> SampleQualityMetrics {
        let m = try mmd2(generated: generated, real: real, permutations: o.permutations, bandwidthPoints: o.bandwidthPoints, seed: seed)
        let k = try kid(generated: generated, real: real, subsetSize: o.kidSubsetSize, subsets: o.kidSubsets, seed: seed &+ 0x1D)
        let p = try prdc(generated: generated, real: real, precisionK: o.precisionK, densityK: o.densityK)
        let fd = try frechetDistance(generated: generated, real: real)
        return SampleQualityMetrics(n: generated.shape[0], d: generated.shape[1], mmd2: m.mmd2, mmd2PValue: m.pValue, kid: k,
                                    precision: p.precision, recall: p.recall, density: p.density, coverage: p.coverage,
                                    frechetDistance: fd)
    }

    /// Generated samples against held-out real samples, beside a baseline (docs/method.md §8b). The baseline is `baseline`
    /// when given, else a Gaussian with the real data's mean and covariance sampled as many times as `generated`
    /// (seeded). Both are scored identically (same real rows, bandwidth and seeds). Float or Double input.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func evaluate<S: BLASScalar>(generated: Tensor<S>, real: Tensor<S>, baseline: Tensor<S>? = nil,
                                               options o: SampleQualityOptions = SampleQualityOptions(),
                                               seed: UInt64 = 0) throws -> SampleQualityReport {
        var gen: Tensor<Double> = generated.cast(), ref: Tensor<Double> = real.cast()
        try checkPair(gen, ref, "evaluate")
        try gen.checkFinite("generated samples"); try ref.checkFinite("real samples")
        var base: Tensor<Double>? = baseline.map { $0.cast() }
        if let b = base {
            try checkPair(b, ref, "evaluate (baseline)")
            try b.checkFinite("baseline samples")
        }
        let kMax = Swift.max(o.precisionK, o.densityK)
        guard ref.shape[0] >= kMax + 1, gen.shape[0] >= o.precisionK + 1 else {
            throw AnalysisError.parameter(term: "evaluate", name: "rows", problem: "needs at least \(kMax + 1) real and \(o.precisionK + 1) generated rows (got \(ref.shape[0]) and \(gen.shape[0]))")
        }
        var warnings: [String] = []
        var g = RandomGenerator(seed: seed &+ 0x5A)
        func cap(_ x: Tensor<Double>, _ name: String) throws -> Tensor<Double> {
            guard x.shape[0] > o.maxSamples else { return x }
            warnings.append("\(name) set subsampled from \(x.shape[0]) to \(o.maxSamples) rows (seeded)")
            return try x.gather(rows: g.choice(x.shape[0], count: o.maxSamples).sorted())
        }
        gen = try cap(gen, "generated"); ref = try cap(ref, "real")
        if let b = base { base = try cap(b, "baseline") }
        let kind = base == nil ? "gaussian" : "custom"
        let b = try base ?? gaussianBaseline(real: ref, count: gen.shape[0], seed: seed &+ 0xB5)
        guard b.shape[0] >= o.precisionK + 1 else {
            throw AnalysisError.parameter(term: "evaluate", name: "rows", problem: "the baseline needs at least \(o.precisionK + 1) rows, got \(b.shape[0])")
        }
        if ref.shape[0] <= ref.shape[1] {
            warnings.append("n_real = \(ref.shape[0]) ≤ D = \(ref.shape[1]): the real covariance is singular; the Gaussian baseline and the Fréchet distance live in its span")
        }
        let model = try metrics(generated: gen, real: ref, options: o, seed: seed)
        let baselineMetrics = try metrics(generated: b, real: ref, options: o, seed: seed)
        let h2 = try MMDKernels.medianBandwidth2(ref, maxPoints: o.bandwidthPoints, seed: seed)

        let f = { (v: Double) in String(format: "%.4g", v) }
        let betterMMD = model.mmd2 < baselineMetrics.mmd2
        let betterPrecision = model.precision > baselineMetrics.precision
        var reasons = [
            "MMD² \(f(model.mmd2)) \(betterMMD ? "<" : "≥") baseline \(f(baselineMetrics.mmd2))",
            "precision \(f(model.precision)) \(betterPrecision ? ">" : "≤") baseline \(f(baselineMetrics.precision))",
        ]
        reasons.append(betterMMD && betterPrecision
            ? "the model beats the \(kind == "gaussian" ? "Gaussian " : "")baseline on MMD² and on precision"
            : "the model does not beat the \(kind == "gaussian" ? "Gaussian " : "")baseline on both MMD² and precision")
        if kind == "gaussian" {
            reasons.append("the Fréchet distance compares only means and covariances, so the Gaussian baseline scores ≈ 0 on it; it is not used to judge")
        }
        return SampleQualityReport(model: model, baseline: baselineMetrics, baselineKind: kind, nReal: ref.shape[0], bandwidth2: h2,
                                   beatsBaseline: betterMMD && betterPrecision, reasons: reasons, warnings: warnings, options: o)
    }
}
