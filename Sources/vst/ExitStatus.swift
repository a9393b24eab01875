import ArgumentParser
import Foundation
import Generative
import Linear
import Neural
import Substrate

/// The one place that maps what a command threw to the process's exit status and its message on stderr:
///
/// - `ExitCode` (validate's 1, a command's own status): that status, no message;
/// - `Interrupted`: what the job completed (if it says), then 128 + the signal (130 SIGINT, 143 SIGTERM);
/// - bad input, typed: `InputFileError`, `ConfigurationError`, `AnalysisError`, `InputError`, `TensorError`,
///   `ModelFileError` (a model file that does not fit its configuration), `ModelStateError` (saved state that does
///   not fit the model, outside a file), `TrainingError` (a run that diverged under the chosen options) → `vst: error: <message>` and 2;
/// - ArgumentParser's own errors (bad usage, --help, --version): its message and 2 (0 for help and version);
/// - anything else (a failure of vst itself, not of the input) → `vst: error: <message>` and 1.
enum ExitStatus {
    /// Bad input: the user can fix it by changing a file or an option.
    static func isBadInput(_ error: Error) -> Bool {
        switch error {
        case is InputFileError, is ConfigurationError, is AnalysisError, is InputError, is TensorError, is ModelFileError, is ModelStateError,
             is TrainingError:
            return true
        default: return false
        }
    }

    /// The exit status of `error` and the line to print on stderr (nil: print nothing).
    static func of(_ error: Error) -> (code: Int32, message: String?) {
        if let code = error as? ExitCode { return (code.rawValue, nil) }
        if let e = error as? Interrupted { return (128 + e.signal, e.message) }
        if isBadInput(error) { return (2, "vst: error: \(error)\n") }
        // ArgumentParser gives its own errors (bad usage) validationFailure and --help/--version success; any
        // other error it does not know it gives failure.
        switch VST.exitCode(for: error) {
        case .success: return (0, nil)
        case .validationFailure: return (2, VST.fullMessage(for: error) + "\n")
        default: return (1, "vst: error: \(error)\n")
        }
    }
}
