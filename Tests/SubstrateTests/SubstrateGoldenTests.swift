// Golden tests: every value of data/golden/substrate_golden.json (written by data/golden/make_substrate_golden.py
// from numpy/scipy re-implementations of the reference formulas — Kornblith et al.'s CKA notebook, scipy's
// orthogonal_procrustes, prdc, clean-fid's KID, scipy.stats KS) is recomputed with Substrate.
//
// Tolerances (relative to the reference, plus an absolute floor where a value can be near 0):
//   CKA (linear, debiased, RBF), SVCCA, Procrustes, ridge R², MMD², KID, Fréchet distance   rtol 1e-8
//   core rotation (c×c entries, |R| ≤ 1)                                                   atol 1e-8
//   counts and fractions (mutual k-NN, precision, recall, density, coverage, k*, PCs kept)  exact (1e-12)
//   KS statistic exact (1e-12); Kolmogorov survival and KS p-values                         rtol 1e-8
//   Fréchet distance with a singular covariance                                             rtol 1e-6, atol 1e-6
//     (its zero eigenvalues come back as ±1e-16·scale and their square roots as ~1e-8 in both implementations)
// Inputs in the file are float32-representable, so Float input gives the very same Double analysis: the Float
// runs use the same tolerances.

import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// A matrix of the golden file.
struct SubstrateGoldenMatrix: Decodable, Sendable {
    let shape: [Int]
    let data: [Double]
    func tensor() throws -> Tensor<Double> { try Tensor(data, shape: shape) }
    func float() throws -> Tensor<Float> { try Tensor(data.map { Float($0) }, shape: shape) }
}

struct SubstrateGoldenAlignmentCase: Decodable, Sendable, CustomStringConvertible {
    let name: String
    let x: SubstrateGoldenMatrix, y: SubstrateGoldenMatrix
    let linear_cka: Double, debiased_cka: Double, rbf_cka: Double
    let svcca: Double, svcca_components_x: Int, svcca_components_y: Int, svcca_correlations: [Double]
    let procrustes_similarity: Double, procrustes_distance: Double
    let signal_rank_x: Int, signal_rank_y: Int
    let core_dimension: Int, core_procrustes_similarity: Double, core_rotation: SubstrateGoldenMatrix
    let mutual_knn: Double
    let predictivity_train_rows: [Int], predictivity_test_rows: [Int]
    let ridge_lambda: Double, linear_predictivity_r2: Double
    var description: String { name }
}

struct SubstrateGoldenSampleQuality: Decodable, Sendable {
    let real: SubstrateGoldenMatrix, generated: SubstrateGoldenMatrix
    let bandwidth2: Double, mmd2: Double, polynomial_mmd2: Double, kid_equal_sizes: Double
    let precision: Double, recall: Double, density: Double, coverage: Double
    let precision_k5: Double, recall_k5: Double, density_k3: Double, coverage_k3: Double
    let frechet_distance: Double
}

struct SubstrateGoldenKS: Decodable, Sendable {
    let a: [Double], b: [Double]
    let statistic: Double, lambda: Double, p_value: Double
}

struct SubstrateGoldenFile: Decodable, Sendable {
    struct Singular: Decodable, Sendable { let a: SubstrateGoldenMatrix, b: SubstrateGoldenMatrix, frechet_distance: Double, frechet_distance_ba: Double }
    struct Survival: Decodable, Sendable { let lambda: Double, sf: Double }
    struct KSMatrix: Decodable, Sendable { let a: SubstrateGoldenMatrix, b: SubstrateGoldenMatrix, statistics: [Double], p_values_bonferroni: [Double] }
    let alignment: [SubstrateGoldenAlignmentCase]
    let sample_quality: SubstrateGoldenSampleQuality
    let frechet_singular: Singular
    let ks: [SubstrateGoldenKS]
    let kolmogorov_survival: [Survival]
    let ks_matrix: KSMatrix

    static let shared: SubstrateGoldenFile = {
        let url = dataURL("golden/substrate_golden.json")
        do {
            return try JSONDecoder().decode(SubstrateGoldenFile.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error) — run python3 data/golden/make_substrate_golden.py")
        }
    }()
}

private let rtol = 1e-8
private let exact = 1e-12

@Suite struct SubstrateGoldenTests {
    static var alignmentCases: [SubstrateGoldenAlignmentCase] { SubstrateGoldenFile.shared.alignment }

