import ArgumentParser
import Foundation
import Linear
import Substrate

// The two views of the catalogue that the Python comparisons read: `linear` (compare.py, against numpy) and
// `substrate` (compare_substrate.py, against scikit-learn, numpy and scipy on bit-identical data). Both time through
// `Workloads.measure`; they choose sizes and dtypes their way and keep the JSON schema their readers parse.

/// Comma-separated list items, trimmed, empty ones dropped.
func benchList(_ s: String) -> [String] {
    s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

/// `substrate-bench linear`: times Linear's workloads (warm-up, calibrated inner loop, repetitions) and prints the
/// median, min and max seconds per call. `Benchmarks/compare/compare.py` runs it interleaved with numpy.
struct LinearView: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linear",
        abstract: "Time Linear workloads (matmul, direct gemm, element-wise, svd, eigh); JSON with --json.",
        discussion: """
            Workloads (default sizes in brackets; --sizes overrides them for every selected workload):
              matmul    Tensor matmul, n×n·n×n                      [4 8 16 32 64 128 256 512 1024]
              gemm      direct Scalar.gemm (cblas_?gemm) on the same buffers, preallocated output  [same]
              exp       Tensor.exp over n elements                 [1000000]
              silu      Tensor.silu over n elements                [1000000]
              add       Tensor + Tensor over n elements            [1000000]
              svd       thin svd of n×n                            [64 128 256 512 1024]
              svd-tall  thin svd of 4n×n                           [64 128 256 512 1024]
              eigh      eigh of a symmetric n×n                    [64 128 256 512 1024]
            Each point: warm-up calls, then an inner loop calibrated so one repetition lasts at least
            --min-rep-time, then --reps repetitions (fewer, but at least 3, when they would exceed --max-time).
            Times are seconds per call; inputs are built before the timing, results are allocated per call.
            """)

    @Option(help: "Comma-separated workloads, or 'all'.")
    var workloads: String = "all"

    @Option(help: "Comma-separated sizes n (matrix side, or element count for exp/silu/add); default per workload.")
    var sizes: String?

    @Option(help: "Comma-separated dtypes: float32, float64.")
    var dtypes: String = "float32,float64"

    @Option(help: "BLAS threads (BLAS.threads); also Linear's element-wise threads unless --linear-threads is given.")
    var threads: Int?

    @Option(help: "Threads for Linear's own element-wise kernels (Parallel.threads).")
    var linearThreads: Int?

    @Option(help: "Timed repetitions per point (the median is reported).")
    var reps: Int = 15

    @Option(help: "Untimed warm-up calls per point.")
    var warmup: Int = 3

    @Option(help: "Minimum seconds per repetition; fast calls are repeated in an inner loop to reach it.")
    var minRepTime: Double = 0.005

    @Option(help: "Time budget in seconds per point; reps are reduced (to no fewer than 3) to fit it.")
    var maxTime: Double = 5

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    static let defaultSizes: [String: [Int]] = [
        "matmul": [4, 8, 16, 32, 64, 128, 256, 512, 1024],
        "gemm": [4, 8, 16, 32, 64, 128, 256, 512, 1024],
        "exp": [1_000_000], "silu": [1_000_000], "add": [1_000_000],
        "svd": [64, 128, 256, 512, 1024], "svd-tall": [64, 128, 256, 512, 1024], "eigh": [64, 128, 256, 512, 1024],
    ]
    static let allWorkloads = ["matmul", "gemm", "exp", "silu", "add", "svd", "svd-tall", "eigh"]

    func parseList(_ s: String) -> [String] { benchList(s) }

    func validate() throws {
        for w in parseList(workloads) where w != "all" && !Self.allWorkloads.contains(w) {
            throw ValidationError("--workloads: unknown workload '\(w)'; choose from \(Self.allWorkloads.joined(separator: ", ")) or all")
        }
        for d in parseList(dtypes) where d != "float32" && d != "float64" {
            throw ValidationError("--dtypes: unknown dtype '\(d)'; choose float32 or float64")
        }
        if let s = sizes {
            for v in parseList(s) where (Int(v) ?? 0) <= 0 { throw ValidationError("--sizes: '\(v)' is not a positive integer") }
        }
        guard reps > 0 else { throw ValidationError("--reps must be positive, got \(reps)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be non-negative, got \(warmup)") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
        if let t = linearThreads, t < 1 { throw ValidationError("--linear-threads must be at least 1, got \(t)") }
    }

    func run() throws {
        if let t = threads { BLAS.threads = t }
        if let t = linearThreads ?? threads { Parallel.threads = t }
        var selected = parseList(workloads)
        if selected.contains("all") { selected = Self.allWorkloads }
        selected = selected.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        let sizeOverride = sizes.map { parseList($0).compactMap { Int($0) } }
        let timing = BenchTiming(reps: reps, warmup: warmup, minRepTime: minRepTime, maxTime: maxTime)

        // Points ordered by size, then workload: workloads of one size (e.g. matmul and gemm) run back to back.
        var points: [(workload: String, n: Int)] = []
        for w in selected { for n in sizeOverride ?? Self.defaultSizes[w]! { points.append((w, n)) } }
        let order = Dictionary(uniqueKeysWithValues: selected.enumerated().map { ($1, $0) })
        points.sort { ($0.n, order[$0.workload]!) < ($1.n, order[$1.workload]!) }
        var results: [BenchRecord] = []
        for (w, n) in points {
            for d in parseList(dtypes) {
                let r = try measure(w, n, d, timing)
                results.append(r)
                if !json { printRow(r) }
            }
        }
        if json {
            let report = BenchReport(blas: BLAS.configuration, core: BLAS.coreName, environment: BenchEnvironment.current(),
                                     blasThreads: BLAS.threads, linearThreads: Parallel.threads, results: results)
            print(try benchJSON(report))
        }
    }

    fileprivate func printRow(_ r: BenchRecord) {
        func fmt(_ s: Double) -> String {
            s < 1e-3 ? String(format: "%9.3f µs", s * 1e6) : String(format: "%9.3f ms", s * 1e3)
        }
        let label = "\(r.workload) \(r.shape) \(r.dtype)".padding(toLength: 34, withPad: " ", startingAt: 0)
        print("\(label) median \(fmt(r.median))  min \(fmt(r.min))  max \(fmt(r.max))  reps \(r.reps)×\(r.inner)")
    }

    /// Times one point through the catalogue (element-wise kinds over a vector of n elements).
    fileprivate func measure(_ workload: String, _ n: Int, _ dtype: String, _ timing: BenchTiming) throws -> BenchRecord {
        let params = WorkloadParameters(rows: 0, permutations: 0, batch: 0, sampleRows: 0, sampleSteps: 0, squareElementwise: false)
        let m = try Workloads.measure(workload, dtype: dtype, size: n, parameters: params, timing: timing)
        return BenchRecord(workload: workload, n: n, shape: m.shape, dtype: dtype, median: m.stats.median, min: m.stats.min,
                           max: m.stats.max, reps: m.stats.reps, inner: m.stats.inner, threads: BLAS.threads)
    }
}

