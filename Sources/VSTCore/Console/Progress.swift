import Foundation
import Generative

/// Progress on stderr: steps, rate and ETA, on one line rewritten in place.
public struct Progress: Sendable {
    public let label: String
    public let quiet: Bool
    let start = DispatchTime.now().uptimeNanoseconds

    public init(label: String, quiet: Bool) {
        self.label = label
        self.quiet = quiet
    }

    /// Shows `done` of `total` steps (nothing when quiet); the last step ends the line.
    public func update(_ done: Int, _ total: Int) {
        guard !quiet else { return }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let line = String(format: "\r%@ %d/%d  %.1f/s  elapsed %.1fs  ETA %.1fs", label, done, total, rate, elapsed, eta)
        FileHandle.standardError.write(Data(line.utf8))
        if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// The progress line of `vst train` on stderr: `step k/N  loss …  r steps/s  ETA s` (the trainer reports, the
/// command line draws).
public enum TrainingProgressLine {
    public static func draw(_ p: TrainingProgress) {
        let parts = p.statistics.map { String(format: "%@ %.5f", $0.0, $0.1) }.joined(separator: "  ")
        FileHandle.standardError.write(Data(String(format: "step %d/%d  %@  %.1f steps/s  ETA %.0f s\n", p.step, p.totalSteps, parts,
                                                   p.stepsPerSecond, p.remainingSeconds).utf8))
    }
}
