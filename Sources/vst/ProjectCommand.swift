import ArgumentParser
import Foundation

/// `vst project`: batch projection of many files (`ProjectionJobs.project`).
struct Project: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Project states into the core of a fitted projection (batch: many files in one call).",
        discussion: """
        Writes <name>.core.npy (n×k) for each input (and <name>.residual.npy with --residual), or to --out for a single \
        input. Under --out-dir the outputs mirror the inputs' paths relative to their common parent directory: \
        shard_0/latents.npy and shard_1/latents.npy give OUT/shard_0/latents.core.npy and OUT/shard_1/latents.core.npy; \
        inputs in one directory give OUT/<name>.core.npy. Two inputs that would still share an output (a.npy and a.csv) \
        are refused before anything is written. .npy inputs stream in blocks, so files bigger than memory work. Every \
        output is written to a temporary file (.<output>.tmp-<pid>-<random>) and moved into place when complete, so an \
        interrupted run never leaves a partial output. SIGINT/SIGTERM abandon the file in progress (its temporary file \
        is removed) and exit 130/143; rerun with --resume to skip the outputs that are already complete (a .npy of the \
        expected shape and dtype) and to remove temporary files of runs that died (SIGKILL, power loss): each is \
        reported on stderr; those of a process still running are left alone. Existing outputs are replaced only with \
        --force, and only when they are regular files.
        Example: vst project --projection p.safetensors shard_0/latents.npy shard_1/latents.npy --out-dir cores/ --resume
        """)

    @Option(help: "Projection file from fit-projection.") var projection: String
    @Argument(help: "Input files (n×D).") var inputs: [String]
    @Option(help: "Output file (single input only).") var out: String?
    @Option(help: "Output directory: one <name>.core.npy per input, at the input's path relative to the inputs' common parent directory.")
    var outDir: String?
    @Flag(help: "Also write the residual coordinates (n×(D−k)), so `lift` can invert exactly.") var residual = false
    @Option(help: "Tensor name inside .safetensors inputs.") var key: String?
    @Flag(help: "Skip inputs whose outputs already exist and are complete (continue an interrupted run).") var resume = false
    @Option(help: "Element type of the outputs: float32 | float64 (default: the input's, float32 for float16/bfloat16/float32 inputs, else float64).")
    var dtype: OutputDType?
    @OptionGroup var output: WriteOptions
    /// Removed (it wrote nothing): kept hidden so that passing it gets a clear refusal.
    @Option(help: .hidden) var report: String?

    func validate() throws {
        if report != nil { throw ValidationError("--report: project writes its outputs and no report (the option was removed)") }
        if inputs.isEmpty { throw ValidationError("give at least one input file") }
        if out == nil && outDir == nil { throw ValidationError("give --out (one input) or --out-dir") }
        if out != nil && outDir != nil { throw ValidationError("give --out (one input) or --out-dir, not both") }
        if out != nil && inputs.count > 1 { throw ValidationError("--out takes one input; use --out-dir for \(inputs.count) files") }
        if resume && output.force { throw ValidationError("--resume keeps complete outputs and --force overwrites them; give one") }
    }

    func run() throws {
        var r = ProjectRequest(projection: projection, inputs: inputs)
        r.out = out; r.outDir = outDir; r.residual = residual; r.key = key; r.resume = resume
        r.dtype = dtype?.dtype; r.force = output.force; r.quiet = output.quiet
        // Testing hook: a pause after each block, so tests can interrupt a run of small files mid-file.
        r.pauseMilliseconds = ProcessInfo.processInfo.environment["VST_TEST_PAUSE_MS"].flatMap(UInt32.init) ?? 0
        let result = try ProjectionJobs.project(r)
        Outputs.emit(result.json, table: result.table, json: output.json)
    }
}
