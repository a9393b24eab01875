import Foundation
import Linear
import Substrate

/// What `vst fit-projection` asks for: the inputs, the fit's options and where the result goes.
public struct FitRequest {
    /// Input files (.npy, .safetensors, .csv) whose rows are pooled; all of one width D.
    public var inputs: [String]
    /// Tensor name inside .safetensors inputs.
    public var key: String? = nil
    /// Core size k, method, centring, standardisation, whitening, seed and randomized operator of the fit.
    public var options: ProjectionOptions
    /// Write the mergeable statistics (n, mean, scatter) instead of a projection.
    public var statsOnly = false
    /// Output .safetensors file.
    public var out: String
    /// Report directory (report.json, SVG plots, index.html), if any.
    public var report: String? = nil
    /// Overwrite existing outputs.
    public var force = false

    public init(inputs: [String], options: ProjectionOptions, out: String) {
        self.inputs = inputs
        self.options = options
        self.out = out
    }
}

/// The projection commands: fit (streamed or in memory), merge shard statistics, project, lift.
public enum ProjectionJobs {
    /// True when a fit streams its inputs through `CovarianceStatistics` (memory independent of n) instead of
    /// loading them: the statistics only, or the covariance method without standardisation.
    public static func streams(_ r: FitRequest) -> Bool {
        r.statsOnly || r.options.method == .covariance && !r.options.standardize
    }

    /// Fits a projection (or, with `statsOnly`, accumulates statistics) on the pooled rows of `r.inputs`, writes it
    /// to `r.out` (and the report) and returns what the command prints.
    ///
    /// The dispatch: `streams(r)` reads .npy inputs a block at a time into `CovarianceStatistics` (float32 files in
    /// single precision: blocks centred in Float and folded in by ssyrk over at most 4096 rows before each flush into
    /// Double, within 1e-6 of the exact Double statistics, see `CovarianceStatistics.floatChunkLimit`) and fits
    /// from them. The randomized method on .npy inputs (`fitRandomizedNPY`) keeps memory at input + O(D²): the
    /// statistics streamed when its iteration applies the formed covariance, else the rows read a block at a time
    /// into one tensor. Otherwise the inputs are loaded (float32 files stay Float, so the randomized sketch runs in
    /// sgemm) and `Projection.fit` runs on their concatenation. The checks of n ≥ 2, 1 ≤ k ≤ D and
    /// finiteness are `Projection.fit`'s (one place); their `AnalysisError`s are translated here to the file or the
    /// option the user gave (`InputFileError`, `ConfigurationError(field: "--rank")`).
    public static func fit(_ r: FitRequest) throws -> JobOutput {
        precondition(!r.inputs.isEmpty, "FitRequest needs at least one input")
        try Outputs.checkReplaceable(r.out)
        if let dir = r.report { try StagedReport.check(dir, force: r.force) }
        Outputs.removeStaleTemporaries(besides: r.out)
        if streams(r) {
            let stats = try statistics(r.inputs, key: r.key)
            if r.statsOnly {
                try stats.save(r.out, overwrite: r.force, source: r.inputs.joined(separator: ","))
                return JobOutput(json: .object([("n", .int(stats.count)), ("d", .int(stats.dimension)), ("out", .string(r.out))]),
                                 table: "wrote statistics of \(stats.count) rows × \(stats.dimension) features to \(r.out)")
            }
            var p = try translated(r.inputs, k: r.options.k, d: stats.dimension) { try Projection.fit(statistics: stats, options: r.options) }
            p.metadata["source"] = r.inputs.joined(separator: ",")
            // Round-trip error on the first block of the first file (the whole corpus may not fit in memory).
            return try finish(p, roundTrip: p.roundTripError(RowBlocks.first(r.inputs[0], key: r.key, rows: roundTripRows(stats.dimension))), r)
        }
        if let out = try fitRandomizedNPY(r) { return out }
        if RowBlocks.allSinglePrecision(r.inputs) {
            return try fitInMemory(r.inputs.map { try NPY.read($0).tensor(Float.self) }, r)
        }
        return try fitInMemory(r.inputs.map { try Inputs.matrix($0, key: r.key, minRows: 1) }, r)
    }

