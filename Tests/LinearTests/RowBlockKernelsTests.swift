// The row-block kernels of Linear (`RowBlockKernels`, `centeredTriangularFactor`, `affine`) against the same
// quantity formed plainly with Tensor operations in Double, in Float and Double, on odd sizes whose row count is
// not a multiple of any kernel's block (D = 67: blocks of 978 to 3912 rows; n = 4999; widths not multiples of the
// 8- and 16-lane loops).
//
// Tolerance: max|kernel − reference| ≤ tol·max(1, max|reference|), tol 1e-12 for Double input and 1e-5 for Float
// input (whose products run in Float: rounding ~ n·ε_Float relative to the data's scale would be 1e-3 at worst;
// measured below 1e-6).

import Foundation
import Linear
import Testing
import TestSupport

private func tol<S: BLASScalar>(_: S.Type) -> Double { S.self == Float.self ? 1e-5 : 1e-12 }

/// max|a − b| / max(1, max|b|).
private func relativeError(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    maxDifference(a, b) / Swift.max(1, Double(b.maxAbs()))
}

/// Rows with an offset and unequal column scales, so that centring matters: x = 3 + N(0, 1)·(1 + j/D).
private func rows<S: BLASScalar>(_ n: Int, _ d: Int, seed: UInt64) throws -> Tensor<S> {
    let z = Tensor<Double>.normal([n, d], seed: seed)
    let s = Tensor<Double>((0..<d).map { 1 + Double($0) / Double(d) })
    return try (z * s.reshaped([1, d]) + 3).cast()
}

/// The centred (and scaled) Double copy (x − μ)/s that the kernels never form.
private func centred<S: BLASScalar>(_ x: Tensor<S>, _ mu: [Double], _ s: [Double]? = nil) throws -> Tensor<Double> {
    let d = mu.count
    var c = try x.cast(to: Double.self) - Tensor(mu).reshaped([1, d])
    if let s { c = try c / Tensor(s).reshaped([1, d]) }
    return c
}

/// Columns `range` of a matrix.
private func columns(_ v: Tensor<Double>, _ range: Range<Int>) throws -> Tensor<Double> {
    try v.transposed().slice(range).transposed()
}

@Suite("RowBlockKernels: blocked centred products against plain Tensor operations")
struct RowBlockKernelsTests {
    static let n = 4999, d = 67

    @Test("columnSums: Σᵢ xᵢⱼ and its total; a NaN makes the total non-finite", arguments: [false, true])
    func columnSums(single: Bool) throws {
        if single { try checkColumnSums(Float.self) } else { try checkColumnSums(Double.self) }
    }

    func checkColumnSums<S: BLASScalar>(_: S.Type) throws {
        var x: Tensor<S> = try rows(Self.n, 13, seed: 1)
        let (sums, total) = try RowBlockKernels.columnSums(x)
        let reference = try x.cast(to: Double.self).sum(axis: 0)
        #expect(relativeError(Tensor(sums), reference) < tol(S.self) * Double(Self.n))
        #expect(isClose(total, reference.scalars.reduce(0, +), rtol: 1e-12))
        x.withUnsafeMutableBufferPointer { $0[17 * 13 + 5] = .nan }
        #expect(!(try RowBlockKernels.columnSums(x)).total.isFinite)
    }

    @Test("centeredProduct = ((X − 1μᵀ)/s)·V[:, columns], with and without scale", arguments: [false, true])
    func centeredProduct(single: Bool) throws {
        if single { try checkCenteredProduct(Float.self) } else { try checkCenteredProduct(Double.self) }
    }

    func checkCenteredProduct<S: BLASScalar>(_: S.Type) throws {
        let n = 2501, d = Self.d
        let x: Tensor<S> = try rows(n, d, seed: 2)
        let mu = (0..<d).map { 3 + 0.01 * Double($0) }, s = (0..<d).map { 0.5 + Double($0 % 7) }
        let v = try Tensor<Double>.normal([d, d], seed: 3).qr().q
        for (scale, cols) in [(nil, 0..<9), (s, 9..<d), (s, 0..<d)] as [([Double]?, Range<Int>)] {
            let (z, finite) = try RowBlockKernels.centeredProduct(x, mean: Tensor(mu), scale: scale.map { Tensor($0) }, basis: v, columns: cols)
            let reference = try matmul(centred(x, mu, scale), columns(v, cols))
            #expect(finite)
            #expect(z.shape == [n, cols.count])
            #expect(relativeError(z, reference) < tol(S.self), "columns \(cols), scaled \(scale != nil)")
        }
        var bad = x
        bad.withUnsafeMutableBufferPointer { $0[(n - 1) * d + 3] = .infinity }
        #expect(!(try RowBlockKernels.centeredProduct(bad, mean: Tensor(mu), scale: nil, basis: v, columns: 0..<4)).finite)
    }

