import ArgumentParser
import Foundation
import Linear
import Substrate

/// The A1/A2/A3 class of paired states (used by `validate` too).
func alignmentClass(_ x: Tensor<Double>, _ y: Tensor<Double>, seed: UInt64 = 0) throws -> String {
    try Alignment.compare(x, y, seed: seed).regime.rawValue
}

struct AlignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align",
        abstract: "Alignment of two models' states on the same inputs: CKA (linear, debiased, RBF), SVCCA, Procrustes, mutual k-NN, predictivity → A1/A2/A3.",
        discussion: "Row i of both files must come from the same input; the widths may differ. Example: vst align model_a.npy model_b.npy --json")

    @Argument(help: "States of model X (n×D₁).") var x: String
    @Argument(help: "States of model Y on the same inputs (n×D₂).") var y: String
    @Option(help: "Tensor name inside .safetensors inputs.") var key: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        let a = try Inputs.matrix(x, key: key), b = try Inputs.matrix(y, key: key)
        guard a.shape[0] == b.shape[0] else { throw InputError("\(y): has \(b.shape[0]) rows but \(x) has \(a.shape[0]); alignment needs the same inputs (paired rows)") }
        guard a.shape[0] >= 4 else { throw InputError("alignment needs at least 4 paired rows, got \(a.shape[0])") }
        let r = try Alignment.compare(a, b, seed: output.seed)
        if let dir = output.report {
            var page = HTMLReport(title: "Alignment: \(r.regime.rawValue)", subtitle: "\(x) (D = \(r.dX)) vs \(y) (D = \(r.dY)), n = \(r.n)")
            page.add("Verdict", r.reasons.joined(separator: ". ") + ".")
            let names = ["linear CKA", "debiased CKA", "RBF CKA", "SVCCA", "Procrustes", "core Procrustes", "mutual k-NN", "predictivity R²"]
            let values = [r.linearCKA, r.debiasedCKA, r.rbfCKA, r.svcca.mean, r.procrustes.similarity, r.core.similarity, r.mutualKNN, r.predictivity.r2]
            page.add("Similarity measures", "Each measure is 1 for identical representations (up to the invariance it allows) and near 0 for unrelated ones. The dashed lines are the A1 (0.8) and A3 (0.4) thresholds of linear CKA.",
                     svg: SVGPlot.bars(title: "Alignment measures", yLabel: "similarity", labels: names, values: values,
                                       reference: [(r.thresholds.a1LinearCKA, "A1 ≥ \(r.thresholds.a1LinearCKA)"), (r.thresholds.a3LinearCKA, "A3 < \(r.thresholds.a3LinearCKA)")]),
                     file: "alignment")
            page.add("Distances", "Procrustes distances √(2 − 2‖XᵀY‖_*) on the full spaces and between the two cores (0 = identical up to rotation).",
                     svg: SVGPlot.bars(title: "Procrustes distance", yLabel: "distance", labels: ["full space", "core (c = \(r.core.dimension))"],
                                       values: [r.procrustes.distance, r.core.distance]), file: "distances")
            try Outputs.writeReport(to: dir, force: output.force) { try page.write(to: $0, json: r.json, overwrite: true) }
        }
        Outputs.emit(r.json, table: Fmt.table(["measure", "value"], [
            ["regime", r.regime.rawValue], ["n", "\(r.n)"], ["D_x / D_y", "\(r.dX) / \(r.dY)"],
            ["linear CKA", Fmt.f(r.linearCKA)], ["debiased CKA", Fmt.f(r.debiasedCKA)], ["RBF CKA", Fmt.f(r.rbfCKA)],
            ["SVCCA", Fmt.f(r.svcca.mean)], ["Procrustes similarity", Fmt.f(r.procrustes.similarity)],
            ["Procrustes distance", Fmt.f(r.procrustes.distance)], ["core Procrustes (c = \(r.core.dimension))", Fmt.f(r.core.similarity)],
            ["mutual k-NN", Fmt.f(r.mutualKNN)], ["linear predictivity R²", Fmt.f(r.predictivity.r2)],
        ]) + "\n" + (r.reasons + r.warnings).map { "· " + $0 }.joined(separator: "\n"), options: output)
    }
}
