import Foundation
import Linear
import Substrate
import Testing
import VSTCore
import TestSupport

/// The training monitor on synthetic runs whose samples are known: a ring (radius 3) in a random 2-D plane of
/// R¹⁶ with noise 0.05 is the data; a "learning" run's samples are the ring plus noise shrinking from 2 to 0.05, a
/// "diverging" run's the ring blown up ×1, ×2, ×4, ×8 and then NaN, a "collapsing" run's one data point.
@Suite struct TrainingMonitorTests {
    static let d = 16

    /// n points of the ring at fixed angles (seed) in the plane of `basis`, plus isotropic noise of std `noise`
    /// drawn from `noiseSeed` (the same noise rows whatever `noise` is).
    static func ring(_ n: Int, seed: UInt64, noise: Double, noiseSeed: UInt64, scale: Double = 1) throws -> Tensor<Double> {
        var g = RandomGenerator(seed: 99)
        let basis = try Tensor<Double>.normal([d, 2], using: &g).qr().q.transposed()          // [2, 16], orthonormal rows
        let angles = Tensor<Double>.uniform([n], low: 0, high: 2 * Double.pi, seed: seed).scalars
        let plane = try Tensor<Double>(angles.flatMap { [3 * Foundation.cos($0), 3 * Foundation.sin($0)] }, shape: [n, 2])
        return try matmul(plane, basis) * scale + Tensor<Double>.normal([n, d], seed: noiseSeed) * noise
    }

    static func reference() throws -> Tensor<Double> { try ring(1000, seed: 1, noise: 0.05, noiseSeed: 2) }

    static func settings(_ every: Int, _ total: Int) -> TrainingMonitorSettings {
        var s = TrainingMonitorSettings(every: every, totalSteps: total)
        s.samples = 256; s.family = "synthetic"; s.data = "ring:16"; s.model = "m.safetensors"; s.sampler = "fixed"; s.reference = "ring"
        return s
    }

    /// A JSON value without its timing entries ("seconds", "timing"), which are the only ones that vary between runs.
    static func untimed(_ j: JSON) -> JSON {
        switch j {
        case let .object(pairs): return .object(pairs.filter { $0.0 != "seconds" && $0.0 != "timing" }.map { ($0.0, untimed($0.1)) })
        case let .array(items): return .array(items.map(untimed))
        default: return j
        }
    }

    /// Whether two JSON values have the same structure, keys, strings and integers, and numbers equal to a relative
    /// `tolerance`. Runs with the same seeds are bit-identical at one BLAS thread count, but the covariance fits
    /// behind the baseline and k* split their rows by `BLAS.threads`, which is process-wide and which concurrently
    /// running tests change; a different split reorders the float64 sums, so the numbers may move in the last
    /// few bits (measured: 1e-14 relative). 1e-9 is that rounding with a wide margin and far below any value the
    /// monitor reports.
    static func equalUpToRounding(_ a: JSON, _ b: JSON, tolerance: Double = 1e-9) -> Bool {
        switch (a, b) {
        case let (.number(x), .number(y)):
            return x == y || (x.isNaN && y.isNaN) || Swift.abs(x - y) <= tolerance * Swift.max(Swift.abs(x), Swift.abs(y))
        case let (.array(xs), .array(ys)):
            return xs.count == ys.count && zip(xs, ys).allSatisfy { equalUpToRounding($0, $1, tolerance: tolerance) }
        case let (.object(xs), .object(ys)):
            return xs.count == ys.count && zip(xs, ys).allSatisfy { $0.0 == $1.0 && equalUpToRounding($0.1, $1.1, tolerance: tolerance) }
        default:
            return a == b
        }
    }

    /// A learning run: five points, noise 2 → 0.05.
    static func learningRun(outputs: (String, String)? = nil) throws -> TrainingMonitor {
        let m = try TrainingMonitor(settings: settings(100, 500), reference: reference())
        m.outputs = outputs.map { (json: $0.0, html: $0.1) }
        for (i, noise) in [2.0, 1.0, 0.4, 0.15, 0.05].enumerated() {
            for k in 0..<100 { m.observe(loss: noise + Double(k) * 1e-4, name: "loss") }
            try m.record(step: 100 * (i + 1)) { try Self.ring(256, seed: 5, noise: noise, noiseSeed: 6) }
        }
        return m
    }

