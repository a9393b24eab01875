import ArgumentParser
import Foundation
import Linear
import Substrate

/// Bad input that should end the process with exit code 2 and a one-line message.
struct InputError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// Options every analysis command shares.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print exactly one JSON object (the keys of docs/method.md §10) to stdout instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("Also write report.json, SVG plots and index.html into this directory.", valueName: "dir"))
    var report: String?

    @Flag(help: "Overwrite existing output files.")
    var force = false

    @Option(help: "Seed of every random choice (half-splits, permutations, subsets).")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Hide progress on stderr.")
    var quiet = false
}

/// Options of the commands that write data files and no report (`project`, `lift`).
struct WriteOptions: ParsableArguments {
    @Flag(help: "Print exactly one JSON object to stdout instead of a table.")
    var json = false

    @Flag(help: "Overwrite existing output files (regular files only).")
    var force = false

    @Flag(name: .long, help: "Hide progress on stderr.")
    var quiet = false
}

/// The element type of written .npy outputs.
enum OutputDType: String, ExpressibleByArgument, CaseIterable {
    case float32, float64
    var dtype: DType { self == .float32 ? .float32 : .float64 }
}

/// Reading inputs: .npy, .safetensors (with --key) and CSV, as Double.
enum Inputs {
    /// Loads a numeric array from `path`; `key` chooses the tensor of a .safetensors file.
    static func array(_ path: String, key: String? = nil) throws -> Tensor<Double> { try array(path, key: key, as: Double.self) }

    /// Loads a numeric array from `path` as `S` (float32 files read as Float lose nothing).
    static func array<S: BLASScalar>(_ path: String, key: String?, as _: S.Type) throws -> Tensor<S> {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        switch ext {
        case "npy":
            return try NPY.read(path).tensor(S.self)
        case "safetensors":
            let file = try SafetensorsFile.read(path)
            let names = file.tensors.keys.sorted()
            if let key {
                guard file.tensors[key] != nil else {
                    throw InputError("\(path): no tensor named '\(key)' (available: \(names.joined(separator: ", ")))")
                }
                return try file.tensor(key, as: S.self)
            }
            guard names.count == 1 else {
                throw InputError("\(path): holds \(names.count) tensors (\(names.joined(separator: ", "))); choose one with --key")
            }
            return try file.tensor(names[0], as: S.self)
        case "csv", "txt":
            return try CSV.read(path).data.cast(to: S.self)
        default:
            throw InputError("\(path): unknown file type '.\(ext)' (expected .npy, .safetensors or .csv)")
        }
    }

    /// An n×D matrix of states (a 1-D array is one state per row of width 1; higher ranks are refused).
    static func matrix(_ path: String, key: String? = nil, minRows: Int = 2) throws -> Tensor<Double> {
        try matrix(path, key: key, minRows: minRows, as: Double.self)
    }

    /// `matrix(_:key:minRows:)` read as `S`.
    static func matrix<S: BLASScalar>(_ path: String, key: String?, minRows: Int = 2, as _: S.Type) throws -> Tensor<S> {
        let a = try array(path, key: key, as: S.self)
        let m: Tensor<S>
        switch a.rank {
        case 2: m = a
        case 1: m = try a.reshaped([a.count, 1])
        default:
            throw InputError("\(path): expected an n×D matrix of states, got shape \(a.shape)\(a.rank == 3 ? " (a T×n×D trajectory? use `vst trajectory`)" : "")")
        }
        guard m.shape[0] >= minRows else { throw InputError("\(path): need at least \(minRows) rows, got \(m.shape[0])") }
        guard m.shape[1] >= 1 else { throw InputError("\(path): has no columns (D = 0); need n×D states with D ≥ 1") }
        do { try m.checkFinite("states") } catch let TensorError.nonFinite(count, first, _) {
            throw InputError("\(path): \(count) non-finite value\(count == 1 ? "" : "s") (NaN or ±Inf), first at row \(first[0]), column \(first.count > 1 ? first[1] : 0)")
        }
        return m
    }

    /// True for an .npy file that stores float32 (or narrower) values: such states can be analysed in float32 where
    /// an analysis offers it, without losing anything the file holds.
    static func storesSinglePrecision(_ path: String) -> Bool {
        URL(fileURLWithPath: path).pathExtension.lowercased() == "npy" && ((try? NPYReader(path))?.storesSinglePrecision ?? false)
    }
}

/// Writing outputs: stdout JSON or table, and report directories.
enum Outputs {
    /// Prints `json` compactly on one line (for --json) or `table` for people.
    static func emit(_ json: JSON, table: @autoclosure () -> String, options: OutputOptions) {
        if options.json { print(json.serialized()) } else { print(table()) }
    }

    /// Prints `json` compactly on one line (when `json`) or `table` for people.
    static func emit(_ json: JSON, table: @autoclosure () -> String, json asJSON: Bool) {
        if asJSON { print(json.serialized()) } else { print(table()) }
    }

