import Foundation

/// Whole-file reads and atomic writes with errors that name the file.
public enum AtomicFile {
    /// The bytes of the file at `path`.
    public static func read(_ path: String) throws -> Data {
        try FileKind.requireRegularFile(path)
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw TensorError.file(path: path, message: "cannot be read: \(FileKind.reason(errno))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TensorError.file(path: path, message: "cannot be read: \(FileKind.reason(errno))") }
        var data = Data(count: Int(st.st_size))
        var failure: Int32 = 0
        let got = data.withUnsafeMutableBytes { raw -> Int in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.read(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return offset }
                if n == 0 { break }
                offset += n
            }
            return offset
        }
        if failure != 0 { throw TensorError.file(path: path, message: "cannot be read: \(FileKind.reason(failure))") }
        if got < data.count { data.removeSubrange(got...) }
        return data
    }

    /// Writes `data` to `path` atomically: into a temporary file in the same directory, flushed to disk, then
    /// moved into place, so a crash or power loss never leaves a truncated file where a good one was.
    /// Without `overwrite` the final step is `link(2)`, which fails if the target appeared meanwhile, so an
    /// existing file is never replaced; with it, `rename(2)` replaces the target atomically.
    public static func write(_ data: Data, to path: String, overwrite: Bool = false) throws {
        let fm = FileManager.default
        let refusal = "already exists; refusing to overwrite it (pass overwrite: true, or --force on the command line)"
        if fm.fileExists(atPath: path) && !overwrite { throw TensorError.file(path: path, message: refusal) }
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir.path, isDirectory: &isDir) else {
            throw TensorError.file(path: path, message: "directory \(dir.path) does not exist")
        }
        guard isDir.boolValue else { throw TensorError.file(path: path, message: "\(dir.path) is not a directory") }
        if let kind = FileKind.nonRegularDescription(path) {
            throw TensorError.file(path: path, message: "exists and is \(kind); only a regular file can be written there")
        }
        let tmp = URL(fileURLWithPath: temporaryPath(for: path))
        TemporaryFiles.register(tmp.path)
        defer { TemporaryFiles.unregister(tmp.path) }
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw TensorError.file(path: path, message: "cannot be written: \(FileKind.reason(errno))")
        }
        var failure: String? = nil
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = FileKind.reason(errno); return }
                offset += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = FileKind.reason(errno) }
        close(fd)
        if let failure {
            unlink(tmp.path)
            throw TensorError.file(path: path, message: "cannot be written: \(failure)")
        }
        try place(temporary: tmp.path, at: path, overwrite: overwrite)
    }

    /// A fresh temporary path beside `path` (same directory, so the final move is atomic).
    public static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))").path
    }

    /// Moves a complete, flushed temporary file into place: `rename(2)` when overwriting, else `link(2)`, which
    /// fails if the target exists. The temporary file is removed in every case.
    static func place(temporary tmp: String, at path: String, overwrite: Bool) throws {
        if overwrite {
            if rename(tmp, path) != 0 {
                let reason = FileKind.reason(errno)
                unlink(tmp)
                throw TensorError.file(path: path, message: "cannot be written (rename failed: \(reason))")
            }
            return
        }
        let rc = link(tmp, path)
        let err = errno
        unlink(tmp)
        if rc != 0 {
            if err == EEXIST {
                throw TensorError.file(path: path, message: "already exists; refusing to overwrite it (pass overwrite: true, or --force on the command line)")
            }
            throw TensorError.file(path: path, message: "cannot be written (link failed: \(FileKind.reason(err)))")
        }
    }
}
