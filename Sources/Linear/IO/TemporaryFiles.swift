import Foundation

/// The temporary files (and temporary report directories) this process is writing, so that a signal handler can
/// remove them before the process ends, and a later run can recognise those of a run that died.
///
/// Every temporary name has the form `.<name>.tmp-<pid>-<random>` beside its target (`AtomicFile.temporaryPath`).
/// `removeAll()` is written for a signal handler: it only reads a fixed table of C strings and calls `unlink(2)`
/// (and, for a directory, `unlinkat(2)` on its entries and `rmdir(2)`), allocating nothing for plain files.
public enum TemporaryFiles {
    static let capacity = 1024
    /// Paths as C strings (nil: free slot). Never freed once handed to a slot, so a handler that races with
    /// `unregister` never reads freed memory (a few bytes per temporary file, for the life of the process).
    nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        p.initialize(repeating: nil, count: capacity)
        return p
    }()
    /// 1 where the slot holds a directory.
    nonisolated(unsafe) static let directories: UnsafeMutablePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        p.initialize(repeating: 0, count: capacity)
        return p
    }()
    static let lock = NSLock()

    /// Creates the table (call before installing a signal handler that uses `removeAll()`).
    public static func prepare() { _ = slots; _ = directories; _ = lock }

    /// Records `path` as a temporary file (or directory) of this process.
    public static func register(_ path: String, directory: Bool = false) {
        prepare()
        lock.lock(); defer { lock.unlock() }
        for i in 0..<capacity where slots[i] == nil {
            directories[i] = directory ? 1 : 0
            slots[i] = strdup(path)
            return
        }
    }

    /// Forgets `path` (it was moved into place or removed).
    public static func unregister(_ path: String) {
        prepare()
        lock.lock(); defer { lock.unlock() }
        for i in 0..<capacity {
            if let p = slots[i], strcmp(p, path) == 0 { slots[i] = nil; return }
        }
    }

    /// Removes every registered file and directory (for a signal handler: no locks, no allocation for files).
    public static func removeAll() {
        for i in 0..<capacity {
            guard let p = slots[i] else { continue }
            if directories[i] == 1 {
                if let d = opendir(p) {
                    let fd = dirfd(d)
                    while let e = readdir(d) {
                        withUnsafePointer(to: e.pointee.d_name) { name in
                            name.withMemoryRebound(to: CChar.self, capacity: 256) { n in
                                if strcmp(n, ".") != 0 && strcmp(n, "..") != 0 { unlinkat(fd, n, 0) }
                            }
                        }
                    }
                    closedir(d)
                }
                rmdir(p)
            } else {
                unlink(p)
            }
        }
    }

    /// Removes the temporary files and directories (`.<name>.tmp-<pid>-<random>`) that a dead run (SIGKILL, power
    /// loss) left beside `target`, calling `report` with a line for each: a temporary of a process that is still
    /// running (another run writing the same output) is left alone and reported; names of any other form are not
    /// ours and are not touched. Returns the paths removed.
    @discardableResult
    public static func removeStale(besides target: String, report: (String) -> Void) -> [String] {
        let url = URL(fileURLWithPath: target)
        let dir = url.deletingLastPathComponent().path
        let prefix = ".\(url.lastPathComponent).tmp-"
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(prefix) {
            let fields = name.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
            guard fields.count == 2, let pid = Int32(fields[0]), pid > 0, UInt32(fields[1]) != nil else { continue }
            let path = (dir as NSString).appendingPathComponent(name)
            if pid == getpid() { continue }
            if kill(pid, 0) == 0 || errno == EPERM {
                report("leaving \(path) alone: process \(pid), which is writing it, is still running")
                continue
            }
            var st = stat()
            let size = lstat(path, &st) == 0 ? Int64(st.st_size) : 0
            report("removing \(path) (\(size) bytes), a temporary file left by process \(pid), which is no longer running")
            try? FileManager.default.removeItem(atPath: path)
            removed.append(path)
        }
        return removed
    }
}

/// What kind of file system object a path names, for errors that say so instead of a raw Foundation error.
public enum FileKind {
    /// "a directory", "a FIFO (named pipe)", … for a path that exists and is not a regular file; nil for a regular
    /// file (symbolic links followed) or a missing path.
    public static func nonRegularDescription(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    /// Throws `TensorError.file` unless `path` is an existing regular file (or a link to one). Inputs are checked
    /// before they are opened: opening a FIFO blocks until a writer appears, and every reader here seeks or reads
    /// the file more than once, which a pipe cannot do.
    public static func requireRegularFile(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let err = errno
            throw TensorError.file(path: path, message: err == ENOENT ? "no such file" : "cannot be opened: \(String(cString: strerror(err)))")
        }
        if let kind = nonRegularDescription(path) {
            throw TensorError.file(path: path, message: "is \(kind), not a regular file; inputs must be regular files (a pipe or device cannot be read more than once)")
        }
    }

    /// The message of a failed system call, with the usual causes spelled out (disk full, read-only, permissions).
    public static func reason(_ err: Int32) -> String {
        switch err {
        case ENOSPC: return "no space left on the device (disk full)"
        case EDQUOT: return "disk quota exceeded"
        case EROFS: return "the file system is read-only"
        case EACCES, EPERM: return "permission denied"
        case ENOTDIR: return "a component of the path is not a directory"
        case EISDIR: return "is a directory"
        default: return String(cString: strerror(err))
        }
    }
}
