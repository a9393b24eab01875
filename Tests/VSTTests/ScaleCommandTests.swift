import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// Issue 15 through the CLI: streamed `vst regimes` with the TwoNN subsample, `vst drift` over all rows, and
/// `vst trajectory` read a time slice at a time with phases in sampler steps.
@Suite(.serialized) struct ScaleCommandTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-scale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func regimesStreamsALargeFileAndReportsTheTwoNNSubsample() throws {
        let dir = try ScaleCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 70 000 × 64 = 4.5·10⁶ values: above the streaming threshold (2²² values).
        var g = RandomGenerator(seed: 3)
        let z = Tensor<Double>.normal([70_000, 4], using: &g)
        let q = try Tensor<Double>.normal([64, 4], using: &g).qr().q.transposed() * 4
        let x = try matmul(z, q) + Tensor<Double>.normal([70_000, 64], std: 0.005, using: &g)
        try x.save(npy: dir.appendingPathComponent("big.npy").path)
        let r = try CommandLineTests.run(["regimes", "big.npy", "--json", "--quiet"], in: dir)
        #expect(r.code == 0, "\(r.err)")
        let j = try CommandLineTests.json(r)
        #expect(j["n"] as? Int == 70_000 && j["twonn_rows"] as? Int == 10_000)
        let d = try #require(j["twonn_dimension"] as? Double), interval = try #require(j["twonn_interval"] as? [Double])
        #expect(interval.count == 2 && interval[0] <= d && d <= interval[1])
        #expect(Swift.abs(d - 4) < 0.7, "TwoNN \(d) of a 4-D set")
        // The streamed verdict equals the in-memory one.
        let mem = try Regimes.classify(x, seed: 0, twoNN: false)
        #expect(j["regime"] as? String == mem.regime.rawValue && j["signal_rank"] as? Int == mem.spectrum.signalRank)
        // An exact TwoNN over more rows than the limit is refused with exit 2 and a message naming the option.
        let exact = try CommandLineTests.run(["regimes", "big.npy", "--twonn-exact", "--quiet"], in: dir)
        #expect(exact.code == 2 && exact.err.contains("--twonn-exact"))
        #expect(try CommandLineTests.run(["regimes", "big.npy", "--twonn-rows", "2"], in: dir).code == 2)
    }

    @Test func driftOfAFileAgainstItselfIsNoForEverySeed() throws {
        let dir = try ScaleCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = Tensor<Double>.normal([3_000, 10], seed: 17)
        try x.save(npy: dir.appendingPathComponent("big.npy").path)
        for seed in [0, 1, 7, 123] {
            let r = try CommandLineTests.run(["drift", "big.npy", "big.npy", "--json", "--quiet", "--seed", String(seed)], in: dir)
            #expect(r.code == 0, "\(r.err)")
            let j = try CommandLineTests.json(r)
            #expect(j["drift"] as? Bool == false && j["p_value"] as? Double == 1 && j["mmd2"] as? Double == 0)
            #expect(j["test"] as? String == "block" && j["test_rows"] as? [Int] == [3_000, 3_000])
        }
        let table = try CommandLineTests.run(["drift", "big.npy", "big.npy", "--quiet"], in: dir)
        #expect(table.code == 0 && table.out.contains("block MMD over 3000 + 3000 rows"))
        #expect(try CommandLineTests.run(["drift", "big.npy", "big.npy", "--block-size", "1"], in: dir).code == 2)
    }

    @Test func trajectoryReportsPhasesInSamplerStepsAndKeepsAnR3Start() throws {
        let dir = try ScaleCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 20 steps: pure noise (R3) for the first 5, then a rank-3 signal (R1).
        var g = RandomGenerator(seed: 21)
        let n = 300, d = 16
        let signal = try matmul(Tensor<Double>.normal([n, 3], using: &g), Tensor<Double>.normal([d, 3], using: &g).qr().q.transposed() * 10)
        let noise = Tensor<Double>.normal([n, d], using: &g)
        let traj = try Tensor.stack((0..<20).map { t in t < 5 ? noise : try signal + noise * 0.05 })
        try traj.save(npy: dir.appendingPathComponent("traj.npy").path)
        let r = try CommandLineTests.run(["trajectory", "traj.npy", "--stride", "10", "--json", "--quiet"], in: dir)
        #expect(r.code == 0, "\(r.err)")
        let j = try CommandLineTests.json(r)
        let steps = try #require(j["steps"] as? [[String: Any]])
        #expect(steps.map { $0["t"] as? Int } == [0, 10, 19])
        #expect(steps.map { $0["regime"] as? String } == ["R3", "R1", "R1"])
        let phases = try #require(j["phases"] as? [[String: Any]])
        #expect(phases.map { [$0["regime"] as? String, ($0["start"] as? Int).map(String.init), ($0["end"] as? Int).map(String.init)] }
                == [["R3", "0", "9"], ["R1", "10", "19"]])
        let transitions = try #require(j["transitions"] as? [[String: Any]])
        #expect(transitions.count == 1 && transitions.first?["t"] as? Int == 10)
        // The streamed CLI equals the in-memory analysis of the same slices.
        let mem = try TrajectoryAnalysis.analyze(traj.gather(rows: [0, 10, 19]))
        #expect(steps.map { $0["regime"] as? String } == mem.steps.map { $0.report.regime.rawValue })
        for (s, m) in zip(steps, mem.steps) { #expect(Swift.abs((s["signal_energy"] as? Double ?? .nan) - m.report.spectrum.signalEnergy) < 1e-12) }
        // The table agrees: a change, not "transitions: none".
        let table = try CommandLineTests.run(["trajectory", "traj.npy", "--stride", "10", "--quiet"], in: dir)
        #expect(table.out.contains("R3[0–9] → R1[10–19]") && table.out.contains("t=10 R3→R1"))
        // A minimum phase length longer than the R3 start does not remove it (the first run is always kept).
        let long = try CommandLineTests.run(["trajectory", "traj.npy", "--min-phase-length", "12", "--json", "--quiet"], in: dir)
        #expect(((try CommandLineTests.json(long))["transitions"] as? [Any])?.count == 1)
        #expect(try CommandLineTests.run(["trajectory", "traj.npy", "--min-phase-length", "0"], in: dir).code == 2)
    }
}
