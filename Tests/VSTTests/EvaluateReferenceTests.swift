import Foundation
import Linear
import Testing
import TestSupport

/// `vst evaluate --reference <data name>`: bundled references, the digits classifier figures, the JSON keys and the
/// usage errors (run through the built vst binary, as CommandLineTests does).
@Suite(.serialized) struct EvaluateReferenceTests {
    typealias CLI = CommandLineTests

    /// The digits in pixel units (0…16) as the repository ships them.
    static func digitsPixels() throws -> Tensor<Double> {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let table = try CSV.read(url.appendingPathComponent("data/digits.csv").path, labelColumn: -1)
        return table.data
    }

    static func workspace() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-evalref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let digits = try digitsPixels()
        var g = RandomGenerator(seed: 7)
        try digits.gather(rows: g.choice(digits.shape[0], count: 400)).save(npy: dir.appendingPathComponent("digits400.npy").path)
        try Tensor<Double>.uniform([300, 64], low: 0, high: 16, using: &g).save(npy: dir.appendingPathComponent("noise64.npy").path)
        try Tensor<Double>.normal([300, 2], using: &g).save(npy: dir.appendingPathComponent("blob2.npy").path)
        try Tensor<Double>.normal([300, 16], using: &g).save(npy: dir.appendingPathComponent("blob16.npy").path)
        return dir
    }

    static let qualityKeys = ["n", "d", "mmd2", "kid", "precision", "recall", "density", "coverage", "frechet_distance", "baseline",
                              "beats_baseline", "reasons", "warnings", "reference"]
    static let digitsKeys = ["feature_frechet_distance", "class_coverage", "class_fraction", "class_kl_uniform", "class_tv_uniform",
                             "classifier_confidence", "class_histogram"]

    @Test func digitsReferenceAddsClassifierFigures() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let real = try CLI.run(["evaluate", "digits400.npy", "--reference", "digits", "--json"], in: dir)
        #expect(real.code == 0, "\(real.err)")
        let j = try CLI.json(real)
        for k in Self.qualityKeys + Self.digitsKeys + ["classifier_held_out_accuracy", "real_class_coverage", "units"] {
            #expect(j[k] != nil, "missing key \(k)")
        }
        let base = try #require(j["baseline"] as? [String: Any])
        for k in Self.digitsKeys { #expect(base[k] != nil, "missing baseline key \(k)") }
        #expect(j["reference"] as? String == "digits" && j["d"] as? Int == 64 && j["n_real"] as? Int == 1797)
        let fd = try #require(j["feature_frechet_distance"] as? Double), baseFD = try #require(base["feature_frechet_distance"] as? Double)
        #expect(fd * 2 < baseFD, "real digits: feature FD \(fd), baseline \(baseFD)")
        #expect(try #require(j["class_coverage"] as? Double) > 0.97)
        #expect(j["beats_baseline"] as? Bool == true)
        #expect(try #require(j["classifier_held_out_accuracy"] as? Double) >= 0.95)
        #expect((j["class_histogram"] as? [Any])?.count == 10)

        let noise = try CLI.json(CLI.run(["evaluate", "noise64.npy", "--reference", "digits", "--json"], in: dir))
        #expect(try #require(noise["feature_frechet_distance"] as? Double) > 10 * fd)
        #expect(noise["beats_baseline"] as? Bool == false)

        let table = try CLI.run(["evaluate", "digits400.npy", "--reference", "digits"], in: dir)
        #expect(table.code == 0 && table.out.contains("feature FD") && table.out.contains("class coverage"))
    }

    @Test func toyReferenceIsDrawnAndLifted() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let flat = try CLI.run(["evaluate", "blob2.npy", "--reference", "moons", "--count", "500", "--json"], in: dir)
        #expect(flat.code == 0, "\(flat.err)")
        let j = try CLI.json(flat)
        for k in Self.qualityKeys + ["reference_seed"] { #expect(j[k] != nil, "missing key \(k)") }
        for k in Self.digitsKeys { #expect(j[k] == nil, "unexpected digits key \(k) for a toy") }
        #expect(j["reference"] as? String == "moons" && j["n_real"] as? Int == 500 && j["d"] as? Int == 2)

        // The dimension comes from the samples (or --dim); a mismatch is bad input.
        let lifted = try CLI.json(CLI.run(["evaluate", "blob16.npy", "--reference", "eight-gaussians", "--count", "400", "--json"], in: dir))
        #expect(lifted["reference"] as? String == "eight-gaussians:16" && lifted["d"] as? Int == 16)
        let same = try CLI.json(CLI.run(["evaluate", "blob16.npy", "--reference", "eight-gaussians", "--dim", "16", "--count", "400", "--json"], in: dir))
        #expect(same["mmd2"] as? Double == lifted["mmd2"] as? Double)
        let wrongDim = try CLI.run(["evaluate", "blob16.npy", "--reference", "spiral", "--dim", "32"], in: dir)
        #expect(wrongDim.code == 2 && wrongDim.err.contains("D = 16"))
    }

    @Test func badReferencesExitTwo() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let unknown = try CLI.run(["evaluate", "blob2.npy", "--reference", "mnist"], in: dir)
        #expect(unknown.code == 2)
        #expect(unknown.err.contains("mnist") && unknown.err.contains("digits, moons, eight-gaussians, checkerboard, spiral"), "\(unknown.err)")
        #expect(unknown.out.isEmpty)
        let notDigits = try CLI.run(["evaluate", "blob16.npy", "--reference", "digits"], in: dir)
        #expect(notDigits.code == 2 && notDigits.err.contains("64"))
        let both = try CLI.run(["evaluate", "blob2.npy", "blob2.npy", "--reference", "moons"], in: dir)
        #expect(both.code == 2 && both.err.contains("not both"))
        let neither = try CLI.run(["evaluate", "blob2.npy"], in: dir)
        #expect(neither.code == 2 && neither.err.contains("--reference"))
    }
}
