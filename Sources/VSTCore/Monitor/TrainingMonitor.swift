import Foundation
import Linear
import Substrate

/// Settings of a `TrainingMonitor` (`vst train --monitor K`).
public struct TrainingMonitorSettings: Sendable {
    /// A monitor point every this many training steps (≥ 1), and one after the last step.
    public var every: Int
    /// The run's last step (the x range of the report's plots).
    public var totalSteps: Int
    /// The step the run started from (0, or a resumed checkpoint's).
    public var firstStep: Int = 0
    /// Rows of the fixed noise batch sampled at every point (≥ 8).
    public var samples: Int = 512
    /// Seed of the fixed noise batch: the same at every point, so two points differ only by the model's weights.
    public var noiseSeed: UInt64 = 0
    /// Seed of the analyses (the MMD bandwidth's subsample, the stability half-splits, the Gaussian baseline).
    public var analysisSeed: UInt64 = 0
    /// k of the k-NN balls of precision and recall (Kynkäänniemi et al. 2019).
    public var precisionK = 3
    /// For the report: the family, the data, the model file's name (no directory), how the monitor samples, and
    /// what the reference set is.
    public var family = ""
    public var data = ""
    public var model = ""
    public var sampler = ""
    public var reference = ""

    public init(every: Int, totalSteps: Int) {
        self.every = every; self.totalSteps = totalSteps
    }
}

/// What a monitor flags.
public enum TrainingHealth: String, Sendable {
    case healthy, diverging, collapsing
}

/// One raised flag: the step, the kind and why.
public struct TrainingMonitorFlag: Sendable {
    public var step: Int
    public var kind: TrainingHealth
    public var reason: String
    public var json: JSON { .object([("step", .int(step)), ("kind", .string(kind.rawValue)), ("reason", .string(reason))]) }
}

/// The figures of one monitor point. Optional figures are nil when they could not be computed (non-finite samples,
/// no previous point for the drift); `error` then says why.
public struct TrainingMonitorPoint: Sendable {
    public var step: Int
    /// Mean of the headline training loss over the steps since the previous point (nil: none observed).
    public var loss: Double?
    /// Fraction of the samples whose every coordinate is finite.
    public var finiteFraction: Double
    /// Unbiased RBF MMD² of the samples against the reference (bandwidth: ½ median squared distance of the reference).
    public var mmd2: Double?
    public var precision: Double?
    public var recall: Double?
    /// k*, the Gavish–Donoho signal rank of the samples, and their regime (R1/R2/R3, docs/method.md §4).
    public var signalRank: Int?
    public var regime: String?
    /// Spread of the samples relative to the reference: √(tr Σ_samples / tr Σ_reference).
    public var spread: Double?
    /// Drift from the previous point's samples: the Fréchet distance between the two sets. (Not MMD²: the two sets
    /// share their noise rows, so the unbiased estimate is biased below 0 by the paired rows.)
    public var driftFrechet: Double?
    /// Why sampling or the analysis failed, if it did.
    public var error: String?
    /// The kinds flagged at this point.
    public var flags: [TrainingHealth] = []
    /// Seconds spent sampling and analysing at this point, and training seconds (excluding the monitor) so far.
    public var samplingSeconds = 0.0
    public var analysisSeconds = 0.0
    public var trainingSeconds = 0.0

    public var json: JSON {
        .object([
            ("step", .int(step)), ("loss", .num(loss)), ("finite_fraction", .num(finiteFraction)),
            ("mmd2", .num(mmd2)), ("precision", .num(precision)), ("recall", .num(recall)),
            ("k_star", signalRank.map { .int($0) } ?? .null), ("regime", regime.map { .string($0) } ?? .null),
            ("spread", .num(spread)), ("drift_frechet", .num(driftFrechet)),
            ("error", error.map { .string($0) } ?? .null),
            ("flags", .array(flags.map { .string($0.rawValue) })),
            ("seconds", .object([("sampling", .num(samplingSeconds)), ("analysis", .num(analysisSeconds)), ("training", .num(trainingSeconds))])),
        ])
    }
}

