import CLinear
import Foundation
import RealModule

/// Runs one LAPACK call while holding a process-wide lock. Concurrent LAPACK calls from several threads gave wrong
/// results intermittently on Debian's OpenBLAS 0.3.21 (Float `syevr` returning non-eigenpairs, `syevd` failing to
/// converge on 20×20 and 40×40 matrices, only under the parallel test runner), so LAPACK runs one call at a time;
/// each call still uses OpenBLAS's own threads. BLAS products are not serialised.
@usableFromInline let _lapackLock = NSLock()

@inlinable @inline(__always)
func _lapackSerial<R>(_ body: () -> R) -> R {
    _lapackLock.lock()
    defer { _lapackLock.unlock() }
    return body()
}

/// LAPACK's integer type: `lapack_int` is a C macro (`int32_t` in the LP64 build Debian ships), so Swift sees `Int32`.
public typealias LapackInt = Int32

/// The scalar types a `Tensor` can hold: `Float` and `Double`.
///
/// Every requirement dispatches to the single- or double-precision routine of CBLAS or LAPACKE, so generic
/// code written once over `Scalar: BLASScalar` runs `sgemm` for `Float` and `dgemm` for `Double`.
/// The BLAS wrappers take **row-major** operands (the CBLAS `CblasRowMajor` layout); the LAPACK wrappers take
/// **column-major** operands (callers transpose the problem instead of using LAPACKE's slower row-major entry
/// points, which copy internally).
public protocol BLASScalar: VectorMathScalar, Real, SIMDScalar, Sendable, Codable
where Self.Magnitude == Self {
    /// numpy's dtype name: `"float32"` or `"float64"`.
    static var dtypeName: String { get }
    /// Size of one element in bytes.
    static var byteCount: Int { get }
    /// Machine epsilon, as a convenience for tolerances.
    static var epsilon: Self { get }

    // MARK: BLAS (row-major)
    /// C ← α·op(A)·op(B) + β·C with op(X) = X or Xᵀ; A is m×k after op, B is k×n after op, C is m×n.
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// y ← α·op(A)·x + β·y with A stored m×n.
    static func gemv(trans: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
                     x: UnsafePointer<Self>, incx: Int, beta: Self, y: UnsafeMutablePointer<Self>, incy: Int)
    /// xᵀy.
    static func dot(n: Int, x: UnsafePointer<Self>, incx: Int, y: UnsafePointer<Self>, incy: Int) -> Self
    /// y ← α·x + y.
    static func axpy(n: Int, alpha: Self, x: UnsafePointer<Self>, incx: Int, y: UnsafeMutablePointer<Self>, incy: Int)
    /// x ← α·x.
    static func scal(n: Int, alpha: Self, x: UnsafeMutablePointer<Self>, incx: Int)
    /// ‖x‖₂ without overflow.
    static func nrm2(n: Int, x: UnsafePointer<Self>, incx: Int) -> Self
    /// A ← α·x·yᵀ + A with A stored m×n.
    static func ger(m: Int, n: Int, alpha: Self, x: UnsafePointer<Self>, incx: Int,
                    y: UnsafePointer<Self>, incy: Int, a: UnsafeMutablePointer<Self>, lda: Int)
    /// Upper triangle of C (n×n) ← α·op(A)·op(A)ᵀ + β·C; with `trans` A is k×n and the product is AᵀA.
    static func syrk(trans: Bool, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    // MARK: LAPACK (column-major; the return value is LAPACK's `info`)
    static func gesdd(jobz: CChar, m: Int, n: Int, a: UnsafeMutablePointer<Self>, lda: Int,
                      s: UnsafeMutablePointer<Self>, u: UnsafeMutablePointer<Self>?, ldu: Int,
                      vt: UnsafeMutablePointer<Self>?, ldvt: Int) -> LapackInt
    static func gesvd(jobu: CChar, jobvt: CChar, m: Int, n: Int, a: UnsafeMutablePointer<Self>, lda: Int,
                      s: UnsafeMutablePointer<Self>, u: UnsafeMutablePointer<Self>?, ldu: Int,
                      vt: UnsafeMutablePointer<Self>?, ldvt: Int, superb: UnsafeMutablePointer<Self>) -> LapackInt
    static func syevd(jobz: CChar, uplo: CChar, n: Int, a: UnsafeMutablePointer<Self>, lda: Int,
                      w: UnsafeMutablePointer<Self>) -> LapackInt
    static func syevr(jobz: CChar, range: CChar, uplo: CChar, n: Int, a: UnsafeMutablePointer<Self>, lda: Int,
                      vl: Self, vu: Self, il: Int, iu: Int, abstol: Self, m: UnsafeMutablePointer<LapackInt>,
                      w: UnsafeMutablePointer<Self>, z: UnsafeMutablePointer<Self>?, ldz: Int,
                      isuppz: UnsafeMutablePointer<LapackInt>?) -> LapackInt
    static func geqrf(m: Int, n: Int, a: UnsafeMutablePointer<Self>, lda: Int, tau: UnsafeMutablePointer<Self>) -> LapackInt
    static func orgqr(m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Self>, lda: Int, tau: UnsafePointer<Self>) -> LapackInt
    static func potrf(uplo: CChar, n: Int, a: UnsafeMutablePointer<Self>, lda: Int) -> LapackInt
    static func potrs(uplo: CChar, n: Int, nrhs: Int, a: UnsafePointer<Self>, lda: Int,
                      b: UnsafeMutablePointer<Self>, ldb: Int) -> LapackInt
    static func getrf(m: Int, n: Int, a: UnsafeMutablePointer<Self>, lda: Int, ipiv: UnsafeMutablePointer<LapackInt>) -> LapackInt
    static func getrs(trans: CChar, n: Int, nrhs: Int, a: UnsafePointer<Self>, lda: Int,
                      ipiv: UnsafePointer<LapackInt>, b: UnsafeMutablePointer<Self>, ldb: Int) -> LapackInt
    static func getri(n: Int, a: UnsafeMutablePointer<Self>, lda: Int, ipiv: UnsafePointer<LapackInt>) -> LapackInt
    static func gelsd(m: Int, n: Int, nrhs: Int, a: UnsafeMutablePointer<Self>, lda: Int,
                      b: UnsafeMutablePointer<Self>, ldb: Int, s: UnsafeMutablePointer<Self>, rcond: Self,
                      rank: UnsafeMutablePointer<LapackInt>) -> LapackInt
}

@usableFromInline let _colMajor: Int32 = 102  // LAPACK_COL_MAJOR

@inlinable @inline(__always)
func _cblasTrans(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: BLASScalar {
    public static var dtypeName: String { "float32" }
    public static var byteCount: Int { 4 }
    public static var epsilon: Float { Float.ulpOfOne }

    @inlinable public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                       a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                       beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, _cblasTrans(transA), _cblasTrans(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inlinable public static func gemv(trans: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                       x: UnsafePointer<Float>, incx: Int, beta: Float, y: UnsafeMutablePointer<Float>, incy: Int) {
        cblas_sgemv(CblasRowMajor, _cblasTrans(trans), Int32(m), Int32(n), alpha, a, Int32(lda), x, Int32(incx), beta, y, Int32(incy))
    }
    @inlinable public static func dot(n: Int, x: UnsafePointer<Float>, incx: Int, y: UnsafePointer<Float>, incy: Int) -> Float {
        cblas_sdot(Int32(n), x, Int32(incx), y, Int32(incy))
    }
    @inlinable public static func axpy(n: Int, alpha: Float, x: UnsafePointer<Float>, incx: Int, y: UnsafeMutablePointer<Float>, incy: Int) {
        cblas_saxpy(Int32(n), alpha, x, Int32(incx), y, Int32(incy))
    }
    @inlinable public static func scal(n: Int, alpha: Float, x: UnsafeMutablePointer<Float>, incx: Int) {
        cblas_sscal(Int32(n), alpha, x, Int32(incx))
    }
    @inlinable public static func nrm2(n: Int, x: UnsafePointer<Float>, incx: Int) -> Float {
        cblas_snrm2(Int32(n), x, Int32(incx))
    }
    @inlinable public static func ger(m: Int, n: Int, alpha: Float, x: UnsafePointer<Float>, incx: Int,
                                      y: UnsafePointer<Float>, incy: Int, a: UnsafeMutablePointer<Float>, lda: Int) {
        cblas_sger(CblasRowMajor, Int32(m), Int32(n), alpha, x, Int32(incx), y, Int32(incy), a, Int32(lda))
    }
    @inlinable public static func syrk(trans: Bool, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                       beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_ssyrk(CblasRowMajor, CblasUpper, _cblasTrans(trans), Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
    }

    public static func gesdd(jobz: CChar, m: Int, n: Int, a: UnsafeMutablePointer<Float>, lda: Int,
                             s: UnsafeMutablePointer<Float>, u: UnsafeMutablePointer<Float>?, ldu: Int,
                             vt: UnsafeMutablePointer<Float>?, ldvt: Int) -> LapackInt { _lapackSerial {
        LAPACKE_sgesdd(_colMajor, jobz, LapackInt(m), LapackInt(n), a, LapackInt(lda), s, u, LapackInt(ldu), vt, LapackInt(ldvt))
    } }
    public static func gesvd(jobu: CChar, jobvt: CChar, m: Int, n: Int, a: UnsafeMutablePointer<Float>, lda: Int,
                             s: UnsafeMutablePointer<Float>, u: UnsafeMutablePointer<Float>?, ldu: Int,
                             vt: UnsafeMutablePointer<Float>?, ldvt: Int, superb: UnsafeMutablePointer<Float>) -> LapackInt { _lapackSerial {
        LAPACKE_sgesvd(_colMajor, jobu, jobvt, LapackInt(m), LapackInt(n), a, LapackInt(lda), s, u, LapackInt(ldu), vt, LapackInt(ldvt), superb)
    } }
    public static func syevd(jobz: CChar, uplo: CChar, n: Int, a: UnsafeMutablePointer<Float>, lda: Int,
                             w: UnsafeMutablePointer<Float>) -> LapackInt { _lapackSerial {
        LAPACKE_ssyevd(_colMajor, jobz, uplo, LapackInt(n), a, LapackInt(lda), w)
    } }
    public static func syevr(jobz: CChar, range: CChar, uplo: CChar, n: Int, a: UnsafeMutablePointer<Float>, lda: Int,
                             vl: Float, vu: Float, il: Int, iu: Int, abstol: Float, m: UnsafeMutablePointer<LapackInt>,
                             w: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>?, ldz: Int,
                             isuppz: UnsafeMutablePointer<LapackInt>?) -> LapackInt { _lapackSerial {
        LAPACKE_ssyevr(_colMajor, jobz, range, uplo, LapackInt(n), a, LapackInt(lda), vl, vu, LapackInt(il), LapackInt(iu),
                       abstol, m, w, z, LapackInt(ldz), isuppz)
    } }
    public static func geqrf(m: Int, n: Int, a: UnsafeMutablePointer<Float>, lda: Int, tau: UnsafeMutablePointer<Float>) -> LapackInt { _lapackSerial {
        LAPACKE_sgeqrf(_colMajor, LapackInt(m), LapackInt(n), a, LapackInt(lda), tau)
    } }
    public static func orgqr(m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Float>, lda: Int, tau: UnsafePointer<Float>) -> LapackInt { _lapackSerial {
        LAPACKE_sorgqr(_colMajor, LapackInt(m), LapackInt(n), LapackInt(k), a, LapackInt(lda), tau)
    } }
    public static func potrf(uplo: CChar, n: Int, a: UnsafeMutablePointer<Float>, lda: Int) -> LapackInt { _lapackSerial {
        LAPACKE_spotrf(_colMajor, uplo, LapackInt(n), a, LapackInt(lda))
    } }
    public static func potrs(uplo: CChar, n: Int, nrhs: Int, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafeMutablePointer<Float>, ldb: Int) -> LapackInt { _lapackSerial {
        LAPACKE_spotrs(_colMajor, uplo, LapackInt(n), LapackInt(nrhs), a, LapackInt(lda), b, LapackInt(ldb))
    } }
    public static func getrf(m: Int, n: Int, a: UnsafeMutablePointer<Float>, lda: Int, ipiv: UnsafeMutablePointer<LapackInt>) -> LapackInt { _lapackSerial {
        LAPACKE_sgetrf(_colMajor, LapackInt(m), LapackInt(n), a, LapackInt(lda), ipiv)
    } }
    public static func getrs(trans: CChar, n: Int, nrhs: Int, a: UnsafePointer<Float>, lda: Int,
                             ipiv: UnsafePointer<LapackInt>, b: UnsafeMutablePointer<Float>, ldb: Int) -> LapackInt { _lapackSerial {
        LAPACKE_sgetrs(_colMajor, trans, LapackInt(n), LapackInt(nrhs), a, LapackInt(lda), ipiv, b, LapackInt(ldb))
    } }
    public static func getri(n: Int, a: UnsafeMutablePointer<Float>, lda: Int, ipiv: UnsafePointer<LapackInt>) -> LapackInt { _lapackSerial {
        LAPACKE_sgetri(_colMajor, LapackInt(n), a, LapackInt(lda), ipiv)
    } }
    public static func gelsd(m: Int, n: Int, nrhs: Int, a: UnsafeMutablePointer<Float>, lda: Int,
                             b: UnsafeMutablePointer<Float>, ldb: Int, s: UnsafeMutablePointer<Float>, rcond: Float,
                             rank: UnsafeMutablePointer<LapackInt>) -> LapackInt { _lapackSerial {
        LAPACKE_sgelsd(_colMajor, LapackInt(m), LapackInt(n), LapackInt(nrhs), a, LapackInt(lda), b, LapackInt(ldb), s, rcond, rank)
    } }
}

extension Double: BLASScalar {
    public static var dtypeName: String { "float64" }
    public static var byteCount: Int { 8 }
    public static var epsilon: Double { Double.ulpOfOne }

    @inlinable public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                                       a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                                       beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasRowMajor, _cblasTrans(transA), _cblasTrans(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inlinable public static func gemv(trans: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
                                       x: UnsafePointer<Double>, incx: Int, beta: Double, y: UnsafeMutablePointer<Double>, incy: Int) {
        cblas_dgemv(CblasRowMajor, _cblasTrans(trans), Int32(m), Int32(n), alpha, a, Int32(lda), x, Int32(incx), beta, y, Int32(incy))
    }
    @inlinable public static func dot(n: Int, x: UnsafePointer<Double>, incx: Int, y: UnsafePointer<Double>, incy: Int) -> Double {
        cblas_ddot(Int32(n), x, Int32(incx), y, Int32(incy))
    }
    @inlinable public static func axpy(n: Int, alpha: Double, x: UnsafePointer<Double>, incx: Int, y: UnsafeMutablePointer<Double>, incy: Int) {
        cblas_daxpy(Int32(n), alpha, x, Int32(incx), y, Int32(incy))
    }
    @inlinable public static func scal(n: Int, alpha: Double, x: UnsafeMutablePointer<Double>, incx: Int) {
        cblas_dscal(Int32(n), alpha, x, Int32(incx))
    }
    @inlinable public static func nrm2(n: Int, x: UnsafePointer<Double>, incx: Int) -> Double {
        cblas_dnrm2(Int32(n), x, Int32(incx))
    }
    @inlinable public static func ger(m: Int, n: Int, alpha: Double, x: UnsafePointer<Double>, incx: Int,
                                      y: UnsafePointer<Double>, incy: Int, a: UnsafeMutablePointer<Double>, lda: Int) {
        cblas_dger(CblasRowMajor, Int32(m), Int32(n), alpha, x, Int32(incx), y, Int32(incy), a, Int32(lda))
    }
    @inlinable public static func syrk(trans: Bool, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
                                       beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, _cblasTrans(trans), Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
    }

    public static func gesdd(jobz: CChar, m: Int, n: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                             s: UnsafeMutablePointer<Double>, u: UnsafeMutablePointer<Double>?, ldu: Int,
                             vt: UnsafeMutablePointer<Double>?, ldvt: Int) -> LapackInt { _lapackSerial {
        LAPACKE_dgesdd(_colMajor, jobz, LapackInt(m), LapackInt(n), a, LapackInt(lda), s, u, LapackInt(ldu), vt, LapackInt(ldvt))
    } }
    public static func gesvd(jobu: CChar, jobvt: CChar, m: Int, n: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                             s: UnsafeMutablePointer<Double>, u: UnsafeMutablePointer<Double>?, ldu: Int,
                             vt: UnsafeMutablePointer<Double>?, ldvt: Int, superb: UnsafeMutablePointer<Double>) -> LapackInt { _lapackSerial {
        LAPACKE_dgesvd(_colMajor, jobu, jobvt, LapackInt(m), LapackInt(n), a, LapackInt(lda), s, u, LapackInt(ldu), vt, LapackInt(ldvt), superb)
    } }
    public static func syevd(jobz: CChar, uplo: CChar, n: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                             w: UnsafeMutablePointer<Double>) -> LapackInt { _lapackSerial {
        LAPACKE_dsyevd(_colMajor, jobz, uplo, LapackInt(n), a, LapackInt(lda), w)
    } }
    public static func syevr(jobz: CChar, range: CChar, uplo: CChar, n: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                             vl: Double, vu: Double, il: Int, iu: Int, abstol: Double, m: UnsafeMutablePointer<LapackInt>,
                             w: UnsafeMutablePointer<Double>, z: UnsafeMutablePointer<Double>?, ldz: Int,
                             isuppz: UnsafeMutablePointer<LapackInt>?) -> LapackInt { _lapackSerial {
        LAPACKE_dsyevr(_colMajor, jobz, range, uplo, LapackInt(n), a, LapackInt(lda), vl, vu, LapackInt(il), LapackInt(iu),
                       abstol, m, w, z, LapackInt(ldz), isuppz)
    } }
    public static func geqrf(m: Int, n: Int, a: UnsafeMutablePointer<Double>, lda: Int, tau: UnsafeMutablePointer<Double>) -> LapackInt { _lapackSerial {
        LAPACKE_dgeqrf(_colMajor, LapackInt(m), LapackInt(n), a, LapackInt(lda), tau)
    } }
    public static func orgqr(m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Double>, lda: Int, tau: UnsafePointer<Double>) -> LapackInt { _lapackSerial {
        LAPACKE_dorgqr(_colMajor, LapackInt(m), LapackInt(n), LapackInt(k), a, LapackInt(lda), tau)
    } }
    public static func potrf(uplo: CChar, n: Int, a: UnsafeMutablePointer<Double>, lda: Int) -> LapackInt { _lapackSerial {
        LAPACKE_dpotrf(_colMajor, uplo, LapackInt(n), a, LapackInt(lda))
    } }
    public static func potrs(uplo: CChar, n: Int, nrhs: Int, a: UnsafePointer<Double>, lda: Int,
                             b: UnsafeMutablePointer<Double>, ldb: Int) -> LapackInt { _lapackSerial {
        LAPACKE_dpotrs(_colMajor, uplo, LapackInt(n), LapackInt(nrhs), a, LapackInt(lda), b, LapackInt(ldb))
    } }
    public static func getrf(m: Int, n: Int, a: UnsafeMutablePointer<Double>, lda: Int, ipiv: UnsafeMutablePointer<LapackInt>) -> LapackInt { _lapackSerial {
        LAPACKE_dgetrf(_colMajor, LapackInt(m), LapackInt(n), a, LapackInt(lda), ipiv)
    } }
    public static func getrs(trans: CChar, n: Int, nrhs: Int, a: UnsafePointer<Double>, lda: Int,
                             ipiv: UnsafePointer<LapackInt>, b: UnsafeMutablePointer<Double>, ldb: Int) -> LapackInt { _lapackSerial {
        LAPACKE_dgetrs(_colMajor, trans, LapackInt(n), LapackInt(nrhs), a, LapackInt(lda), ipiv, b, LapackInt(ldb))
    } }
    public static func getri(n: Int, a: UnsafeMutablePointer<Double>, lda: Int, ipiv: UnsafePointer<LapackInt>) -> LapackInt { _lapackSerial {
        LAPACKE_dgetri(_colMajor, LapackInt(n), a, LapackInt(lda), ipiv)
    } }
    public static func gelsd(m: Int, n: Int, nrhs: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                             b: UnsafeMutablePointer<Double>, ldb: Int, s: UnsafeMutablePointer<Double>, rcond: Double,
                             rank: UnsafeMutablePointer<LapackInt>) -> LapackInt { _lapackSerial {
        LAPACKE_dgelsd(_colMajor, LapackInt(m), LapackInt(n), LapackInt(nrhs), a, LapackInt(lda), b, LapackInt(ldb), s, rcond, rank)
    } }
}
