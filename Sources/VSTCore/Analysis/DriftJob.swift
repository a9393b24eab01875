import Foundation
import Linear
import Substrate

extension AnalysisJobs {
    /// Drift between the reference and candidate states (docs/method.md §7): the MMD² test (permutation, or the
    /// block test for large sets, which two .npy files get streamed), Fréchet distances, KS, core drift; with
    /// `paired` (row i of both from the same input) also the alignment numbers.
    public static func drift(reference: String, candidate: String, key: String?, options o: DriftOptions, paired: Bool,
                             report: String?, force: Bool, quiet: Bool) throws -> (report: DriftReport, output: JobOutput) {
        if !paired, reference.lowercased().hasSuffix(".npy"), candidate.lowercased().hasSuffix(".npy"),
           let ra = try? NPYReader(reference), let rb = try? NPYReader(candidate), ra.shape.count == 2, rb.shape.count == 2,
           Drift.usesBlockTest(ra.rowCount, rb.rowCount, options: o) {
            guard ra.rowElements == rb.rowElements else { throw InputFileError(path: candidate, reason: "has D = \(rb.rowElements) but \(reference) has D = \(ra.rowElements)") }
            let progress = Progress(label: "drift blocks", quiet: quiet)
            let r = try Drift.compare(reference: StateRows(npy: ra), candidate: StateRows(npy: rb), options: o) { progress.update($0, $1) }
            return (r, try finishDrift(r, json: r.json, alignmentLine: "", reference: reference, candidate: candidate, report: report, force: force))
        }
        let a = try Inputs.matrix(reference, key: key), b = try Inputs.matrix(candidate, key: key)
        guard a.shape[1] == b.shape[1] else { throw InputFileError(path: candidate, reason: "has D = \(b.shape[1]) but \(reference) has D = \(a.shape[1])") }
        let r = try Drift.compare(a, b, options: o)
        var json = r.json
        var alignmentLine = ""
        if paired {
            guard a.shape[0] == b.shape[0] else {
                throw ConfigurationError(field: "--paired", reason: "\(candidate) has \(b.shape[0]) rows but \(reference) has \(a.shape[0]); paired sets need one row per input in both")
            }
            let al = try Alignment.compare(a, b, seed: o.seed)
            if case var .object(pairs) = json { pairs.append(("alignment", al.json)); json = .object(pairs) }
            alignmentLine = "\npaired alignment: \(al.regime.rawValue) (linear CKA \(Fmt.f(al.linearCKA)), core Procrustes \(Fmt.f(al.core.similarity)))"
        }
        return (r, try finishDrift(r, json: json, alignmentLine: alignmentLine, reference: reference, candidate: candidate, report: report, force: force))
    }

    static func finishDrift(_ r: DriftReport, json: JSON, alignmentLine: String, reference: String, candidate: String,
                            report: String?, force: Bool) throws -> JobOutput {
        if let dir = report {
            try Outputs.writeReport(to: dir, force: force) { try AnalysisReports.drift(r, reference: reference, candidate: candidate).write(to: $0, json: json, overwrite: true) }
        }
        let test = r.test == "block" ? "block MMD over \(r.testRows.map(String.init).joined(separator: " + ")) rows (\(r.blocks ?? 0) block pairs)"
            : "permutation (\(r.permutations)) on \(r.testRows.map(String.init).joined(separator: " + ")) rows"
        return JobOutput(json: json, table: Fmt.table(["measure", "value"], [
            ["drift", r.drift ? "yes" : "no"], ["MMD²", Fmt.f(r.mmd2)], ["p-value", Fmt.f(r.pValue)], ["test", test], ["bandwidth h", Fmt.f(r.bandwidth2.squareRoot())],
            ["Fréchet distance", Fmt.f(r.frechetDistance)], ["core Fréchet distance", Fmt.f(r.coreFrechetDistance)],
            ["core similarity", Fmt.f(r.coreSimilarity)], ["ΔE₉", Fmt.f(r.coreEnergyDelta)], ["regimes", "\(r.regimeA.rawValue) → \(r.regimeB.rawValue)"],
        ]) + alignmentLine + "\n" + (r.reasons + r.warnings).map { "· " + $0 }.joined(separator: "\n"))
    }
}
