import Foundation
import Linear

/// Thresholds of the latent regimes (docs/method.md §4), with the defaults of docs/method.md.
public struct RegimeThresholds: Sendable {
    /// R1 needs 1 ≤ k* ≤ `maxCoreRank`.
    public var maxCoreRank = 9
    /// R1 needs ρ ≥ `minSignalEnergy`.
    public var minSignalEnergy = 0.5
    /// R1 needs P* ≥ `stableSimilarity`.
    public var stableSimilarity = 0.9
    /// R3 when P* < `dispersedSimilarity`.
    public var dispersedSimilarity = 0.5
    /// Random half-splits per stability estimate.
    public var splits = 5
    /// Warn when k* > min(n, D)·`wideSignalFraction` (Gavish–Donoho reads the noise from the median σ).
    public var wideSignalFraction = 1.0 / 3.0
    public init() {}
}

/// R1 stable/compact, R2 transitional, R3 dispersed.
public enum Regime: String, Sendable, CaseIterable {
    case r1 = "R1", r2 = "R2", r3 = "R3"
}

/// Mean and minimum of a similarity over random half-splits.
public struct Stability: Sendable {
    public var mean: Double
    public var min: Double
    public var json: JSON { .object([("mean", .num(mean)), ("min", .num(min))]) }
}

/// The regime of one set of states with every number behind it.
public struct RegimeReport: Sendable, JSONReportable {
    public var spectrum: SpectrumStatistics
    /// k_s = min(k*, ⌊n/4⌋), the dimension at which P* is measured.
    public var stabilityRank: Int
    /// P* = P(k_s); nil when k_s = 0.
    public var signalStability: Stability?
    /// P(3), P(6), P(9) (absent when a half has too few rows for that k).
    public var coreStability: [Int: Stability]
    public var regime: Regime
    public var reasons: [String]
    public var warnings: [String]
    public var thresholds: RegimeThresholds

    public var json: JSON {
        .object([
            ("n", .int(spectrum.n)), ("d", .int(spectrum.d)),
            ("participation_ratio", .num(spectrum.participationRatio)),
            ("signal_rank", .int(spectrum.signalRank)),
            ("signal_energy", .num(spectrum.signalEnergy)),
            ("core_energy", Spectrum.coreEnergyJSON(spectrum.coreEnergy)),
            ("signal_stability", signalStability?.json ?? .null),
            ("core_stability", .object(Ladder.cores.map { (String($0), coreStability[$0]?.json ?? .null) })),
            ("twonn_dimension", .num(spectrum.twoNNDimension)),
            ("twonn_interval", TwoNN.json(interval: spectrum.twoNNInterval)),
            ("twonn_rows", TwoNN.json(rows: spectrum.twoNNRows)),
            ("regime", .string(regime.rawValue)),
            ("reasons", .array(reasons.map { .string($0) })),
            ("warnings", .array(warnings.map { .string($0) })),
            ("stability_rank", .int(stabilityRank)),
            ("threshold", .num(spectrum.threshold)),
            ("eigenvalues", .nums(Array(spectrum.eigenvalues.prefix(64)))),
        ])
    }
}

/// Latent regimes R1/R2/R3 of one set of states (docs/method.md §4).
public enum Regimes {
    /// P(k) for each requested k over `splits` seeded random half-splits: the mean cos² of the principal angles
    /// between the top-k directions fitted on each half. Ks larger than a half's rank are skipped.
    ///
    /// Scale invariant: the principal directions of X and of X·2⁻ᵉ are the same, so data whose largest magnitude
    /// lies outside `BinaryScale`'s window are divided by 2ᵉ first (exact), and the products never overflow or
    /// underflow (data near 1e200 squared would overflow Double; near 1e-300 they would flush to zero).
    public static func stability(_ x: Tensor<Double>, ks: [Int], splits: Int = 5, seed: UInt64 = 0) throws -> [Int: Stability] {
        let x = BinaryScale.exponent(of: x).map { BinaryScale.times(x, pow2: -$0) } ?? x
        let n = x.shape[0], d = x.shape[1]
        let half = n / 2
        let usable = ks.filter { $0 >= 1 && $0 <= Swift.min(half, d) && $0 <= Swift.min(n - half, d) }
        guard let kmax = usable.max(), splits >= 1 else { return [:] }
        var samples: [Int: [Double]] = [:]
        for s in 0..<splits {
            var g = RandomGenerator(seed: seed &+ UInt64(s) &* 0x9E37_79B9)
            let perm = g.permutation(n)
            let a = try Spectrum.centered(x.gather(rows: Array(perm[0..<half]))).xc
            let b = try Spectrum.centered(x.gather(rows: Array(perm[half...]))).xc
            let va = try Subspace.topDirections(centered: a, k: kmax)
            let vb = try Subspace.topDirections(centered: b, k: kmax)
            for k in usable {
                let sim = try Subspace.similarity(va.slice(0..<k, axis: 1), vb.slice(0..<k, axis: 1))
                samples[k, default: []].append(sim)
            }
        }
        return samples.mapValues { Stability(mean: $0.reduce(0, +) / Double($0.count), min: $0.min() ?? .nan) }
    }

