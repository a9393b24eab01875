// RandomGenerator: reproducibility (pinned to an independent Python implementation of SplitMix64 seeding and
// xoshiro256**), independence of seeds, distribution moments, and the sampling helpers.
//
// Statistical checks use 10⁵ draws and allow 5 standard errors, so a correct generator fails with probability
// below 10⁻⁶ per check; since every seed is fixed, the outcome is the same on every run anyway.

import Foundation
import Linear
import Testing
import TestSupport

@Suite("RandomGenerator")
struct RandomTests {
    @Test("the stream is xoshiro256** seeded by SplitMix64 (values from an independent implementation)")
    func pinnedStream() {
        var g0 = RandomGenerator(seed: 0)
        #expect((0..<4).map { _ in g0.next() } == [0x99ec_5f36_cb75_f2b4, 0xbf6e_1f78_4956_452a, 0x1a5f_849d_4933_e6e0, 0x6aa5_94f1_262d_2d2c])
        var g42 = RandomGenerator(seed: 42)
        #expect((0..<4).map { _ in g42.next() } == [0x1578_0b2e_0c2e_c716, 0x6104_d986_6d11_3a7e, 0xae17_5332_39e4_99a1, 0xecb8_ad47_03b3_60a1])
        var u = RandomGenerator(seed: 42)
        #expect(u.nextUniform() == 0.08386297105988216 && u.nextUniform() == 0.3789802506626686)
    }

    @Test("same seed, same numbers; different seeds, different numbers")
    func reproducibility() throws {
        var a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 7), c = RandomGenerator(seed: 8)
        let xa = (0..<1000).map { _ in a.next() }, xb = (0..<1000).map { _ in b.next() }, xc = (0..<1000).map { _ in c.next() }
        #expect(xa == xb)
        #expect(xa != xc)
        #expect(zip(xa, xc).filter { $0 == $1 }.count == 0, "streams of different seeds should not coincide")
        #expect(Set(xa).count == 1000)

