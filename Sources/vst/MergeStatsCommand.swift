import ArgumentParser

/// `vst merge-stats`: the reduce step of a sharded fit (`ProjectionJobs.mergeStatistics`).
struct MergeStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-stats",
        abstract: "Merge shard statistics from `fit-projection --stats-only` into one projection (or merged statistics).",
        discussion: "Example (map-reduce): on each machine `vst fit-projection shard_i.npy --stats-only --out s_i.safetensors`, then `vst merge-stats s_*.safetensors --out projection.safetensors`.")

    @Argument(help: "Statistics files.") var inputs: [String]
    @Option(help: "Output projection (.safetensors).") var out: String
    @Option(name: .long, help: "Core size k.") var rank: Int = 9
    @Flag(help: "Write the merged statistics instead of a projection.") var statsOnly = false
    @Flag(help: "Project to whitened coordinates z/√λ.") var whiten = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one statistics file") }
        Outputs.emit(try ProjectionJobs.mergeStatistics(inputs, out: out, rank: rank, whiten: whiten, statsOnly: statsOnly,
                                                        seed: output.seed, force: output.force), options: output)
    }
}
