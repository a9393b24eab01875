import Foundation
import Linear

/// Pairwise distances, the RBF kernel with the median-heuristic bandwidth, and the unbiased MMD² with its
/// permutation test (docs/method.md §7). Every product is a BLAS call.
public enum MMDKernels {
    /// Squared Euclidean distances ‖aᵢ − bⱼ‖² [m, n], as ‖a‖² + ‖b‖² − 2abᵀ (one gemm), clamped at 0.
    public static func squaredDistances(_ a: Tensor<Double>, _ b: Tensor<Double>) throws -> Tensor<Double> {
        guard a.rank == 2, b.rank == 2, a.shape[1] == b.shape[1] else {
            throw TensorError.shapeMismatch(operation: "squaredDistances", lhs: a.shape, rhs: b.shape)
        }
        let m = a.shape[0], n = b.shape[0]
        let same = a.shape == b.shape && a.sharesStorage(with: b)
        let na = try a.square().sum(axis: 1), nb = same ? na : try b.square().sum(axis: 1)
        var g: Tensor<Double>
        if same {
            // AAᵀ by syrk (half the flops of the general product), mirrored.
            g = try a.rowGram()
        } else {
            g = try matmul(a, b, transposeB: true)
        }
        g.withUnsafeMutableBufferPointer { p in
            na.withUnsafeBufferPointer { pa in
                nb.withUnsafeBufferPointer { pb in
                    for i in 0..<m { for j in 0..<n { p[i * n + j] = Swift.max(0, pa[i] + pb[j] - 2 * p[i * n + j]) } }
                }
            }
        }
        return g
    }

    /// The median heuristic of alibi-detect's MMDDrift: h² = ½·median of the pairwise squared distances within
    /// `x`, diagonal excluded, over at most `maxPoints` rows (a seeded random subset when there are more).
    public static func medianBandwidth2(_ x: Tensor<Double>, maxPoints: Int = 1000, seed: UInt64 = 0) throws -> Double {
        var sub = x
        if x.shape[0] > maxPoints {
            var g = RandomGenerator(seed: seed)
            sub = try x.gather(rows: g.choice(x.shape[0], count: maxPoints))
        }
        let m = sub.shape[0]
        guard m >= 2 else { throw AnalysisError.tooFewRows(term: "bandwidth", needed: 2, got: m, detail: "need at least 2 points, got \(m)") }
        let d2 = try squaredDistances(sub, sub)
        var upper = [Double](repeating: 0, count: m * (m - 1) / 2)
        upper.withUnsafeMutableBufferPointer { u in
            d2.withUnsafeBufferPointer { p in
                var t = 0
                for i in 0..<m { for j in (i + 1)..<m { u[t] = p[i * m + j]; t += 1 } }
            }
        }
        let med = median(selecting: &upper)
        if med > 0 { return 0.5 * med }
        // More than half of the pairs coincide: fall back to the mean of the distinct pairs' squared distances.
        let positive = upper.filter { $0 > 0 }
        return positive.isEmpty ? 1 : 0.5 * positive.reduce(0, +) / Double(positive.count)
    }

    /// The median of `xs` (the mean of the two middle values for an even count), equal to `Spectrum.median` but by
    /// selection (expected O(n)) instead of a full sort; reorders `xs`.
    static func median(selecting xs: inout [Double]) -> Double {
        let n = xs.count
        guard n > 0 else { return .nan }
        let upper = select(&xs, k: n / 2)
        return n % 2 == 1 ? upper : (largest(of: xs, before: n / 2) + upper) / 2
    }

