import ArgumentParser
import Foundation
import Linear

/// `vst info`: which BLAS/LAPACK is linked, its threads, and a measured sgemm rate.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the BLAS/LAPACK build in use, its thread count, and a 1024×1024 sgemm timing.")

    @Option(help: "OpenBLAS threads for the timing (default: the current setting, from OPENBLAS_NUM_THREADS).")
    var threads: Int?

    @Option(help: "Matrix size n for the n×n·n×n sgemm timing.")
    var size: Int = 1024

    @Option(help: "Timed repetitions (the median is reported).")
    var repeats: Int = 5

    func validate() throws {
        guard size > 0 else { throw ValidationError("--size must be positive, got \(size)") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
    }

    func run() throws {
        if let t = threads { BLAS.threads = t }
        print("BLAS/LAPACK : \(BLAS.configuration)")
        print("core        : \(BLAS.coreName)")
        print("parallel    : \(["sequential", "pthreads", "OpenMP"][min(max(BLAS.parallelMode, 0), 2)])")
        print("BLAS threads: \(BLAS.threads) (OPENBLAS_NUM_THREADS=\(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "unset"))")
        print("Linear threads (element-wise kernels): \(Parallel.threads)")
        let a = Tensor<Float>.normal([size, size], seed: 1)
        let b = Tensor<Float>.normal([size, size], seed: 2)
        _ = try matmul(a, b)  // warm-up: thread pool start, page faults
        var times: [Double] = []
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let c = try matmul(a, b)
            let t1 = DispatchTime.now().uptimeNanoseconds
            precondition(c.count == size * size)
            times.append(Double(t1 - t0) / 1e9)
        }
        times.sort()
        let median = times[times.count / 2]
        let gflops = 2.0 * pow(Double(size), 3) / median / 1e9
        print(String(format: "sgemm %d×%d: median %.2f ms over %d runs (min %.2f ms) = %.1f GFLOP/s",
                     size, size, median * 1e3, repeats, times[0] * 1e3, gflops))
    }
}
