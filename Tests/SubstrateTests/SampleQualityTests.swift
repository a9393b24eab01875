// Sample quality (docs/method.md §8b): the Gaussian baseline, the behaviour of each figure on obvious cases, and the report.
// Thresholds on random data were set from numpy simulations of the same estimators (e.g. precision/recall of two
// samples of one 4-D Gaussian, n = 500: ≥ 0.92 in every one of 5 seeds; the tests ask for ≥ 0.85).

import Foundation
import Linear
import Substrate
import Testing
import TestSupport

@Suite struct SampleQualityTests {
    typealias S = SubstrateSupport

    static func correlatedGaussian(n: Int, d: Int, seed: UInt64, mixSeed: UInt64 = 99) throws -> Tensor<Double> {
        let mix = Tensor<Double>.normal([d, d], seed: mixSeed)
        return try matmul(Tensor<Double>.normal([n, d], seed: seed), mix) + 1.5
    }

    /// For Gaussian data, the Gaussian with the data's moments is as good as the data itself: its precision and
    /// recall are near 1 and its density and coverage near their same-distribution values.
    @Test func gaussianBaselineOfGaussianDataIsNearPerfect() throws {
        let real = try Self.correlatedGaussian(n: 600, d: 4, seed: 1)
        let generated = try Self.correlatedGaussian(n: 600, d: 4, seed: 2)
        var o = SampleQualityOptions()
        o.permutations = 50
        let rep = try SampleQuality.evaluate(generated: generated, real: real, options: o, seed: 3)
        #expect(rep.baselineKind == "gaussian")
        let b = rep.baseline
        #expect(b.n == 600 && b.d == 4)
        #expect(b.precision >= 0.85 && b.recall >= 0.85, "baseline precision \(b.precision), recall \(b.recall)")
        #expect(b.density > 0.8 && b.density < 1.2 && b.coverage >= 0.85, "baseline density \(b.density), coverage \(b.coverage)")
        #expect(rep.model.precision >= 0.85 && rep.model.recall >= 0.85)
        #expect(b.frechetDistance < 0.1 && rep.model.frechetDistance < 0.1)
        #expect(b.mmd2PValue > 0.01 && rep.model.mmd2PValue > 0.01)  // neither differs detectably from the real set
    }

    /// Generated = a subset of the real set beats a deliberately bad baseline (shifted, too wide).
    @Test func realSubsetBeatsABadBaseline() throws {
        let real = try S.ring(n: 400, d: 4, seed: 4)
        let subset = try real.slice(0..<200)
        let bad = Tensor<Double>.normal([200, 4], mean: 1, std: 2, seed: 5)
        var o = SampleQualityOptions()
        o.permutations = 50
        let rep = try SampleQuality.evaluate(generated: subset, real: real, baseline: bad, options: o, seed: 6)
        #expect(rep.baselineKind == "custom")
        #expect(rep.beatsBaseline, "\(rep.reasons)")
        #expect(rep.model.precision == 1)
        #expect(rep.model.mmd2 < rep.baseline.mmd2 && rep.model.precision > rep.baseline.precision)
        #expect(rep.baseline.mmd2PValue < 0.05)
    }

    /// On curved data a faithful model beats the Gaussian with the data's moments, although that Gaussian has a
    /// Fréchet distance of about 0 — the reason docs/method.md §8b never judges by FD against this baseline.
    @Test func faithfulModelOfRingDataBeatsTheGaussianBaseline() throws {
        let real = try S.ring(n: 500, d: 4, noise: 0.05, seed: 7)
        let model = try S.ring(n: 500, d: 4, noise: 0.05, seed: 8)
        var o = SampleQualityOptions()
        o.permutations = 50
        let rep = try SampleQuality.evaluate(generated: model, real: real, options: o, seed: 9)
        #expect(rep.beatsBaseline, "\(rep.reasons)")
        #expect(rep.baseline.frechetDistance < 0.1, "Gaussian baseline FD = \(rep.baseline.frechetDistance)")
        #expect(rep.baseline.precision < rep.model.precision - 0.3, "precision: model \(rep.model.precision), baseline \(rep.baseline.precision)")
    }

    @Test func gaussianBaselineHasTheDataMoments() throws {
        let real = try Self.correlatedGaussian(n: 400, d: 3, seed: 10)
        let b = try SampleQuality.gaussianBaseline(real: real, count: 20000, seed: 11)
        #expect(b.shape == [20000, 3])
        let dm = try (b.mean(axis: 0) - real.mean(axis: 0)).maxAbs()
        let cr = try Drift.covariance(real), cb = try Drift.covariance(b)
        #expect(dm < 0.1 * cr.maxAbs().squareRoot(), "mean error \(dm)")
        #expect(try (cb - cr).maxAbs() < 0.05 * cr.maxAbs(), "covariance error")
        // Seeded.
        #expect(try SampleQuality.gaussianBaseline(real: real, count: 5, seed: 11) == b.slice(0..<5))
    }

    /// A singular covariance (rank 2 in 4-D) is handled: the samples stay in the data's affine span.
    @Test func gaussianBaselineOfSingularCovarianceStaysInTheSpan() throws {
        let basis = try Tensor<Double>.normal([4, 2], seed: 12).qr().q                           // 4 × 2
        let real = try matmul(Tensor<Double>.normal([300, 2], seed: 13), basis, transposeB: true) + 2
        let b = try SampleQuality.gaussianBaseline(real: real, count: 500, seed: 14)
        #expect(b.allFinite)
        let centred = try b - real.mean(axis: 0)
        let outside = try centred - matmul(matmul(centred, basis), basis, transposeB: true)
        #expect(outside.maxAbs() < 1e-12, "leaves the span by \(outside.maxAbs())")
        let rep = try SampleQuality.evaluate(generated: b, real: real, options: { var o = SampleQualityOptions(); o.permutations = 20; return o }())
        #expect(rep.model.frechetDistance.isFinite)
    }