        var n1 = RandomGenerator(seed: 3), n2 = RandomGenerator(seed: 3)
        #expect((0..<101).map { _ in n1.nextNormal() } == (0..<101).map { _ in n2.nextNormal() })
        #expect(Tensor<Float>.normal([4, 5], seed: 11) == Tensor<Float>.normal([4, 5], seed: 11))
        #expect(Tensor<Float>.normal([4, 5], seed: 11) != Tensor<Float>.normal([4, 5], seed: 12))
        #expect(Tensor<Double>.uniform([50], seed: 1) == Tensor<Double>.uniform([50], seed: 1))
        #expect(Tensor<Double>.uniform([50], seed: 1) != Tensor<Double>.uniform([50], seed: 2))
        // The seeded convenience form is a fresh generator from that seed.
        var g = RandomGenerator(seed: 99)
        #expect(Tensor<Double>.normal([10], using: &g) == Tensor<Double>.normal([10], seed: 99))
        // Float and Double tensors from one seed hold the same draws (rounded).
        #expect(Tensor<Double>.normal([20], seed: 5).cast(to: Float.self) == Tensor<Float>.normal([20], seed: 5))
        // Driving the standard library is deterministic too.
        var s1 = RandomGenerator(seed: 1), s2 = RandomGenerator(seed: 1)
        #expect((0..<20).map { _ in Int.random(in: 0..<1000, using: &s1) } == (0..<20).map { _ in Int.random(in: 0..<1000, using: &s2) })
    }

    @Test("split gives a deterministic, different stream")
    func split() {
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        var ca = a.split(), cb = b.split()
        let xa = (0..<50).map { _ in ca.next() }
        #expect(xa == (0..<50).map { _ in cb.next() })
        #expect(xa != (0..<50).map { _ in a.next() })
    }

    @Test("normal draws: mean 0 and variance 1 over 10⁵ samples; scaled form has the requested moments")
    func normalMoments() {
        let n = 100_000
        var g = RandomGenerator(seed: 2024)
        var sum = 0.0, sumSq = 0.0, sum3 = 0.0, sum4 = 0.0, beyond3 = 0
        for _ in 0..<n {
            let z = g.nextNormal()
            sum += z; sumSq += z * z; sum3 += z * z * z; sum4 += z * z * z * z
            if Swift.abs(z) > 3 { beyond3 += 1 }
        }
        let mean = sum / Double(n), variance = sumSq / Double(n) - mean * mean
        #expect(Swift.abs(mean) < 5 / Double(n).squareRoot(), "mean \(mean)")
        #expect(Swift.abs(variance - 1) < 5 * (2 / Double(n)).squareRoot(), "variance \(variance)")
        #expect(Swift.abs(sum3 / Double(n)) < 5 * (15 / Double(n)).squareRoot(), "third moment \(sum3 / Double(n))")
        #expect(Swift.abs(sum4 / Double(n) - 3) < 5 * (96 / Double(n)).squareRoot(), "fourth moment \(sum4 / Double(n))")
        // P(|Z| > 3) = 0.0027: 270 expected.
        #expect(Swift.abs(Double(beyond3) - 270) < 5 * 270.0.squareRoot(), "\(beyond3) draws beyond 3σ")

        let t = Tensor<Double>.normal([n], mean: 3, std: 0.5, seed: 77)
        #expect(Swift.abs(t.mean() - 3) < 5 * 0.5 / Double(n).squareRoot())
        #expect(Swift.abs(t.std() - 0.5) < 5 * 0.5 * (0.5 / Double(n)).squareRoot())
    }

    @Test("uniform draws lie in [low, high) with the right mean, variance and histogram")
    func uniformMoments() {
        let n = 100_000
        var g = RandomGenerator(seed: 31)
        var bins = [Int](repeating: 0, count: 10)
        var sum = 0.0, sumSq = 0.0
        for _ in 0..<n {
            let u = g.nextUniform()
            #expect(u >= 0 && u < 1)
            bins[Int(u * 10)] += 1
            sum += u; sumSq += u * u
        }
        let mean = sum / Double(n), variance = sumSq / Double(n) - mean * mean
        #expect(Swift.abs(mean - 0.5) < 5 * (1.0 / 12 / Double(n)).squareRoot())
        #expect(Swift.abs(variance - 1.0 / 12) < 1e-3)
        let expected = Double(n) / 10, sd = (Double(n) * 0.1 * 0.9).squareRoot()
        #expect(bins.allSatisfy { Swift.abs(Double($0) - expected) < 5 * sd }, "histogram \(bins)")

        let t = Tensor<Float>.uniform([n], low: -2, high: 6, seed: 8)
        #expect(t.min() >= -2 && t.max() < 6)
        #expect(Swift.abs(Double(t.mean()) - 2) < 5 * 8 / (12 * Double(n)).squareRoot())
    }

    @Test("nextInt(below:) stays in range and is uniform")
    func integers() {
        var g = RandomGenerator(seed: 12)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[g.nextInt(below: 7)] += 1 }
        let sd = (70_000 * (1.0 / 7) * (6.0 / 7)).squareRoot()
        #expect(counts.allSatisfy { Swift.abs(Double($0) - 10_000) < 5 * sd }, "\(counts)")
        #expect((0..<100).allSatisfy { _ in g.nextInt(below: 1) == 0 })
    }

    @Test("bernoulli frequency matches the probability; invalid probabilities throw")
    func bernoulli() throws {
        var g = RandomGenerator(seed: 4)
        let t = try Tensor<Float>.bernoulli([100_000], probability: 0.3, using: &g)
        #expect(Set(t.scalars) == [0, 1])
        #expect(Swift.abs(Double(t.mean()) - 0.3) < 5 * (0.21 / 100_000).squareRoot())
        #expect(try Tensor<Double>.bernoulli([100], probability: 0, using: &g).max() == 0)
        #expect(try Tensor<Double>.bernoulli([100], probability: 1, using: &g).min() == 1)
        #expect(throws: TensorError.self) { try Tensor<Double>.bernoulli([2], probability: 1.5, using: &g) }
        #expect(throws: TensorError.self) { try Tensor<Double>.bernoulli([2], probability: -0.1, using: &g) }
    }

    @Test("permutation is a permutation, differs between seeds, and places elements uniformly")
    func permutation() {
        var g = RandomGenerator(seed: 9)
        for n in [0, 1, 2, 10, 257] {
            let p = g.permutation(n)
            #expect(p.count == n && p.sorted() == Array(0..<n))
        }
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 2)
        #expect(a.permutation(50) != b.permutation(50))
        #expect(g.permutation(50) != Array(0..<50))
        // Where element 0 lands, over 8000 permutations of 4: 2000 per position expected.
        var pos = [Int](repeating: 0, count: 4)
        for _ in 0..<8000 { pos[g.permutation(4).firstIndex(of: 0)!] += 1 }
        let sd = (8000 * 0.25 * 0.75).squareRoot()
        #expect(pos.allSatisfy { Swift.abs(Double($0) - 2000) < 5 * sd }, "\(pos)")
        // All 6 orders of 3 elements occur.
        var seen = Set<[Int]>()
        for _ in 0..<200 { seen.insert(g.permutation(3)) }
        #expect(seen.count == 6)
    }

    @Test("choice: distinct without replacement, in range with replacement, errors when impossible")
    func choice() throws {
        var g = RandomGenerator(seed: 10)
        for (n, k) in [(10, 10), (100, 7), (5, 0), (1, 1)] {
            let c = try g.choice(n, count: k)
            #expect(c.count == k && Set(c).count == k, "choice(\(n), \(k)) must be distinct: \(c)")
            #expect(c.allSatisfy { $0 >= 0 && $0 < n })
        }
        #expect(try g.choice(10, count: 10).sorted() == Array(0..<10))
        let r = try g.choice(3, count: 1000, replace: true)
        #expect(r.count == 1000 && r.allSatisfy { $0 >= 0 && $0 < 3 } && Set(r).count == 3)
        #expect(try g.choice(0, count: 0).isEmpty)
        #expect(throws: TensorError.self) { try g.choice(3, count: 4) }
        #expect(throws: TensorError.self) { try g.choice(0, count: 1, replace: true) }
        // Every element is equally likely to be chosen: 3 of 6, 6000 times → each chosen ≈ 3000 times.
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<6000 { for i in try g.choice(6, count: 3) { counts[i] += 1 } }
        #expect(counts.allSatisfy { Swift.abs(Double($0) - 3000) < 5 * (6000 * 0.25).squareRoot() }, "\(counts)")
    }

    @Test("categorical frequencies match the weights; zero weights are never drawn; bad weights throw")
    func categorical() throws {
        var g = RandomGenerator(seed: 13)
        let weights = [1.0, 0, 3, 6]  // unnormalised: probabilities 0.1, 0, 0.3, 0.6
        let n = 100_000
        var counts = [Int](repeating: 0, count: 4)
        for _ in 0..<n { counts[try g.categorical(weights)] += 1 }
        #expect(counts[1] == 0)
        for (i, w) in weights.enumerated() where w > 0 {
            let p = w / 10, expected = p * Double(n), sd = (Double(n) * p * (1 - p)).squareRoot()
            #expect(Swift.abs(Double(counts[i]) - expected) < 5 * sd, "category \(i): \(counts[i]) draws, expected \(expected)")
        }
        #expect(try g.categorical([0, 0, 2]) == 2)
        #expect(throws: TensorError.self) { try g.categorical([]) }
        #expect(throws: TensorError.self) { try g.categorical([0, 0]) }
        #expect(throws: TensorError.self) { try g.categorical([1, -1, 1]) }
        #expect(throws: TensorError.self) { try g.categorical([1, .infinity]) }
        #expect(throws: TensorError.self) { try g.categorical([1, .nan]) }
    }
}
