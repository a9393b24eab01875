import Foundation
import Linear
import Testing
import TestSupport

/// End-to-end tests of `vst train / sample / encode / decode` for vae, vqvae, the GANs, realnvp and latent diffusion (tiny runs).
@Suite(.serialized) struct FamilyCommandTests {
    /// The repository's data directory (for the digits).
    static let dataDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<6 {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { break }
        }
        return url.appendingPathComponent("data").path
    }()

    typealias Result = CommandLineTests.Result

    /// Runs vst with `args` in `dir`, with the repository's data directory for the digits.
    static func run(_ args: [String], in dir: URL) throws -> Result {
        try CommandLineTests.run(args, in: dir, environment: ["SUBSTRATE_DATA": dataDirectory])
    }

    static func workspace() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-genii-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func shape(_ dir: URL, _ name: String) throws -> [Int] { try NPY.read(dir.appendingPathComponent(name).path).shape }

    @Test func vaeTrainEncodeDecodeSample() throws {
        let dir = try Self.workspace()
        let train = try Self.run(["train", "vae", "--data", "digits", "--steps", "40", "--batch-size", "64", "--hidden", "32",
                                  "--latent-dim", "3", "--beta", "2", "--kl-warmup", "10", "-o", "vae.safetensors"], in: dir)
        #expect(train.code == 0, "\(train.err)")
        #expect(train.out.contains("IWAE") && train.out.contains("vae.safetensors"))
        #expect(train.err.contains("step 40/40") && train.err.contains("ETA"))      // progress on stderr
        let enc = try Self.run(["encode", "--model", "vae.safetensors", "--data", "digits", "-o", "z.npy", "--log-variance", "lv.npy"], in: dir)
        #expect(enc.code == 0, "\(enc.err)")
        #expect(try Self.shape(dir, "z.npy") == [1797, 3] && Self.shape(dir, "lv.npy") == [1797, 3])
        let dec = try Self.run(["decode", "--model", "vae.safetensors", "z.npy", "-o", "x.npy"], in: dir)
        #expect(dec.code == 0, "\(dec.err)")
        let x: Tensor<Double> = try NPY.read(dir.appendingPathComponent("x.npy").path).tensor()
        #expect(x.shape == [1797, 64] && x.allFinite)
        #expect(x.mean() > 0 && x.mean() < 16)                                          // original units (0 … 16)
        let s = try Self.run(["sample", "--model", "vae.safetensors", "-n", "12", "--seed", "3", "-o", "s.npy"], in: dir)
        #expect(s.code == 0, "\(s.err)")
        #expect(try Self.shape(dir, "s.npy") == [12, 64])
        // Samples are in the data's units, so vst evaluate takes them against the bundled digits.
        let big = try Self.run(["sample", "--model", "vae.safetensors", "-n", "200", "-o", "s200.npy"], in: dir)
        #expect(big.code == 0, "\(big.err)")
        let ev = try Self.run(["evaluate", "s200.npy", "--reference", "digits", "--json"], in: dir)
        #expect(ev.code == 0, "\(ev.err)")
        #expect(ev.out.contains("mmd2"))
        // Errors: exit 2 with one line naming the problem.
        let exists = try Self.run(["sample", "--model", "vae.safetensors", "-n", "12", "-o", "s.npy"], in: dir)
        #expect(exists.code == 2 && exists.err.contains("--force"))
        let wrongDim = try Self.run(["decode", "--model", "vae.safetensors", "lv.npy", "-o", "bad.npy"], in: dir)
        #expect(wrongDim.code == 0)                                                     // lv has 3 columns too
        try Tensor<Double>.zeros([4, 5]).save(npy: dir.appendingPathComponent("z5.npy").path)
        let bad = try Self.run(["decode", "--model", "vae.safetensors", "z5.npy", "-o", "bad2.npy"], in: dir)
        #expect(bad.code == 2 && bad.err.contains("latent dimensions"))
        let lik = try Self.run(["train", "vae", "--data", "digits", "--likelihood", "poisson", "-o", "v2.safetensors"], in: dir)
        #expect(lik.code == 2 && lik.err.contains("likelihood"))
        let notModel = try Self.run(["encode", "--model", "z.npy", "--data", "digits", "-o", "e.npy"], in: dir)
        #expect(notModel.code == 2)
    }

    @Test func vqvaeCodes() throws {
        let dir = try Self.workspace()
        let train = try Self.run(["train", "vqvae", "--data", "digits", "--steps", "30", "--batch-size", "64", "--hidden", "32",
                                  "--codebook-size", "16", "--code-positions", "4", "--latent-dim", "2", "--ema-codebook", "--quiet", "-o", "vq.safetensors"], in: dir)
        #expect(train.code == 0, "\(train.err)")
        #expect(train.out.contains("perplexity"))
        let enc = try Self.run(["encode", "--model", "vq.safetensors", "--data", "digits", "-o", "codes.npy"], in: dir)
        #expect(enc.code == 0, "\(enc.err)")
        let codes = try NPY.read(dir.appendingPathComponent("codes.npy").path)
        #expect(codes.shape == [1797, 4] && codes.dtype == .int64)
        #expect(try codes.integers().allSatisfy { $0 >= 0 && $0 < 16 })
        let dec = try Self.run(["decode", "--model", "vq.safetensors", "codes.npy", "-o", "x.npy"], in: dir)
        #expect(dec.code == 0, "\(dec.err)")
        #expect(try Self.shape(dir, "x.npy") == [1797, 64])
        let zq = try Self.run(["encode", "--model", "vq.safetensors", "--data", "digits", "--quantized", "-o", "zq.npy"], in: dir)
        #expect(zq.code == 0, "\(zq.err)")
        #expect(try Self.shape(dir, "zq.npy") == [1797, 8])
        try NPY.write(try NDArray(shape: [1, 4], values: .int64([0, 1, 2, 99])), to: dir.appendingPathComponent("bad.npy").path)
        let bad = try Self.run(["decode", "--model", "vq.safetensors", "bad.npy", "-o", "y.npy"], in: dir)
        #expect(bad.code == 2 && bad.err.contains("99"))
    }

    @Test func gansFlowAndLatentDiffusion() throws {
        let dir = try Self.workspace()
        let w = try Self.run(["train", "wgan-gp", "--data", "eight-gaussians", "--count", "500", "--steps", "10", "--batch-size", "32",
                              "--hidden", "16", "--quiet", "-o", "w.safetensors"], in: dir)
        #expect(w.code == 0, "\(w.err)")
        #expect(w.out.contains("penalty"))
        let ws = try Self.run(["sample", "--model", "w.safetensors", "-n", "20", "-o", "w.npy"], in: dir)
        #expect(ws.code == 0, "\(ws.err)")
        #expect(try Self.shape(dir, "w.npy") == [20, 2])
        let noEnc = try Self.run(["encode", "--model", "w.safetensors", "--data", "eight-gaussians", "-o", "e.npy"], in: dir)
        #expect(noEnc.code == 2 && noEnc.err.contains("no encoder"))

        let c = try Self.run(["train", "cgan", "--data", "digits", "--steps", "5", "--batch-size", "32", "--hidden", "16", "--quiet", "-o", "c.safetensors"], in: dir)
        #expect(c.code == 0, "\(c.err)")
        let cs = try Self.run(["sample", "--model", "c.safetensors", "-n", "10", "--label", "3", "-o", "c.npy"], in: dir)
        #expect(cs.code == 0, "\(cs.err)")
        #expect(try Self.shape(dir, "c.npy") == [10, 64])
        // The old spelling gives the same samples; a contradiction and an unknown class are refused.
        let old = try Self.run(["sample", "--model", "c.safetensors", "-n", "10", "--class-label", "3", "-o", "c-old.npy"], in: dir)
        #expect(old.code == 0, "\(old.err)")
        #expect(try Tensor<Float>.load(npy: dir.appendingPathComponent("c-old.npy").path) == Tensor<Float>.load(npy: dir.appendingPathComponent("c.npy").path))
        let both = try Self.run(["sample", "--model", "c.safetensors", "-n", "10", "--label", "3", "--class-label", "4", "-o", "c3.npy"], in: dir)
        #expect(both.code == 2 && both.err.contains("disagree"), "\(both.err)")
        let cbad = try Self.run(["sample", "--model", "c.safetensors", "-n", "10", "--label", "10", "-o", "c2.npy"], in: dir)
        #expect(cbad.code == 2 && cbad.err.contains("classes 0…9"), "\(cbad.err)")
        let notConditional = try Self.run(["sample", "--model", "w.safetensors", "-n", "10", "--label", "1", "-o", "w2.npy"], in: dir)
        #expect(notConditional.code == 2 && notConditional.err.contains("not class-conditional"), "\(notConditional.err)")
        let g = try Self.run(["train", "gan", "--data", "moons", "--count", "300", "--steps", "5", "--batch-size", "32", "--hidden", "16", "--quiet", "-o", "g.safetensors"], in: dir)
        #expect(g.code == 0, "\(g.err)")

        let r = try Self.run(["train", "realnvp", "--data", "digits", "--steps", "10", "--batch-size", "64", "--hidden", "32", "--couplings", "2",
                              "--quiet", "-o", "r.safetensors"], in: dir)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("bits/dim"))
        let rs = try Self.run(["sample", "--model", "r.safetensors", "-n", "7", "-o", "r.npy"], in: dir)
        #expect(rs.code == 0, "\(rs.err)")
        #expect(try Self.shape(dir, "r.npy") == [7, 64])

        let v = try Self.run(["train", "vae", "--data", "digits", "--steps", "10", "--hidden", "16", "--latent-dim", "4", "--quiet", "-o", "v.safetensors"], in: dir)
        #expect(v.code == 0, "\(v.err)")
        let ld = try Self.run(["train", "latent-diffusion", "--data", "digits", "--vae", "v.safetensors", "--steps", "10", "--hidden", "16",
                               "--blocks", "1", "--quiet", "-o", "ld.safetensors"], in: dir)
        #expect(ld.code == 0, "\(ld.err)")
        let lds = try Self.run(["sample", "--model", "ld.safetensors", "-n", "6", "--steps", "5", "--trajectory", "t.npy", "-o", "ld.npy"], in: dir)
        #expect(lds.code == 0, "\(lds.err)")
        #expect(try Self.shape(dir, "ld.npy") == [6, 64] && Self.shape(dir, "t.npy") == [6, 6, 4])
        let lde = try Self.run(["encode", "--model", "ld.safetensors", "--data", "digits", "--count", "50", "-o", "lz.npy"], in: dir)
        #expect(lde.code == 0, "\(lde.err)")
        #expect(try Self.shape(dir, "lz.npy") == [50, 4])
        let badVAE = try Self.run(["train", "latent-diffusion", "--data", "digits", "--vae", "w.safetensors", "--steps", "2", "-o", "x.safetensors"], in: dir)
        #expect(badVAE.code == 2 && badVAE.err.contains("not a vae"))
    }

    /// Every tensor and the step of a model file.
    static func contents(_ dir: URL, _ name: String) throws -> (tensors: [String: NDArray], step: String?) {
        let f = try SafetensorsFile.read(dir.appendingPathComponent(name).path)
        return (f.tensors, f.metadata["step"])
    }

    @Test("--resume continues vae, wgan-gp and realnvp exactly; mismatched seed, data, steps or family are refused",
          arguments: [["vae", "--data", "moons", "--count", "300"], ["wgan-gp", "--data", "eight-gaussians", "--count", "300", "--critic-steps", "2"],
                      ["realnvp", "--data", "digits", "--couplings", "2"]])
    func resumeIsExact(_ family: [String]) throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let common = ["train"] + family + ["--batch-size", "32", "--hidden", "16", "--seed", "5", "--quiet"]
        #expect(try Self.run(common + ["--steps", "24", "-o", "straight.safetensors"], in: dir).code == 0)
        let half = try Self.run(common + ["--steps", "12", "-o", "r.safetensors"], in: dir)
        #expect(half.code == 0, "\(half.err)")
        let resumed = try Self.run(common + ["--steps", "24", "--resume", "r.safetensors", "-o", "r.safetensors"], in: dir)
        #expect(resumed.code == 0, "\(resumed.err)")
        #expect(resumed.out.contains("(from 12)"), "\(resumed.out)")
        let a = try Self.contents(dir, "straight.safetensors"), b = try Self.contents(dir, "r.safetensors")
        #expect(a.step == "24" && b.step == "24")
        #expect(a.tensors.keys.sorted() == b.tensors.keys.sorted())
        #expect(a.tensors.keys.contains { $0.hasPrefix("optimizer.") }, "the file holds the optimiser state")
        let differing = a.tensors.keys.filter { a.tensors[$0] != b.tensors[$0] }
        #expect(differing.isEmpty, "\(family[0]): \(differing.count) tensors differ after --resume, e.g. \(differing.sorted().prefix(3))")

        let otherSeed = try Self.run(common.map { $0 == "5" ? "6" : $0 } + ["--steps", "30", "--resume", "r.safetensors", "-o", "s.safetensors"], in: dir)
        #expect(otherSeed.code == 2 && otherSeed.err.contains("--seed 5"), "\(otherSeed.err)")
        let noMore = try Self.run(common + ["--steps", "24", "--resume", "r.safetensors", "-o", "t.safetensors"], in: dir)
        #expect(noMore.code == 2 && noMore.err.contains("already trained for 24"), "\(noMore.err)")
        let otherFamily = try Self.run(["train", family[0] == "vae" ? "vqvae" : "vae"] + family.dropFirst() + ["--steps", "30", "--seed", "5", "--quiet",
                                                                                                           "--resume", "r.safetensors", "-o", "u.safetensors"], in: dir)
        #expect(otherFamily.code == 2 && otherFamily.err.contains("not"), "\(otherFamily.err)")
        let existing = try Self.run(common + ["--steps", "30", "--resume", "r.safetensors", "-o", "straight.safetensors"], in: dir)
        #expect(existing.code == 2 && existing.err.contains("--force"), "writing over another existing file needs --force: \(existing.err)")
    }
}
