// Properties of the alignment measures (docs/method.md §8): invariances, symmetry, the regimes of obvious cases, errors.
// Tolerances: invariances that hold exactly in exact arithmetic are checked to 1e-10 (CKA, SVCCA, Procrustes
// similarity in Double on well-conditioned data); the Procrustes distance √(2 − 2s) to 1e-6, because a similarity
// of 1 − ε gives a distance of √(2ε) ≈ 1e-8 at ε ≈ 1e-16.

import Foundation
import Linear
import Substrate
import Testing
import TestSupport

@Suite struct AlignmentTests {
    typealias S = SubstrateSupport

    static func structured(n: Int = 200, d: Int = 12, seed: UInt64 = 1) throws -> Tensor<Double> {
        try S.lowRank(n: n, d: d, r: 3, signal: 2, noise: 0.5, seed: seed)
    }

    @Test func orthogonalTransformsLeaveEverySimilarityAtOne() throws {
        let x = try Self.structured()
        let y = try matmul(x, S.orthogonal(12, seed: 2))
        S.expectClose(try Alignment.linearCKA(x, y), 1, rtol: 1e-10)
        S.expectClose(try Alignment.debiasedCKA(x, y), 1, rtol: 1e-10)
        S.expectClose(try Alignment.rbfCKA(x, y), 1, rtol: 1e-10)
        S.expectClose(try Alignment.svcca(x, y).mean, 1, rtol: 1e-10)
        S.expectClose(try Alignment.procrustes(x, y).similarity, 1, rtol: 1e-10)
        S.expectClose(try Alignment.coreProcrustes(x, y).similarity, 1, rtol: 1e-10)
        S.expectClose(try Alignment.mutualKNN(x, x, k: 10), 1, rtol: 0, atol: 1e-12)
    }

    @Test func isotropicScalingLeavesCKAAtOne() throws {
        let x = try Self.structured(seed: 3)
        let y = x * 3.7
        S.expectClose(try Alignment.linearCKA(x, y), 1, rtol: 1e-10)
        S.expectClose(try Alignment.debiasedCKA(x, y), 1, rtol: 1e-10)
        S.expectClose(try Alignment.rbfCKA(x, y), 1, rtol: 1e-10)
        S.expectClose(try Alignment.rbfCKA(x, y, debiased: true), 1, rtol: 1e-10)
    }

    @Test func everyMeasureIsSymmetric() throws {
        let x = try Self.structured(n: 150, d: 10, seed: 4)
        var g = RandomGenerator(seed: 5)
        let y = try (matmul(x, Tensor<Double>.normal([10, 6], using: &g))).tanh() + Tensor<Double>.normal([150, 6], std: 0.5, using: &g)
        S.expectClose(try Alignment.linearCKA(x, y), try Alignment.linearCKA(y, x), rtol: 1e-12)
        S.expectClose(try Alignment.debiasedCKA(x, y), try Alignment.debiasedCKA(y, x), rtol: 1e-12)
        S.expectClose(try Alignment.rbfCKA(x, y), try Alignment.rbfCKA(y, x), rtol: 1e-12)
        S.expectClose(try Alignment.svcca(x, y).mean, try Alignment.svcca(y, x).mean, rtol: 1e-12)
        S.expectClose(try Alignment.procrustes(x, y).similarity, try Alignment.procrustes(y, x).similarity, rtol: 1e-12)
        S.expectClose(try Alignment.coreProcrustes(x, y).similarity, try Alignment.coreProcrustes(y, x).similarity, rtol: 1e-12)
        S.expectClose(try Alignment.mutualKNN(x, y), try Alignment.mutualKNN(y, x), rtol: 0, atol: 1e-12)
    }

