import ArgumentParser
import Substrate

/// `vst align`: alignment of two models' states on the same inputs (`AnalysisJobs.align`).
struct AlignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align",
        abstract: "Alignment of two models' states on the same inputs: CKA (linear, debiased, RBF), SVCCA, Procrustes, mutual k-NN, predictivity → A1/A2/A3.",
        discussion: """
        Row i of both files must come from the same input; the widths may differ. Linear CKA, Procrustes and core \
        Procrustes are always computed (the regime rests on them); --measures chooses the others. Mutual k-NN costs \
        O(n²D) and dominates at many rows: leave it out with --measures debiased_cka,rbf_cka,svcca,linear_predictivity. \
        Example: vst align model_a.npy model_b.npy --json
        """)

    @Argument(help: "States of model X (n×D₁).") var x: String
    @Argument(help: "States of model Y on the same inputs (n×D₂).") var y: String
    @Option(help: "Tensor name inside .safetensors inputs.") var key: String?
    @Option(help: ArgumentHelp("Optional measures to compute, comma-separated: \(AlignmentMeasure.allCases.map(\.rawValue).joined(separator: ", ")); 'all' (default) or 'none'.",
                               valueName: "list"))
    var measures = "all"
    @OptionGroup var output: OutputOptions

    func run() throws {
        var options = Substrate.AlignmentOptions()
        options.measures = try AnalysisJobs.parseMeasures(measures)
        let result = try AnalysisJobs.align(x, y, key: key, options: options, seed: output.seed, report: output.report, force: output.force)
        Outputs.emit(result.output, options: output)
    }
}