private struct BenchRecord: Codable {
    var workload: String
    var n: Int
    var shape: String
    var dtype: String
    var median: Double
    var min: Double
    var max: Double
    var reps: Int
    var inner: Int
    var threads: Int
}

private struct BenchReport: Codable {
    var blas: String
    var core: String
    var environment: BenchEnvironment
    var blasThreads: Int
    var linearThreads: Int
    var results: [BenchRecord]
}

/// `substrate-bench substrate`: times Substrate's analysis workloads in-process on seeded synthetic data and prints the
/// median, min and max seconds per call, the peak resident memory of each workload and the values it computed
/// (for cross-checks). `Benchmarks/compare/compare_substrate.py` runs it interleaved with scikit-learn, numpy and
/// scipy on bit-identical data.
struct SubstrateView: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "substrate",
        abstract: "Time Substrate workloads (projection fit/project/lift, linear CKA, Fréchet distance, MMD² test); JSON with --json.",
        discussion: """
            Workloads (default sizes d in brackets; --sizes overrides them; rows n in parentheses, --rows overrides):
              fit-svd          Projection.fit, k = 9, method .svd              [64 128 256]  (100000)
                               (a thin SVD of the whole n×d matrix: only run for d ≤ --svd-max-d, default 256)
              fit-covariance   Projection.fit, k = 9, method .covariance       [64 … 1024]   (100000)
              fit-randomized   Projection.fit, k = 9, method .randomized       [64 … 1024]   (100000)
              project          Projection.project (core coordinates, k = 9)    [64 … 1024]   (20000)
              lift             Projection.lift(z, residual: r), exact inverse  [64 … 1024]   (20000)  float64 only
              lift-core        Projection.lift(z), rank-9 reconstruction       [64 … 1024]   (20000)  float64 only
              cka              Alignment.linearCKA(X, Y), both n×d            [64 … 1024]   (10000)  float64 only
              frechet          Drift.frechetDistance(A, B), both n×d          [64 … 1024]   (10000)  float64 only
              mmd              Drift.mmdTest(A, B, permutations: 200), n per set [64]       (2000)   float64 only
            Data: a rank-16 signal with singular values decaying by 0.8 per direction, plus uniform noise of
            standard deviation 0.05 and a per-feature offset (a clear spectral gap after direction 16), built from
            a counter-based hash (splitmix64 of the element index) so that compare_substrate.py builds the same
            numbers in numpy. float32 inputs are the float64 data rounded once.
            Each point: warm-up calls, a calibrated inner loop, --reps repetitions (fewer, but at least 3, when they
            would exceed --max-time). Memory: before each point's warm-up the peak-RSS mark is reset
            (/proc/self/clear_refs = 5); the record reports VmHWM after the point and its excess over VmRSS before
            it (the workload's own peak on top of its inputs; BLAS is warmed up by a 512³ gemm and syrk in each
            precision before the first point, so its buffers count as resident already). Freed blocks stay in the heap (this tool keeps them:
            Memory.retainFreedBlocks), so that excess is exact only for the first point of a process: run one point
            per process for memory figures (compare_substrate.py does).
            """)

    @Option(help: "Comma-separated workloads, or 'all'.")
    var workloads: String = "all"

    @Option(help: "Comma-separated dimensions d; default per workload.")
    var sizes: String?

    @Option(help: "Rows n (per set for mmd); default per workload.")
    var rows: Int?

    @Option(help: "Comma-separated dtypes: float32, float64 (workloads whose API is Double-only run float64 only).")
    var dtypes: String = "float32,float64"

    @Option(help: "fit-svd runs only for d up to this (its cost is O(n·d²) with a large constant and O(n·d) memory).")
    var svdMaxD: Int = 256

    @Option(help: "Permutations of the MMD² test.")
    var permutations: Int = 200

    @Option(help: "BLAS threads (BLAS.threads); also Linear's element-wise threads unless --linear-threads is given.")
    var threads: Int?

    @Option(help: "Threads for Linear's own element-wise kernels (Parallel.threads).")
    var linearThreads: Int?

    @Option(help: "Timed repetitions per point (the median is reported).")
    var reps: Int = 5

    @Option(help: "Untimed warm-up calls per point.")
    var warmup: Int = 1

    @Option(help: "Minimum seconds per repetition; fast calls are repeated in an inner loop to reach it.")
    var minRepTime: Double = 0.005

    @Option(help: "Time budget in seconds per point; reps are reduced (to no fewer than 3) to fit it.")
    var maxTime: Double = 3

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    static let allWorkloads = ["fit-svd", "fit-covariance", "fit-randomized", "project", "lift", "lift-core", "cka", "frechet", "mmd"]
    static let ladder = [64, 128, 256, 512, 1024]
    static let doubleOnly: Set<String> = ["lift", "lift-core", "cka", "frechet", "mmd"]

    static func defaultSizes(_ w: String) -> [Int] {
        switch w {
        case "fit-svd": return [64, 128, 256]
        case "mmd": return [64]
        default: return ladder
        }
    }

    static func defaultRows(_ w: String) -> Int {
        switch w {
        case "fit-svd", "fit-covariance", "fit-randomized": return 100_000
        case "project", "lift", "lift-core": return 20_000
        case "cka", "frechet": return 10_000
        default: return 2_000
        }
    }

    func parseList(_ s: String) -> [String] { benchList(s) }

    func validate() throws {
        for w in parseList(workloads) where w != "all" && !Self.allWorkloads.contains(w) {
            throw ValidationError("--workloads: unknown workload '\(w)'; choose from \(Self.allWorkloads.joined(separator: ", ")) or all")
        }
        for d in parseList(dtypes) where d != "float32" && d != "float64" {
            throw ValidationError("--dtypes: unknown dtype '\(d)'; choose float32 or float64")
        }
        if let s = sizes {
            for v in parseList(s) where (Int(v) ?? 0) < 9 { throw ValidationError("--sizes: '\(v)' is not an integer ≥ 9 (k = 9)") }
        }
        if let r = rows, r < 16 { throw ValidationError("--rows must be at least 16, got \(r)") }
        guard permutations >= 1 else { throw ValidationError("--permutations must be positive, got \(permutations)") }
        guard reps > 0 else { throw ValidationError("--reps must be positive, got \(reps)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be non-negative, got \(warmup)") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
        if let t = linearThreads, t < 1 { throw ValidationError("--linear-threads must be at least 1, got \(t)") }
    }

    func run() throws {
        if let t = threads { BLAS.threads = t }
        if let t = linearThreads ?? threads { Parallel.threads = t }
        var selected = parseList(workloads)
        if selected.contains("all") { selected = Self.allWorkloads }
        selected = selected.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        let sizeOverride = sizes.map { parseList($0).compactMap { Int($0) } }
        let timing = BenchTiming(reps: reps, warmup: warmup, minRepTime: minRepTime, maxTime: maxTime)

        Self.warmBLAS()
        var results: [SubstrateRecord] = []
        var skipped: [String] = []
        for w in selected {
            for d in sizeOverride ?? Self.defaultSizes(w) {
                for dt in parseList(dtypes) {
                    if Self.doubleOnly.contains(w) && dt == "float32" {
                        skipped.append("\(w) d=\(d) float32: the API takes Double only"); continue
                    }
                    if w == "fit-svd" && d > svdMaxD {
                        skipped.append("fit-svd d=\(d) \(dt): above --svd-max-d \(svdMaxD)"); continue
                    }
                    let n = rows ?? Self.defaultRows(w)
                    let r = try measure(w, d, n, dt, timing)
                    results.append(r)
                    if !json { printRow(r) }
                }
            }
        }
        if json {
            let report = SubstrateReport(blas: BLAS.configuration, core: BLAS.coreName, environment: BenchEnvironment.current(), blasThreads: BLAS.threads,
                                         linearThreads: Parallel.threads, processMaxRSSKiB: ProcessMemory.maxRSSKiB(),
                                         skipped: skipped, results: results)
            print(try benchJSON(report))
        } else {
            for s in skipped { print("skipped: \(s)") }
        }
    }

    /// One 512³ gemm and syrk in each precision before any measurement, so that OpenBLAS's thread pool and packing
    /// buffers exist and are resident before the first point's peak-RSS mark (the peers' data generation runs BLAS
    /// products before theirs too).
    static func warmBLAS() {
        let a = Tensor<Double>.normal([512, 512], seed: 99), b: Tensor<Float> = a.cast()
        _ = try? matmul(a, a); _ = try? a.gram()
        _ = try? matmul(b, b); _ = try? b.gram()
    }

    fileprivate func printRow(_ r: SubstrateRecord) {
        func fmt(_ s: Double) -> String {
            s < 1e-3 ? String(format: "%9.3f µs", s * 1e6) : s < 1 ? String(format: "%9.3f ms", s * 1e3) : String(format: "%9.3f s ", s)
        }
        let label = "\(r.workload) \(r.rows)x\(r.d) \(r.dtype)".padding(toLength: 36, withPad: " ", startingAt: 0)
        var line = "\(label) median \(fmt(r.median))  min \(fmt(r.min))  reps \(r.reps)×\(r.inner)"
        if let rps = r.rowsPerSecond { line += String(format: "  %.3g rows/s", rps) }
        if let m = r.peakExtraKiB { line += String(format: "  +%.1f MiB peak", Double(m) / 1024) }
        print(line)
    }

    /// Times one point through the catalogue and keeps its memory figures and computed values.
    fileprivate func measure(_ w: String, _ d: Int, _ n: Int, _ dtype: String, _ timing: BenchTiming) throws -> SubstrateRecord {
        let params = WorkloadParameters(rows: n, permutations: permutations, batch: 0, sampleRows: 0, sampleSteps: 0, squareElementwise: false)
        let m = try Workloads.measure(w, dtype: dtype, size: d, parameters: params, timing: timing)
        let perSecond: Double? = ["project", "lift", "lift-core"].contains(w) ? Double(n) / m.stats.median : nil
        return SubstrateRecord(workload: w, d: d, rows: n, dtype: dtype, median: m.stats.median, min: m.stats.min, max: m.stats.max,
                               reps: m.stats.reps, inner: m.stats.inner, threads: BLAS.threads, rowsPerSecond: perSecond,
                               rssBeforeKiB: m.memory.before, peakKiB: m.memory.peak, peakExtraKiB: m.memory.extra, values: m.values)
    }
}

private struct SubstrateRecord: Codable {
    var workload: String
    var d: Int
    var rows: Int
    var dtype: String
    var median: Double
    var min: Double
    var max: Double
    var reps: Int
    var inner: Int
    var threads: Int
    /// rows / median for project, lift and lift-core.
    var rowsPerSecond: Double?
    /// VmRSS just before the point's warm-up, VmHWM after its last repetition, and their difference (KiB).
    var rssBeforeKiB: Int?
    var peakKiB: Int?
    var peakExtraKiB: Int?
    /// What the workload computed (explained variance of the top 9, CKA, FD, MMD², …), for cross-checks.
    var values: [String: [Double]]
}

private struct SubstrateReport: Codable {
    var blas: String
    var core: String
    var environment: BenchEnvironment
    var blasThreads: Int
    var linearThreads: Int
    var processMaxRSSKiB: Int
    var skipped: [String]
    var results: [SubstrateRecord]
}
