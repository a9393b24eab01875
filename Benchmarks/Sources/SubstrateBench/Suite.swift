import ArgumentParser
import Foundation
import Linear
import Substrate

/// `substrate-bench suite`: the Swift-only benchmark suite over the dimensional ladder d = 64 … 1024, with the
/// machine's GEMM peak as the physical floor, log–log slopes, peak RSS per workload, and a regression guard against a
/// saved baseline. `Benchmarks/compare/run_suite.py` runs it beside its peers (numpy, scikit-learn, PyTorch, JAX).
struct Suite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Benchmark suite over d = 64…1024: results.json, results.md and log–log plots; regression guard with --baseline.",
        discussion: """
            Workloads (names, or the group names in brackets; 'all' is every one listed here):
              [matmul]       matmul-f32, matmul-f64      Tensor matmul d×d · d×d                          GEMM 2d³
              [elementwise]  exp-f32, silu-f32, add-f32   over a d×d tensor (d² elements)
              [linalg]       svd-f64, eigh-f64            thin svd of d×d; eigh of a symmetric d×d
              [fit]          fit-svd, fit-covariance, fit-randomized   Projection.fit (k = 9) of --rows × d float64
                                                          (covariance: GEMM n·d² for the Gram matrix)
              [apply]        project                      Projection.project of --rows × d
              [analysis]     cka, frechet, mmd            linear CKA (GEMM 4n·d²), Fréchet distance (GEMM 2n·d² for
                                                          the covariances), MMD² test (--mmd-rows per set, --permutations)
              [train]        train-step                   MLPDenoiser (hidden max(256, d), 3 residual blocks), DDPM ε loss,
                                                          backward, gradient clipping, AdamW; --batch rows; GEMM 6·batch·Σ in·out
              [sampling]     ddpm-ancestral, ddim, fm-euler, fm-rk4, sde-em   --sample-rows samples in --sample-steps
                                                          steps of an untrained MLPDenoiser; GEMM 2·rows·Σ in·out per evaluation
              [demo]         demo                         one whole `vst demo --quick` in a subprocess (--vst; skipped
                                                          when that vst is missing or has no demo command)
            Not in 'all', run when named: gemm-f32/-f64 (direct gemm), exp/silu/add-f64, svd-f32, svd-tall-f32/-f64,
            eigh-f32, fit-*-f32 and project-f32 (float32 input), lift, lift-core.
            Data of fit, project, lift, cka, frechet and mmd: the seeded spectral-gap matrices of SyntheticData
            (mirrored by compare_substrate.py).
            Method: every point runs in a fresh process of this executable (unless --in-process): inputs are built, the peak-RSS
            mark is reset (/proc/self/clear_refs), then warm-up calls, an inner loop calibrated to ≥ --min-rep-time,
            and --reps repetitions (fewer, but at least 3, within --max-time); the median and min–max are reported.
            Peak RSS is the worker's ru_maxrss; +extra is its VmHWM above its VmRSS before the warm-up.
            The physical floor: large sgemm and dgemm (--peak-n) measure the machine's GFLOP/s (best of 5) with every \
            OpenBLAS core type this CPU can run (each in a child with OPENBLAS_CORETYPE set); the fastest whose kernels \
            pass Linear's KernelSelfTest is the floor. For GEMM-bound workloads the table gives the time at that \
            floor and our fraction of it (the active core type may be slower than the floor: that shows here).
            Regression guard: --baseline FILE compares the medians with a saved run (--save-baseline, or any
            results.json) and exits 1 naming every workload more than --tolerance slower; --check RESULTS applies
            the guard to a results.json without measuring. Every results.json records the OpenBLAS core type and
            the OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE / thread variables as found ("environment").
            """)

    @Option(help: "Comma-separated workloads or groups, or 'all'.")
    var workloads: String = "all"

    @Option(help: "Comma-separated dimensions d (default 64,128,256,512,1024).")
    var sizes: String?

    @Flag(help: "A fast smoke run: fewer rows, steps and repetitions, smaller peak GEMM.")
    var quick = false

    @Option(help: "BLAS threads and Linear's element-wise threads.")
    var threads: Int = 1

    @Option(help: "Timed repetitions per point (the median is reported). Default 7 (3 with --quick).")
    var reps: Int?

    @Option(help: "Untimed warm-up calls per point.")
    var warmup: Int = 1

    @Option(help: "Minimum seconds per repetition; fast calls are repeated in an inner loop to reach it.")
    var minRepTime: Double = 0.005

    @Option(help: "Time budget in seconds per point; reps are reduced (to no fewer than 3) to fit it. Default 3 (0.5 with --quick).")
    var maxTime: Double?

    @Option(help: "Rows n of the fit, project, cka and frechet inputs. Default 10000 (2000 with --quick).")
    var rows: Int?

    @Option(help: "Rows per set of the MMD² test. Default 1000 (200 with --quick).")
    var mmdRows: Int?

    @Option(help: "Permutations of the MMD² test. Default 200 (20 with --quick).")
    var permutations: Int?

    @Option(help: "Batch of the training step. Default 256 (64 with --quick).")
    var batch: Int?

    @Option(help: "Samples drawn per sampling run. Default 64 (16 with --quick).")
    var sampleRows: Int?

    @Option(help: "Steps per sampling run. Default 20 (4 with --quick).")
    var sampleSteps: Int?

    @Option(help: "Side of the square sgemm/dgemm that measures the machine's peak (0: skip). Default 2048 (512 with --quick).")
    var peakN: Int?

    @Option(help: "Output directory for results.json, results.md and plots/.")
    var out: String = "bench-results"

    @Flag(help: "Run every point in this process instead of a fresh one (faster; peak RSS then covers earlier points).")
    var inProcess = false

    @Option(help: "Compare with this baseline (a --save-baseline file or a results.json); exit 1 on regressions.")
    var baseline: String?

    @Option(help: "Allowed slowdown of a median against the baseline (0.2 = 20 %).")
    var tolerance: Double = 0.2

    @Option(help: "Write the medians of this run as a baseline file.")
    var saveBaseline: String?

    @Option(help: "Apply the guard to this results.json instead of measuring (needs --baseline).")
    var check: String?

    @Flag(help: "Also print results.json on stdout (progress goes to stderr).")
    var json = false

    @Option(help: "The vst binary timed by the demo workload (default: the vst beside this executable).")
    var vst: String?

    @Option(help: .hidden) var worker: String?
    @Option(help: .hidden) var workerD: Int = 0

    // MARK: Workloads

    static let ladder = [64, 128, 256, 512, 1024]

    func parseList(_ s: String) -> [String] {
        s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The selected workloads in catalogue order (groups expand to their members).
    func selectedWorkloads() throws -> [Workload] {
        var names = Set<String>()
        for w in parseList(workloads) {
            if w == "all" { Workloads.catalogue.filter(\.inAll).forEach { names.insert($0.name) }; continue }
            let members = Workloads.catalogue.filter { $0.name == w || ($0.group == w && $0.inAll) }
            guard !members.isEmpty else {
                let groups = Array(Set(Workloads.catalogue.map(\.group))).sorted()
                throw ValidationError("--workloads: unknown workload '\(w)'; choose from \(Workloads.catalogue.map(\.name).joined(separator: ", ")), the groups \(groups.joined(separator: ", ")), or all")
            }
            members.forEach { names.insert($0.name) }
        }
        return Workloads.catalogue.filter { names.contains($0.name) }
    }

    func validate() throws {
        if worker == nil { _ = try selectedWorkloads() }
        if let s = sizes {
            for v in parseList(s) where (Int(v) ?? 0) < 9 { throw ValidationError("--sizes: '\(v)' is not an integer ≥ 9") }
        }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let r = reps, r < 1 { throw ValidationError("--reps must be positive, got \(r)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be non-negative, got \(warmup)") }
        guard tolerance >= 0 else { throw ValidationError("--tolerance must be non-negative, got \(tolerance)") }
        if check != nil && baseline == nil { throw ValidationError("--check needs --baseline") }
        for (name, v) in [("--rows", rows), ("--mmd-rows", mmdRows), ("--batch", batch), ("--sample-rows", sampleRows)] {
            if let v, v < 16 { throw ValidationError("\(name) must be at least 16, got \(v)") }
        }
        if let p = permutations, p < 1 { throw ValidationError("--permutations must be positive, got \(p)") }
        if let s = sampleSteps, s < 1 { throw ValidationError("--sample-steps must be positive, got \(s)") }
    }

    // Resolved settings (quick or full defaults).
    var rRows: Int { rows ?? (quick ? 2000 : 10_000) }
    var rMMDRows: Int { mmdRows ?? (quick ? 200 : 1000) }
    var rPermutations: Int { permutations ?? (quick ? 20 : 200) }
    var rBatch: Int { batch ?? (quick ? 64 : 256) }
    var rSampleRows: Int { sampleRows ?? (quick ? 16 : 64) }
    var rSampleSteps: Int { sampleSteps ?? (quick ? 4 : 20) }
    var rReps: Int { reps ?? (quick ? 3 : 7) }
    var rMaxTime: Double { maxTime ?? (quick ? 0.5 : 3) }
    var rPeakN: Int { peakN ?? (quick ? 512 : 2048) }
    var timing: BenchTiming { BenchTiming(reps: rReps, warmup: warmup, minRepTime: minRepTime, maxTime: rMaxTime) }

    /// The arguments that make a worker measure exactly what this run would.
    func workerArguments(_ w: String, _ d: Int) -> [String] {
        ["suite", "--worker", w, "--worker-d", String(d), "--threads", String(threads), "--reps", String(rReps),
         "--warmup", String(warmup), "--min-rep-time", String(minRepTime), "--max-time", String(rMaxTime),
         "--rows", String(rRows), "--mmd-rows", String(rMMDRows), "--permutations", String(rPermutations),
         "--batch", String(rBatch), "--sample-rows", String(rSampleRows), "--sample-steps", String(rSampleSteps),
         "--peak-n", String(rPeakN)] + (quick ? ["--quick"] : [])
    }

    func settings() -> [String: String] {
        ["reps": String(rReps), "warmup": String(warmup), "minRepTime": String(minRepTime), "maxTime": String(rMaxTime),
         "rows": String(rRows), "mmdRows": String(rMMDRows), "permutations": String(rPermutations), "batch": String(rBatch),
         "sampleRows": String(rSampleRows), "sampleSteps": String(rSampleSteps), "peakN": String(rPeakN),
         "quick": String(quick), "freshProcess": String(!inProcess), "threads": String(threads)]
    }

    /// The vst of the demo workload: --vst, else `vst` in this executable's directory (both are built together).
    var vstPath: String {
        vst ?? URL(fileURLWithPath: BenchChild.selfExecutable).deletingLastPathComponent().appendingPathComponent("vst").path
    }

    // MARK: Run

    func run() throws {
        BLAS.threads = threads
        Parallel.threads = threads
        if let w = worker {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            if w == "peak" {
                print(String(decoding: try enc.encode(Self.measurePeak(n: workerD)), as: UTF8.self))
            } else {
                guard let spec = Workloads.catalogue.first(where: { $0.name == w }) else { throw BenchError("--worker: unknown workload \(w)") }
                var p = try measure(spec, workerD)
                p.peakRSSKiB = ProcessMemory.maxRSSKiB()
                print(String(decoding: try enc.encode(p), as: UTF8.self))
            }
            return
        }
        if let c = check, let b = baseline {
            let results: BenchResults
            do {
                results = try JSONDecoder().decode(BenchResults.self, from: Data(contentsOf: URL(fileURLWithPath: c)))
            } catch {
                throw BenchError("--check \(c): cannot read it as a suite results.json (\(error.localizedDescription))")
            }
            try guardRegressions(results.results, baselinePath: b)
            return
        }
        try runSuite()
    }

    func log(_ s: String) {
        if json { FileHandle.standardError.write(Data((s + "\n").utf8)) } else { print(s) }
    }

    func runSuite() throws {
        let selected = try selectedWorkloads()
        let ds = sizes.map { parseList($0).compactMap { Int($0) } } ?? Self.ladder
        let loadStart = BenchMachine.loadAverage()
        let exe = BenchChild.selfExecutable
        let env = ["OPENBLAS_NUM_THREADS": String(threads), "OMP_NUM_THREADS": String(threads)]
        log("substrate-bench suite: \(selected.count) workload(s) at d = \(ds.map(String.init).joined(separator: ", ")); \(threads) BLAS/Linear thread(s); "
            + "\(inProcess ? "in-process" : "a fresh process per point"); load average \(loadStart.map { String(format: "%.2f", $0) }.joined(separator: " "))")

        // The physical floor.
        var peak: BenchPeak? = nil
        if rPeakN > 0 && selected.contains(where: { $0.flopModel != nil }) {
            if inProcess {
                peak = Self.measurePeak(n: rPeakN)
            } else {
                peak = try measureFloor(exe, env: env)
            }
            if let p = peak {
                log(String(format: "floor: sgemm %.1f GFLOP/s, dgemm %.1f GFLOP/s (n = %d, best of 5, %d thread(s), core %@)",
                           p.sgemmGFLOPS, p.dgemmGFLOPS, p.n, p.threads, p.core ?? "?"))
            }
        }

        var points: [BenchPoint] = []
        var skipped: [String] = []
        for w in selected {
            if w.name == "demo" {
                let (p, why) = try runDemo(vstPath, env: env)
                if let p { points.append(p); printRow(p) } else {
                    skipped.append("demo: \(why ?? "not run")")
                    log("skipped: demo: \(why ?? "not run")")
                }
                continue
            }
            for d in ds {
                var p: BenchPoint
                if inProcess {
                    ProcessMemory.resetPeak()
                    p = try measure(w, d)
                    p.peakRSSKiB = ProcessMemory.maxRSSKiB()
                } else {
                    let c = try BenchChild.run(exe, workerArguments(w.name, d), environment: env)
                    guard c.status == 0 else {
                        skipped.append("\(w.name) d=\(d): the worker failed (exit \(c.status))")
                        log("skipped: \(w.name) d=\(d): worker exit \(c.status)")
                        continue
                    }
                    p = try JSONDecoder().decode(BenchPoint.self, from: c.stdout)
                    p.peakRSSKiB = c.maxRSSKiB
                }
                if let f = p.gemmFlops, let pk = peak {
                    let gflops = w.dtype == "float64" ? pk.dgemmGFLOPS : pk.sgemmGFLOPS
                    p.timeAtPeak = f / (gflops * 1e9)
                    p.fractionOfPeak = p.timeAtPeak! / p.median
                }
                points.append(p)
                printRow(p)
            }
        }

        let summaries = selected.filter { w in points.contains { $0.workload == w.name } }.map { w -> BenchWorkloadSummary in
            let pts = points.filter { $0.workload == w.name && $0.d != nil }.map { (d: $0.d!, seconds: $0.median) }
            return BenchWorkloadSummary(workload: w.name, group: w.group, dtype: w.dtype, description: w.description,
                                        flopModel: w.flopModel, slope: logLogSlope(pts), slopeLarge: logLogSlope(pts.filter { $0.d >= 256 }),
                                        sizes: pts.map(\.d))
        }
        var results = BenchResults(date: ISO8601DateFormatter().string(from: Date()),
                                   machine: BenchMachine(cpu: BenchMachine.cpuName(), cores: ProcessInfo.processInfo.activeProcessorCount,
                                                         hostname: ProcessInfo.processInfo.hostName, loadAverageStart: loadStart,
                                                         loadAverageEnd: BenchMachine.loadAverage()),
                                   blas: BLAS.configuration, core: BLAS.coreName, environment: BenchEnvironment.current(), blasThreads: threads, linearThreads: threads,
                                   settings: settings(), peak: peak, workloads: summaries, results: points, skipped: skipped)
        var regressions: [BenchRegression]? = nil
        if let b = baseline {
            let base = try loadBaseline(b)
            regressions = benchRegressions(points, baseline: base, tolerance: tolerance)
            results.baseline = b; results.tolerance = tolerance; results.regressions = regressions
        }
        try write(results)
        if let s = saveBaseline { try writeBaseline(results, to: s) }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(results), as: UTF8.self))
        }
        if let b = baseline { try report(regressions ?? [], baselinePath: b) }
    }

    func printRow(_ p: BenchPoint) {
        var line = "\(p.workload) d=\(p.d.map(String.init) ?? "-")".padding(toLength: 24, withPad: " ", startingAt: 0)
        line += " median \(benchTime(p.median))  (\(benchTime(p.min))–\(benchTime(p.max)))  peak RSS \(benchMiB(p.peakRSSKiB))"
        if let f = p.fractionOfPeak { line += String(format: "  %.0f %% of peak", f * 100) }
        log(line)
    }

    // MARK: Guard

    func loadBaseline(_ path: String) throws -> BenchBaseline {
        do {
            return try JSONDecoder().decode(BenchBaseline.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw BenchError("\(path): not a substrate-bench baseline or results.json (\(error))")
        }
    }

    func guardRegressions(_ points: [BenchPoint], baselinePath: String) throws {
        let base = try loadBaseline(baselinePath)
        try report(benchRegressions(points, baseline: base, tolerance: tolerance), baselinePath: baselinePath)
    }

    /// Prints the verdict; throws exit code 1 when any workload regressed.
    func report(_ regressions: [BenchRegression], baselinePath: String) throws {
        let pct = String(format: "%.0f %%", tolerance * 100)
        if regressions.isEmpty {
            log("substrate-bench suite: no workload more than \(pct) slower than the baseline \(baselinePath)")
            return
        }
        for r in regressions {
            FileHandle.standardError.write(Data(("substrate-bench suite: regression: \(r.workload) d=\(r.d.map(String.init) ?? "-"): median \(benchTime(r.median)) vs baseline \(benchTime(r.baselineMedian)) ("
                + String(format: "%.2f", r.ratio) + "× slower; tolerance \(pct))\n").utf8))
        }
        let names = Array(Set(regressions.map(\.workload))).sorted()
        FileHandle.standardError.write(Data("substrate-bench suite: \(regressions.count) point(s) more than \(pct) slower than the baseline: \(names.joined(separator: ", "))\n".utf8))
        throw ExitCode(1)
    }

    func writeBaseline(_ r: BenchResults, to path: String) throws {
        let b = BenchBaseline(schema: "substrate-bench-baseline/1", date: r.date, machine: r.machine, blasThreads: r.blasThreads,
                              results: r.results.map { .init(workload: $0.workload, d: $0.d, median: $0.median, min: $0.min) })
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try enc.encode(b).write(to: url)
        log("substrate-bench suite: wrote baseline \(path)")
    }

    // MARK: Output

    func write(_ r: BenchResults) throws {
        let dir = URL(fileURLWithPath: out)
        let plots = dir.appendingPathComponent("plots")
        try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(r).write(to: dir.appendingPathComponent("results.json"))
        try Data(markdown(r).utf8).write(to: dir.appendingPathComponent("results.md"))
        var groups: [String] = []
        for w in r.workloads where !groups.contains(w.group) && !w.sizes.isEmpty { groups.append(w.group) }
        for g in groups {
            var series: [SVGPlot.Series] = []
            for w in r.workloads where w.group == g {
                let pts = r.results.filter { $0.workload == w.workload && $0.d != nil }
                series.append(SVGPlot.Series(w.workload, pts.map { (Double($0.d!), $0.median) }))
                let floor = pts.compactMap { p in p.timeAtPeak.map { (Double(p.d!), $0) } }
                if !floor.isEmpty { series.append(SVGPlot.Series("\(w.workload) at peak", floor, dashed: true)) }
            }
            let svg = SVGPlot.line(title: "\(g): median time per call vs d (log–log)", xLabel: "d", yLabel: "seconds",
                                   series: series, logX: true, logY: true)
            try Data(svg.utf8).write(to: plots.appendingPathComponent("\(g).svg"))
        }
        log("substrate-bench suite: wrote \(dir.appendingPathComponent("results.json").path), results.md and \(groups.count) plot(s) in \(plots.path)")
    }

    func markdown(_ r: BenchResults) -> String {
        func load(_ l: [Double]) -> String { l.map { String(format: "%.2f", $0) }.joined(separator: " / ") }
        var o: [String] = ["# substrate-bench suite", ""]
        o.append("\(r.machine.cpu), \(r.machine.cores) cores; \(r.date); BLAS \(r.blas) (core \(r.core)); BLAS threads \(r.blasThreads), "
                 + "Linear element-wise threads \(r.linearThreads); load average (1/5/15 min) \(load(r.machine.loadAverageStart)) at the start, "
                 + "\(load(r.machine.loadAverageEnd)) at the end.")
        if let e = r.environment {
            o.append("")
            o.append("OpenBLAS core type \(e.coreName); as found: "
                     + e.variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + ".")
        }
        o.append("")
        let s = r.settings
        o.append("Method: \(s["freshProcess"] == "true" ? "each point in a fresh `substrate-bench` process" : "all points in one process"); "
                 + "\(s["warmup"] ?? "?") warm-up call(s), an inner loop of ≥ \(s["minRepTime"] ?? "?") s, up to \(s["reps"] ?? "?") "
                 + "repetitions within \(s["maxTime"] ?? "?") s (at least 3); the median and min–max of seconds per call. "
                 + "Rows n = \(s["rows"] ?? "?") (fit, project, cka, frechet), \(s["mmdRows"] ?? "?") per set and \(s["permutations"] ?? "?") "
                 + "permutations (mmd), batch \(s["batch"] ?? "?") (train-step), \(s["sampleRows"] ?? "?") samples × \(s["sampleSteps"] ?? "?") steps (sampling). "
                 + "Peak RSS: the worker's ru_maxrss (inputs included); +extra: VmHWM above VmRSS before the warm-up.")
        if let p = r.peak {
            o.append("")
            o.append(String(format: "Physical floor: measured peak sgemm %.1f GFLOP/s, dgemm %.1f GFLOP/s (n = %d, best of 5, %d thread(s)). "
                            + "'at peak' = the workload's GEMM flops at that rate; '%% of peak' = at-peak time / median.",
                            p.sgemmGFLOPS, p.dgemmGFLOPS, p.n, p.threads))
            if let sets = p.kernelSets, let active = sets.first {
                o.append("The floor is the fastest OpenBLAS core type whose kernels pass Linear's KernelSelfTest (\(p.core ?? "?")); "
                         + "the workloads ran with \(active.core)" + (active.requested == nil ? " (as found)" : "") + ". Core types measured: "
                         + sets.map { String(format: "%@ %.1f/%.1f%@", $0.core, $0.sgemmGFLOPS, $0.dgemmGFLOPS, $0.selfTestPassed ? "" : " (fails the self-test)") }
                             .joined(separator: ", ") + " GFLOP/s (sgemm/dgemm).")
            }
        }
        let ds = Array(Set(r.results.compactMap(\.d))).sorted()
        o += ["", "## Summary (median time per call)", ""]
        o.append("| workload | dtype | " + ds.map { "d=\($0)" }.joined(separator: " | ") + " | slope | slope d≥256 | % of peak (largest d) | peak RSS (largest d) |")
        o.append("|---|---|" + ds.map { _ in "---:" }.joined(separator: "|") + "|---:|---:|---:|---:|")
        for w in r.workloads {
            let pts = r.results.filter { $0.workload == w.workload }
            let cells = ds.map { d in benchTime(pts.first { $0.d == d }?.median) }
            let last = pts.last
            let slope = w.slope.map { String(format: "%.2f", $0) } ?? "—"
            let slopeL = w.slopeLarge.map { String(format: "%.2f", $0) } ?? "—"
            let frac = last?.fractionOfPeak.map { String(format: "%.0f %%", $0 * 100) } ?? "—"
            o.append("| \(w.workload) | \(w.dtype) | \(cells.joined(separator: " | ")) | \(slope) | \(slopeL) | \(frac) | \(benchMiB(last?.peakRSSKiB)) |")
        }
        for p in r.results where p.d == nil {
            o.append("| \(p.workload) | \(p.dtype) | " + ds.map { _ in "" }.joined(separator: " | ") + " | — | — | — | \(benchMiB(p.peakRSSKiB)) |")
            o.append("")
            o.append("\(p.workload): \(benchTime(p.median)) (\(p.shape)).")
        }
        o += ["", "## Workloads", "", "| workload | what | GEMM flop model |", "|---|---|---|"]
        for w in r.workloads { o.append("| \(w.workload) | \(w.description) | \(w.flopModel ?? "— (not GEMM-bound)") |") }
        o += ["", "## Points", "",
              "| workload | d | shape | median | min–max | reps×inner | peak RSS | +extra | throughput | time at peak | % of peak |",
              "|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|"]
        for p in r.results {
            o.append("| \(p.workload) | \(p.d.map(String.init) ?? "—") | \(p.shape) | \(benchTime(p.median)) | \(benchTime(p.min))–\(benchTime(p.max)) | "
                     + "\(p.reps)×\(p.inner) | \(benchMiB(p.peakRSSKiB)) | \(benchMiB(p.peakExtraKiB)) | \(benchRate(p.throughput, p.throughputUnit)) | "
                     + "\(benchTime(p.timeAtPeak)) | \(p.fractionOfPeak.map { String(format: "%.0f %%", $0 * 100) } ?? "—") |")
        }
        if !r.skipped.isEmpty {
            o += ["", "## Skipped", ""]
            for s in r.skipped { o.append("- \(s)") }
        }
        if let b = r.baseline {
            o += ["", "## Regression guard", ""]
            let regs = r.regressions ?? []
            o.append(regs.isEmpty ? "No workload more than \(Int(((r.tolerance ?? 0) * 100).rounded())) % slower than \(b)."
                                  : "\(regs.count) point(s) more than \(Int(((r.tolerance ?? 0) * 100).rounded())) % slower than \(b):")
            for g in regs {
                o.append("- \(g.workload) d=\(g.d.map(String.init) ?? "-"): \(benchTime(g.median)) vs \(benchTime(g.baselineMedian)) (" + String(format: "%.2f×", g.ratio) + ")")
            }
        }
        o.append("")
        return o.joined(separator: "\n")
    }

    // MARK: Measurements

    /// Best-of-5 GFLOP/s of an n×n·n×n sgemm and dgemm into a preallocated output.
    static func measurePeak(n: Int) -> BenchPeak {
        func best<S: BLASScalar>(_: S.Type) -> Double {
            let a = Tensor<S>.normal([n, n], seed: 1), b = Tensor<S>.normal([n, n], seed: 2)
            let c = UnsafeMutablePointer<S>.allocate(capacity: n * n)
            c.initialize(repeating: 0, count: n * n)
            defer { c.deallocate() }
            var fastest = Double.infinity
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    for i in 0..<6 {
                        let t0 = benchNow()
                        S.gemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: pa.baseAddress!, lda: n,
                               b: pb.baseAddress!, ldb: n, beta: 0, c: c, ldc: n)
                        let t = benchNow() - t0
                        if i > 0 { fastest = Swift.min(fastest, t) }   // the first call is a warm-up
                    }
                }
            }
            return 2 * Double(n) * Double(n) * Double(n) / fastest / 1e9
        }
        return BenchPeak(n: n, sgemmGFLOPS: best(Float.self), dgemmGFLOPS: best(Double.self), threads: BLAS.threads,
                         core: BLAS.coreName, selfTestPassed: KernelSelfTest.run().allSatisfy(\.passed))
    }

    /// The physical floor: the GEMM peak of every OpenBLAS core type this CPU can run (each in a child with
    /// `OPENBLAS_CORETYPE` set, after the active one as found), keeping the fastest whose kernels pass
    /// `KernelSelfTest`. A child whose OpenBLAS fell back to another core type is dropped.
    func measureFloor(_ exe: String, env: [String: String]) throws -> BenchPeak? {
        var sets: [(String?, BenchPeak)] = []
        let active = try BenchChild.run(exe, workerArguments("peak", rPeakN), environment: env)
        guard active.status == 0 else { throw BenchError("substrate-bench suite: the peak measurement failed (exit \(active.status))") }
        let first = try JSONDecoder().decode(BenchPeak.self, from: active.stdout)
        sets.append((nil, first))
        for name in CPUFeatures.current?.candidateCoreTypes ?? [] where name.lowercased() != first.core?.lowercased() {
            let c = try BenchChild.run(exe, workerArguments("peak", rPeakN), environment: env.merging(["OPENBLAS_CORETYPE": name]) { $1 })
            guard c.status == 0, let p = try? JSONDecoder().decode(BenchPeak.self, from: c.stdout),
                  p.core?.lowercased() == name.lowercased() else {
                log("floor: OPENBLAS_CORETYPE=\(name) not measured (exit \(c.status) or fell back to another core type)")
                continue
            }
            log(String(format: "floor: %@ sgemm %.1f, dgemm %.1f GFLOP/s, self-test %@", name, p.sgemmGFLOPS, p.dgemmGFLOPS, p.selfTestPassed == true ? "pass" : "FAIL"))
            sets.append((name, p))
        }
        guard var floor = sets.filter({ $0.1.selfTestPassed == true }).max(by: { $0.1.sgemmGFLOPS < $1.1.sgemmGFLOPS })?.1 else { return nil }
        floor.dgemmGFLOPS = sets.filter { $0.1.selfTestPassed == true }.map(\.1.dgemmGFLOPS).max() ?? floor.dgemmGFLOPS
        floor.kernelSets = sets.map { BenchKernelSet(requested: $0.0, core: $0.1.core ?? "?", selfTestPassed: $0.1.selfTestPassed == true,
                                                     sgemmGFLOPS: $0.1.sgemmGFLOPS, dgemmGFLOPS: $0.1.dgemmGFLOPS) }
        return floor
    }

    /// Times one point of `w` at d through `Workloads.measure` (the same code every view uses).
    func measure(_ w: Workload, _ d: Int) throws -> BenchPoint {
        let mmd = w.kind == "mmd"
        let params = WorkloadParameters(rows: mmd ? rMMDRows : rRows, permutations: rPermutations, batch: rBatch,
                                        sampleRows: rSampleRows, sampleSteps: rSampleSteps, squareElementwise: true)
        let m = try Workloads.measure(w.kind, dtype: w.dtype, size: d, parameters: params, timing: timing)
        return BenchPoint(workload: w.name, group: w.group, d: d, dtype: w.dtype, shape: m.shape, median: m.stats.median,
                          min: m.stats.min, max: m.stats.max, reps: m.stats.reps, inner: m.stats.inner, blasThreads: BLAS.threads,
                          linearThreads: Parallel.threads, peakRSSKiB: nil, peakExtraKiB: m.memory.extra, gemmFlops: m.gemmFlops,
                          timeAtPeak: nil, fractionOfPeak: nil, throughput: m.throughput, throughputUnit: m.throughputUnit,
                          freshProcess: !inProcess)
    }

    /// One whole `vst demo --quick` in a subprocess (in a scratch directory), when this binary has a demo command.
    func runDemo(_ exe: String, env: [String: String]) throws -> (BenchPoint?, String?) {
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            return (nil, "no vst at \(exe) (--vst); the whole-demo timing is skipped")
        }
        // `vst demo --help` would succeed even without a demo command (the root prints its help): read the list.
        let help = String(decoding: try BenchChild.run(exe, ["--help"], environment: env, quiet: true).stdout, as: UTF8.self)
        let listed = help.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces).split(separator: " ").first == "demo" }
        guard listed else {
            return (nil, "this vst has no `demo` command (not in `vst --help`); the whole-demo timing is skipped")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vst-bench-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let cwd = FileManager.default.currentDirectoryPath
        guard FileManager.default.changeCurrentDirectoryPath(scratch.path) else { return (nil, "could not enter \(scratch.path)") }
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        log("demo: running `vst demo --quick` once (in \(scratch.path))")
        let c = try BenchChild.run(exe, ["demo", "--quick"], environment: env, quiet: true)
        guard c.status == 0 else { return (nil, "`vst demo --quick` failed (exit \(c.status)); not timed") }
        return (BenchPoint(workload: "demo", group: "demo", d: nil, dtype: "-", shape: "vst demo --quick, one run, wall time of the process",
                          median: c.seconds, min: c.seconds, max: c.seconds, reps: 1, inner: 1, blasThreads: threads, linearThreads: threads,
                          peakRSSKiB: c.maxRSSKiB, peakExtraKiB: nil, gemmFlops: nil, timeAtPeak: nil, fractionOfPeak: nil,
                          throughput: nil, throughputUnit: nil, freshProcess: true), nil)
    }
}
