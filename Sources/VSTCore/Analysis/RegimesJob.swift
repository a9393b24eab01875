import Foundation
import Linear
import Substrate

/// What `vst regimes` asks for.
public struct RegimesRequest {
    /// States (n×D .npy, .safetensors or .csv).
    public var input: String
    /// Tensor name inside a .safetensors input.
    public var key: String? = nil
    /// Half-splits, thresholds.
    public var thresholds = RegimeThresholds()
    /// Compute the TwoNN intrinsic dimension.
    public var twoNN = true
    /// TwoNN's subsample, exactness and seed.
    public var twoNNOptions = TwoNNOptions()
    /// Seed of the half-splits.
    public var seed: UInt64 = 0
    /// Report directory, if any (the states are then loaded whole, for the plots).
    public var report: String? = nil
    public var force = false
    public var quiet = false

    public init(input: String) { self.input = input }
}

/// The analyses of one set of states (regimes), a trajectory, a ladder of widths, two sets (drift, align) and the
/// validation layers.
public enum AnalysisJobs {
    /// .npy inputs holding more than this many values are read a block of rows at a time (without a report).
    public static let streamingValues = 1 << 22

    /// The spectrum statistics and the regime of `r.input` (docs/method.md §3–§4). A large .npy input without a
    /// report is streamed (`Regimes.classify(rows:)`); otherwise the states are loaded and checked
    /// (`Inputs.matrix`). `--twonn-exact` above `TwoNN.exactRowLimit` rows is refused naming the option.
    public static func regimes(_ r: RegimesRequest) throws -> (report: RegimeReport, output: JobOutput) {
        if let dir = r.report { try StagedReport.check(dir, force: r.force) }
        var o = r.twoNNOptions
        let twoNNProgress = Progress(label: "TwoNN neighbour rows", quiet: r.quiet)
        let started = DispatchTime.now().uptimeNanoseconds
        o.progress = { done, total in
            // Only for searches that take a while: the first line after two seconds.
            if Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 > 2 || done == total && total > 20_000 { twoNNProgress.update(done, total) }
        }
        func checkExact(_ rows: Int) throws {
            if o.exact && r.twoNN && rows > TwoNN.exactRowLimit {
                throw ConfigurationError(field: "--twonn-exact", reason: "\(r.input) has \(rows) rows, above the exact limit of \(TwoNN.exactRowLimit); use --twonn-rows")
            }
        }
        if r.report == nil, r.input.lowercased().hasSuffix(".npy"), let reader = try? NPYReader(r.input), reader.shape.count == 2,
           reader.rowCount * reader.rowElements > streamingValues {
            guard reader.rowCount >= 2 else { throw InputFileError(path: r.input, reason: "need at least 2 rows, got \(reader.rowCount)") }
            try checkExact(reader.rowCount)
            let progress = Progress(label: "rows", quiet: r.quiet)
            let report = try Regimes.classify(rows: StateRows(npy: reader), thresholds: r.thresholds, seed: r.seed, twoNN: r.twoNN,
                                              twoNNOptions: o) { progress.update($0, $1) }
            return (report, JobOutput(json: report.json, table: table(report)))
        }
        let x = try Inputs.matrix(r.input, key: r.key)
        try checkExact(x.shape[0])
        let report = try Regimes.classify(x, thresholds: r.thresholds, seed: r.seed, twoNN: r.twoNN, twoNNOptions: o)
        if let dir = r.report {
            try Outputs.writeReport(to: dir, force: r.force) { try AnalysisReports.regimes(report, states: x, source: r.input).write(to: $0, json: report.json, overwrite: true) }
        }
        return (report, JobOutput(json: report.json, table: table(report)))
    }

    /// The table of a regime report for people (also used by `vst corpus regimes`).
    public static func table(_ r: RegimeReport) -> String {
        let s = r.spectrum
        return Fmt.table(["quantity", "value"], [
            ["n × D", "\(s.n) × \(s.d)"], ["regime", r.regime.rawValue],
            ["signal rank k*", "\(s.signalRank) (τ = \(Fmt.f(s.threshold)))"], ["signal energy ρ", Fmt.f(s.signalEnergy)],
            ["participation ratio", Fmt.f(s.participationRatio)],
            ["E₃ / E₆ / E₉", Ladder.cores.map { Fmt.f(s.coreEnergy[$0]) }.joined(separator: " / ")],
            ["signal stability P*", r.signalStability.map { "\(Fmt.f($0.mean)) (min \(Fmt.f($0.min)))" } ?? "—"],
            ["P(3) / P(6) / P(9)", Ladder.cores.map { Fmt.f(r.coreStability[$0]?.mean) }.joined(separator: " / ")],
            ["TwoNN dimension", Fmt.f(s.twoNNDimension) + (s.twoNNInterval.map { " [\(Fmt.f($0[0], 3)), \(Fmt.f($0[1], 3))]" } ?? "")
                + (s.twoNNRows.map { $0 < s.n ? " (\($0) of \(s.n) rows)" : "" } ?? "")],
        ]) + "\n" + r.reasons.map { "· " + $0 }.joined(separator: "\n") + (r.warnings.isEmpty ? "" : "\n" + r.warnings.map { "! " + $0 }.joined(separator: "\n"))
    }
}
