import Foundation
import Testing
import TestSupport

/// `vst train` and `vst sample` refuse what they cannot do before doing any of it (issue 15): sizes no machine could
/// allocate, a resume that would overwrite an unrelated file or continue a different run, and a trajectory that
/// cannot be written. Each exits 2 with the option named and leaves no output behind.
@Suite(.serialized) struct TrainSafetyCommandTests {
    typealias CLI = CommandLineTests

    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-safety-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func exists(_ dir: URL, _ name: String) -> Bool {
        FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path)
    }

    @Test("absurd --hidden, --count, --dim, --batch-size, --blocks, --codebook-size exit 2 naming the option (no abort in malloc)")
    func absurdSizes() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(family: String, option: String, value: String)] = [
            ("ddpm", "--hidden", "1000000000"), ("gan", "--hidden", "1000000000"), ("realnvp", "--hidden", "1000000000"),
            ("flow-matching", "--count", "1000000000000"), ("vae", "--count", "1000000000000"),
            ("ddpm", "--dim", "4000000000"), ("consistency", "--batch-size", "1000000000000000"),
            ("score-sde", "--blocks", "1000000000000"), ("vqvae", "--codebook-size", "1000000000000000000"),
        ]
        for c in cases {
            let r = try CLI.run(["train", c.family, "--data", "moons", "--steps", "2", c.option, c.value, "-o", "m.safetensors"], in: dir)
            #expect(r.code == 2, "\(c.family) \(c.option) \(c.value): exit \(r.code), \(r.err)")
            #expect(r.err.contains(c.option), "\(c.family) \(c.option) \(c.value): \(r.err)")
            #expect(!Self.exists(dir, "m.safetensors"))
        }
        // A large but possible size still trains.
        let ok = try CLI.run(["train", "ddpm", "--data", "moons", "--steps", "1", "--count", "300", "--hidden", "16", "-o", "m.safetensors", "--quiet"], in: dir)
        #expect(ok.code == 0, "\(ok.err)")
    }

    @Test("train --resume (ddpm, score-sde, flow-matching, consistency) refuses an unrelated -o without --force, another --seed or --data")
    func resumeRefusals() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["--data", "moons", "--hidden", "16", "--blocks", "1", "--count", "256", "--quiet"]
        for family in ["ddpm", "score-sde", "flow-matching", "consistency"] {
            let first = try CLI.run(["train", family, "--steps", "2", "--seed", "7", "-o", "a.safetensors", "--force"] + base, in: dir)
            try #require(first.code == 0, "\(family): \(first.err)")
            let unrelated = dir.appendingPathComponent("b.safetensors")
            try Data("not a model".utf8).write(to: unrelated)

            let overwrite = try CLI.run(["train", family, "--steps", "4", "--seed", "7", "--resume", "a.safetensors", "-o", "b.safetensors"] + base, in: dir)
            #expect(overwrite.code == 2, "\(family): exit \(overwrite.code)")
            #expect(overwrite.err.contains("b.safetensors") && overwrite.err.contains("--force"), "\(family): \(overwrite.err)")
            #expect(try Data(contentsOf: unrelated) == Data("not a model".utf8), "\(family): the unrelated file was changed")

            let seed = try CLI.run(["train", family, "--steps", "4", "--seed", "8", "--resume", "a.safetensors", "-o", "a.safetensors"] + base, in: dir)
            #expect(seed.code == 2, "\(family): exit \(seed.code)")
            #expect(seed.err.contains("--seed") && seed.err.contains("a.safetensors"), "\(family): \(seed.err)")

            let data = try CLI.run(["train", family, "--steps", "4", "--seed", "7", "--resume", "a.safetensors", "-o", "a.safetensors",
                                    "--data", "spiral"] + base.dropFirst(2), in: dir)
            #expect(data.code == 2, "\(family): exit \(data.code)")
            #expect(data.err.contains("--data") && data.err.contains("a.safetensors"), "\(family): \(data.err)")

            // The same run continues, into its own file or, with --force, over another.
            let same = try CLI.run(["train", family, "--steps", "3", "--seed", "7", "--resume", "a.safetensors", "-o", "a.safetensors"] + base, in: dir)
            #expect(same.code == 0, "\(family): \(same.err)")
            let forced = try CLI.run(["train", family, "--steps", "4", "--seed", "7", "--resume", "a.safetensors", "-o", "b.safetensors", "--force"] + base, in: dir)
            #expect(forced.code == 0, "\(family): \(forced.err)")
            #expect(try Data(contentsOf: unrelated) != Data("not a model".utf8))
        }
    }

    @Test("sample --trajectory that cannot be written leaves no samples file (missing directory, existing file, a directory, same path)")
    func trajectoryLeavesNoPartialOutput() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = try CLI.run(["train", "ddpm", "--data", "moons", "--steps", "2", "--hidden", "16", "--blocks", "1", "--count", "256",
                                 "-o", "m.safetensors", "--quiet"], in: dir)
        try #require(train.code == 0, "\(train.err)")
        let sample = ["sample", "--model", "m.safetensors", "-n", "8", "--steps", "5", "--quiet", "-o", "s.npy"]

        let missing = try CLI.run(sample + ["--trajectory", "no-such-dir/t.npy"], in: dir)
        #expect(missing.code == 2 && missing.err.contains("--trajectory"), "\(missing.code): \(missing.err)")
        #expect(!Self.exists(dir, "s.npy"))

        try Data("keep".utf8).write(to: dir.appendingPathComponent("t.npy"))
        let existing = try CLI.run(sample + ["--trajectory", "t.npy"], in: dir)
        #expect(existing.code == 2 && existing.err.contains("--trajectory"), "\(existing.code): \(existing.err)")
        #expect(!Self.exists(dir, "s.npy"))
        #expect(try Data(contentsOf: dir.appendingPathComponent("t.npy")) == Data("keep".utf8))

        try FileManager.default.createDirectory(at: dir.appendingPathComponent("tdir"), withIntermediateDirectories: false)
        let directory = try CLI.run(sample + ["--trajectory", "tdir", "--force"], in: dir)
        #expect(directory.code == 2 && directory.err.contains("--trajectory"), "\(directory.code): \(directory.err)")
        #expect(!Self.exists(dir, "s.npy"))

        let same = try CLI.run(sample + ["--trajectory", "s.npy"], in: dir)
        #expect(same.code == 2 && same.err.contains("--trajectory"), "\(same.code): \(same.err)")
        #expect(!Self.exists(dir, "s.npy"))

        let ok = try CLI.run(sample + ["--trajectory", "t2.npy"], in: dir)
        #expect(ok.code == 0, "\(ok.err)")
        #expect(Self.exists(dir, "s.npy") && Self.exists(dir, "t2.npy"))
    }
}
