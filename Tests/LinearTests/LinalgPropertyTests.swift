// Algebraic properties of the LAPACK-backed routines, in Float and Double, on tall, wide, square and
// rank-deficient inputs, plus their error paths.
//
// Residual checks are normwise: max|residual| ≤ tol · (size of the problem), where the size is σ₁ or max|A|
// (reconstructions), 1 (orthogonality), or max(|A|·|x|) (solves, whose residual is small for any
// conditioning because LU with pivoting is backward stable). tol: Double 1e-11, Float 1e-4 — the observed
// errors are below n·ε (≤ 1e-14 and ≤ 1e-5 for n ≤ 50).

import Foundation
import Linear
import Testing
import TestSupport

private func tol<S: BLASScalar>(_: S.Type) -> Double { tolerance(S.self, float: 1e-4, double: 1e-11) }

/// Max |MᵀM − I| for a matrix with (supposedly) orthonormal columns.
private func orthonormalityError<S: BLASScalar>(_ m: Tensor<S>) throws -> Double {
    let g = try matmul(m, m, transposeA: true)
    return maxDifference(g, Tensor<S>.eye(m.shape[1]))
}

/// M · diag(d) (scales column j by d[j]).
private func timesDiag<S: BLASScalar>(_ m: Tensor<S>, _ d: Tensor<S>) throws -> Tensor<S> {
    try m * d.reshaped([1, d.count])
}

/// A random m×n matrix of rank r (B·C with B m×r, C r×n); r ≥ min(m, n) gives a generic full-rank matrix.
private func matrix<S: BLASScalar>(_ m: Int, _ n: Int, rank r: Int? = nil, seed: UInt64) throws -> Tensor<S> {
    guard let r, r < Swift.min(m, n) else { return randomMatrix(m, n, seed: seed) }
    return try matmul(randomMatrix(m, r, seed: seed) as Tensor<S>, randomMatrix(r, n, seed: seed &+ 1000))
}

/// A symmetric positive-definite n×n matrix XᵀX/n + I (eigenvalues ≥ 1).
private func spd<S: BLASScalar>(_ n: Int, seed: UInt64) throws -> Tensor<S> {
    let x: Tensor<S> = randomMatrix(2 * n, n, seed: seed)
    return try x.gram() / S(2 * n) + Tensor<S>.eye(n)
}

/// A symmetric PSD n×n matrix of rank r (BBᵀ with B n×r).
private func psd<S: BLASScalar>(_ n: Int, rank r: Int, seed: UInt64) throws -> Tensor<S> {
    let b: Tensor<S> = randomMatrix(n, r, seed: seed)
    return try matmul(b, b, transposeB: true)
}

private func symmetric<S: BLASScalar>(_ n: Int, seed: UInt64) throws -> Tensor<S> {
    let g: Tensor<S> = randomMatrix(n, n, seed: seed)
    return try (g + g.transposed()) * S(0.5)
}

/// A shape and a rank for a test matrix; rank nil = full rank.
struct MatrixCase: Sendable, CustomTestStringConvertible {
    let m: Int, n: Int, rank: Int?
    var testDescription: String { "\(m)×\(n)" + (rank.map { " rank \($0)" } ?? "") }
}

private let svdCases: [MatrixCase] = [
    .init(m: 5, n: 3, rank: nil), .init(m: 3, n: 5, rank: nil), .init(m: 8, n: 8, rank: nil),
    .init(m: 20, n: 12, rank: nil), .init(m: 12, n: 20, rank: nil), .init(m: 1, n: 6, rank: nil),
    .init(m: 6, n: 1, rank: nil), .init(m: 50, n: 50, rank: nil),
    .init(m: 12, n: 8, rank: 3), .init(m: 8, n: 12, rank: 2), .init(m: 10, n: 10, rank: 4),
]

@Suite("Linear algebra properties")
struct LinalgPropertyTests {
    // MARK: SVD

    @Test("svd: orthonormal U and V, U·diag(S)·Vᵀ = A, thin and full", arguments: svdCases, Precision.allCases)
    func svdProperties(_ c: MatrixCase, _ p: Precision) throws {
        switch p {
        case .float: try svd(c, Float.self)
        case .double: try svd(c, Double.self)
        }
    }

