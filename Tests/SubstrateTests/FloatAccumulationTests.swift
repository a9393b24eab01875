import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// Float rows accumulated in single precision: each block of at most 4096 rows is centred on a shift near its mean
/// (in Float, exactly: the rows and the shift are Float numbers of one binade), folded in by `ssyrk` and flushed into
/// the Double totals, which merge by Chan, Golub & LeVeque (1979). The claim (issue 17): the covariance and the
/// explained variance stay within 1e-6 (relative) of the exact Double result on the same rounded values, also on
/// adversarial data, when the rows arrive in the blocks `vst fit-projection` reads from a file (2²¹/D rows each).
@Suite struct FloatAccumulationTests {
    enum Data: String, CaseIterable, Sendable {
        /// rows = 10⁴ + N(0, Σ): the mean lies 10⁴ standard deviations away (an uncentred Float XᵀX loses everything).
        case offset
        /// column j scaled by 10^(−3 + 6j/(D − 1)) with an offset of 100 of its own scales: six orders of magnitude
        /// between the columns, each far from zero.
        case scaledColumns
    }

    static func rows(_ kind: Data, n: Int, d: Int, seed: UInt64) throws -> Tensor<Float> {
        var g = RandomGenerator(seed: seed)
        // A spectrum with a clear top: 9 strong directions (variance 25…1) over unit-ish noise.
        let mix = Tensor<Double>.normal([d, d], using: &g) * (1 / Double(d).squareRoot())
        let strengths = Tensor<Double>((0..<d).map { $0 < 9 ? 5 - 0.5 * Double($0) : 1 })
        let x = try matmul(Tensor<Double>.normal([n, d], using: &g) * strengths, mix)
        switch kind {
        case .offset:
            return (x + 1e4).cast()
        case .scaledColumns:
            let s = Tensor<Double>((0..<d).map { Foundation.pow(10, -3 + 6 * Double($0) / Double(d - 1)) })
            return try (x * s + s * 100).cast()
        }
    }

    /// The exact statistics of the rounded values: two passes in Double (mean, then Σ(x − μ)(x − μ)ᵀ).
    static func exact(_ x: Tensor<Double>) throws -> (mean: Tensor<Double>, covariance: Tensor<Double>) {
        let mean = try x.mean(axis: 0)
        let xc = try x - mean
        return (mean, try matmul(xc, xc, transposeA: true) * (1 / Double(x.shape[0] - 1)))
    }

    @Test("Float blocks merged in Double: covariance and explained variance within 1e-6 of exact Double",
          arguments: Data.allCases, [1, 2])
    func adversarial(_ kind: Data, threads: Int) throws {
        let n = 60_000, d = 48
        let xf = try Self.rows(kind, n: n, d: d, seed: 41)
        let ref = try Self.exact(xf.cast())
        // As the CLI streams a file: blocks of 2²¹/D rows, each handed to add (which cuts Float input into ≤ 4096-row chunks).
        var s = CovarianceStatistics(dimension: d)
        let block = (1 << 21) / d
        try BLAS.withThreads(threads) {
            var start = 0
            while start < n { let end = Swift.min(n, start + block); try s.add(xf.slice(start..<end), chunk: block); start = end }
        }
        let c = try s.covariance()
        // Entrywise relative to the scale of the entry: |ΔC_ij| ≤ 1e-6·√(C_ii·C_jj) (columns differ by 10⁶ in scale).
        var worst = 0.0
        for i in 0..<d { for j in 0..<d {
            worst = Swift.max(worst, Swift.abs(c[i, j] - ref.covariance[i, j]) / (ref.covariance[i, i] * ref.covariance[j, j]).squareRoot())
        } }
        #expect(worst <= 1e-6, "covariance: worst relative entry error \(worst)")
        // The mean to 1e-6 of each column's standard deviation.
        var worstMean = 0.0
        let mean = s.mean.scalars, refMean = ref.mean.scalars
        for j in 0..<d { worstMean = Swift.max(worstMean, Swift.abs(mean[j] - refMean[j]) / ref.covariance[j, j].squareRoot()) }
        #expect(worstMean <= 1e-6, "mean: worst error \(worstMean) standard deviations")
        // The explained variance of the top 9 (what fit-projection reports) against eigvalsh of the exact covariance.
        let p = try Projection.fit(statistics: s, options: ProjectionOptions(k: 9, method: .covariance))
        let exactLambda = Array(try ref.covariance.eigvalsh().scalars.reversed())
        var worstLambda = 0.0
        for i in 0..<9 { worstLambda = Swift.max(worstLambda, Swift.abs(p.eigenvalues[i] - exactLambda[i]) / exactLambda[i]) }
        #expect(worstLambda <= 1e-6, "explained variance: worst relative error \(worstLambda)")
        let ratio = Array(p.explainedVarianceRatio.prefix(9)), total = exactLambda.reduce(0, +)
        for i in 0..<9 { #expect(Swift.abs(ratio[i] - exactLambda[i] / total) <= 1e-6 * exactLambda[i] / total) }
        print("FloatAccumulationTests \(kind.rawValue) threads \(threads): covariance \(worst), mean \(worstMean), top-9 λ \(worstLambda)")
    }

    @Test("the Float path is not the uncentred XᵀX: on rows = 10⁴ + N(0, Σ) a Float Σxxᵀ − nμμᵀ misses by far more than 1e-6")
    func naiveFails() throws {
        // The bound above must be able to fail: the textbook one-pass formula in Float on the same data.
        let n = 20_000, d = 16
        let xf = try Self.rows(.offset, n: n, d: d, seed: 42)
        let ref = try Self.exact(xf.cast())
        let gram: Tensor<Double> = try matmul(xf, xf, transposeA: true).cast()            // Float XᵀX
        let mu: Tensor<Double> = try xf.mean(axis: 0).cast()                             // Float mean
        let naive = try (gram - outer(mu, mu) * Double(n)) * (1 / Double(n - 1))
        let err = try (naive - ref.covariance).maxAbs() / ref.covariance.maxAbs()
        #expect(err > 1e-3, "naive Float error \(err)")
    }
}
