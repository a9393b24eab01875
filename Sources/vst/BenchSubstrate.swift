import ArgumentParser
import Foundation
import Linear
import Substrate

/// `vst bench-substrate`: times Substrate's analysis workloads in-process on seeded synthetic data and prints the
/// median, min and max seconds per call, the peak resident memory of each workload and the values it computed
/// (for cross-checks). `Benchmarks/compare/compare_substrate.py` runs it interleaved with scikit-learn, numpy and
/// scipy on bit-identical data.
struct BenchSubstrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-substrate",
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
            precision before the first point, so its buffers count as resident already). Freed blocks stay in the heap (vst keeps them:
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
                    let r = dt == "float32" ? try measure(w, d, n, Float.self, timing) : try measure(w, d, n, Double.self, timing)
                    results.append(r)
                    if !json { printRow(r) }
                }
            }
        }
        if json {
            let report = SubstrateReport(blas: BLAS.configuration, core: BLAS.coreName, blasThreads: BLAS.threads,
                                         linearThreads: Parallel.threads, processMaxRSSKiB: ProcessMemory.maxRSSKiB(),
                                         skipped: skipped, results: results)
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(report), as: UTF8.self))
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

    /// Builds the inputs of one point (outside the timing), times the call and records memory and values.
    fileprivate func measure<S: BLASScalar>(_ w: String, _ d: Int, _ n: Int, _: S.Type, _ timing: BenchTiming) throws -> SubstrateRecord {
        var values: [String: [Double]] = [:]
        var stats: BenchStats
        var memory = MemoryMark()
        switch w {
        case "fit-svd", "fit-covariance", "fit-randomized":
            let method: ProjectionMethod = w == "fit-svd" ? .svd : w == "fit-covariance" ? .covariance : .randomized
            let x: Tensor<S> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.fitSeeds)
            var last: Projection? = nil
            memory = MemoryMark.start()
            stats = try timing.run { last = try Projection.fit(x, options: ProjectionOptions(k: 9, method: method)) }
            memory.finish()
            if let p = last {
                values["explained_variance"] = Array(p.eigenvalues.prefix(9))
                values["total_variance"] = [p.totalVariance]
            }
        case "project", "lift", "lift-core":
            let x: Tensor<S> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.fitSeeds)
            let p = try Projection.fit(x, options: ProjectionOptions(k: 9, method: .covariance))
            if w == "project" {
                memory = MemoryMark.start()
                stats = try timing.run { benchSink(try p.project(x)) }
                memory.finish()
            } else {
                let z = try p.project(x)
                if w == "lift" {
                    let r = try p.residual(x)
                    memory = MemoryMark.start()
                    stats = try timing.run { benchSink(try p.lift(z, residual: r)) }
                    memory.finish()
                    let back = try p.lift(z, residual: r)
                    let xd: Tensor<Double> = x.cast()
                    values["round_trip_error"] = [try (back - xd).norm() / xd.norm()]
                } else {
                    memory = MemoryMark.start()
                    stats = try timing.run { benchSink(try p.lift(z)) }
                    memory.finish()
                }
            }
        case "cka":
            let x: Tensor<Double> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.ckaSeeds)
            let y = SyntheticData.perturbed(x, seed: SyntheticData.ckaNoiseSeed, scale: 0.5)
            var v = 0.0
            memory = MemoryMark.start()
            stats = try timing.run { v = try Alignment.linearCKA(x, y) }
            memory.finish()
            values["cka"] = [v]
        case "frechet":
            let a: Tensor<Double> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.frechetSeedsA)
            let b: Tensor<Double> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.frechetSeedsB)
            var v = 0.0
            memory = MemoryMark.start()
            stats = try timing.run { v = try Drift.frechetDistance(a, b) }
            memory.finish()
            values["frechet_distance"] = [v]
        case "mmd":
            let a: Tensor<Double> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.mmdSeedsA)
            let b: Tensor<Double> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.mmdSeedsB)
            var v = (mmd2: 0.0, pValue: 0.0, bandwidth2: 0.0)
            let perms = permutations
            memory = MemoryMark.start()
            stats = try timing.run { v = try Drift.mmdTest(a, b, permutations: perms) }
            memory.finish()
            values["mmd2"] = [v.mmd2]; values["p_value"] = [v.pValue]; values["bandwidth2"] = [v.bandwidth2]
        default:
            throw ValidationError("unknown workload \(w)")
        }
        let perSecond: Double? = ["project", "lift", "lift-core"].contains(w) ? Double(n) / stats.median : nil
        return SubstrateRecord(workload: w, d: d, rows: n, dtype: S.dtypeName, median: stats.median, min: stats.min, max: stats.max,
                               reps: stats.reps, inner: stats.inner, threads: BLAS.threads, rowsPerSecond: perSecond,
                               rssBeforeKiB: memory.before, peakKiB: memory.peak,
                               peakExtraKiB: memory.peak.flatMap { p in memory.before.map { p - $0 } }, values: values)
    }
}

