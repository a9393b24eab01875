import ArgumentParser

/// `vst lift`: core coordinates back to the full space (`ProjectionJobs.lift`).
struct Lift: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Map core coordinates back to the full space: exactly with --residual, else the best rank-k reconstruction.",
        discussion: "Example: vst lift --projection p.safetensors a.core.npy --residual a.residual.npy --out a.lifted.npy")

    @Option(help: "Projection file from fit-projection.") var projection: String
    @Argument(help: "Core coordinates (n×k .npy).") var input: String
    @Option(help: "Residual coordinates (n×(D−k) .npy) for an exact inverse.") var residual: String?
    @Option(help: "Output .npy file (n×D).") var out: String
    @Option(help: "Element type of the output: float32 | float64 (default: the core coordinates', float32 for float16/bfloat16/float32 input, else float64).")
    var dtype: OutputDType?
    @OptionGroup var output: WriteOptions
    /// Removed (it wrote nothing): kept hidden so that passing it gets a clear refusal.
    @Option(help: .hidden) var report: String?

    func validate() throws {
        if report != nil { throw ValidationError("--report: lift writes its output and no report (the option was removed)") }
    }

    func run() throws {
        let result = try ProjectionJobs.lift(projection: projection, input: input, residual: residual, out: out,
                                             dtype: dtype?.dtype, force: output.force)
        Outputs.emit(result.json, table: result.table, json: output.json)
    }
}
