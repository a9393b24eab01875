import ArgumentParser
import Substrate

/// `vst fit-projection`: parses the fit's options and calls `ProjectionJobs.fit`.
struct FitProjection: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit-projection",
        abstract: "Fit an invertible projection into a k-dimensional core (default 9) on the rows of one or more files.",
        discussion: """
        All inputs must have the same width D; their rows are pooled. --method covariance streams .npy files in blocks \
        (memory independent of n). With --stats-only the shard's mergeable statistics (n, mean, scatter) are written \
        instead, for `vst merge-stats`.
        Example: vst fit-projection latents.npy --rank 9 --out projection.safetensors
        """)

    @Argument(help: "Input files (.npy, .safetensors, .csv): n×D states.") var inputs: [String]
    @Option(name: .long, help: "Core size k.") var rank: Int = 9
    @Option(help: "svd | covariance | randomized") var method: ProjectionMethod = .svd
    @Option(help: ArgumentHelp("randomized method: automatic | covariance | streamed (how X_cᵀX_c is applied; the same iteration, a different cost).",
                               discussion: "covariance forms the D×D matrix in one read of the data; streamed reads the data q + 2 times and never forms it; automatic picks the cheaper by a cost model."))
    var randomizedOperator: RandomizedOperator = .automatic
    @Option(help: "Output .safetensors file (projection, or statistics with --stats-only).") var out: String
    @Option(help: "Tensor name inside .safetensors inputs.") var key: String?
    @Flag(help: "Write this shard's mergeable statistics instead of a projection.") var statsOnly = false
    @Flag(help: "Do not subtract the mean.") var noCenter = false
    @Flag(help: "Divide each feature by its standard deviation first.") var standardize = false
    @Flag(help: "Project to whitened coordinates z/√λ.") var whiten = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one input file") }
        if rank < 1 { throw ValidationError("--rank must be at least 1, got \(rank)") }
        if statsOnly && (standardize || noCenter) { throw ValidationError("--stats-only keeps raw statistics; --standardize/--no-center apply when fitting") }
        if randomizedOperator != .automatic && method != .randomized {
            throw ValidationError("--randomized-operator applies to --method randomized only (method is \(method.rawValue))")
        }
    }

    func run() throws {
        var o = ProjectionOptions(k: rank, method: method)
        o.center = !noCenter; o.standardize = standardize; o.whiten = whiten; o.seed = output.seed
        o.randomizedOperator = randomizedOperator
        var request = FitRequest(inputs: inputs, options: o, out: out)
        request.key = key; request.statsOnly = statsOnly; request.report = output.report; request.force = output.force
        Outputs.emit(try ProjectionJobs.fit(request), options: output)
    }
}
