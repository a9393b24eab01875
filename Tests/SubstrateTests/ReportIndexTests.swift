import Foundation
import Linear
import Testing
@testable import Substrate
import TestSupport

/// One index page for a job's reports (issue 18 item 3) and the drift test shown once in validation (item 1).
@Suite struct ReportIndexTests {
    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-report-index-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func theDriftTestAgainstAReferenceIsOneCheck() throws {
        let reference = Tensor<Double>.normal([150, 12], seed: 11), candidate = Tensor<Double>.normal([150, 12], seed: 12)
        let regime = try Regimes.classify(candidate, seed: 1, twoNN: false)
        var o = DriftOptions(); o.permutations = 50; o.seed = 3
        let drift = try Drift.compare(reference, candidate, options: o)
        // What `vst validate --reference` runs: V2 on the states, V4 against the reference.
        let checks = Validation.statistical(regime) + Validation.crossModel(alignmentRegime: nil, drift: drift)
        let driftChecks = checks.filter { $0.name.contains("drift") }
        #expect(driftChecks.count == 1, "\(checks.map { "\($0.layer) \($0.name)" })")
        #expect(driftChecks.first?.layer == "V4" && driftChecks.first?.name == "no_drift")
        #expect(driftChecks.first?.value == .num(drift.pValue) && driftChecks.first?.threshold == .num(drift.alpha))
        #expect(!Validation.statistical(regime).contains { $0.name.contains("drift") })
        let rows = AnalysisReports.validationTable(checks).1
        #expect(rows.filter { $0[1].contains("drift") }.count == 1)
    }

    @Test func oldValidationFilesWithTheDriftTestTwiceReadAsOne() throws {
        // A report.json written before the drift test was one check: V2 `drift` and V4 `no_drift`, same p and α.
        let old = """
        {"status": "pass", "checks": [
          {"layer": "V1", "name": "round_trip", "status": "pass", "value": 8.354408406461938e-16, "threshold": 1e-12, "message": "ok"},
          {"layer": "V2", "name": "regime", "status": "pass", "value": "R2", "threshold": null, "message": "wide"},
          {"layer": "V2", "name": "drift", "status": "pass", "value": 0.42, "threshold": 0.05, "message": "no drift"},
          {"layer": "V4", "name": "no_drift", "status": "pass", "value": 0.42, "threshold": 0.05, "message": "no drift"},
          {"layer": "V4", "name": "alignment", "status": "pass", "value": "A1", "threshold": "A2", "message": "ok"}]}
        """
        let report = try ValidationReport(json: JSON(parsing: Data(old.utf8), path: "old.json"))
        #expect(report.checks.map { "\($0.layer) \($0.name)" } == ["V1 round_trip", "V2 regime", "V4 no_drift", "V4 alignment"])
        #expect(report.status == .pass)
        let (_, rows) = AnalysisReports.validationTable(report.checks)
        #expect(rows.filter { $0[1].contains("drift") }.count == 1)
        #expect(rows.contains { $0[0] == "V4" && $0[1] == "no_drift" && $0[3] == "0.420" && $0[4] == "0.0500" })
        #expect(rows[0][3] == "8.35e-16" && rows[1][3] == "R2" && rows[1][4] == "—")
        // A V2 drift check with another p-value is a different test and is kept; a new file reads back unchanged.
        let other = ValidationReport(checks: [
            ValidationCheck(layer: "V2", name: "drift", status: .fail, value: .num(0.01), threshold: .num(0.05), message: "drift"),
            ValidationCheck(layer: "V4", name: "no_drift", status: .pass, value: .num(0.42), threshold: .num(0.05), message: "no drift")])
        let back = try ValidationReport(json: JSON(parsing: Data(other.json.serialized().utf8), path: "new.json"))
        #expect(back.checks.count == 2 && back.status == .fail && back.json == other.json)
        #expect(throws: TensorError.self) { try ValidationReport(json: .object([("status", .string("pass"))])) }
        #expect(throws: TensorError.self) { try ValidationReport(json: JSON(parsing: Data(#"{"checks": [{"layer": "V1"}]}"#.utf8), path: "bad.json")) }
    }

