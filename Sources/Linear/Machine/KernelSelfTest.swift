import CLinear
import Foundation

/// One check of ``KernelSelfTest``: the worst error it saw in units of its rounding-error bound.
public struct KernelCheck: Sendable, Codable, Equatable {
    /// What was checked, e.g. `"sgemm NT 129×65×257 lda+3"` or `"dsyevd 96"`.
    public var name: String
    /// The largest error over the check's cases divided by its bound: ≤ 1 passes; NaN or ∞ fails.
    public var scaledError: Double

    public init(name: String, scaledError: Double) {
        self.name = name
        self.scaledError = scaledError
    }

    public var passed: Bool { scaledError.isFinite && scaledError <= 1 }
}

/// A correctness sweep of the BLAS and LAPACK kernels that OpenBLAS selected for this CPU (its "core type"), against
/// a float64 reference computed by plain loops.
///
/// OpenBLAS picks its kernels at load time from the CPU model, or from `OPENBLAS_CORETYPE`. A kernel set that is
/// wrong on a CPU (an old build on a new AVX-512 part, say) gives wrong products, not crashes, so a faster core type
/// is only usable if it passes this sweep. The sweep covers what Substrate calls:
/// - `gemm` over all four transpose pairs, shapes from 1 to 300 with odd and prime sizes, padded leading dimensions,
///   α ≠ 1 and β ∈ {0, ≠ 0} (with β = 0, C starts as NaN: BLAS must overwrite it, not scale it);
/// - `gemv` both ways with strided x and y; `syrk` both ways; `trsm` over sides, triangles and transposes;
/// - LAPACK: SVD (`gesdd`), symmetric eigen (`syevd`), QR (`geqrf` + `orgqr`), Cholesky (`potrf`), LU solve
///   (`getrf` + `getrs`) and least squares (`gelsd`), through the ``Tensor`` API that calls them.
///
/// Bounds are the standard forward-error bounds (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
/// §3.5 and ch. 19–20) with a constant of 4: a product entry may differ from the exact one by at most
/// 4·k·u·(|α|·(|A||B|)ᵢⱼ + |β|·|C|ᵢⱼ) with u the unit roundoff; a factorisation's residual by at most
/// 4·n·u·‖A‖ (30·n·u for the iterative eigen and singular value solvers). A correct kernel stays orders of magnitude
/// inside them; a wrong one is off by O(1).
public enum KernelSelfTest {
    /// Runs every check in float32 and float64 on data from `seed`. Takes about a tenth of a second.
    public static func run(seed: UInt64 = 1) -> [KernelCheck] {
        var g = RandomGenerator(seed: seed)
        return blasChecks(Float.self, "s", &g) + blasChecks(Double.self, "d", &g)
            + lapackChecks(Float.self, "s", &g) + lapackChecks(Double.self, "d", &g)
    }

    // MARK: BLAS

