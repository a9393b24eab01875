import ArgumentParser
import Substrate

/// `vst trajectory`: the per-step analysis of a T×n×D trajectory (`AnalysisJobs.trajectory`).
struct TrajectoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trajectory",
        abstract: "Per-step regimes, core rotation, velocity coherence, phases and transitions of a T×n×D trajectory.",
        discussion: "Example: vst trajectory sampler_states.npy --stride 10 --report traj-report/")

    @Argument(help: "Trajectory (T×n×D .npy).") var input: String
    @Option(help: "Analyse every s-th step (the last step is always included).") var stride: Int = 1
    @Option(help: "Random half-splits for the stability estimate at each step.") var splits: Int = 5
    @Flag(help: "Compute TwoNN at every step (slow).") var twonn = false
    @Option(help: "Interior phases shorter than this many sampler steps are absorbed into the next phase (the first and last are always kept).")
    var minPhaseLength: Int = 2
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if stride < 1 { throw ValidationError("--stride must be at least 1, got \(stride)") }
        if minPhaseLength < 1 { throw ValidationError("--min-phase-length must be at least 1, got \(minPhaseLength)") }
    }

    func run() throws {
        var o = TrajectoryOptions()
        o.seed = output.seed; o.twoNN = twonn; o.thresholds.splits = splits; o.minimumPhaseLength = minPhaseLength
        let result = try AnalysisJobs.trajectory(input, stride: stride, options: o, report: output.report, force: output.force, quiet: output.quiet)
        Outputs.emit(result.output, options: output)
    }
}