    @Test func verdictsAreReadFromEachKindOfReport() throws {
        func v(_ text: String) throws -> (String, String) { let r = ReportIndex.verdict(of: try JSON(parsing: Data(text.utf8), path: "t.json")); return (r.verdict, r.summary) }
        #expect(try v(#"{"regime": "R1", "reasons": ["k* = 2 stable"]}"#) == ("R1", "k* = 2 stable."))
        #expect(try v(#"{"regime": "S1", "reasons": []}"#) == ("S1", ""))
        #expect(try v(#"{"drift": false, "mmd2": 0.001, "reasons": ["p = 0.4 ≥ α"], "regime_a": "R1"}"#) == ("no drift", "p = 0.4 ≥ α."))
        #expect(try v(#"{"beats_baseline": true, "reasons": ["MMD² 0.01 < baseline 0.1"]}"#).0 == "beats baseline")
        #expect(try v(#"{"regime_sequence": "R3 → R2 → R1", "transitions": [{"t": 350, "from": "R3", "to": "R2"}, {"t": 700, "from": "R2", "to": "R1"}]}"#)
                == ("R3 → R2 → R1", "R3→R2 at sampler step 350, R2→R1 at sampler step 700."))
        #expect(try v(#"{"status": "warn", "checks": [{"layer": "V1", "name": "condition_number", "status": "warn", "value": 1e9, "threshold": 1e8, "message": "κ = 1e9"}, {"layer": "V1", "name": "finite", "status": "pass", "value": 0, "threshold": 0, "message": "ok"}]}"#)
                == ("warn", "2 checks: 1 pass, 1 warn, 0 fail. V1 condition_number: κ = 1e9."))
        #expect(try v(#"{"demo": {"summary": ["The digits are R2"]}, "validation": {"status": "pass", "checks": []}}"#) == ("pass", "The digits are R2."))
        #expect(try v(#"{"status": "ok", "rows": 1000000, "d": 256, "used_shards": 64, "regimes": {"regime": "R1"}}"#) == ("ok", "1000000 rows × D = 256, 64 shards used."))
        #expect(try v(#"{"x": [1, true, null]}"#) == ("—", ""))
        #expect(throws: TensorError.self) { try JSON(parsing: Data("{not json".utf8), path: "t.json") }
        #expect(try JSON(parsing: Data(#"[true, 1, 1.5, "a", null]"#.utf8), path: "t") == .array([.bool(true), .int(1), .number(1.5), .string("a"), .null]))
    }

    @Test func scanLinksEveryReportUnderADirectoryWithItsVerdict() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Two reports as `--report` writes them (one nested like make quality's), a bare JSON result, and noise.
        var a = HTMLReport(title: "Regimes: R1", subtitle: "x.npy")
        a.add("Verdict", "R1.")
        try a.write(to: dir.appendingPathComponent("regimes-x").path, json: .object([("regime", .string("R1")), ("reasons", .array([.string("k* = 2")]))]))
        var b = HTMLReport(title: "The model beats the Gaussian baseline", subtitle: "s.npy vs held-out digits")
        b.add("Sample quality", "MMD².")
        try b.write(to: dir.appendingPathComponent("runs/digits/ddpm.ddim-50").path,
                    json: .object([("beats_baseline", .bool(true)), ("reasons", .array([.string("MMD² 0.01 < baseline 0.1")]))]))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("analysis"), withIntermediateDirectories: true)
        try Data(#"{"drift": true, "reasons": ["p = 0.001 < α = 0.05"]}"#.utf8).write(to: dir.appendingPathComponent("analysis/drift.json"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("empty/.hidden"), withIntermediateDirectories: true)
        try Data("<html>not a report</html>".utf8).write(to: dir.appendingPathComponent("empty/index.html"))   // no report.json beside it
        let broken = dir.appendingPathComponent("broken")
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        try Data("<title>Broken</title>".utf8).write(to: broken.appendingPathComponent("index.html"))
        try Data("{".utf8).write(to: broken.appendingPathComponent("report.json"))

        let index = try ReportIndex.scan(dir.path, title: "Job", results: ["analysis/drift.json"])
        #expect(index.entries.map(\.link) == ["broken/index.html", "regimes-x/index.html", "runs/digits/ddpm.ddim-50/index.html", "analysis/drift.json"])
        #expect(index.entries.map(\.verdict) == ["unreadable", "R1", "beats baseline", "drift"])
        #expect(index.entries[2].title == "runs/digits/ddpm.ddim-50")
        #expect(index.entries[2].summary == "The model beats the Gaussian baseline. MMD² 0.01 < baseline 0.1.")
        #expect(index.entries[3].title == "analysis/drift.json" && index.entries[3].summary == "p = 0.001 < α = 0.05.")
        for e in index.entries { #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(e.link).path), "\(e.link)") }
        // Depth limit: the nested report is three levels down.
        #expect(try ReportIndex.scan(dir.path, title: "Job", maxDepth: 2).entries.count == 2)
        try index.write(to: dir.path)
        let html = try String(contentsOf: dir.appendingPathComponent("reports.html"), encoding: .utf8)
        #expect(html.contains("<a href=\"runs/digits/ddpm.ddim-50/index.html\">runs/digits/ddpm.ddim-50</a>"))
        #expect(html.contains("<td class=\"verdict\">beats baseline</td>"))
        // The top directory's own report comes first, named by its title.
        var top = HTMLReport(title: "Study & summary")
        top.add("S", "s")
        try top.write(to: dir.path, json: .object([("demo", .object([("summary", .array([.string("All good")]))])), ("validation", .object([("status", .string("pass"))]))]))
        let withTop = try ReportIndex.scan(dir.path, title: "Job")
        #expect(withTop.entries.first?.link == "index.html" && withTop.entries.first?.title == "Study & summary" && withTop.entries.first?.verdict == "pass")

        #expect(throws: TensorError.self) { try ReportIndex.scan(dir.appendingPathComponent("missing").path, title: "Job") }
        #expect(throws: TensorError.self) { try ReportIndex.scan(dir.appendingPathComponent("analysis/drift.json").path, title: "Job") }
        #expect(throws: TensorError.self) { try ReportIndex.scan(dir.path, title: "Job", results: ["analysis/none.json"]) }
        #expect(throws: TensorError.self) { try ReportIndex.scan(dir.path, title: "Job", results: ["broken/report.json"]) }
    }
}

