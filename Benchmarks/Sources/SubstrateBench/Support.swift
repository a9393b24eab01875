import Foundation
import Linear
#if canImport(Glibc)
import Glibc
#endif

// Shared pieces of `substrate-bench`: the measuring loop, memory figures, fresh child processes with their peak RSS,
// the log–log slope, the BLAS environment every record carries, and the JSON records of results and baselines.

/// A benchmark run that cannot go on: names the option or file and what is wrong with it (exit code 2).
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Keeps a value alive and opaque to the optimiser, so the work producing it is not removed.
@inline(never) @_optimize(none)
func benchSink<T>(_ x: T) { _ = x }

/// Monotonic seconds.
@inline(__always)
func benchNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// Median, extremes and shape of one point's repetitions (seconds per call).
struct BenchStats: Codable, Equatable {
    var median: Double, min: Double, max: Double, reps: Int, inner: Int
}

/// The measuring loop of every workload: warm-up calls, an inner loop calibrated so that one repetition
/// lasts at least `minRepTime`, then `reps` repetitions (fewer, but at least 3, when they would exceed `maxTime`).
struct BenchTiming {
    var reps: Int, warmup: Int, minRepTime: Double, maxTime: Double

    func run(_ body: () throws -> Void) rethrows -> BenchStats {
        let w0 = benchNow()
        for _ in 0..<Swift.max(1, warmup) {
            try body()
            if benchNow() - w0 > 0.25 * maxTime { break }
        }
        var calls = 1, elapsed = 0.0
        while true {
            let t0 = benchNow()
            for _ in 0..<calls { try body() }
            elapsed = benchNow() - t0
            if elapsed >= minRepTime || calls >= 1 << 24 { break }
            let target = elapsed > 0 ? Int((minRepTime / elapsed * Double(calls) * 1.2).rounded(.up)) : calls * 10
            calls = Swift.min(calls * 10, Swift.max(calls * 2, target))
        }
        var times: [Double] = []
        if calls == 1 { times.append(elapsed) }   // a single-call calibration is a valid repetition
        let count = Swift.max(Swift.min(reps, 3), Swift.min(reps, Int(maxTime / Swift.max(elapsed, 1e-9))))
        while times.count < count {
            let t0 = benchNow()
            for _ in 0..<calls { try body() }
            times.append((benchNow() - t0) / Double(calls))
        }
        times.sort()
        let m = times.count
        let median = m % 2 == 1 ? times[m / 2] : 0.5 * (times[m / 2 - 1] + times[m / 2])
        return BenchStats(median: median, min: times[0], max: times[m - 1], reps: m, inner: calls)
    }
}

// MARK: Child processes

/// A finished child process: exit code (128 + signal when killed), its standard output, its peak RSS (ru_maxrss
/// from wait4: the whole process, KiB) and its wall time.
struct BenchChild {
    var status: Int32
    var stdout: Data
    var maxRSSKiB: Int
    var seconds: Double

    /// The path of the running executable (so that the suite can run its workers as fresh processes of itself).
    static var selfExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Runs `path args…` with `environment` added to ours; stdout is captured, stderr is inherited (or discarded
    /// with `quiet`). posix_spawn + wait4, so the child's own peak RSS is known exactly.
    static func run(_ path: String, _ args: [String], environment extra: [String: String] = [:], quiet: Bool = false) throws -> BenchChild {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw BenchError("substrate-bench: pipe() failed (errno \(errno))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        if quiet { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in extra { env[k] = v }
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }
        var pid: pid_t = 0
        let t0 = benchNow()
        let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw BenchError("substrate-bench: could not start \(path) (posix_spawn error \(rc))")
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let k = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if k > 0 { data.append(contentsOf: buffer[0..<k]) } else if k == 0 || errno != EINTR { break }
        }
        close(fds[0])
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let seconds = benchNow() - t0
        let signal = status & 0x7f
        let code: Int32 = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return BenchChild(status: code, stdout: data, maxRSSKiB: Int(usage.ru_maxrss), seconds: seconds)
    }
}

// MARK: Scaling

/// Least-squares slope of log(time) against log(d): time ∝ d^slope. Nil for fewer than two distinct sizes.
func logLogSlope(_ points: [(d: Int, seconds: Double)]) -> Double? {
    let ok = points.filter { $0.d > 0 && $0.seconds > 0 && $0.seconds.isFinite }
    guard Set(ok.map(\.d)).count >= 2 else { return nil }
    let xs = ok.map { Foundation.log(Double($0.d)) }, ys = ok.map { Foundation.log($0.seconds) }
    let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
    var sxy = 0.0, sxx = 0.0
    for (x, y) in zip(xs, ys) { sxy += (x - mx) * (y - my); sxx += (x - mx) * (x - mx) }
    return sxx > 0 ? sxy / sxx : nil
}

