import Linear
import Testing
@testable import Generative
import TestSupport

/// The covariance spectrum behind `vst train`'s data-dependent defaults (isotropic scaling, the Gaussian skip's floor,
/// the VAE's latent dimension).
@Suite struct CovarianceSpectrumTests {
    /// Four rows (±a, 0), (0, ±b) have mean 0 and covariance diag(2a², 2b²)/3 exactly; an exact isometric lift keeps
    /// those two eigenvalues and adds D − 2 zeros.
    @Test("eigenvalues, median and effective rank of an exactly known covariance, lifted to 64, 256 and 1024", arguments: [64, 256, 1024])
    func exact(dimension: Int) throws {
        let a = 3.0, b = 0.5
        let plane = try Tensor<Double>([a, 0, -a, 0, 0, b, 0, -b], shape: [4, 2])
        var g = RandomGenerator(seed: 0)
        let lifted = try OrthogonalEmbedding(dimension: dimension).lift(plane, noise: 0, using: &g)
        let s = try CovarianceSpectrum(of: lifted)
        #expect(s.eigenvalues.count == dimension)
        #expect(abs(s.largest - 2 * a * a / 3) < 1e-12)
        #expect(abs(s.eigenvalues[1] - 2 * b * b / 3) < 1e-12)
        #expect(s.eigenvalues.dropFirst(2).allSatisfy { $0 < 1e-12 })
        #expect(s.median < 1e-12)
        #expect(s.effectiveRank() == 2)                       // (b/a)² = 0.028 ≥ 0.01
        #expect(s.effectiveRank(level: 0.05) == 1)            // but < 0.05
        let f32 = try CovarianceSpectrum(of: lifted.cast(to: Float.self))
        #expect(f32.effectiveRank() == 2)
    }

    @Test("toys lifted with noise have effective rank 2 at every rung, so the VAE gets a 2-D latent; the digits keep 9", arguments: [64, 256, 1024])
    func latentDimension(dimension: Int) throws {
        for toy in Toy2D.allCases {
            let x: Tensor<Float> = try DataSource.toy(toy, dimension: dimension).load(count: 2000, seed: 7).data
            let standardised = try AffineScaling.standardizing(x).apply(x)
            #expect(try CovarianceSpectrum(of: standardised).effectiveRank() == 2, "\(toy) in \(dimension)-D")
            #expect(try VAEConfiguration.defaultLatentDimension(for: standardised) == 2)
        }
    }

    @Test("digits: effective rank far above 9, so the latent dimension stays at the demo's 9")
    func digits() throws {
        let d: LabeledData<Float> = try Digits.load(path: dataPath("digits.csv"))
        let r = try CovarianceSpectrum(of: d.data).effectiveRank()
        #expect(r > 30)
        #expect(try VAEConfiguration.defaultLatentDimension(for: d.data) == 9)
        #expect(try VAEConfiguration.defaultLatentDimension(for: d.data, cap: 64) == r)
    }

    @Test("fewer than two rows is an error naming the caller")
    func tooFewRows() {
        #expect(throws: TensorError.self) { try CovarianceSpectrum(of: Tensor<Double>([1, 2], shape: [1, 2]), caller: "X") }
    }
}
