import ArgumentParser
import Substrate

/// `vst drift`: drift between a reference and a candidate set (`AnalysisJobs.drift`).
struct DriftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Drift between a reference and a candidate set: MMD² permutation test, Fréchet distances, KS, core drift.",
        discussion: "Example: vst drift checkpoint_a.npy checkpoint_b.npy --json")

    @Argument(help: "Reference states A (n×D).") var reference: String
    @Argument(help: "Candidate states B (m×D).") var candidate: String
    @Option(help: "Tensor name inside .safetensors inputs.") var key: String?
    @Option(help: "Permutations of the MMD² test (sets of at most 2500 rows).") var permutations: Int = 200
    @Option(help: "Rows per block of the block MMD test that larger sets get (all rows, normal p-value).") var blockSize: Int = 256
    @Option(help: "Significance level α.") var alpha: Double = 0.05
    @Flag(help: "Row i of both files comes from the same input (two checkpoints on one batch): also report the alignment numbers (docs/method.md §8).")
    var paired = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if permutations < 1 { throw ValidationError("--permutations must be at least 1") }
        if blockSize < 2 { throw ValidationError("--block-size must be at least 2, got \(blockSize)") }
        if !(alpha > 0 && alpha < 1) { throw ValidationError("--alpha must be in (0, 1), got \(alpha)") }
    }

    func run() throws {
        var o = DriftOptions()
        o.permutations = permutations; o.alpha = alpha; o.seed = output.seed; o.blockSize = blockSize
        let result = try AnalysisJobs.drift(reference: reference, candidate: candidate, key: key, options: o, paired: paired,
                                            report: output.report, force: output.force, quiet: output.quiet)
        Outputs.emit(result.output, options: output)
    }
}
