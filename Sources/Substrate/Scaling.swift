import Foundation
import Linear

/// Thresholds of the scaling regimes (docs/method.md §6), with the defaults of docs/method.md.
public struct ScalingThresholds: Sendable {
    /// S1 needs P* ≥ this at every rung.
    public var stableSimilarity = 0.9
    /// S3 when P* < this at any rung.
    public var dispersedSimilarity = 0.5
    /// S1 needs k* to change by at most this factor between adjacent rungs.
    public var maxRankGrowth = 2.0
    /// Round-trip tolerance of the per-rung projection (V1); Double analysis.
    public var roundTripTolerance = 1e-10
    public init() {}
}

/// S1 stable, S2 transitional, S3 dispersion.
public enum ScalingRegime: String, Sendable { case s1 = "S1", s2 = "S2", s3 = "S3" }

/// The measurements at one rung of the ladder.
public struct Rung: Sendable {
    public var d: Int
    public var n: Int
    public var report: RegimeReport
    public var roundTripError: Double
    public var orthonormalityError: Double
    public var fitSeconds: Double
    public var json: JSON {
        .object([
            ("d", .int(d)), ("n", .int(n)),
            ("signal_rank", .int(report.spectrum.signalRank)),
            ("signal_energy", .num(report.spectrum.signalEnergy)),
            ("participation_ratio", .num(report.spectrum.participationRatio)),
            ("core_energy_9", .num(report.spectrum.coreEnergy[9])),
            ("signal_stability", .num(report.signalStability?.mean)),
            ("core_stability_9", .num(report.coreStability[9]?.mean)),
            ("round_trip_error", .num(roundTripError)),
            ("orthonormality_error", .num(orthonormalityError)),
            ("fit_seconds", .num(fitSeconds)),
            ("regime", .string(report.regime.rawValue)),
        ])
    }
}

/// A least-squares line log y = a + b·log d.
public struct LogLogFit: Sendable {
    public var slope: Double
    public var intercept: Double
    public var r2: Double
    /// Points used (rungs with y > 0).
    public var points: Int
    public var json: JSON { .object([("slope", .num(slope)), ("intercept", .num(intercept)), ("r2", .num(r2)), ("points", .int(points))]) }

    /// Fits log y against log x over the pairs with x, y > 0; nil with fewer than 2 such pairs.
    public static func fit(_ xs: [Double], _ ys: [Double]) -> LogLogFit? {
        let pts = zip(xs, ys).filter { $0.0 > 0 && $0.1 > 0 && $0.0.isFinite && $0.1.isFinite }.map { (Foundation.log($0.0), Foundation.log($0.1)) }
        guard pts.count >= 2 else { return nil }
        let m = Double(pts.count)
        let mx = pts.reduce(0) { $0 + $1.0 } / m, my = pts.reduce(0) { $0 + $1.1 } / m
        let sxx = pts.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }
        let sxy = pts.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let syy = pts.reduce(0) { $0 + ($1.1 - my) * ($1.1 - my) }
        guard sxx > 0 else { return nil }
        let b = sxy / sxx
        let r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1
        return LogLogFit(slope: b, intercept: my - b * mx, r2: r2, points: pts.count)
    }
}

/// The scaling study across the ladder (docs/method.md §6).
public struct ScalingReport: Sendable, JSONReportable {
    public var rungs: [Rung]
    public var signalRankLaw: LogLogFit?
    public var participationLaw: LogLogFit?
    public var regime: ScalingRegime
    public var reasons: [String]
    /// The first rung (its d) whose own class differs from the lowest rung's; nil when none does.
    public var changeRung: Int?

    public var json: JSON {
        .object([
            ("rungs", .array(rungs.map { $0.json })),
            ("law", .object([
                ("signal_rank", signalRankLaw?.json ?? .null),
                ("participation_ratio", participationLaw?.json ?? .null),
            ])),
            ("regime", .string(regime.rawValue)),
            ("reasons", .array(reasons.map { .string($0) })),
            ("change_rung", changeRung.map { .int($0) } ?? .null),
        ])
    }
}

