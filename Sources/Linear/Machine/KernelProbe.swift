import Foundation

/// One OpenBLAS kernel set measured on this machine: does it pass ``KernelSelfTest``, and how fast is its GEMM on
/// one thread.
public struct KernelMeasurement: Sendable, Codable, Equatable {
    /// The `OPENBLAS_CORETYPE` the measuring process ran with; nil when it ran with the environment as found.
    public var requested: String?
    /// The core type OpenBLAS actually selected (``BLAS/coreName``).
    public var core: String
    /// Names of the self-test checks that failed (empty: passed).
    public var failedChecks: [String]
    /// The largest ``KernelCheck/scaledError`` over the self-test (≤ 1 passes).
    public var worstScaledError: Double
    /// n×n·n×n products on one thread, GFLOP/s (2n³ / median time).
    public var sgemmGFLOPS: Double
    public var dgemmGFLOPS: Double
    /// Set when the measuring process did not finish (e.g. "killed by signal 4": an instruction this CPU lacks).
    public var failure: String?

    public init(requested: String?, core: String, failedChecks: [String], worstScaledError: Double,
                sgemmGFLOPS: Double, dgemmGFLOPS: Double, failure: String? = nil) {
        self.requested = requested
        self.core = core
        self.failedChecks = failedChecks
        self.worstScaledError = worstScaledError
        self.sgemmGFLOPS = sgemmGFLOPS
        self.dgemmGFLOPS = dgemmGFLOPS
        self.failure = failure
    }

    /// A measurement of a process that never reported.
    public static func failed(requested: String?, reason: String) -> KernelMeasurement {
        KernelMeasurement(requested: requested, core: "?", failedChecks: [], worstScaledError: .nan,
                          sgemmGFLOPS: 0, dgemmGFLOPS: 0, failure: reason)
    }

    /// Usable: finished and passed the self-test.
    public var passed: Bool { failure == nil && failedChecks.isEmpty && worstScaledError <= 1 }
}

/// What the active kernels reach against the best kernels this CPU runs correctly, and what to set.
public struct KernelAdvice: Sendable, Equatable {
    /// The fastest measurement (by sgemm) that passed the self-test: the machine's floor for "% of floor".
    public var floor: KernelMeasurement?
    /// Active rate ÷ floor rate (1 when the active kernels are the floor).
    public var sgemmFraction: Double
    public var dgemmFraction: Double
    /// Sentences for a person: what holds the rate back and the variable to set, or that nothing needs setting.
    public var lines: [String]
}

/// Measures the kernel set OpenBLAS selected in this process, and judges it against other core types' measurements.
public enum KernelProbe {
    /// Runs the self-test and times sgemm and dgemm (n×n, median of `repeats` after a warm-up) on one BLAS thread.
    public static func measureActive(size: Int = 1024, repeats: Int = 5, requested: String? = nil) -> KernelMeasurement {
        let checks = KernelSelfTest.run()
        let worst = checks.map(\.scaledError).reduce(0) { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
        return BLAS.withThreads(1) {
            KernelMeasurement(requested: requested, core: BLAS.coreName, failedChecks: checks.filter { !$0.passed }.map(\.name),
                              worstScaledError: worst,
                              sgemmGFLOPS: gemmRate(Float.self, size: size, repeats: repeats).gflops,
                              dgemmGFLOPS: gemmRate(Double.self, size: size, repeats: repeats).gflops)
        }
    }

    /// Median and fastest seconds of an n×n·n×n `matmul`, and the median's GFLOP/s, with the current thread count.
    public static func gemmRate<S: BLASScalar>(_: S.Type, size n: Int, repeats: Int) -> (median: Double, min: Double, gflops: Double) {
        let a = Tensor<S>.normal([n, n], seed: 1), b = Tensor<S>.normal([n, n], seed: 2)
        _ = try? matmul(a, b)  // warm-up: thread pool start, page faults
        var times: [Double] = []
        for _ in 0..<Swift.max(1, repeats) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let c = try? matmul(a, b)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            precondition(c?.count == n * n, "matmul failed in the GEMM timing")
        }
        times.sort()
        let median = times[times.count / 2]
        return (median, times[0], 2 * pow(Double(n), 3) / median / 1e9)
    }

    /// Compares the active kernels with the other measured core types. Rates within `tolerance` (10 %) of the floor
    /// count as the floor; the advice names `OPENBLAS_CORETYPE` when it is set and holds the rate back, or when
    /// OpenBLAS's own choice is slower than a kernel set that passes the self-test.
    public static func advise(active: KernelMeasurement, candidates: [KernelMeasurement],
                              environment: [String: String], tolerance: Double = 0.1) -> KernelAdvice {
        let usable = ([active] + candidates).filter(\.passed)
        let floor = usable.max { $0.sgemmGFLOPS < $1.sgemmGFLOPS }
        let sFloor = floor?.sgemmGFLOPS ?? 0, dFloor = usable.map(\.dgemmGFLOPS).max() ?? 0
        let sFraction = sFloor > 0 ? active.sgemmGFLOPS / sFloor : 1, dFraction = dFloor > 0 ? active.dgemmGFLOPS / dFloor : 1
        var lines: [String] = []
        let set = environment["OPENBLAS_CORETYPE"]
        func percent(_ x: Double) -> String { String(format: "%.0f %%", 100 * x) }
        if !active.passed {
            lines.append("the active kernels (\(active.core)) FAIL the self-test (\(active.failedChecks.prefix(3).joined(separator: ", "))): results may be wrong")
            if let floor { lines.append("to use kernels that pass: export OPENBLAS_CORETYPE=\(floor.core)") }
        } else if let floor, floor.core.lowercased() != active.core.lowercased(), sFraction < 1 - tolerance {
            let why = set.map { "OPENBLAS_CORETYPE=\($0) holds" } ?? "OpenBLAS's own choice for this CPU (\(active.core)) holds"
            lines.append("\(why) sgemm at \(percent(sFraction)) and dgemm at \(percent(dFraction)) of the fastest kernels that pass the self-test (\(floor.core))")
            lines.append("to use them: export OPENBLAS_CORETYPE=\(floor.core)"
                         + (set != nil ? " (or unset it if OpenBLAS picks \(floor.core) by itself)" : ""))
        } else {
            lines.append("the active kernels (\(active.core)) are the fastest that pass the self-test: nothing to set")
        }
        if floor == nil { lines.append("no kernel set passed the self-test") }
        if let l2 = environment["OPENBLAS_L2_SIZE"] { lines.append("OPENBLAS_L2_SIZE=\(l2) is set (cache blocking); the measurements above ran with it") }
        return KernelAdvice(floor: floor, sgemmFraction: sFraction, dgemmFraction: dFraction, lines: lines)
    }
}
