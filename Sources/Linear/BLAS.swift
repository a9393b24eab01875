import CLinear
import Foundation

/// The BLAS/LAPACK build in use and its thread pool.
///
/// OpenBLAS threading helps large products (n ≳ 256) and is noisy for small ones on few cores, so the thread
/// count is a setting: it starts from `OPENBLAS_NUM_THREADS` (OpenBLAS reads it at load) and can be changed.
public enum BLAS {
    /// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
    public static var configuration: String { String(cString: openblas_get_config()) }
    /// The CPU kernel set OpenBLAS selected at run time, e.g. "Zen" or "SkylakeX".
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// 0: sequential build, 1: pthreads, 2: OpenMP.
    public static var parallelMode: Int { Int(openblas_get_parallel()) }

    /// Threads OpenBLAS uses for one call.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(Swift.max(1, newValue))) }
    }

    /// Runs `body` with the BLAS thread count set to `n`, restoring the previous count afterwards.
    public static func withThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        let old = threads
        threads = n
        defer { threads = old }
        return try body()
    }
}
