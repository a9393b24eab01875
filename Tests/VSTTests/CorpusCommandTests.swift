import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// Issue 19: `vst corpus regimes | block-mmd | drift` — the reduce steps of the scale-out driver — give the
/// one-machine numbers from per-shard statistics where the method allows, with the one-machine JSON keys.
@Suite(.serialized) struct CorpusCommandTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-corpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// `count` shards of `rows` × 24 float32 rows: a rank-4 signal plus noise, plus `shift`; shard files `prefix`_i.npy.
    static func shards(_ dir: URL, prefix: String, count: Int, rows: Int, seed: UInt64, shift: Double = 0) throws -> [String] {
        var g = RandomGenerator(seed: 11)
        let frame = try Tensor<Double>.normal([24, 4], using: &g).qr().q.transposed() * 3
        var h = RandomGenerator(seed: seed)
        var names: [String] = []
        for i in 0..<count {
            let x = try matmul(Tensor<Double>.normal([rows, 4], using: &h), frame) + Tensor<Double>.normal([rows, 24], std: 0.5, using: &h) + shift
            let name = "\(prefix)_\(i).npy"
            try x.cast(to: Float.self).save(npy: dir.appendingPathComponent(name).path)
            names.append(name)
        }
        return names
    }

    static func stats(_ names: [String], in dir: URL) throws -> [String] {
        try names.map { name in
            let out = name.replacingOccurrences(of: ".npy", with: ".stats.safetensors")
            let r = try CommandLineTests.run(["fit-projection", name, "--stats-only", "--out", out, "--quiet"], in: dir)
            #expect(r.code == 0, "\(r.err)")
            return out
        }
    }

    static func concatenated(_ names: [String], in dir: URL) throws -> Tensor<Double> {
        try Tensor.concatenate(names.map { try Tensor<Float>.load(npy: dir.appendingPathComponent($0).path).cast(to: Double.self) })
    }

    @Test func corpusRegimesEqualsTheOneProcessSpectrumWithTheSameKeys() throws {
        let dir = try CorpusCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = try CorpusCommandTests.shards(dir, prefix: "a", count: 5, rows: 1_500, seed: 1)
        let st = try CorpusCommandTests.stats(names, in: dir)
        let x = try CorpusCommandTests.concatenated(names, in: dir)
        try x.cast(to: Float.self).save(npy: dir.appendingPathComponent("all.npy").path)
        try x.gather(rows: Array(stride(from: 0, to: 7_500, by: 5))).cast(to: Float.self).save(npy: dir.appendingPathComponent("sample.npy").path)
        let r = try CommandLineTests.run(["corpus", "regimes"] + st + ["--twonn-sample", "sample.npy", "--json", "--quiet"], in: dir)
        #expect(r.code == 0, "\(r.err)")
        let j = try CommandLineTests.json(r)
        let one = try CommandLineTests.json(CommandLineTests.run(["regimes", "all.npy", "--json", "--quiet"], in: dir))
        #expect(Set(j.keys) == Set(one.keys))
        // The spectrum is the merged covariance's. Against the merge of the same statistics in memory: to rounding.
        let lambda = try #require(j["eigenvalues"] as? [Double])
        var merged = try CovarianceStatistics.load(dir.appendingPathComponent(st[0]).path)
        for s in st.dropFirst() { try merged.merge(CovarianceStatistics.load(dir.appendingPathComponent(s).path)) }
        var scatter = merged.scatter
        scatter.symmetrizeFromUpper()
        let fromStats = try scatter.eigvalsh().scalars.reversed().map { $0 / Double(7_499) }
        #expect(zip(lambda, fromStats).allSatisfy { Swift.abs($0 - $1) <= 1e-12 * fromStats[0] })
        // Against the in-memory spectrum of the pooled rows in Double: fit-projection folds float32 rows in by ssyrk a
        // chunk at a time (flushed into Double after each chunk), so they agree to float32 rounding of a chunk.
        let exact = try Spectrum.analyze(x, twoNN: false).eigenvalues
        let worst = zip(lambda, exact).map { Swift.abs($0 - $1) }.max() ?? .nan
        #expect(worst <= 1e-6 * exact[0], "eigenvalues differ by \(worst)")
        #expect(j["signal_rank"] as? Int == 4 && one["signal_rank"] as? Int == 4)
        #expect(j["regime"] as? String == one["regime"] as? String)
        #expect(Swift.abs((j["participation_ratio"] as? Double ?? 0) - (one["participation_ratio"] as? Double ?? 1)) <= 1e-6)
        // Shard half-splits of one population reproduce the rank-4 subspace.
        let p = try #require((j["signal_stability"] as? [String: Double])?["mean"])
        #expect(p > 0.99, "P* = \(p)")
        #expect(j["twonn_rows"] as? Int == 1_500)
        let warnings = try #require(j["warnings"] as? [String])
        #expect(warnings.contains { $0.contains("TwoNN runs on a subsample of 1500 of 7500 rows") })
        // One shard: no stability estimate, said so.
        let single = try CommandLineTests.json(CommandLineTests.run(["corpus", "regimes", st[0], "--json", "--quiet"], in: dir))
        #expect(single["signal_stability"] is NSNull && single["regime"] as? String == "R3")
        #expect((single["warnings"] as? [String] ?? []).contains { $0.contains("one shard gives no estimate") })
    }

    @Test func corpusDriftMergesBlockStatisticsAndMomentsExactly() throws {
        let dir = try CorpusCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try CorpusCommandTests.shards(dir, prefix: "a", count: 3, rows: 1_200, seed: 2)
        let b = try CorpusCommandTests.shards(dir, prefix: "b", count: 3, rows: 1_000, seed: 3, shift: 0.3)
        let sa = try CorpusCommandTests.stats(a, in: dir), sb = try CorpusCommandTests.stats(b, in: dir)
        let xa = try CorpusCommandTests.concatenated(a, in: dir), xb = try CorpusCommandTests.concatenated(b, in: dir)
        try xa.gather(rows: Array(0..<500)).cast(to: Float.self).save(npy: dir.appendingPathComponent("bw.npy").path)
        try xa.cast(to: Float.self).save(npy: dir.appendingPathComponent("all_a.npy").path)
        try xb.cast(to: Float.self).save(npy: dir.appendingPathComponent("all_b.npy").path)
        var blocks: [String] = []
        for i in 0..<3 {
            let out = "mmd_\(i).json"
            let r = try CommandLineTests.run(["corpus", "block-mmd", a[i], b[i], "--bandwidth-sample", "bw.npy", "--out", out, "--quiet"], in: dir)
            #expect(r.code == 0, "\(r.err)")
            blocks.append(out)
        }
        // The block statistics are those of MMDKernels.blockMMD2 on the documented layout: b = min(256, ⌊1000/20⌋) = 50,
        // K = ⌊1000/50⌋ = 20 block pairs of 60 rows of A and 50 of B.
        let h2 = try MMDKernels.medianBandwidth2(xa.gather(rows: Array(0..<500)).cast(to: Float.self).cast(to: Double.self))
        let ya = try Tensor<Float>.load(npy: dir.appendingPathComponent(a[0]).path).cast(to: Double.self)
        let yb = try Tensor<Float>.load(npy: dir.appendingPathComponent(b[0]).path).cast(to: Double.self)
        let etas = try (0..<20).map { j in try MMDKernels.blockMMD2(ya.slice((j * 60)..<((j + 1) * 60)), yb.slice((j * 50)..<((j + 1) * 50)), bandwidth2: h2) }
        let first = try CommandLineTests.json(CommandLineTests.run(["corpus", "block-mmd", a[0], b[0], "--bandwidth-sample", "bw.npy",
                                                                    "--out", "mmd_check.json", "--json", "--quiet"], in: dir))
        let mean = etas.reduce(0, +) / 20, scatter = etas.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        #expect(first["blocks"] as? Int == 20 && first["bandwidth2"] as? Double == h2 && first["block_rows"] as? [Int] == [60, 50])
        #expect(Swift.abs((first["mean"] as? Double ?? .nan) - mean) <= 1e-12 * Swift.max(1, Swift.abs(mean) * 1e3))
        #expect(Swift.abs((first["scatter"] as? Double ?? .nan) - scatter) <= 1e-9 * scatter)
        // Merged (Chan) = pooled over all 150 blocks.
        var merged = BlockMMDStatistics(blocks: 0, mean: 0, scatter: 0, bandwidth2: 1, rows: [0, 0], blockRows: [])
        var pooled = BlockMMDStatistics(blocks: 0, mean: 0, scatter: 0, bandwidth2: 1, rows: [0, 0], blockRows: [])
        let values: [Double] = (0..<150).map { Double(($0 * 37) % 101) / 100 - 0.3 }
        for part in [values[0..<40], values[40..<95], values[95...]] {
            let m = part.reduce(0, +) / Double(part.count)
            try merged.merge(BlockMMDStatistics(blocks: part.count, mean: m, scatter: part.reduce(0) { $0 + ($1 - m) * ($1 - m) },
                                                bandwidth2: 1, rows: [part.count, part.count], blockRows: [1, 1]))
        }
        let pm = values.reduce(0, +) / 150
        pooled = BlockMMDStatistics(blocks: 150, mean: pm, scatter: values.reduce(0) { $0 + ($1 - pm) * ($1 - pm) }, bandwidth2: 1, rows: [150, 150], blockRows: [1, 1])
        #expect(merged.blocks == 150 && Swift.abs(merged.mean - pooled.mean) <= 1e-14 && Swift.abs(merged.scatter - pooled.scatter) <= 1e-12)
        #expect(try Swift.abs(merged.test().pValue - pooled.test().pValue) <= 1e-12)

        let r = try CommandLineTests.run(["corpus", "drift", "--reference"] + sa + ["--candidate"] + sb + ["--blocks"] + blocks
                                         + ["--reference-sample", "all_a.npy", "--candidate-sample", "all_b.npy", "--json", "--quiet"], in: dir)
        #expect(r.code == 0, "\(r.err)")
        let j = try CommandLineTests.json(r)
        let one = try CommandLineTests.json(CommandLineTests.run(["drift", "all_a.npy", "all_b.npy", "--json", "--quiet"], in: dir))
        #expect(Set(j.keys) == Set(one.keys))
        let fd = try #require(j["frechet_distance"] as? Double), fd1 = try #require(one["frechet_distance"] as? Double)
        let cfd = try #require(j["core_frechet_distance"] as? Double), cfd1 = try #require(one["core_frechet_distance"] as? Double)
        // Moments from float32 rows folded in by ssyrk (see above) against the one-process Double moments.
        #expect(Swift.abs(fd - fd1) <= 1e-6 * fd1, "Fréchet \(fd) vs \(fd1)")
        #expect(Swift.abs(cfd - cfd1) <= 1e-5 * cfd1, "core Fréchet \(cfd) vs \(cfd1)")
        #expect(j["drift"] as? Bool == true && j["test"] as? String == "block" && j["blocks"] as? Int == 60)
        #expect(j["test_rows"] as? [Int] == [3_600, 3_000])
        // KS on the full sets given as "subsamples" equals the one-process KS (up to one row of 3000 where
        // rounding of the two computations of the core reorders nearly equal coordinates).
        let ks = try #require((j["ks"] as? [String: Any])?["statistics"] as? [Double])
        let ks1 = try #require((one["ks"] as? [String: Any])?["statistics"] as? [Double])
        #expect(ks.count == 9 && ks.count == ks1.count && zip(ks, ks1).allSatisfy { Swift.abs($0 - $1) <= 1.0 / 3_000 + 1e-12 })
        // A corpus compared with itself: every block statistic is exactly 0, p = 1.
        let self0 = try CommandLineTests.run(["corpus", "block-mmd", a[0], a[0], "--bandwidth-sample", "bw.npy", "--out", "self.json", "--json", "--quiet"], in: dir)
        let sj = try CommandLineTests.json(self0)
        #expect(sj["mean"] as? Double == 0 && sj["scatter"] as? Double == 0)
    }

    @Test func corpusCommandsRefuseBadInputNamingIt() throws {
        let dir = try CorpusCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try CorpusCommandTests.shards(dir, prefix: "a", count: 2, rows: 400, seed: 4)
        let st = try CorpusCommandTests.stats(a, in: dir)
        try Tensor<Double>.normal([300, 7], seed: 1).save(npy: dir.appendingPathComponent("narrow.npy").path)
        #expect(try CommandLineTests.run(["fit-projection", "narrow.npy", "--stats-only", "--out", "narrow.stats.safetensors", "--quiet"], in: dir).code == 0)
        let mixed = try CommandLineTests.run(["corpus", "regimes", st[0], "narrow.stats.safetensors"], in: dir)
        #expect(mixed.code == 2 && mixed.err.contains("narrow.stats.safetensors") && mixed.err.contains("D = 7"))
        let notStats = try CommandLineTests.run(["corpus", "regimes", a[0]], in: dir)
        #expect(notStats.code == 2 && notStats.err.contains(a[0]))
        #expect(try CommandLineTests.run(["corpus", "regimes", st[0], "--storage", "int8"], in: dir).code == 2)
        #expect(try CommandLineTests.run(["corpus", "regimes", st[0], "--splits", "0"], in: dir).code == 2)
        try Tensor<Double>.normal([100, 24], seed: 2).save(npy: dir.appendingPathComponent("bw.npy").path)
        let ok = try CommandLineTests.run(["corpus", "block-mmd", a[0], a[1], "--bandwidth-sample", "bw.npy", "--out", "m.json", "--quiet"], in: dir)
        #expect(ok.code == 0, "\(ok.err)")
        let again = try CommandLineTests.run(["corpus", "block-mmd", a[0], a[1], "--bandwidth-sample", "bw.npy", "--out", "m.json", "--quiet"], in: dir)
        #expect(again.code == 2 && again.err.contains("m.json") && again.err.contains("--force"))
        // Block files of different kernels do not merge.
        try Tensor<Double>.normal([100, 24], std: 3, seed: 2).save(npy: dir.appendingPathComponent("bw2.npy").path)
        #expect(try CommandLineTests.run(["corpus", "block-mmd", a[0], a[1], "--bandwidth-sample", "bw2.npy", "--out", "m2.json", "--quiet"], in: dir).code == 0)
        let clash = try CommandLineTests.run(["corpus", "drift", "--reference", st[0], "--candidate", st[1], "--blocks", "m.json", "m2.json",
                                              "--reference-sample", a[0], "--candidate-sample", a[1], "--quiet"], in: dir)
        #expect(clash.code == 2 && clash.err.contains("m2.json") && clash.err.contains("bandwidth"))
        try Data("{\"blocks\": 3}".utf8).write(to: dir.appendingPathComponent("broken.json"))
        let broken = try CommandLineTests.run(["corpus", "drift", "--reference", st[0], "--candidate", st[1], "--blocks", "broken.json",
                                               "--reference-sample", a[0], "--candidate-sample", a[1], "--quiet"], in: dir)
        #expect(broken.code == 2 && broken.err.contains("broken.json"))
    }
}
