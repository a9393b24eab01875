// The one test-support library of the package: every test target imports it instead of keeping its own copy of
// these helpers. It holds only what is generic (locations, scratch directories, comparisons, running a built
// binary, small deterministic inputs); helpers of one target's subject stay in that target.

import Foundation

/// The package root (the directory holding Package.swift), found by walking up from the calling file's path
/// (`#filePath` is the caller's: `<root>/Tests/<Target>/<File>.swift`).
public func repoRoot(_ filePath: String = #filePath) -> URL {
    var url = URL(fileURLWithPath: filePath)
    for _ in 0..<6 {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
    }
    // The fixed layout: Tests/<Target>/<File>.swift → root.
    return URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// `<root>/data/<relative>`.
public func dataURL(_ relative: String, _ filePath: String = #filePath) -> URL {
    repoRoot(filePath).appendingPathComponent("data").appendingPathComponent(relative)
}

/// `<root>/data/<relative>` as a path.
public func dataPath(_ relative: String, _ filePath: String = #filePath) -> String {
    dataURL(relative, filePath).path
}

/// A fresh empty directory `<prefix>-<UUID>` under the system temporary directory (the caller may delete it).
public func makeTemporaryDirectory(_ prefix: String = "substrate-tests") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs `body` with the path of a fresh directory named after `prefix`, removed afterwards.
public func withTemporaryDirectory<R>(_ prefix: String, _ body: (String) throws -> R) throws -> R {
    let dir = try makeTemporaryDirectory("substrate-\(prefix)-tests")
    defer { try? FileManager.default.removeItem(at: dir) }
    return try body(dir.path)
}