/// A training-health monitor: every K training steps the caller draws samples of a FIXED noise batch (the same seed
/// every time) and hands them to `record`; the monitor scores them against a held-out reference set and the
/// moment-matched Gaussian baseline, analyses their spectrum, measures the drift from the previous point, flags a
/// run that looks diverging or collapsing, and (with `outputs`) rewrites a JSON file and an HTML report atomically,
/// so a user can watch a run while it trains.
///
/// Figures at each point (docs/method.md §4, §7, §8b):
/// - MMD² = E k(x, x′) + E k(y, y′) − 2 E k(x, y), unbiased, RBF kernel with h² = ½ median squared distance within
///   the reference (Gretton et al. 2012), against the reference; the baseline's MMD² for a Gaussian with the
///   reference's mean and covariance, sampled as many times;
/// - precision (fraction of samples inside some reference point's k-NN ball) and recall (fraction of reference
///   points inside some sample's k-NN ball), k = 3 (Kynkäänniemi et al. 2019), and the baseline's;
/// - k*, the number of singular values of the centred samples above the Gavish–Donoho (2014) threshold, and the
///   regime R1/R2/R3;
/// - drift from the previous point: the Fréchet distance ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁^{½}Σ₂Σ₁^{½})^{½})
///   (Dowson & Landau 1982) between the two sample sets;
/// - the mean training loss since the previous point.
///
/// Flags (raised at a point, one stderr line through `onFlag` when a kind appears):
/// - diverging: some samples are not finite; or MMD² rose at each of the last three points and the last is more
///   than twice the first of them (and above a tenth of the baseline's, so estimator noise near 0 does not count);
///   or, when no collapse is flagged, MMD² is above the Gaussian baseline's and more than twice the best earlier
///   point's while that one was below the baseline's (a run that had learned and got worse than a Gaussian stays
///   flagged); or training stopped with non-finite losses (`stop`);
/// - collapsing: precision ≥ 0.5 with recall < 0.05 (samples on the data but covering almost none of it); k* ≤ 1
///   while the reference's k* ≥ 2 after an earlier point had k* ≥ 2; or the samples' spread √(tr Σ) below 5 % of
///   the reference's.
public final class TrainingMonitor {
    public let settings: TrainingMonitorSettings
    /// The held-out reference set [m, D], in the units of the samples.
    public let reference: Tensor<Double>
    /// The reference's k* and regime.
    public let referenceSignalRank: Int
    public let referenceRegime: String
    /// The moment-matched Gaussian baseline's MMD², precision and recall against the reference.
    public let baselineMMD2: Double
    public let baselinePrecision: Double
    public let baselineRecall: Double
    public private(set) var points: [TrainingMonitorPoint] = []
    public private(set) var flags: [TrainingMonitorFlag] = []
    /// Why training stopped early, if it did.
    public private(set) var stopReason: String?
    /// Where `record` writes the curves (JSON) and the report (HTML) after each point; nil: nowhere.
    public var outputs: (json: String, html: String)?
    /// Called with each flag the moment it is raised (a kind not raised at the previous point).
    public var onFlag: ((TrainingMonitorFlag) -> Void)?

    private var previous: Tensor<Double>?
    private var lossSum = 0.0, lossCount = 0
    public private(set) var lossName: String?
    private let started = Date()
    /// Seconds the monitor itself took (setup, sampling, analysis, writing).
    public private(set) var monitorSeconds = 0.0
    private let referenceTrace: Double

    /// The files of the monitor of a model file: `<model>.monitor.json` and `<model>.monitor.html` beside it
    /// (`runs/m.safetensors` → `runs/m.monitor.json`).
    public static func outputPaths(model: String) -> (json: String, html: String) {
        let url = URL(fileURLWithPath: model)
        let stem = url.pathExtension.isEmpty ? model : String(model.dropLast(url.pathExtension.count + 1))
        return (stem + ".monitor.json", stem + ".monitor.html")
    }

