import Foundation
import Linear

/// Finds the files shipped in the repository's `data/` folder (the digits, the digits classifier), wherever `vst`
/// or a program linking the library is run from.
///
/// The search order, first hit wins:
/// 1. `$SUBSTRATE_DATA/<relative path>` when the `SUBSTRATE_DATA` environment variable is set;
/// 2. `data/<relative path>` in the current directory or one of its (up to 8) parents;
/// 3. `data/<relative path>` beside the running executable, found from its real path (`/proc/self/exe`, so a `vst`
///    run through a symlink on PATH or from another directory still finds the checkout it was built in), or one of
///    that directory's parents.
public enum BundledData {
    /// The running executable's directory, from `/proc/self/exe` (the kernel's record of the real file, not argv[0],
    /// which is only what the shell was given); `nil` where that link does not exist.
    public static func executableDirectory() -> URL? {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return URL(fileURLWithPath: exe).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// The path of `relative` (e.g. "digits.csv" or "classifier/digits-classifier.safetensors") under the bundled
    /// data folder, searched as described on the type.
    /// - Throws: `TensorError.file` naming the first places searched and how to point the search elsewhere.
    public static func path(_ relative: String, hint: String = "set SUBSTRATE_DATA to the directory that holds it") throws -> String {
        let fm = FileManager.default
        var tried: [String] = []
        if let dir = ProcessInfo.processInfo.environment["SUBSTRATE_DATA"], !dir.isEmpty {
            let p = URL(fileURLWithPath: dir).appendingPathComponent(relative).path
            if fm.fileExists(atPath: p) { return p }
            tried.append(p)
        }
        var starts = [URL(fileURLWithPath: fm.currentDirectoryPath)]
        if let exe = executableDirectory() { starts.append(exe) }
        for start in starts {
            var url = start
            for _ in 0..<8 {
                let p = url.appendingPathComponent("data").appendingPathComponent(relative).path
                if fm.fileExists(atPath: p) { return p }
                tried.append(p)
                let parent = url.deletingLastPathComponent()
                if parent.path == url.path { break }
                url = parent
            }
        }
        throw TensorError.file(path: "data/\(relative)", message: "not found (searched \(tried.prefix(4).joined(separator: ", "))…); \(hint)")
    }
}
