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
    @Flag(help: "Print exactly one JSON object (the spec's keys) to stdout instead of a table.")
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
    static func array(_ path: String, key: String? = nil) throws -> Tensor<Double> {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        switch ext {
        case "npy":
            return try NPY.read(path).tensor(Double.self)
        case "safetensors":
            let file = try SafetensorsFile.read(path)
            let names = file.tensors.keys.sorted()
            if let key {
                guard file.tensors[key] != nil else {
                    throw InputError("\(path): no tensor named '\(key)' (available: \(names.joined(separator: ", ")))")
                }
                return try file.tensor(key, as: Double.self)
            }
            guard names.count == 1 else {
                throw InputError("\(path): holds \(names.count) tensors (\(names.joined(separator: ", "))); choose one with --key")
            }
            return try file.tensor(names[0], as: Double.self)
        case "csv", "txt":
            return try CSV.read(path).data
        default:
            throw InputError("\(path): unknown file type '.\(ext)' (expected .npy, .safetensors or .csv)")
        }
    }

    /// An n×D matrix of states (a 1-D array is one state per row of width 1; higher ranks are refused).
    static func matrix(_ path: String, key: String? = nil, minRows: Int = 2) throws -> Tensor<Double> {
        let a = try array(path, key: key)
        let m: Tensor<Double>
        switch a.rank {
        case 2: m = a
        case 1: m = try a.reshaped([a.count, 1])
        default:
            throw InputError("\(path): expected an n×D matrix of states, got shape \(a.shape)\(a.rank == 3 ? " (a T×n×D trajectory? use `vst trajectory`)" : "")")
        }
        guard m.shape[0] >= minRows else { throw InputError("\(path): need at least \(minRows) rows, got \(m.shape[0])") }
        do { try m.checkFinite("states") } catch let TensorError.nonFinite(count, first, _) {
            throw InputError("\(path): \(count) non-finite value\(count == 1 ? "" : "s") (NaN or ±Inf), first at row \(first[0]), column \(first.count > 1 ? first[1] : 0)")
        }
        return m
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

    /// Creates `dir` when missing; refuses a non-directory.
    static func prepareDirectory(_ dir: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw InputError("\(dir): exists and is not a directory") }
        } else {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
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

/// SIGINT / SIGTERM during a long batch job: the first signal only sets a flag, which the job checks between
/// blocks and files, so it can abandon the file it is writing cleanly (its temporary file removed, no partial
/// output in place) and exit with 128 + the signal number. A second signal gets the default action (ends at once).
enum Interruption {
    /// The signal received (0: none).
    nonisolated(unsafe) static var received: Int32 = 0

    /// Installs the handlers (idempotent) and unblocks the two signals: a process started from a thread that
    /// blocks them (libdispatch worker threads do, and posix_spawn passes the mask on) would otherwise never see them.
    static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM] {
            signal(s) { sig in
                Interruption.received = sig
                signal(sig, SIG_DFL)
            }
            sigaddset(&set, s)
        }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    static var name: String { received == SIGINT ? "SIGINT" : received == SIGTERM ? "SIGTERM" : "signal \(received)" }

    /// Throws `Interrupted` when a signal has arrived.
    static func check() throws {
        if received != 0 { throw Interrupted(signal: received) }
    }
}

/// Thrown by `Interruption.check()`; the command reports what was completed and exits 128 + signal.
struct Interrupted: Error { var signal: Int32 }
