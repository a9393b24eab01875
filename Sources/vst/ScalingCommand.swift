import ArgumentParser

/// `vst scaling`: scaling regimes across a ladder of widths (`AnalysisJobs.scaling`).
struct ScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Scaling regimes (S1/S2/S3) and the log–log law of k* and PR across the ladder of widths d.",
        discussion: "Give one file per rung with --rung d=file, or a directory whose n×d files each form one rung. Example: vst scaling --rung 64=a.npy --rung 128=b.npy --rung 256=c.npy")

    @Option(help: ArgumentHelp("A rung as d=file (repeatable).", valueName: "d=file")) var rung: [String] = []
    @Argument(help: "A directory of .npy files, one per rung (d read from each file's width).") var directory: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        let rungs = try rung.map(AnalysisJobs.parseRung)
        let result = try AnalysisJobs.scaling(rungs: rungs, directory: directory, seed: output.seed, report: output.report,
                                              force: output.force, quiet: output.quiet)
        Outputs.emit(result.output, options: output)
    }
}
