import Foundation

/// What a finished child process printed and returned.
public struct ProcessOutput: Sendable {
    /// The exit status, or 128 + the signal for a process ended by a signal (as a shell reports it).
    public var code: Int32
    public var out: String
    public var err: String

    public init(code: Int32, out: String, err: String) {
        self.code = code
        self.out = out
        self.err = err
    }
}

/// An executable of this package built beside the test bundle (`.build/<configuration>/<name>`).
public func builtExecutable(_ name: String) -> URL {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for dir in [here, here.deletingLastPathComponent()] {
        let candidate = dir.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return here.appendingPathComponent(name)
}

/// A child process started by `startProcess`, its stdout and stderr going to two files.
public struct StartedProcess {
    public let process: Process
    let out: URL
    let err: URL
}

/// Starts `executable` with `args` in `dir` without waiting. The environment is this process's with
/// `environment` added, the names in `unset` removed, and one BLAS thread (`OPENBLAS_NUM_THREADS=1`: tests run
/// side by side). stdout and stderr go through files in `dir`: a pipe read can be interrupted by the child's
/// SIGCHLD, which Foundation's FileHandle does not retry.
public func startProcess(_ executable: URL, _ args: [String], in dir: URL, environment: [String: String] = [:],
                         unset: [String] = []) throws -> StartedProcess {
    let p = Process()
    p.executableURL = executable
    p.arguments = args
    p.currentDirectoryURL = dir
    var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    env["OPENBLAS_NUM_THREADS"] = "1"
    for name in unset { env.removeValue(forKey: name) }
    p.environment = env
    let id = UUID().uuidString
    let outURL = dir.appendingPathComponent(".out-\(id)"), errURL = dir.appendingPathComponent(".err-\(id)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: outURL)
    p.standardError = try FileHandle(forWritingTo: errURL)
    try p.run()
    return StartedProcess(process: p, out: outURL, err: errURL)
}

/// Waits for `s` (killing it with SIGKILL after `timeout` seconds, if given) and returns what it printed.
public func finishProcess(_ s: StartedProcess, timeout: Double? = nil) -> ProcessOutput {
    if let timeout {
        let deadline = Date().addingTimeInterval(timeout)
        while s.process.isRunning && Date() < deadline { usleep(20_000) }
        if s.process.isRunning { kill(s.process.processIdentifier, SIGKILL) }
    }
    s.process.waitUntilExit()
    let o = (try? Data(contentsOf: s.out)) ?? Data(), e = (try? Data(contentsOf: s.err)) ?? Data()
    try? FileManager.default.removeItem(at: s.out); try? FileManager.default.removeItem(at: s.err)
    let code = s.process.terminationReason == .uncaughtSignal ? 128 + s.process.terminationStatus : s.process.terminationStatus
    return ProcessOutput(code: code, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
}

/// Runs `executable` to the end (see `startProcess` for the environment and the output files).
public func runProcess(_ executable: URL, _ args: [String], in dir: URL, environment: [String: String] = [:],
                       unset: [String] = []) throws -> ProcessOutput {
    finishProcess(try startProcess(executable, args, in: dir, environment: environment, unset: unset))
}
