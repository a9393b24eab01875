import ArgumentParser
import Foundation
import Linear
import Substrate

/// `vst corpus`: regimes and drift of a sharded corpus from mergeable per-shard statistics (the reduce steps of
/// scripts/scaleout, usable under any scheduler). See `CorpusAnalysis` for what is exact and what is subsampled.
struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "Regimes and drift of a sharded corpus from per-shard statistics (map-reduce; no process reads every row).",
        discussion: """
        Map: `vst fit-projection shard.npy --stats-only --out s.safetensors` per shard (and `vst corpus block-mmd` per \
        pair of reference/candidate shards). Reduce: `vst corpus regimes s_*.safetensors --json`, `vst corpus drift \
        --reference a_*.safetensors --candidate b_*.safetensors --blocks mmd_*.json ...`. The JSON keys are those of \
        `vst regimes` and `vst drift`.
        """,
        subcommands: [CorpusRegimes.self, CorpusBlockMMD.self, CorpusDrift.self])

    /// Loads statistics files, checking that they share one width.
    static func statistics(_ paths: [String], option: String) throws -> [CovarianceStatistics] {
        guard !paths.isEmpty else { throw ValidationError("\(option): give at least one statistics file") }
        var out: [CovarianceStatistics] = []
        for path in paths {
            let s: CovarianceStatistics
            do { s = try CovarianceStatistics.load(path) } catch {
                throw InputError("\(path): not a statistics file of `vst fit-projection --stats-only`: \(error)")
            }
            if let first = out.first, first.dimension != s.dimension {
                throw InputError("\(path): has D = \(s.dimension) but \(paths[0]) has D = \(first.dimension)")
            }
            out.append(s)
        }
        return out
    }

    /// The unit roundoff of a storage type name.
    static func unitRoundoff(_ storage: String) throws -> Double {
        switch storage {
        case "float32": return Spectrum.floatUnitRoundoff
        case "float64": return Spectrum.doubleUnitRoundoff
        default: throw ValidationError("--storage must be float32 or float64, got \(storage)")
        }
    }
}

struct CorpusRegimes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regimes",
        abstract: "The latent regime of a corpus from its shards' statistics (`vst regimes` keys).",
        discussion: """
        The spectrum is that of the merged covariance (equal to a one-process run up to rounding); the stability \
        P(k) uses seeded half-splits of the shards (not of the rows), so it needs at least 2 shards; TwoNN runs on \
        the rows of --twonn-sample (a seeded subsample of the corpus) when given, else it is null.
        Example: vst corpus regimes stats/*.safetensors --twonn-sample sample.npy --json
        """)

    @Argument(help: "Per-shard statistics files (fit-projection --stats-only or merge-stats --stats-only).") var inputs: [String]
    @Option(help: "Random half-splits of the shards for the stability estimate.") var splits: Int = 5
    @Option(help: "Rows of the corpus for TwoNN (.npy, n×D), e.g. a seeded subsample.") var twonnSample: String?
    @Option(help: "Storage type of the shards' rows (sets the rounding floor of the signal rank): float32 | float64.") var storage = "float32"
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if splits < 1 { throw ValidationError("--splits must be at least 1, got \(splits)") }
        _ = try CorpusCommand.unitRoundoff(storage)
        if output.report != nil { throw ValidationError("--report is not available for `vst corpus regimes` (it holds no rows to plot)") }
    }

    func run() throws {
        let shards = try CorpusCommand.statistics(inputs, option: "inputs")
        var t = RegimeThresholds()
        t.splits = splits
        var o = TwoNNOptions()
        o.seed = output.seed
        var sample: Tensor<Double>? = nil
        if let path = twonnSample {
            let x = try Inputs.matrix(path)
            guard x.shape[1] == shards[0].dimension else {
                throw InputError("\(path): rows of width \(x.shape[1]), but the statistics have D = \(shards[0].dimension)")
            }
            o.rows = x.shape[0]
            sample = x
        }
        let r: RegimeReport
        do {
            r = try CorpusAnalysis.regimes(shards: shards, thresholds: t, seed: output.seed,
                                           storageUnitRoundoff: CorpusCommand.unitRoundoff(storage), twoNNSample: sample, twoNNOptions: o)
        } catch let e as TensorError { throw InputError("\(inputs.joined(separator: ", ")): \(e)") }
        Outputs.emit(r.json, table: RegimesCommand.table(r), options: output)
    }
}

