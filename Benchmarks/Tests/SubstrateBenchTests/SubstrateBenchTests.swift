import Foundation
import Testing
import TestSupport

/// End-to-end tests of `substrate-bench`: the suite's results and regression guard, the JSON views the Python
/// comparisons read, and the BLAS environment every output records.
@Suite(.serialized) struct SubstrateBenchTests {
    /// The substrate-bench binary built beside this test bundle.
    static let binary = builtExecutable("substrate-bench")

    typealias Result = ProcessOutput

    /// Runs substrate-bench with `args` in `dir` (OPENBLAS_NUM_THREADS=1); stdout and stderr go through files.
    static func run(_ args: [String], in dir: URL) throws -> Result { try runProcess(binary, args, in: dir) }

    static func scratch() throws -> URL {
        try makeTemporaryDirectory("substrate-bench")
    }

    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The environment record: a non-empty core name and every steering variable, set or "unset".
    static func expectEnvironment(_ json: [String: Any], _ what: String) throws {
        let env = try #require(json["environment"] as? [String: Any], "\(what) lacks environment")
        #expect(!(env["coreName"] as? String ?? "").isEmpty, "\(what): empty coreName")
        let vars = try #require(env["variables"] as? [String: String])
        for key in ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"] {
            #expect(vars[key] != nil, "\(what): environment.variables lacks \(key)")
        }
        #expect(vars["OPENBLAS_NUM_THREADS"] == "1", "\(what): OPENBLAS_NUM_THREADS not recorded as found")
    }

    /// `suite --quick --workloads matmul --sizes 64` into `dir/out`.
    static func quickRun(_ dir: URL, extra: [String] = []) throws -> Result {
        try run(["suite", "--quick", "--workloads", "matmul", "--sizes", "64", "--peak-n", "256", "--out", "out"] + extra, in: dir)
    }

    @Test func suiteWritesResultsWithTheCoreType() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Self.quickRun(dir, extra: ["--save-baseline", "base.json"])
        #expect(r.code == 0, "\(r.err)")
        let out = dir.appendingPathComponent("out")
        let json = try Self.object(Data(contentsOf: out.appendingPathComponent("results.json")))
        for key in ["schema", "date", "machine", "blas", "core", "environment", "blasThreads", "linearThreads", "settings", "peak",
                    "workloads", "results", "skipped"] {
            #expect(json[key] != nil, "results.json lacks \(key)")
        }
        try Self.expectEnvironment(json, "results.json")
        let results = try #require(json["results"] as? [[String: Any]])
        // The matmul group also holds gemm-f32/-f64, which run only when named (not in 'all' nor in their group).
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
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("results.md").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("plots/matmul.svg").path))
        let base = try Self.object(Data(contentsOf: dir.appendingPathComponent("base.json")))
        #expect((base["results"] as? [[String: Any]])?.count == 2)
    }

    @Test func guardFailsOnTenTimesFasterBaselineAndPassesOnEqual() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try Self.quickRun(dir, extra: ["--save-baseline", "base.json"])
        #expect(first.code == 0, "\(first.err)")
        // A doctored baseline 10× faster than the run.
        var base = try Self.object(Data(contentsOf: dir.appendingPathComponent("base.json")))
        var entries = try #require(base["results"] as? [[String: Any]])
        for i in entries.indices { entries[i]["median"] = (entries[i]["median"] as? Double ?? 1) / 10 }
        base["results"] = entries
        try JSONSerialization.data(withJSONObject: base).write(to: dir.appendingPathComponent("fast.json"))

        let results = "out/results.json"
        let failed = try Self.run(["suite", "--check", results, "--baseline", "fast.json"], in: dir)
        #expect(failed.code == 1)
        #expect(failed.err.contains("matmul-f32") && failed.err.contains("matmul-f64"), "\(failed.err)")
        let equal = try Self.run(["suite", "--check", results, "--baseline", "base.json"], in: dir)
        #expect(equal.code == 0, "\(equal.err)")
        let same = try Self.run(["suite", "--check", results, "--baseline", results, "--tolerance", "0"], in: dir)
        #expect(same.code == 0, "\(same.err)")
    }

    @Test func badUsageExitsTwo() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Self.run(["suite", "--workloads", "nope"], in: dir).code == 2)
        #expect(try Self.run(["suite", "--check", "x.json"], in: dir).code == 2)
        let missing = try Self.run(["suite", "--check", "x.json", "--baseline", "y.json"], in: dir)
        #expect(missing.code == 2)
        #expect(missing.err.hasPrefix("substrate-bench: error: --check x.json"), "\(missing.err)")
        #expect(try Self.run(["linear", "--dtypes", "float16"], in: dir).code == 2)
        #expect(try Self.run(["substrate", "--workloads", "nope"], in: dir).code == 2)
    }

    /// The views compare.py and compare_substrate.py parse: their keys, and the same catalogue code behind them.
    @Test func viewsPrintTheSchemasTheComparisonsRead() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lin = try Self.run(["linear", "--json", "--workloads", "matmul,exp", "--sizes", "32", "--dtypes", "float32",
                                "--reps", "3", "--max-time", "0.2"], in: dir)
        #expect(lin.code == 0, "\(lin.err)")
        let lj = try Self.object(Data(lin.out.utf8))
        try Self.expectEnvironment(lj, "linear --json")
        let lr = try #require(lj["results"] as? [[String: Any]])
        #expect(lr.map { $0["workload"] as? String } == ["matmul", "exp"])
        #expect(lr.map { $0["shape"] as? String } == ["32x32", "32"])
        for key in ["blas", "core", "blasThreads", "linearThreads"] { #expect(lj[key] != nil, "linear --json lacks \(key)") }

        let sub = try Self.run(["substrate", "--json", "--workloads", "fit-covariance,cka", "--sizes", "16", "--rows", "200",
                                "--dtypes", "float64", "--reps", "3", "--max-time", "0.2"], in: dir)
        #expect(sub.code == 0, "\(sub.err)")
        let sj = try Self.object(Data(sub.out.utf8))
        try Self.expectEnvironment(sj, "substrate --json")
        let sr = try #require(sj["results"] as? [[String: Any]])
        #expect(sr.map { $0["workload"] as? String } == ["fit-covariance", "cka"])
        let values = try #require(sr.first?["values"] as? [String: [Double]])
        #expect(values["explained_variance"]?.count == 9)
        let cka = try #require((sr.last?["values"] as? [String: [Double]])?["cka"]?.first)
        #expect(cka > 0 && cka <= 1)
    }

    /// `train-step --json`: one row per d with the step and its GEMM / clip / AdamW split (what train_step.py reads);
    /// the GEMM calls alone take less time than the whole step; bad usage exits 2.
    @Test func trainStepPrintsTheSplit() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Self.run(["train-step", "--json", "--dims", "8,16", "--batch", "32", "--seconds", "0.2"], in: dir)
        #expect(r.code == 0, "\(r.err)")
        let j = try Self.object(Data(r.out.utf8))
        try Self.expectEnvironment(j, "train-step --json")
        let rows = try #require(j["swift"] as? [[String: Any]])
        #expect(rows.map { $0["d"] as? Int } == [8, 16])
        for row in rows {
            for key in ["step_ms", "gemm_ms", "clip_ms", "adamw_ms", "beyond_gemm_fraction", "gemm_gflops"] {
                #expect((row[key] as? Double).map { $0.isFinite } == true, "train-step --json: \(key) missing or not finite")
            }
            #expect((row["gemm_ms"] as? Double ?? .infinity) < (row["step_ms"] as? Double ?? 0))
            #expect(row["hidden"] as? Int == 256 && row["batch"] as? Int == 32)
        }
        #expect(try Self.run(["train-step", "--dims", "0"], in: dir).code == 2)
        #expect(try Self.run(["train-step", "--batch", "0"], in: dir).code == 2)
    }
}
