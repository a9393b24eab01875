import Foundation
import Testing
import TestSupport

/// Learning on a rung of the ladder, through `vst train`'s defaults: two moons lifted to D = 64 (a 2-D manifold plus
/// 0.01 noise in 64 dimensions), trained with no option but the data, sampled with the family's default sampler and
/// scored by `vst evaluate` against held-out moons. Each model must beat the moment-matched Gaussian baseline on both
/// MMD² and precision — the Gaussian has the data's mean and covariance, so beating it means learning the manifold.
/// (These failed before the data-predicting defaults: DDPM MMD² 0.376 / precision 0.006, score-SDE 0.364 / 0.044,
/// flow matching precision 0.430 against the baseline's 0.709.)
@Suite(.serialized) struct LadderLearningTests {
    typealias CLI = CommandLineTests

    static func learns(_ family: String, seed: Int, data: String = "moons", dim: Int = 64, extra: [String] = []) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-ladder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = try CLI.run(["train", family, "--data", data, "--dim", String(dim), "--seed", String(seed), "-o", "m.safetensors", "--quiet"] + extra, in: dir)
        try #require(train.code == 0, "\(family): \(train.err)")
        let sample = try CLI.run(["sample", "--model", "m.safetensors", "-n", "1000", "--seed", String(seed + 1), "-o", "s.npy", "--quiet"], in: dir)
        try #require(sample.code == 0, "\(family): \(sample.err)")
        let eval = try CLI.run(["evaluate", "s.npy", "--reference", data, "--dim", String(dim), "--seed", String(seed + 2), "--json", "--quiet"], in: dir)
        try #require(eval.code == 0, "\(family): \(eval.err)")
        let j = try CLI.json(eval)
        let base = try #require(j["baseline"] as? [String: Any])
        let mmd = try #require(j["mmd2"] as? Double), precision = try #require(j["precision"] as? Double)
        let baseMMD = try #require(base["mmd2"] as? Double), basePrecision = try #require(base["precision"] as? Double)
        print(String(format: "ladder %@ D = %d, %@ (seed %d): MMD² %.5f (baseline %.5f), precision %.3f (baseline %.3f), recall %.3f",
                     data, dim, family, seed, mmd, baseMMD, precision, basePrecision, j["recall"] as? Double ?? .nan))
        #expect(mmd < baseMMD, "\(family): MMD² \(mmd) ≥ baseline \(baseMMD)")
        #expect(precision > basePrecision, "\(family): precision \(precision) ≤ baseline \(basePrecision)")
        #expect(j["beats_baseline"] as? Bool == true)
    }

    @Test("ddpm learns moons in 64-D with vst train's defaults") func ddpm() throws { try Self.learns("ddpm", seed: 3) }
    @Test("flow matching learns moons in 64-D with vst train's defaults") func flowMatching() throws { try Self.learns("flow-matching", seed: 3) }
    @Test("score-SDE learns moons in 64-D with vst train's defaults") func scoreSDE() throws { try Self.learns("score-sde", seed: 3) }
    @Test("VAE learns moons in 64-D with vst train's defaults") func vae() throws { try Self.learns("vae", seed: 3) }
    @Test("RealNVP learns moons in 64-D with vst train's defaults") func realNVP() throws { try Self.learns("realnvp", seed: 3) }
    /// With the old independent per-position prior the same weights gave MMD² 0.0784, precision 0.363 (seed 3).
    /// Seeds 3 and 5 pass; seed 4 reaches MMD² 0.00139 but precision 0.506 against 0.708 (left open in issue 14).
    @Test("VQ-VAE (joint code prior) learns moons in 64-D with vst train's defaults") func vqvae() throws { try Self.learns("vqvae", seed: 3) }
    @Test("latent diffusion learns moons in 64-D with vst train's defaults") func latentDiffusion() throws { try Self.learns("latent-diffusion", seed: 3) }

    /// The checkerboard in 64-D fails with the DDPM prior (ε-prediction, scaled-linear schedule, DDIM 50): MMD² 0.0039 /
    /// 0.0068 / 0.0044 for training seeds 3 / 4 / 5 against the baselines' 0.0032 / 0.0033 / 0.0050, although the
    /// VAE's own N(0, I) prior passes (0.0022, seed 3). The flow-matching prior (RK4 20) over a VAE trained the same way gives
    /// 0.00024 / 0.0047 / 0.00020 (precision 0.789 / 0.779 / 0.779): better on every seed, seed 4 still above its
    /// baseline (its samples' mean is off by 0.33 along the plane: the cells are unevenly filled).
    /// It is `vst train`'s default prior now, which is what this test runs.
    @Test("latent diffusion (flow-matching prior, the default) learns the checkerboard in 64-D") func latentDiffusionCheckerboard() throws {
        try Self.learns("latent-diffusion", seed: 3, data: "checkerboard")
    }

    /// The VAE's latent dimension follows the data's effective rank (2 here); with the former fixed d = 9 prior
    /// samples fell between the modes: MMD² 0.0077 against the baseline's 0.0072 (seed 3), and seeds 4 and 5 failed too.
    @Test("VAE learns eight Gaussians in 64-D with vst train's defaults") func vaeEightGaussians() throws {
        try Self.learns("vae", seed: 3, data: "eight-gaussians")
    }
    /// Score-SDE scales the data isotropically by default; standardised feature by feature, moons in 256-D have
    /// variance ≈ 128 along their plane and the model gave MMD² 0.025 against the baseline's 0.0068 (seed 3).
    @Test("score-SDE learns moons in 256-D with vst train's defaults") func scoreSDE256() throws {
        try Self.learns("score-sde", seed: 3, dim: 256)
    }

    @Test("non-finite or out-of-range --ema-decay and --lr exit 2 naming the option (a NaN decay used to train all-NaN EMA weights)")
    func badTrainingNumbers() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-ladder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (option, value) in [("--ema-decay", "nan"), ("--ema-decay", "1.5"), ("--ema-decay", "-0.1"), ("--lr", "nan"), ("--lr", "0")] {
            let r = try CLI.run(["train", "ddpm", "--data", "moons", "--steps", "2", option, value, "-o", "m.safetensors"], in: dir)
            #expect(r.code == 2, "\(option) \(value): exit \(r.code)")
            #expect(r.err.contains(option), "\(option) \(value): \(r.err)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.safetensors").path))
        }
        // Options of this session's defaults, refused where they do not apply.
        let refused: [([String], String)] = [
            (["train", "realnvp", "--coupled-features", "3"], "--coupled-features"),
            (["train", "realnvp", "--principal-axes", "--coupled-features", "-1"], "--coupled-features"),
            (["train", "score-sde", "--loss-weighting", "uniform"], "--loss-weighting"),
            (["train", "wgan-gp", "--r1", "5"], "--r1"),
        ]
        for (args, option) in refused {
            let r = try CLI.run(args + ["--data", "moons", "--steps", "2", "-o", "m.safetensors"], in: dir)
            #expect(r.code == 2 && r.err.contains(option), "\(args): exit \(r.code), \(r.err)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.safetensors").path))
        }
    }
}
