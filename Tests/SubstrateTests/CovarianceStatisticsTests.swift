import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// The streamed, mergeable covariance statistics: against a two-pass Double reference, for Double and Float rows,
/// with large offsets, odd chunk sizes and several threads.
@Suite struct CovarianceStatisticsTests {
    /// Two-pass reference in Double: mean, then Σ(x − μ)(x − μ)ᵀ.
    static func reference(_ x: Tensor<Double>) throws -> (mean: Tensor<Double>, scatter: Tensor<Double>) {
        let mean = try x.mean(axis: 0)
        let xc = try x - mean
        return (mean, try matmul(xc, xc, transposeA: true))
    }

    static func rows(n: Int, d: Int, offset: Double, seed: UInt64) throws -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        let a = Tensor<Double>.normal([d, d], using: &g) * (1 / Double(d).squareRoot())
        let offsets = try Tensor<Double>.normal([d], using: &g) * offset
        return try matmul(Tensor<Double>.normal([n, d], using: &g), a) + offsets
    }

    @Test("Double rows: mean and scatter to 1e-12 of the two-pass reference", arguments: [1, 777, 4096], [1, 2])
    func doubleRows(chunk: Int, threads: Int) throws {
        let x = try Self.rows(n: 9000, d: 37, offset: 1e3, seed: 31)
        var s = CovarianceStatistics(dimension: 37)
        try BLAS.withThreads(threads) { try s.add(x, chunk: chunk) }
        let ref = try Self.reference(x)
        #expect(s.count == 9000)
        #expect(try (s.mean - ref.mean).maxAbs() <= 1e-12 * 1e3)
        #expect(try (s.scatter - ref.scatter).maxAbs() <= 1e-12 * ref.scatter.maxAbs() * 100)
    }

    /// Float rows are centred in Float with Float partial sums: the statistics must still be those of the rounded
    /// values to Float accuracy, also with an offset 100 standard deviations away (no cancellation).
    @Test("Float rows: mean and scatter of the rounded values to Float accuracy", arguments: [0.0, 100.0], [1, 2])
    func floatRows(offset: Double, threads: Int) throws {
        let xf: Tensor<Float> = try Self.rows(n: 20_000, d: 53, offset: offset, seed: 32).cast()
        let x: Tensor<Double> = xf.cast()                                  // the exact values the Float path sees
        var s = CovarianceStatistics(dimension: 53)
        try BLAS.withThreads(threads) { try s.add(xf, chunk: 3000) }
        let ref = try Self.reference(x)
        let sd = (0..<53).map { ref.scatter[$0, $0] / 20_000 }.map { $0.squareRoot() }.max()!
        // The mean to a small multiple of Float's rounding of the centred values (not of the offset).
        #expect(try (s.mean - ref.mean).maxAbs() <= 1e-6 * sd, "mean")
        // The scatter to Float accuracy relative to its largest entry (the syrk runs in Float).
        #expect(try (s.scatter - ref.scatter).maxAbs() <= 2e-6 * ref.scatter.maxAbs(), "scatter")
        // Far from the mean's scale: the same bound holds with the offset, so nothing cancelled.
        #expect(s.count == 20_000)
    }

    @Test("Float rows with a NaN: the first chunk holding it is named, nothing is added")
    func floatNaN() throws {
        var x: Tensor<Float> = try Self.rows(n: 1000, d: 20, offset: 1, seed: 33).cast()
        x[612, 7] = .nan
        var s = CovarianceStatistics(dimension: 20)
        #expect { try s.add(x, chunk: 256) } throws: { error in
            "\(error)".contains("512..<768") || "\(error)".contains("612")
        }
        #expect(s.count == 0)
    }
}
