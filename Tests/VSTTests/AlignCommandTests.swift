import Foundation
import Linear
import Testing
import TestSupport

/// `vst align`: choosing measures, and float32 files kept in float32 for the k-NN products.
@Suite struct AlignCommandTests {
    static func pair(in dir: URL, float32: Bool) throws {
        let x = Tensor<Double>.normal([400, 12], seed: 41)
        let y = try matmul(x, Tensor<Double>.normal([12, 9], seed: 42)).tanh() + Tensor<Double>.normal([400, 9], seed: 43) * 0.1
        if float32 {
            try x.cast(to: Float.self).save(npy: dir.appendingPathComponent("x32.npy").path)
            try y.cast(to: Float.self).save(npy: dir.appendingPathComponent("y32.npy").path)
        } else {
            try x.save(npy: dir.appendingPathComponent("x64.npy").path)
            try y.save(npy: dir.appendingPathComponent("y64.npy").path)
        }
    }

    @Test("--measures computes only the named optional measures; the regime's measures are always there")
    func measures() throws {
        let dir = try CommandLineTests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.pair(in: dir, float32: false)
        let all = try CommandLineTests.json(CommandLineTests.run(["align", "x64.npy", "y64.npy", "--json"], in: dir))
        let some = try CommandLineTests.run(["align", "x64.npy", "y64.npy", "--json", "--measures", "mutual_knn,svcca"], in: dir)
        #expect(some.code == 0, "\(some.err)")
        let j = try CommandLineTests.json(some)
        #expect(j["rbf_cka"] is NSNull && j["debiased_cka"] is NSNull && j["linear_predictivity_r2"] is NSNull)
        #expect(j["mutual_knn"] as? Double == all["mutual_knn"] as? Double && j["svcca"] as? Double == all["svcca"] as? Double)
        #expect(j["linear_cka"] as? Double == all["linear_cka"] as? Double && j["regime"] as? String == all["regime"] as? String)
        let none = try CommandLineTests.run(["align", "x64.npy", "y64.npy", "--measures", "none"], in: dir)
        #expect(none.code == 0 && none.out.contains("linear CKA") && !none.out.contains("mutual k-NN"))
        let bad = try CommandLineTests.run(["align", "x64.npy", "y64.npy", "--measures", "mutual_knn,cca"], in: dir)
        #expect(bad.code == 2 && bad.err.contains("--measures") && bad.err.contains("'cca'"))
    }

    @Test("float32 files: the same measures as their float64 copies (mutual k-NN up to near-ties)")
    func float32Files() throws {
        let dir = try CommandLineTests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.pair(in: dir, float32: true)
        try Self.pair(in: dir, float32: false)
        let f = try CommandLineTests.json(CommandLineTests.run(["align", "x32.npy", "y32.npy", "--json"], in: dir))
        let d = try CommandLineTests.json(CommandLineTests.run(["align", "x64.npy", "y64.npy", "--json"], in: dir))
        let knnF = try #require(f["mutual_knn"] as? Double), knnD = try #require(d["mutual_knn"] as? Double)
        #expect(abs(knnF - knnD) <= 0.005)
        // The other measures convert float32 to float64 first: they see values rounded to float32 only.
        for key in ["linear_cka", "procrustes_similarity", "svcca"] {
            let a = try #require(f[key] as? Double), b = try #require(d[key] as? Double)
            #expect(abs(a - b) < 1e-5, "\(key): \(a) vs \(b)")
        }
    }
}
