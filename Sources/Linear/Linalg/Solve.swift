/// The result of a least-squares solve (numpy `linalg.lstsq`).
public struct LeastSquares<Scalar: BLASScalar>: Sendable {
    /// The minimum-norm solution x of min ‖A·x − b‖₂: n, or n×r for r right-hand sides.
    public var solution: Tensor<Scalar>
    /// Effective rank of A (singular values above rcond·σ₁).
    public var rank: Int
    /// Singular values of A, descending.
    public var singularValues: Tensor<Scalar>

    @inlinable public init(solution: Tensor<Scalar>, rank: Int, singularValues: Tensor<Scalar>) {
        self.solution = solution; self.rank = rank; self.singularValues = singularValues
    }
}

extension Tensor {
    /// Right-hand sides as a column-major n×nrhs buffer with leading dimension `ld` (≥ rows), plus nrhs.
    @inlinable
    func rhsColumnMajor(rows: Int, ld: Int, _ op: String, lhs: [Int]) throws -> (TensorStorage<Scalar>, Int) {
        guard (rank == 1 || rank == 2), shape[0] == rows else { throw TensorError.shapeMismatch(operation: op, lhs: lhs, rhs: shape) }
        let nrhs = rank == 1 ? 1 : shape[1]
        let buf = TensorStorage<Scalar>(repeating: 0, count: Swift.max(1, ld * nrhs))
        for j in 0..<nrhs { for i in 0..<rows { buf.pointer[j * ld + i] = storage.pointer[i * nrhs + j] } }
        return (buf, nrhs)
    }

    /// Reads the first `rows` rows of a column-major solution buffer back into the right-hand side's layout.
    @inlinable
    static func solutionFromColumnMajor(_ p: UnsafePointer<Scalar>, rows: Int, nrhs: Int, ld: Int, vector: Bool) -> Tensor {
        let t = fromColumnMajor(p, rows: rows, cols: nrhs, ld: ld)
        return vector ? Tensor(storage: t.storage, shape: [rows]) : t       // [rows, 1] → [rows]: same elements
    }
}

/// Solves A·x = b for square, non-singular A (numpy `linalg.solve`) by LU with partial pivoting (`getrf`, `getrs`).
/// `b` is a vector (n) or a matrix of right-hand sides (n×r). Cost 2n³/3 + 2n²r.
@inlinable
public func solve<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) throws -> Tensor<Scalar> {
    let n = try a.requireSquare("solve")
    try a.checkFinite("solve: A"); try b.checkFinite("solve: b")
    let (rhs, nrhs) = try b.rhsColumnMajor(rows: n, ld: Swift.max(1, n), "solve", lhs: a.shape)
    if n == 0 { return b }
    let lu = a.storage.copy()  // column-major view of Aᵀ
    var ipiv = [LapackInt](repeating: 0, count: n)
    try lapackCheck(Scalar.getrf(m: n, n: n, a: lu.pointer, lda: n, ipiv: &ipiv), "getrf") {
        "matrix is singular: U[\($0 - 1), \($0 - 1)] of its LU factorisation is exactly zero"
    }
    // (Aᵀ)ᵀ·x = b: solve with the transpose flag.
    try lapackCheck(Scalar.getrs(trans: 84, n: n, nrhs: nrhs, a: lu.pointer, lda: n, ipiv: ipiv, b: rhs.pointer, ldb: n), "getrs") { "failed (info \($0))" }
    return Tensor.solutionFromColumnMajor(rhs.pointer, rows: n, nrhs: nrhs, ld: n, vector: b.rank == 1)
}

/// Solves A·x = b for symmetric positive-definite A by Cholesky (`potrf`, `potrs`): half the cost of `solve`.
@inlinable
public func solvePositiveDefinite<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) throws -> Tensor<Scalar> {
    let n = try a.requireSquare("solvePositiveDefinite")
    try a.checkFinite("solvePositiveDefinite: A"); try b.checkFinite("solvePositiveDefinite: b")
    let (rhs, nrhs) = try b.rhsColumnMajor(rows: n, ld: Swift.max(1, n), "solvePositiveDefinite", lhs: a.shape)
    if n == 0 { return b }
    let f = a.storage.copy()
    try lapackCheck(Scalar.potrf(uplo: 85, n: n, a: f.pointer, lda: n), "potrf") { "matrix is not positive definite at leading minor \($0)" }
    try lapackCheck(Scalar.potrs(uplo: 85, n: n, nrhs: nrhs, a: f.pointer, lda: n, b: rhs.pointer, ldb: n), "potrs") { "failed (info \($0))" }
    return Tensor.solutionFromColumnMajor(rhs.pointer, rows: n, nrhs: nrhs, ld: n, vector: b.rank == 1)
}

/// Solves A·x = b given the Cholesky factor L of A (A = L·Lᵀ, as returned by `cholesky()`), by `potrs`.
@inlinable
public func choleskySolve<Scalar>(_ l: Tensor<Scalar>, _ b: Tensor<Scalar>) throws -> Tensor<Scalar> {
    let n = try l.requireSquare("choleskySolve")
    try l.checkFinite("choleskySolve: L"); try b.checkFinite("choleskySolve: b")
    let (rhs, nrhs) = try b.rhsColumnMajor(rows: n, ld: Swift.max(1, n), "choleskySolve", lhs: l.shape)
    if n == 0 { return b }
    // Row-major L is column-major Lᵀ = U, the upper factor potrs expects.
    try lapackCheck(Scalar.potrs(uplo: 85, n: n, nrhs: nrhs, a: l.storage.pointer, lda: n, b: rhs.pointer, ldb: n), "potrs") { "failed (info \($0))" }
    return Tensor.solutionFromColumnMajor(rhs.pointer, rows: n, nrhs: nrhs, ld: n, vector: b.rank == 1)
}

/// Minimum-norm least-squares solution of A·x ≈ b for any m×n A (numpy `linalg.lstsq`), by the SVD-based `gelsd`.
///
/// Singular values below `rcond`·σ₁ count as zero; the default rcond is ε·max(m, n), numpy's default.
@inlinable
public func lstsq<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, rcond: Scalar? = nil) throws -> LeastSquares<Scalar> {
    try a.requireMatrix("lstsq")
    try a.checkFinite("lstsq: A"); try b.checkFinite("lstsq: b")
    let m = a.shape[0], n = a.shape[1], ld = Swift.max(1, Swift.max(m, n))
    let (rhs, nrhs) = try b.rhsColumnMajor(rows: m, ld: ld, "lstsq", lhs: a.shape)
    let k = Swift.min(m, n)
    if k == 0 {
        return LeastSquares(solution: b.rank == 1 ? Tensor.zeros([n]) : Tensor.zeros([n, nrhs]), rank: 0, singularValues: Tensor.zeros([0]))
    }
    let ac = a.columnMajorCopy()
    let s = TensorStorage<Scalar>(uninitializedCount: k)
    var rankOut: LapackInt = 0
    let rc = rcond ?? Scalar.epsilon * Scalar(Swift.max(m, n))
    try lapackCheck(Scalar.gelsd(m: m, n: n, nrhs: nrhs, a: ac.pointer, lda: m, b: rhs.pointer, ldb: ld, s: s.pointer,
                                 rcond: rc, rank: &rankOut), "gelsd") { "the SVD did not converge (\($0) off-diagonal elements)" }
    return LeastSquares(solution: Tensor.solutionFromColumnMajor(rhs.pointer, rows: n, nrhs: nrhs, ld: ld, vector: b.rank == 1),
                        rank: Int(rankOut), singularValues: Tensor(storage: s, shape: [k]))
}