    /// The k-th smallest value of `xs` (0-based) by Hoare's selection with a median-of-three pivot (expected O(n));
    /// reorders `xs` so that every value before position k is ≤ it and every value after is ≥ it.
    static func select(_ xs: inout [Double], k: Int) -> Double {
        precondition(k >= 0 && k < xs.count, "select: k = \(k) outside 0..<\(xs.count)")
        return xs.withUnsafeMutableBufferPointer { b -> Double in
            let p = b.baseAddress!
            var lo = 0, hi = b.count - 1
            while hi > lo {
                let mid = lo + (hi - lo) / 2
                // Median of three as the pivot value.
                var x = p[lo], y = p[mid], z = p[hi]
                if x > y { swap(&x, &y) }
                if y > z { swap(&y, &z) }
                if x > y { swap(&x, &y) }
                let pivot = y
                var i = lo, j = hi
                while i <= j {
                    while p[i] < pivot { i += 1 }
                    while p[j] > pivot { j -= 1 }
                    if i <= j { let t = p[i]; p[i] = p[j]; p[j] = t; i += 1; j -= 1 }
                }
                if k <= j { hi = j } else if k >= i { lo = i } else { break }
            }
            return p[k]
        }
    }

    /// The largest of the first `k` values: after `select(&xs, k:)`, the (k − 1)-th smallest.
    static func largest(of xs: [Double], before k: Int) -> Double {
        var m = -Double.infinity
        for t in 0..<k where xs[t] > m { m = xs[t] }
        return m
    }

    /// exp(−D²/(2h²)) element-wise, computed in place in the buffer of `d2` (which the call consumes), so an
    /// N×N kernel costs one N×N buffer.
    public static func rbf(squaredDistances d2: consuming Tensor<Double>, bandwidth2 h2: Double) -> Tensor<Double> {
        var k = d2
        k.formExp(scaledBy: -1 / (2 * h2))
        return k
    }

    /// Unbiased MMD² (diagonals excluded) from the pooled kernel matrix K of [A; B] and A's size m:
    /// ΣK_AA/(m(m−1)) + ΣK_BB/(n(n−1)) − 2·mean(K_AB).
    public static func mmd2(pooledKernel k: Tensor<Double>, m: Int) -> Double {
        let total = k.shape[0], n = total - m
        precondition(m >= 2 && n >= 2, "mmd2: each set needs at least 2 rows (got \(m) and \(n))")
        var saa = 0.0, sbb = 0.0, sab = 0.0
        k.withUnsafeBufferPointer { p in
            // Block sums row by row (vectorised), then the diagonal taken out of the two within-set blocks.
            for i in 0..<total {
                let row = p.baseAddress! + i * total
                if i < m {
                    saa += rowSum(row, m) - row[i]
                    sab += rowSum(row + m, n)
                } else {
                    sbb += rowSum(row + m, n) - row[i]
                }
            }
        }
        return saa / Double(m * (m - 1)) + sbb / Double(n * (n - 1)) - 2 * sab / Double(m * n)
    }

