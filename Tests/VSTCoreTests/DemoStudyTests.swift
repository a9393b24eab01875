import Foundation
import Testing
import VSTCore
import TestSupport

/// The study of `vst demo`, called in process on a budget small enough for seconds: every step runs, writes the
/// report's sections, and the same seed gives the same numbers. (What the full `--quick` study finds is checked
/// end to end by VSTTests' DemoCommandTests.)
@Suite struct DemoStudyTests {
    static let tiny = DemoBudget(trainSteps: 6, vaeSteps: 6, hidden: 16, blocks: 1, batchSize: 64, timesteps: 60, samples: 40,
                                 trajectoryRows: 20, ddpmRecordEvery: 10, rungs: [64, 128], toyRows: 200, permutations: 20)

    /// Runs every step of the study into `dir` and returns report.json's top-level object.
    static func run(seed: UInt64, into dir: URL) throws -> [String: Any] {
        let study = DemoStudy(budget: tiny, seed: seed, quick: true, quiet: true)
        try study.run(to: dir.path, overwrite: false)
        #expect(!study.summary.isEmpty)
        let data = try Data(contentsOf: dir.appendingPathComponent("report.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Equal JSON values, numbers up to 1e-9 relative; timings (keys holding "seconds") are skipped.
    static func agree(_ a: Any, _ b: Any) -> Bool {
        switch (a, b) {
        case let (x as [String: Any], y as [String: Any]):
            return Set(x.keys) == Set(y.keys) && x.allSatisfy { $0.key.contains("seconds") || agree($0.value, y[$0.key]!) }
        case let (x as [Any], y as [Any]):
            return x.count == y.count && zip(x, y).allSatisfy { agree($0, $1) }
        case let (x as NSNumber, y as NSNumber):
            let u = x.doubleValue, v = y.doubleValue
            return u == v || (u.isNaN && v.isNaN) || isClose(u, v, rtol: 1e-9, atol: 1e-12)
        case let (x as String, y as String):
            return x == y
        default:
            return (a is NSNull) && (b is NSNull)
        }
    }

    @Test("every step of the study runs on a tiny budget and writes its section; same seed, same numbers")
    func tinyStudy() throws {
        // Digits are found through SUBSTRATE_DATA or from the repository (the bundled data lookup).
        let a = try makeTemporaryDirectory("demo-study-a"), b = try makeTemporaryDirectory("demo-study-b")
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let first = try Self.run(seed: 3, into: a.appendingPathComponent("report"))
        for key in ["demo", "data", "training", "regimes", "trajectories", "drift", "quality", "alignment", "scaling", "validation"] {
            #expect(first[key] != nil, "report.json lacks '\(key)'")
        }
        #expect(FileManager.default.fileExists(atPath: a.appendingPathComponent("report/index.html").path))
        let second = try Self.run(seed: 3, into: b.appendingPathComponent("report"))
        // Timings differ between runs; every section without them agrees. Numbers are compared to 1e-9 relative:
        // covariance sums split their rows by BLAS.threads, which tests running alongside may change.
        for key in ["data", "regimes", "drift", "alignment", "scaling"] {
            #expect(Self.agree(first[key] as Any, second[key] as Any), "section '\(key)' differs between two runs with seed 3")
        }
    }
}
