import Foundation
import Linear

/// Pairwise distances, the RBF kernel with the median-heuristic bandwidth, and the unbiased MMD² with its
/// permutation test (spec §7). Every product is a BLAS call.
public enum Kernels {
    /// Squared Euclidean distances ‖aᵢ − bⱼ‖² [m, n], as ‖a‖² + ‖b‖² − 2abᵀ (one gemm), clamped at 0.
    public static func squaredDistances(_ a: Tensor<Double>, _ b: Tensor<Double>) throws -> Tensor<Double> {
        guard a.rank == 2, b.rank == 2, a.shape[1] == b.shape[1] else {
            throw TensorError.shapeMismatch(operation: "squaredDistances", lhs: a.shape, rhs: b.shape)
        }
        let na = try a.square().sum(axis: 1), nb = try b.square().sum(axis: 1)
        var g = try matmul(a, b, transposeB: true)
        let m = a.shape[0], n = b.shape[0]
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
        guard m >= 2 else { throw TensorError.invalidArgument("bandwidth: need at least 2 points, got \(m)") }
        let d2 = try squaredDistances(sub, sub)
        var upper: [Double] = []
        upper.reserveCapacity(m * (m - 1) / 2)
        d2.withUnsafeBufferPointer { p in for i in 0..<m { for j in (i + 1)..<m { upper.append(p[i * m + j]) } } }
        let med = Spectrum.median(upper)
        if med > 0 { return 0.5 * med }
        // More than half of the pairs coincide: fall back to the mean of the distinct pairs' squared distances.
        let positive = upper.filter { $0 > 0 }
        return positive.isEmpty ? 1 : 0.5 * positive.reduce(0, +) / Double(positive.count)
    }

    /// exp(−D²/(2h²)) element-wise, computed in place in the buffer of `d2` (which the call consumes), so an
    /// N×N kernel costs one N×N buffer.
    public static func rbf(squaredDistances d2: consuming Tensor<Double>, bandwidth2 h2: Double) -> Tensor<Double> {
        var k = d2
        let c = -1 / (2 * h2)
        k.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] *= c }
            Double.vexp(UnsafePointer(p.baseAddress!), p.baseAddress!, p.count)
        }
        return k
    }

    /// Unbiased MMD² (diagonals excluded) from the pooled kernel matrix K of [A; B] and A's size m:
    /// ΣK_AA/(m(m−1)) + ΣK_BB/(n(n−1)) − 2·mean(K_AB).
    public static func mmd2(pooledKernel k: Tensor<Double>, m: Int) -> Double {
        let total = k.shape[0], n = total - m
        precondition(m >= 2 && n >= 2, "mmd2: each set needs at least 2 rows (got \(m) and \(n))")
        var saa = 0.0, sbb = 0.0, sab = 0.0
        k.withUnsafeBufferPointer { p in
            for i in 0..<total {
                let row = p.baseAddress! + i * total
                for j in 0..<total where i != j {
                    let v = row[j]
                    if i < m && j < m { saa += v } else if i >= m && j >= m { sbb += v } else if i < m { sab += v }
                }
            }
        }
        return saa / Double(m * (m - 1)) + sbb / Double(n * (n - 1)) - 2 * sab / Double(m * n)
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
