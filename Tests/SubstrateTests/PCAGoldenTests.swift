import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// Spectrum statistics and the projection against scikit-learn's PCA and numpy (data/golden/make_pca_golden.py).
@Suite struct PCAGoldenTests {
    struct Case {
        var name: String; var n: Int; var d: Int; var x: Tensor<Double>
        var raw: [String: Any]
        func doubles(_ key: String) -> [Double] { raw[key] as! [Double] }
    }

    nonisolated(unsafe) static let cases: [Case] = {   // read-only after its first use
        let url = dataURL("golden/pca_golden.json")
        let root = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return (root["cases"] as! [[String: Any]]).map { c in
            let n = c["n"] as! Int, d = c["d"] as! Int
            return Case(name: c["name"] as! String, n: n, d: d, x: try! Tensor(c["x"] as! [Double], shape: [n, d]), raw: c)
        }
    }()

    @Test(arguments: [0, 1, 2])
    func spectrumMatchesNumpy(index: Int) throws {
        let c = Self.cases[index]
        let s = try Spectrum.analyze(c.x)
        let want = c.doubles("singular_values")
        for (a, b) in zip(s.singularValues, want) { #expect(isClose(a, b, rtol: 1e-9, atol: 1e-9 * want[0]), "\(c.name) σ") }
        #expect(s.signalRank == c.raw["signal_rank"] as! Int)
        #expect(isClose(s.threshold, c.raw["threshold"] as! Double, rtol: 1e-10))
        #expect(isClose(s.signalEnergy, c.raw["signal_energy"] as! Double, rtol: 1e-10))
        #expect(isClose(s.participationRatio, c.raw["participation_ratio"] as! Double, rtol: 1e-10))
        let ce = c.raw["core_energy"] as! [String: Double]
        for k in [3, 6, 9] { #expect(isClose(s.coreEnergy[k]!, ce[String(k)]!, rtol: 1e-10)) }
        // TwoNN against the same estimator in numpy (spec: within 10 %; here the estimators are identical).
        #expect(isClose(s.twoNNDimension!, c.raw["twonn"] as! Double, rtol: 1e-9))
    }

    @Test(arguments: [0, 1, 2])
    func projectionMatchesSklearnPCA(index: Int) throws {
        let c = Self.cases[index]
        let k = Swift.min(c.n, c.d)
        let ev = c.doubles("explained_variance"), ratio = c.doubles("explained_variance_ratio"), comps = c.doubles("components")
        let mean = c.doubles("mean")
        // svd and covariance are exact (tolerance 1e-9); randomized is an approximation, checked on the signal
        // directions only (those above the Gavish–Donoho threshold, separated from the noise by a gap), to 1e-6.
        let signal = c.raw["signal_rank"] as! Int
        // The randomized method with each way of applying X_cᵀX_c (formed, or streamed without forming it).
        let fits: [(ProjectionMethod, RandomizedOperator)] = [(.svd, .automatic), (.covariance, .automatic), (.randomized, .covariance), (.randomized, .streamed)]
        for (method, op) in fits {
            let exact = method != .randomized
            let tol = exact ? 1e-9 : 1e-6
            var o = ProjectionOptions(k: Swift.min(9, c.d), method: method)
            o.randomizedOperator = op
            let p = try Projection.fit(c.x, options: o)
            for i in 0..<mean.count { #expect(isClose(p.mean[i], mean[i], rtol: 1e-12, atol: 1e-12)) }
            for i in 0..<Swift.min(9, k) where exact || i < signal {
                #expect(isClose(p.eigenvalues[i], ev[i], rtol: tol, atol: 1e-10 * ev[0]), "\(c.name) \(method) λ\(i)")
                #expect(isClose(p.explainedVarianceRatio[i], ratio[i], rtol: tol, atol: 1e-12), "\(c.name) \(method) ratio\(i)")
                // Components, with the sign rule of docs/method.md §2 on both sides; only well-separated eigenvalues define a vector.
                let gapOK = (i == 0 || ev[i - 1] - ev[i] > 1e-3 * ev[0]) && (i + 1 >= ev.count || ev[i] - ev[i + 1] > 1e-3 * ev[0])
                if gapOK {
                    for j in 0..<c.d {
                        #expect(Swift.abs(p.basis[j, i] - comps[i * c.d + j]) < (exact ? 1e-7 : 1e-5), "\(c.name) \(method) component \(i) entry \(j)")
                    }
                }
            }
        }
    }
}
