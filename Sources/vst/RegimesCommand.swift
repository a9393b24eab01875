import ArgumentParser
import Substrate

/// `vst regimes`: spectrum statistics and the regime of one set of states (`AnalysisJobs.regimes`).
struct RegimesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regimes",
        abstract: "Spectrum statistics and the latent regime (R1 stable / R2 transitional / R3 dispersed) of a set of states.",
        discussion: "Example: vst regimes latents.npy --json")

    @Argument(help: "States (n×D .npy, .safetensors or .csv).") var input: String
    @Option(help: "Tensor name inside a .safetensors input.") var key: String?
    @Option(help: "Random half-splits for the stability estimate.") var splits: Int = 5
    @Flag(help: "Skip the TwoNN intrinsic dimension.") var noTwonn = false
    @Option(help: "Rows of the seeded subsample TwoNN runs on (O(rows²·D)); sets with fewer rows use them all.") var twonnRows: Int = 10_000
    @Flag(help: ArgumentHelp("TwoNN over every row (exact neighbours, O(n²D)); refused above \(TwoNN.exactRowLimit) rows.")) var twonnExact = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if twonnRows < 3 { throw ValidationError("--twonn-rows must be at least 3, got \(twonnRows)") }
    }

    func run() throws {
        var r = RegimesRequest(input: input)
        r.key = key; r.thresholds.splits = splits; r.twoNN = !noTwonn
        r.twoNNOptions.rows = twonnRows; r.twoNNOptions.exact = twonnExact; r.twoNNOptions.seed = output.seed
        r.seed = output.seed; r.report = output.report; r.force = output.force; r.quiet = output.quiet
        Outputs.emit(try AnalysisJobs.regimes(r).output, options: output)
    }
}