    /// Prepares a monitor: checks the settings and the reference, scores the Gaussian baseline and analyses the
    /// reference's spectrum (once).
    /// - Throws: `AnalysisError.parameter` naming the setting (every < 1, samples < 8, a reference of fewer than
    ///   8 rows or with non-finite values).
    public init(settings s: TrainingMonitorSettings, reference: Tensor<Double>) throws {
        let t0 = Date()
        guard s.every >= 1 else { throw AnalysisError.parameter(term: "monitor", name: "every", problem: "every must be ≥ 1 step, got \(s.every)") }
        guard s.samples >= 8 else { throw AnalysisError.parameter(term: "monitor", name: "samples", problem: "samples must be ≥ 8, got \(s.samples)") }
        guard reference.rank == 2, reference.shape[0] >= 8 else {
            throw AnalysisError.parameter(term: "monitor", name: "reference", problem: "needs an [m, D] reference with m ≥ 8, got shape \(reference.shape)")
        }
        try reference.checkFinite("monitor reference")
        settings = s
        self.reference = reference
        let regime = try Regimes.classify(reference, seed: s.analysisSeed)
        referenceSignalRank = regime.spectrum.signalRank
        referenceRegime = regime.regime.rawValue
        referenceTrace = try Self.trace(reference)
        let b = try SampleQuality.gaussianBaseline(real: reference, count: s.samples, seed: s.analysisSeed &+ 0xB5)
        baselineMMD2 = try Drift.mmdTest(reference, b, permutations: 0, seed: s.analysisSeed).mmd2
        let pr = try SampleQuality.precisionRecall(generated: b, real: reference, k: s.precisionK)
        baselinePrecision = pr.precision; baselineRecall = pr.recall
        monitorSeconds = Date().timeIntervalSince(t0)
    }

    /// tr Σ of the rows of x (ddof 1).
    static func trace(_ x: Tensor<Double>) throws -> Double {
        let xc = try Spectrum.centered(x).xc
        let n = x.shape[0]
        return xc.withUnsafeBufferPointer { p in p.reduce(0) { $0 + $1 * $1 } } / Double(Swift.max(1, n - 1))
    }

    /// A training step's headline loss (call after every step; the point's loss is the mean since the last point).
    public func observe(loss: Double?, name: String? = nil) {
        if let n = name, lossName == nil { lossName = n }
        guard let l = loss else { return }
        lossSum += l; lossCount += 1
    }

    /// Training stopped early (a non-finite loss): flags the run as diverging at `step` and rewrites the outputs.
    public func stop(step: Int, reason: String) throws {
        stopReason = reason
        raise(TrainingMonitorFlag(step: step, kind: .diverging, reason: "training stopped: \(reason)"), previousKinds: [])
        try write()
    }

    /// A monitor point at `step`: `draw` returns the samples of the fixed noise batch [n, D] (in the reference's
    /// units). Sampling and analysis failures are recorded in the point (and flag the run), not thrown; only
    /// writing the outputs throws.
    @discardableResult
    public func record(step: Int, draw: () throws -> Tensor<Double>) throws -> TrainingMonitorPoint {
        let t0 = Date()
        var p = TrainingMonitorPoint(step: step, loss: lossCount > 0 ? lossSum / Double(lossCount) : nil, finiteFraction: 0)
        lossSum = 0; lossCount = 0
        var samples: Tensor<Double>? = nil
        do { samples = try draw() } catch { p.error = "sampling failed: \(error)" }
        let t1 = Date()
        p.samplingSeconds = t1.timeIntervalSince(t0)
        if let x = samples { analyse(x, into: &p) }
        let t2 = Date()
        p.analysisSeconds = t2.timeIntervalSince(t1)
        monitorSeconds += t2.timeIntervalSince(t0)
        p.trainingSeconds = Swift.max(0, t2.timeIntervalSince(started) - monitorSeconds)
        let before = Set(points.last?.flags ?? [])
        points.append(p)
        for f in assess() { raise(f, previousKinds: before) }
        let t3 = Date()
        try write()
        monitorSeconds += Date().timeIntervalSince(t3)
        return points[points.count - 1]
    }