// MARK: Records

/// One measured point of the suite.
struct BenchPoint: Codable {
    var workload: String
    var group: String
    /// The dimension d (nil for the whole-demo run).
    var d: Int?
    var dtype: String
    /// What exactly was timed at this d (shapes, rows, steps).
    var shape: String
    var median: Double
    var min: Double
    var max: Double
    var reps: Int
    var inner: Int
    var blasThreads: Int
    var linearThreads: Int
    /// Peak RSS of the process that ran the point (ru_maxrss of the fresh worker, or of this process in-process).
    var peakRSSKiB: Int?
    /// VmHWM after the repetitions minus VmRSS before the warm-up: the workload's own peak above its inputs.
    var peakExtraKiB: Int?
    /// Floating-point operations of one call in the GEMM flop model of the workload (nil: not GEMM-bound).
    var gemmFlops: Double?
    /// gemmFlops / the machine's measured peak for the dtype, and that over the median (1 = at the peak).
    var timeAtPeak: Double?
    var fractionOfPeak: Double?
    /// Work per second (unit in `throughputUnit`).
    var throughput: Double?
    var throughputUnit: String?
    /// True when the point ran in a fresh process.
    var freshProcess: Bool
}

/// One workload over the ladder: how its time grows with d.
struct BenchWorkloadSummary: Codable {
    var workload: String
    var group: String
    var dtype: String
    var description: String
    var flopModel: String?
    /// Log–log slope of the median time against d over all sizes, and over d ≥ 256 (the asymptotic part).
    var slope: Double?
    var slopeLarge: Double?
    var sizes: [Int]
}

/// The machine's measured GEMM peak (best of several large products) per dtype, GFLOP/s.
struct BenchPeak: Codable {
    var n: Int
    var sgemmGFLOPS: Double
    var dgemmGFLOPS: Double
    var threads: Int
    /// The OpenBLAS core type that ran it, and whether its kernels passed `KernelSelfTest` (nil in old files).
    var core: String? = nil
    var selfTestPassed: Bool? = nil
    /// In the suite's floor: every core type measured (the active one first); the floor is the fastest that passed.
    var kernelSets: [BenchKernelSet]? = nil
}

/// One OpenBLAS core type's GEMM peak, measured in a child with `OPENBLAS_CORETYPE` set (nil: as found).
struct BenchKernelSet: Codable {
    var requested: String?
    var core: String
    var selfTestPassed: Bool
    var sgemmGFLOPS: Double
    var dgemmGFLOPS: Double
}

/// A regression found by the guard.
struct BenchRegression: Codable {
    var workload: String
    var d: Int?
    var median: Double
    var baselineMedian: Double
    var ratio: Double
}

/// `bench-results/results.json`.
struct BenchResults: Codable {
    var schema = "substrate-bench/1"
    var date: String
    var machine: BenchMachine
    var blas: String
    var core: String
    /// The OpenBLAS core type and the BLAS variables this run found (see `BenchEnvironment`; absent in results
    /// written before it existed, which --check still reads).
    var environment: BenchEnvironment?
    var blasThreads: Int
    var linearThreads: Int
    var settings: [String: String]
    var peak: BenchPeak?
    var workloads: [BenchWorkloadSummary]
    var results: [BenchPoint]
    var skipped: [String]
    var baseline: String?
    var tolerance: Double?
    var regressions: [BenchRegression]?
}

struct BenchMachine: Codable {
    var cpu: String
    var cores: Int
    var hostname: String
    var loadAverageStart: [Double]
    var loadAverageEnd: [Double]

    static func cpuName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        }
        return "unknown"
    }

    static func loadAverage() -> [Double] {
        var l = [Double](repeating: 0, count: 3)
        return getloadavg(&l, 3) == 3 ? l : []
    }
}

/// A baseline: the medians of a previous suite run on this machine (`--save-baseline` writes one; a results.json
/// works too, only `results[].workload`, `d` and `median` are read).
struct BenchBaseline: Codable {
    struct Entry: Codable { var workload: String; var d: Int?; var median: Double; var min: Double? }
    var schema: String?
    var date: String?
    var machine: BenchMachine?
    var blasThreads: Int?
    var results: [Entry]
}

