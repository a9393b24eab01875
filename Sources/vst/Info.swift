import ArgumentParser
import Foundation
import Linear
import VSTCore

/// `vst info`: which BLAS/LAPACK is linked, its threads and kernels, and how fast its GEMM runs against the best kernels
/// this CPU runs correctly.
///
/// OpenBLAS chooses its kernel set (its "core type") when it loads, from the CPU model or from `OPENBLAS_CORETYPE`.
/// A guard value such as `OPENBLAS_CORETYPE=Haswell` on an AVX-512 machine, or an OpenBLAS too old to know the CPU,
/// leaves half the vector width unused. With the probe on, `vst info` starts itself once per core type the CPU's
/// instruction set allows, each with that `OPENBLAS_CORETYPE`, runs the kernel self-test there and times sgemm and
/// dgemm on one thread, then says what the active kernels reach against the fastest set that passes and what to set.
/// It never changes the variables for this or any later process.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the BLAS/LAPACK build, its threads and kernels, and GEMM speed against what this CPU can do.",
        discussion: """
        Reports the OpenBLAS core type in use, the CPU's vector instruction set, a timed \
        n×n sgemm, and (unless --no-probe) the same timing and a correctness self-test for every \
        OpenBLAS core type this CPU can run, each in a child process with OPENBLAS_CORETYPE set. \
        The fastest core type that passes the self-test is the machine's floor; the advice line says \
        which variable to set when the active kernels fall more than 10 % short of it. Nothing is \
        changed: the variables are only read.
        """)

    @Option(help: "OpenBLAS threads for the first timing (default: the current setting, from OPENBLAS_NUM_THREADS).")
    var threads: Int?

    @Option(help: "Matrix size n for the n×n·n×n GEMM timings.")
    var size: Int = 1024

    @Option(help: "Timed repetitions (the median is reported).")
    var repeats: Int = 5

    @Flag(help: "Skip the per-core-type probe (self-test and timing in child processes).")
    var noProbe = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(help: .hidden)
    var probeChild = false

    func validate() throws {
        guard size > 0 else { throw ValidationError("--size must be positive, got \(size)") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        if probeChild {
            let m = KernelProbe.measureActive(size: size, repeats: repeats, requested: env["OPENBLAS_CORETYPE"])
            print(try CoreTypeProbe.childOutput(m))
            return
        }
        if let t = threads { BLAS.threads = t }
        let cpu = CPUFeatures.current
        let timing = KernelProbe.gemmRate(Float.self, size: size, repeats: repeats)
        if !json {
            print("BLAS/LAPACK : \(BLAS.configuration)")
            print("core        : \(BLAS.coreName) (OPENBLAS_CORETYPE=\(env["OPENBLAS_CORETYPE"] ?? "unset"))")
            if let cpu { print("CPU         : \(cpu.modelName.isEmpty ? cpu.vendor : cpu.modelName), \(cpu.vectorISA)") }
            print("parallel    : \(["sequential", "pthreads", "OpenMP"][min(max(BLAS.parallelMode, 0), 2)])")
            print("BLAS threads: \(BLAS.threads) (OPENBLAS_NUM_THREADS=\(env["OPENBLAS_NUM_THREADS"] ?? "unset"))")
            print("Linear threads (element-wise kernels): \(Parallel.threads)")
            print(String(format: "sgemm %d×%d: median %.2f ms over %d runs (min %.2f ms) = %.1f GFLOP/s",
                         size, size, timing.median * 1e3, repeats, timing.min * 1e3, timing.gflops))
        }
        guard !noProbe else { return }
        let active = KernelProbe.measureActive(size: size, repeats: repeats, requested: env["OPENBLAS_CORETYPE"])
        var candidates: [KernelMeasurement] = []
        let names = (cpu?.candidateCoreTypes ?? []).filter { $0.lowercased() != active.core.lowercased() }
        let progress = isatty(STDERR_FILENO) == 1
        for (i, name) in names.enumerated() {
            if progress { FileHandle.standardError.write(Data("\rvst info: probing OPENBLAS_CORETYPE=\(name) (\(i + 1)/\(names.count))".utf8)) }
            let m = try CoreTypeProbe.measure(coreType: name, size: size, repeats: repeats)
            // A build without this core type falls back to another one: keep only what was asked for.
            if m.failure != nil || m.core.lowercased() == name.lowercased() { candidates.append(m) }
        }
        if progress && !names.isEmpty { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        var load = [Double](repeating: 0, count: 3)
        if getloadavg(&load, 1) == 1, load[0] > 0.5 * Double(ProcessInfo.processInfo.activeProcessorCount) {
            FileHandle.standardError.write(Data("vst info: load average \(String(format: "%.1f", load[0])) on \(ProcessInfo.processInfo.activeProcessorCount) cores: other work competes with the timings, so the rates and the advice may be off; rerun on an idle machine\n".utf8))
        }
        let advice = KernelProbe.advise(active: active, candidates: candidates, environment: env)
        if json {
            print(try CoreTypeProbe.reportJSON(cpu: cpu, size: size, active: active, candidates: candidates, advice: advice, environment: env))
            return
        }
        print("\nkernel sets on this CPU (1 thread, n = \(size); self-test: worst error ÷ bound, ≤ 1 passes):")
        print("  core type        self-test      sgemm GFLOP/s   dgemm GFLOP/s")
        for (i, m) in ([active] + candidates).enumerated() {
            let tag = i == 0 ? "*" : " "
            let test = m.failure ?? (m.passed ? String(format: "pass %.2g", m.worstScaledError) : "FAIL \(m.failedChecks.count)")
            print("\(tag) \(m.core.padding(toLength: 16, withPad: " ", startingAt: 0)) \(test.padding(toLength: 14, withPad: " ", startingAt: 0))"
                  + String(format: " %13.1f   %13.1f", m.sgemmGFLOPS, m.dgemmGFLOPS))
        }
        print("  (* active)")
        if let floor = advice.floor {
            print(String(format: "floor: %@ — active sgemm at %.0f %%, dgemm at %.0f %% of it", floor.core,
                         100 * advice.sgemmFraction, 100 * advice.dgemmFraction))
        }
        for line in advice.lines { print("advice: \(line)") }
    }
}
