import Foundation
@testable import Linear
import Testing
import TestSupport

/// The kernel self-test that decides which OpenBLAS core types count for the machine's floor, the CPU feature
/// reader behind the candidate list, and the advice `vst info` prints.
@Suite("Kernel self-test, CPU features and core-type advice")
struct KernelSelfTestTests {
    @Test("the kernels this process runs pass every check, in float32 and float64")
    func activeKernelsPass() {
        let checks = KernelSelfTest.run(seed: 7)
        #expect(checks.count > 100)
        for name in ["sgemm", "dgemm", "sgemv", "dsyrk", "strsm", "dgesdd", "ssyevd", "dgeqrf", "spotrf", "dgetrf", "sgelsd"] {
            #expect(checks.contains { $0.name.hasPrefix(name) }, "no \(name) check")
        }
        for c in checks { #expect(c.passed, "\(c.name): error \(c.scaledError) × its bound") }
        // Correct kernels stay well inside the bounds, so a wrong one has room to show.
        #expect(checks.map(\.scaledError).max()! < 0.5)
    }

    @Test("a GEMM that is off by one part in 10⁴, ignores β or returns NaN fails its check")
    func wrongKernelsFail() {
        var g = RandomGenerator(seed: 3)
        let exact = KernelSelfTest.gemm(Float.self, 33, 17, 64, false, true, 0.7, -1.3, &g)
        #expect(exact <= 1)
        let slightlyOff: KernelSelfTest.GemmKernel<Float> = { ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
            Float.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha * 1.0001, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        #expect(KernelSelfTest.gemm(Float.self, 33, 17, 64, false, true, 0.7, -1.3, &g, kernel: slightlyOff) > 1)
        let ignoresBeta: KernelSelfTest.GemmKernel<Float> = { ta, tb, m, n, k, alpha, a, lda, b, ldb, _, c, ldc in
            Float.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
        }
        #expect(KernelSelfTest.gemm(Float.self, 7, 16, 5, true, false, 0.7, -1.3, &g, kernel: ignoresBeta) > 1)
        // β = 0 with C starting as NaN: a kernel that scales C by β instead of overwriting it leaves NaN.
        let scalesNaN: KernelSelfTest.GemmKernel<Double> = { ta, tb, m, n, k, alpha, a, lda, b, ldb, _, c, ldc in
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= 0 } }
            Double.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: 1, c: c, ldc: ldc)
        }
        #expect(KernelSelfTest.gemm(Double.self, 7, 16, 5, false, false, 0.7, 0, &g, kernel: scalesNaN) == .infinity)
        #expect(!KernelCheck(name: "x", scaledError: .nan).passed)
    }

    @Test("CPU features from /proc/cpuinfo text: the instruction set and the OpenBLAS core types worth trying")
    func cpuFeatures() {
        let zen4 = CPUFeatures(cpuinfo: """
        processor\t: 0
        vendor_id\t: AuthenticAMD
        model name\t: AMD EPYC
        flags\t\t: fpu sse sse2 pni sse4_1 sse4_2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_bf16

        processor\t: 1
        flags\t\t: fpu sse
        """)
        #expect(zen4.vendor == "AuthenticAMD" && zen4.modelName == "AMD EPYC" && zen4.vectorISA == "AVX-512")
        let haswell = CPUFeatures(cpuinfo: "vendor_id : GenuineIntel\nflags : sse sse2 pni sse4_2 avx avx2 fma\n")
        #expect(haswell.vectorISA == "AVX2 + FMA" && !haswell.hasAVX512)
        let old = CPUFeatures(cpuinfo: "flags : sse sse2 pni\n")
        #expect(old.vectorISA == "SSE3")
        #if arch(x86_64)
        #expect(zen4.candidateCoreTypes == ["Cooperlake", "SkylakeX", "Haswell", "Zen", "Sandybridge", "Nehalem", "Prescott"])
        #expect(haswell.candidateCoreTypes == ["Haswell", "Zen", "Sandybridge", "Nehalem", "Prescott"])
        #expect(old.candidateCoreTypes == ["Prescott"])
        #endif
    }

    static func measured(_ core: String, _ s: Double, _ d: Double, passed: Bool = true, requested: String? = nil) -> KernelMeasurement {
        KernelMeasurement(requested: requested ?? core, core: core, failedChecks: passed ? [] : ["sgemm NN 1×1×1 lda+3"],
                          worstScaledError: passed ? 0.01 : 5, sgemmGFLOPS: s, dgemmGFLOPS: d)
    }

    @Test("advice: a guard variable that halves the rate is named with the value to set; a faster set that fails is never advised")
    func advice() {
        let haswell = Self.measured("Haswell", 104, 50)
        let skx = Self.measured("SkylakeX", 200, 83)
        let broken = Self.measured("Cooperlake", 260, 90, passed: false)
        let held = KernelProbe.advise(active: haswell, candidates: [broken, skx], environment: ["OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "1048576"])
        #expect(held.floor?.core == "SkylakeX")
        #expect(abs(held.sgemmFraction - 0.52) < 1e-12 && abs(held.dgemmFraction - 50.0 / 83) < 1e-12)
        #expect(held.lines.contains { $0.contains("OPENBLAS_CORETYPE=Haswell holds sgemm at 52 %") })
        #expect(held.lines.contains { $0.contains("export OPENBLAS_CORETYPE=SkylakeX") })
        #expect(held.lines.contains { $0.contains("OPENBLAS_L2_SIZE=1048576") })
        #expect(!held.lines.contains { $0.contains("Cooperlake") })

        let fallback = KernelProbe.advise(active: Self.measured("Prescott", 40, 20, requested: nil), candidates: [skx], environment: [:])
        #expect(fallback.lines.contains { $0.contains("OpenBLAS's own choice for this CPU (Prescott)") })

        let best = KernelProbe.advise(active: skx, candidates: [haswell, Self.measured("Zen", 190, 80)], environment: [:])
        #expect(best.floor?.core == "SkylakeX" && best.sgemmFraction == 1)
        #expect(best.lines == ["the active kernels (SkylakeX) are the fastest that pass the self-test: nothing to set"])

        let wrong = KernelProbe.advise(active: Self.measured("SkylakeX", 200, 83, passed: false), candidates: [haswell], environment: [:])
        #expect(wrong.lines.first?.contains("FAIL the self-test") == true)
        #expect(wrong.lines.contains { $0.contains("export OPENBLAS_CORETYPE=Haswell") })
    }
}
