import Foundation
import Testing

/// End-to-end tests of `vst bench`: the results it writes and the regression guard against a baseline.
@Suite(.serialized) struct BenchCommandTests {
    /// The binary and the runner of the CLI tests (OPENBLAS_NUM_THREADS=1).
    typealias Result = CommandLineTests.Result
    static func run(_ args: [String], in dir: URL) throws -> Result { try CommandLineTests.run(args, in: dir) }

    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func object(_ url: URL) throws -> [String: Any] {
        let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        return try #require(obj as? [String: Any])
    }

    /// `vst bench --quick --workloads matmul --sizes 64` into `dir/out`, saving a baseline.
    static func quickRun(_ dir: URL, extra: [String] = []) throws -> Result {
        try run(["bench", "--quick", "--workloads", "matmul", "--sizes", "64", "--peak-n", "256", "--out", "out"] + extra, in: dir)
    }

    @Test func quickRunWritesResults() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Self.quickRun(dir, extra: ["--save-baseline", "base.json"])
        #expect(r.code == 0, "\(r.err)")
        let out = dir.appendingPathComponent("out")
        let json = try Self.object(out.appendingPathComponent("results.json"))
        for key in ["schema", "date", "machine", "blas", "core", "blasThreads", "linearThreads", "settings", "peak", "workloads",
                    "results", "skipped"] {
            #expect(json[key] != nil, "results.json lacks \(key)")
        }
        let results = try #require(json["results"] as? [[String: Any]])
        #expect(results.map { $0["workload"] as? String } == ["matmul-f32", "matmul-f64"])
        for p in results {
            #expect(p["d"] as? Int == 64)
            let median = try #require(p["median"] as? Double), lo = try #require(p["min"] as? Double), hi = try #require(p["max"] as? Double)
            #expect(lo > 0 && lo <= median && median <= hi)
            #expect((p["peakRSSKiB"] as? Int ?? 0) > 0)
            #expect((p["fractionOfPeak"] as? Double ?? 0) > 0)
            #expect(p["freshProcess"] as? Bool == true)
        }
        let peak = try #require(json["peak"] as? [String: Any])
        #expect((peak["sgemmGFLOPS"] as? Double ?? 0) > 0 && (peak["dgemmGFLOPS"] as? Double ?? 0) > 0)
        let workloads = try #require(json["workloads"] as? [[String: Any]])
        #expect(workloads.count == 2)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("results.md").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("plots/matmul.svg").path))
        let base = try Self.object(dir.appendingPathComponent("base.json"))
        #expect((base["results"] as? [[String: Any]])?.count == 2)
    }

    @Test func guardFailsOnTenTimesFasterBaselineAndPassesOnEqual() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try Self.quickRun(dir, extra: ["--save-baseline", "base.json"])
        #expect(first.code == 0, "\(first.err)")
        // A doctored baseline 10× faster than the run.
        var base = try Self.object(dir.appendingPathComponent("base.json"))
        var entries = try #require(base["results"] as? [[String: Any]])
        for i in entries.indices { entries[i]["median"] = (entries[i]["median"] as? Double ?? 1) / 10 }
        base["results"] = entries
        try JSONSerialization.data(withJSONObject: base).write(to: dir.appendingPathComponent("fast.json"))

        // The guard on the saved results (no measuring): fails naming each workload, passes against itself.
        let results = "out/results.json"
        let failed = try Self.run(["bench", "--check", results, "--baseline", "fast.json"], in: dir)
        #expect(failed.code == 1)
        #expect(failed.err.contains("matmul-f32") && failed.err.contains("matmul-f64"), "\(failed.err)")
        let equal = try Self.run(["bench", "--check", results, "--baseline", "base.json"], in: dir)
        #expect(equal.code == 0, "\(equal.err)")
        let same = try Self.run(["bench", "--check", results, "--baseline", results, "--tolerance", "0"], in: dir)
        #expect(same.code == 0, "\(same.err)")

        // A measuring run against the doctored baseline fails too, and still writes its results.
        let measured = try Self.quickRun(dir, extra: ["--baseline", "fast.json"])
        #expect(measured.code == 1)
        #expect(measured.err.contains("regression: matmul-f32 d=64"), "\(measured.err)")
        let json = try Self.object(dir.appendingPathComponent("out/results.json"))
        #expect((json["regressions"] as? [[String: Any]])?.count == 2)
    }

    @Test func badUsageExitsTwo() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Self.run(["bench", "--workloads", "nope"], in: dir).code == 2)
        #expect(try Self.run(["bench", "--check", "x.json"], in: dir).code == 2)
        let missing = try Self.run(["bench", "--check", "x.json", "--baseline", "y.json"], in: dir)
        #expect(missing.code == 2)
    }
}