    @Test("affineReconstruction = μ + (Z·V_kᵀ + R·V_⊥ᵀ)·s inverts two centredProducts")
    func affineReconstruction() throws {
        let n = Self.n, d = Self.d, k = 5
        let v = try Tensor<Double>.normal([d, d], seed: 4).qr().q
        let z = Tensor<Double>.normal([n, k], seed: 5), r = Tensor<Double>.normal([n, d - k], seed: 6)
        let mu = Tensor<Double>((0..<d).map { Double($0) - 30 }), s = Tensor<Double>((0..<d).map { 1 + Double($0 % 5) })
        let product = try matmul(z, columns(v, 0..<k), transposeB: true) + matmul(r, columns(v, k..<d), transposeB: true)
        for scale in [nil, s] {
            let (x, finite) = try RowBlockKernels.affineReconstruction(z, residual: r, basis: v, mean: mu, scale: scale)
            var reference = product
            if let scale { reference = try reference * scale.reshaped([1, d]) }
            reference = try reference + mu.reshaped([1, d])
            #expect(finite)
            #expect(relativeError(x, reference) < 1e-12, "scaled \(scale != nil)")
            // Without the residual: the rank-k part only.
            let (xk, _) = try RowBlockKernels.affineReconstruction(z, residual: nil, basis: v, mean: mu, scale: scale)
            var referenceK = try matmul(z, columns(v, 0..<k), transposeB: true)
            if let scale { referenceK = try referenceK * scale.reshaped([1, d]) }
            #expect(relativeError(xk, try referenceK + mu.reshaped([1, d])) < 1e-12)
            // The round trip: centredProduct over complementary columns, then back.
            let xs: Tensor<Double> = try rows(n, d, seed: 7)
            let core = try RowBlockKernels.centeredProduct(xs, mean: mu, scale: scale, basis: v, columns: 0..<k).product
            let rest = try RowBlockKernels.centeredProduct(xs, mean: mu, scale: scale, basis: v, columns: k..<d).product
            let back = try RowBlockKernels.affineReconstruction(core, residual: rest, basis: v, mean: mu, scale: scale).result
            #expect(relativeError(back, xs) < 1e-12)
        }
        var bad = r
        bad.withUnsafeMutableBufferPointer { $0[1234] = .nan }
        #expect(!(try RowBlockKernels.affineReconstruction(z, residual: bad, basis: v, mean: mu, scale: nil)).residualFinite)
    }

    @Test("centeredGramProduct = X_cᵀ(X_c Z), Σ(x − μ)² and Σ(x − μ) per column", arguments: [false, true])
    func centeredGramProduct(single: Bool) throws {
        if single { try checkGramProduct(Float.self) } else { try checkGramProduct(Double.self) }
    }