    /// Classifies one set of states [n, D] (Float or Double input; analysed in Double).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func classify<S: BLASScalar>(_ states: Tensor<S>, thresholds t: RegimeThresholds = RegimeThresholds(),
                                               seed: UInt64 = 0, twoNN: Bool = true,
                                               twoNNOptions: TwoNNOptions = TwoNNOptions()) throws -> RegimeReport {
        guard states.rank == 2 else { throw AnalysisError.shape(term: "regimes", problem: "expected an n×D matrix of states, got shape \(states.shape)") }
        let x: Tensor<Double> = states.cast()
        let spectrum = try Spectrum.analyze(x, twoNN: twoNN, twoNNOptions: twoNNOptions)
        let ks = Swift.min(spectrum.signalRank, spectrum.n / 4)
        let stab = try stability(x, ks: stabilityRanks(signalRank: spectrum.signalRank, n: spectrum.n), splits: t.splits, seed: seed)
        return classify(spectrum: spectrum, stability: stab, stabilityRank: ks, thresholds: t)
    }

    /// The ks at which `classify` measures stability: the cores and k_s = min(k*, ⌊n/4⌋) (when positive).
    public static func stabilityRanks(signalRank kStar: Int, n: Int) -> [Int] {
        let ks = Swift.min(kStar, n / 4)
        return Array(Set(Ladder.cores + (ks > 0 ? [ks] : [])))
    }

    /// The verdict from the spectrum and the stabilities (however they were computed: in memory or streamed).
    public static func classify(spectrum: SpectrumStatistics, stability stab: [Int: Stability], stabilityRank ks: Int,
                                thresholds t: RegimeThresholds) -> RegimeReport {
        let n = spectrum.n, d = spectrum.d
        let kStar = spectrum.signalRank
        let pStar = ks > 0 ? stab[ks] : nil
        var core: [Int: Stability] = [:]
        for c in Ladder.cores { if let s = stab[c] { core[c] = s } }
        let rho = spectrum.signalEnergy
        var reasons: [String] = []
        var warnings: [String] = []
        let regime: Regime
        let fmt = { (v: Double) in String(format: "%.3f", v) }
        if kStar == 0 {
            regime = .r3
            reasons.append("k* = 0: no singular value above the Gavish–Donoho threshold τ = \(fmt(spectrum.threshold))")
        } else if pStar == nil {
            regime = .r3
            reasons.append("k* = \(kStar) but n = \(n) is too small to measure signal stability (k_s = min(k*, ⌊n/4⌋) = 0)")
        } else if pStar!.mean < t.dispersedSimilarity {
            regime = .r3
            reasons.append("P* = \(fmt(pStar!.mean)) < \(t.dispersedSimilarity): the signal subspace does not reproduce across half-splits")
        } else if kStar <= t.maxCoreRank && rho >= t.minSignalEnergy && pStar!.mean >= t.stableSimilarity {
            regime = .r1
            reasons.append("1 ≤ k* = \(kStar) ≤ \(t.maxCoreRank): the signal fits the 9-D core")
            reasons.append("ρ = \(fmt(rho)) ≥ \(t.minSignalEnergy): the signal carries most of the variance")
            reasons.append("P* = \(fmt(pStar!.mean)) ≥ \(t.stableSimilarity): the signal subspace reproduces")
        } else {
            regime = .r2
            if kStar > t.maxCoreRank { reasons.append("k* = \(kStar) > \(t.maxCoreRank): the signal is wider than the 9-D core") }
            if rho < t.minSignalEnergy { reasons.append("ρ = \(fmt(rho)) < \(t.minSignalEnergy): the signal carries less than half of the variance") }
            if pStar!.mean < t.stableSimilarity { reasons.append("P* = \(fmt(pStar!.mean)) < \(t.stableSimilarity): the signal subspace only partly reproduces") }
            if reasons.isEmpty { reasons.append("not R1 and not R3") }
        }
        if kStar > 0 && spectrum.roundingFloor > 0 && spectrum.threshold == spectrum.roundingFloor {
            reasons.append("the states are exactly of rank \(kStar): the other singular values lie at the rounding floor \(String(format: "%.3g", spectrum.roundingFloor)), so there is no noise for the median to measure and k* counts the singular values above the floor")
        }
        if Double(kStar) > Double(Swift.min(n, d)) * t.wideSignalFraction {
            warnings.append("k* = \(kStar) > min(n, D)/3 = \(Swift.min(n, d) / 3): with unknown noise the threshold reads the noise level from the median singular value, so a signal this wide may be under-counted")
        }
        return RegimeReport(spectrum: spectrum, stabilityRank: ks, signalStability: pStar, coreStability: core,
                            regime: regime, reasons: reasons, warnings: warnings, thresholds: t)
    }
}