// MARK: Synthetic data (mirrored exactly by compare_substrate.py)

/// Seeded synthetic latents with a spectral gap, from a counter-based generator: every element is a pure function
/// of (seed, index), so numpy builds the same matrix without sharing a random-number stream.
enum SyntheticData {
    typealias Seeds = (scores: UInt64, mixing: UInt64, noise: UInt64, offset: UInt64)
    static let fitSeeds: Seeds = (1, 2, 3, 4)
    static let ckaSeeds: Seeds = (11, 12, 13, 14)
    static let ckaNoiseSeed: UInt64 = 15
    static let frechetSeedsA: Seeds = (21, 2, 23, 4)
    static let frechetSeedsB: Seeds = (31, 2, 33, 34)
    static let mmdSeedsA: Seeds = (41, 2, 43, 4)
    static let mmdSeedsB: Seeds = (51, 2, 53, 54)
    static let rank = 16, decay = 0.8, noise = 0.05, offset = 0.5

    /// A uniform variate of mean 0 and variance 1 (a 53-bit uniform u in [0, 1) mapped to (u − ½)·√12), the
    /// splitmix64 finaliser of index + (seed·0xD1B54A32D192ED03 + 0x9E3779B97F4A7C15) (wrapping arithmetic).
    @inline(__always)
    static func uniform(_ seed: UInt64, _ index: UInt64) -> Double {
        var z = index &+ (seed &* 0xD1B5_4A32_D192_ED03 &+ 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return (Double(z >> 11) * 0x1p-53 - 0.5) * sqrt12
    }
    static let sqrt12 = (12.0).squareRoot()

    /// X[i, j] = Σ_r S[i, r]·0.8^r·W[r, j] + 0.05·E[i, j] + 0.5·M[j], with S, W, E, M uniform(0, 1) variates of
    /// their own seeds (S indexed i·16 + r, W r·d + j, E i·d + j, M j). Written straight into the result: no
    /// temporary of the data's size.
    static func gapped<S: BLASScalar>(rows n: Int, d: Int, seeds: Seeds) -> Tensor<S> {
        var w = [Double](repeating: 0, count: rank * d)
        for i in 0..<(rank * d) { w[i] = uniform(seeds.mixing, UInt64(i)) }
        let scales = (0..<rank).map { Foundation.pow(decay, Double($0)) }
        let off = (0..<d).map { offset * uniform(seeds.offset, UInt64($0)) }
        return Tensor<S>(unsafeUninitializedShape: [n, d]) { out, _ in
            let row = UnsafeMutablePointer<Double>.allocate(capacity: d)
            defer { row.deallocate() }
            w.withUnsafeBufferPointer { wp in
                off.withUnsafeBufferPointer { op in
                    for i in 0..<n {
                        for j in 0..<d { row[j] = 0 }
                        for r in 0..<rank {
                            let sr = uniform(seeds.scores, UInt64(i * rank + r)) * scales[r]
                            let wr = wp.baseAddress! + r * d
                            for j in 0..<d { row[j] += sr * wr[j] }
                        }
                        let base = UInt64(i * d), o = out + i * d
                        for j in 0..<d { o[j] = S(row[j] + noise * uniform(seeds.noise, base + UInt64(j)) + op[j]) }
                    }
                }
            }
        }
    }

    /// Y = X + scale·E with E uniform(0, 1) variates of `seed` indexed i·d + j.
    static func perturbed(_ x: Tensor<Double>, seed: UInt64, scale: Double) -> Tensor<Double> {
        let count = x.count
        return x.withUnsafeBufferPointer { p in
            Tensor<Double>(unsafeUninitializedShape: x.shape) { out, _ in
                for i in 0..<count { out[i] = p[i] + scale * uniform(seed, UInt64(i)) }
            }
        }
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

/// VmRSS before a point and VmHWM after it (nil when /proc is unavailable or the reset failed).
private struct MemoryMark {
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
    var blasThreads: Int
    var linearThreads: Int
    var processMaxRSSKiB: Int
    var skipped: [String]
    var results: [SubstrateRecord]
}
