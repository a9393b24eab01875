/// A singular value decomposition A = U·diag(S)·Vᵀ.
public struct SVD<Scalar: BLASScalar>: Sendable {
    /// Left singular vectors as columns: m×k (thin) or m×m (full).
    public var u: Tensor<Scalar>
    /// Singular values, non-negative and descending; k = min(m, n) of them.
    public var s: Tensor<Scalar>
    /// Right singular vectors as rows: k×n (thin) or n×n (full).
    public var vt: Tensor<Scalar>

    @inlinable public init(u: Tensor<Scalar>, s: Tensor<Scalar>, vt: Tensor<Scalar>) { self.u = u; self.s = s; self.vt = vt }
}

extension Tensor {
    /// Singular value decomposition A = U·diag(S)·Vᵀ of an m×n matrix (numpy `linalg.svd`).
    ///
    /// Uses LAPACK's divide-and-conquer `gesdd`, falling back to `gesvd` when it does not converge.
    /// `full: false` (default) gives the thin factors (U m×k, Vᵀ k×n with k = min(m, n)).
    /// Signs of singular vector pairs are whatever LAPACK returns (as in numpy). Cost O(mn·min(m, n)).
    @inlinable
    public func svd(full: Bool = false) throws -> SVD<Scalar> {
        try requireMatrix("svd")
        try checkFinite("svd input")
        let m = shape[0], n = shape[1], k = Swift.min(m, n)
        let s = TensorStorage<Scalar>(uninitializedCount: k)
        if m == 0 || n == 0 {
            return SVD(u: Tensor.eye(m, columns: full ? m : k), s: Tensor(storage: s, shape: [k]), vt: Tensor.eye(full ? n : k, columns: n))
        }
        if m > n {
            // Tall: factor the column-major copy of A itself (m×n), so LAPACK takes its QR-first path (numpy
            // does the same; measured 1.2–1.5× faster than the LQ path the transposed view would take).
            let uRows = m, uColsT = full ? m : k, vtRowsT = full ? n : k
            let a = columnMajorCopy()
            let uc = TensorStorage<Scalar>(uninitializedCount: uRows * uColsT)
            let vc = TensorStorage<Scalar>(uninitializedCount: vtRowsT * n)
            try Self.lapackSVD(job: full ? 65 : 83, rows: m, cols: n, a: a, retry: { columnMajorCopy() }, s: s,
                               u: uc.pointer, ldu: m, vt: vc.pointer, ldvt: vtRowsT)
            return SVD(u: Tensor.fromColumnMajor(uc.pointer, rows: m, cols: uColsT, ld: m), s: Tensor(storage: s, shape: [k]),
                       vt: Tensor.fromColumnMajor(vc.pointer, rows: vtRowsT, cols: n, ld: vtRowsT))
        }
        // Wide or square: the row-major m×n buffer is the column-major n×m matrix Aᵀ = V·S·Uᵀ; factor that in place
        // of a copy.
        let uCols = full ? n : k      // columns of the "U" of Aᵀ (that is V), n×uCols
        let vtRows = full ? m : k     // rows of the "Vᵀ" of Aᵀ (that is Uᵀ), vtRows×m
        let left = TensorStorage<Scalar>(uninitializedCount: n * uCols)
        let right = TensorStorage<Scalar>(uninitializedCount: vtRows * m)
        let work = storage.copy()
        try Self.lapackSVD(job: full ? 65 : 83, rows: n, cols: m, a: work, retry: { storage.copy() }, s: s,
                           u: left.pointer, ldu: n, vt: right.pointer, ldvt: vtRows)
        // Column-major V (n×uCols) read row-major is Vᵀ (uCols×n); column-major Uᵀ (vtRows×m) read row-major is U (m×vtRows).
        return SVD(u: Tensor(storage: right, shape: [m, vtRows]), s: Tensor(storage: s, shape: [k]),
                   vt: Tensor(storage: left, shape: [uCols, n]))
    }

    /// Singular values only, descending (cheaper than the full `svd`).
    @inlinable
    public func singularValues() throws -> Tensor {
        try requireMatrix("singularValues")
        try checkFinite("singularValues input")
        let m = shape[0], n = shape[1], k = Swift.min(m, n)
        let s = TensorStorage<Scalar>(uninitializedCount: k)
        if k == 0 { return Tensor(storage: s, shape: [0]) }
        // Tall matrices go to LAPACK as themselves (QR-first path), wide ones as their transpose.
        let tall = m > n
        let work = tall ? columnMajorCopy() : storage.copy()
        let (rows, cols) = tall ? (m, n) : (n, m)
        try Self.lapackSVD(job: 78, rows: rows, cols: cols, a: work, retry: { tall ? columnMajorCopy() : storage.copy() }, s: s,
                           u: nil, ldu: 1, vt: nil, ldvt: 1)
        return Tensor(storage: s, shape: [k])
    }

    /// The one SVD call: LAPACK's divide-and-conquer `gesdd` on the column-major rows×cols matrix in `a` (overwritten),
    /// and, when it does not converge, `gesvd` (QR iteration: slower, more robust) on a fresh copy from `retry`.
    /// `job` is LAPACK's character code: 'A' (65) full factors, 'S' (83) thin, 'N' (78) values only.
    @usableFromInline
    static func lapackSVD(job: CChar, rows: Int, cols: Int, a: TensorStorage<Scalar>, retry: () -> TensorStorage<Scalar>,
                          s: TensorStorage<Scalar>, u: UnsafeMutablePointer<Scalar>?, ldu: Int,
                          vt: UnsafeMutablePointer<Scalar>?, ldvt: Int) throws {
        var info = Scalar.gesdd(jobz: job, m: rows, n: cols, a: a.pointer, lda: rows, s: s.pointer, u: u, ldu: ldu, vt: vt, ldvt: ldvt)
        if info > 0 {
            let fresh = retry()
            let superb = TensorStorage<Scalar>(uninitializedCount: Swift.max(1, Swift.min(rows, cols)))
            info = Scalar.gesvd(jobu: job, jobvt: job, m: rows, n: cols, a: fresh.pointer, lda: rows, s: s.pointer,
                                u: u, ldu: ldu, vt: vt, ldvt: ldvt, superb: superb.pointer)
        }
        try lapackCheck(info, Scalar.dtypeName == "float32" ? "sgesdd/sgesvd" : "dgesdd/dgesvd") {
            "the SVD did not converge (\($0) superdiagonals did not converge to zero)"
        }
    }

}