    @Test func kidIsNearZeroForOneDistributionAndPositiveForAShift() throws {
        let a = Tensor<Double>.normal([400, 8], seed: 15), b = Tensor<Double>.normal([400, 8], seed: 16)
        let same = try SampleQuality.kid(generated: a, real: b, subsetSize: 200, subsets: 10, seed: 1)
        #expect(same.subsetSize == 200 && same.subsets == 10)
        #expect(Swift.abs(same.mean) < 3 * same.std + 0.01, "KID \(same.mean) ± \(same.std)")
        let shifted = try SampleQuality.kid(generated: a + 1, real: b, subsetSize: 200, subsets: 10, seed: 1)
        #expect(shifted.mean > 10 * Swift.max(same.std, 1e-3), "KID \(shifted.mean)")
        // Subsets as large as both sets: every subset is the whole set.
        let full = try SampleQuality.kid(generated: a, real: b, subsetSize: 1000, subsets: 4)
        S.expectClose(full.mean, try SampleQuality.polynomialMMD2(a, b), rtol: 1e-10)
        #expect(full.std < 1e-10 * Swift.abs(full.mean))
        S.expectClose(try SampleQuality.polynomialMMD2(a, b), try SampleQuality.polynomialMMD2(b, a), rtol: 1e-10)
    }

    @Test func prdcOfDisjointAndIdenticalSets() throws {
        let real = Tensor<Double>.normal([200, 3], seed: 17)
        let far = real + 100
        let d = try SampleQuality.prdc(generated: far, real: real)
        #expect(d.precision == 0 && d.recall == 0 && d.density == 0 && d.coverage == 0)
        let same = try SampleQuality.prdc(generated: real, real: real)
        #expect(same.precision == 1 && same.recall == 1 && same.coverage == 1)
        #expect(same.density >= 1)                                 // every point is in its own ball and k others' on average
        let pr = try SampleQuality.precisionRecall(generated: real, real: real)
        #expect(pr.precision == 1 && pr.recall == 1)
        let dc = try SampleQuality.densityCoverage(generated: far, real: real)
        #expect(dc.density == 0 && dc.coverage == 0)
        let radii = try SampleQuality.kNNRadii(real, k: 3)
        #expect(radii.count == 200 && radii.allSatisfy { $0 > 0 })
    }

    /// Mode collapse: samples drawn from one small part of the real set keep precision but lose recall and coverage.
    @Test func modeCollapseLosesRecallAndCoverage() throws {
        let real = try S.ring(n: 400, d: 3, seed: 18)
        let rows = (0..<400).filter { real[$0, 0] > 1.5 }                   // one arc of the ring
        let collapsed = try real.gather(rows: rows) + Tensor<Double>.normal([rows.count, 3], std: 0.01, seed: 19)
        let r = try SampleQuality.prdc(generated: collapsed, real: real)
        #expect(r.precision > 0.9)
        #expect(r.recall < 0.6 && r.coverage < 0.6, "recall \(r.recall), coverage \(r.coverage)")
    }

    @Test func reportJSONHasTheSpecKeys() throws {
        let real = Tensor<Float>.normal([120, 5], seed: 20), generated = Tensor<Float>.normal([100, 5], seed: 21)
        var o = SampleQualityOptions()
        o.permutations = 20
        var rep = try SampleQuality.evaluate(generated: generated, real: real, options: o, seed: 1)
        rep.model.extra = [("feature_frechet_distance", .num(1.5))]
        let json = rep.json
        let keys = ["n", "d", "mmd2", "kid", "precision", "recall", "density", "coverage", "frechet_distance"]
        for k in keys { #expect(json[k] != nil, "missing \(k)") }
        #expect(json["n"] == .int(100) && json["d"] == .int(5))
        #expect(json["kid"]?["mean"] != nil && json["kid"]?["std"] != nil)
        guard let baseline = json["baseline"] else { Issue.record("no baseline object"); return }
        for k in keys { #expect(baseline[k] != nil, "baseline misses \(k)") }
        #expect(baseline["n"] == .int(100))
        if case .bool? = json["beats_baseline"] {} else { Issue.record("beats_baseline is not a bool") }
        #expect(json["feature_frechet_distance"] == .num(1.5))
        // Seeded: the same call gives the same report.
        let again = try SampleQuality.evaluate(generated: generated, real: real, options: o, seed: 1)
        #expect(again.json == (try SampleQuality.evaluate(generated: generated, real: real, options: o, seed: 1)).json)
    }

    @Test func errors() throws {
        let a = Tensor<Double>.normal([50, 4], seed: 22), b = Tensor<Double>.normal([50, 5], seed: 23)
        #expect(throws: AnalysisError.self) { try SampleQuality.evaluate(generated: a, real: b) }
        #expect(throws: AnalysisError.self) { try SampleQuality.evaluate(generated: a.slice(0..<3), real: a) }
        #expect(throws: AnalysisError.self) { try SampleQuality.prdc(generated: a, real: a.slice(0..<4)) }
        #expect(throws: AnalysisError.self) { try SampleQuality.kid(generated: a.slice(0..<1), real: a) }
    }
}
