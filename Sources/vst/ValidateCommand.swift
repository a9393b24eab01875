import ArgumentParser

/// `vst validate`: the validation layers V1–V4 (`AnalysisJobs.validate`); exit 1 on fail (or warn with --strict).
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Run the validation layers V1–V4 and exit 0 (pass, or warn unless --strict) or 1 (fail).",
        discussion: """
        V1 structural and V2 statistical checks run on the states; --reference adds the drift test (V4 no_drift); \
        --trajectory adds V3; --aligned-with adds the alignment class (V4, at least --require).
        Example: vst validate latents.npy --reference last_release.npy --strict
        """)

    @Argument(help: "States (n×D).") var input: String
    @Option(help: "Tensor name inside .safetensors inputs.") var key: String?
    @Option(help: "Reference states for the drift test.") var reference: String?
    @Option(help: "A T×n×D trajectory for the temporal checks (V3).") var trajectory: String?
    @Option(help: "States of another model on the same inputs, for the alignment check (V4).") var alignedWith: String?
    @Option(help: "Required alignment class: A1, A2 or A3.") var require: String = "A2"
    @Flag(help: "Treat warnings as failures (exit 1).") var strict = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard ["A1", "A2", "A3"].contains(require) else { throw ValidationError("--require must be A1, A2 or A3, got \(require)") }
    }

    func run() throws {
        var r = ValidateRequest(input: input)
        r.key = key; r.reference = reference; r.trajectory = trajectory; r.alignedWith = alignedWith; r.require = require
        r.seed = output.seed; r.report = output.report; r.force = output.force
        let (report, result) = try AnalysisJobs.validate(r)
        Outputs.emit(result, options: output)
        if report.status == .fail || (strict && report.status == .warn) { throw ExitCode(1) }
    }
}
