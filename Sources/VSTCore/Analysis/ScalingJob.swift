import Foundation
import Linear
import Substrate

extension AnalysisJobs {
    /// Parses a rung "d=file" (e.g. `64=latents64.npy`).
    public static func parseRung(_ spec: String) throws -> (d: Int, path: String) {
        let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let d = Int(parts[0]), d > 0 else {
            throw ConfigurationError(field: "--rung", reason: "'\(spec)': expected d=file, e.g. 64=latents64.npy")
        }
        return (d, parts[1])
    }

    /// Scaling regimes (S1/S2/S3) and the log–log laws of k* and PR across the rungs (docs/method.md §6): the
    /// files of `rungs` (each checked to have the width it claims) and the .npy files of `directory` (d read from
    /// each file's width), at least 2 rungs of distinct widths.
    public static func scaling(rungs: [(d: Int, path: String)], directory: String?, seed: UInt64, report: String?, force: Bool,
                               quiet: Bool) throws -> (report: ScalingReport, output: JobOutput) {
        var inputs: [(d: Int, states: Tensor<Double>)] = []
        for (d, path) in rungs {
            let x = try Inputs.matrix(path)
            guard x.shape[1] == d else { throw InputFileError(path: path, reason: "has width \(x.shape[1]) but the rung says d = \(d)") }
            inputs.append((d, x))
        }
        if let directory {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
                throw InputFileError(path: directory, reason: FileKind.nonRegularDescription(directory) == nil && FileManager.default.fileExists(atPath: directory)
                                     ? "is a file, not a directory of .npy files" : "cannot be listed (no such directory?)")
            }
            let files = names.filter { $0.hasSuffix(".npy") }.sorted()
            guard !files.isEmpty else { throw InputFileError(path: directory, reason: "contains no .npy files") }
            for f in files {
                let x = try Inputs.matrix(URL(fileURLWithPath: directory).appendingPathComponent(f).path)
                inputs.append((x.shape[1], x))
            }
        }
        guard inputs.count >= 2 else { throw ConfigurationError(field: "--rung", reason: "scaling needs at least 2 rungs (got \(inputs.count)); use --rung d=file or a directory") }
        let ds = inputs.map { $0.d }
        if Set(ds).count != ds.count { throw ConfigurationError(field: "--rung", reason: "two inputs have the same width d (\(ds.sorted())); give one file per rung") }
        let progress = Progress(label: "rungs", quiet: quiet)
        let r = try Scaling.analyze(inputs, seed: seed) { progress.update($0, $1) }
        if let dir = report { try Outputs.writeReport(to: dir, force: force) { try AnalysisReports.scaling(r).write(to: $0, json: r.json, overwrite: true) } }
        let table = Fmt.table(["d", "n", "k*", "ρ", "PR", "E₉", "P*", "P(9)", "round trip", "fit s"], r.rungs.map { g in
            [String(g.d), String(g.n), String(g.report.spectrum.signalRank), Fmt.f(g.report.spectrum.signalEnergy, 3),
             Fmt.f(g.report.spectrum.participationRatio, 3), Fmt.f(g.report.spectrum.coreEnergy[9], 3), Fmt.f(g.report.signalStability?.mean, 3),
             Fmt.f(g.report.coreStability[9]?.mean, 3), Fmt.f(g.roundTripError, 2), Fmt.f(g.fitSeconds, 3)]
        }) + "\nregime: \(r.regime.rawValue)" + (r.changeRung.map { " (class changes at d = \($0))" } ?? "")
            + "\nlaw: k* ∝ d^\(Fmt.f(r.signalRankLaw?.slope, 3)) (R² \(Fmt.f(r.signalRankLaw?.r2, 3))), PR ∝ d^\(Fmt.f(r.participationLaw?.slope, 3)) (R² \(Fmt.f(r.participationLaw?.r2, 3)))"
            + "\n" + r.reasons.map { "· " + $0 }.joined(separator: "\n")
        return (r, JobOutput(json: r.json, table: table))
    }
}
