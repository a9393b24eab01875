import Foundation

/// Whole-file reads and atomic writes with errors that name the file.
public enum AtomicFile {
    /// The bytes of the file at `path`.
    public static func read(_ path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else { throw TensorError.file(path: path, message: "no such file") }
        do { return try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) }
        catch { throw TensorError.file(path: path, message: "cannot be read: \(error.localizedDescription)") }
    }

    /// Writes `data` to `path` atomically: into a temporary file in the same directory, then renamed over the
    /// target, so a crash never leaves a truncated file where a good one was.
    /// Throws if the file exists and `overwrite` is false.
    public static func write(_ data: Data, to path: String, overwrite: Bool = false) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) && !overwrite {
            throw TensorError.file(path: path, message: "already exists; refusing to overwrite it (pass overwrite: true, or --force on the command line)")
        }
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw TensorError.file(path: path, message: "directory \(dir.path) does not exist")
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try data.write(to: tmp)
        } catch {
            try? fm.removeItem(at: tmp)
            throw TensorError.file(path: path, message: "cannot be written: \(error.localizedDescription)")
        }
        if rename(tmp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? fm.removeItem(at: tmp)
            throw TensorError.file(path: path, message: "cannot be written (rename failed: \(reason))")
        }
    }
}
