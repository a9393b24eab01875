import ArgumentParser

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

    /// Refuses a --storage other than float32 or float64 as bad usage.
    static func checkStorage(_ storage: String) throws {
        guard ["float32", "float64"].contains(storage) else { throw ValidationError("--storage must be float32 or float64, got \(storage)") }
    }
}

/// `vst corpus regimes` (`CorpusJobs.regimes`).
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
        try CorpusCommand.checkStorage(storage)
        if output.report != nil { throw ValidationError("--report is not available for `vst corpus regimes` (it holds no rows to plot)") }
    }

    func run() throws {
        if inputs.isEmpty { throw ValidationError("inputs: give at least one statistics file") }
        Outputs.emit(try CorpusJobs.regimes(inputs, splits: splits, twoNNSample: twonnSample, storage: storage, seed: output.seed), options: output)
    }
}

/// `vst corpus block-mmd` (`CorpusJobs.blockMMD`).
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

    func run() throws {
        Outputs.emit(try CorpusJobs.blockMMD(reference: reference, candidate: candidate, bandwidthSample: bandwidthSample, blockSize: blockSize,
                                             out: out, seed: output.seed, force: output.force, quiet: output.quiet), options: output)
    }
}

/// `vst corpus drift` (`CorpusJobs.drift`).
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
        try CorpusCommand.checkStorage(storage)
        if output.report != nil { throw ValidationError("--report is not available for `vst corpus drift`") }
    }

    func run() throws {
        if reference.isEmpty { throw ValidationError("--reference: give at least one statistics file") }
        if candidate.isEmpty { throw ValidationError("--candidate: give at least one statistics file") }
        Outputs.emit(try CorpusJobs.drift(reference: reference, candidate: candidate, blocks: blocks, referenceSample: referenceSample,
                                          candidateSample: candidateSample, alpha: alpha, storage: storage, seed: output.seed), options: output)
    }
}
