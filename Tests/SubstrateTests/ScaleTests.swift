import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// Issue 15, large sets: TwoNN on a subsample with its interval, blocked k-NN, streamed regimes, the block MMD drift
/// test over all rows, and trajectory phases in sampler steps.
@Suite struct ScaleTests {
    /// A 5-D Gaussian placed in ℝ⁶⁴ by an orthonormal map.
    static func gaussian5in64(n: Int, seed: UInt64) throws -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        let z = Tensor<Double>.normal([n, 5], using: &g)
        let q = try Tensor<Double>.normal([64, 5], using: &g).qr().q.transposed()
        return try matmul(z, q)
    }

    @Test func twoNNSubsampleIntervalHoldsTheExactEstimate() throws {
        let x = try ScaleTests.gaussian5in64(n: 12_000, seed: 5)
        let exact = try #require(try TwoNN.dimension(x))
        var o = TwoNNOptions()
        o.rows = 3_000
        let sub = try TwoNN.estimate(x, options: o)
        let d = try #require(sub.dimension), interval = try #require(sub.interval)
        #expect(sub.rows == 3_000)
        #expect(interval[0] <= d && d <= interval[1])
        #expect(interval[0] <= exact && exact <= interval[1], "exact \(exact) outside \(interval)")
        // Both near the true 5 (a Gaussian's curvature biases TwoNN slightly low).
        #expect(Swift.abs(d - 5) < 0.6 && Swift.abs(exact - 5) < 0.6, "subsample \(d), exact \(exact)")
        // The interval is about ±2·d/√N wide, not degenerate.
        #expect(interval[1] - interval[0] > 0.05 && interval[1] - interval[0] < 1.5)
        // Seeded: the same options give the same estimate.
        #expect(try TwoNN.estimate(x, options: o) == sub)
    }

    @Test func twoNNOnAllRowsEqualsTheExactEstimateAndTheRowLimitHolds() throws {
        let x = try ScaleTests.gaussian5in64(n: 1_500, seed: 6)
        var o = TwoNNOptions()
        o.exact = true
        // Equal up to rounding: other tests change the global BLAS thread count while this one runs, and a GEMM
        // split over another number of threads rounds its distances differently (the last bits, not the estimate).
        let exact = try #require(try TwoNN.dimension(x))
        #expect(abs(try #require(try TwoNN.estimate(x, options: o).dimension) - exact) <= 1e-9 * exact)
        #expect(try TwoNN.estimate(x, options: o).rows == 1_500)
        o.exact = false; o.rows = 10_000
        #expect(abs(try #require(try TwoNN.estimate(x, options: o).dimension) - exact) <= 1e-9 * exact)
        o.exact = true
        #expect(throws: AnalysisError.self) { _ = try TwoNN.estimate(Tensor<Double>.zeros([TwoNN.exactRowLimit + 1, 1]), options: o) }
    }

    @Test func blockedNeighboursEqualABruteForceSearchAcrossBlocks() throws {
        // 5 000 reference rows: blocks of ⌊2²²/5000⌋ = 838 query rows, so 3 000 queries span four blocks.
        let q = Tensor<Double>.normal([3_000, 6], seed: 11), r = Tensor<Double>.normal([5_000, 6], seed: 12)
        var calls = 0
        let (idx, dist) = try Neighbors.nearest(q, in: r, k: 2, progress: { _, _ in calls += 1 })
        #expect(calls == 4)
        let qs = q.scalars, rs = r.scalars
        for i in Swift.stride(from: 0, to: 3_000, by: 7) {
            var best: [(Double, Int)] = []
            for j in 0..<5_000 {
                var s = 0.0
                for c in 0..<6 { let t = qs[i * 6 + c] - rs[j * 6 + c]; s += t * t }
                best.append((s.squareRoot(), j))
            }
            best.sort { $0.0 < $1.0 }
            #expect(idx[i * 2] == best[0].1 && idx[i * 2 + 1] == best[1].1)
            #expect(Swift.abs(dist[i * 2] - best[0].0) < 1e-9 && Swift.abs(dist[i * 2 + 1] - best[1].0) < 1e-9)
        }
    }

    @Test func streamedRegimesEqualTheInMemoryClassification() throws {
        let x = try SubstrateSupport.lowRank(n: 3_000, d: 24, r: 3, signal: 3, seed: 8)
        var o = TwoNNOptions()
        o.rows = 1_000
        let mem = try Regimes.classify(x, seed: 4, twoNNOptions: o)
        let streamed = try Regimes.classify(rows: StateRows(x), seed: 4, twoNNOptions: o, blockRows: 457)
        #expect(streamed.regime == mem.regime && streamed.spectrum.signalRank == mem.spectrum.signalRank)
        _ = SubstrateSupport.expectClose(streamed.spectrum.eigenvalues, mem.spectrum.eigenvalues, rtol: 1e-9, atol: 1e-9)
        #expect(Swift.abs(streamed.spectrum.participationRatio - mem.spectrum.participationRatio) < 1e-9)
        for k in Set(mem.coreStability.keys).union(streamed.coreStability.keys) {
            #expect(Swift.abs(streamed.coreStability[k]!.mean - mem.coreStability[k]!.mean) < 1e-9)
        }
        #expect(Swift.abs(streamed.signalStability!.mean - mem.signalStability!.mean) < 1e-9)
        // The same seeded TwoNN subsample: the same rows, estimate and interval.
        #expect(streamed.spectrum.twoNNRows == 1_000 && mem.spectrum.twoNNRows == 1_000)
        #expect(Swift.abs(streamed.spectrum.twoNNDimension! - mem.spectrum.twoNNDimension!) < 1e-9)
        // To rounding, like the estimate: the in-memory and streamed subsamples are standardised by sums in
        // different orders, and the covariance fits split rows by the process-wide BLAS.threads, which tests running
        // beside this one change (CI measured 9.896493346817666 against …667).
        let (a, b) = (streamed.spectrum.twoNNInterval!, mem.spectrum.twoNNInterval!)
        #expect(a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) < 1e-9 }, "\(a) vs \(b)")
    }

    /// Regimes.stability at 1e-300, 1e200 and 1e300: the same P(k) as at scale 1 (the products of data near 1e200
    /// overflow Double without the power-of-two scaling), in memory and through the streamed path
    /// (`Regimes.classify(rows:)`, whose half-splits and spectrum run on the scaled statistics).
    @Test func stabilityIsScaleInvariant() throws {
        let x = try SubstrateSupport.lowRank(n: 600, d: 16, r: 3, signal: 3, seed: 12)
        let ks = [1, 3, 6, 9]
        let unit = try Regimes.stability(x, ks: ks, splits: 4, seed: 7)
        #expect(unit.count == ks.count)
        for s in [1e-300, 1e200, 1e300] {
            let scaled = x * s
            let p = try Regimes.stability(scaled, ks: ks, splits: 4, seed: 7)
            for k in ks {
                let a = try #require(p[k]?.mean, "P(\(k)) missing at scale \(s)"), b = unit[k]!.mean
                #expect(a.isFinite && Swift.abs(a - b) < 1e-9, "P(\(k)) at scale \(s): \(a) vs \(b) at scale 1")
            }
        }
        let unitStreamed = try Regimes.classify(rows: StateRows(x), seed: 7, twoNN: false, blockRows: 97)
        for s in [1e-300, 1e200, 1e300] {
            let r = try Regimes.classify(rows: StateRows(x * s), seed: 7, twoNN: false, blockRows: 97)
            #expect(r.regime == unitStreamed.regime && r.spectrum.signalRank == unitStreamed.spectrum.signalRank, "streamed at scale \(s)")
            #expect(Swift.abs(r.spectrum.participationRatio - unitStreamed.spectrum.participationRatio) < 1e-9, "streamed PR at scale \(s)")
            for (k, p) in unitStreamed.coreStability {
                let q = try #require(r.coreStability[k]?.mean, "streamed P(\(k)) missing at scale \(s)")
                #expect(Swift.abs(q - p.mean) < 1e-9, "streamed P(\(k)) at scale \(s): \(q) vs \(p.mean)")
            }
        }
    }

    @Test func aSetComparedWithItselfNeverDrifts() throws {
        let x = try SubstrateSupport.lowRank(n: 3_000, d: 12, r: 3, signal: 2, seed: 9)
        for seed in 0..<20 {
            var o = DriftOptions()
            o.seed = UInt64(seed)
            let r = try Drift.compare(x, x, options: o)
            #expect(r.test == "block" && r.testRows == [3_000, 3_000])
            #expect(!r.drift && r.pValue == 1 && r.mmd2 == 0, "seed \(seed): p = \(r.pValue), MMD² = \(r.mmd2)")
        }
    }

    @Test func blockStatisticIsExactlyZeroForEqualBlocksAndUnbiasedOtherwise() throws {
        let x = Tensor<Double>.normal([64, 5], seed: 2)
        #expect(try MMDKernels.blockMMD2(x, x, bandwidth2: 2.5) == 0)
        // Equal sizes: the U-statistic of Gretton et al. (2012, eq. 3), checked against its definition.
        let y = Tensor<Double>.normal([64, 5], seed: 3) + 0.5
        let k = { (a: Tensor<Double>, i: Int, b: Tensor<Double>, j: Int) -> Double in
            let r = try! (a.row(i) - b.row(j)).norm()
            return Foundation.exp(-r * r / 5)
        }
        var h = 0.0
        for i in 0..<64 { for j in 0..<64 where i != j { h += k(x, i, x, j) + k(y, i, y, j) - k(x, i, y, j) - k(x, j, y, i) } }
        #expect(Swift.abs(try MMDKernels.blockMMD2(x, y, bandwidth2: 2.5) - h / (64 * 63)) < 1e-12)
    }

    @Test func driftOverAllRowsDetectsAMeanShiftOfAFifthOfASigma() throws {
        let n = 20_000, d = 8
        let a = Tensor<Double>.normal([n, d], seed: 31)
        let b = try Tensor<Double>.normal([n, d], seed: 32) + 0.2
        let r = try Drift.compare(a, b)
        #expect(r.test == "block" && r.testRows == [n, n] && r.blocks == n / 256)
        #expect(r.drift && r.pValue < 1e-6, "p = \(r.pValue), z = \(r.zScore ?? .nan)")
    }

    @Test func blockTestFalseAlarmsStayNearAlpha() throws {
        // Two independent halves of one law, 20 seeds: expected 1 alarm at α = 0.05; 5 or more has probability
        // 0.003 for a valid test. The test alone (the rest of `compare` does not change its p-value).
        var alarms = 0
        for seed in 0..<20 {
            let x = Tensor<Double>.normal([8_000, 8], seed: 100 + UInt64(seed))
            let a = try StateRows(x.slice(0..<4_000)), b = try StateRows(x.slice(4_000..<8_000))
            let h2 = try MMDKernels.medianBandwidth2(x.slice(0..<1_000), maxPoints: 1_000, seed: UInt64(seed))
            let t = try Drift.blockTest(a, b, bandwidth2: h2)
            #expect(t.blocks == 4_000 / 200 && t.blockRows == [200, 200])
            if t.pValue < 0.05 { alarms += 1 }
        }
        #expect(alarms <= 4, "\(alarms) false alarms in 20")
    }

    @Test func phasesAreCountedInSamplerSteps() {
        // Recorded every 10 steps of a 20-step path: R3 at step 0 stands for steps 0–9, longer than 2 steps.
        let strided = TrajectoryAnalysis.phases([.r3, .r1, .r1], steps: [0, 10, 19], totalSteps: 20, minimumLength: 2)
        #expect(strided.phases == [Phase(regime: .r3, start: 0, end: 9), Phase(regime: .r1, start: 10, end: 19)])
        #expect(strided.transitions == [Transition(t: 10, from: .r3, to: .r1)])
        // Every step recorded, R3 only at step 0: the first run is kept however short, so the change is reported.
        let (phases, transitions) = TrajectoryAnalysis.phasesAndTransitions([.r3, .r1, .r1, .r1])
        #expect(phases.map(\.regime) == [.r3, .r1] && transitions == [Transition(t: 1, from: .r3, to: .r1)])
        // An interior run of 10 sampler steps: absorbed below a minimum of 11, a phase at 10.
        let labels: [Regime] = [.r1, .r3, .r1, .r1]
        let absorbed = TrajectoryAnalysis.phases(labels, steps: [0, 10, 20, 29], totalSteps: 30, minimumLength: 11)
        #expect(absorbed.phases == [Phase(regime: .r1, start: 0, end: 29)] && absorbed.transitions.isEmpty)
        #expect(absorbed.shortRuns == [Phase(regime: .r3, start: 10, end: 19)])
        let kept = TrajectoryAnalysis.phases(labels, steps: [0, 10, 20, 29], totalSteps: 30, minimumLength: 10)
        #expect(kept.transitions == [Transition(t: 10, from: .r1, to: .r3), Transition(t: 20, from: .r3, to: .r1)])
    }

    @Test func streamedTrajectoryEqualsTheInMemoryAnalysis() throws {
        var g = RandomGenerator(seed: 21)
        let n = 200, d = 16
        let signal = try matmul(Tensor<Double>.normal([n, 3], using: &g), Tensor<Double>.normal([d, 3], using: &g).qr().q.transposed() * 10)
        let noise = Tensor<Double>.normal([n, d], using: &g)
        let steps = try (0..<9).map { t -> Tensor<Double> in
            let w = Double(Swift.max(0, t - 2)) / 6
            return try signal * w + noise * (1 - w * 0.95)
        }
        let traj = try Tensor.stack(steps)
        let mem = try TrajectoryAnalysis.analyze(traj)
        var reads: [Int] = []
        let streamed = try TrajectoryAnalysis.analyze(steps: Array(0..<9), totalSteps: 9, n: n, d: d) { t in
            reads.append(t)
            return try traj.row(t)
        }
        // One read per step (the final one first, for the path core).
        #expect(reads == [8] + Array(0..<8))
        #expect(streamed.phases == mem.phases && streamed.transitions == mem.transitions)
        for (s, m) in zip(streamed.steps, mem.steps) {
            #expect(s.t == m.t && s.report.regime == m.report.regime)
            #expect(s.stepNorm == m.stepNorm && s.velocityCoherence == m.velocityCoherence)
            // The same similarity, from eigenvectors of the (power-of-two-scaled) scatter instead of singular vectors.
            #expect((s.coreRotation == nil) == (m.coreRotation == nil))
            if let a = s.coreRotation, let b = m.coreRotation { #expect(Swift.abs(a - b) < 1e-9, "step \(s.t): \(a) vs \(b)") }
        }
        // Strided: the recorded steps are reported by their sampler step, and equal the analysis of those slices.
        let picked = [0, 4, 8]
        let strided = try TrajectoryAnalysis.analyze(steps: picked, totalSteps: 9, n: n, d: d) { try traj.row($0) }
        let gathered = try TrajectoryAnalysis.analyze(traj.gather(rows: picked))
        #expect(strided.steps.map(\.t) == picked)
        #expect(strided.steps.map(\.report.regime) == gathered.steps.map(\.report.regime))
        #expect(strided.steps.map(\.stepNorm) == gathered.steps.map(\.stepNorm))
        #expect(strided.phases.first?.start == 0 && strided.phases.last?.end == 8)
    }
}