    /// Refuses an output path that exists and is not a regular file (a device such as /dev/null, a FIFO, a
    /// directory, a socket or a symbolic link): the atomic write would replace it by rename (with --force) or fail
    /// later; a file of ours is only ever a regular file.
    static func checkReplaceable(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }                       // absent: fine
        let type = st.st_mode & S_IFMT
        if type == S_IFREG { return }
        let kind: String
        switch type {
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFIFO: kind = "a FIFO"
        case S_IFDIR: kind = "a directory"
        case S_IFLNK: kind = "a symbolic link"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a regular file"
        }
        throw InputError("\(path): exists and is \(kind); outputs only ever replace regular files (with --force), so choose another path")
    }

    /// Creates `dir` (and its parents) when missing; refuses a path that exists and is not a directory, naming
    /// the component that is in the way.
    static func prepareDirectory(_ dir: String) throws {
        if let kind = FileKind.nonRegularDescription(dir) {
            guard kind == "a directory" else { throw InputError("\(dir): exists and is \(kind), not a directory") }
            return
        }
        if FileManager.default.fileExists(atPath: dir) { throw InputError("\(dir): exists and is a file, not a directory") }
        let parent = URL(fileURLWithPath: dir).deletingLastPathComponent().path
        if parent != dir && !parent.isEmpty && !FileManager.default.fileExists(atPath: parent) { try prepareDirectory(parent) }
        else if parent != dir, FileManager.default.fileExists(atPath: parent), FileKind.nonRegularDescription(parent) != "a directory" {
            throw InputError("\(dir): cannot be created: \(parent) is a file, not a directory")
        }
        if mkdir(dir, 0o755) != 0 && errno != EEXIST {
            throw InputError("\(dir): cannot be created: \(FileKind.reason(errno))")
        }
    }

    /// Writes a report directory with `body` (given the directory to write into) so that a failure leaves nothing.
    static func writeReport(to dir: String, force: Bool, _ body: (String) throws -> Void) throws {
        try StagedReport.stage(dir, force: force, body).commit()
    }

    /// Reports (on stderr) and removes the temporary files that dead runs left beside `target`; those of running
    /// processes are reported and left alone.
    static func removeStaleTemporaries(besides target: String) {
        TemporaryFiles.removeStale(besides: target) { FileHandle.standardError.write(Data("vst: \($0)\n".utf8)) }
    }

    /// Writes text atomically (refusing to overwrite unless `force`).
    static func write(_ text: String, to path: String, force: Bool) throws {
        try AtomicFile.write(Data(text.utf8), to: path, overwrite: force)
    }
}

/// Progress on stderr: steps, rate and ETA.
struct Progress {
    let label: String
    let quiet: Bool
    let start = DispatchTime.now().uptimeNanoseconds