    private func svd<S: BLASScalar>(_ c: MatrixCase, _: S.Type) throws {
        let a: Tensor<S> = try matrix(c.m, c.n, rank: c.rank, seed: UInt64(c.m * 100 + c.n))
        let k = Swift.min(c.m, c.n), t = tol(S.self)
        let thin = try a.svd()
        let full = try a.svd(full: true)
        #expect(thin.u.shape == [c.m, k] && thin.s.shape == [k] && thin.vt.shape == [k, c.n])
        #expect(full.u.shape == [c.m, c.m] && full.s.shape == [k] && full.vt.shape == [c.n, c.n])
        let s = thin.s.scalars
        let sigma1 = Double(s[0])
        #expect(s.allSatisfy { $0 >= 0 }, "singular values must be non-negative: \(s)")
        #expect(zip(s, s.dropFirst()).allSatisfy { $0 >= $1 }, "singular values must descend: \(s)")
        #expect(try maxDifference(full.s, thin.s) <= t * sigma1)

        // Orthonormality: UᵀU = I and V·Vᵀ = I (thin: k columns; full: square and orthogonal).
        #expect(try orthonormalityError(thin.u) <= t)
        #expect(try orthonormalityError(thin.vt.transposed()) <= t)
        #expect(try orthonormalityError(full.u) <= t)
        #expect(try orthonormalityError(full.vt.transposed()) <= t)
        #expect(try orthonormalityError(full.u.transposed()) <= t, "full U must be square orthogonal (U·Uᵀ = I)")

        // Reconstruction: thin U·diag(S)·Vᵀ, and full U·Σ·Vᵀ with Σ the m×n "diagonal" matrix.
        let thinA = try matmul(timesDiag(thin.u, thin.s), thin.vt)
        assertNormwiseClose(thinA, a, tol: t, scale: sigma1, "thin reconstruction")
        var sigma = Tensor<S>.zeros([c.m, c.n])
        for i in 0..<k { sigma[i, i] = s[i] }
        let fullA = try matmul(matmul(full.u, sigma), full.vt)
        assertNormwiseClose(fullA, a, tol: t, scale: sigma1, "full reconstruction")

        // singularValues() agrees with svd().
        #expect(try maxDifference(a.singularValues(), thin.s) <= t * sigma1)

        // Rank deficiency: exactly `rank` singular values are above the noise level.
        if let r = c.rank {
            let significant = s.filter { Double($0) > 1e3 * epsilon(S.self) * sigma1 }.count
            #expect(significant == r, "expected rank \(r), singular values \(s)")
            // U·diag(S)·Vᵀ still reproduces A with the noise singular values dropped.
            let ur = try thin.u.slice(0..<r, axis: 1), vr = try thin.vt.slice(0..<r, axis: 0)
            let low = try matmul(timesDiag(ur, thin.s.slice(0..<r)), vr)
            assertNormwiseClose(low, a, tol: t, scale: sigma1, "rank-\(r) truncation")
        }
    }

