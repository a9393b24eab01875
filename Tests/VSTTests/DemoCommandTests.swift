import Foundation
import Testing
import TestSupport

/// End to end: `vst demo --quick` trains, samples and analyses, and its report says what the issue promises —
/// every section's keys, models that beat the Gaussian baseline, a passing validation.
@Suite(.serialized) struct DemoCommandTests {
    static func runDemo(_ extra: [String], in dir: URL) throws -> CommandLineTests.Result {
        // Digits are found from the repository root (the test's working directory may be anywhere).
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try CommandLineTests.run(["demo", "--quick", "--quiet"] + extra, in: dir,
                                        environment: ["SUBSTRATE_DATA": root.appendingPathComponent("data").path])
    }

    @Test("vst demo --quick writes a complete, sane report")
    func quickDemo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Self.runDemo(["--out", "report"], in: dir)
        #expect(r.code == 0, "vst demo failed: \(r.err)")
        let report = dir.appendingPathComponent("report")
        let data = try Data(contentsOf: report.appendingPathComponent("report.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["demo", "data", "training", "regimes", "trajectories", "drift", "quality", "alignment", "scaling", "validation"] {
            #expect(json[key] != nil, "report.json lacks '\(key)'")
        }
        // Every model's loss fell.
        let training = try #require(json["training"] as? [[String: Any]])
        for m in training where m["seconds"] is Double {
            let first = try #require(m["initial_loss"] as? Double), last = try #require(m["final_loss"] as? Double)
            #expect(last < first, "\(m["model"] ?? "?"): loss did not fall (\(first) → \(last))")
        }
        // The final flow-matching samples (RK4) beat the Gaussian baseline on MMD², precision and feature FD.
        let quality = try #require(json["quality"] as? [String: Any])
        let fm = try #require(quality["fm-rk4-20"] as? [String: Any])
        #expect(fm["learned"] as? Bool == true, "flow matching does not beat the baseline: \(fm)")
        let learnedCount = quality.values.compactMap { ($0 as? [String: Any])?["learned"] as? Bool }.filter { $0 }.count
        #expect(learnedCount >= 2)
        // Samplers of the same model on the same noise agree; real digits and every trajectory are analysed.
        let drift = try #require(json["drift"] as? [String: Any])
        let eulerRK4 = try #require(drift["euler_vs_rk4"] as? [String: Any])
        #expect(eulerRK4["drift"] as? Bool == false)
        let trajectories = try #require(json["trajectories"] as? [String: Any])
        #expect(trajectories.count == 4)
        for case let t as [String: Any] in trajectories.values {
            let phases = try #require(t["phases"] as? [[String: Any]])
            #expect(phases.first?["regime"] as? String == "R3", "sampling starts from noise, which is dispersed")
        }
        let alignment = try #require(json["alignment"] as? [String: Any])
        #expect(alignment.count >= 1)
        let scaling = try #require(json["scaling"] as? [String: Any])
        #expect(scaling["regime"] as? String == "S1", "moons lifted orthogonally keep a 2-D signal at every rung")
        let validation = try #require(json["validation"] as? [String: Any])
        #expect(["pass", "warn"].contains(validation["status"] as? String ?? ""), "validation: \(validation)")
        // The page and its figures.
        let html = try String(contentsOf: report.appendingPathComponent("index.html"), encoding: .utf8)
        for figure in ["digits_real.svg", "spectrum.svg", "core2d.svg", "core3d.svg", "strip_ddim-50.svg", "alignment_seeds.svg"] {
            #expect(html.contains(figure))
            #expect(FileManager.default.fileExists(atPath: report.appendingPathComponent(figure).path), "missing \(figure)")
        }
        // An existing report is kept unless --force.
        let again = try Self.runDemo(["--out", "report"], in: dir)
        #expect(again.code == 2)
        #expect(again.err.contains("--force"))
    }
}