    @Test(arguments: alignmentCases)
    func alignmentMeasuresMatchTheReference(_ c: SubstrateGoldenAlignmentCase) throws {
        let x = try c.x.tensor(), y = try c.y.tensor()
        SubstrateSupport.expectClose(try Alignment.linearCKA(x, y), c.linear_cka, rtol: rtol, "linear CKA")
        SubstrateSupport.expectClose(try Alignment.debiasedCKA(x, y), c.debiased_cka, rtol: rtol, atol: 1e-12, "debiased CKA")
        SubstrateSupport.expectClose(try Alignment.rbfCKA(x, y), c.rbf_cka, rtol: rtol, "RBF CKA (t = 0.5)")
        let sv = try Alignment.svcca(x, y)
        #expect(sv.componentsX == c.svcca_components_x && sv.componentsY == c.svcca_components_y)
        SubstrateSupport.expectClose(sv.mean, c.svcca, rtol: rtol, "SVCCA")
        SubstrateSupport.expectClose(sv.correlations, c.svcca_correlations, rtol: rtol, atol: 1e-12, "canonical correlations")
        let pr = try Alignment.procrustes(x, y)
        SubstrateSupport.expectClose(pr.similarity, c.procrustes_similarity, rtol: rtol, "Procrustes similarity")
        SubstrateSupport.expectClose(pr.distance, c.procrustes_distance, rtol: rtol, "Procrustes distance")
        SubstrateSupport.expectClose(try Alignment.mutualKNN(x, y, k: 10), c.mutual_knn, rtol: 0, atol: exact, "mutual k-NN")
        let p = try Alignment.linearPredictivity(x, y, trainRows: c.predictivity_train_rows, testRows: c.predictivity_test_rows)
        SubstrateSupport.expectClose(p.lambda, c.ridge_lambda, rtol: rtol, "ridge λ")
        SubstrateSupport.expectClose(p.r2, c.linear_predictivity_r2, rtol: rtol, atol: 1e-12, "R²")
    }

    @Test(arguments: alignmentCases)
    func coreProcrustesMatchesTheReference(_ c: SubstrateGoldenAlignmentCase) throws {
        let x = try c.x.tensor(), y = try c.y.tensor()
        #expect(try Spectrum.analyze(x, twoNN: false).signalRank == c.signal_rank_x)
        #expect(try Spectrum.analyze(y, twoNN: false).signalRank == c.signal_rank_y)
        let core = try Alignment.coreProcrustes(x, y)
        #expect(core.dimension == c.core_dimension)
        SubstrateSupport.expectClose(core.similarity, c.core_procrustes_similarity, rtol: rtol, "core Procrustes similarity")
        SubstrateSupport.expectClose(core.rotation.scalars, c.core_rotation.data, rtol: 0, atol: 1e-8, "core rotation")
    }

    /// The Gram-matrix route of the notebook (`cka(gram_linear(x), gram_linear(y), debiased)`) gives the same
    /// numbers as the feature-space route.
    @Test(arguments: alignmentCases)
    func gramRouteMatchesFeatureSpace(_ c: SubstrateGoldenAlignmentCase) throws {
        let xc = try Spectrum.centered(c.x.tensor()).xc, yc = try Spectrum.centered(c.y.tensor()).xc
        let kx = try matmul(xc, xc, transposeB: true), ky = try matmul(yc, yc, transposeB: true)
        SubstrateSupport.expectClose(try Alignment.cka(gramX: kx, gramY: ky), c.linear_cka, rtol: rtol)
        SubstrateSupport.expectClose(try Alignment.cka(gramX: kx, gramY: ky, debiased: true), c.debiased_cka, rtol: rtol, atol: 1e-12)
    }

    @Test(arguments: alignmentCases)
    func compareReportsTheReferenceValues(_ c: SubstrateGoldenAlignmentCase) throws {
        let rep = try Alignment.compare(c.x.tensor(), c.y.tensor())
        SubstrateSupport.expectClose(rep.linearCKA, c.linear_cka, rtol: rtol)
        SubstrateSupport.expectClose(rep.debiasedCKA!, c.debiased_cka, rtol: rtol, atol: 1e-12)
        SubstrateSupport.expectClose(rep.rbfCKA!, c.rbf_cka, rtol: rtol)
        SubstrateSupport.expectClose(rep.svcca!.mean, c.svcca, rtol: rtol)
        SubstrateSupport.expectClose(rep.procrustes.similarity, c.procrustes_similarity, rtol: rtol)
        SubstrateSupport.expectClose(rep.core.similarity, c.core_procrustes_similarity, rtol: rtol)
        SubstrateSupport.expectClose(rep.mutualKNN!, c.mutual_knn, rtol: 0, atol: exact)
        #expect(rep.core.dimension == c.core_dimension)
        #expect(rep.signalRankX == c.signal_rank_x && rep.signalRankY == c.signal_rank_y)
        let expected = Alignment.classify(linearCKA: c.linear_cka, coreProcrustesSimilarity: c.core_procrustes_similarity).regime
        #expect(rep.regime == expected)
    }

    /// Float input (float32-representable values) is analysed in Double: the same numbers.
    @Test(arguments: alignmentCases)
    func floatInputGivesTheSameValues(_ c: SubstrateGoldenAlignmentCase) throws {
        let rep = try Alignment.compare(c.x.float(), c.y.float())
        SubstrateSupport.expectClose(rep.linearCKA, c.linear_cka, rtol: rtol)
        SubstrateSupport.expectClose(rep.debiasedCKA!, c.debiased_cka, rtol: rtol, atol: 1e-12)
        SubstrateSupport.expectClose(rep.rbfCKA!, c.rbf_cka, rtol: rtol)
        SubstrateSupport.expectClose(rep.procrustes.similarity, c.procrustes_similarity, rtol: rtol)
        SubstrateSupport.expectClose(rep.core.similarity, c.core_procrustes_similarity, rtol: rtol)
    }

