import Foundation
import Testing
import TestSupport

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

    /// The tensors of a .safetensors file by name: their dtype, shape and bytes.
    static func tensors(_ url: URL) throws -> [String: String] {
        let data = try Data(contentsOf: url)
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any])
        var out: [String: String] = [:]
        for (name, v) in header where name != "__metadata__" {
            let t = try #require(v as? [String: Any])
            let o = try #require(t["data_offsets"] as? [Int])
            out[name] = "\(t["dtype"] ?? "") \(t["shape"] ?? "") " + data.subdata(in: (8 + n + o[0])..<(8 + n + o[1])).base64EncodedString()
        }
        return out
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
        for key in ["step", "loss", "mmd2", "precision", "recall", "k_star", "regime", "drift_frechet", "finite_fraction", "flags", "seconds"] {
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
        // (Compared tensor by tensor: two plain runs already differ in the order of the JSON keys of their metadata.)
        let ta = try Self.tensors(dir.appendingPathComponent("a.safetensors")), tc = try Self.tensors(dir.appendingPathComponent("c.safetensors"))
        #expect(ta.count > 4 && ta == tc, "\(ta.count) tensors; differing: \(ta.keys.filter { ta[$0] != tc[$0] }.sorted())")
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

    @Test("a learning rate of 10 is flagged: ddpm collapses (samples at one point), the vae's loss turns NaN (diverging); one stderr line each")
    func brokenRuns() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["--data", "moons", "--dim", "8", "--hidden", "32", "--count", "512", "--seed", "3", "--lr", "10", "--quiet",
                    "--monitor-samples", "128"]
        let ddpm = try CLI.run(["train", "ddpm", "--steps", "100", "--monitor", "50", "-o", "d.safetensors"] + base, in: dir)
        try #require(ddpm.code == 0, "\(ddpm.err)")
        let jd = try Self.object(dir, "d.monitor.json")
        #expect(jd["health"] as? String == "collapsing", "\(jd["flags"] ?? "")")
        #expect(ddpm.err.components(separatedBy: "\n").filter { $0.hasPrefix("vst: monitor:") && $0.contains("collapsing") }.count == 1, "\(ddpm.err)")
        #expect(ddpm.out.contains("monitor: 2 points, collapsing"), "\(ddpm.out)")

        let vae = try CLI.run(["train", "vae", "--steps", "50", "--monitor", "10", "-o", "v.safetensors"] + base, in: dir)
        #expect(vae.code != 0 && vae.err.contains("training diverged"), "exit \(vae.code): \(vae.err)")
        let jv = try Self.object(dir, "v.monitor.json")
        #expect(jv["health"] as? String == "diverging" && jv["stopped"] is String, "\(jv)")
        #expect(vae.err.components(separatedBy: "\n").filter { $0.hasPrefix("vst: monitor:") && $0.contains("diverging") }.count == 1, "\(vae.err)")
    }
}
