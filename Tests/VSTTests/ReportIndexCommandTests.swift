import Foundation
import Testing
import TestSupport

/// `vst report-index`: bad input exits 2 naming the directory (the index builder itself is tested in SubstrateTests).
@Suite struct ReportIndexCommandTests {
    @Test func aMissingDirectoryExitsTwo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-report-index-cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CommandLineTests.run(["report-index", "no-such-dir"], in: dir)
        #expect(r.code == 2, "exit \(r.code): \(r.err)")
        #expect(r.err.contains("no-such-dir") && r.err.contains("does not exist"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("no-such-dir").path))
    }
}