    static let gemmShapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (1, 257, 33), (257, 1, 33), (7, 16, 5), (33, 33, 33), (64, 128, 96), (129, 65, 257), (300, 17, 64),
    ]

    static func blasChecks<S: BLASScalar>(_: S.Type, _ p: String, _ g: inout RandomGenerator) -> [KernelCheck] {
        var checks: [KernelCheck] = []
        for (m, n, k) in gemmShapes {
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                var worst = 0.0
                for beta in [0.0, -1.3] { worst = Swift.max(worst, gemm(S.self, m, n, k, ta, tb, 0.7, beta, &g)) }
                checks.append(KernelCheck(name: "\(p)gemm \(ta ? "T" : "N")\(tb ? "T" : "N") \(m)×\(n)×\(k) lda+3", scaledError: worst))
            }
        }
        for (m, n) in [(1, 1), (7, 300), (300, 7), (257, 129)] {
            for trans in [false, true] {
                checks.append(KernelCheck(name: "\(p)gemv \(trans ? "T" : "N") \(m)×\(n) incx 3 incy 2",
                                          scaledError: gemv(S.self, m, n, trans, &g)))
            }
        }
        for (n, k) in [(1, 5), (33, 17), (129, 257)] {
            for trans in [false, true] {
                checks.append(KernelCheck(name: "\(p)syrk \(trans ? "T" : "N") \(n)×\(k)", scaledError: syrk(S.self, n, k, trans, &g)))
            }
        }
        for (m, n) in [(7, 5), (65, 33), (130, 257)] {
            var worst = 0.0
            for left in [true, false] { for upper in [true, false] { for trans in [false, true] {
                worst = Swift.max(worst, trsm(S.self, m, n, left: left, upper: upper, trans: trans, &g))
            } } }
            checks.append(KernelCheck(name: "\(p)trsm L/R U/L N/T \(m)×\(n)", scaledError: worst))
        }
        return checks
    }

    /// Unit roundoff u = ε/2 of `S`.
    static func unitRoundoff<S: BLASScalar>(_: S.Type) -> Double { Double(S.epsilon) / 2 }

    static func random<S: BLASScalar>(_ count: Int, _ g: inout RandomGenerator) -> [S] {
        (0..<count).map { _ in S(g.nextNormal()) }
    }

    /// A row-major GEMM with `BLASScalar.gemm`'s signature (the kernel under test).
    typealias GemmKernel<S> = (_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: S,
                               _ a: UnsafePointer<S>, _ lda: Int, _ b: UnsafePointer<S>, _ ldb: Int,
                               _ beta: S, _ c: UnsafeMutablePointer<S>, _ ldc: Int) -> Void

    /// C ← α·op(A)·op(B) + β·C, row-major with every leading dimension padded by 3; returns the worst scaled error.
    static func gemm<S: BLASScalar>(_: S.Type, _ m: Int, _ n: Int, _ k: Int, _ ta: Bool, _ tb: Bool,
                                    _ alpha: Double, _ beta: Double, _ g: inout RandomGenerator,
                                    kernel: GemmKernel<S> = { S.gemm(transA: $0, transB: $1, m: $2, n: $3, k: $4, alpha: $5, a: $6, lda: $7, b: $8, ldb: $9, beta: $10, c: $11, ldc: $12) }) -> Double {
        let (ar, ac) = ta ? (k, m) : (m, k), (br, bc) = tb ? (n, k) : (k, n)
        let lda = ac + 3, ldb = bc + 3, ldc = n + 3
        let a: [S] = random(ar * lda, &g), b: [S] = random(br * ldb, &g)
        var c: [S] = beta == 0 ? Array(repeating: S.nan, count: m * ldc) : random(m * ldc, &g)
        let c0 = c
        c.withUnsafeMutableBufferPointer { cp in
            kernel(ta, tb, m, n, k, S(alpha), a, lda, b, ldb, S(beta), cp.baseAddress!, ldc)
        }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.0, magnitude = 0.0
                for l in 0..<k {
                    let x = Double(ta ? a[l * lda + i] : a[i * lda + l]), y = Double(tb ? b[j * ldb + l] : b[l * ldb + j])
                    exact += x * y
                    magnitude += abs(x * y)
                }
                let cij = beta == 0 ? 0 : Double(c0[i * ldc + j])
                exact = alpha * exact + beta * cij
                let bound = 4 * Double(k + 2) * unitRoundoff(S.self) * (abs(alpha) * magnitude + abs(beta * cij)) + Double.leastNormalMagnitude
                worst = Swift.max(worst, scaled(Double(c[i * ldc + j]) - exact, bound))
            }
        }
        return worst
    }

    /// y ← α·op(A)·x + β·y with x of stride 3 and y of stride 2.
    static func gemv<S: BLASScalar>(_: S.Type, _ m: Int, _ n: Int, _ trans: Bool, _ g: inout RandomGenerator) -> Double {
        let lda = n + 3, (xn, yn) = trans ? (m, n) : (n, m), alpha = 0.7, beta = -1.3
        let a: [S] = random(m * lda, &g), x: [S] = random(xn * 3, &g)
        var y: [S] = random(yn * 2, &g)
        let y0 = y
        y.withUnsafeMutableBufferPointer { yp in
            S.gemv(trans: trans, m: m, n: n, alpha: S(alpha), a: a, lda: lda, x: x, incx: 3, beta: S(beta), y: yp.baseAddress!, incy: 2)
        }
        var worst = 0.0
        for i in 0..<yn {
            var exact = 0.0, magnitude = 0.0
            for l in 0..<xn {
                let aij = Double(trans ? a[l * lda + i] : a[i * lda + l]), xl = Double(x[l * 3])
                exact += aij * xl
                magnitude += abs(aij * xl)
            }
            let y0i = Double(y0[i * 2])
            exact = alpha * exact + beta * y0i
            let bound = 4 * Double(xn + 2) * unitRoundoff(S.self) * (alpha * magnitude + abs(beta * y0i))
            worst = Swift.max(worst, scaled(Double(y[i * 2]) - exact, bound))
        }
        return worst
    }

    /// Upper triangle of C ← op(A)·op(A)ᵀ (A is n×k, or k×n with `trans`).
    static func syrk<S: BLASScalar>(_: S.Type, _ n: Int, _ k: Int, _ trans: Bool, _ g: inout RandomGenerator) -> Double {
        let (rows, cols) = trans ? (k, n) : (n, k), lda = cols + 3, ldc = n + 1
        let a: [S] = random(rows * lda, &g)
        var c = [S](repeating: .nan, count: n * ldc)
        c.withUnsafeMutableBufferPointer { cp in
            S.syrk(trans: trans, n: n, k: k, alpha: 1, a: a, lda: lda, beta: 0, c: cp.baseAddress!, ldc: ldc)
        }
        func at(_ i: Int, _ l: Int) -> Double { Double(trans ? a[l * lda + i] : a[i * lda + l]) }
        var worst = 0.0
        for i in 0..<n {
            for j in i..<n {
                var exact = 0.0, magnitude = 0.0
                for l in 0..<k { exact += at(i, l) * at(j, l); magnitude += abs(at(i, l) * at(j, l)) }
                worst = Swift.max(worst, scaled(Double(c[i * ldc + j]) - exact, 4 * Double(k + 2) * unitRoundoff(S.self) * magnitude))
            }
        }
        return worst
    }

    /// Solves op(T)·X = α·B (left) or X·op(T) = α·B (right) for a well-conditioned triangular T and bounds the
    /// residual ‖op(T)·X − α·B‖∞ by 4·n·u·‖T‖∞·‖X‖∞ (backward stability of substitution, Higham Thm 8.5).
    static func trsm<S: BLASScalar>(_: S.Type, _ m: Int, _ n: Int, left: Bool, upper: Bool, trans: Bool,
                                    _ g: inout RandomGenerator) -> Double {
        let t = left ? m : n, ldt = t + 2, ldb = n + 1, alpha = 0.7
        var tri = [S](repeating: .nan, count: t * ldt)  // the unused triangle is NaN: it must not be read
        for i in 0..<t {
            for j in 0..<t where upper ? j >= i : j <= i {
                tri[i * ldt + j] = i == j ? S(2 + abs(g.nextNormal())) : S(g.nextNormal() / Double(t))
            }
        }
        let b: [S] = random(m * ldb, &g)
        var x = b
        let trsmCall: (UnsafeMutablePointer<S>) -> Void = { xp in
            tri.withUnsafeBufferPointer { tp in
                if S.self == Float.self {
                    cblas_strsm(CblasRowMajor, left ? CblasLeft : CblasRight, upper ? CblasUpper : CblasLower,
                                trans ? CblasTrans : CblasNoTrans, CblasNonUnit, Int32(m), Int32(n), Float(alpha),
                                UnsafeRawPointer(tp.baseAddress!).assumingMemoryBound(to: Float.self), Int32(ldt),
                                UnsafeMutableRawPointer(xp).assumingMemoryBound(to: Float.self), Int32(ldb))
                } else {
                    cblas_dtrsm(CblasRowMajor, left ? CblasLeft : CblasRight, upper ? CblasUpper : CblasLower,
                                trans ? CblasTrans : CblasNoTrans, CblasNonUnit, Int32(m), Int32(n), alpha,
                                UnsafeRawPointer(tp.baseAddress!).assumingMemoryBound(to: Double.self), Int32(ldt),
                                UnsafeMutableRawPointer(xp).assumingMemoryBound(to: Double.self), Int32(ldb))
                }
            }
        }
        x.withUnsafeMutableBufferPointer { trsmCall($0.baseAddress!) }
        func tOp(_ i: Int, _ j: Int) -> Double {  // op(T)ᵢⱼ with the unused triangle read as 0
            let (r, c) = trans ? (j, i) : (i, j)
            return (upper ? c >= r : c <= r) ? Double(tri[r * ldt + c]) : 0
        }
        var residual = 0.0, normT = 0.0, normX = 0.0
        for i in 0..<t { normT = Swift.max(normT, (0..<t).reduce(0) { $0 + abs(tOp(i, $1)) }) }
        for i in 0..<m { normX = Swift.max(normX, (0..<n).reduce(0) { $0 + abs(Double(x[i * ldb + $1])) }) }
        for i in 0..<m {
            for j in 0..<n {
                var r = -alpha * Double(b[i * ldb + j])
                if left { for l in 0..<m { r += tOp(i, l) * Double(x[l * ldb + j]) } }
                else { for l in 0..<n { r += Double(x[i * ldb + l]) * tOp(l, j) } }
                residual = Swift.max(residual, abs(r))
            }
        }
        return scaled(residual, 4 * Double(t) * unitRoundoff(S.self) * normT * normX)
    }

    static func scaled(_ error: Double, _ bound: Double) -> Double {
        guard error.isFinite else { return .infinity }
        return error == 0 ? 0 : abs(error) / bound
    }
}
