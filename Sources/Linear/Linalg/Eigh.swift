/// Eigendecomposition A = V·diag(λ)·Vᵀ of a symmetric matrix.
public struct SymmetricEigen<Scalar: BLASScalar>: Sendable {
    /// Eigenvalues in ascending order (numpy/scipy convention).
    public var values: Tensor<Scalar>
    /// Orthonormal eigenvectors as columns, in the order of `values`: n×n, or n×k for a top-k request.
    public var vectors: Tensor<Scalar>

    @inlinable public init(values: Tensor<Scalar>, vectors: Tensor<Scalar>) { self.values = values; self.vectors = vectors }
}

extension Tensor {
    /// Eigenvalues and eigenvectors of a symmetric matrix (numpy `linalg.eigh`), by LAPACK `syevd`.
    ///
    /// Only the upper triangle is read. Values ascend. Cost O(n³).
    @inlinable
    public func eigh() throws -> SymmetricEigen<Scalar> {
        let n = try requireSquare("eigh")
        try checkFinite("eigh input")
        let w = TensorStorage<Scalar>(uninitializedCount: n)
        if n == 0 { return SymmetricEigen(values: Tensor(storage: w, shape: [0]), vectors: Tensor.zeros([0, 0])) }
        let a = storage.copy()
        // Row-major upper triangle = column-major lower triangle ("L").
        let info = Scalar.syevd(jobz: 86, uplo: 76, n: n, a: a.pointer, lda: n, w: w.pointer)
        try lapackCheck(info, "syevd") { "the eigensolver did not converge (\($0) off-diagonal elements did not converge)" }
        // Column-major eigenvectors read row-major hold one eigenvector per row: transpose.
        let vt = Tensor(storage: a, shape: [n, n])
        return SymmetricEigen(values: Tensor(storage: w, shape: [n]), vectors: try vt.transposed())
    }

    /// Eigenvalues only, ascending.
    @inlinable
    public func eigvalsh() throws -> Tensor {
        let n = try requireSquare("eigvalsh")
        try checkFinite("eigvalsh input")
        let w = TensorStorage<Scalar>(uninitializedCount: n)
        if n == 0 { return Tensor(storage: w, shape: [0]) }
        let a = storage.copy()
        let info = Scalar.syevd(jobz: 78, uplo: 76, n: n, a: a.pointer, lda: n, w: w.pointer)
        try lapackCheck(info, "syevd") { "the eigensolver did not converge (\($0) off-diagonal elements did not converge)" }
        return Tensor(storage: w, shape: [n])
    }

    /// The `k` largest eigenpairs of a symmetric matrix by LAPACK `syevr` (MRRR), in ascending order.
    /// Much cheaper than `eigh()` when k ≪ n.
    @inlinable
    public func eigh(top k: Int) throws -> SymmetricEigen<Scalar> {
        let n = try requireSquare("eigh(top:)")
        guard k >= 0 && k <= n else { throw TensorError.invalidArgument("eigh(top:): k = \(k) must be in 0...\(n)") }
        try checkFinite("eigh input")
        if k == 0 { return SymmetricEigen(values: Tensor.zeros([0]), vectors: Tensor.zeros([n, 0])) }
        let a = storage.copy()
        let w = TensorStorage<Scalar>(uninitializedCount: n)
        let z = TensorStorage<Scalar>(uninitializedCount: n * k)
        var found: LapackInt = 0
        var isuppz = [LapackInt](repeating: 0, count: 2 * k)
        let info = Scalar.syevr(jobz: 86, range: 73, uplo: 76, n: n, a: a.pointer, lda: n, vl: 0, vu: 0,
                                il: n - k + 1, iu: n, abstol: 0, m: &found, w: w.pointer, z: z.pointer, ldz: n,
                                isuppz: &isuppz)
        try lapackCheck(info, "syevr") { "the eigensolver failed internally (info \($0))" }
        let values = try Tensor(Array(UnsafeBufferPointer(start: w.pointer, count: k)), shape: [k])
        let vectors = Tensor.fromColumnMajor(z.pointer, rows: n, cols: k, ld: n)
        // MRRR can return info 0 with fewer than k pairs, or (seen in Float on a 30×30 matrix, not reproducibly)
        // pairs that are not eigenpairs: eigenvalues out of order and columns far from unit length. Such a result
        // is replaced by the last k pairs of the divide-and-conquer solver `eigh()`.
        if Int(found) != k || !Self.isPlausibleTopEigen(values, vectors) {
            let full = try eigh()
            return SymmetricEigen(values: try full.values.slice((n - k)..<n), vectors: try full.vectors.slice((n - k)..<n, axis: 1))
        }
        return SymmetricEigen(values: values, vectors: vectors)
    }

    /// Whether k eigenpairs look like a solver's valid output: finite, eigenvalues ascending, every column of unit
    /// length within 10³·n·ε (an O(nk) check; a valid MRRR result meets it by orders of magnitude).
    @usableFromInline
    static func isPlausibleTopEigen(_ values: Tensor<Scalar>, _ vectors: Tensor<Scalar>) -> Bool {
        let v = values.scalars, k = v.count, n = vectors.shape[0]
        guard v.allSatisfy(\.isFinite), (1..<Swift.max(k, 1)).allSatisfy({ v[$0 - 1] <= v[$0] }) else { return false }
        let tol = 1000 * Double(n) * Double(Scalar.epsilon)
        return vectors.withUnsafeBufferPointer { p in
            for j in 0..<k {
                var s = 0.0
                for i in 0..<n { let x = Double(p[i * k + j]); s += x * x }
                if !(Swift.abs(s - 1) <= tol) { return false }
            }
            return true
        }
    }
}
