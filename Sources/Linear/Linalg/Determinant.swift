extension Tensor {
    /// The inverse of a square non-singular matrix (numpy `linalg.inv`) by LU (`getrf`, `getri`). Cost 2n³.
    /// Prefer `solve` when the inverse is only multiplied by something.
    @inlinable
    public func inverse() throws -> Tensor {
        let n = try requireSquare("inverse")
        try checkFinite("inverse input")
        if n == 0 { return self }
        let a = storage.copy()  // column-major Aᵀ; its inverse read row-major is A⁻¹
        var ipiv = [LapackInt](repeating: 0, count: n)
        try lapackCheck(Scalar.getrf(m: n, n: n, a: a.pointer, lda: n, ipiv: &ipiv), "getrf") {
            "matrix is singular: U[\($0 - 1), \($0 - 1)] of its LU factorisation is exactly zero"
        }
        try lapackCheck(Scalar.getri(n: n, a: a.pointer, lda: n, ipiv: ipiv), "getri") { "matrix is singular (info \($0))" }
        return Tensor(storage: a, shape: [n, n])
    }

    /// Sign and natural log of |det A| (numpy `linalg.slogdet`), by LU. A singular matrix gives (0, −∞).
    @inlinable
    public func slogdet() throws -> (sign: Scalar, logAbsDet: Scalar) {
        let n = try requireSquare("slogdet")
        try checkFinite("slogdet input")
        if n == 0 { return (1, 0) }
        let a = storage.copy()
        var ipiv = [LapackInt](repeating: 0, count: n)
        let info = Scalar.getrf(m: n, n: n, a: a.pointer, lda: n, ipiv: &ipiv)
        if info > 0 { return (0, -Scalar.infinity) }
        try lapackCheck(info, "getrf") { "failed (info \($0))" }
        var sign: Scalar = 1, logAbs = 0.0
        for i in 0..<n {
            let u = a.pointer[i * n + i]
            if u < 0 { sign = -sign }
            if ipiv[i] != LapackInt(i + 1) { sign = -sign }
            logAbs += Double.log(Double(Swift.abs(u)))
        }
        return (sign, Scalar(logAbs))
    }

    /// log det A for a symmetric positive-definite A, as 2·Σ log Lᵢᵢ of its Cholesky factor.
    /// Throws when A is not positive definite.
    @inlinable
    public func logdet() throws -> Scalar {
        let l = try cholesky()
        let n = shape[0]
        var acc = 0.0
        for i in 0..<n { acc += Double.log(Double(l.storage.pointer[i * n + i])) }
        return Scalar(2 * acc)
    }
}

import RealModule