    /// Rows of the round-trip check after a fit: up to 8192, and 2²¹/D (at least 1024) at large D, so the check's
    /// two D×D products over them (≈ 4·rows·D² flops in Double) stay a small part of the fit.
    public static func roundTripRows(_ d: Int) -> Int { Swift.max(1024, Swift.min(8192, (1 << 21) / Swift.max(1, d))) }

    /// The randomized fit of .npy inputs in memory input + O(D²), or nil to leave the fit to the general path (an
    /// input that is not a 2-D .npy matrix, mismatched widths, standardisation, n < 2 or k outside 1…D: that path
    /// reports them). When the iteration applies the formed covariance (`Projection.randomizedFormsCovariance` for
    /// the files' precision, or `--randomized-operator covariance`) the statistics stream a block at a time
    /// (`statistics`, float32 in single precision) and `Projection.fitRandomized(statistics:)` runs on them: the
    /// input is never held. Otherwise the rows are read a block at a time into one n×D tensor in the files'
    /// precision (no staging copy of the file's bytes, no concatenation) for the streamed operator.
    static func fitRandomizedNPY(_ r: FitRequest) throws -> JobOutput? {
        let o = r.options
        guard o.method == .randomized, !o.standardize, r.inputs.allSatisfy({ $0.lowercased().hasSuffix(".npy") }) else { return nil }
        guard let readers = try? r.inputs.map({ try NPYReader($0) }), readers.allSatisfy({ $0.shape.count == 2 && !$0.fortranOrder }) else { return nil }
        let d = readers[0].shape[1]
        let n = readers.reduce(0) { $0 + $1.rowCount }
        guard d >= 1, n >= 2, o.k >= 1, o.k <= d, readers.allSatisfy({ $0.shape[1] == d }) else { return nil }
        let single = readers.allSatisfy { $0.storesSinglePrecision }
        let rank = Swift.min(Swift.max(o.k, 9), Swift.min(n, d))
        let l = Swift.min(Swift.min(n, d), rank + Swift.max(0, o.oversampling))
        let explicit: Bool
        switch o.randomizedOperator {
        case .automatic: explicit = Projection.randomizedFormsCovariance(n: n, d: d, l: l, iterations: o.powerIterations, scalarBytes: single ? 4 : 8)
        case .covariance: explicit = true
        case .streamed: explicit = false
        }
        if explicit {
            let stats = try statistics(r.inputs, key: r.key)
            var p = try translated(r.inputs, k: o.k, d: d) { try Projection.fitRandomized(statistics: stats, options: o) }
            p.metadata["source"] = r.inputs.joined(separator: ",")
            return try finish(p, roundTrip: p.roundTripError(RowBlocks.first(r.inputs[0], key: r.key, rows: roundTripRows(d))), r)
        }
        func load<S: BLASScalar>(_: S.Type) throws -> Tensor<S> {
            try Tensor<S>(unsafeUninitializedShape: [n, d]) { dst, _ in
                var offset = 0
                for reader in readers {
                    let block = RowBlocks.blockRows(d)
                    var start = 0
                    while start < reader.rowCount {
                        let end = Swift.min(reader.rowCount, start + block)
                        let x: Tensor<S> = try reader.rows(start..<end)
                        x.withUnsafeBufferPointer { (dst + offset * d).update(from: $0.baseAddress!, count: $0.count) }
                        offset += end - start
                        start = end
                    }
                }
            }
        }
        return single ? try fitInMemory([load(Float.self)], r) : try fitInMemory([load(Double.self)], r)
    }

    /// The mergeable statistics of the rows of `paths` (streamed a block at a time, float32 files in single
    /// precision), checking one width D.
    public static func statistics(_ paths: [String], key: String?) throws -> CovarianceStatistics {
        let d = try RowBlocks.dimension(paths[0], key: key)
        guard d >= 1 else { throw InputFileError(path: paths[0], reason: "has no columns (D = 0); need n×D states with D ≥ 1") }
        var stats = CovarianceStatistics(dimension: d)
        for path in paths {
            let dd = try RowBlocks.dimension(path, key: key)
            guard dd == d else { throw InputFileError(path: path, reason: "has D = \(dd) but \(paths[0]) has D = \(d)") }
            if RowBlocks.allSinglePrecision([path]) {
                try RowBlocks.forEach(path, key: key, as: Float.self) { try stats.add($0, chunk: RowBlocks.blockRows(d)) }
            } else {
                try RowBlocks.forEach(path, key: key) { try stats.add($0, chunk: RowBlocks.blockRows(d)) }
            }
        }
        return stats
    }