    @Test("svd of empty and one-element matrices", arguments: Precision.allCases)
    func svdEdgeCases(_ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            let e = try Tensor<S>.zeros([0, 3]).svd(full: true)
            #expect(e.s.shape == [0] && e.u.shape == [0, 0] && e.vt.shape == [3, 3])
            let e2 = try Tensor<S>.zeros([4, 0]).svd()
            #expect(e2.s.shape == [0] && e2.u.shape == [4, 0] && e2.vt.shape == [0, 0])
            let one = try Tensor<S>([-3], shape: [1, 1]).svd()
            #expect(one.s.scalars == [3])
            #expect(one.u.scalar * one.vt.scalar == -1)
            // NaN input is rejected before LAPACK sees it.
            #expect(throws: TensorError.self) { try Tensor<S>([1, .nan, 0, 1], shape: [2, 2]).svd() }
            #expect(throws: TensorError.self) { try Tensor<S>.zeros([2, 2, 2]).svd() }
        }
        switch p { case .float: try check(Float.self); case .double: try check(Double.self) }
    }

    // MARK: QR

    @Test("qr: QᵀQ = I, Q·R = A, R upper triangular", arguments: svdCases, Precision.allCases)
    func qrProperties(_ c: MatrixCase, _ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            let a: Tensor<S> = try matrix(c.m, c.n, rank: c.rank, seed: UInt64(7 * c.m + c.n))
            let k = Swift.min(c.m, c.n), t = tol(S.self)
            let (q, r) = try a.qr()
            #expect(q.shape == [c.m, k] && r.shape == [k, c.n])
            #expect(try orthonormalityError(q) <= t)
            assertNormwiseClose(try matmul(q, r), a, tol: t, scale: Double(a.maxAbs()) * Double(k), "Q·R")
            for i in 0..<k { for j in 0..<Swift.min(i, c.n) { #expect(r[i, j] == 0, "R[\(i), \(j)] = \(r[i, j]) below the diagonal") } }
        }
        switch p { case .float: try check(Float.self); case .double: try check(Double.self) }
    }

    // MARK: Cholesky

    @Test("cholesky: L·Lᵀ = A with L lower triangular and a positive diagonal", arguments: [1, 2, 7, 30], Precision.allCases)
    func choleskyProperties(_ n: Int, _ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            let a: Tensor<S> = try spd(n, seed: UInt64(n))
            let l = try a.cholesky()
            #expect(l.shape == [n, n])
            for i in 0..<n {
                #expect(l[i, i] > 0)
                for j in (i + 1)..<Swift.max(i + 1, n) { #expect(l[i, j] == 0, "L[\(i), \(j)] above the diagonal") }
            }
            assertNormwiseClose(try matmul(l, l, transposeB: true), a, tol: tol(S.self), scale: Double(a.maxAbs()), "L·Lᵀ")
            // Only the lower triangle is read: garbage above the diagonal changes nothing.
            var upperJunk = a
            for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { upperJunk[i, j] = 1000 } }
            #expect(try upperJunk.cholesky() == l)
            // logdet = 2 Σ log Lᵢᵢ = slogdet's log|det|.
            let (sign, logAbs) = try a.slogdet()
            #expect(sign == 1)
            assertClose(Double(try a.logdet()), Double(logAbs), rtol: 0, atol: tol(S.self) * Double(n))
        }
        switch p { case .float: try check(Float.self); case .double: try check(Double.self) }
    }

    @Test("cholesky of a matrix that is not positive definite throws, naming the leading minor")
    func choleskyNotPositiveDefinite() throws {
        // Leading minors: 1 > 0, then 1·1 − 2·2 < 0: fails at minor 2.
        let a = try Tensor<Double>(rows: [[1, 2, 0], [2, 1, 0], [0, 0, 1]])
        do {
            _ = try a.cholesky()
            Issue.record("cholesky of an indefinite matrix did not throw")
        } catch let e as TensorError {
            guard case let .lapack(routine, info, _) = e else { Issue.record("unexpected error \(e)"); return }
            #expect(routine == "potrf" && info == 2)
            #expect(e.description.contains("leading minor 2"), "\(e.description)")
            #expect(e.description.contains("not positive definite"))
        }
        // A negative definite matrix fails at the first minor; solvePositiveDefinite reports the same.
        let neg = Tensor<Float>.eye(3) * -1
        #expect { try neg.cholesky() } throws: { ($0 as? TensorError)?.description.contains("leading minor 1") == true }
        #expect { try solvePositiveDefinite(neg, Tensor<Float>.ones([3])) } throws: {
            ($0 as? TensorError)?.description.contains("leading minor 1") == true
        }
        #expect(throws: TensorError.self) { try Tensor<Double>.zeros([2, 3]).cholesky() }
        #expect(throws: TensorError.self) { try Tensor<Double>([1, .infinity, .infinity, 1], shape: [2, 2]).cholesky() }
        #expect(throws: TensorError.self) { try Tensor<Double>(rows: [[1, 2], [2, 1]]).logdet() }
    }

    // MARK: Solve

    @Test("solve: A·solve(A, b) = b for a vector and for several right-hand sides", arguments: [1, 4, 25, 60], Precision.allCases)
    func solveProperties(_ n: Int, _ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            let a: Tensor<S> = randomMatrix(n, n, seed: UInt64(n) + 1)
            let b: Tensor<S> = randomTensor([n], seed: UInt64(n) + 2)
            let bm: Tensor<S> = randomMatrix(n, 3, seed: UInt64(n) + 3)
            let x = try solve(a, b)
            #expect(x.shape == [n])
            let r = try matvec(a, x)
            let scale = Double(try matvec(a.abs(), x.abs()).maxAbs())
            assertNormwiseClose(r, b, tol: tol(S.self), scale: scale, "A·x − b")
            let xm = try solve(a, bm)
            #expect(xm.shape == [n, 3])
            assertNormwiseClose(try matmul(a, xm), bm, tol: tol(S.self), scale: Double(try matmul(a.abs(), xm.abs()).maxAbs()), "A·X − B")
            // Each column of the matrix solve is the vector solve of that column.
            for j in 0..<3 {
                let col = try bm.slice(j..<(j + 1), axis: 1).reshaped([n])
                assertNormwiseClose(try xm.slice(j..<(j + 1), axis: 1).reshaped([n]), try solve(a, col),
                                    tol: tol(S.self), scale: Double(xm.maxAbs()), "column \(j)")
            }
            // SPD solvers on an SPD matrix.
            let s: Tensor<S> = try spd(n, seed: UInt64(n) + 4)
            let xs = try solvePositiveDefinite(s, bm)
            assertNormwiseClose(try matmul(s, xs), bm, tol: tol(S.self), scale: Double(try matmul(s.abs(), xs.abs()).maxAbs()), "SPD solve")
            let xc = try choleskySolve(s.cholesky(), b)
            assertNormwiseClose(try matvec(s, xc), b, tol: tol(S.self), scale: Double(try matvec(s.abs(), xc.abs()).maxAbs()), "choleskySolve")
        }
        switch p { case .float: try check(Float.self); case .double: try check(Double.self) }
    }

    @Test("solve with a singular matrix throws; shape mismatches name both shapes")
    func solveErrors() throws {
        var a = try Tensor<Double>(rows: [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        for i in 0..<3 { a[i, 1] = 0 }  // an exactly zero column: LU meets an exact zero pivot
        #expect { try solve(a, Tensor<Double>.ones([3])) } throws: { e in
            guard let e = e as? TensorError, case .lapack(let routine, let info, _) = e else { return false }
            return routine == "getrf" && info > 0 && e.description.contains("singular")
        }
        #expect(throws: TensorError.self) { try a.inverse() }
        #expect(throws: TensorError.self) { try Tensor<Float>.zeros([4, 4]).inverse() }
        // Zero matrix: singular in Float too.
        #expect(throws: TensorError.self) { try solve(Tensor<Float>.zeros([2, 2]), Tensor<Float>.ones([2])) }

        let sq = Tensor<Double>.eye(3)
        #expect(throws: TensorError.shapeMismatch(operation: "solve", lhs: [3, 3], rhs: [4])) { try solve(sq, Tensor<Double>.ones([4])) }
        do {
            _ = try solve(sq, Tensor<Double>.ones([2, 5]))
            Issue.record("no error")
        } catch let e as TensorError {
            #expect(e.description.contains("[3, 3]") && e.description.contains("[2, 5]"), "\(e)")
        }
        #expect(throws: TensorError.self) { try solve(Tensor<Double>.ones([2, 3]), Tensor<Double>.ones([2])) }
        #expect(throws: TensorError.self) { try solve(sq, Tensor<Double>([1, .nan, 0])) }
        #expect(throws: TensorError.self) { try lstsq(Tensor<Double>.ones([4, 2]), Tensor<Double>.ones([3])) }
    }

    // MARK: Least squares

    @Test("lstsq: normal equations (tall), exact minimum-norm solution (wide), rank (deficient)", arguments: Precision.allCases)
    func lstsqProperties(_ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            let t = tol(S.self)
            // Tall, full rank: Aᵀ(A·x − b) = 0.
            let a: Tensor<S> = randomMatrix(30, 6, seed: 11), b: Tensor<S> = randomTensor([30], seed: 12)
            let ls = try lstsq(a, b)
            #expect(ls.rank == 6 && ls.solution.shape == [6] && ls.singularValues.shape == [6])
            let resid = try matvec(a, ls.solution) - b
            let grad = try matvec(a, resid, transposeA: true)
            #expect(Double(grad.maxAbs()) <= t * Double(a.norm()) * Double(a.norm()) * Double(ls.solution.maxAbs() + b.maxAbs()))
            #expect(try maxDifference(ls.singularValues, a.singularValues()) <= t * Double(ls.singularValues[0]))
            // Square, invertible: same as solve.
            let sq: Tensor<S> = try spd(5, seed: 13), bs: Tensor<S> = randomMatrix(5, 2, seed: 14)
            assertNormwiseClose(try lstsq(sq, bs).solution, try solve(sq, bs), tol: t, scale: 10, "lstsq = solve on square A")
            // Wide: A·x = b exactly, and x lies in the row space of A (x = Aᵀy), i.e. it is the minimum-norm one.
            let w: Tensor<S> = randomMatrix(4, 9, seed: 15), bw: Tensor<S> = randomTensor([4], seed: 16)
            let lw = try lstsq(w, bw)
            #expect(lw.rank == 4 && lw.solution.shape == [9])
            assertNormwiseClose(try matvec(w, lw.solution), bw, tol: t, scale: 10, "A·x = b")
            let y = try lstsq(w.transposed(), lw.solution)  // x = Aᵀ y must be solvable with zero residual
            assertNormwiseClose(try matvec(w, y.solution, transposeA: true), lw.solution, tol: t, scale: 10, "x in row space")
            // Rank-deficient: duplicated columns.
            var d: Tensor<S> = randomMatrix(15, 5, seed: 17)
            for i in 0..<15 { d[i, 4] = d[i, 0]; d[i, 3] = d[i, 1] }
            let ld = try lstsq(d, Tensor<S>.ones([15, 2]))
            #expect(ld.rank == 3 && ld.solution.shape == [5, 2])
            // Minimum norm splits weight equally between duplicated columns.
            for j in 0..<2 {
                assertClose(Double(ld.solution[0, j]), Double(ld.solution[4, j]), rtol: 1e3 * t, atol: t)
                assertClose(Double(ld.solution[1, j]), Double(ld.solution[3, j]), rtol: 1e3 * t, atol: t)
            }
            // A small but genuine singular value (σ₂/σ₁ = 10⁻⁴) counts under the default rcond (ε·max(m, n)),
            // not under rcond = 10⁻³.
            var thin = Tensor<S>.zeros([6, 2])
            thin[0, 0] = 1; thin[1, 1] = S(1e-4)
            #expect(try lstsq(thin, Tensor<S>.ones([6])).rank == 2)
            #expect(try lstsq(thin, Tensor<S>.ones([6]), rcond: 1e-3).rank == 1)
            // rcond = 0.99 keeps σ₁ only: rank 1 and x = (u₁·b / σ₁)·v₁. (LAPACK replaces rcond ≥ 1 by ε.)
            let l1 = try lstsq(a, b, rcond: 0.99)
            #expect(l1.rank == 1)
            let f = try a.svd()
            let u1 = try f.u.slice(0..<1, axis: 1).reshaped([30]), v1 = try f.vt.row(0)
            let expected = v1 * (try dot(u1, b) / f.s[0])
            assertNormwiseClose(l1.solution, expected, tol: t, scale: Double(expected.maxAbs()), "rank-1 truncated solution")
        }
        switch p { case .float: try check(Float.self); case .double: try check(Double.self) }
    }

    // MARK: Symmetric eigendecomposition

    @Test("eigh: A·V = V·Λ, VᵀV = I, ascending values; eigh(top: k) equals the last k", arguments: [1, 2, 9, 40], Precision.allCases)
    func eighProperties(_ n: Int, _ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            let a: Tensor<S> = try symmetric(n, seed: UInt64(n) + 21)
            let t = tol(S.self)
            let e = try a.eigh()
            #expect(e.values.shape == [n] && e.vectors.shape == [n, n])
            let lam = e.values.scalars
            let lmax = Double(e.values.maxAbs())
            #expect(zip(lam, lam.dropFirst()).allSatisfy { $0 <= $1 }, "eigenvalues must ascend: \(lam)")
            #expect(try orthonormalityError(e.vectors) <= t)
            assertNormwiseClose(try matmul(a, e.vectors), try timesDiag(e.vectors, e.values), tol: t, scale: lmax, "A·V = V·Λ")
            assertNormwiseClose(try matmul(timesDiag(e.vectors, e.values), e.vectors, transposeB: true), a, tol: t, scale: lmax, "V·Λ·Vᵀ = A")
            #expect(try maxDifference(a.eigvalsh(), e.values) <= t * lmax)
            // Only the upper triangle is read.
            var lowerJunk = a
            for i in 0..<n { for j in 0..<i { lowerJunk[i, j] = 99 } }
            #expect(try maxDifference(lowerJunk.eigvalsh(), e.values) <= t * lmax)

            for k in Set([0, 1, n / 2, n]) {
                let top = try a.eigh(top: k)
                #expect(top.values.shape == [k] && top.vectors.shape == [n, k])
                guard k > 0 else { continue }
                let last = try e.values.slice((n - k)..<n)
                #expect(try maxDifference(top.values, last) <= t * lmax, "eigh(top: \(k)) values")
                #expect(try orthonormalityError(top.vectors) <= t)
                assertNormwiseClose(try matmul(a, top.vectors), try timesDiag(top.vectors, top.values), tol: t, scale: lmax, "top-\(k) A·V = V·Λ")
                // Vectors equal the last k of eigh() up to sign (random spectra are well separated).
                let ref = try e.vectors.slice((n - k)..<n, axis: 1)
                let overlap = try matmul(top.vectors, ref, transposeA: true)
                for j in 0..<k {
                    assertClose(Swift.abs(Double(overlap[j, j])), 1, rtol: 0, atol: 1e2 * t, "|v_top · v_full| for pair \(j)")
                }
            }
            #expect(throws: TensorError.self) { try a.eigh(top: n + 1) }
            #expect(throws: TensorError.self) { try a.eigh(top: -1) }
        }
        switch p { case .float: try check(Float.self); case .double: try check(Double.self) }
    }

    @Test("eigh of a known matrix and of non-square input")
    func eighKnown() throws {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3 with vectors (1, −1)/√2 and (1, 1)/√2.
        let a = try Tensor<Double>(rows: [[2, 1], [1, 2]])
        let e = try a.eigh()
        assertClose(e.values, try Tensor([1, 3], shape: [2]), rtol: 1e-14, atol: 1e-14)
        let v = e.vectors
        assertClose(Swift.abs(v[0, 0]), 1 / 2.0.squareRoot(), rtol: 1e-14)
        #expect(v[0, 0] * v[1, 0] < 0, "eigenvector of 1 is (1, −1)/√2")
        #expect(v[0, 1] * v[1, 1] > 0, "eigenvector of 3 is (1, 1)/√2")
        #expect(throws: TensorError.self) { try Tensor<Double>.zeros([2, 3]).eigh() }
        #expect(throws: TensorError.self) { try Tensor<Double>([1, .nan, .nan, 1], shape: [2, 2]).eigh() }
        let empty = try Tensor<Double>.zeros([0, 0]).eigh()
        #expect(empty.values.shape == [0] && empty.vectors.shape == [0, 0])
    }

    // MARK: Matrix functions

    @Test("sqrtPSD² = A (full rank and rank-deficient); inverseSqrtPSD·A·inverseSqrtPSD = I on full rank",
          arguments: [MatrixCase(m: 6, n: 6, rank: nil), MatrixCase(m: 20, n: 20, rank: nil), MatrixCase(m: 10, n: 10, rank: 4)],
          Precision.allCases)
    func psdRoots(_ c: MatrixCase, _ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            let n = c.n, t = tol(S.self)
            let a: Tensor<S> = try c.rank.map { try psd(n, rank: $0, seed: 31) } ?? spd(n, seed: 31)
            let scale = Double(a.maxAbs())
            let root = try a.sqrtPSD()
            #expect(root == (try root.transposed()), "sqrtPSD must be exactly symmetric")
            assertNormwiseClose(try matmul(root, root), a, tol: t, scale: scale, "sqrtPSD²")
            // PSD: its eigenvalues are ≥ 0 (up to rounding).
            #expect(Double(try root.eigvalsh().min()) >= -t * scale)

            let w = try a.inverseSqrtPSD()
            #expect(w == (try w.transposed()))
            let wAw = try matmul(matmul(w, a), w)
            if let r = c.rank {
                // Rank-deficient: W·A·W is the orthogonal projector onto range(A): symmetric, idempotent, trace r.
                assertNormwiseClose(try matmul(wAw, wAw), wAw, tol: 1e2 * t, scale: 1, "projector is idempotent")
                var trace = 0.0
                for i in 0..<n { trace += Double(wAw[i, i]) }
                assertClose(trace, Double(r), rtol: 0, atol: 1e2 * t * Double(n), "trace = rank")
                assertNormwiseClose(try matmul(wAw, a), a, tol: 1e2 * t, scale: scale, "projector fixes A")
            } else {
                assertNormwiseClose(wAw, Tensor<S>.eye(n), tol: t, scale: Double(n), "W·A·W = I")
                assertNormwiseClose(try matmul(w, w), try a.inverse(), tol: t, scale: Double(try a.inverse().maxAbs()), "W² = A⁻¹")
            }
        }
        switch p { case .float: try check(Float.self); case .double: try check(Double.self) }
    }

    @Test("sqrtPSD of a diagonal matrix is the element-wise root; non-square input throws")
    func sqrtKnown() throws {
        var d = Tensor<Double>.zeros([3, 3])
        d[0, 0] = 4; d[1, 1] = 9; d[2, 2] = 0
        let r = try d.sqrtPSD()
        assertClose(r, try Tensor(rows: [[2, 0, 0], [0, 3, 0], [0, 0, 0]]), rtol: 1e-14, atol: 1e-14)
        let w = try d.inverseSqrtPSD()
        assertClose(w, try Tensor(rows: [[0.5, 0, 0], [0, 1.0 / 3, 0], [0, 0, 0]]), rtol: 1e-14, atol: 1e-14)
        // Negative eigenvalues (an indefinite input) are clamped to 0, not reflected.
        let indefinite = try Tensor<Double>(rows: [[4, 0, 0], [0, -9, 0], [0, 0, 1]])
        assertClose(try indefinite.sqrtPSD(), try Tensor(rows: [[2, 0, 0], [0, 0, 0], [0, 0, 1]]), rtol: 1e-14, atol: 1e-14)
        assertClose(try indefinite.inverseSqrtPSD(), try Tensor(rows: [[0.5, 0, 0], [0, 0, 0], [0, 0, 1]]), rtol: 1e-14, atol: 1e-14)
        #expect(throws: TensorError.self) { try Tensor<Double>.zeros([2, 3]).sqrtPSD() }
        #expect(throws: TensorError.self) { try Tensor<Double>.zeros([2, 3]).inverseSqrtPSD() }
    }

    // MARK: Orthonormal completion

    @Test("completingOrthonormalBasis: orthogonal D×D that starts with the given columns",
          arguments: [(8, 3), (5, 1), (6, 0), (4, 4), (30, 10)], Precision.allCases)
    func completion(_ dk: (Int, Int), _ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            let (d, k) = dk, t = tol(S.self)
            let v: Tensor<S> = k > 0 ? try (randomMatrix(d, k, seed: 41) as Tensor<S>).qr().q : Tensor<S>.zeros([d, 0])
            let full = try v.completingOrthonormalBasis(seed: 3)
            #expect(full.shape == [d, d])
            #expect(try orthonormalityError(full) <= t)
            #expect(try orthonormalityError(full.transposed()) <= t)
            #expect(try full.slice(0..<k, axis: 1) == v, "the first k columns must be V itself")
            // Deterministic for a seed; a different seed gives a different completion (when there is freedom).
            #expect(try v.completingOrthonormalBasis(seed: 3) == full)
            if d - k >= 2 { #expect(try v.completingOrthonormalBasis(seed: 4) != full) }
        }
        switch p { case .float: try check(Float.self); case .double: try check(Double.self) }
    }

    @Test("householderCompletion: orthogonal D×D, starts with V, complement ⟂ V, deterministic",
          arguments: [(8, 3), (5, 1), (6, 0), (4, 4), (30, 10), (200, 9)], Precision.allCases)
    func householderCompletion(_ dk: (Int, Int), _ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            let (d, k) = dk, t = tol(S.self)
            let v: Tensor<S> = k > 0 ? try (randomMatrix(d, k, seed: 43) as Tensor<S>).qr().q : Tensor<S>.zeros([d, 0])
            let full = try v.householderCompletion()
            #expect(full.shape == [d, d])
            #expect(try orthonormalityError(full) <= t)
            #expect(try orthonormalityError(full.transposed()) <= t)
            #expect(try full.slice(0..<k, axis: 1) == v, "the first k columns must be V itself")
            if k > 0 && k < d {
                // The complement is orthogonal to V: max |Vᵀ V⊥| at rounding level.
                let cross = try matmul(v, full.slice(k..<d, axis: 1), transposeA: true)
                #expect(Double(cross.maxAbs()) <= t)
            }
            #expect(try v.householderCompletion() == full, "no randomness: the same V gives the same completion")
        }
        switch p { case .float: try check(Float.self); case .double: try check(Double.self) }
    }

    @Test("householderCompletion rejects non-orthonormal columns, too many columns and non-finite input")
    func householderCompletionErrors() throws {
        let notOrtho = try Tensor<Double>(rows: [[1, 1], [0, 1], [0, 0]])
        #expect { try notOrtho.householderCompletion() } throws: {
            ($0 as? TensorError)?.description.contains("not orthonormal") == true
        }
        #expect(throws: TensorError.self) { try Tensor<Double>.eye(3, columns: 4).householderCompletion() }
        #expect(throws: TensorError.self) { try Tensor<Double>.zeros([3]).householderCompletion() }
        #expect(throws: TensorError.self) { try Tensor<Double>(rows: [[.nan], [0], [0]]).householderCompletion() }
    }

    @Test("completingOrthonormalBasis rejects non-orthonormal columns and too many columns")
    func completionErrors() throws {
        let notOrtho = try Tensor<Double>(rows: [[1, 1], [0, 1], [0, 0]])
        #expect { try notOrtho.completingOrthonormalBasis() } throws: {
            ($0 as? TensorError)?.description.contains("not orthonormal") == true
        }
        #expect(throws: TensorError.self) { try (Tensor<Double>.eye(3) * 2).completingOrthonormalBasis() }
        #expect(throws: TensorError.self) { try Tensor<Double>.eye(3, columns: 4).completingOrthonormalBasis() }
        #expect(throws: TensorError.self) { try Tensor<Double>.zeros([3]).completingOrthonormalBasis() }
    }

    // MARK: Inverse and determinants

    @Test("inverse·A = A·inverse = I; slogdet(AB) = slogdet(A) + slogdet(B)", arguments: [1, 3, 10, 40], Precision.allCases)
    func inverseAndDeterminant(_ n: Int, _ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            // Random Gaussian matrices plus √n·I are comfortably conditioned.
            let a: Tensor<S> = try randomMatrix(n, n, seed: UInt64(n) + 51) + Tensor<S>.eye(n) * S(Double(n).squareRoot())
            let b: Tensor<S> = try randomMatrix(n, n, seed: UInt64(n) + 52) + Tensor<S>.eye(n) * S(Double(n).squareRoot())
            let inv = try a.inverse()
            let t = tol(S.self) * 10
            let scale = Double(inv.maxAbs()) * Double(a.maxAbs()) * Double(n)
            assertNormwiseClose(try matmul(inv, a), Tensor<S>.eye(n), tol: t, scale: scale, "A⁻¹·A")
            assertNormwiseClose(try matmul(a, inv), Tensor<S>.eye(n), tol: t, scale: scale, "A·A⁻¹")
            let (sa, la) = try a.slogdet(), (sb, lb) = try b.slogdet(), (sab, lab) = try matmul(a, b).slogdet()
            #expect(sab == sa * sb)
            assertClose(Double(lab), Double(la) + Double(lb), rtol: 0, atol: t * Double(n) * 10)
            // det(A⁻¹) = 1/det(A).
            let (si, li) = try inv.slogdet()
            #expect(si == sa)
            assertClose(Double(li), -Double(la), rtol: 0, atol: t * Double(n) * 10)
        }
        switch p { case .float: try check(Float.self); case .double: try check(Double.self) }
    }

    @Test("slogdet of known matrices: permutation sign, diagonal product, singular")
    func slogdetKnown() throws {
        let swap = try Tensor<Double>(rows: [[0, 1, 0], [1, 0, 0], [0, 0, 1]])
        let (s1, l1) = try swap.slogdet()
        #expect(s1 == -1 && Swift.abs(l1) < 1e-15)
        let diag = try Tensor<Double>(rows: [[2, 0, 0], [0, -3, 0], [0, 0, 0.5]])
        let (s2, l2) = try diag.slogdet()
        #expect(s2 == -1)
        assertClose(l2, Foundation.log(3.0), rtol: 1e-15)
        let (s3, l3) = try Tensor<Float>(rows: [[1, 2], [2, 4]]).slogdet()
        #expect(s3 == 0 && l3 == -.infinity)
        let (s4, l4) = try Tensor<Double>.zeros([0, 0]).slogdet()
        #expect(s4 == 1 && l4 == 0)
        #expect(throws: TensorError.self) { try Tensor<Double>.zeros([2, 3]).slogdet() }
        #expect(throws: TensorError.self) { try Tensor<Double>.zeros([2, 3]).inverse() }
    }
}
