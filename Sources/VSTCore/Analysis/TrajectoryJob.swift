import Foundation
import Linear
import Substrate

extension AnalysisJobs {
    /// Per-step regimes, core rotation, velocity coherence, phases and transitions of the T×n×D trajectory in
    /// `input` (docs/method.md §5), analysed at every `stride`-th step and the last. A .npy trajectory is read one
    /// time slice at a time; every slice is checked finite, naming the step, sample and feature.
    public static func trajectory(_ input: String, stride: Int, options o: TrajectoryOptions, report: String?, force: Bool,
                                  quiet: Bool) throws -> (report: TrajectoryReport, output: JobOutput) {
        precondition(stride >= 1, "stride must be at least 1")
        let shape: [Int]
        let slice: (Int) throws -> Tensor<Double>
        if input.lowercased().hasSuffix(".npy") {
            let reader = try NPYReader(input)
            shape = reader.shape
            let single = reader.storesSinglePrecision
            slice = { t in
                let x: Tensor<Double> = single ? try reader.rows(t..<(t + 1), as: Float.self).cast() : try reader.rows(t..<(t + 1), as: Double.self)
                return try x.reshaped(Array(shape.dropFirst()))
            }
        } else {
            let traj = try Inputs.array(input)
            shape = traj.shape
            slice = { t in try traj.row(t) }
        }
        guard shape.count == 3 else { throw InputFileError(path: input, reason: "expected a T×n×D trajectory, got shape \(shape)") }
        let tCount = shape[0], n = shape[1], d = shape[2]
        guard tCount >= 1, n >= 2, d >= 1 else { throw InputFileError(path: input, reason: "need T ≥ 1 steps of n ≥ 2 states, got shape \(shape)") }
        var steps = Array(Swift.stride(from: 0, to: tCount, by: stride))
        if steps.last != tCount - 1 { steps.append(tCount - 1) }
        let progress = Progress(label: "trajectory steps", quiet: quiet)
        let r = try TrajectoryAnalysis.analyze(steps: steps, totalSteps: tCount, n: n, d: d, options: o, progress: { progress.update($0, $1) }) { t in
            let x = try slice(t)
            do { try x.checkFinite("trajectory") } catch let TensorError.nonFinite(count, first, _) {
                throw InputFileError(path: input, reason: "\(count) non-finite value\(count == 1 ? "" : "s") in step \(t), first at step \(t), sample \(first[0]), feature \(first[1])")
            }
            return x
        }
        if let dir = report {
            try Outputs.writeReport(to: dir, force: force) { try AnalysisReports.trajectory(r, source: input).write(to: $0, json: r.json, overwrite: true) }
        }
        return (r, JobOutput(json: r.json, table: table(r)))
    }

    /// The table of a trajectory report for people.
    public static func table(_ r: TrajectoryReport) -> String {
        let rows = r.steps.map { s in
            [String(s.t), s.report.regime.rawValue, String(s.report.spectrum.signalRank), Fmt.f(s.report.spectrum.signalEnergy, 3),
             Fmt.f(s.report.spectrum.coreEnergy[9], 3), Fmt.f(s.report.signalStability?.mean, 3), Fmt.f(s.coreRotation, 3),
             Fmt.f(s.stepNorm, 3), Fmt.f(s.velocityCoherence, 3)]
        }
        return Fmt.table(["t", "regime", "k*", "ρ", "E₉", "P*", "rotation", "step", "coherence"], rows)
            + "\nphases: " + r.phases.map { "\($0.regime.rawValue)[\($0.start)–\($0.end)]" }.joined(separator: " → ")
            + "\ntransitions: " + (r.transitions.isEmpty ? "none" : r.transitions.map { "t=\($0.t) \($0.from.rawValue)→\($0.to.rawValue)" }.joined(separator: ", "))
            + (r.shortRuns.isEmpty ? "" : "\nabsorbed (shorter than the minimum phase length): " + r.shortRuns.map { "\($0.regime.rawValue)[\($0.start)–\($0.end)]" }.joined(separator: ", "))
    }
}