struct CorpusBlockMMD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "block-mmd",
        abstract: "Block MMD statistics of one reference shard against one candidate shard, for `vst corpus drift`.",
        discussion: """
        The kernel bandwidth is the median heuristic on --bandwidth-sample (the same file and --seed for every pair, \
        so every pair uses one kernel). Writes {blocks, mean, scatter, bandwidth2, rows, block_rows} to --out \
        (atomically; refused if it exists, unless --force).
        Example: vst corpus block-mmd a/shard_0/latents.npy b/shard_0/latents.npy --bandwidth-sample ref_sample.npy --out mmd_0.json
        """)

    @Argument(help: "Reference shard (n×D .npy).") var reference: String
    @Argument(help: "Candidate shard (m×D .npy).") var candidate: String
    @Option(help: "Rows of the reference corpus whose median pairwise distance sets the bandwidth (.npy).") var bandwidthSample: String
    @Option(help: "Rows per block (smaller when needed to give at least 20 blocks).") var blockSize: Int = 256
    @Option(help: "Output JSON file.") var out: String
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if blockSize < 2 { throw ValidationError("--block-size must be at least 2, got \(blockSize)") }
    }

    static func rows(_ path: String) throws -> StateRows {
        if path.lowercased().hasSuffix(".npy") {
            let reader = try NPYReader(path)
            guard reader.shape.count == 2 else { throw InputError("\(path): expected an n×D array, got shape \(reader.shape)") }
            return try StateRows(npy: reader)
        }
        return try StateRows(Inputs.matrix(path), label: path)
    }

    func run() throws {
        try Outputs.checkReplaceable(out)
        if !output.force && FileManager.default.fileExists(atPath: out) {
            throw InputError("\(out): exists; pass --force to replace it")
        }
        let sample = try Inputs.matrix(bandwidthSample)
        let h2 = try Kernels.medianBandwidth2(sample, seed: output.seed)
        let a = try CorpusBlockMMD.rows(reference), b = try CorpusBlockMMD.rows(candidate)
        guard a.dimension == sample.shape[1] else {
            throw InputError("\(bandwidthSample): rows of width \(sample.shape[1]), but \(reference) has D = \(a.dimension)")
        }
        let progress = Progress(label: "blocks", quiet: output.quiet)
        let s: BlockMMDStatistics
        do { s = try CorpusAnalysis.blockStatistics(a, b, bandwidth2: h2, blockSize: blockSize) { progress.update($0, $1) } }
        catch let e as TensorError { throw InputError("\(reference), \(candidate): \(e)") }
        try Outputs.write(s.json.serialized() + "\n", to: out, force: output.force)
        Outputs.emit(s.json, table: Fmt.table(["quantity", "value"], [
            ["blocks", "\(s.blocks)"], ["mean block MMD²", Fmt.f(s.mean)], ["h²", Fmt.f(s.bandwidth2)], ["written", out],
        ]), options: output)
    }
}

