import ArgumentParser
import Foundation
import Linear

/// `vst bench-linear`: times Linear's workloads (warm-up, calibrated inner loop, repetitions) and prints the
/// median, min and max seconds per call. `Benchmarks/compare/compare.py` runs it interleaved with numpy.
struct BenchLinear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-linear",
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

    func parseList(_ s: String) -> [String] {
        s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func validate() throws {
        for w in parseList(workloads) where w != "all" && !Self.allWorkloads.contains(w) {
            throw ValidationError("unknown workload '\(w)'; choose from \(Self.allWorkloads.joined(separator: ", ")) or all")
        }
        for d in parseList(dtypes) where d != "float32" && d != "float64" {
            throw ValidationError("unknown dtype '\(d)'; choose float32 or float64")
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
                let r = d == "float32" ? try measure(w, n, Float.self, timing) : try measure(w, n, Double.self, timing)
                results.append(r)
                if !json { printRow(r) }
            }
        }
        if json {
            let report = BenchReport(blas: BLAS.configuration, core: BLAS.coreName, blasThreads: BLAS.threads,
                                     linearThreads: Parallel.threads, results: results)
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(report), as: UTF8.self))
        }
    }

    fileprivate func printRow(_ r: BenchRecord) {
        func fmt(_ s: Double) -> String {
            s < 1e-3 ? String(format: "%9.3f µs", s * 1e6) : String(format: "%9.3f ms", s * 1e3)
        }
        let label = "\(r.workload) \(r.shape) \(r.dtype)".padding(toLength: 34, withPad: " ", startingAt: 0)
        print("\(label) median \(fmt(r.median))  min \(fmt(r.min))  max \(fmt(r.max))  reps \(r.reps)×\(r.inner)")
    }

    /// Builds the inputs of one point (outside the timing) and times the call.
    fileprivate func measure<S: BLASScalar>(_ workload: String, _ n: Int, _: S.Type, _ timing: BenchTiming) throws -> BenchRecord {
        var shape = "\(n)x\(n)"
        let stats: BenchStats
        switch workload {
        case "matmul":
            let a = Tensor<S>.normal([n, n], seed: 1), b = Tensor<S>.normal([n, n], seed: 2)
            stats = try timing.run { benchSink(try matmul(a, b)) }
        case "gemm":
            let a = Tensor<S>.normal([n, n], seed: 1), b = Tensor<S>.normal([n, n], seed: 2)
            let c = UnsafeMutablePointer<S>.allocate(capacity: n * n)
            c.initialize(repeating: 0, count: n * n)
            defer { c.deallocate() }
            stats = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let ap = pa.baseAddress!, bp = pb.baseAddress!
                    return timing.run {
                        S.gemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: ap, lda: n, b: bp, ldb: n,
                               beta: 0, c: c, ldc: n)
                        benchSink(c)
                    }
                }
            }
        case "exp", "silu", "add":
            shape = "\(n)"
            let x = Tensor<S>.normal([n], seed: 3), y = Tensor<S>.normal([n], seed: 4)
            switch workload {
            case "exp": stats = timing.run { benchSink(x.exp()) }
            case "silu": stats = timing.run { benchSink(x.silu()) }
            default: stats = try timing.run { benchSink(try x + y) }
            }
        case "svd":
            let a = Tensor<S>.normal([n, n], seed: 5)
            stats = try timing.run { benchSink(try a.svd()) }
        case "svd-tall":
            shape = "\(4 * n)x\(n)"
            let a = Tensor<S>.normal([4 * n, n], seed: 6)
            stats = try timing.run { benchSink(try a.svd()) }
        case "eigh":
            let g = Tensor<S>.normal([n, n], seed: 7)
            let a = try g + g.transposed()
            stats = try timing.run { benchSink(try a.eigh()) }
        default:
            throw ValidationError("unknown workload \(workload)")
        }
        return BenchRecord(workload: workload, n: n, shape: shape, dtype: S.dtypeName, median: stats.median, min: stats.min,
                           max: stats.max, reps: stats.reps, inner: stats.inner, threads: BLAS.threads)
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
    var blasThreads: Int
    var linearThreads: Int
    var results: [BenchRecord]
}
