import Foundation
import Linear

// Synthetic data (mirrored exactly by Benchmarks/compare/compare_substrate.py)

/// Seeded synthetic latents with a spectral gap, from a counter-based generator: every element is a pure function
/// of (seed, index), so numpy builds the same matrix without sharing a random-number stream.
enum SyntheticData {
    typealias Seeds = (scores: UInt64, mixing: UInt64, noise: UInt64, offset: UInt64)
    static let fitSeeds: Seeds = (1, 2, 3, 4)
    static let ckaSeeds: Seeds = (11, 12, 13, 14)
    static let ckaNoiseSeed: UInt64 = 15
    static let frechetSeedsA: Seeds = (21, 2, 23, 4)
    static let frechetSeedsB: Seeds = (31, 2, 33, 34)
    static let mmdSeedsA: Seeds = (41, 2, 43, 4)
    static let mmdSeedsB: Seeds = (51, 2, 53, 54)
    static let rank = 16, decay = 0.8, noise = 0.05, offset = 0.5

    /// A uniform variate of mean 0 and variance 1 (a 53-bit uniform u in [0, 1) mapped to (u − ½)·√12), the
    /// splitmix64 finaliser of index + (seed·0xD1B54A32D192ED03 + 0x9E3779B97F4A7C15) (wrapping arithmetic).
    @inline(__always)
    static func uniform(_ seed: UInt64, _ index: UInt64) -> Double {
        var z = index &+ (seed &* 0xD1B5_4A32_D192_ED03 &+ 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return (Double(z >> 11) * 0x1p-53 - 0.5) * sqrt12
    }
    static let sqrt12 = (12.0).squareRoot()

    /// X[i, j] = Σ_r S[i, r]·0.8^r·W[r, j] + 0.05·E[i, j] + 0.5·M[j], with S, W, E, M uniform(0, 1) variates of
    /// their own seeds (S indexed i·16 + r, W r·d + j, E i·d + j, M j). Written straight into the result: no
    /// temporary of the data's size.
    static func gapped<S: BLASScalar>(rows n: Int, d: Int, seeds: Seeds) -> Tensor<S> {
        var w = [Double](repeating: 0, count: rank * d)
        for i in 0..<(rank * d) { w[i] = uniform(seeds.mixing, UInt64(i)) }
        let scales = (0..<rank).map { Foundation.pow(decay, Double($0)) }
        let off = (0..<d).map { offset * uniform(seeds.offset, UInt64($0)) }
        return Tensor<S>(unsafeUninitializedShape: [n, d]) { out, _ in
            let row = UnsafeMutablePointer<Double>.allocate(capacity: d)
            defer { row.deallocate() }
            w.withUnsafeBufferPointer { wp in
                off.withUnsafeBufferPointer { op in
                    for i in 0..<n {
                        for j in 0..<d { row[j] = 0 }
                        for r in 0..<rank {
                            let sr = uniform(seeds.scores, UInt64(i * rank + r)) * scales[r]
                            let wr = wp.baseAddress! + r * d
                            for j in 0..<d { row[j] += sr * wr[j] }
                        }
                        let base = UInt64(i * d), o = out + i * d
                        for j in 0..<d { o[j] = S(row[j] + noise * uniform(seeds.noise, base + UInt64(j)) + op[j]) }
                    }
                }
            }
        }
    }

    /// Y = X + scale·E with E uniform(0, 1) variates of `seed` indexed i·d + j.
    static func perturbed(_ x: Tensor<Double>, seed: UInt64, scale: Double) -> Tensor<Double> {
        let count = x.count
        return x.withUnsafeBufferPointer { p in
            Tensor<Double>(unsafeUninitializedShape: x.shape) { out, _ in
                for i in 0..<count { out[i] = p[i] + scale * uniform(seed, UInt64(i)) }
            }
        }
    }
}
