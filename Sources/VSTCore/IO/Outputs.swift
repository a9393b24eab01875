import Foundation
import Linear
import Substrate

/// Writing outputs: atomic files, directories and report directories; every refusal names the path.
public enum Outputs {
    /// Refuses an output path that exists and is not a regular file (a device such as /dev/null, a FIFO, a
    /// directory, a socket or a symbolic link): the atomic write would replace it by rename (with --force) or fail
    /// later; a file of ours is only ever a regular file.
    public static func checkReplaceable(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }                       // absent: fine
        let type = st.st_mode & S_IFMT
        if type == S_IFREG { return }
        let kind: String
        switch type {
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFIFO: kind = "a FIFO"
        case S_IFDIR: kind = "a directory"
        case S_IFLNK: kind = "a symbolic link"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a regular file"
        }
        throw InputFileError(path: path, reason: "exists and is \(kind); outputs only ever replace regular files (with --force), so choose another path")
    }

    /// Creates `dir` (and its parents) when missing; refuses a path that exists and is not a directory, naming
    /// the component that is in the way.
    public static func prepareDirectory(_ dir: String) throws {
        if let kind = FileKind.nonRegularDescription(dir) {
            guard kind == "a directory" else { throw InputFileError(path: dir, reason: "exists and is \(kind), not a directory") }
            return
        }
        if FileManager.default.fileExists(atPath: dir) { throw InputFileError(path: dir, reason: "exists and is a file, not a directory") }
        let parent = URL(fileURLWithPath: dir).deletingLastPathComponent().path
        if parent != dir && !parent.isEmpty && !FileManager.default.fileExists(atPath: parent) { try prepareDirectory(parent) }
        else if parent != dir, FileManager.default.fileExists(atPath: parent), FileKind.nonRegularDescription(parent) != "a directory" {
            throw InputFileError(path: dir, reason: "cannot be created: \(parent) is a file, not a directory")
        }
        if mkdir(dir, 0o755) != 0 && errno != EEXIST {
            throw InputFileError(path: dir, reason: "cannot be created: \(FileKind.reason(errno))")
        }
    }

    /// Writes a report directory with `body` (given the directory to write into) so that a failure leaves nothing.
    public static func writeReport(to dir: String, force: Bool, _ body: (String) throws -> Void) throws {
        try StagedReport.stage(dir, force: force, body).commit()
    }

    /// Reports (on stderr) and removes the temporary files that dead runs left beside `target`; those of running
    /// processes are reported and left alone.
    public static func removeStaleTemporaries(besides target: String) {
        TemporaryFiles.removeStale(besides: target) { FileHandle.standardError.write(Data("vst: \($0)\n".utf8)) }
    }

    /// Writes text atomically (refusing to overwrite unless `force`).
    public static func write(_ text: String, to path: String, force: Bool) throws {
        try AtomicFile.write(Data(text.utf8), to: path, overwrite: force)
    }
}
