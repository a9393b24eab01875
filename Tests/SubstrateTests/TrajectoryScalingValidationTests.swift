import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// docs/method.md §5 (trajectories), §6 (scaling) and §9 (validation).
@Suite struct TrajectoryTests {
    @Test func phasesDropShortRunsAndTransitionsFollow() {
        let seq: [Regime] = [.r3, .r3, .r3, .r2, .r3, .r2, .r2, .r2, .r1, .r1, .r1]
        let (phases, transitions) = TrajectoryAnalysis.phasesAndTransitions(seq)
        #expect(phases.map(\.regime) == [.r3, .r2, .r1])
        #expect(phases.first?.start == 0 && phases.last?.end == 10)
        // Steps 3 and 4 (runs of one) are dropped and join the phase that follows them.
        #expect(transitions == [Transition(t: 3, from: .r3, to: .r2), Transition(t: 8, from: .r2, to: .r1)])
        let (single, none) = TrajectoryAnalysis.phasesAndTransitions([.r2])
        #expect(single == [Phase(regime: .r2, start: 0, end: 0)] && none.isEmpty)
    }

    /// A "sampler" that moves from pure noise to a rank-3 signal: R3 at the start, R1 at the end.
    @Test func noiseToSignalTrajectoryMovesFromR3ToR1() throws {
        var g = RandomGenerator(seed: 21)
        let n = 400, d = 32
        let z = Tensor<Double>.normal([n, 3], using: &g)
        let a = try Tensor<Double>.normal([d, 3], using: &g).qr().q.transposed() * 10
        let signal = try matmul(z, a)
        let noise = Tensor<Double>.normal([n, d], using: &g)
        // Four steps of pure noise, then a straight path to the signal.
        let steps = try (0...11).map { t -> Tensor<Double> in
            let w = Double(Swift.max(0, t - 3)) / 8
            return try signal * w + noise * (1 - w * 0.95)
        }
        let traj = try Tensor.stack(steps)
        let r = try TrajectoryAnalysis.analyze(traj)
        #expect(r.steps.count == 12)
        #expect(r.steps.first?.report.regime == .r3)
        #expect(r.steps.last?.report.regime == .r1)
        #expect(r.phases.first?.regime == .r3 && r.phases.last?.regime == .r1)
        #expect(!r.transitions.isEmpty)
        // Straight-line interpolation: consecutive updates point the same way.
        for s in r.steps.dropFirst(5).dropLast() { #expect(s.velocityCoherence! > 0.99) }
        #expect(r.steps.last?.stepNorm == nil && r.steps.first?.velocityCoherence == nil)
        let json = r.json
        #expect(json["steps"] != nil && json["phases"] != nil && json["transitions"] != nil)
        let checks = Validation.temporal(r)
        #expect(ValidationReport(checks: checks).status == .pass, "\(checks.map { "\($0.name): \($0.message)" })")
    }

    @Test func collapseAndBlowUpAreFlaggedByV3() throws {
        let base = Tensor<Double>.normal([100, 8], seed: 3)
        var steps = try (0..<6).map { t in try base * (1 + 0.01 * Double(t)) }
        steps[4] = try steps[4] * 100    // one exploding step
        let r = try TrajectoryAnalysis.analyze(Tensor.stack(steps))
        let checks = Validation.temporal(r)
        #expect(checks.first { $0.name == "step_norm" }?.status == .fail)
        #expect(throws: AnalysisError.self) { _ = try TrajectoryAnalysis.analyze(Tensor<Double>.zeros([4, 5])) }
    }
}

@Suite struct ScalingTests {
    static func lowRank(n: Int, d: Int, r: Int, s: Double, seed: UInt64) throws -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        let z = Tensor<Double>.normal([n, r], using: &g)
        let a = try Tensor<Double>.normal([d, r], using: &g).qr().q.transposed() * s
        return try matmul(z, a) + Tensor<Double>.normal([n, d], using: &g)
    }

