/// A seedable pseudo-random generator: xoshiro256** (Blackman & Vigna 2018) seeded through SplitMix64.
///
/// Same seed, same sequence, on every machine and run. Period 2²⁵⁶ − 1; passes BigCrush.
/// Conforms to `RandomNumberGenerator`, so it also drives the standard library (`Int.random(in:using:)`).
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// A cached second Box–Muller normal.
    @usableFromInline var spareNormal: Double? = nil

    /// A generator whose whole state follows from `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inlinable
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal double (Box–Muller; the second value of each pair is cached).
    @inlinable
    public mutating func nextNormal() -> Double {
        if let z = spareNormal { spareNormal = nil; return z }
        var u1 = nextUniform()
        while u1 <= 0 { u1 = nextUniform() }
        let u2 = nextUniform()
        let r = (-2.0 * _log(u1)).squareRoot()
        let theta = 2.0 * Double.pi * u2
        spareNormal = r * _sin(theta)
        return r * _cos(theta)
    }

    /// A uniform integer in 0..<n, without modulo bias (Lemire's method).
    @inlinable
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "RandomGenerator.nextInt(below:): bound must be positive, got \(n)")
        return Int(truncatingIfNeeded: next(upperBound: UInt64(n)))
    }

    /// An independent generator derived from this one's next output (for parallel streams).
    public mutating func split() -> RandomGenerator { RandomGenerator(seed: next()) }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) } }
        return p
    }

    /// `k` indices drawn from 0..<n, without replacement (distinct) or with replacement.
    public mutating func choice(_ n: Int, count k: Int, replace: Bool = false) throws -> [Int] {
        guard n > 0 || k == 0 else { throw TensorError.invalidArgument("choice: cannot draw \(k) from an empty range") }
        if replace { return (0..<k).map { _ in nextInt(below: n) } }
        guard k <= n else { throw TensorError.invalidArgument("choice: cannot draw \(k) distinct indices from \(n) without replacement") }
        var p = Array(0..<n)
        for i in 0..<k { p.swapAt(i, i + nextInt(below: n - i)) }
        return Array(p[0..<k])
    }

    /// An index drawn with the given (non-negative, not necessarily normalised) probabilities.
    public mutating func categorical(_ weights: [Double]) throws -> Int {
        let total = weights.reduce(0, +)
        guard total > 0, total.isFinite, weights.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidArgument("categorical: weights must be non-negative with a positive finite sum, got \(weights.prefix(8))")
        }
        let u = nextUniform() * total
        var acc = 0.0
        for (i, w) in weights.enumerated() { acc += w; if u < acc { return i } }
        return weights.lastIndex { $0 > 0 }!
    }
}

import Foundation
@usableFromInline func _log(_ x: Double) -> Double { Foundation.log(x) }
@usableFromInline func _sin(_ x: Double) -> Double { Foundation.sin(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Foundation.cos(x) }
