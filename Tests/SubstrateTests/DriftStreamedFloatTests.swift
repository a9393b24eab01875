import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// The streamed drift comparison of single-precision sets reads them as Float (half the bytes) and widens each block
/// pair to Double only for its kernels: the block MMD test must be that of the same values held in Double, exactly,
/// and the moments (accumulated in Float, ≤ 4096-row chunks flushed into Double) within 1e-6.
@Suite struct DriftStreamedFloatTests {
    @Test("float32 sets in the block test: MMD², z and p equal to the Double sets' bit for bit; Fréchet distance within 1e-6")
    func floatSetsMatchDouble() throws {
        var g = RandomGenerator(seed: 51)
        let mix = Tensor<Double>.normal([16, 16], using: &g) * 0.5
        let a: Tensor<Float> = try matmul(Tensor<Double>.normal([3000, 16], using: &g), mix).cast()
        let b: Tensor<Float> = try (matmul(Tensor<Double>.normal([2800, 16], using: &g), mix) + 0.05).cast()
        let rf = try Drift.compare(reference: StateRows(a, label: "a"), candidate: StateRows(b, label: "b"))
        let ad: Tensor<Double> = a.cast(), bd: Tensor<Double> = b.cast()
        let rd = try Drift.compare(reference: StateRows(ad, label: "a"), candidate: StateRows(bd, label: "b"))
        #expect(rf.test == "block" && rd.test == "block")
        #expect(rf.mmd2 == rd.mmd2 && rf.pValue == rd.pValue && rf.zScore == rd.zScore && rf.blocks == rd.blocks)
        #expect(abs(rf.frechetDistance - rd.frechetDistance) <= 1e-6 * rd.frechetDistance, "\(rf.frechetDistance) vs \(rd.frechetDistance)")
        #expect(abs(rf.coreFrechetDistance - rd.coreFrechetDistance) <= 1e-5 * Swift.max(rd.coreFrechetDistance, 1e-3))
        #expect(rf.regimeA == rd.regimeA && rf.regimeB == rd.regimeB && rf.drift == rd.drift)
    }
}
