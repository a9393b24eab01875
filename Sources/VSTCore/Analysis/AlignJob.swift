import Foundation
import Linear
import Substrate

extension AnalysisJobs {
    /// "all", "none" or a comma-separated list of `AlignmentMeasure` JSON names.
    public static func parseMeasures(_ text: String) throws -> Set<AlignmentMeasure> {
        switch text {
        case "all": return Set(AlignmentMeasure.allCases)
        case "none": return []
        default:
            return Set(try text.split(separator: ",").map { name in
                let n = name.trimmingCharacters(in: .whitespaces)
                guard let m = AlignmentMeasure(rawValue: n) else {
                    throw ConfigurationError(field: "--measures", reason: "unknown measure '\(n)'; choose from \(AlignmentMeasure.allCases.map(\.rawValue).joined(separator: ", ")), or 'all' / 'none'")
                }
                return m
            })
        }
    }

    /// The alignment of two models' states on the same inputs (docs/method.md §8): CKA, SVCCA, Procrustes, mutual
    /// k-NN, predictivity → A1/A2/A3. float32 .npy files stay float32 (mutual k-NN, the O(n²D) measure, then runs on
    /// sgemm); anything else is analysed in float64.
    public static func align(_ x: String, _ y: String, key: String?, options: Substrate.AlignmentOptions, seed: UInt64, report: String?,
                             force: Bool) throws -> (report: AlignmentReport, output: JobOutput) {
        func compare<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>) throws -> AlignmentReport {
            guard a.shape[0] == b.shape[0] else {
                throw InputFileError(path: y, reason: "has \(b.shape[0]) rows but \(x) has \(a.shape[0]); alignment needs the same inputs (paired rows)")
            }
            guard a.shape[0] >= 4 else { throw InputError("alignment needs at least 4 paired rows, got \(a.shape[0]) (\(x), \(y))") }
            return try Alignment.compare(a, b, options: options, seed: seed)
        }
        let r = Inputs.storesSinglePrecision(x) && Inputs.storesSinglePrecision(y)
            ? try compare(Inputs.matrix(x, key: key, as: Float.self), Inputs.matrix(y, key: key, as: Float.self))
            : try compare(Inputs.matrix(x, key: key), Inputs.matrix(y, key: key))
        if let dir = report {
            var page = HTMLReport(title: "Alignment: \(r.regime.rawValue)", subtitle: "\(x) (D = \(r.dX)) vs \(y) (D = \(r.dY)), n = \(r.n)")
            page.add("Verdict", r.reasons.joined(separator: ". ") + ".")
            let bars = measureRows(r)
            let names = bars.map { $0.0 }, values = bars.map { $0.1 }
            page.add("Similarity measures", "Each measure is 1 for identical representations (up to the invariance it allows) and near 0 for unrelated ones. The dashed lines are the A1 (0.8) and A3 (0.4) thresholds of linear CKA.",
                     svg: SVGPlot.bars(title: "Alignment measures", yLabel: "similarity", labels: names, values: values,
                                       reference: [(r.thresholds.a1LinearCKA, "A1 ≥ \(r.thresholds.a1LinearCKA)"), (r.thresholds.a3LinearCKA, "A3 < \(r.thresholds.a3LinearCKA)")]),
                     file: "alignment")
            page.add("Distances", "Procrustes distances √(2 − 2‖XᵀY‖_*) on the full spaces and between the two cores (0 = identical up to rotation).",
                     svg: SVGPlot.bars(title: "Procrustes distance", yLabel: "distance", labels: ["full space", "core (c = \(r.core.dimension))"],
                                       values: [r.procrustes.distance, r.core.distance]), file: "distances")
            try Outputs.writeReport(to: dir, force: force) { try page.write(to: $0, json: r.json, overwrite: true) }
        }
        let rows = [["regime", r.regime.rawValue], ["n", "\(r.n)"], ["D_x / D_y", "\(r.dX) / \(r.dY)"]]
            + measureRows(r).map { [$0.0, Fmt.f($0.1)] }
            + [["Procrustes distance", Fmt.f(r.procrustes.distance)]]
        return (r, JobOutput(json: r.json, table: Fmt.table(["measure", "value"], rows)
                             + "\n" + (r.reasons + r.warnings).map { "· " + $0 }.joined(separator: "\n")))
    }

    /// The similarity measures that were computed, as (label, value), in the order of docs/method.md §8.
    public static func measureRows(_ r: AlignmentReport) -> [(String, Double)] {
        let all: [(String, Double?)] = [
            ("linear CKA", r.linearCKA), ("debiased CKA", r.debiasedCKA), ("RBF CKA", r.rbfCKA), ("SVCCA", r.svcca?.mean),
            ("Procrustes", r.procrustes.similarity), ("core Procrustes (c = \(r.core.dimension))", r.core.similarity),
            ("mutual k-NN", r.mutualKNN), ("predictivity R²", r.predictivity?.r2),
        ]
        return all.compactMap { label, value in value.map { (label, $0) } }
    }
}