    func checkGramProduct<S: BLASScalar>(_: S.Type) throws {
        let n = Self.n, d = Self.d, l = 19
        let x: Tensor<S> = try rows(n, d, seed: 8)
        let z = try Tensor<Double>.normal([d, l], seed: 9).qr().q
        let mu = try x.cast(to: Double.self).mean(axis: 0).scalars
        let xc = try centred(x, mu)
        let reference = try matmul(xc, matmul(xc, z), transposeA: true)
        for (squares, sums) in [(false, false), (true, true), (true, false), (false, true)] {
            let g = try RowBlockKernels.centeredGramProduct(x, mean: mu, z, sumOfSquares: squares, columnSums: sums)
            #expect(relativeError(g.product, reference) < tol(S.self) * 10, "squares \(squares), sums \(sums)")
            if squares { #expect(isClose(g.sumOfSquares, xc.square().sum(), rtol: 1e-12)) } else { #expect(g.sumOfSquares == 0) }
            // The column sums of X_c are 0 up to rounding of n values of size ~3.
            if sums { #expect(g.columnSums.allSatisfy { Swift.abs($0) < 1e-9 * Double(n) }) }
        }
    }

    @Test("centeredScatter: count, mean and Σ(x − μ)(x − μ)ᵀ over chunks that do not divide n", arguments: [false, true])
    func centeredScatter(single: Bool) throws {
        if single { try checkScatter(Float.self) } else { try checkScatter(Double.self) }
    }

    func checkScatter<S: BLASScalar>(_: S.Type) throws {
        let n = 3001, d = Self.d                           // fewer than 4096 rows per worker: one part
        let x: Tensor<S> = try rows(n, d, seed: 10)
        let mu = try x.cast(to: Double.self).mean(axis: 0)
        let reference = try centred(x, mu.scalars).gram()
        for chunk in [1500, 4096, 777] {
            guard case .success(let parts) = try RowBlockKernels.centeredScatter(x, chunk: chunk) else {
                Issue.record("finite rows reported as non-finite"); return
            }
            #expect(parts.count == 1)
            let p = parts[0]
            #expect(p.count == n)
            // Float rows are centred in Float and their sums gathered in Float over 32 rows (measured 2.7e-9).
            #expect(relativeError(Tensor(p.mean), mu) < (S.self == Float.self ? 1e-7 : 1e-12))
            // Float rows: Float syrk within each chunk, Double across chunks.
            #expect(relativeError(p.scatter, reference) < (S.self == Float.self ? 2e-5 : 1e-11), "chunk \(chunk)")
            #expect(maxDifference(p.scatter, try p.scatter.transposed()) == 0)
        }
        var bad = x
        bad.withUnsafeMutableBufferPointer { $0[2000 * d + 1] = .nan }
        guard case .failure(let failure) = try RowBlockKernels.centeredScatter(bad, chunk: 777) else {
            Issue.record("a NaN at row 2000 was not reported"); return
        }
        #expect(failure.rows == 1554..<2331)
    }

    @Test("centeredJointGram = upper triangle of [X_c Y_c]ᵀ[X_c Y_c], for every mix of precisions")
    func centeredJointGram() throws {
        try checkJointGram(Float.self, Double.self)
        try checkJointGram(Double.self, Float.self)
        try checkJointGram(Double.self, Double.self)
        try checkJointGram(Float.self, Float.self)
    }

    func checkJointGram<S: BLASScalar, T: BLASScalar>(_: S.Type, _: T.Type) throws {
        let n = Self.n, d1 = Self.d, d2 = 13
        let x: Tensor<S> = try rows(n, d1, seed: 11), y: Tensor<T> = try rows(n, d2, seed: 12)
        let mx = try x.cast(to: Double.self).mean(axis: 0).scalars, my = try y.cast(to: Double.self).mean(axis: 0).scalars
        let g = try RowBlockKernels.centeredJointGram(x, y, mean: mx + my)
        let joint = try Tensor<Double>.concatenate([centred(x, mx), centred(y, my)], axis: 1)
        let reference = try joint.gram()
        let dd = d1 + d2
        var upper = 0.0, lower = 0.0
        for i in 0..<dd {
            for j in 0..<dd {
                if j >= i { upper = Swift.max(upper, Swift.abs(g[i, j] - reference[i, j])) } else { lower = Swift.max(lower, Swift.abs(g[i, j])) }
            }
        }
        #expect(upper / Double(reference.maxAbs()) < 1e-12, "\(S.self), \(T.self)")
        #expect(lower == 0)
    }

    @Test("centeredTriangularFactor: R upper triangular with RᵀR = X_cᵀX_c and the singular values of X_c", arguments: [false, true])
    func centeredTriangularFactor(single: Bool) throws {
        if single { try checkTriangularFactor(Float.self) } else { try checkTriangularFactor(Double.self) }
    }

    func checkTriangularFactor<S: BLASScalar>(_: S.Type) throws {
        let n = 1001, d = 37
        let x: Tensor<S> = try rows(n, d, seed: 13)
        let mu = try x.cast(to: Double.self).mean(axis: 0).scalars
        for scale in [nil, (0..<d).map { 0.25 + Double($0 % 3) }] {
            let r = try x.centeredTriangularFactor(mean: mu, scale: scale)
            let xc = try centred(x, mu, scale)
            #expect(r.shape == [d, d])
            for i in 0..<d { for j in 0..<i { #expect(r[i, j] == 0) } }
            #expect(relativeError(try matmul(r, r, transposeA: true), try xc.gram()) < 1e-11)
            let s = try r.svd().s, reference = try xc.svd().s
            #expect(relativeError(s, reference) < 1e-12)
        }
        #expect(throws: TensorError.self) { try x.slice(0..<10).centeredTriangularFactor(mean: mu, scale: nil) }  // n < D
    }

    @Test("affine = x·Wᵀ + b, with and without the bias, and for k = 0", arguments: [false, true])
    func affine(single: Bool) throws {
        if single { try checkAffine(Float.self) } else { try checkAffine(Double.self) }
    }

    func checkAffine<S: BLASScalar>(_: S.Type) throws {
        let x: Tensor<S> = try rows(53, 29, seed: 14), w: Tensor<S> = try rows(11, 29, seed: 15), b: Tensor<S> = try (rows(1, 11, seed: 16) as Tensor<S>).reshaped([11])
        let plain = try matmul(x, w, transposeB: true)
        #expect(maxDifference(try Linear.affine(x, weight: w, bias: nil), plain) == 0)
        let biased = try Linear.affine(x, weight: w, bias: b)
        #expect(maxDifference(biased, try plain + b.reshaped([1, 11])) <= tol(S.self) * Double(plain.maxAbs()) * 10)
        let empty = try Linear.affine(Tensor<S>.zeros([4, 0]), weight: Tensor<S>.zeros([3, 0]), bias: b.slice(0..<3))
        #expect(maxDifference(empty, try Tensor<S>.zeros([4, 3]) + b.slice(0..<3).reshaped([1, 3])) == 0)
        #expect(throws: TensorError.self) { try Linear.affine(x, weight: w.transposed(), bias: nil) }
    }
}