    /// Procrustes(X, cXQ + v): distance 0 and similarity 1, also when Y is wider (X zero-padded, then rotated).
    @Test(arguments: [0, 3])
    func procrustesOfAScaledRotatedShiftedCopyIsPerfect(extraWidth: Int) throws {
        let x = try Self.structured(n: 120, d: 8, seed: 6)
        let padded = try Tensor.concatenate([x, Tensor<Double>.zeros([120, extraWidth])], axis: 1)
        let q = try S.orthogonal(8 + extraWidth, seed: 7)
        let v = Tensor<Double>.normal([8 + extraWidth], seed: 8) * 5
        let y = try matmul(padded, q) * 0.3 + v
        let p = try Alignment.procrustes(x, y)
        S.expectClose(p.similarity, 1, rtol: 1e-10)
        S.expectClose(p.distance, 0, rtol: 0, atol: 1e-6)
        S.expectClose(try Alignment.linearCKA(x, y), 1, rtol: 1e-10)
    }

    @Test func coreRotationMapsOneCoreOntoTheOther() throws {
        let x = try Self.structured(n: 300, d: 16, seed: 9)
        let y = try matmul(x, S.orthogonal(16, seed: 10)) * 2 + 1
        let core = try Alignment.coreProcrustes(x, y)
        #expect(core.dimension == 3)                                  // k* = 3 on both sides
        let r = core.rotation
        let rtr = try matmul(r, r, transposeA: true)
        #expect(try (rtr - Tensor<Double>.eye(3)).maxAbs() < 1e-10)
        S.expectClose(core.similarity, 1, rtol: 1e-10)
        S.expectClose(core.distance, 0, rtol: 0, atol: 1e-6)
        // The rotation between the cores of a rotated copy is a signed permutation (identity up to signs): the same
        // principal directions, each with its own sign rule.
        for i in 0..<3 { S.expectClose(Swift.abs(r[i, i]), 1, rtol: 1e-8) }
    }

    @Test func debiasedCKAOfIndependentNoiseIsNearZero() throws {
        let x = Tensor<Double>.normal([500, 32], seed: 11), y = Tensor<Double>.normal([500, 24], seed: 12)
        let debiased = try Alignment.debiasedCKA(x, y)
        let linear = try Alignment.linearCKA(x, y)
        #expect(Swift.abs(debiased) < 0.05, "debiased CKA = \(debiased)")
        #expect(linear > debiased, "the biased estimator sits above the debiased one (\(linear) vs \(debiased))")
    }

    @Test func rotatedCopyIsA1() throws {
        let x = try Self.structured(n: 300, d: 16, seed: 13)
        let y = try matmul(x, S.orthogonal(16, seed: 14)) * 2 + 1
        let rep = try Alignment.compare(x, y)
        #expect(rep.regime == .a1, "\(rep.reasons)")
        S.expectClose(rep.linearCKA, 1, rtol: 1e-10)
        S.expectClose(rep.core.similarity, 1, rtol: 1e-10)
        #expect(rep.predictivity!.r2 > 0.999)
        // Mutual k-NN compares L2-normalised, uncentred rows (docs/method.md §8), so it sees the shift; without it, 1.
        #expect(rep.mutualKNN! < 1)
        #expect(try Alignment.mutualKNN(x, matmul(x, S.orthogonal(16, seed: 14)) * 2) == 1)
    }

    @Test func independentNoiseIsA3() throws {
        let x = Tensor<Double>.normal([300, 16], seed: 15), y = Tensor<Double>.normal([300, 10], seed: 16)
        let rep = try Alignment.compare(x, y)
        #expect(rep.regime == .a3, "\(rep.reasons)")
        #expect(rep.linearCKA < 0.4)
        #expect(rep.predictivity!.r2 < 0.05)
        #expect(rep.mutualKNN! < 0.15)
        #expect(rep.warnings.contains { $0.contains("k* = 0") })
    }

    @Test func partlySharedStructureIsA2() throws {
        // Y sees X's 3-D signal through a nonlinearity, plus its own noise and an unrelated 3-D structure.
        var g = RandomGenerator(seed: 17)
        let n = 300
        let z = Tensor<Double>.normal([n, 3], using: &g), w = Tensor<Double>.normal([n, 3], using: &g)
        let x = try matmul(z, Tensor<Double>.normal([3, 12], using: &g)) + Tensor<Double>.normal([n, 12], std: 0.3, using: &g)
        let y = try matmul(z, Tensor<Double>.normal([3, 10], using: &g)).tanh() * 2
            + matmul(w, Tensor<Double>.normal([3, 10], using: &g)) * 0.6 + Tensor<Double>.normal([n, 10], std: 0.3, using: &g)
        let rep = try Alignment.compare(x, y)
        #expect(rep.regime == .a2, "CKA \(rep.linearCKA), core \(rep.core.similarity): \(rep.reasons)")
        #expect(rep.linearCKA >= 0.4 && rep.linearCKA < 0.8 || rep.core.similarity < 0.8)
    }