    /// Unbiased MMD² of one block pair X [b_x, D], Y [b_y, D] under the RBF kernel of bandwidth² `h2`: the statistic
    /// of the B-test (Zaremba, Gretton & Blaschko 2013), whose average over independent blocks is the block MMD.
    ///
    /// Equal block sizes b use the U-statistic of Gretton et al. (2012, eq. 3),
    /// (1/(b(b−1))) Σ_{i≠j} [k(xᵢ,xⱼ) + k(yᵢ,yⱼ) − k(xᵢ,yⱼ) − k(xⱼ,yᵢ)], which is exactly 0 when X = Y; a pair of
    /// byte-identical blocks is recognised and returns 0 without rounding. Unequal sizes use the unbiased
    /// ΣK_XX/(b_x(b_x−1)) + ΣK_YY/(b_y(b_y−1)) − 2ΣK_XY/(b_x b_y) (diagonals excluded). One syrk of the pooled block.
    public static func blockMMD2(_ x: Tensor<Double>, _ y: Tensor<Double>, bandwidth2 h2: Double) throws -> Double {
        guard x.rank == 2, y.rank == 2, x.shape[1] == y.shape[1], x.shape[0] >= 2, y.shape[0] >= 2 else {
            throw TensorError.shapeMismatch(operation: "blockMMD2 (two blocks of at least 2 rows, same D)", lhs: x.shape, rhs: y.shape)
        }
        let bx = x.shape[0], by = y.shape[0]
        if bx == by {
            let same = x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in memcmp(xp.baseAddress!, yp.baseAddress!, xp.count * MemoryLayout<Double>.stride) == 0 }
            }
            if same { return 0 }
        }
        let pooled = try Tensor.concatenate([x, y])
        let k = rbf(squaredDistances: try squaredDistances(pooled, pooled), bandwidth2: h2)
        guard bx == by else { return mmd2(pooledKernel: k, m: bx) }
        let b = bx, total = 2 * b
        var acc = 0.0
        k.withUnsafeBufferPointer { p in
            for i in 0..<b {
                let rx = p.baseAddress! + i * total, ry = p.baseAddress! + (b + i) * total
                // Row i of K_XX and K_YY, minus row i of K_XY and of K_YX, each without its diagonal term.
                acc += rowSum(rx, b) - rx[i] + rowSum(ry + b, b) - ry[b + i]
                acc -= rowSum(rx + b, b) - rx[b + i] + rowSum(ry, b) - ry[i]
            }
        }
        return acc / Double(b * (b - 1))
    }

    /// MMD² of `permutations` seeded random relabellings of the pooled set, all at once: with S the N×P matrix
    /// of A-indicators, K·S is one gemm and each permutation's three block sums follow from it in O(N).
    public static func permutedMMD2(pooledKernel k: Tensor<Double>, m: Int, permutations: Int, seed: UInt64) throws -> [Double] {
        let total = k.shape[0], n = total - m
        guard permutations > 0 else { return [] }
        var g = RandomGenerator(seed: seed)
        var s = Tensor<Double>.zeros([total, permutations])
        s.withUnsafeMutableBufferPointer { p in
            for q in 0..<permutations {
                let perm = g.permutation(total)
                for i in 0..<m { p[perm[i] * permutations + q] = 1 }
            }
        }
        let ks = try matmul(k, s)                                   // N × P
        let rowSums = try k.sum(axis: 1).scalars                    // K·1
        let kTotal = rowSums.reduce(0, +)
        var diagonal = [Double](repeating: 0, count: total)
        k.withUnsafeBufferPointer { p in for i in 0..<total { diagonal[i] = p[i * total + i] } }
        let diag = diagonal.reduce(0, +)
        var out = [Double](repeating: 0, count: permutations)
        s.withUnsafeBufferPointer { sp in
            ks.withUnsafeBufferPointer { kp in
                for q in 0..<permutations {
                    var aKa = 0.0, oneKa = 0.0, diagA = 0.0
                    for i in 0..<total where sp[i * permutations + q] != 0 {
                        aKa += kp[i * permutations + q]
                        oneKa += rowSums[i]
                        diagA += diagonal[i]
                    }
                    let diagB = diag - diagA
                    let saa = aKa - diagA                                  // Σ_{i≠j∈A} K
                    let sab = oneKa - aKa                                  // Σ_{i∈A, j∈B} K
                    let sbb = kTotal - 2 * oneKa + aKa - diagB             // Σ_{i≠j∈B} K
                    out[q] = saa / Double(m * (m - 1)) + sbb / Double(n * (n - 1)) - 2 * sab / Double(m * n)
                }
            }
        }
        return out
    }
}

/// Σ of `count` Doubles at `p` (eight interleaved partial sums): the row sums of the MMD kernels above.
@inline(__always)
private func rowSum(_ p: UnsafePointer<Double>, _ count: Int) -> Double {
    var i = 0
    var acc = SIMD8<Double>(repeating: 0)
    while i + 8 <= count { acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Double>.self); i += 8 }
    var tail = 0.0
    while i < count { tail += p[i]; i += 1 }
    return acc.sum() + tail
}
