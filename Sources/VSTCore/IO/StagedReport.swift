import Foundation
import Linear
import Substrate

/// A report directory written atomically: the pages go into a hidden temporary directory beside the target, which
/// replaces nothing until every page is written; a failure (or a signal) removes it, so a failed command leaves no
/// partial report that would make the rerun refuse.
public struct StagedReport {
    public let target: String
    let staging: String
    let force: Bool

    /// Refuses a report target that cannot be written, before any work is done: a path that exists and is not a
    /// directory, or (without --force) a directory that already holds a report.
    public static func check(_ dir: String, force: Bool) throws {
        if let kind = FileKind.nonRegularDescription(dir) {
            guard kind == "a directory" else { throw ConfigurationError(field: "--report", reason: "\(dir) exists and is \(kind), not a directory") }
            if !force, let names = try? FileManager.default.contentsOfDirectory(atPath: dir),
               let name = names.first(where: { ["report.json", "index.html"].contains($0) }) {
                throw ConfigurationError(field: "--report", reason: "\(dir) already holds a report (\(name)); pass --force to replace it")
            }
        } else if FileManager.default.fileExists(atPath: dir) {
            throw ConfigurationError(field: "--report", reason: "\(dir) exists and is a file, not a directory")
        }
    }

    /// Writes the pages with `body` into a temporary directory beside `dir`.
    public static func stage(_ dir: String, force: Bool, _ body: (String) throws -> Void) throws -> StagedReport {
        try check(dir, force: force)
        let parent = URL(fileURLWithPath: dir).deletingLastPathComponent().path
        try Outputs.prepareDirectory(parent)
        Outputs.removeStaleTemporaries(besides: dir)
        let staging = AtomicFile.temporaryPath(for: dir)
        TemporaryFiles.register(staging, directory: true)
        guard mkdir(staging, 0o755) == 0 else {
            let err = errno
            TemporaryFiles.unregister(staging)
            throw ConfigurationError(field: "--report", reason: "\(dir) cannot be written: \(FileKind.reason(err))")
        }
        let staged = StagedReport(target: dir, staging: staging, force: force)
        do { try body(staging) } catch {
            staged.discard()
            if let e = error as? TensorError, case let .file(_, message) = e {
                throw ConfigurationError(field: "--report", reason: "\(dir) cannot be written: \(message); no partial report was left")
            }
            throw error
        }
        return staged
    }

    /// Moves the pages into place: the whole directory by one rename when `target` is absent, else page by page
    /// (every page checked first, so nothing is replaced without --force).
    public func commit() throws {
        defer { discard() }
        if !FileManager.default.fileExists(atPath: target), rename(staging, target) == 0 {
            TemporaryFiles.unregister(staging)
            return
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
        let base = URL(fileURLWithPath: target)
        if !force, let clash = names.first(where: { FileManager.default.fileExists(atPath: base.appendingPathComponent($0).path) }) {
            throw ConfigurationError(field: "--report", reason: "\(target): \(clash) already exists; pass --force to replace it")
        }
        try Outputs.prepareDirectory(target)
        for name in names {
            let from = URL(fileURLWithPath: staging).appendingPathComponent(name).path
            guard rename(from, base.appendingPathComponent(name).path) == 0 else {
                throw ConfigurationError(field: "--report", reason: "\(target): \(name) cannot be written: \(FileKind.reason(errno))")
            }
        }
    }

    /// Removes the staging directory (after a failure, or after `commit`).
    public func discard() {
        if FileManager.default.fileExists(atPath: staging) { try? FileManager.default.removeItem(atPath: staging) }
        TemporaryFiles.unregister(staging)
    }
}