public enum Scaling {
    /// Analyses one set of states per rung, given as (d, states [n, d]) in any order (sorted by d here).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func analyze<S: BLASScalar>(_ inputs: [(d: Int, states: Tensor<S>)], thresholds t: ScalingThresholds = ScalingThresholds(),
                                              regimeThresholds: RegimeThresholds = RegimeThresholds(), seed: UInt64 = 0,
                                              progress: ((Int, Int) -> Void)? = nil) throws -> ScalingReport {
        guard inputs.count >= 2 else { throw AnalysisError.tooFewRows(term: "scaling", needed: 2, got: inputs.count, detail: "need at least 2 rungs, got \(inputs.count)") }
        let sorted = inputs.sorted { $0.d < $1.d }
        var rungs: [Rung] = []
        var reasons: [String] = []
        var failed = false
        for (i, input) in sorted.enumerated() {
            guard input.states.rank == 2, input.states.shape[1] == input.d else {
                throw AnalysisError.shape(term: "scaling", problem: "the rung d = \(input.d) holds states of shape \(input.states.shape), expected n×\(input.d)")
            }
            let x: Tensor<Double> = input.states.cast()
            // Non-finite states are refused (count and first (row, column) in the error), never turned into a verdict.
            try x.checkFinite("scaling: the states of rung d = \(input.d)")
            let report = try Regimes.classify(x, thresholds: regimeThresholds, seed: seed, twoNN: false)
            let t0 = DispatchTime.now().uptimeNanoseconds
            var rt = Double.nan, ortho = Double.nan
            do {
                let p = try Projection.fit(x, options: ProjectionOptions(k: Swift.min(9, input.d)))
                rt = try p.roundTripError(x)
                ortho = p.orthonormalityError
            } catch {
                failed = true
                reasons.append("d = \(input.d): the projection fit failed (\(error))")
            }
            let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            rungs.append(Rung(d: input.d, n: x.shape[0], report: report, roundTripError: rt, orthonormalityError: ortho, fitSeconds: secs))
            progress?(i + 1, sorted.count)
        }
        let ds = rungs.map { Double($0.d) }
        let srLaw = LogLogFit.fit(ds, rungs.map { Double($0.report.spectrum.signalRank) })
        let prLaw = LogLogFit.fit(ds, rungs.map { $0.report.spectrum.participationRatio })

        // Per-rung local class, to find where the behaviour changes.
        func local(_ i: Int) -> ScalingRegime {
            let r = rungs[i]
            let p = r.report.signalStability?.mean
            if p == nil || p! < t.dispersedSimilarity { return .s3 }
            if !(r.roundTripError <= t.roundTripTolerance) || !(r.orthonormalityError <= t.roundTripTolerance) { return .s3 }
            if i > 0 && rungs[i - 1].report.spectrum.signalRank > 0 && r.report.spectrum.signalRank == 0 { return .s3 }
            var ok = p! >= t.stableSimilarity
            if i > 0 {
                let a = Double(rungs[i - 1].report.spectrum.signalRank), b = Double(r.report.spectrum.signalRank)
                if a > 0 && b > 0 && Swift.max(a, b) / Swift.min(a, b) > t.maxRankGrowth { ok = false }
            }
            return ok ? .s1 : .s2
        }
        let classes = rungs.indices.map(local)
        for (i, r) in rungs.enumerated() {
            let k = r.report.spectrum.signalRank
            if let p = r.report.signalStability?.mean {
                if p < t.dispersedSimilarity { reasons.append("d = \(r.d): P* = \(String(format: "%.3f", p)) < \(t.dispersedSimilarity)") }
            } else {
                reasons.append("d = \(r.d): no reproducible signal (k* = \(k))")
            }
            if i > 0 && rungs[i - 1].report.spectrum.signalRank > 0 && k == 0 {
                reasons.append("d = \(r.d): k* fell to 0 where d = \(rungs[i - 1].d) had k* = \(rungs[i - 1].report.spectrum.signalRank)")
            }
            if !(r.roundTripError <= t.roundTripTolerance) || !(r.orthonormalityError <= t.roundTripTolerance) {
                reasons.append("d = \(r.d): V1 failure (round-trip error \(r.roundTripError), orthonormality error \(r.orthonormalityError))")
            }
        }
        let regime: ScalingRegime
        if failed || classes.contains(.s3) {
            regime = .s3
        } else if classes.allSatisfy({ $0 == .s1 }) {
            regime = .s1
            reasons.append("P* ≥ \(t.stableSimilarity) at every rung and k* changes by at most \(t.maxRankGrowth)× between adjacent rungs")
        } else {
            regime = .s2
            for (i, c) in classes.enumerated() where c == .s2 {
                let r = rungs[i]
                let p = r.report.signalStability?.mean ?? .nan
                if p < t.stableSimilarity { reasons.append("d = \(r.d): P* = \(String(format: "%.3f", p)) < \(t.stableSimilarity)") }
                if i > 0 {
                    let a = rungs[i - 1].report.spectrum.signalRank, b = r.report.spectrum.signalRank
                    if a > 0 && b > 0 && Double(Swift.max(a, b)) / Double(Swift.min(a, b)) > t.maxRankGrowth {
                        reasons.append("d = \(rungs[i - 1].d) → \(r.d): k* changes \(a) → \(b), more than \(t.maxRankGrowth)×")
                    }
                }
            }
        }
        let change = classes.firstIndex { $0 != classes.first }.map { rungs[$0].d }
        return ScalingReport(rungs: rungs, signalRankLaw: srLaw, participationLaw: prLaw, regime: regime, reasons: reasons, changeRung: change)
    }
}