    static func fitInMemory<S: BLASScalar>(_ parts: [Tensor<S>], _ r: FitRequest) throws -> JobOutput {
        let d = parts[0].rank == 2 ? parts[0].shape[1] : 0
        for (path, x) in zip(r.inputs, parts) where x.rank != 2 || x.shape[1] != d {
            throw InputFileError(path: path, reason: "has shape \(x.shape) but \(r.inputs[0]) has D = \(d)")
        }
        let x = parts.count == 1 ? parts[0] : try Tensor.concatenate(parts)
        var p = try translated(r.inputs, k: r.options.k, d: d) { try Projection.fit(x, options: r.options) }
        p.metadata["source"] = r.inputs.joined(separator: ",")
        // The round trip is a check of the numerics, measured on the first `roundTripRows(D)` rows to keep large fits cheap.
        let check = roundTripRows(d)
        return try finish(p, roundTrip: p.roundTripError(x.shape[0] > check ? x.slice(0..<check) : x), r)
    }

    /// Runs `body` (a `Projection.fit` on the rows of `inputs`, core size `k`, width `d`), giving the errors of its
    /// one input check (`Projection.checkFitInput`, finiteness) the names the user knows: the input files and the
    /// --rank option. Other errors pass unchanged.
    static func translated(_ inputs: [String], k: Int, d: Int, _ body: () throws -> Projection) throws -> Projection {
        do { return try body() } catch let e as AnalysisError {
            switch e {
            case let .tooFewRows(_, needed, got, _):
                throw InputFileError(path: inputs.joined(separator: ", "), reason: "need at least \(needed) rows to fit, got \(got)")
            case .parameter(_, "k", _):
                throw ConfigurationError(field: "--rank", reason: k > d ? "\(k) exceeds the dimension D = \(d)" : "\(k) must be in 1...\(d)")
            case .shape where d == 0:
                throw InputFileError(path: inputs[0], reason: "has no columns (D = 0); need n×D states with D ≥ 1")
            case let .nonFinite(_, count, row, column, _):
                throw InputFileError(path: inputs.count == 1 ? inputs[0] : "inputs",
                                     reason: "\(count) non-finite value\(count == 1 ? "" : "s") (NaN or ±Inf), first at row \(row), column \(column)")
            default:
                throw e
            }
        }
    }

    /// Writes the projection and its report (the report staged first and moved into place after the projection,
    /// which is removed again if that fails: a failed command leaves neither a partial report nor a projection that
    /// makes the rerun refuse) and returns the JSON and the table.
    static func finish(_ p: Projection, roundTrip: Double, _ r: FitRequest) throws -> JobOutput {
        let json = p.report(roundTripError: roundTrip)
        var staged: StagedReport? = nil
        if let dir = r.report {
            let page = ProjectionReports.page(p, inputs: r.inputs)
            staged = try StagedReport.stage(dir, force: r.force) { try page.write(to: $0, json: json, overwrite: true) }
        }
        do { try p.save(r.out, overwrite: r.force) } catch { staged?.discard(); throw error }
        do { try staged?.commit() } catch { unlink(r.out); throw error }
        return JobOutput(json: json, table: Fmt.table(["quantity", "value"], [
            ["n × D", "\(p.n) × \(p.dimension)"], ["core size k", "\(p.k)"], ["method", p.method.rawValue],
            ["E₃ / E₆ / E₉", Ladder.cores.map { Fmt.f(p.coreEnergy[$0], 4) }.joined(separator: " / ")],
            ["top explained-variance ratios", p.explainedVarianceRatio.prefix(p.k).map { Fmt.f($0, 3) }.joined(separator: " ")],
            ["round-trip error", Fmt.f(roundTrip, 3)], ["orthonormality error", Fmt.f(p.orthonormalityError, 3)], ["written", r.out],
        ]))
    }

