import Foundation
import Linear
import Testing
import TestSupport

/// End-to-end tests of the `vst` tool: every analysis command, its JSON keys (docs/method.md §10) and every error exit.
@Suite(.serialized) struct CommandLineTests {
    /// The vst binary built beside this test bundle.
    static let vst = builtExecutable("vst")

    typealias Result = ProcessOutput

    /// Runs vst with `args` in `dir` (with `environment` added to this process's; one BLAS thread).
    static func run(_ args: [String], in dir: URL, environment: [String: String] = [:]) throws -> Result {
        try runProcess(vst, args, in: dir, environment: environment)
    }

    static func json(_ r: Result) throws -> [String: Any] {
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8))
        guard let d = obj as? [String: Any] else { throw TensorError.invalidArgument("not a JSON object: \(r.out.prefix(200))") }
        return d
    }

    /// A scratch directory with a few input files.
    static func workspace() throws -> URL {
        let dir = try makeTemporaryDirectory("vst-e2e")
        let (x, generator) = try SyntheticRows.lowRank()
        var g = generator
        try x.save(npy: dir.appendingPathComponent("x.npy").path)
        try (x + 2).save(npy: dir.appendingPathComponent("shifted.npy").path)
        try x.slice(0..<150).save(npy: dir.appendingPathComponent("half1.npy").path)
        try x.slice(150..<300).save(npy: dir.appendingPathComponent("half2.npy").path)
        let rot = try Tensor<Double>.normal([16, 16], using: &g).qr().q
        try matmul(x, rot).slice(0..<300).save(npy: dir.appendingPathComponent("rotated.npy").path)
        try Tensor<Double>.normal([300, 24], using: &g).save(npy: dir.appendingPathComponent("wide.npy").path)
        try Tensor<Double>.normal([300, 8], using: &g).cast(to: Float.self).save(npy: dir.appendingPathComponent("d8.npy").path)
        try Tensor<Double>.normal([5, 40, 16], using: &g).save(npy: dir.appendingPathComponent("traj.npy").path)
        var nan = x; nan[4, 2] = .nan
        try nan.save(npy: dir.appendingPathComponent("nan.npy").path)
        let bytes = try Data(contentsOf: dir.appendingPathComponent("x.npy"))
        try bytes.prefix(bytes.count - 100).write(to: dir.appendingPathComponent("truncated.npy"))
        try SafetensorsFile(tensors: ["latents": NDArray(x), "other": NDArray(Tensor<Double>.zeros([2, 2]))])
            .write(to: dir.appendingPathComponent("model.safetensors").path)
        return dir
    }

    @Test func fitProjectLiftRoundTripAndKeys() throws {
        let dir = try Self.workspace()
        let fit = try Self.run(["fit-projection", "x.npy", "--out", "p.safetensors", "--json"], in: dir)
        #expect(fit.code == 0, "\(fit.err)")
        let j = try Self.json(fit)
        for key in ["n", "d", "k", "method", "eigenvalues", "explained_variance_ratio", "core_energy", "round_trip_error", "orthonormality_error"] {
            #expect(j[key] != nil, "fit-projection --json lacks \(key)")
        }
        #expect((j["core_energy"] as? [String: Any])?.keys.sorted() == ["3", "6", "9"])
        #expect((j["round_trip_error"] as? Double ?? 1) < 1e-12)
        // Refuses to overwrite without --force.
        let again = try Self.run(["fit-projection", "x.npy", "--out", "p.safetensors"], in: dir)
        #expect(again.code == 2 && again.err.contains("p.safetensors") && again.err.contains("overwrite"))
        #expect(try Self.run(["fit-projection", "x.npy", "--out", "p.safetensors", "--force", "--method", "covariance"], in: dir).code == 0)
        let proj = try Self.run(["project", "--projection", "p.safetensors", "x.npy", "half1.npy", "--out-dir", "cores", "--residual"], in: dir)
        #expect(proj.code == 0, "\(proj.err)")
        let lift = try Self.run(["lift", "--projection", "p.safetensors", "cores/x.core.npy", "--residual", "cores/x.residual.npy", "--out", "back.npy"], in: dir)
        #expect(lift.code == 0, "\(lift.err)")
        let back = try Tensor<Double>.load(npy: dir.appendingPathComponent("back.npy").path)
        let x = try Tensor<Double>.load(npy: dir.appendingPathComponent("x.npy").path)
        #expect(try (back - x).maxAbs() < 1e-10)
        #expect(try Tensor<Double>.load(npy: dir.appendingPathComponent("cores/half1.core.npy").path).shape == [150, 9])
    }

    @Test func shardStatisticsMergeToTheSingleFit() throws {
        let dir = try Self.workspace()
        #expect(try Self.run(["fit-projection", "half1.npy", "--stats-only", "--out", "s1.safetensors"], in: dir).code == 0)
        #expect(try Self.run(["fit-projection", "half2.npy", "--stats-only", "--out", "s2.safetensors"], in: dir).code == 0)
        let merged = try Self.run(["merge-stats", "s1.safetensors", "s2.safetensors", "--out", "m.safetensors", "--json"], in: dir)
        #expect(merged.code == 0, "\(merged.err)")
        let single = try Self.run(["fit-projection", "x.npy", "--method", "covariance", "--out", "single.safetensors", "--json"], in: dir)
        let a = try Self.json(merged)["eigenvalues"] as! [Double], b = try Self.json(single)["eigenvalues"] as! [Double]
        for (u, v) in zip(a, b) { #expect(Swift.abs(u - v) <= 1e-10 * b[0]) }
    }

    @Test func randomizedOperatorsGiveTheSameFit() throws {
        let dir = try Self.workspace()
        var eigen: [[Double]] = []
        for op in ["covariance", "streamed", "automatic"] {
            let r = try Self.run(["fit-projection", "x.npy", "--method", "randomized", "--randomized-operator", op, "--out", "r-\(op).safetensors", "--json"], in: dir)
            #expect(r.code == 0, "\(op): \(r.err)")
            let j = try Self.json(r)
            #expect((j["round_trip_error"] as? Double ?? 1) < 1e-12)
            eigen.append(j["eigenvalues"] as? [Double] ?? [])
        }
        #expect(eigen[0].count == 9 && eigen[1].count == 9)
        for (u, v) in zip(eigen[0], eigen[1]) { #expect(Swift.abs(u - v) <= 1e-9 * eigen[0][0]) }
        #expect(eigen[2] == eigen[0], "automatic forms C for a small D")
        let wrong = try Self.run(["fit-projection", "x.npy", "--randomized-operator", "streamed", "--out", "w.safetensors"], in: dir)
        #expect(wrong.code == 2 && wrong.err.contains("--method randomized"), "\(wrong.err)")
        let unknown = try Self.run(["fit-projection", "x.npy", "--method", "randomized", "--randomized-operator", "sketchy", "--out", "u.safetensors"], in: dir)
        #expect(unknown.code == 2 && unknown.err.contains("sketchy"), "\(unknown.err)")
    }

    @Test func analysisCommandsPrintTheSpecKeys() throws {
        let dir = try Self.workspace()
        let cases: [([String], [String])] = [
            (["regimes", "x.npy"], ["n", "d", "participation_ratio", "signal_rank", "signal_energy", "core_energy", "signal_stability",
                                    "core_stability", "twonn_dimension", "regime", "reasons", "warnings"]),
            (["drift", "x.npy", "shifted.npy", "--permutations", "50"], ["mmd2", "p_value", "bandwidth", "frechet_distance", "core_frechet_distance", "core_similarity", "drift"]),
            (["align", "x.npy", "rotated.npy"], ["linear_cka", "debiased_cka", "rbf_cka", "svcca", "procrustes_similarity", "procrustes_distance",
                                                 "core_procrustes_similarity", "mutual_knn", "linear_predictivity_r2", "regime", "reasons"]),
            (["trajectory", "traj.npy"], ["steps", "phases", "transitions"]),
            (["scaling", "--rung", "8=d8.npy", "--rung", "16=x.npy", "--rung", "24=wide.npy"], ["rungs", "law", "regime", "reasons"]),
            (["evaluate", "half1.npy", "half2.npy"], ["n", "d", "mmd2", "kid", "precision", "recall", "density", "coverage", "frechet_distance", "baseline"]),
            (["validate", "x.npy"], ["status", "checks"]),
        ]
        for (args, keys) in cases {
            let r = try Self.run(args + ["--json", "--quiet"], in: dir)
            #expect(r.code == 0, "\(args): exit \(r.code): \(r.err)")
            #expect(r.out.split(separator: "\n").count == 1, "\(args): --json must print exactly one line")
            let j = try Self.json(r)
            for k in keys { #expect(j[k] != nil, "\(args[0]) --json lacks \(k)") }
        }
        let drift = try Self.json(Self.run(["drift", "x.npy", "shifted.npy", "--json"], in: dir))
        #expect(drift["drift"] as? Bool == true)
        let paired = try Self.json(Self.run(["drift", "x.npy", "rotated.npy", "--paired", "--json", "--permutations", "20"], in: dir))
        #expect((paired["alignment"] as? [String: Any])?["regime"] as? String == "A1")
        #expect(try Self.run(["drift", "x.npy", "half1.npy", "--paired"], in: dir).code == 2)
        let align = try Self.json(Self.run(["align", "x.npy", "rotated.npy", "--json"], in: dir))
        #expect(align["regime"] as? String == "A1")
    }

    @Test func reportDirectoriesHoldJSONFiguresAndAPage() throws {
        let dir = try Self.workspace()
        for (args, figure) in [(["regimes", "x.npy"], "spectrum.svg"), (["trajectory", "traj.npy"], "regime_strip.svg"),
                               (["drift", "x.npy", "shifted.npy"], "ks.svg"), (["align", "x.npy", "rotated.npy"], "alignment.svg")] {
            let out = "rep-\(args[0])"
            let r = try Self.run(args + ["--report", out, "--quiet"], in: dir)
            #expect(r.code == 0, "\(args): \(r.err)")
            for f in ["report.json", "index.html", figure] {
                #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(out).appendingPathComponent(f).path), "\(args[0]): \(f) missing")
            }
            let svg = try String(contentsOf: dir.appendingPathComponent(out).appendingPathComponent(figure), encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("</svg>"))
            // A second run refuses to overwrite the report without --force.
            #expect(try Self.run(args + ["--report", out, "--quiet"], in: dir).code == 2)
        }
    }

    @Test func validateExitsOneOnFailureAndZeroOnPass() throws {
        let dir = try Self.workspace()
        #expect(try Self.run(["validate", "x.npy"], in: dir).code == 0)
        let drifted = try Self.run(["validate", "x.npy", "--reference", "shifted.npy", "--json"], in: dir)
        #expect(drifted.code == 1)
        #expect(try Self.json(drifted)["status"] as? String == "fail")
        let nan = try Self.run(["validate", "nan.npy", "--json"], in: dir)
        #expect(nan.code == 1)
        #expect(nan.out.contains("first at row 4"))
    }

    @Test func badInputExitsTwoWithAOneLineMessageNamingTheFile() throws {
        let dir = try Self.workspace()
        let cases: [([String], String)] = [
            (["regimes", "missing.npy"], "missing.npy"),
            (["regimes", "truncated.npy"], "truncated.npy"),
            (["regimes", "nan.npy"], "first at row 4, column 2"),
            (["regimes", "traj.npy"], "T×n×D"),
            (["regimes", "model.safetensors"], "--key"),
            (["regimes", "model.safetensors", "--key", "nope"], "nope"),
            (["drift", "x.npy", "wide.npy"], "D = 24"),
            (["align", "x.npy", "half1.npy"], "rows"),
            (["regimes", "x.npy", "--no-such-option"], "no-such-option"),
            (["fit-projection", "x.npy", "--out", "q.safetensors", "--rank", "40"], "rank"),
            (["project", "--projection", "missing.safetensors", "x.npy", "--out", "z.npy"], "missing.safetensors"),
            (["scaling", "--rung", "64=x.npy", "--rung", "128=wide.npy"], "width"),
        ]
        for (args, needle) in cases {
            let r = try Self.run(args, in: dir)
            #expect(r.code == 2, "\(args): exit \(r.code), stderr \(r.err)")
            #expect(r.err.contains(needle), "\(args): stderr does not mention '\(needle)': \(r.err)")
            #expect(r.out.isEmpty, "\(args): printed to stdout on error")
        }
        #expect(try Self.run(["regimes", "model.safetensors", "--key", "latents"], in: dir).code == 0)
    }
}