extension ReportIndexTests {
    /// The trajectory report's captions say what its figures show: where the core-rotation curve has no points and
    /// why, and which way k* moves (noise → signal raises it; the old caption said it falls).
    @Test func trajectoryCaptionsExplainTheGapAndTheDirectionOfKStar() throws {
        var g = RandomGenerator(seed: 21)
        let n = 400, d = 32
        let z = Tensor<Double>.normal([n, 3], using: &g)
        let a = try Tensor<Double>.normal([d, 3], using: &g).qr().q.transposed() * 10
        let signal = try matmul(z, a), noise = Tensor<Double>.normal([n, d], using: &g)
        let traj = try Tensor.stack((0...11).map { t -> Tensor<Double> in
            let w = Double(Swift.max(0, t - 3)) / 8
            return try signal * w + noise * (1 - w * 0.95)
        })
        let r = try TrajectoryAnalysis.analyze(traj)
        let page = AnalysisReports.trajectory(r, source: "test")
        let rotation = try #require(page.sections.first { $0.heading == "Core rotation" }?.text)
        let gapSteps = r.steps.dropLast().filter { $0.coreRotation == nil }
        #expect(!gapSteps.isEmpty, "the noise steps should have no signal subspace")
        #expect(rotation.contains("No point at") && rotation.contains("k* = 0"), "\(rotation)")
        let rank = try #require(page.sections.first { $0.heading == "Signal rank and energy" }?.text)
        let ks = r.steps.map { $0.report.spectrum.signalRank }
        #expect(ks.last! > ks.first!)
        #expect(rank.contains("Here k* goes from \(ks.first!) at sampler step 0 to \(ks.last!) at 11"), "\(rank)")
        #expect(!rank.contains("falling"))
    }
}