    private func analyse(_ x: Tensor<Double>, into p: inout TrainingMonitorPoint) {
        guard x.rank == 2, x.shape[1] == reference.shape[1], x.shape[0] >= settings.precisionK + 1 else {
            p.error = "the samples have shape \(x.shape); expected [n ≥ \(settings.precisionK + 1), \(reference.shape[1])]"
            previous = nil
            return
        }
        let n = x.shape[0], d = x.shape[1]
        let finiteRows = x.withUnsafeBufferPointer { b in (0..<n).filter { r in (0..<d).allSatisfy { b[r * d + $0].isFinite } }.count }
        p.finiteFraction = Double(finiteRows) / Double(n)
        guard finiteRows == n else {
            p.error = "\(n - finiteRows) of \(n) samples are not finite"
            previous = nil
            return
        }
        let seed = settings.analysisSeed
        var errors: [String] = []
        func attempt(_ what: String, _ body: () throws -> Void) {
            do { try body() } catch { errors.append("\(what): \(error)") }
        }
        attempt("MMD²") { p.mmd2 = try Drift.mmdTest(reference, x, permutations: 0, seed: seed).mmd2 }
        attempt("precision/recall") {
            let pr = try SampleQuality.precisionRecall(generated: x, real: reference, k: settings.precisionK)
            p.precision = pr.precision; p.recall = pr.recall
        }
        attempt("spread") { p.spread = (try Self.trace(x) / Swift.max(referenceTrace, .leastNormalMagnitude)).squareRoot() }
        attempt("regime") {
            let r = try Regimes.classify(x, seed: seed, twoNN: false)
            p.signalRank = r.spectrum.signalRank; p.regime = r.regime.rawValue
        }
        if let prev = previous {
            attempt("drift") {
                p.driftFrechet = try Drift.frechetDistance(prev, x)
            }
        }
        if !errors.isEmpty { p.error = "analysis failed: " + errors.joined(separator: "; ") }
        previous = x
    }

    /// The flags of the latest point (see the type's documentation for the rules).
    private func assess() -> [TrainingMonitorFlag] {
        guard let p = points.last else { return [] }
        var out: [TrainingMonitorFlag] = []
        let f = { (v: Double) in SVGPlot.number(v) }
        if p.finiteFraction < 1 && p.error?.contains("not finite") == true {
            out.append(TrainingMonitorFlag(step: p.step, kind: .diverging, reason: p.error!))
        } else if p.error != nil && p.mmd2 == nil {
            out.append(TrainingMonitorFlag(step: p.step, kind: .diverging, reason: p.error!))
        }
        let last3 = points.suffix(3).compactMap(\.mmd2)
        if points.count >= 3, last3.count == 3, last3[0] < last3[1], last3[1] < last3[2],
           last3[2] > 2 * Swift.max(last3[0], 0.1 * baselineMMD2) {
            out.append(TrainingMonitorFlag(step: p.step, kind: .diverging,
                                           reason: "MMD² rose over the last 3 points, \(f(last3[0])) → \(f(last3[1])) → \(f(last3[2])) (more than 2×)"))
        }
        if let pr = p.precision, let rc = p.recall, pr >= 0.5, rc < 0.05 {
            out.append(TrainingMonitorFlag(step: p.step, kind: .collapsing,
                                           reason: "precision \(f(pr)) with recall \(f(rc)): the samples lie on the data but cover almost none of it"))
        }
        if let k = p.signalRank, k <= 1, referenceSignalRank >= 2, points.dropLast().contains(where: { ($0.signalRank ?? 0) >= 2 }) {
            out.append(TrainingMonitorFlag(step: p.step, kind: .collapsing,
                                           reason: "k* = \(k) while the data's k* = \(referenceSignalRank), down from an earlier k* ≥ 2"))
        }
        if let sp = p.spread, sp < 0.05 {
            out.append(TrainingMonitorFlag(step: p.step, kind: .collapsing,
                                           reason: "the samples' spread √(tr Σ) is \(f(100 * sp)) % of the data's"))
        }
        // A run that got worse than it was and than a Gaussian, without a sign of collapse, keeps its divergence flag.
        if !out.contains(where: { $0.kind != .healthy }), let m = p.mmd2, let best = points.dropLast().compactMap(\.mmd2).min(),
           best < baselineMMD2, m > baselineMMD2, m > 2 * Swift.max(best, 0.1 * baselineMMD2) {
            out.append(TrainingMonitorFlag(step: p.step, kind: .diverging,
                                           reason: "MMD² \(f(m)) is above the Gaussian baseline's \(f(baselineMMD2)) and more than twice the best earlier point's \(f(best)), which was below it"))
        }
        return out
    }

