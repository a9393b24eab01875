import Foundation
import Linear
import Testing
import TestSupport

// Issue 15 on the command line: exactly low-rank states, scale-invariant fits (covariance, randomized, stats-only +
// merge-stats), validation with exit 2 naming the file, and batch outputs that cannot collide.

@Suite(.serialized) struct ExactnessCommandTests {
    typealias CLI = CommandLineTests

    static func workspace() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-exact-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Anisotropic Gaussian data (spectrum 3 … 0.5, rotated), 1500 × 12.
    static func anisotropic() throws -> Tensor<Double> {
        var g = RandomGenerator(seed: 3)
        let scales = Tensor((0..<12).map { 3 - 2.5 * Double($0) / 11 })
        let rot = try Tensor<Double>.normal([12, 12], using: &g).qr().q
        return try matmul(Tensor<Double>.normal([1500, 12], using: &g) * scales, rot) + 0.7
    }

    static func ratios(_ r: CLI.Result) throws -> [Double] {
        try #require(r.code == 0, "exit \(r.code): \(r.err)")
        return try #require(CLI.json(r)["explained_variance_ratio"] as? [Double], "\(r.out)")
    }

    static func expectExit2(_ r: CLI.Result, mentioning parts: [String], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        HardeningCommandTests.expectExit2(r, mentioning: parts, what, sourceLocation: sourceLocation)
    }

