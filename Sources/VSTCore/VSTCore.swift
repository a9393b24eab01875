import Linear
import Substrate

// VSTCore: what the `vst` analysis commands do, as functions a test can call without spawning a process.
//
// A command of `vst` parses its options into a request, calls one function here and prints the `JobOutput` it
// returns (the JSON of docs/method.md §10, or the table for people). Reading inputs (`Inputs`, `RowBlocks`),
// writing outputs atomically (`Outputs`, `StagedReport`), progress and signals (`Progress`, `Interruption`) and the
// analyses themselves (`ProjectionJobs`, `AnalysisJobs`, `CorpusJobs`, `ReportIndexJob`) live here; the maths lives in
// `Substrate`. Bad input is reported with typed errors that name the file or option: `InputFileError`,
// `ConfigurationError`, `AnalysisError` (Substrate) and `InputError` (a message for everything else).

/// What a job returns for the command to print: one JSON object (for --json) and the table for people.
public struct JobOutput {
    /// The result as JSON (the keys of docs/method.md §10).
    public var json: JSON
    /// The same result as a table (and notes) for a terminal.
    public var table: String

    public init(json: JSON, table: String) {
        self.json = json
        self.table = table
    }
}

/// Bad input that is not about one file or one option (two inputs that disagree, a request that cannot be met):
/// the process ends with exit code 2 and this one-line message. Prefer `InputFileError` or `ConfigurationError`
/// when the problem has one place.
public struct InputError: Error, CustomStringConvertible {
    public var description: String
    public init(_ message: String) { description = message }
}