/// The guard: every (workload, d) present in both whose median is more than `tolerance` slower than the baseline.
func benchRegressions(_ results: [BenchPoint], baseline: BenchBaseline, tolerance: Double) -> [BenchRegression] {
    var base: [String: Double] = [:]
    for e in baseline.results { base["\(e.workload)@\(e.d.map(String.init) ?? "-")"] = e.median }
    var out: [BenchRegression] = []
    for r in results {
        guard let b = base["\(r.workload)@\(r.d.map(String.init) ?? "-")"], b > 0 else { continue }
        let ratio = r.median / b
        if ratio > 1 + tolerance { out.append(BenchRegression(workload: r.workload, d: r.d, median: r.median, baselineMedian: b, ratio: ratio)) }
    }
    return out
}

/// Seconds in a short human unit.
func benchTime(_ s: Double?) -> String {
    guard let s, s.isFinite else { return "—" }
    if s < 1e-3 { return String(format: "%.3g µs", s * 1e6) }
    if s < 1 { return String(format: "%.4g ms", s * 1e3) }
    return String(format: "%.3g s", s)
}

/// KiB as MiB.
func benchMiB(_ kib: Int?) -> String { kib.map { String(format: "%.1f MiB", Double($0) / 1024) } ?? "—" }

/// A rate with an SI prefix.
func benchRate(_ r: Double?, _ unit: String?) -> String {
    guard let r, r.isFinite, let unit else { return "—" }
    let (v, p): (Double, String) = r >= 1e9 ? (r / 1e9, "G") : r >= 1e6 ? (r / 1e6, "M") : r >= 1e3 ? (r / 1e3, "k") : (r, "")
    return String(format: "%.3g ", v) + p + unit
}

// MARK: Environment

/// What decides which BLAS kernels ran: the OpenBLAS core type Linear's OpenBLAS picked (`BLAS.coreName`) and its
/// build configuration, and the variables that steer it, as found in the environment ("unset" when absent).
/// These machines set OPENBLAS_CORETYPE=Haswell (with OPENBLAS_L2_SIZE) as a guard; `run_suite.py --unset-coretype`
/// unsets both for every side alike. Every JSON this executable writes carries this record.
struct BenchEnvironment: Codable, Equatable {
    var coreName: String
    var blasConfiguration: String
    var variables: [String: String]

    static let variableNames = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"]

    static func current() -> BenchEnvironment {
        let env = ProcessInfo.processInfo.environment
        var vars: [String: String] = [:]
        for name in variableNames { vars[name] = env[name] ?? "unset" }
        return BenchEnvironment(coreName: BLAS.coreName, blasConfiguration: BLAS.configuration, variables: vars)
    }
}

// MARK: Memory

/// Resident-set figures of this process from /proc/self/status (KiB), and the peak mark reset.
enum ProcessMemory {
    static func status(_ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return Int(line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return nil
    }

    /// Resets VmHWM to the current RSS (Linux ≥ 4.0: writing 5 to /proc/self/clear_refs). False where unavailable.
    @discardableResult
    static func resetPeak() -> Bool {
        guard let f = fopen("/proc/self/clear_refs", "w") else { return false }
        defer { fclose(f) }
        return fputs("5", f) >= 0
    }

    /// getrusage ru_maxrss of this process (KiB on Linux).
    static func maxRSSKiB() -> Int {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Int(u.ru_maxrss)
    }
}

/// VmRSS just before a point's warm-up and VmHWM after its last repetition (nil when /proc is unavailable or the
/// reset failed); `extra` is the workload's own peak on top of its inputs.
struct MemoryMark {
    var before: Int? = nil
    var peak: Int? = nil

    static func start() -> MemoryMark {
        var m = MemoryMark()
        if ProcessMemory.resetPeak() { m.before = ProcessMemory.status("VmRSS") }
        return m
    }

    mutating func finish() {
        if before != nil { peak = ProcessMemory.status("VmHWM") }
    }

    var extra: Int? { peak.flatMap { p in before.map { p - $0 } } }
}

/// Encodes a value as sorted-key JSON (pretty-printed unless `compact`).
func benchJSON<T: Encodable>(_ value: T, compact: Bool = false) throws -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = compact ? [.sortedKeys] : [.prettyPrinted, .sortedKeys]
    return String(decoding: try enc.encode(value), as: UTF8.self)
}