    @Test func aStableSignalAcrossTheLadderIsS1() throws {
        let rungs = try [64, 128, 256].map { (d: $0, states: try Self.lowRank(n: 1000, d: $0, r: 4, s: 12, seed: UInt64($0))) }
        let r = try Scaling.analyze(rungs)
        #expect(r.regime == .s1, "\(r.reasons)")
        #expect(r.rungs.map(\.report.spectrum.signalRank) == [4, 4, 4])
        #expect(Swift.abs(r.signalRankLaw!.slope) < 1e-9, "k* constant in d: slope 0")
        #expect(r.changeRung == nil)
        #expect(r.rungs.allSatisfy { $0.roundTripError < 1e-12 })
    }

    @Test func aSignalDrownedAtTheTopRungIsS3() throws {
        let rungs = try [64, 128, 256].map { d in
            (d: d, states: try Self.lowRank(n: 800, d: d, r: 4, s: d < 256 ? 12 : 0.3, seed: UInt64(d) + 1))
        }
        let r = try Scaling.analyze(rungs)
        #expect(r.regime == .s3)
        #expect(r.changeRung == 256)
        #expect(r.reasons.contains { $0.contains("d = 256") })
        #expect(r.json["law"] != nil && r.json["rungs"] != nil)
    }

    @Test func growingRankIsS2AndTheLawMeasuresIt() throws {
        let rungs = try [64, 128, 256].map { d in (d: d, states: try Self.lowRank(n: 1500, d: d, r: d / 16, s: 12, seed: UInt64(d) + 2)) }
        let r = try Scaling.analyze(rungs)
        #expect(r.rungs.map(\.report.spectrum.signalRank) == [4, 8, 16])
        #expect(Swift.abs(r.signalRankLaw!.slope - 1) < 1e-9 && r.signalRankLaw!.r2 > 0.999)
        #expect(r.regime != .s3)
    }

    @Test func logLogFitIsExactOnAPowerLaw() {
        let xs = [64.0, 128, 256, 512, 1024]
        let fit = LogLogFit.fit(xs, xs.map { 3 * Foundation.pow($0, 0.5) })!
        #expect(Swift.abs(fit.slope - 0.5) < 1e-12 && Swift.abs(fit.r2 - 1) < 1e-12)
        #expect(Swift.abs(Foundation.exp(fit.intercept) - 3) < 1e-9)
    }
}

@Suite struct ValidationTests {
    @Test func structuralChecksPassOnCleanDataAndFailOnNaN() throws {
        let x = Tensor<Double>.normal([200, 10], seed: 1)
        let ok = ValidationReport(checks: Validation.structural(x))
        #expect(ok.status == .pass, "\(ok.checks.map(\.message))")
        var bad = x
        bad[7, 3] = .infinity
        bad[9, 0] = .nan
        let report = ValidationReport(checks: Validation.structural(bad))
        #expect(report.status == .fail)
        let finite = report.checks.first { $0.name == "finite" }!
        #expect(finite.value == .int(2) && finite.message.contains("row 7"))
        let json = report.json
        #expect(json["status"] == .string("fail"))
    }

    @Test func singularCovarianceWarns() throws {
        let x = try Tensor<Double>.normal([100, 3], seed: 2).matmul(Tensor<Double>.normal([3, 8], seed: 3))
        let checks = Validation.structural(x)
        #expect(checks.first { $0.name == "condition_number" }?.status == .warn)
    }

    @Test func crossModelRequiresTheAlignmentClass() {
        #expect(Validation.crossModel(alignmentRegime: "A1", required: "A2").allSatisfy { $0.status == .pass })
        #expect(Validation.crossModel(alignmentRegime: "A3", required: "A2").contains { $0.status == .fail })
        #expect(CheckStatus.fail > CheckStatus.warn && CheckStatus.warn > CheckStatus.pass)
    }
}
