import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// The calibration of docs/method.md §4: X = ZA + ε with Z ∈ ℝ^{n×r} standard normal, A ∈ ℝ^{r×D} with orthonormal rows
/// scaled by s, ε ~ N(0, I); numbers checked with numpy at n = 2000.
@Suite struct RegimeCalibrationTests {
    static func lowRank(n: Int, d: Int, r: Int, s: Double, seed: UInt64) throws -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        let z = Tensor<Double>.normal([n, r], using: &g)
        let q = try Tensor<Double>.normal([d, r], using: &g).qr().q        // D × r, orthonormal columns
        let a = try q.transposed() * s                                       // r × D, orthonormal rows × s
        let noise = Tensor<Double>.normal([n, d], using: &g)
        return try matmul(z, a) + noise
    }

    @Test(arguments: [64, 256, 1024])
    func realLowRankStructureWithMostVarianceInNoiseIsR2(d: Int) throws {
        let x = try Self.lowRank(n: 2000, d: d, r: 5, s: 3, seed: 11)
        let rep = try Regimes.classify(x, twoNN: false)
        #expect(rep.spectrum.signalRank == 5)
        // ρ = 0.46 / 0.17 / 0.05 at D = 64 / 256 / 1024 (numpy).
        let expectedRho = [64: 0.46, 256: 0.17, 1024: 0.05][d]!
        #expect(Swift.abs(rep.spectrum.signalEnergy - expectedRho) < 0.03, "ρ = \(rep.spectrum.signalEnergy)")
        let expectedP = [64: 0.99, 256: 0.94, 1024: 0.78][d]!
        #expect(Swift.abs(rep.signalStability!.mean - expectedP) < 0.05, "P* = \(rep.signalStability!.mean)")
        #expect(rep.regime == .r2, "\(rep.reasons)")
    }

    @Test func strongLowRankSignalIsR1() throws {
        let x = try Self.lowRank(n: 2000, d: 64, r: 5, s: 6, seed: 12)
        let rep = try Regimes.classify(x, twoNN: false)
        #expect(rep.spectrum.signalRank == 5)
        #expect(rep.spectrum.signalEnergy >= 0.5)
        #expect(rep.regime == .r1, "\(rep.reasons)")
    }

    @Test func wideSignalIsR2() throws {
        let x = try Self.lowRank(n: 2000, d: 256, r: 40, s: 3, seed: 13)
        let rep = try Regimes.classify(x, twoNN: false)
        #expect(rep.spectrum.signalRank == 40)
        #expect(rep.signalStability!.mean > 0.9)
        #expect(rep.regime == .r2)
        #expect(rep.reasons.contains { $0.contains("wider than the 9-D core") })
    }

    @Test func weakSignalAndPureNoiseAreR3() throws {
        let weak = try Self.lowRank(n: 2000, d: 64, r: 5, s: 0.6, seed: 14)
        let rw = try Regimes.classify(weak, twoNN: false)
        #expect(rw.spectrum.signalRank == 0)
        #expect(rw.regime == .r3)
        let noise = Tensor<Double>.normal([2000, 64], seed: 15)
        #expect(try Regimes.classify(noise, twoNN: false).regime == .r3)
    }

    @Test(arguments: [64, 128, 256, 512, 1024])
    func pureNoiseIsNeverR1(d: Int) throws {
        for seed in 0..<4 {
            let noise = Tensor<Double>.normal([2000, d], seed: UInt64(100 + seed * 7 + d))
            let rep = try Regimes.classify(noise, twoNN: false)
            #expect(rep.regime != .r1, "seed \(seed), D = \(d): \(rep.reasons)")
        }
    }

    @Test func everyVerdictCarriesItsNumbers() throws {
        let x = try Self.lowRank(n: 500, d: 64, r: 3, s: 5, seed: 16)
        let rep = try Regimes.classify(x, twoNN: false)
        let json = rep.json
        for key in ["n", "d", "participation_ratio", "signal_rank", "signal_energy", "core_energy", "signal_stability",
                    "core_stability", "twonn_dimension", "regime", "reasons", "warnings"] {
            #expect(json[key] != nil, "missing key \(key)")
        }
        #expect(!rep.reasons.isEmpty)
    }
}