    @Test("a learning run: one point per record with every key, MMD² ends below the Gaussian baseline, no flag, deterministic JSON")
    func learning() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("monitor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = TrainingMonitor.outputPaths(model: dir.appendingPathComponent("m.safetensors").path)
        #expect(paths.json.hasSuffix("/m.monitor.json") && paths.html.hasSuffix("/m.monitor.html"))
        let a = try Self.learningRun(outputs: (paths.json, paths.html))
        let b = try Self.learningRun()
        #expect(a.points.map(\.step) == [100, 200, 300, 400, 500])
        #expect(Self.equalUpToRounding(Self.untimed(a.json), Self.untimed(b.json)), "two runs with the same seeds differ")
        #expect(a.flags.isEmpty, "\(a.flags.map(\.reason))")
        #expect(a.health == .healthy)
        let last = try #require(a.points.last)
        let first = try #require(a.points.first)
        #expect(try #require(last.mmd2) < a.baselineMMD2, "final MMD² \(String(describing: last.mmd2)) vs baseline \(a.baselineMMD2)")
        #expect(try #require(first.mmd2) > a.baselineMMD2)
        #expect(try #require(last.precision) > a.baselinePrecision)
        #expect(last.signalRank == a.referenceSignalRank && a.referenceSignalRank == 2, "k* \(String(describing: last.signalRank)) vs data \(a.referenceSignalRank)")
        #expect(a.points[0].driftFrechet == nil && a.points[1].driftFrechet != nil)
        let lastLoss = try #require(last.loss)
        let expectedLoss: Double = 0.05 + 99.0 * 1e-4 / 2.0
        #expect(Swift.abs(lastLoss - expectedLoss) < 1e-12, "the loss is the mean since the previous point")

        // The files: JSON with the documented keys, one self-contained page with every figure inline.
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: paths.json))) as? [String: Any])
        for key in ["family", "data", "every", "samples", "noise_seed", "sampler", "reference", "baseline", "health", "flags", "points", "timing"] {
            #expect(parsed[key] != nil, "missing \(key)")
        }
        let points = try #require(parsed["points"] as? [[String: Any]])
        #expect(points.count == 5)
        for key in ["step", "loss", "mmd2", "precision", "recall", "k_star", "regime", "drift_frechet", "finite_fraction", "flags"] {
            #expect(points.allSatisfy { $0[key] != nil }, "a point lacks \(key)")
        }
        let html = try String(contentsOfFile: paths.html, encoding: .utf8)
        #expect(html.components(separatedBy: "<svg").count - 1 == 6, "six inline figures")
        #expect(!html.contains("<img") && html.contains("m.monitor.json") && !html.contains("http://") && !html.contains("https://"))

        // The same sections as a report directory (index.html, report.json, one SVG per figure), the form that
        // scripts/check-report.sh checks in a browser; VST_MONITOR_REPORT names a directory to keep a copy in.
        let report = TrainingMonitorReport(a)
        var dirs = [dir.appendingPathComponent("report").path]
        if let keep = ProcessInfo.processInfo.environment["VST_MONITOR_REPORT"] { dirs.append(keep) }
        for d in dirs {
            try report.report.write(to: d, json: a.json, overwrite: true)
            try AtomicFile.write(Data(html.utf8), to: d + "/single.html", overwrite: true)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dirs[0])
        #expect(Set(files.filter { $0.hasSuffix(".svg") }) == ["mmd2.svg", "precision-recall.svg", "kstar.svg", "regime.svg", "drift.svg", "loss.svg"], "\(files)")
    }

    @Test("a diverging run is flagged: MMD² rising over three points by more than 2×, then non-finite samples")
    func diverging() throws {
        let m = try TrainingMonitor(settings: Self.settings(10, 50), reference: Self.reference())
        var raised: [TrainingMonitorFlag] = []
        m.onFlag = { raised.append($0) }
        for (i, scale) in [1.0, 2.0, 4.0, 8.0].enumerated() {
            try m.record(step: 10 * (i + 1)) { try Self.ring(256, seed: 5, noise: 0.05, noiseSeed: 6, scale: scale) }
        }
        #expect(m.health == .diverging, "MMD² \(m.points.map { $0.mmd2 ?? .nan }), flags \(m.flags.map(\.reason))")
        #expect(m.flags.contains { $0.kind == .diverging && $0.reason.contains("MMD² rose") })
        try m.record(step: 50) {
            var x = try Self.ring(256, seed: 5, noise: 0.05, noiseSeed: 6)
            x[3, 3] = .nan
            return x
        }
        #expect(m.points.last?.finiteFraction == 255.0 / 256.0)
        #expect(m.flags.contains { $0.step == 50 && $0.reason.contains("1 of 256 samples are not finite") })
        #expect(m.health == .diverging)
        // One stderr line when the kind appears, not one per point it stays.
        #expect(raised.filter { $0.kind == .diverging }.count == 1, "\(raised.map(\.reason)), MMD² \(m.points.map { $0.mmd2 ?? .nan })")
    }

    @Test("a collapsing run is flagged: every sample at one data point (precision high, recall ≈ 0, k* 0, spread ≈ 0)")
    func collapsing() throws {
        let ref = try Self.reference()
        let m = try TrainingMonitor(settings: Self.settings(10, 20), reference: ref)
        try m.record(step: 10) { try Self.ring(256, seed: 5, noise: 0.05, noiseSeed: 6) }
        #expect(m.health == .healthy)
        try m.record(step: 20) {
            let one = try ref.slice(0..<1)
            return try one.broadcast(to: [256, Self.d]) + Tensor<Double>.normal([256, Self.d], seed: 8) * 1e-4
        }
        #expect(m.health == .collapsing, "\(m.points.last.map { "\($0.precision ?? .nan) \($0.recall ?? .nan) \($0.signalRank ?? -1)" } ?? "")")
        #expect(m.flags.contains { $0.kind == .collapsing && $0.reason.contains("recall") && $0.reason.contains("k* = 0") })
        #expect(!m.flags.contains { $0.kind == .diverging }, "\(m.flags.map(\.reason))")
        #expect(m.flags.contains { $0.kind == .collapsing && $0.reason.contains("spread") }, "\(m.flags.map(\.reason))")
    }

    @Test("settings are checked: every < 1 and samples < 8 are refused naming the setting")
    func refusals() throws {
        var s = Self.settings(0, 10)
        #expect { try TrainingMonitor(settings: s, reference: Self.reference()) } throws: { "\($0)".contains("every") }
        s.every = 1; s.samples = 4
        #expect { try TrainingMonitor(settings: s, reference: Self.reference()) } throws: { "\($0)".contains("samples") }
    }
}
