import Foundation
import Testing
import TestSupport

/// What a new user meets first: `vst --version`, and the bundled data found wherever `vst` is run from.
@Suite(.serialized) struct InstallationTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-install-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs `vst` the way a shell does from PATH: argv[0] is the bare name "vst", found through a symlink in `bin`.
    static func runFromPath(_ args: [String], bin: URL, in dir: URL, environment: [String: String] = [:]) throws -> CommandLineTests.Result {
        var env = environment
        env["PATH"] = bin.path + ":/usr/bin:/bin"
        return try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["vst"] + args, in: dir, environment: env,
                              unset: environment["SUBSTRATE_DATA"] == nil ? ["SUBSTRATE_DATA"] : [])
    }

    @Test("vst --version names the release and the BLAS it runs on")
    func version() throws {
        let dir = try Self.scratch(); defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CommandLineTests.run(["--version"], in: dir)
        #expect(r.code == 0)
        #expect(r.out.hasPrefix("vst ") && r.out.contains("OpenBLAS") && r.out.contains("core "), "\(r.out)")
    }

    @Test("vst on PATH, run outside the repository, finds the bundled digits through its real path")
    func bundledDataFromPath() throws {
        let dir = try Self.scratch(); defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent("bin"), work = dir.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: bin.appendingPathComponent("vst"), withDestinationURL: CommandLineTests.vst)
        let r = try Self.runFromPath(["tour"], bin: bin, in: work)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("1797 samples × 64 features"), "\(r.out)")
    }

    @Test("SUBSTRATE_DATA points every command at another data directory")
    func substrateDataIsHonoured() throws {
        let dir = try Self.scratch(); defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent("bin"), data = dir.appendingPathComponent("mydata")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: bin.appendingPathComponent("vst"), withDestinationURL: CommandLineTests.vst)
        // The first 120 bundled digits, in the same format.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let lines = try String(contentsOf: root.appendingPathComponent("data/digits.csv"), encoding: .utf8).split(separator: "\n")
        let kept = lines.filter { $0.hasPrefix("#") } + lines.filter { !$0.hasPrefix("#") }.prefix(120)
        try (kept.joined(separator: "\n") + "\n").write(to: data.appendingPathComponent("digits.csv"), atomically: true, encoding: .utf8)
        let r = try Self.runFromPath(["tour"], bin: bin, in: dir, environment: ["SUBSTRATE_DATA": data.path])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("120 samples × 64 features"), "\(r.out)")
        // A SUBSTRATE_DATA without the file is named in the error when nothing else has it either.
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let fallback = try Self.runFromPath(["tour"], bin: bin, in: dir, environment: ["SUBSTRATE_DATA": empty.path])
        #expect(fallback.code == 0, "falls back to the executable's checkout: \(fallback.err)")
    }
}
