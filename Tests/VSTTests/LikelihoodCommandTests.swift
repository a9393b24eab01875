import Foundation
import Linear
import Testing
import TestSupport

/// `vst likelihood`: densities in the data's own units, for every family that has one, and clear refusals.
@Suite(.serialized) struct LikelihoodCommandTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-likelihood-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Correlated Gaussian rows [n, 4].
    static func rows(_ n: Int, seed: UInt64, scale: Double) throws -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        let z = Tensor<Double>.normal([n, 4], using: &g)
        let mix = try Tensor<Double>([1, 0.5, 0, 0, 0, 1, 0.3, 0, 0, 0, 0.5, 0.2, 0, 0, 0, 0.1], shape: [4, 4])
        return try matmul(z, mix) * scale
    }

    @Test("flow matching: the same model in other units moves the NLL by exactly D·log(scale); JSON keys; per-row output")
    func unitsAndKeys() throws {
        let dir = try Self.scratch(); defer { try? FileManager.default.removeItem(at: dir) }
        var nll: [Double] = []
        for (name, scale) in [("unit", 1.0), ("milli", 1000.0)] {
            try Self.rows(2000, seed: 1, scale: scale).save(npy: dir.appendingPathComponent("\(name)-train.npy").path)
            try Self.rows(300, seed: 2, scale: scale).save(npy: dir.appendingPathComponent("\(name)-test.npy").path)
            let t = try CommandLineTests.run(["train", "flow-matching", "--data", "\(name)-train.npy", "--steps", "150", "--seed", "3",
                                              "-o", "\(name).safetensors", "--quiet"], in: dir)
            #expect(t.code == 0, "\(t.err)")
            let r = try CommandLineTests.run(["likelihood", "--model", "\(name).safetensors", "--data", "\(name)-test.npy", "--steps", "40",
                                              "--json", "--quiet", "-o", "\(name)-logp.npy"], in: dir)
            #expect(r.code == 0, "\(r.err)")
            let j = try CommandLineTests.json(r)
            for key in ["family", "n", "d", "mean_log_likelihood", "standard_error", "nll", "bits_per_dim", "log_scale_jacobian",
                        "method", "steps", "divergence", "baseline"] { #expect(j[key] != nil, "missing \(key)") }
            #expect(j["divergence"] as? String == "exact" && j["n"] as? Int == 300)
            let value = try #require(j["nll"] as? Double)
            #expect(value.isFinite)
            nll.append(value)
            let perRow = try Tensor<Double>.load(npy: dir.appendingPathComponent("\(name)-logp.npy").path)
            #expect(perRow.shape == [300])
            #expect(abs(-perRow.scalars.reduce(0, +) / 300 - value) < 1e-9 * max(1, abs(value)))
        }
        // Standardisation makes both runs train the same model-unit network (up to rounding), so only the Jacobian differs.
        #expect(abs((nll[1] - nll[0]) - 4 * log(1000.0)) < 0.05, "NLL \(nll[0]) and \(nll[1]) differ by \(nll[1] - nll[0]), expected \(4 * log(1000.0))")
    }

    @Test("RealNVP's exact likelihood; refusals exit 2 naming the option")
    func realNVPAndRefusals() throws {
        let dir = try Self.scratch(); defer { try? FileManager.default.removeItem(at: dir) }
        for (family, file) in [("realnvp", "nvp.safetensors"), ("gan", "gan.safetensors")] {
            let t = try CommandLineTests.run(["train", family, "--data", "moons", "--dim", "4", "--steps", "20", "--seed", "1", "-o", file, "--quiet"], in: dir)
            #expect(t.code == 0, "\(family): \(t.err)")
        }
        let ok = try CommandLineTests.run(["likelihood", "--model", "nvp.safetensors", "--data", "moons", "--dim", "4", "--count", "200", "--json", "--quiet"], in: dir)
        #expect(ok.code == 0, "\(ok.err)")
        let j = try CommandLineTests.json(ok)
        #expect(j["family"] as? String == "realnvp" && (j["nll"] as? Double)?.isFinite == true)
        let gan = try CommandLineTests.run(["likelihood", "--model", "gan.safetensors", "--data", "moons", "--dim", "4", "--quiet"], in: dir)
        #expect(gan.code == 2 && gan.err.contains("--model: gan.safetensors") && gan.err.contains("no tractable likelihood"), "\(gan.err)")
        let badDivergence = try CommandLineTests.run(["likelihood", "--model", "nvp.safetensors", "--data", "moons", "--dim", "4",
                                                      "--divergence", "hutchinson:0"], in: dir)
        #expect(badDivergence.code == 2 && badDivergence.err.contains("--divergence"), "\(badDivergence.err)")
        let badMethod = try CommandLineTests.run(["likelihood", "--model", "nvp.safetensors", "--data", "moons", "--dim", "4", "--method", "dopri5"], in: dir)
        #expect(badMethod.code == 2 && badMethod.err.contains("--method"), "\(badMethod.err)")
        let missing = try CommandLineTests.run(["likelihood", "--model", "absent.safetensors", "--data", "moons", "--dim", "4"], in: dir)
        #expect(missing.code == 2 && missing.err.contains("absent.safetensors"), "\(missing.err)")
    }

    @Test("a data dimension other than the model's is refused before any work")
    func dimensionMismatch() throws {
        let dir = try Self.scratch(); defer { try? FileManager.default.removeItem(at: dir) }
        let t = try CommandLineTests.run(["train", "flow-matching", "--data", "moons", "--dim", "4", "--steps", "5", "-o", "fm.safetensors", "--quiet"], in: dir)
        #expect(t.code == 0, "\(t.err)")
        let r = try CommandLineTests.run(["likelihood", "--model", "fm.safetensors", "--data", "moons", "--dim", "8"], in: dir)
        #expect(r.code == 2 && r.err.contains("the model is 4-dimensional"), "\(r.err)")
    }
}
