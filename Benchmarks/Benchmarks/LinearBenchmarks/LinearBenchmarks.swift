// Linear benchmarks (package-benchmark). Run from Benchmarks/:
//     swift package --allow-writing-to-package-directory benchmark
//     swift package --allow-writing-to-package-directory benchmark --filter 'matmul.*float32'
//
// BLAS threads follow OPENBLAS_NUM_THREADS (OpenBLAS reads it at load). The side-by-side comparison with numpy,
// as ratios measured in one run, is `python3 Benchmarks/compare/compare.py` from the repository root; it drives
// `vst bench-linear`, which runs the same workloads as this file.

import Benchmark
import Linear

/// Matrix sizes for the products and factorizations.
let largeSizes = [64, 128, 256, 512, 1024]
/// Sizes where per-call overhead dominates.
let smallSizes = [4, 8, 16, 32]
/// Element count for the element-wise workloads (1M).
let elementCount = 1_000_000

/// Wall clock and CPU time plus allocation counts (the Tensor wrapper's overhead shows up there).
let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .throughput]

/// A configuration whose duration budget suits the cost of one call.
func configuration(seconds: Int = 1, scaling: BenchmarkScalingFactor = .one, iterations: Int = 10_000) -> Benchmark.Configuration {
    .init(metrics: metrics, timeUnits: .automatic, warmupIterations: 3, scalingFactor: scaling,
          maxDuration: .seconds(seconds), maxIterations: iterations)
}

/// A symmetric n×n matrix (A + Aᵀ of a normal A), for eigh.
func symmetric<S: BLASScalar>(_ n: Int, seed: UInt64) -> Tensor<S> {
    let a = Tensor<S>.normal([n, n], seed: seed)
    return try! a + a.transposed()
}

/// Tensor `matmul` and the same product as one direct `gemm` (the protocol requirement that calls
/// cblas_sgemm/cblas_dgemm) on the same input buffers, writing into a preallocated output.
func registerProducts<S: BLASScalar>(_: S.Type) {
    let dtype = S.dtypeName
    for n in smallSizes + largeSizes {
        let small = n <= 32
        let config = small ? configuration(scaling: .kilo) : configuration(iterations: n >= 512 ? 200 : 2_000)
        let a = Tensor<S>.normal([n, n], seed: 1)
        let b = Tensor<S>.normal([n, n], seed: 2)

        Benchmark("matmul Tensor \(dtype) n=\(n)", configuration: config) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try matmul(a, b))
            }
        }

        Benchmark("matmul gemm-direct \(dtype) n=\(n)", configuration: config) { benchmark in
            let c = UnsafeMutablePointer<S>.allocate(capacity: n * n)
            c.initialize(repeating: 0, count: n * n)
            defer { c.deallocate() }
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    benchmark.startMeasurement()
                    for _ in benchmark.scaledIterations {
                        S.gemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: pa.baseAddress!, lda: n,
                               b: pb.baseAddress!, ldb: n, beta: 0, c: c, ldc: n)
                        blackHole(c)
                    }
                    benchmark.stopMeasurement()
                }
            }
            blackHole(c[0])
        }
    }
}

/// exp, silu and add over 1M elements (each call allocates its result, as numpy's `np.exp(x)` does).
func registerElementwise<S: BLASScalar>(_: S.Type) {
    let dtype = S.dtypeName
    let x = Tensor<S>.normal([elementCount], seed: 3)
    let y = Tensor<S>.normal([elementCount], seed: 4)
    let config = configuration(iterations: 2_000)
    Benchmark("exp \(dtype) n=\(elementCount)", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(x.exp()) }
    }
    Benchmark("silu \(dtype) n=\(elementCount)", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(x.silu()) }
    }
    Benchmark("add \(dtype) n=\(elementCount)", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try x + y) }
    }
}

/// Thin SVD of n×n and 4n×n matrices, and the symmetric eigendecomposition of n×n.
func registerFactorizations<S: BLASScalar>(_: S.Type) {
    let dtype = S.dtypeName
    for n in largeSizes {
        let config = configuration(seconds: n >= 512 ? 3 : 1, iterations: n >= 512 ? 20 : 500)
        let square = Tensor<S>.normal([n, n], seed: 5)
        let tall = Tensor<S>.normal([4 * n, n], seed: 6)
        let sym: Tensor<S> = symmetric(n, seed: 7)
        Benchmark("svd \(dtype) \(n)x\(n)", configuration: config) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try square.svd()) }
        }
        Benchmark("svd \(dtype) \(4 * n)x\(n)", configuration: config) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try tall.svd()) }
        }
        Benchmark("eigh \(dtype) \(n)x\(n)", configuration: config) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try sym.eigh()) }
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    registerProducts(Float.self)
    registerProducts(Double.self)
    registerElementwise(Float.self)
    registerElementwise(Double.self)
    registerFactorizations(Float.self)
    registerFactorizations(Double.self)
}