    @Test func classifyFollowsTheRules() {
        #expect(Alignment.classify(linearCKA: 0.9, coreProcrustesSimilarity: 0.85).regime == .a1)
        #expect(Alignment.classify(linearCKA: 0.9, coreProcrustesSimilarity: 0.5).regime == .a2)
        #expect(Alignment.classify(linearCKA: 0.6, coreProcrustesSimilarity: 0.95).regime == .a2)
        #expect(Alignment.classify(linearCKA: 0.39, coreProcrustesSimilarity: 0.99).regime == .a3)
        #expect(Alignment.classify(linearCKA: 0.4, coreProcrustesSimilarity: 0.1).regime == .a2)
        #expect(Alignment.classify(linearCKA: 0.8, coreProcrustesSimilarity: 0.8).regime == .a1)
        var t = AlignmentThresholds()
        t.a1LinearCKA = 0.95
        #expect(Alignment.classify(linearCKA: 0.9, coreProcrustesSimilarity: 0.9, thresholds: t).regime == .a2)
    }

    @Test func jsonHasTheSpecKeysFirst() throws {
        let x = try Self.structured(n: 60, d: 6, seed: 18), y = try Self.structured(n: 60, d: 9, seed: 19)
        let json = try Alignment.compare(x, y).json
        guard case let .object(pairs) = json else { Issue.record("not an object"); return }
        let keys = pairs.map { $0.0 }
        let spec = ["linear_cka", "debiased_cka", "rbf_cka", "svcca", "procrustes_similarity", "procrustes_distance",
                    "core_procrustes_similarity", "mutual_knn", "linear_predictivity_r2", "regime", "reasons"]
        #expect(Array(keys.prefix(spec.count)) == spec)
        #expect(Set(keys).count == keys.count)
        for extra in ["core_rotation", "core_dimension", "n", "d_x", "d_y"] { #expect(keys.contains(extra)) }
        #expect(json["n"] == .int(60) && json["d_x"] == .int(6) && json["d_y"] == .int(9))
        if case let .string(r)? = json["regime"] { #expect(["A1", "A2", "A3"].contains(r)) } else { Issue.record("regime is not a string") }
    }

    @Test func floatInputMatchesDouble() throws {
        let xf = Tensor<Float>.normal([80, 7], seed: 20), yf = try (matmul(xf, Tensor<Float>.normal([7, 5], seed: 21))).tanh()
        let a = try Alignment.compare(xf, yf), b = try Alignment.compare(xf.cast(to: Double.self), yf.cast(to: Double.self))
        #expect(a.linearCKA == b.linearCKA && a.debiasedCKA == b.debiasedCKA && a.rbfCKA == b.rbfCKA)
        #expect(a.core.similarity == b.core.similarity && a.predictivity?.r2 == b.predictivity?.r2 && a.regime == b.regime)
    }

    @Test func gramCentringMatchesTheFeatureSpaceFormulas() throws {
        let x = try Self.structured(n: 40, d: 5, seed: 22), y = Tensor<Double>.normal([40, 7], seed: 23)
        let kx = try matmul(x, x, transposeB: true), ky = try matmul(y, y, transposeB: true)   // uncentred: centring is the Gram's job
        S.expectClose(try Alignment.cka(gramX: kx, gramY: ky), try Alignment.linearCKA(x, y), rtol: 1e-10)
        S.expectClose(try Alignment.cka(gramX: kx, gramY: ky, debiased: true), try Alignment.debiasedCKA(x, y), rtol: 1e-9, atol: 1e-12)
        // U-centred Grams have zero diagonal and zero row sums.
        let u = try Alignment.centerGram(kx, unbiased: true)
        let rows = try u.sum(axis: 1)
        #expect(rows.maxAbs() < 1e-9 * kx.maxAbs())
        for i in 0..<40 { #expect(u[i, i] == 0) }
        let h = try Alignment.centerGram(kx)
        #expect(try h.sum(axis: 0).maxAbs() < 1e-9 * kx.maxAbs())
    }

    @Test func predictivityDualRouteMatchesTheDirectRidgeSolution() throws {
        // D₁ = 30 > 16 training rows: the dual route; checked against the primal normal equations solved directly.
        let x = Tensor<Double>.normal([20, 30], seed: 24), y = Tensor<Double>.normal([20, 4], seed: 25)
        let train = Array(0..<16), test = Array(16..<20)
        let res = try Alignment.linearPredictivity(x, y, trainRows: train, testRows: test, lambda: 0.7)
        let xtr = try x.slice(0..<16), ytr = try y.slice(0..<16)
        let (xc, mx) = try Spectrum.centered(xtr), (yc, my) = try Spectrum.centered(ytr)
        let a = try xc.gram() + Tensor<Double>.eye(30) * 0.7
        let w = try solve(a, matmul(xc, yc, transposeA: true))
        let pred = try matmul(x.slice(16..<20) - mx, w) + my
        let yte = try y.slice(16..<20)
        let expected = 1 - (try (yte - pred).square().sum()) / (try Spectrum.centered(yte).xc.square().sum())
        S.expectClose(res.r2, expected, rtol: 1e-9)
        #expect(res.lambda == 0.7 && res.trainRows == 16 && res.testRows == 4)
    }

    @Test func exactLinearMapHasPredictivityOne() throws {
        let x = Tensor<Double>.normal([100, 6], seed: 26)
        let y = try matmul(x, Tensor<Double>.normal([6, 4], seed: 27)) + 3
        let res = try Alignment.linearPredictivity(x, y, lambda: 0, seed: 1)
        S.expectClose(res.r2, 1, rtol: 1e-10)
        #expect(res.trainRows == 80 && res.testRows == 20)
        let split = try Alignment.predictivitySplit(n: 100, seed: 1)
        #expect(Set(split.train).isDisjoint(with: split.test) && split.train.count + split.test.count == 100)
        #expect(try Alignment.predictivitySplit(n: 100, seed: 1).test == split.test)       // seeded
    }

    @Test func mutualKNNCountsSharedNeighbours() throws {
        // Y = X with the rows' neighbourhoods intact (positive scaling per row keeps cosine neighbours): overlap 1.
        let x = Tensor<Double>.normal([50, 4], seed: 28)
        let scales = Tensor<Double>.uniform([50, 1], low: 0.5, high: 2, seed: 29)
        #expect(try Alignment.mutualKNN(x, x * scales, k: 5) == 1)
        let noise = Tensor<Double>.normal([50, 4], seed: 30)
        let v = try Alignment.mutualKNN(x, noise, k: 5)
        #expect(v >= 0 && v < 0.4)
    }

    @Test func errorsNameTheProblem() throws {
        let x = Tensor<Double>.normal([10, 3], seed: 31), y = Tensor<Double>.normal([9, 4], seed: 32)
        do {
            _ = try Alignment.compare(x, y)
            Issue.record("row counts differ but compare did not throw")
        } catch let e as AnalysisError {
            #expect(e.description.contains("[10, 3]") && e.description.contains("[9, 4]"), "\(e)")
        }
        let tiny = Tensor<Double>.normal([3, 2], seed: 33)
        #expect(throws: AnalysisError.self) { try Alignment.debiasedCKA(tiny, tiny) }
        do {
            _ = try Alignment.compare(tiny, tiny)
            Issue.record("n = 3 but compare did not throw")
        } catch let e as AnalysisError {
            #expect(e.description.contains("n = 3"), "\(e)")
        }
        #expect(throws: AnalysisError.self) { try Alignment.mutualKNN(x, x, k: 10) }
        let constant = Tensor<Double>.ones([10, 3])
        #expect(throws: AnalysisError.self) { try Alignment.linearCKA(constant, x) }
        var bad = x
        bad[2, 1] = .nan
        #expect(throws: TensorError.self) { try Alignment.linearCKA(bad, x) }
    }
}
