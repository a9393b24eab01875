// Drift (docs/method.md §7): Fréchet distance properties, the MMD² permutation test's power and false-alarm rate, KS.

import Foundation
import Linear
import Substrate
import Testing
import TestSupport

@Suite struct DriftTests {
    typealias S = SubstrateSupport

    @Test func frechetDistanceOfIdenticalSetsIsZeroAndSymmetric() throws {
        let a = try matmul(Tensor<Double>.normal([300, 6], seed: 1), Tensor<Double>.normal([6, 6], seed: 2)) + 3
        let b = Tensor<Double>.normal([250, 6], mean: 0.5, std: 1.5, seed: 3)
        let scale = try Drift.covariance(a).maxAbs()
        #expect(try Drift.frechetDistance(a, a) <= 1e-9 * scale)
        let ab = try Drift.frechetDistance(a, b), ba = try Drift.frechetDistance(b, a)
        S.expectClose(ab, ba, rtol: 1e-9)
        #expect(ab > 0)
    }

    /// For diagonal covariances, FD = ‖μ_A − μ_B‖² + Σᵢ(σ_A,i − σ_B,i)².
    @Test func frechetDistanceFromMomentsMatchesTheDiagonalClosedForm() throws {
        let ma = Tensor<Double>([0, 1, 2]), mb = Tensor<Double>([1, 1, 0])
        let va = [1.0, 4.0, 0.25], vb = [2.25, 1.0, 0.0]          // one variance 0: a singular covariance
        func diag(_ v: [Double]) throws -> Tensor<Double> {
            var m = Tensor<Double>.zeros([3, 3]); for i in 0..<3 { m[i, i] = v[i] }; return m
        }
        let fd = try Drift.frechetDistance(meanA: ma, covarianceA: diag(va), meanB: mb, covarianceB: diag(vb))
        let expected = 1.0 + 0 + 4 + zip(va, vb).reduce(0) { $0 + pow($1.0.squareRoot() - $1.1.squareRoot(), 2) }
        S.expectClose(fd, expected, rtol: 1e-12)
    }

    /// A 0.5σ mean shift along one of 16 coordinates (n = 300 each) is detected at α = 0.05 for every seed.
    @Test func mmdDetectsAHalfSigmaShift() throws {
        var detected = 0
        for seed in UInt64(0)..<10 {
            let a = Tensor<Double>.normal([300, 16], seed: 100 + seed)
            var b = Tensor<Double>.normal([300, 16], seed: 200 + seed)
            for i in 0..<300 { b[i, 0] += 0.5 }
            let t = try Drift.mmdTest(a, b, seed: seed)
            #expect(t.pValue >= 1.0 / 201)
            if t.pValue < 0.05 { detected += 1 }
        }
        #expect(detected == 10, "detected in \(detected) of 10 seeds")
    }

    /// Two halves of one set: at most 1 false alarm in 10 seeds at α = 0.05; p is never 0.
    @Test func mmdDoesNotFlagTwoHalvesOfOneSet() throws {
        var alarms = 0
        for seed in UInt64(0)..<10 {
            let x = Tensor<Double>.normal([600, 16], seed: 300 + seed)
            let t = try Drift.mmdTest(x.slice(0..<300), x.slice(300..<600), seed: seed)
            #expect(t.pValue > 0 && t.pValue <= 1)
            if t.pValue < 0.05 { alarms += 1 }
        }
        #expect(alarms <= 1, "\(alarms) false alarms in 10 seeds")
    }

    @Test func permutationPValueHasTheRightFloor() throws {
        let a = Tensor<Double>.normal([100, 4], seed: 7), b = Tensor<Double>.normal([100, 4], mean: 5, seed: 8)
        let t = try Drift.mmdTest(a, b, permutations: 99, seed: 1)
        S.expectClose(t.pValue, 1.0 / 100, rtol: 1e-12)        // (1 + 0)/(1 + 99): never 0
        #expect(t.mmd2 > 0)
    }

    @Test func compareReportsDriftAndItsAbsence() throws {
        let a = try S.lowRank(n: 300, d: 16, r: 3, signal: 2, seed: 9)
        let b = try S.lowRank(n: 300, d: 16, r: 3, signal: 2, seed: 9)     // the very same rows
        let shifted = try a + Tensor<Double>.normal([16], seed: 10)
        let rep = try Drift.compare(a, shifted)
        #expect(rep.drift && rep.pValue < 0.05)
        #expect(rep.frechetDistance > 1)
        let same = try Drift.compare(a, b)
        #expect(!same.drift && same.frechetDistance < 1e-8)
        for k in ["mmd2", "p_value", "bandwidth", "frechet_distance", "core_frechet_distance", "core_similarity", "drift"] {
            #expect(rep.json[k] != nil, "missing \(k)")
        }
    }

    @Test func ksStatisticEdgeCases() {
        #expect(Drift.ksStatistic([1, 2, 3], [1, 2, 3]) == 0)
        #expect(Drift.ksStatistic([1, 2, 3], [4, 5]) == 1)
        #expect(Drift.ksStatistic([1, 1, 2, 2], [1, 2, 2, 2]) == 0.25)     // ties handled as steps of the ECDFs
        var last = 1.0
        for l in stride(from: 0.0, through: 4.0, by: 0.05) {
            let q = Drift.kolmogorovSurvival(l)
            #expect(q >= 0 && q <= 1 && q <= last + 1e-15)
            last = q
        }
    }
}