    private func raise(_ flag: TrainingMonitorFlag, previousKinds: Set<TrainingHealth>) {
        if let i = points.lastIndex(where: { $0.step == flag.step }), !points[i].flags.contains(flag.kind) { points[i].flags.append(flag.kind) }
        // One record per kind and point, with every reason.
        if let i = flags.firstIndex(where: { $0.step == flag.step && $0.kind == flag.kind }) {
            flags[i].reason += "; " + flag.reason
            return
        }
        flags.append(flag)
        if !previousKinds.contains(flag.kind) { onFlag?(flag) }
    }

    /// The run's state: diverging or collapsing when the latest point (or the stop) is flagged, else healthy.
    public var health: TrainingHealth {
        if stopReason != nil { return .diverging }
        guard let p = points.last else { return .healthy }
        if p.flags.contains(.diverging) { return .diverging }
        if p.flags.contains(.collapsing) { return .collapsing }
        return .healthy
    }

    /// Monitor seconds over training seconds (excluding the monitor), so far.
    public var overhead: (monitor: Double, training: Double, fraction: Double) {
        let wall = Date().timeIntervalSince(started)
        let training = Swift.max(1e-9, (points.last?.trainingSeconds).map { Swift.max($0, wall - monitorSeconds) } ?? (wall - monitorSeconds))
        return (monitorSeconds, training, monitorSeconds / training)
    }

    /// The curves and settings as JSON (`<model>.monitor.json`). Everything but the "seconds" and "timing" entries is
    /// a function of the seeds, so two runs with the same seeds give the same JSON apart from those.
    public var json: JSON {
        let s = settings
        let o = overhead
        return .object([
            ("format", .string("vst training monitor 1")),
            ("family", .string(s.family)), ("data", .string(s.data)), ("model", .string(s.model)),
            ("every", .int(s.every)), ("first_step", .int(s.firstStep)), ("total_steps", .int(s.totalSteps)),
            ("samples", .int(s.samples)), ("noise_seed", .int(Int(truncatingIfNeeded: s.noiseSeed))),
            ("sampler", .string(s.sampler)), ("precision_k", .int(s.precisionK)),
            ("loss_name", lossName.map { .string($0) } ?? .null),
            ("reference", .object([("description", .string(s.reference)), ("rows", .int(reference.shape[0])), ("d", .int(reference.shape[1])),
                                   ("k_star", .int(referenceSignalRank)), ("regime", .string(referenceRegime))])),
            ("baseline", .object([("kind", .string("gaussian")), ("mmd2", .num(baselineMMD2)), ("precision", .num(baselinePrecision)),
                                  ("recall", .num(baselineRecall))])),
            ("health", .string(health.rawValue)),
            ("stopped", stopReason.map { .string($0) } ?? .null),
            ("flags", .array(flags.map(\.json))),
            ("points", .array(points.map(\.json))),
            ("timing", .object([("monitor_seconds", .num(o.monitor)), ("training_seconds", .num(o.training)), ("overhead", .num(o.fraction))])),
        ])
    }

    /// Rewrites `outputs` (atomically: each file is written beside its target and renamed over it).
    public func write() throws {
        guard let out = outputs else { return }
        try AtomicFile.write(Data((json.serialized(pretty: true) + "\n").utf8), to: out.json, overwrite: true)
        let jsonName = URL(fileURLWithPath: out.json).lastPathComponent
        try AtomicFile.write(Data(TrainingMonitorReport(self).html(jsonFile: jsonName).utf8), to: out.html, overwrite: true)
    }
}