struct CorpusDrift: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Drift between two sharded corpora from per-shard statistics (`vst drift` keys).",
        discussion: """
        Fréchet and core Fréchet distances from the merged means and covariances (exact); the block MMD test over the \
        merged block statistics of `vst corpus block-mmd`; regimes as `vst corpus regimes` (no TwoNN); the KS tests on \
        the core coordinates of the two subsamples (order statistics are not mergeable).
        Example: vst corpus drift --reference a/*.safetensors --candidate b/*.safetensors --blocks mmd_*.json \
        --reference-sample a.npy --candidate-sample b.npy --json
        """)

    @Option(parsing: .upToNextOption, help: "Reference corpus: per-shard statistics files.") var reference: [String] = []
    @Option(parsing: .upToNextOption, help: "Candidate corpus: per-shard statistics files.") var candidate: [String] = []
    @Option(parsing: .upToNextOption, help: "Block MMD statistics of shard pairs (`vst corpus block-mmd --out`).") var blocks: [String] = []
    @Option(help: "Seeded row subsample of the reference corpus (.npy), for the KS tests.") var referenceSample: String
    @Option(help: "Seeded row subsample of the candidate corpus (.npy), for the KS tests.") var candidateSample: String
    @Option(help: "Significance level α.") var alpha: Double = 0.05
    @Option(help: "Storage type of the shards' rows (sets the rounding floor of the signal rank): float32 | float64.") var storage = "float32"
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if !(alpha > 0 && alpha < 1) { throw ValidationError("--alpha must lie in (0, 1), got \(alpha)") }
        if blocks.isEmpty { throw ValidationError("--blocks: give at least one block statistics file") }
        _ = try CorpusCommand.unitRoundoff(storage)
        if output.report != nil { throw ValidationError("--report is not available for `vst corpus drift`") }
    }

    /// Reads one `block-mmd` output file.
    static func blockStatistics(_ path: String) throws -> BlockMMDStatistics {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError("\(path): cannot be read") }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let blocks = obj["blocks"] as? Int, let mean = (obj["mean"] as? NSNumber)?.doubleValue,
              let scatter = (obj["scatter"] as? NSNumber)?.doubleValue, let h2 = (obj["bandwidth2"] as? NSNumber)?.doubleValue,
              let rows = obj["rows"] as? [Int], let blockRows = obj["block_rows"] as? [Int], rows.count == 2, blockRows.count == 2 else {
            throw InputError("\(path): not a block statistics file of `vst corpus block-mmd` (keys blocks, mean, scatter, bandwidth2, rows, block_rows)")
        }
        guard blocks >= 1, mean.isFinite, scatter.isFinite, scatter >= 0, h2.isFinite, h2 > 0 else {
            throw InputError("\(path): block statistics out of range (blocks \(blocks), mean \(mean), scatter \(scatter), h² \(h2))")
        }
        return BlockMMDStatistics(blocks: blocks, mean: mean, scatter: scatter, bandwidth2: h2, rows: rows, blockRows: blockRows)
    }

    func run() throws {
        let a = try CorpusCommand.statistics(reference, option: "--reference")
        let b = try CorpusCommand.statistics(candidate, option: "--candidate")
        var merged = try CorpusDrift.blockStatistics(blocks[0])
        for path in blocks.dropFirst() {
            do { try merged.merge(CorpusDrift.blockStatistics(path)) } catch let e as TensorError {
                throw InputError("\(path): \(e) (every pair must use the same --bandwidth-sample and --seed)")
            }
        }
        let xa = try Inputs.matrix(referenceSample, minRows: 1), xb = try Inputs.matrix(candidateSample, minRows: 1)
        var o = DriftOptions()
        o.alpha = alpha; o.seed = output.seed
        let r: DriftReport
        do {
            r = try CorpusAnalysis.drift(reference: a, candidate: b, blocks: merged, referenceSample: xa, candidateSample: xb,
                                         options: o, storageUnitRoundoff: CorpusCommand.unitRoundoff(storage))
        } catch let e as TensorError { throw InputError("corpus drift: \(e)") }
        Outputs.emit(r.json, table: Fmt.table(["quantity", "value"], [
            ["rows", "\(r.testRows.map(String.init).joined(separator: " vs "))"], ["drift", r.drift ? "yes" : "no"],
            ["block MMD²", Fmt.f(r.mmd2)], ["p", Fmt.f(r.pValue)], ["Fréchet distance", Fmt.f(r.frechetDistance)],
            ["core Fréchet distance", Fmt.f(r.coreFrechetDistance)], ["core similarity", Fmt.f(r.coreSimilarity)],
            ["regimes", "\(r.regimeA.rawValue) → \(r.regimeB.rawValue)"],
        ]) + "\n" + r.reasons.map { "· " + $0 }.joined(separator: "\n"), options: output)
    }
}