    func update(_ done: Int, _ total: Int) {
        guard !quiet else { return }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let line = String(format: "\r%@ %d/%d  %.1f/s  elapsed %.1fs  ETA %.1fs", label, done, total, rate, elapsed, eta)
        FileHandle.standardError.write(Data(line.utf8))
        if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// Small formatting helpers for tables.
enum Fmt {
    static func f(_ x: Double?, _ digits: Int = 4) -> String {
        guard let x, x.isFinite else { return "—" }
        return String(format: "%.\(digits)g", x)
    }
    static func row(_ cells: [String], widths: [Int]) -> String {
        zip(cells, widths).map { c, w in c.padding(toLength: Swift.max(w, c.count), withPad: " ", startingAt: 0) }.joined(separator: "  ")
    }
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { i in ([header[i]] + rows.map { i < $0.count ? $0[i] : "" }).map(\.count).max() ?? 0 }
        return ([row(header, widths: widths), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")]
            + rows.map { row($0, widths: widths) }).joined(separator: "\n")
    }
}

/// SIGINT / SIGTERM. Every command gets handlers installed without SA_RESTART (`installDefault`), so a signal
/// also ends a blocking open or read (which would otherwise restart and ignore it): the handler removes this
/// process's temporary files and directories (`TemporaryFiles`) and exits with 128 + the signal number (130, 143).
/// A long batch job may ask for cooperation instead (`install`): the first signal only sets a flag, which the job
/// checks between blocks and files, so it can report what was completed; a second signal ends at once as above.
enum Interruption {
    /// The signal received (0: none).
    nonisolated(unsafe) static var received: Int32 = 0
    /// True while a command checks `received` itself (after `install()`).
    nonisolated(unsafe) static var cooperative = false

    /// Installs the handlers for every command (call once, first thing): a signal removes the temporary files and
    /// exits 128 + signal at once, even while the process is blocked in a system call.
    static func installDefault() {
        TemporaryFiles.prepare()
        received = 0
        cooperative = false
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = interruptionHandler
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0                                   // no SA_RESTART: blocking calls fail with EINTR
            sigaction(s, &action, nil)
            sigaddset(&set, s)
        }
        // A process started from a thread that blocks the signals (libdispatch workers do, and posix_spawn passes
        // the mask on) would otherwise never see them.
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Switches to cooperative handling (idempotent): the first signal only sets `received`.
    static func install() {
        installDefault()
        cooperative = true
    }

    static var name: String { received == SIGINT ? "SIGINT" : received == SIGTERM ? "SIGTERM" : "signal \(received)" }

    /// Throws `Interrupted` when a signal has arrived.
    static func check() throws {
        if received != 0 { throw Interrupted(signal: received) }
    }
}

/// The handler: in cooperative mode the first signal only sets the flag; otherwise (or on a second signal) it
/// removes the temporary files, says so on stderr and ends the process (only async-signal-safe calls).
private let interruptionHandler: @convention(c) (Int32) -> Void = { sig in
    if Interruption.cooperative && Interruption.received == 0 {
        Interruption.received = sig
        return
    }
    TemporaryFiles.removeAll()
    let message: StaticString = sig == SIGINT ? "\nvst: interrupted by SIGINT; temporary files removed, no output written\n"
        : "\nvst: interrupted by SIGTERM; temporary files removed, no output written\n"
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
    _exit(128 + sig)
}

/// Thrown by `Interruption.check()`; the command reports what was completed and exits 128 + signal.
struct Interrupted: Error { var signal: Int32 }

/// A report directory written atomically: the pages go into a hidden temporary directory beside the target, which
/// replaces nothing until every page is written; a failure (or a signal) removes it, so a failed command leaves no
/// partial report that would make the rerun refuse.
struct StagedReport {
    let target: String
    let staging: String
    let force: Bool

    /// Refuses a report target that cannot be written, before any work is done: a path that exists and is not a
    /// directory, or (without --force) a directory that already holds a report.
    static func check(_ dir: String, force: Bool) throws {
        if let kind = FileKind.nonRegularDescription(dir) {
            guard kind == "a directory" else { throw InputError("--report \(dir): exists and is \(kind), not a directory") }
            if !force, let names = try? FileManager.default.contentsOfDirectory(atPath: dir),
               let name = names.first(where: { ["report.json", "index.html"].contains($0) }) {
                throw InputError("--report \(dir): already holds a report (\(name)); pass --force to replace it")
            }
        } else if FileManager.default.fileExists(atPath: dir) {
            throw InputError("--report \(dir): exists and is a file, not a directory")
        }
    }

    /// Writes the pages with `body` into a temporary directory beside `dir`.
    static func stage(_ dir: String, force: Bool, _ body: (String) throws -> Void) throws -> StagedReport {
        try check(dir, force: force)
        let parent = URL(fileURLWithPath: dir).deletingLastPathComponent().path
        try Outputs.prepareDirectory(parent)
        Outputs.removeStaleTemporaries(besides: dir)
        let staging = AtomicFile.temporaryPath(for: dir)
        TemporaryFiles.register(staging, directory: true)
        guard mkdir(staging, 0o755) == 0 else {
            let err = errno
            TemporaryFiles.unregister(staging)
            throw InputError("--report \(dir): cannot be written: \(FileKind.reason(err))")
        }
        let staged = StagedReport(target: dir, staging: staging, force: force)
        do { try body(staging) } catch {
            staged.discard()
            if let e = error as? TensorError, case let .file(_, message) = e {
                throw InputError("--report \(dir): cannot be written: \(message); no partial report was left")
            }
            throw error
        }
        return staged
    }

    /// Moves the pages into place: the whole directory by one rename when `target` is absent, else page by page
    /// (every page checked first, so nothing is replaced without --force).
    func commit() throws {
        defer { discard() }
        if !FileManager.default.fileExists(atPath: target), rename(staging, target) == 0 {
            TemporaryFiles.unregister(staging)
            return
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
        let base = URL(fileURLWithPath: target)
        if !force, let clash = names.first(where: { FileManager.default.fileExists(atPath: base.appendingPathComponent($0).path) }) {
            throw InputError("--report \(target): \(clash) already exists; pass --force to replace it")
        }
        try Outputs.prepareDirectory(target)
        for name in names {
            let from = URL(fileURLWithPath: staging).appendingPathComponent(name).path
            guard rename(from, base.appendingPathComponent(name).path) == 0 else {
                throw InputError("--report \(target): \(name) cannot be written: \(FileKind.reason(errno))")
            }
        }
    }

    /// Removes the staging directory (after a failure, or after `commit`).
    func discard() {
        if FileManager.default.fileExists(atPath: staging) { try? FileManager.default.removeItem(atPath: staging) }
        TemporaryFiles.unregister(staging)
    }
}
