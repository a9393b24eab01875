// The injectable noise source: sample i's noise depends only on (seed, i, step, stream).

import Foundation
@testable import Generative
import Linear
import Testing
import TestSupport

@Suite("Noise source")
struct NoiseSourceTests {
    let noise = SeededNoise(seed: 1234)

    @Test("a sample's noise does not depend on the batch it is drawn in")
    func batchInvariance() throws {
        let whole: Tensor<Float> = noise.normal([10, 6], step: 3, stream: .sampler, firstRow: 0)
        let a: Tensor<Float> = noise.normal([4, 6], step: 3, stream: .sampler, firstRow: 0)
        let b: Tensor<Float> = noise.normal([6, 6], step: 3, stream: .sampler, firstRow: 4)
        #expect(try Tensor.concatenate([a, b]) == whole)
        let one: Tensor<Float> = noise.normal([1, 6], step: 3, stream: .sampler, firstRow: 7)
        #expect(try whole.slice(7..<8) == one)
        // Trailing shape is per sample: [n, 2, 3] rows equal [n, 6] rows.
        let shaped: Tensor<Float> = noise.normal([10, 2, 3], step: 3, stream: .sampler, firstRow: 0)
        #expect(try shaped.reshaped([10, 6]) == whole)
        // Double carries the same draws to more digits.
        let d: Tensor<Double> = noise.normal([10, 6], step: 3, stream: .sampler, firstRow: 0)
        #expect(maxDifference(d.cast(to: Float.self), whole) == 0)
    }

    @Test("steps, streams and seeds give different noise; the same key gives the same noise")
    func keys() throws {
        let base: Tensor<Double> = noise.normal([4, 8], step: 0)
        #expect(base == noise.normal([4, 8], step: 0, as: Double.self))
        #expect(base != noise.normal([4, 8], step: 1, as: Double.self))
        #expect(base != noise.normal([4, 8], step: 0, stream: .corrector, firstRow: 0) as Tensor<Double>)
        #expect(base != SeededNoise(seed: 1235).normal([4, 8], step: 0, as: Double.self))
        #expect(noise.prior([4, 8], as: Double.self) != base)   // the prior has its own stream
        // Rows of one request are not copies of each other.
        #expect(try base.slice(0..<1) != base.slice(1..<2))
        let ve: Tensor<Double> = noise.prior([4, 8], std: 50)
        #expect(maxDifference(ve, noise.prior([4, 8], as: Double.self) * 50) < 1e-12)
        var g1 = noise.generator(row: 3, step: 2), g2 = noise.generator(row: 3, step: 2)
        #expect(g1.next() == g2.next())
    }

    @Test("normal noise is standard normal, uniform noise is in [0, 1)")
    func distributions() throws {
        let z: Tensor<Double> = noise.normal([2000, 50], step: 0)
        #expect(abs(z.mean()) < 0.01)
        #expect(abs(z.variance() - 1) < 0.02)
        let u: Tensor<Float> = noise.uniform([2000, 50], step: 0, stream: .training, firstRow: 0)
        #expect(u.min() >= 0 && u.max() < 1)
        #expect(abs(Double(u.mean()) - 0.5) < 0.01)
        let zero: Tensor<Float> = ZeroNoise().normal([3, 2], step: 5, stream: .sampler, firstRow: 0)
        #expect(zero == Tensor<Float>.zeros([3, 2]))
        #expect(ZeroNoise().uniform([2], step: 0, stream: .training, firstRow: 0) == Tensor<Float>.full([2], 0.5))
        #expect(NoiseStream.prior.description == "prior" && NoiseStream(rawValue: 99).description == "stream 99")
    }
}
