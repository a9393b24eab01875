import Foundation
import Linear
@testable import Substrate
import Testing
import TestSupport

/// The pieces that make `vst align` affordable at many rows: the symmetric k-NN self-join, the median by selection,
/// and leaving optional measures out.
@Suite struct AlignmentCostTests {
    /// Brute force: every score in float64, stable-sorted by (score, index), self excluded.
    static func reference(_ x: Tensor<Double>, k: Int, metric: Neighbors.Metric) -> [Int] {
        let n = x.shape[0], d = x.shape[1], v = x.scalars
        var out: [Int] = []
        for i in 0..<n {
            var scored: [(Double, Int)] = []
            for j in 0..<n where j != i {
                var s = 0.0
                for t in 0..<d {
                    s += metric == .euclidean ? (v[i * d + t] - v[j * d + t]) * (v[i * d + t] - v[j * d + t]) : -v[i * d + t] * v[j * d + t]
                }
                scored.append((s, j))
            }
            scored.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            out += scored.prefix(k).map(\.1)
        }
        return out
    }

    @Test("the symmetric self-join finds the brute-force neighbours over several row blocks, both metrics")
    func selfJoinMatchesBruteForce() throws {
        // 2 300 rows: two full 1 024-row blocks and a partial one, so every kind of block pair occurs.
        let x = Tensor<Double>.normal([2300, 6], seed: 31)
        for metric in [Neighbors.Metric.euclidean, .innerProduct] {
            let (idx, values) = try Neighbors.nearest(x, in: x, k: 5, metric: metric, excludeSelf: true)
            #expect(idx == Self.reference(x, k: 5, metric: metric))
            // Values are nearest first and belong to the indices returned.
            let v = x.scalars
            for i in stride(from: 0, to: 2300, by: 97) {
                for t in 0..<5 {
                    let j = idx[i * 5 + t]
                    var s = 0.0
                    for c in 0..<6 { s += metric == .euclidean ? pow(v[i * 6 + c] - v[j * 6 + c], 2) : v[i * 6 + c] * v[j * 6 + c] }
                    if metric == .euclidean { s = s.squareRoot() }
                    #expect(abs(values[i * 5 + t] - s) < 1e-9 * Swift.max(1, abs(s)))
                }
            }
        }
    }

    @Test("duplicate rows: the self-join returns the twin at distance 0, never the row itself")
    func selfJoinWithTwins() throws {
        let base = Tensor<Double>.normal([600, 4], seed: 32)
        let x = try Tensor<Double>.concatenate([base, base], axis: 0)   // row i and row i + 600 coincide
        let (idx, values) = try Neighbors.nearest(x, in: x, k: 1, excludeSelf: true)
        for i in 0..<1200 {
            #expect(idx[i] == (i + 600) % 1200)
            #expect(values[i] < 1e-7)
        }
    }

    @Test("the median of an n×n squared-distance matrix by selection equals numpy's median of all n² entries")
    func fullMedianBySelection() throws {
        var g = RandomGenerator(seed: 33)
        /// A symmetric matrix with zero diagonal and off-diagonal values drawn by `draw`.
        func symmetric(_ n: Int, _ draw: () -> Double) throws -> Tensor<Double> {
            var m = [Double](repeating: 0, count: n * n)
            for i in 0..<n { for j in (i + 1)..<n { let v = draw(); m[i * n + j] = v; m[j * n + i] = v } }
            return try Tensor(m, shape: [n, n])
        }
        for n in 2...14 {
            // Few distinct values so that ties and equal middle pairs occur.
            let d2 = try symmetric(n) { Double(g.nextInt(below: 3)) }
            #expect(Alignment.fullMedian(squaredDistances: d2) == Spectrum.median(d2.scalars), "n = \(n)")
        }
        for n in [300, 301] {
            let d2 = try symmetric(n) { g.nextUniform() }
            #expect(Alignment.fullMedian(squaredDistances: d2) == Spectrum.median(d2.scalars), "n = \(n)")
        }
    }

    @Test("float32 states: mutual k-NN from float32 products agrees with float64 up to near-ties")
    func mutualKNNInFloat() throws {
        let x = Tensor<Double>.normal([1500, 16], seed: 37), y = try matmul(x, Tensor<Double>.normal([16, 12], seed: 38)).tanh()
        let d = try Alignment.mutualKNN(x, y, k: 10)
        let f = try Alignment.mutualKNN(x.cast(to: Float.self), y.cast(to: Float.self), k: 10)
        #expect(abs(f - d) <= 0.002, "float32 \(f) vs float64 \(d)")
        #expect(d > 0.02 && d < 0.95, "overlap \(d): the test needs neither trivial agreement nor none")
    }

    @Test("options.measures leaves the optional measures out (nil, null in JSON) and changes nothing else")
    func measuresSubset() throws {
        let x = Tensor<Double>.normal([200, 8], seed: 35), y = try matmul(x, Tensor<Double>.normal([8, 5], seed: 36)).tanh()
        let full = try Alignment.compare(x, y, seed: 3)
        var o = AlignmentOptions()
        o.measures = [.mutualKNN]
        let some = try Alignment.compare(x, y, options: o, seed: 3)
        #expect(some.mutualKNN == full.mutualKNN && some.mutualNeighbors == 10)
        #expect(some.debiasedCKA == nil && some.rbfCKA == nil && some.svcca == nil && some.predictivity == nil)
        #expect(some.linearCKA == full.linearCKA && some.core.similarity == full.core.similarity && some.regime == full.regime)
        #expect(some.json["rbf_cka"] == JSON.null && some.json["svcca_components"] == JSON.null)
        #expect(full.json["rbf_cka"] != JSON.null && full.debiasedCKA != nil)
    }
}
