import Foundation
import Linear
import Substrate

/// The reduce steps of a sharded corpus (`vst corpus`): regimes and drift from mergeable per-shard statistics, and
/// the block MMD statistics of one pair of shards. See `CorpusAnalysis` for what is exact and what is subsampled.
public enum CorpusJobs {
    /// Loads statistics files (of `fit-projection --stats-only`), checking that they share one width.
    public static func statistics(_ paths: [String], option: String) throws -> [CovarianceStatistics] {
        guard !paths.isEmpty else { throw ConfigurationError(field: option, reason: "give at least one statistics file") }
        var out: [CovarianceStatistics] = []
        for path in paths {
            let s: CovarianceStatistics
            do { s = try CovarianceStatistics.load(path) } catch {
                throw InputFileError(path: path, reason: "not a statistics file of `vst fit-projection --stats-only`: \(error)")
            }
            if let first = out.first, first.dimension != s.dimension {
                throw InputFileError(path: path, reason: "has D = \(s.dimension) but \(paths[0]) has D = \(first.dimension)")
            }
            out.append(s)
        }
        return out
    }

    /// The unit roundoff of a storage type name (float32 | float64).
    public static func unitRoundoff(_ storage: String) throws -> Double {
        switch storage {
        case "float32": return Spectrum.floatUnitRoundoff
        case "float64": return Spectrum.doubleUnitRoundoff
        default: throw ConfigurationError(field: "--storage", reason: "must be float32 or float64, got \(storage)")
        }
    }

    /// The regime of a corpus from its shards' statistics; TwoNN on the rows of `twoNNSample` when given.
    public static func regimes(_ inputs: [String], splits: Int, twoNNSample: String?, storage: String, seed: UInt64) throws -> JobOutput {
        let shards = try statistics(inputs, option: "inputs")
        var t = RegimeThresholds()
        t.splits = splits
        var o = TwoNNOptions()
        o.seed = seed
        var sample: Tensor<Double>? = nil
        if let path = twoNNSample {
            let x = try Inputs.matrix(path)
            guard x.shape[1] == shards[0].dimension else {
                throw InputFileError(path: path, reason: "rows of width \(x.shape[1]), but the statistics have D = \(shards[0].dimension)")
            }
            o.rows = x.shape[0]
            sample = x
        }
        let r: RegimeReport
        do {
            r = try CorpusAnalysis.regimes(shards: shards, thresholds: t, seed: seed,
                                           storageUnitRoundoff: unitRoundoff(storage), twoNNSample: sample, twoNNOptions: o)
        } catch let e where e is AnalysisError || e is TensorError { throw InputError("\(inputs.joined(separator: ", ")): \(e)") }
        return JobOutput(json: r.json, table: AnalysisJobs.table(r))
    }

    /// The rows of a shard (.npy streamed; other formats loaded).
    public static func rows(_ path: String) throws -> StateRows {
        if path.lowercased().hasSuffix(".npy") {
            let reader = try NPYReader(path)
            guard reader.shape.count == 2 else { throw InputFileError(path: path, reason: "expected an n×D array, got shape \(reader.shape)") }
            return try StateRows(npy: reader)
        }
        return try StateRows(Inputs.matrix(path), label: path)
    }

    /// The block MMD statistics of one reference shard against one candidate shard, with the median-heuristic
    /// bandwidth of `bandwidthSample`; written to `out` (atomically; refused if it exists unless `force`).
    public static func blockMMD(reference: String, candidate: String, bandwidthSample: String, blockSize: Int, out: String,
                                seed: UInt64, force: Bool, quiet: Bool) throws -> JobOutput {
        try Outputs.checkReplaceable(out)
        if !force && FileManager.default.fileExists(atPath: out) {
            throw InputFileError(path: out, reason: "exists; pass --force to replace it")
        }
        let sample = try Inputs.matrix(bandwidthSample)
        let h2 = try MMDKernels.medianBandwidth2(sample, seed: seed)
        let a = try rows(reference), b = try rows(candidate)
        guard a.dimension == sample.shape[1] else {
            throw InputFileError(path: bandwidthSample, reason: "rows of width \(sample.shape[1]), but \(reference) has D = \(a.dimension)")
        }
        let progress = Progress(label: "blocks", quiet: quiet)
        let s: BlockMMDStatistics
        do { s = try CorpusAnalysis.blockStatistics(a, b, bandwidth2: h2, blockSize: blockSize) { progress.update($0, $1) } }
        catch let e where e is AnalysisError || e is TensorError { throw InputError("\(reference), \(candidate): \(e)") }
        try Outputs.write(s.json.serialized() + "\n", to: out, force: force)
        return JobOutput(json: s.json, table: Fmt.table(["quantity", "value"], [
            ["blocks", "\(s.blocks)"], ["mean block MMD²", Fmt.f(s.mean)], ["h²", Fmt.f(s.bandwidth2)], ["written", out],
        ]))
    }

