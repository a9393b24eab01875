// The Gaussian mixture fitted by EM (the VAE's ex-post latent prior): it recovers a known mixture, its
// log-likelihood does not decrease, it is deterministic for a seed, BIC finds the number of components, and its
// samples have the mixture's moments.

import Foundation
import Linear
import Testing
@testable import Generative

@Suite("Gaussian mixture (EM)")
struct GaussianMixtureTests {
    /// Three well-separated components in 2-D with different weights and covariances.
    static let truth = try! GaussianMixture(weights: [0.5, 0.3, 0.2],
                                            means: [[0, 0], [6, 1], [-2, 7]],
                                            covariances: [[1, 0.5, 0.5, 1], [0.5, 0, 0, 2], [2, -0.8, -0.8, 0.6]])

    static func draw(_ n: Int, seed: UInt64) throws -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        let u = (0..<n).map { _ in g.nextUniform() }
        let eps = Tensor<Double>.normal([n, 2], using: &g)
        return try truth.sample(uniforms: u, normals: eps)
    }

    /// Component j of `fit` nearest to true mean i.
    static func matched(_ fit: GaussianMixture) -> [Int] {
        truth.means.map { m in
            (0..<fit.components).min { a, b in
                hypot(fit.means[a][0] - m[0], fit.means[a][1] - m[1]) < hypot(fit.means[b][0] - m[0], fit.means[b][1] - m[1])
            }!
        }
    }

    @Test("EM recovers a known 3-component mixture: weights within 0.03, means within 0.12, covariances within 0.2")
    func recovers() throws {
        let z = try Self.draw(6000, seed: 1)
        let fit = try GaussianMixture.fit(z, components: 3, seed: 2)
        let m = fit.mixture
        let order = Self.matched(m)
        #expect(Set(order).count == 3)
        for (i, j) in order.enumerated() {
            #expect(abs(m.weights[j] - Self.truth.weights[i]) < 0.03, "weight \(i): \(m.weights[j])")
            for a in 0..<2 { #expect(abs(m.means[j][a] - Self.truth.means[i][a]) < 0.12, "mean \(i): \(m.means[j])") }
            for a in 0..<4 { #expect(abs(m.covariances[j][a] - Self.truth.covariances[i][a]) < 0.2, "covariance \(i): \(m.covariances[j])") }
        }
        #expect(fit.converged)
        // The fitted mixture is at least as likely as the truth on its own training data (it is the maximiser).
        let llTruth = try Self.truth.logDensity(z).reduce(0, +) / 6000
        #expect(fit.logLikelihoods.last! >= llTruth - 1e-9)
        print(String(format: "GMM: %d iterations, mean log-likelihood %.5f (truth %.5f)", fit.iterations, fit.logLikelihoods.last!, llTruth))
    }

    @Test("the mean log-likelihood does not decrease from one EM iteration to the next (K = 3 and an over-fitted K = 8)",
          arguments: [3, 8])
    func monotone(components: Int) throws {
        let z = try Self.draw(2000, seed: 3)
        let fit = try GaussianMixture.fit(z, components: components, seed: 4, tolerance: 0)
        #expect(fit.iterations >= 5)
        for (a, b) in zip(fit.logLikelihoods, fit.logLikelihoods.dropFirst()) {
            #expect(b >= a - 1e-9 * max(1, abs(a)), "log-likelihood fell from \(a) to \(b)")
        }
        #expect(fit.logLikelihoods.last! > fit.logLikelihoods.first!)
    }

    @Test("a seed fixes the fit; BIC over K = 1 … 6 picks the true 3")
    func deterministicAndBIC() throws {
        let z = try Self.draw(3000, seed: 5)
        let a = try GaussianMixture.fit(z, components: 4, seed: 6), b = try GaussianMixture.fit(z, components: 4, seed: 6)
        #expect(a.mixture == b.mixture && a.logLikelihoods == b.logLikelihoods)
        let best = try GaussianMixture.fitSelectingByBIC(z, maxComponents: 6, seed: 6)
        #expect(best.mixture.components == 3)
    }

    @Test("samples have the mixture's mean and covariance; row i depends only on its own noise")
    func sampling() throws {
        let m = Self.truth
        var mean = [0.0, 0.0]
        for k in 0..<3 { for a in 0..<2 { mean[a] += m.weights[k] * m.means[k][a] } }
        var cov = [0.0, 0.0, 0.0, 0.0]
        for k in 0..<3 { for a in 0..<2 { for b in 0..<2 {
            cov[a * 2 + b] += m.weights[k] * (m.covariances[k][a * 2 + b] + (m.means[k][a] - mean[a]) * (m.means[k][b] - mean[b]))
        } } }
        let n = 40_000
        let z = try Self.draw(n, seed: 7)
        let zm = try z.mean(axis: 0).scalars
        for a in 0..<2 { #expect(abs(zm[a] - mean[a]) < 0.06, "mean \(zm) vs \(mean)") }
        let c = try matmul(z - Tensor<Double>(zm, shape: [1, 2]), z - Tensor<Double>(zm, shape: [1, 2]), transposeA: true).scalars.map { $0 / Double(n) }
        for a in 0..<4 { #expect(abs(c[a] - cov[a]) < 0.05 * max(1, abs(cov[a])), "covariance \(c) vs \(cov)") }
        var g = RandomGenerator(seed: 8)
        let u = (0..<4).map { _ in g.nextUniform() }, e = Tensor<Double>.normal([4, 2], using: &g)
        let all = try m.sample(uniforms: u, normals: e)
        let two = try m.sample(uniforms: Array(u[2..<4]), normals: e.slice(2..<4))
        #expect(try all.slice(2..<4) == two)
    }

    @Test("bad input is a ConfigurationError: K > n, K = 0, non-finite rows, a covariance that is not positive definite; identical rows fit")
    func errors() throws {
        let z = try Self.draw(5, seed: 9)
        #expect(throws: ConfigurationError.self) { try GaussianMixture.fit(z, components: 6, seed: 1) }
        #expect(throws: ConfigurationError.self) { try GaussianMixture.fit(z, components: 0, seed: 1) }
        #expect(throws: ConfigurationError.self) { try GaussianMixture.fit(Tensor<Double>([.nan, 0, 1, 1], shape: [2, 2]), components: 1, seed: 1) }
        #expect(throws: ConfigurationError.self) { try GaussianMixture(weights: [1], means: [[0, 0]], covariances: [[1, 2, 2, 1]]) }
        // Identical rows (a collapsed posterior) are not an error: every component sits on them with the ridge.
        let same = try GaussianMixture.fit(Tensor<Double>.zeros([20, 2]), components: 3, seed: 1)
        #expect(same.mixture.components == 3 && same.mixture.means.allSatisfy { $0 == [0, 0] })
    }
}
