import Foundation
import Testing

/// `vst train … --monitor K`: the option is checked, the curves are written beside the model at every point and
/// are the same for the same seed, the monitor does not change what is trained, and a broken run is flagged.
@Suite(.serialized) struct MonitorCommandTests {
    typealias CLI = CommandLineTests

    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-monitor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func object(_ dir: URL, _ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: dir.appendingPathComponent(name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The monitor JSON without its timing entries (the only ones that differ between two runs).
    static func untimed(_ v: Any) -> Any {
        if let o = v as? [String: Any] { return o.filter { $0.key != "seconds" && $0.key != "timing" }.mapValues(untimed) }
        if let a = v as? [Any] { return a.map(untimed) }
        return v
    }

    static func canonical(_ v: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: untimed(v), options: [.sortedKeys]), as: UTF8.self)
    }

    @Test("--monitor 0 and --monitor-samples 2 exit 2 naming the option; nothing is written")
    func refusals() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (args, option) in [(["--monitor", "0"], "--monitor"), (["--monitor", "5", "--monitor-samples", "2"], "--monitor-samples")] {
            let r = try CLI.run(["train", "ddpm", "--data", "moons", "--steps", "10", "-o", "m.safetensors"] + args, in: dir)
            #expect(r.code == 2, "\(args): exit \(r.code) \(r.err)")
            #expect(r.err.contains(option), "\(args): \(r.err)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.isEmpty)
    }

    @Test("a tiny ddpm run: points at 20, 40 and 60, every key, the same JSON twice, the model unchanged by monitoring, no overwrite without --force")
    func tinyRun() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["train", "ddpm", "--data", "moons", "--dim", "8", "--steps", "60", "--hidden", "32", "--blocks", "1", "--count", "512",
                    "--seed", "3", "--quiet"]
        let monitored = base + ["--monitor", "20", "--monitor-samples", "64"]
        let a = try CLI.run(monitored + ["-o", "a.safetensors"], in: dir)
        try #require(a.code == 0, "\(a.err)")
        let b = try CLI.run(monitored + ["-o", "b.safetensors"], in: dir)
        try #require(b.code == 0, "\(b.err)")
        let plain = try CLI.run(base + ["-o", "c.safetensors"], in: dir)
        try #require(plain.code == 0, "\(plain.err)")
        #expect(a.out.contains("a.monitor.json"), "\(a.out)")

        let ja = try Self.object(dir, "a.monitor.json"), jb = try Self.object(dir, "b.monitor.json")
        let points = try #require(ja["points"] as? [[String: Any]])
        #expect(points.compactMap { $0["step"] as? Int } == [20, 40, 60])
        for key in ["step", "loss", "mmd2", "precision", "recall", "k_star", "regime", "drift_mmd2", "drift_frechet", "finite_fraction", "flags", "seconds"] {
            #expect(points.allSatisfy { $0[key] != nil }, "a point lacks \(key)")
        }
        #expect(points.allSatisfy { $0["mmd2"] is Double && $0["loss"] is Double }, "\(points)")
        let baseline = try #require(ja["baseline"] as? [String: Any])
        #expect(baseline["mmd2"] is Double && baseline["precision"] is Double)
        #expect((ja["model"] as? String) == "a.safetensors" && (ja["sampler"] as? String)?.contains("ddim, 50 steps") == true, "\(ja["sampler"] ?? "")")
        // Same seed, same curves (the model name aside).
        var ja2 = ja, jb2 = jb
        ja2["model"] = nil; jb2["model"] = nil
        #expect(try Self.canonical(ja2) == Self.canonical(jb2))
        // Monitoring samples from the EMA weights in evaluation mode and puts the training state back: the model is
        // byte for byte the one trained without --monitor.
        #expect(try Data(contentsOf: dir.appendingPathComponent("a.safetensors")) == Data(contentsOf: dir.appendingPathComponent("c.safetensors")))
        let html = try String(contentsOf: dir.appendingPathComponent("a.monitor.html"), encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("a.monitor.json"))

        // The monitor's files are not overwritten without --force.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("c.safetensors"))
        try FileManager.default.copyItem(at: dir.appendingPathComponent("a.monitor.json"), to: dir.appendingPathComponent("c.monitor.json"))
        let again = try CLI.run(monitored + ["-o", "c.safetensors"], in: dir)
        #expect(again.code == 2 && again.err.contains("c.monitor.json") && again.err.contains("--force"), "exit \(again.code): \(again.err)")
        let forced = try CLI.run(monitored + ["-o", "c.safetensors", "--force"], in: dir)
        #expect(forced.code == 0, "\(forced.err)")
    }
}