    /// Reads one `block-mmd` output file.
    public static func blockStatistics(_ path: String) throws -> BlockMMDStatistics {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputFileError(path: path, reason: "cannot be read") }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let blocks = obj["blocks"] as? Int, let mean = (obj["mean"] as? NSNumber)?.doubleValue,
              let scatter = (obj["scatter"] as? NSNumber)?.doubleValue, let h2 = (obj["bandwidth2"] as? NSNumber)?.doubleValue,
              let rows = obj["rows"] as? [Int], let blockRows = obj["block_rows"] as? [Int], rows.count == 2, blockRows.count == 2 else {
            throw InputFileError(path: path, reason: "not a block statistics file of `vst corpus block-mmd` (keys blocks, mean, scatter, bandwidth2, rows, block_rows)")
        }
        guard blocks >= 1, mean.isFinite, scatter.isFinite, scatter >= 0, h2.isFinite, h2 > 0 else {
            throw InputFileError(path: path, reason: "block statistics out of range (blocks \(blocks), mean \(mean), scatter \(scatter), h² \(h2))")
        }
        return BlockMMDStatistics(blocks: blocks, mean: mean, scatter: scatter, bandwidth2: h2, rows: rows, blockRows: blockRows)
    }

    /// Drift between two sharded corpora from their statistics, the merged block MMD statistics of `blocks` and a
    /// row subsample of each corpus (for the KS tests).
    public static func drift(reference: [String], candidate: [String], blocks: [String], referenceSample: String, candidateSample: String,
                             alpha: Double, storage: String, seed: UInt64) throws -> JobOutput {
        let a = try statistics(reference, option: "--reference")
        let b = try statistics(candidate, option: "--candidate")
        guard let firstBlocks = blocks.first else { throw ConfigurationError(field: "--blocks", reason: "give at least one block statistics file") }
        var merged = try blockStatistics(firstBlocks)
        for path in blocks.dropFirst() {
            do { try merged.merge(blockStatistics(path)) } catch let e where e is AnalysisError || e is TensorError {
                throw InputFileError(path: path, reason: "\(e) (every pair must use the same --bandwidth-sample and --seed)")
            }
        }
        let xa = try Inputs.matrix(referenceSample, minRows: 1), xb = try Inputs.matrix(candidateSample, minRows: 1)
        var o = DriftOptions()
        o.alpha = alpha; o.seed = seed
        let r: DriftReport
        do {
            r = try CorpusAnalysis.drift(reference: a, candidate: b, blocks: merged, referenceSample: xa, candidateSample: xb,
                                         options: o, storageUnitRoundoff: unitRoundoff(storage))
        } catch let e where e is AnalysisError || e is TensorError { throw InputError("corpus drift: \(e)") }
        return JobOutput(json: r.json, table: Fmt.table(["quantity", "value"], [
            ["rows", "\(r.testRows.map(String.init).joined(separator: " vs "))"], ["drift", r.drift ? "yes" : "no"],
            ["block MMD²", Fmt.f(r.mmd2)], ["p", Fmt.f(r.pValue)], ["Fréchet distance", Fmt.f(r.frechetDistance)],
            ["core Fréchet distance", Fmt.f(r.coreFrechetDistance)], ["core similarity", Fmt.f(r.coreSimilarity)],
            ["regimes", "\(r.regimeA.rawValue) → \(r.regimeB.rawValue)"],
        ]) + "\n" + r.reasons.map { "· " + $0 }.joined(separator: "\n"))
    }
}

/// `vst report-index`: one page that links every report under a directory.
public enum ReportIndexJob {
    /// Scans `dir` for reports (an index.html beside its report.json) within `depth` levels, writes
    /// `dir/reports.html` (refusing to overwrite unless `force`) and returns the index and the page's path.
    public static func run(_ dir: String, title: String, subtitle: String, results: [String], depth: Int,
                           force: Bool) throws -> (index: ReportIndex, path: String, output: JobOutput) {
        let index = try ReportIndex.scan(dir, title: title, subtitle: subtitle, results: results, maxDepth: depth)
        guard !index.entries.isEmpty else {
            throw InputFileError(path: dir, reason: "holds no report (an index.html beside its report.json) within \(depth) levels, and no --result was given")
        }
        let path = URL(fileURLWithPath: dir).appendingPathComponent("reports.html").path
        if !force && FileManager.default.fileExists(atPath: path) { throw InputFileError(path: path, reason: "exists (use --force to overwrite)") }
        try index.write(to: dir, overwrite: force)
        let json = JSON.object([("index", .string(path)), ("reports", .array(index.entries.map {
            .object([("title", .string($0.title)), ("link", .string($0.link)), ("verdict", .string($0.verdict)), ("summary", .string($0.summary))])
        }))])
        let table = Fmt.table(["report", "verdict"], index.entries.map { [$0.title, $0.verdict] }) + "\nwrote \(path): \(index.entries.count) reports"
        return (index, path, JobOutput(json: json, table: table))
    }
}