    @Test func sampleQualityMatchesTheReference() throws {
        let g = SubstrateGoldenFile.shared.sample_quality
        let real = try g.real.tensor(), gen = try g.generated.tensor()
        SubstrateSupport.expectClose(try MMDKernels.medianBandwidth2(real), g.bandwidth2, rtol: rtol, "h²")
        let m = try SampleQuality.mmd2(generated: gen, real: real, permutations: 20)
        SubstrateSupport.expectClose(m.bandwidth2, g.bandwidth2, rtol: rtol, "h²")
        SubstrateSupport.expectClose(m.mmd2, g.mmd2, rtol: rtol, atol: 1e-14, "MMD²")
        SubstrateSupport.expectClose(try SampleQuality.polynomialMMD2(gen, real), g.polynomial_mmd2, rtol: rtol, "polynomial MMD²")
        // KID with one subset size equal to both set sizes: every subset is the whole set, so mean = MMD², std = 0.
        let kid = try SampleQuality.kid(generated: gen, real: real.slice(0..<gen.shape[0]), subsetSize: 1000, subsets: 3)
        #expect(kid.subsetSize == gen.shape[0])
        SubstrateSupport.expectClose(kid.mean, g.kid_equal_sizes, rtol: rtol, "KID")
        #expect(kid.std <= 1e-12 * Swift.abs(kid.mean))
        let p3 = try SampleQuality.prdc(generated: gen, real: real, precisionK: 3, densityK: 3)
        let p5 = try SampleQuality.prdc(generated: gen, real: real, precisionK: 5, densityK: 5)
        SubstrateSupport.expectClose(p3.precision, g.precision, rtol: 0, atol: exact, "precision (k = 3)")
        SubstrateSupport.expectClose(p3.recall, g.recall, rtol: 0, atol: exact, "recall (k = 3)")
        SubstrateSupport.expectClose(p5.density, g.density, rtol: 0, atol: exact, "density (k = 5)")
        SubstrateSupport.expectClose(p5.coverage, g.coverage, rtol: 0, atol: exact, "coverage (k = 5)")
        SubstrateSupport.expectClose(p5.precision, g.precision_k5, rtol: 0, atol: exact)
        SubstrateSupport.expectClose(p5.recall, g.recall_k5, rtol: 0, atol: exact)
        SubstrateSupport.expectClose(p3.density, g.density_k3, rtol: 0, atol: exact)
        SubstrateSupport.expectClose(p3.coverage, g.coverage_k3, rtol: 0, atol: exact)
        let pd = try SampleQuality.prdc(generated: gen, real: real)      // defaults k = 3 / 5
        #expect(pd.precision == p3.precision && pd.recall == p3.recall && pd.density == p5.density && pd.coverage == p5.coverage)
        SubstrateSupport.expectClose(try SampleQuality.frechetDistance(generated: gen, real: real), g.frechet_distance, rtol: rtol, "FD")
    }

    @Test func frechetDistanceWithSingularCovariance() throws {
        let f = SubstrateGoldenFile.shared.frechet_singular
        let a = try f.a.tensor(), b = try f.b.tensor()
        SubstrateSupport.expectClose(try Drift.frechetDistance(a, b), f.frechet_distance, rtol: 1e-6, atol: 1e-6)
        SubstrateSupport.expectClose(try Drift.frechetDistance(b, a), f.frechet_distance_ba, rtol: 1e-6, atol: 1e-6)
    }

    @Test func ksMatchesScipy() throws {
        let gold = SubstrateGoldenFile.shared
        for (i, c) in gold.ks.enumerated() {
            let d = Drift.ksStatistic(c.a, c.b)
            SubstrateSupport.expectClose(d, c.statistic, rtol: 0, atol: exact, "KS statistic, case \(i)")
            let lam = d * (Double(c.a.count * c.b.count) / Double(c.a.count + c.b.count)).squareRoot()
            SubstrateSupport.expectClose(Drift.kolmogorovSurvival(lam), c.p_value, rtol: rtol, atol: 1e-15, "KS p, case \(i)")
        }
        for s in gold.kolmogorov_survival {
            SubstrateSupport.expectClose(Drift.kolmogorovSurvival(s.lambda), s.sf, rtol: rtol, atol: 1e-15, "Q(\(s.lambda))")
        }
        let m = gold.ks_matrix
        let r = try Drift.ks(m.a.tensor(), m.b.tensor(), alpha: 0.05)
        SubstrateSupport.expectClose(r.statistics, m.statistics, rtol: 0, atol: exact, "per-feature KS statistics")
        SubstrateSupport.expectClose(r.correctedPValues, m.p_values_bonferroni, rtol: rtol, atol: 1e-15, "Bonferroni p-values")
        #expect(r.flagged == m.p_values_bonferroni.indices.filter { m.p_values_bonferroni[$0] < 0.05 })
    }
}