    @Test("regimes: rank-6 states without noise get k* = 6 and R1 in float32 and float64")
    func exactLowRank() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        var g = RandomGenerator(seed: 6)
        let x = try matmul(Tensor<Double>.normal([2000, 6], using: &g), Tensor<Double>.normal([6, 128], using: &g))
        try x.save(npy: dir.appendingPathComponent("r6.npy").path)
        try x.cast(to: Float.self).save(npy: dir.appendingPathComponent("r6f.npy").path)
        for file in ["r6.npy", "r6f.npy"] {
            let r = try CLI.run(["regimes", file, "--no-twonn", "--json"], in: dir)
            #expect(r.code == 0, "\(r.err)")
            let j = try CLI.json(r)
            #expect(j["signal_rank"] as? Int == 6, "\(file): \(j["signal_rank"] ?? "nil")")
            #expect(j["regime"] as? String == "R1", "\(file): \(j["regime"] ?? "nil") \(j["reasons"] ?? "")")
        }
    }

    @Test("fit-projection and merge-stats: the explained-variance ratios of x·s equal those of x (float64 1e-30 … 1e200, float32 1e-30 … 1e30)")
    func scaleInvariance() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = try Self.anisotropic()
        let doubles = [1e-30, 1e-10, 1, 1e10, 1e200], singles = [1e-30, 1e-10, 1, 1e10, 1e30]
        for s in doubles { try (x * s).save(npy: dir.appendingPathComponent("d\(s).npy").path) }
        for s in singles { try (x * s).cast(to: Float.self).save(npy: dir.appendingPathComponent("f\(s).npy").path) }
        func fits(_ file: String, _ tag: String) throws -> [String: [Double]] {
            var out: [String: [Double]] = [:]
            for method in ["covariance", "randomized"] {
                out[method] = try Self.ratios(CLI.run(["fit-projection", file, "--method", method, "--rank", "4", "--out", "\(tag)-\(method).safetensors", "--json"], in: dir))
            }
            let st = try CLI.run(["fit-projection", file, "--stats-only", "--out", "\(tag)-stats.safetensors", "--json"], in: dir)
            #expect(st.code == 0, "\(st.err)")
            out["merge-stats"] = try Self.ratios(CLI.run(["merge-stats", "\(tag)-stats.safetensors", "--rank", "4", "--out", "\(tag)-merged.safetensors", "--json"], in: dir))
            return out
        }
        for (prefix, scales, rtol) in [("d", doubles, 1e-10), ("f", singles, 2e-5)] {
            let ref = try fits("\(prefix)1.0.npy", "\(prefix)-unit")
            for s in scales where s != 1 {
                let got = try fits("\(prefix)\(s).npy", "\(prefix)-\(s)")
                for (method, r) in got {
                    let e = ref[method]!
                    #expect(r.count == e.count)
                    for i in 0..<Swift.min(5, r.count) {
                        #expect(Swift.abs(r[i] - e[i]) <= rtol * e[i], "\(prefix) \(s) \(method): ratio \(i) \(r[i]) vs \(e[i])")
                    }
                }
            }
        }
    }

    @Test("project mirrors the inputs' paths under --out-dir: same-named shards do not collide")
    func mirroredOutputs() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = try Self.anisotropic()
        for sub in ["shard_0", "shard_1"] { try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true) }
        try x.slice(0..<700).save(npy: dir.appendingPathComponent("shard_0/latents.npy").path)
        try x.slice(700..<1500).save(npy: dir.appendingPathComponent("shard_1/latents.npy").path)
        try x.save(npy: dir.appendingPathComponent("x.npy").path)
        #expect(try CLI.run(["fit-projection", "x.npy", "--rank", "3", "--out", "p.safetensors"], in: dir).code == 0)
        let r = try CLI.run(["project", "--projection", "p.safetensors", "shard_0/latents.npy", "shard_1/latents.npy", "--out-dir", "o", "--residual"], in: dir)
        #expect(r.code == 0, "\(r.err)")
        for (sub, n) in [("shard_0", 700), ("shard_1", 800)] {
            let core = try NPY.read(dir.appendingPathComponent("o/\(sub)/latents.core.npy").path)
            #expect(core.shape == [n, 3])
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("o/\(sub)/latents.residual.npy").path))
            let single = try CLI.run(["project", "--projection", "p.safetensors", "\(sub)/latents.npy", "--out", "\(sub).npy"], in: dir)
            #expect(single.code == 0)
            #expect(try Data(contentsOf: dir.appendingPathComponent("\(sub).npy")) == Data(contentsOf: dir.appendingPathComponent("o/\(sub)/latents.core.npy")))
        }
        // --resume skips both, --force rewrites both (neither replaces the other).
        let again = try CLI.run(["project", "--projection", "p.safetensors", "shard_0/latents.npy", "shard_1/latents.npy", "--out-dir", "o", "--residual", "--resume", "--json"], in: dir)
        #expect(try CLI.json(again)["skipped"] as? Int == 2, "\(again.out) \(again.err)")
        // Inputs in one directory keep the flat layout.
        let flat = try CLI.run(["project", "--projection", "p.safetensors", "x.npy", "--out-dir", "flat"], in: dir)
        #expect(flat.code == 0 && FileManager.default.fileExists(atPath: dir.appendingPathComponent("flat/x.core.npy").path))
        // Two inputs that still share an output are refused before anything is written.
        try CSV.write(x.slice(0..<10), to: dir.appendingPathComponent("shard_0/latents.csv").path)
        let clash = try CLI.run(["project", "--projection", "p.safetensors", "shard_0/latents.npy", "shard_0/latents.csv", "--out-dir", "clash"], in: dir)
        Self.expectExit2(clash, mentioning: ["latents.npy", "latents.csv", "latents.core.npy"], "colliding outputs")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("clash/latents.core.npy").path))
        let twice = try CLI.run(["project", "--projection", "p.safetensors", "x.npy", "./x.npy", "--out-dir", "twice"], in: dir)
        #expect(twice.code == 2, "\(twice.err)")
    }

    @Test("project --resume removes the temporary files of dead runs (reported), leaves those of live ones alone")
    func resumeTemporaries() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.anisotropic().save(npy: dir.appendingPathComponent("x.npy").path)
        #expect(try CLI.run(["fit-projection", "x.npy", "--rank", "3", "--out", "p.safetensors"], in: dir).code == 0)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("o"), withIntermediateDirectories: true)
        let dead = dir.appendingPathComponent("o/.x.core.npy.tmp-2147483646-7")
        let live = dir.appendingPathComponent("o/.x.core.npy.tmp-\(getpid())-8")          // this test process: alive
        let foreign = dir.appendingPathComponent("o/.x.core.npy.tmp-notes")
        for f in [dead, live, foreign] { try Data([1, 2, 3]).write(to: f) }
        let r = try CLI.run(["project", "--projection", "p.safetensors", "x.npy", "--out-dir", "o", "--resume"], in: dir)
        #expect(r.code == 0, "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dead.path))
        #expect(FileManager.default.fileExists(atPath: live.path) && FileManager.default.fileExists(atPath: foreign.path))
        #expect(r.err.contains(dead.lastPathComponent) && r.err.contains("no longer running"), "\(r.err)")
        #expect(r.err.contains(live.lastPathComponent) && r.err.contains("still running"), "\(r.err)")
    }

    @Test("outputs never replace a device, a FIFO or a directory, even with --force")
    func nonRegularTargets() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.anisotropic().save(npy: dir.appendingPathComponent("x.npy").path)
        #expect(try CLI.run(["fit-projection", "x.npy", "--rank", "3", "--out", "p.safetensors"], in: dir).code == 0)
        #expect(try CLI.run(["project", "--projection", "p.safetensors", "x.npy", "--out", "z.npy"], in: dir).code == 0)
        #expect(mkfifo(dir.appendingPathComponent("fifo").path, 0o644) == 0)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("adir"), withIntermediateDirectories: true)
        for (target, kind) in [("/dev/null", "character device"), ("fifo", "FIFO"), ("adir", "directory")] {
            for args in [["fit-projection", "x.npy", "--rank", "3", "--out", target, "--force"],
                         ["fit-projection", "x.npy", "--stats-only", "--out", target, "--force"],
                         ["project", "--projection", "p.safetensors", "x.npy", "--out", target, "--force"],
                         ["lift", "--projection", "p.safetensors", "z.npy", "--out", target, "--force"]] {
                Self.expectExit2(try CLI.run(args, in: dir), mentioning: [target, kind], args.joined(separator: " "))
            }
        }
        var st = stat()
        #expect(stat("/dev/null", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR)
    }

    @Test("--dtype: outputs default to the input's dtype; float32/float64 on request; --report is gone from project and lift")
    func outputDType() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = try Self.anisotropic()
        try x.save(npy: dir.appendingPathComponent("x.npy").path)
        try x.cast(to: Float.self).save(npy: dir.appendingPathComponent("xf.npy").path)
        #expect(try CLI.run(["fit-projection", "x.npy", "--rank", "3", "--out", "p.safetensors"], in: dir).code == 0)
        func dtype(_ name: String) throws -> DType { try NPY.read(dir.appendingPathComponent(name).path).dtype }
        #expect(try CLI.run(["project", "--projection", "p.safetensors", "x.npy", "xf.npy", "--out-dir", "o", "--residual"], in: dir).code == 0)
        #expect(try dtype("o/x.core.npy") == .float64 && dtype("o/xf.core.npy") == .float32 && dtype("o/xf.residual.npy") == .float32)
        #expect(try CLI.run(["project", "--projection", "p.safetensors", "x.npy", "--out", "z32.npy", "--dtype", "float32"], in: dir).code == 0)
        #expect(try CLI.run(["project", "--projection", "p.safetensors", "xf.npy", "--out", "z64.npy", "--dtype", "float64"], in: dir).code == 0)
        #expect(try dtype("z32.npy") == .float32 && dtype("z64.npy") == .float64)
        #expect(try CLI.run(["lift", "--projection", "p.safetensors", "o/xf.core.npy", "--residual", "o/xf.residual.npy", "--out", "back.npy"], in: dir).code == 0)
        #expect(try dtype("back.npy") == .float32)
        let back: Tensor<Double> = try NPY.read(dir.appendingPathComponent("back.npy").path).tensor()
        #expect(try (back - x).maxAbs() < 1e-4)
        #expect(try CLI.run(["lift", "--projection", "p.safetensors", "o/xf.core.npy", "--out", "back64.npy", "--dtype", "float64"], in: dir).code == 0)
        #expect(try dtype("back64.npy") == .float64)
        // --resume checks the dtype: a float64 output where float32 is asked for is not ours.
        let wrong = try CLI.run(["project", "--projection", "p.safetensors", "x.npy", "--out-dir", "o", "--resume", "--dtype", "float32"], in: dir)
        Self.expectExit2(wrong, mentioning: ["x.core.npy", "float32"], "resume with another dtype")
        for cmd in [["project", "--projection", "p.safetensors", "x.npy", "--out", "r.npy", "--report", "rep"],
                    ["lift", "--projection", "p.safetensors", "z32.npy", "--out", "r.npy", "--report", "rep"]] {
            let r = try CLI.run(cmd, in: dir)
            #expect(r.code == 2 && r.err.contains("--report"), "\(r.err)")
        }
    }

    @Test("bad projection and statistics files, non-finite lift inputs, zero columns: exit 2 naming the file")
    func validation() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = try Self.anisotropic()
        try x.save(npy: dir.appendingPathComponent("x.npy").path)
        #expect(try CLI.run(["fit-projection", "x.npy", "--rank", "3", "--whiten", "--out", "w.safetensors"], in: dir).code == 0)
        for (name, eig) in [("zero", [0.0]), ("negative", [-1.0]), ("nan", [Double.nan])] {
            let path = dir.appendingPathComponent("w-\(name).safetensors").path
            let f = try SafetensorsFile.read(dir.appendingPathComponent("w.safetensors").path)
            var t = f.tensors
            var lambda: [Double] = try f.tensor("eigenvalues", as: Double.self).scalars
            lambda[1] = eig[0]
            t["eigenvalues"] = NDArray(Tensor(lambda))
            try SafetensorsFile(tensors: t, metadata: f.metadata).write(to: path)
            Self.expectExit2(try CLI.run(["project", "--projection", "w-\(name).safetensors", "x.npy", "--out", "z-\(name).npy"], in: dir),
                             mentioning: ["w-\(name).safetensors", "eigenvalue 2"], "whitened \(name)")
        }
        // Fewer eigenvalues than k.
        let f = try SafetensorsFile.read(dir.appendingPathComponent("w.safetensors").path)
        var t = f.tensors
        t["eigenvalues"] = NDArray(Tensor<Double>([1, 0.5]))
        try SafetensorsFile(tensors: t, metadata: f.metadata).write(to: dir.appendingPathComponent("short.safetensors").path)
        #expect(try CLI.run(["fit-projection", "x.npy", "--rank", "3", "--out", "p.safetensors"], in: dir).code == 0)
        #expect(try CLI.run(["project", "--projection", "p.safetensors", "x.npy", "--out", "z.npy"], in: dir).code == 0)
        for cmd in [["project", "--projection", "short.safetensors", "x.npy", "--out", "zs.npy"],
                    ["lift", "--projection", "short.safetensors", "z.npy", "--out", "ls.npy"]] {
            Self.expectExit2(try CLI.run(cmd, in: dir), mentioning: ["short.safetensors", "eigenvalues"], cmd[0])
        }
        // merge-stats: row counts that overflow, and non-finite statistics.
        for (name, n, scatter) in [("big1", "4611686018427387904", Tensor<Double>.eye(12)), ("big2", "4611686018427387904", Tensor<Double>.eye(12)),
                                   ("nan", "10", Tensor<Double>.full([12, 12], .nan))] {
            try SafetensorsFile(tensors: ["mean": NDArray(Tensor<Double>.zeros([12])), "scatter": NDArray(scatter)],
                                metadata: ["format": "substrate.covariance-stats/1", "n": n, "D": "12"])
                .write(to: dir.appendingPathComponent("\(name).safetensors").path)
        }
        Self.expectExit2(try CLI.run(["merge-stats", "big1.safetensors", "big2.safetensors", "--out", "m.safetensors"], in: dir),
                         mentioning: ["big2.safetensors", "overflow"], "merge-stats overflow")
        Self.expectExit2(try CLI.run(["merge-stats", "nan.safetensors", "--out", "m.safetensors"], in: dir),
                         mentioning: ["nan.safetensors", "non-finite"], "merge-stats NaN")
        // lift: non-finite core coordinates or residual name the file.
        var z: Tensor<Double> = try NPY.read(dir.appendingPathComponent("z.npy").path).tensor()
        z[7, 1] = .nan
        try z.save(npy: dir.appendingPathComponent("znan.npy").path)
        Self.expectExit2(try CLI.run(["lift", "--projection", "p.safetensors", "znan.npy", "--out", "l.npy"], in: dir),
                         mentioning: ["znan.npy", "row 7"], "lift NaN")
        // Zero columns: refused, not R3.
        try Tensor<Double>.zeros([20, 0]).save(npy: dir.appendingPathComponent("empty.npy").path)
        for cmd in [["regimes", "empty.npy", "--json"], ["fit-projection", "empty.npy", "--rank", "1", "--out", "e.safetensors"],
                    ["fit-projection", "empty.npy", "--stats-only", "--out", "e.safetensors"]] {
            let r = try CLI.run(cmd, in: dir)
            #expect(r.code == 2, "\(cmd): exit \(r.code) \(r.out) \(r.err)")
        }
    }
}
