// Linear's randomized eigensolver, basis orientation, row softmax and activation gradients against independent
// references: LAPACK's full eigendecomposition, the definitions, and central finite differences.

import Foundation
import Linear
import Testing
import TestSupport

/// A symmetric PSD D×D matrix with a known spectrum: Q·diag(θ)·Qᵀ for the orthonormal Q of a seeded Gaussian.
private func psd(_ theta: [Double], seed: UInt64) throws -> (c: Tensor<Double>, q: Tensor<Double>) {
    let d = theta.count
    let q = try Tensor<Double>.normal([d, d], seed: seed).qr().q
    let scaled = try q * Tensor(theta).reshaped([1, d])
    return (try matmul(scaled, q, transposeB: true), q)
}

@Suite("Linear's spectral kernels: subspace iteration, orientation, row softmax, activation gradients")
struct SpectralKernelsTests {
    @Test("SubspaceIteration finds the top eigenpairs of a spectrum with a gap (Halko et al. 2011, §4.5)")
    func subspaceIteration() throws {
        let d = 97, r = 5
        // Top five well separated, then a slowly decaying tail: the error bound (θ_{l+1}/θ_r)^{2q+2} is tiny.
        let theta: [Double] = (0..<d).map { (i: Int) -> Double in
            let scale: Double = i < r ? 100 : 1
            return scale / Double(i + 1)
        }
        let (c, q) = try psd(theta, seed: 3)
        var calls = [Int]()
        let top = try SubspaceIteration.topEigenpairs(dimension: d, sketch: r + 10, rank: r, iterations: 4, seed: 7) { z, t in
            calls.append(t)
            return try matmul(c, z)
        }
        #expect(calls == Array(0..<6), "q + 2 = 6 products, numbered in order")
        #expect(top.vectors.shape == [d, r])
        for i in 0..<r {
            let found: Double = top.values[i], expected: Double = theta[i]
            #expect(isClose(found, expected, rtol: 1e-10), "eigenvalue \(i + 1): \(found) against \(expected)")
            // Each Ritz vector matches the true eigenvector up to sign.
            let vi: Tensor<Double> = try top.vectors.transposed().slice(i..<(i + 1))
            let qi: Tensor<Double> = try q.transposed().slice(i..<(i + 1))
            let cosine: Double = try matmul(vi, qi, transposeB: true).scalars[0]
            #expect(Swift.abs(Swift.abs(cosine) - 1) < 1e-10)
        }
        // Orthonormal columns.
        #expect(maxDifference(try matmul(top.vectors, top.vectors, transposeA: true), Tensor<Double>.eye(r)) < 1e-12)
        // The same seed gives the same bits.
        let again = try SubspaceIteration.topEigenpairs(dimension: d, sketch: r + 10, rank: r, iterations: 4, seed: 7) { z, _ in try matmul(c, z) }
        #expect(again.vectors == top.vectors && again.values == top.values)
        #expect(throws: ConfigurationError.self) {
            try SubspaceIteration.topEigenpairs(dimension: d, sketch: 3, rank: 5, iterations: 1, seed: 0) { z, _ in z }
        }
    }

    @Test("orientingColumnSigns: the largest-magnitude entry of every column is positive; flips are exact")
    func orientation() throws {
        let v = try Tensor<Double>([0.1, -0.9, 0.3,
                                    -0.5, 0.2, 0.3,
                                    0.2, 0.1, -0.3], shape: [3, 3])
        let o = try v.orientingColumnSigns()
        // Column 0: largest |·| is −0.5 → flipped; column 1: −0.9 → flipped; column 2: a tie at 0.3 (first wins) → kept.
        #expect(o.scalars == [-0.1, 0.9, 0.3, 0.5, -0.2, 0.3, -0.2, -0.1, -0.3])
        #expect(try o.orientingColumnSigns() == o, "orienting twice changes nothing")
        #expect(throws: TensorError.self) { try Tensor<Double>([1, 2, 3]).orientingColumnSigns() }
    }

    @Test("orientedBasis completes orthonormal columns to an oriented orthogonal D×D basis that keeps span(V)")
    func orientedBasis() throws {
        let d = 41, m = 6
        let v = try Tensor<Double>.normal([d, m], seed: 11).qr().q
        let b = try v.orientedBasis(tolerance: 1e-8)
        #expect(b.shape == [d, d])
        #expect(maxDifference(try matmul(b, b, transposeA: true), Tensor<Double>.eye(d)) < 1e-12)
        // The first m columns are V's up to sign.
        let overlap = try matmul(try b.transposed().slice(0..<m), v)                      // m × m, ± identity
        #expect(maxDifference(overlap.abs(), Tensor<Double>.eye(m)) < 1e-12)
        let oriented = try b.orientingColumnSigns()
        #expect(oriented == b)
        #expect(throws: (any Error).self) { try (v * 2).orientedBasis(tolerance: 1e-8) }
    }

    @Test("softmax along the last axis (vector path) agrees with the strided path and with exp(x − logsumexp x)",
          arguments: [false, true])
    func softmax(single: Bool) throws {
        if single { try checkSoftmax(Float.self, tol: 2e-6) } else { try checkSoftmax(Double.self, tol: 1e-12) }
    }

    func checkSoftmax<S: BLASScalar>(_: S.Type, tol: Double) throws {
        // 37 columns (not a multiple of the 8 lanes), shifted rows (one far from 0), one row of equal values. The
        // reference exp(x − logsumexp x) loses |logsumexp|·ε ≈ 900·2⁻⁵² ≈ 2e-13 on the shifted row.
        var x: Tensor<S> = (Tensor<Double>.normal([6, 37], seed: 5) * 4).cast()
        x.withUnsafeMutableBufferPointer { p in
            for j in 0..<37 { p[2 * 37 + j] += 900; p[5 * 37 + j] = 1 }
        }
        let fast = try x.softmax(axis: -1)
        let strided = try x.transposed().softmax(axis: 0).transposed()
        #expect(maxDifference(fast, strided) < tol)
        let reference = try (x.cast(to: Double.self) - x.cast(to: Double.self).logsumexp(axis: 1, keepDims: true)).exp()
        #expect(maxDifference(try fast.cast(to: Double.self), reference) < tol)
        #expect(maxDifference(try fast.sum(axis: 1).cast(to: Double.self), Tensor<Double>.ones([6])) < tol * 4)
        #expect(try fast.slice(5..<6).scalars.allSatisfy { abs(Double($0) - 1.0 / 37) < tol })
    }

    @Test("silu, gelu and relu gradients: g ⊙ f′(x) against central differences of f, in Double")
    func activationGradients() throws {
        let x = Tensor<Double>.normal([3, 29], seed: 9) * 2
        let g = Tensor<Double>.normal([3, 29], seed: 10)
        let h = 1e-6
        let cases: [(String, (Tensor<Double>) -> Tensor<Double>, (Tensor<Double>) throws -> Tensor<Double>)] = [
            ("silu", { $0.silu() }, { try x.siluGradient($0) }),
            ("gelu", { $0.gelu() }, { try x.geluGradient($0) }),
        ]
        for (name, f, gradient) in cases {
            let numeric = try g * ((f(x + h) - f(x - h)) / (2 * h))
            #expect(maxDifference(try gradient(g), numeric) < 1e-7, "\(name)")
        }
        // ReLU: away from the kink its derivative is the indicator.
        let relu = try x.reluGradient(g)
        #expect(relu.scalars == zip(x.scalars, g.scalars).map { $0 > 0 ? $1 : 0 })
        #expect(throws: TensorError.self) { try x.siluGradient(Tensor<Double>.ones([2])) }
    }
}
