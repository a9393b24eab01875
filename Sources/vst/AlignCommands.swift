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
        options.measures = try Self.parseMeasures(measures)
        // float32 files stay float32, so mutual k-NN (the O(n²D) measure) runs on sgemm; the others convert to float64.
        let r = Inputs.storesSinglePrecision(x) && Inputs.storesSinglePrecision(y)
            ? try compare(Inputs.matrix(x, key: key, as: Float.self), Inputs.matrix(y, key: key, as: Float.self), options)
            : try compare(Inputs.matrix(x, key: key), Inputs.matrix(y, key: key), options)
        if let dir = output.report {
            var page = HTMLReport(title: "Alignment: \(r.regime.rawValue)", subtitle: "\(x) (D = \(r.dX)) vs \(y) (D = \(r.dY)), n = \(r.n)")
            page.add("Verdict", r.reasons.joined(separator: ". ") + ".")
            let bars = Self.measureRows(r)
            let names = bars.map { $0.0 }, values = bars.map { $0.1 }
            page.add("Similarity measures", "Each measure is 1 for identical representations (up to the invariance it allows) and near 0 for unrelated ones. The dashed lines are the A1 (0.8) and A3 (0.4) thresholds of linear CKA.",
                     svg: SVGPlot.bars(title: "Alignment measures", yLabel: "similarity", labels: names, values: values,
                                       reference: [(r.thresholds.a1LinearCKA, "A1 ≥ \(r.thresholds.a1LinearCKA)"), (r.thresholds.a3LinearCKA, "A3 < \(r.thresholds.a3LinearCKA)")]),
                     file: "alignment")
            page.add("Distances", "Procrustes distances √(2 − 2‖XᵀY‖_*) on the full spaces and between the two cores (0 = identical up to rotation).",
                     svg: SVGPlot.bars(title: "Procrustes distance", yLabel: "distance", labels: ["full space", "core (c = \(r.core.dimension))"],
                                       values: [r.procrustes.distance, r.core.distance]), file: "distances")
            try Outputs.writeReport(to: dir, force: output.force) { try page.write(to: $0, json: r.json, overwrite: true) }
        }
        let rows = [["regime", r.regime.rawValue], ["n", "\(r.n)"], ["D_x / D_y", "\(r.dX) / \(r.dY)"]]
            + Self.measureRows(r).map { [$0.0, Fmt.f($0.1)] }
            + [["Procrustes distance", Fmt.f(r.procrustes.distance)]]
        Outputs.emit(r.json, table: Fmt.table(["measure", "value"], rows)
                     + "\n" + (r.reasons + r.warnings).map { "· " + $0 }.joined(separator: "\n"), options: output)
    }

    private func compare<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ options: Substrate.AlignmentOptions) throws -> AlignmentReport {
        guard a.shape[0] == b.shape[0] else { throw InputError("\(y): has \(b.shape[0]) rows but \(x) has \(a.shape[0]); alignment needs the same inputs (paired rows)") }
        guard a.shape[0] >= 4 else { throw InputError("alignment needs at least 4 paired rows, got \(a.shape[0])") }
        return try Alignment.compare(a, b, options: options, seed: output.seed)
    }

    /// "all", "none" or a comma-separated list of `AlignmentMeasure` JSON names.
    static func parseMeasures(_ text: String) throws -> Set<AlignmentMeasure> {
        switch text {
        case "all": return Set(AlignmentMeasure.allCases)
        case "none": return []
        default:
            return Set(try text.split(separator: ",").map { name in
                let n = name.trimmingCharacters(in: .whitespaces)
                guard let m = AlignmentMeasure(rawValue: n) else {
                    throw InputError("--measures: unknown measure '\(n)'; choose from \(AlignmentMeasure.allCases.map(\.rawValue).joined(separator: ", ")), or 'all' / 'none'")
                }
                return m
            })
        }
    }

    /// The similarity measures that were computed, as (label, value), in the order of docs/method.md §8.
    static func measureRows(_ r: AlignmentReport) -> [(String, Double)] {
        let all: [(String, Double?)] = [
            ("linear CKA", r.linearCKA), ("debiased CKA", r.debiasedCKA), ("RBF CKA", r.rbfCKA), ("SVCCA", r.svcca?.mean),
            ("Procrustes", r.procrustes.similarity), ("core Procrustes (c = \(r.core.dimension))", r.core.similarity),
            ("mutual k-NN", r.mutualKNN), ("predictivity R²", r.predictivity?.r2),
        ]
        return all.compactMap { label, value in value.map { (label, $0) } }
    }
}