    /// Merges the statistics files `inputs` (from `fit-projection --stats-only`) and writes either the merged
    /// statistics (`statsOnly`) or the covariance-method projection of rank `rank` to `out`.
    public static func mergeStatistics(_ inputs: [String], out: String, rank: Int, whiten: Bool, statsOnly: Bool,
                                       seed: UInt64, force: Bool) throws -> JobOutput {
        guard !inputs.isEmpty else { throw ConfigurationError(field: "inputs", reason: "give at least one statistics file") }
        try Outputs.checkReplaceable(out)
        Outputs.removeStaleTemporaries(besides: out)
        var merged = try CovarianceStatistics.load(inputs[0])
        for path in inputs.dropFirst() {
            let s = try CovarianceStatistics.load(path)
            guard s.dimension == merged.dimension else { throw InputFileError(path: path, reason: "has D = \(s.dimension) but \(inputs[0]) has D = \(merged.dimension)") }
            do { try merged.merge(s) } catch let e where e is AnalysisError || e is TensorError {
                throw InputFileError(path: path, reason: "cannot be merged with \(inputs.prefix { $0 != path }.joined(separator: ", ")): \(e)")
            }
        }
        let all = inputs.joined(separator: ", ")
        if statsOnly {
            try merged.save(out, overwrite: force, source: inputs.joined(separator: ","))
            return JobOutput(json: .object([("n", .int(merged.count)), ("d", .int(merged.dimension)), ("shards", .int(inputs.count))]),
                             table: "merged \(inputs.count) shards: \(merged.count) rows × \(merged.dimension) features → \(out)")
        }
        var o = ProjectionOptions(k: rank, method: .covariance)
        o.whiten = whiten; o.seed = seed
        var p: Projection
        // n ≥ 2 and 1 ≤ k ≤ D are checked by the fit (once) and named here as files and --rank.
        do { p = try translated(inputs, k: rank, d: merged.dimension) { try Projection.fit(statistics: merged, options: o) } }
        catch let e where e is AnalysisError || e is TensorError {
            throw InputFileError(path: all, reason: "the merged statistics cannot be fitted: \(e)")
        }
        guard p.eigenvalues.allSatisfy(\.isFinite), p.totalVariance.isFinite else {
            throw InputFileError(path: all, reason: "the merged statistics give non-finite variances (a scatter too large for Double?)")
        }
        p.metadata["source"] = inputs.joined(separator: ",")
        try p.save(out, overwrite: force)
        var json = p.report(roundTripError: .nan)
        if case var .object(pairs) = json { pairs.append(("shards", .int(inputs.count))); json = .object(pairs) }
        return JobOutput(json: json, table: Fmt.table(["quantity", "value"], [
            ["shards", "\(inputs.count)"], ["n × D", "\(p.n) × \(p.dimension)"], ["core size k", "\(p.k)"],
            ["E₃ / E₆ / E₉", Ladder.cores.map { Fmt.f(p.coreEnergy[$0], 4) }.joined(separator: " / ")], ["written", out],
        ]))
    }
}

/// The report page of a fitted projection.
enum ProjectionReports {
    static func page(_ p: Projection, inputs: [String]) -> HTMLReport {
        var page = HTMLReport(title: "Projection into a \(p.k)-D core", subtitle: "\(inputs.joined(separator: ", ")): n = \(p.n), D = \(p.dimension), method \(p.method.rawValue)")
        let ev = p.explainedVarianceRatio.prefix(64).enumerated().map { (Double($0.offset + 1), $0.element) }
        var cum = 0.0
        let cumulative = p.explainedVarianceRatio.prefix(64).enumerated().map { (i, r) -> (Double, Double) in cum += r; return (Double(i + 1), cum) }
        page.add("Explained variance", "The share of variance along each direction (and cumulatively). The core keeps the first \(p.k); the dashed line marks E_9.",
                 svg: SVGPlot.line(title: "Explained variance ratio", xLabel: "component", yLabel: "ratio",
                                   series: [SVGPlot.Series("per component", ev), SVGPlot.Series("cumulative", cumulative)],
                                   hLines: [(p.coreEnergy[9] ?? 0, "E₉")]), file: "explained_variance")
        return page
    }
}
