import Foundation
import Linear
import Testing
import TestSupport

// Hardening of the vst tool (issue #9): bad numbers and degenerate shapes end in exit 2 with one line naming the
// file and the problem; `vst project` and `vst train` survive SIGINT/SIGTERM (no partial file in place of a good
// one) and continue with --resume without redoing finished work; the model-file loader never crashes on the
// fuzzing corpus.

@Suite(.serialized) struct HardeningCommandTests {
    typealias CLI = CommandLineTests

    static func workspace() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-hardening-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var g = RandomGenerator(seed: 4)
        let x = Tensor<Double>.normal([60, 6], using: &g)
        try x.save(npy: dir.appendingPathComponent("x.npy").path)
        var bad = x
        bad[3, 2] = .nan; bad[10, 4] = .infinity; bad[59, 0] = -.infinity
        try bad.save(npy: dir.appendingPathComponent("nan.npy").path)
        try Tensor<Double>.normal([60, 12], using: &g).save(npy: dir.appendingPathComponent("x12.npy").path)
        var traj = Tensor<Double>.normal([3, 20, 6], using: &g)
        traj[1, 5, 2] = .nan
        try traj.save(npy: dir.appendingPathComponent("traj_nan.npy").path)
        try Tensor<Double>.normal([1, 6], using: &g).save(npy: dir.appendingPathComponent("one_row.npy").path)
        try Tensor<Double>.normal([60, 1], using: &g).save(npy: dir.appendingPathComponent("one_col.npy").path)
        var constant = Tensor<Double>.normal([60, 6], using: &g)
        for i in 0..<60 { constant[i, 3] = 7 }
        try constant.save(npy: dir.appendingPathComponent("const_col.npy").path)
        try Tensor<Double>.full([60, 6], 1.5).save(npy: dir.appendingPathComponent("all_const.npy").path)
        try Tensor<Double>.normal([8, 30], using: &g).save(npy: dir.appendingPathComponent("wide.npy").path)
        try matmul(Tensor<Double>.normal([60, 2], using: &g), Tensor<Double>.normal([2, 6], using: &g))
            .save(npy: dir.appendingPathComponent("rank2.npy").path)
        return dir
    }

    /// One line on stderr, exit 2.
    static func expectExit2(_ r: CLI.Result, mentioning parts: [String], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.code == 2, "\(what): exit \(r.code), stderr: \(r.err)", sourceLocation: sourceLocation)
        let lines = r.err.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1, "\(what): expected one line on stderr, got \(lines.count): \(r.err)", sourceLocation: sourceLocation)
        for p in parts { #expect(r.err.contains(p), "\(what): stderr lacks '\(p)': \(r.err)", sourceLocation: sourceLocation) }
    }

    @Test("NaN/Inf input: every analysis command exits 2 naming the file, the count and the first (row, column)")
    func nonFiniteInputs() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let commands: [[String]] = [
            ["fit-projection", "nan.npy", "--rank", "3", "--out", "p.safetensors"],
            ["fit-projection", "nan.npy", "--rank", "3", "--method", "covariance", "--out", "p2.safetensors"],
            ["fit-projection", "nan.npy", "--rank", "3", "--method", "randomized", "--out", "p3.safetensors"],
            ["regimes", "nan.npy"],
            ["drift", "x.npy", "nan.npy"],
            ["align", "x.npy", "nan.npy"],
            ["evaluate", "nan.npy", "x.npy"],
            ["scaling", "--rung", "6=nan.npy", "--rung", "12=x12.npy"],
        ]
        for args in commands {
            let r = try CLI.run(args, in: dir)
            Self.expectExit2(r, mentioning: ["nan.npy", "3 non-finite", "row 3, column 2"], args.joined(separator: " "))
        }
        let t = try CLI.run(["trajectory", "traj_nan.npy"], in: dir)
        Self.expectExit2(t, mentioning: ["traj_nan.npy", "1 non-finite", "step 1, sample 5, feature 2"], "trajectory")
        // validate reports the non-finite values as a failed V1 check (exit 1) and computes no verdict from them.
        let v = try CLI.run(["validate", "nan.npy", "--json"], in: dir)
        #expect(v.code == 1)
        #expect(v.out.contains("3 non-finite") && v.out.contains("row 3, column 2"), "\(v.out)")
        #expect(!v.out.contains("\"regime\""), "validate computed a regime from non-finite input")
        // The projection of a NaN file refused by project too.
        #expect(try CLI.run(["fit-projection", "x.npy", "--rank", "3", "--out", "p.safetensors"], in: dir).code == 0)
        let p = try CLI.run(["project", "--projection", "p.safetensors", "nan.npy", "--out", "z.npy"], in: dir)
        Self.expectExit2(p, mentioning: ["nan.npy", "3 non-finite", "row 3, column 2"], "project")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("z.npy").path), "project left a partial output")
    }

    @Test("n = 1: exit 2 with a message naming the row count")
    func oneRow() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        for args in [["fit-projection", "one_row.npy", "--rank", "1", "--out", "p.safetensors"],
                     ["fit-projection", "one_row.npy", "--rank", "1", "--method", "covariance", "--out", "p.safetensors"],
                     ["regimes", "one_row.npy"], ["drift", "x.npy", "one_row.npy"], ["align", "one_row.npy", "one_row.npy"],
                     ["evaluate", "one_row.npy", "x.npy"], ["scaling", "--rung", "6=one_row.npy", "--rung", "12=x12.npy"]] {
            let r = try CLI.run(args, in: dir)
            Self.expectExit2(r, mentioning: ["one_row.npy"], args.joined(separator: " "))
            #expect(r.err.contains("row") || r.err.contains("n = 1"), "\(args): \(r.err)")
        }
        let v = try CLI.run(["validate", "one_row.npy"], in: dir)
        #expect(v.code == 1 && v.out.contains("n ≥ 2"), "\(v.code) \(v.out) \(v.err)")
    }

    @Test("D = 1, a constant column, all-constant, rank-deficient and n < D: defined results (exit 0) or exit 2",
          arguments: ["one_col.npy", "const_col.npy", "all_const.npy", "rank2.npy", "wide.npy"])
    func degenerateShapes(_ file: String) throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let commands: [[String]] = [
            ["fit-projection", file, "--rank", "1", "--out", "p.safetensors", "--json"],
            ["fit-projection", file, "--rank", "1", "--method", "covariance", "--out", "pc.safetensors", "--json"],
            ["fit-projection", file, "--rank", "1", "--method", "randomized", "--out", "pr.safetensors", "--json"],
            ["regimes", file, "--json"],
            ["drift", file, file, "--json", "--permutations", "20"],
            ["align", file, file, "--json"],
            ["evaluate", file, file, "--json"],
            ["validate", file, "--json"],
        ]
        for args in commands {
            let r = try CLI.run(args, in: dir)
            let what = args.joined(separator: " ")
            #expect(r.code == 0 || r.code == 1 || r.code == 2, "\(what): killed or crashed (\(r.code)): \(r.err)")
            if r.code == 2 {
                // align's zero-variance message names the side (X/Y) rather than the file.
                #expect(r.err.split(separator: "\n").count == 1 && (r.err.contains(file) || r.err.contains("zero variance")), "\(what): unclear error: \(r.err)")
            } else {
                #expect((try? CLI.json(r)) != nil, "\(what): no JSON: \(r.out.prefix(300)) \(r.err)")
                #expect(!r.out.contains("nan") && !r.out.contains("NaN"), "\(what): NaN in the output")
            }
            if args[0] == "validate" && file != "wide.npy" { #expect(r.code == 0, "\(what): \(r.out)") }
        }
    }

    // MARK: Interrupted jobs

    /// A running vst started the way a shell starts it: empty signal mask and default signal actions (Foundation's
    /// Process spawns from a libdispatch worker thread whose mask blocks SIGINT/SIGTERM, and the child inherits it),
    /// stdout and stderr to files in `dir`.
    struct Spawned {
        var pid: pid_t
        var err: URL
        /// Waits; (exited normally, exit status or signal number).
        func wait() -> (exited: Bool, code: Int32) {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let signalled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
            return signalled ? (false, status & 0x7f) : (true, (status >> 8) & 0xff)
        }
        var stderr: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }
    }

    static func spawn(_ args: [String], in dir: URL, environment extra: [String: String] = [:]) throws -> Spawned {
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        for (k, v) in extra { env[k] = v }
        let errURL = dir.appendingPathComponent("spawn-\(UUID().uuidString).err")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults); sigaddset(&defaults, SIGINT); sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // /bin/sh changes into `dir` and execs vst (the signal mask and defaults set here survive the exec).
        let argv = (["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", dir.path, CLI.vst.path] + args).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp)
        guard rc == 0 else { throw TensorError.invalidArgument("posix_spawn failed: \(String(cString: strerror(rc)))") }
        return Spawned(pid: pid, err: errURL)
    }

    static func files(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    static func mtime(_ url: URL) throws -> Date {
        try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as! Date
    }

    /// Waits until `condition` holds (polling every 10 ms) or `seconds` pass.
    static func wait(seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end { if condition() { return true }; usleep(10_000) }
        return condition()
    }

    @Test("project over many files: SIGINT/SIGTERM leave only complete outputs; --resume finishes without redoing them",
          arguments: [SIGINT, SIGTERM])
    func projectInterruptedAndResumed(_ signal: Int32) throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        var g = RandomGenerator(seed: 9)
        let inputs = (0..<24).map { String(format: "f%02d.npy", $0) }
        for name in inputs { try Tensor<Double>.normal([300, 6], using: &g).save(npy: dir.appendingPathComponent(name).path) }
        #expect(try CLI.run(["fit-projection", "x.npy", "--rank", "3", "--out", "p.safetensors"], in: dir).code == 0)
        let reference = try CLI.run(["project", "--projection", "p.safetensors", "--out-dir", "ref", "--residual", "--quiet"] + inputs, in: dir)
        #expect(reference.code == 0, "\(reference.err)")

        // Interrupted run: 150 ms per file, signal once three cores are in place.
        let out = dir.appendingPathComponent("out")
        let p = try Self.spawn(["project", "--projection", "p.safetensors", "--out-dir", "out", "--residual", "--quiet"] + inputs,
                               in: dir, environment: ["VST_TEST_PAUSE_MS": "150"])
        let started = Self.wait(seconds: 60) { Self.files(out).filter { $0.hasSuffix(".core.npy") }.count >= 3 }
        #expect(started, "no outputs appeared")
        kill(p.pid, signal)
        let (exited, code) = p.wait()
        let err = p.stderr
        try? FileManager.default.removeItem(at: p.err)
        #expect(exited && code == 128 + signal, "exited \(exited), code \(code): \(err)")
        #expect(err.contains("interrupted") && err.contains("--resume"), "\(err)")

        let after = Self.files(out)
        #expect(!after.contains { $0.hasPrefix(".") }, "temporary files left behind: \(after)")
        let cores = after.filter { $0.hasSuffix(".core.npy") }
        #expect(cores.count >= 3 && cores.count < inputs.count, "\(cores.count) of \(inputs.count) done at the interruption")
        // Every output present is complete and identical to the uninterrupted run's.
        var stamps: [String: Date] = [:]
        for name in after {
            let a = try Data(contentsOf: out.appendingPathComponent(name)), b = try Data(contentsOf: dir.appendingPathComponent("ref").appendingPathComponent(name))
            #expect(a == b, "\(name) differs from the uninterrupted run")
            stamps[name] = try Self.mtime(out.appendingPathComponent(name))
        }
        // A temporary file left by a hard kill is cleaned up by --resume (the pid in its name is one no process has:
        // a temporary file of a live process would be left alone).
        let stale = out.appendingPathComponent(".f23.core.npy.tmp-2147483646-2")
        try Data([1, 2, 3]).write(to: stale)
        usleep(20_000)

        let resumed = try CLI.run(["project", "--projection", "p.safetensors", "--out-dir", "out", "--residual", "--resume", "--json"] + inputs, in: dir)
        #expect(resumed.code == 0, "\(resumed.err)")
        #expect((try? CLI.json(resumed))?["skipped"] as? Int == cores.count, "\(resumed.out)")
        #expect(Self.files(out) == Self.files(dir.appendingPathComponent("ref")), "\(Self.files(out))")
        for name in Self.files(out) {
            let a = try Data(contentsOf: out.appendingPathComponent(name)), b = try Data(contentsOf: dir.appendingPathComponent("ref").appendingPathComponent(name))
            #expect(a == b, "\(name) differs from the uninterrupted run after --resume")
        }
        for (name, stamp) in stamps { #expect(try Self.mtime(out.appendingPathComponent(name)) == stamp, "\(name) was redone") }

        // A foreign file where an output should be is refused, not overwritten and not trusted.
        try Data("not an npy".utf8).write(to: out.appendingPathComponent("f00.core.npy"), options: .atomic)
        let foreign = try CLI.run(["project", "--projection", "p.safetensors", "--out-dir", "out", "--residual", "--resume"] + inputs, in: dir)
        Self.expectExit2(foreign, mentioning: ["f00.core.npy", "--force"], "resume over a foreign file")
        #expect(try CLI.run(["project", "--projection", "p.safetensors", "--out-dir", "out", "--resume", "--force"] + inputs, in: dir).code == 2)
    }

    /// Lets a running `vst train` go on for 0.3 s, sends `signal`, waits, and checks that it exited 128 + signal
    /// with a `--resume` hint; returns its stderr.
    static func stopTraining(_ p: Spawned, _ signal: Int32, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        usleep(300_000)
        kill(p.pid, signal)
        let (exited, code) = p.wait()
        let err = p.stderr
        try? FileManager.default.removeItem(at: p.err)
        #expect(exited && code == 128 + signal, "vst train after signal \(signal): \(exited ? "exit \(code)" : "killed by signal \(code)"); stderr: \(err.suffix(300))",
                sourceLocation: sourceLocation)
        #expect(err.contains("--resume"), "\(err.suffix(300))", sourceLocation: sourceLocation)
        return err
    }

    @Test("train killed by SIGINT mid-run leaves a loadable checkpoint; --resume completes the run")
    func trainInterruptedAndResumed() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["train", "flow-matching", "--data", "moons", "--count", "512", "--batch-size", "64",
                    "--hidden", "16", "--blocks", "1", "--checkpoint-every", "100", "--seed", "3", "-o", "m.safetensors"]
        let model = dir.appendingPathComponent("m.safetensors")
        // Far more steps than it can run before the signal.
        let p = try Self.spawn(args + ["--steps", "1000000"], in: dir)
        let started = Self.wait(seconds: 120) { FileManager.default.fileExists(atPath: model.path) }
        #expect(started, "no checkpoint appeared")
        // The run finishes its step, saves the checkpoint of that step and exits 128 + SIGINT with a resume hint.
        let err = Self.stopTraining(p, SIGINT)
        let file = try SafetensorsFile.read(model.path)
        let step = Int(file.metadata["step"] ?? "") ?? -1
        #expect(step >= 100, "checkpoint step \(step); stderr: \(err.suffix(300))")
        #expect(Self.files(dir).filter { $0.hasPrefix(".m.safetensors.tmp") }.isEmpty, "a temporary file was left")

        // Resume and run 200 more steps.
        let target = step + 200
        let resumed = try CLI.run(args + ["--steps", String(target), "--resume", "m.safetensors", "--quiet"], in: dir)
        #expect(resumed.code == 0, "\(resumed.err)")
        #expect(resumed.out.contains("from \(step)"), "\(resumed.out)")
        let final = try SafetensorsFile.read(model.path)
        #expect(final.metadata["step"] == String(target))
    }

    @Test("a wgan-gp run stopped by SIGTERM saves its step with the optimiser state; --resume completes it")
    func multiNetworkInterruptedAndResumed() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["train", "wgan-gp", "--data", "eight-gaussians", "--count", "512", "--batch-size", "64", "--hidden", "16",
                    "--seed", "3", "-o", "g.safetensors"]
        let p = try Self.spawn(args + ["--steps", "10000000"], in: dir)
        // The command announces the training loop (its signal handlers are installed by then).
        let started = Self.wait(seconds: 120) { p.stderr.contains("training steps") }
        #expect(started, "no start line: \(p.stderr.suffix(300))")
        _ = Self.stopTraining(p, SIGTERM)
        let file = try SafetensorsFile.read(dir.appendingPathComponent("g.safetensors").path)
        let step = Int(file.metadata["step"] ?? "") ?? -1
        #expect(step >= 1, "saved step \(step)")
        #expect(file.tensors.keys.contains { $0.hasPrefix("optimizer.generator.") } && file.tensors.keys.contains { $0.hasPrefix("optimizer.discriminator.") })
        #expect(Self.files(dir).filter { $0.hasPrefix(".g.safetensors.tmp") }.isEmpty, "a temporary file was left")
        let resumed = try CLI.run(args + ["--steps", String(step + 20), "--resume", "g.safetensors", "--quiet"], in: dir)
        #expect(resumed.code == 0, "\(resumed.err)")
        #expect(resumed.out.contains("(from \(step))"), "\(resumed.out)")
        #expect(try SafetensorsFile.read(dir.appendingPathComponent("g.safetensors").path).metadata["step"] == String(step + 20))
    }

    @Test("a vae run killed hard after a --checkpoint-every save resumes from that checkpoint")
    func vaeKilledAfterCheckpoint() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["train", "vae", "--data", "moons", "--count", "512", "--batch-size", "64", "--hidden", "16",
                    "--seed", "4", "--checkpoint-every", "40", "-o", "v.safetensors"]
        let model = dir.appendingPathComponent("v.safetensors")
        let p = try Self.spawn(args + ["--steps", "10000000"], in: dir)
        let saved = Self.wait(seconds: 120) { FileManager.default.fileExists(atPath: model.path) }
        #expect(saved, "no checkpoint appeared: \(p.stderr.suffix(300))")
        kill(p.pid, SIGKILL)
        _ = p.wait()
        try? FileManager.default.removeItem(at: p.err)
        let file = try SafetensorsFile.read(model.path)
        let step = Int(file.metadata["step"] ?? "") ?? -1
        #expect(step >= 40 && step % 40 == 0, "checkpoint step \(step)")
        #expect(file.tensors.keys.contains { $0.hasPrefix("optimizer.optimizer.m.") })
        let resumed = try CLI.run(args + ["--steps", String(step + 10), "--resume", "v.safetensors", "--quiet"], in: dir)
        #expect(resumed.code == 0, "\(resumed.err)")
        #expect(resumed.out.contains("(from \(step))"), "\(resumed.out)")
    }

    @Test("the fuzzing corpus of model files and every saved checkpoint crash: vst sample exits 0 or 2, never by a signal")
    func checkpointCorpusThroughSample() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let corpus = root.appendingPathComponent("fuzz/corpus/checkpoint")
        let regressions = root.appendingPathComponent("fuzz/regressions")
        var files = Self.files(corpus).filter { !$0.hasPrefix(".") }.map { corpus.appendingPathComponent($0) }
        files += Self.files(regressions).filter { $0.hasPrefix("checkpoint-") }.map { regressions.appendingPathComponent($0) }
        #expect(files.count >= 3, "fuzz/corpus/checkpoint is missing")
        for (i, f) in files.enumerated() {
            let r = try CLI.run(["sample", "--model", f.path, "-n", "4", "-o", "s\(i).npy"], in: dir)
            #expect(r.code == 0 || r.code == 2, "\(f.lastPathComponent): exit \(r.code): \(r.err.suffix(400))")
            if f.lastPathComponent.hasPrefix("checkpoint-review-") {
                // Hand-made reproducers of former crashes of GenerativeModelFile.load (Int of a non-finite or huge
                // metadata number; a network allocated from an absurd width before the weights were checked).
                #expect(r.code == 2, "\(f.lastPathComponent) must be refused: \(r.err.suffix(300))")
            }
        }
    }
}
