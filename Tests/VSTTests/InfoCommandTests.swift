import Foundation
import Linear
import Testing
import TestSupport

/// `vst info`: the probe of OpenBLAS core types in child processes, its JSON, and that it only reads the variables.
@Suite struct InfoCommandTests {
    @Test("vst info --json probes every core type the CPU can run, reads each back, and names the fastest that passes")
    func probe() throws {
        let dir = try CommandLineTests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CommandLineTests.run(["info", "--json", "--size", "96", "--repeats", "1"], in: dir)
        #expect(r.code == 0, "\(r.err)")
        let j = try CommandLineTests.json(r)
        let active = try #require(j["active"] as? [String: Any])
        #expect((active["core"] as? String) == BLAS.coreName)
        #expect((active["failedChecks"] as? [String])?.isEmpty == true)
        let candidates = try #require(j["candidates"] as? [[String: Any]])
        let expected = (CPUFeatures.current?.candidateCoreTypes ?? []).filter { $0.lowercased() != BLAS.coreName.lowercased() }
        // Each child ran with the core type it was given (a build lacking one falls back and is dropped).
        for c in candidates {
            #expect((c["core"] as? String)?.lowercased() == (c["requested"] as? String)?.lowercased(), "\(c)")
            #expect(expected.contains(c["requested"] as? String ?? ""))
            #expect((c["sgemmGFLOPS"] as? Double ?? 0) > 0)
        }
        #if arch(x86_64)
        #expect(candidates.contains { ($0["core"] as? String) == "Prescott" } || BLAS.coreName == "Prescott")
        #endif
        let floor = try #require(j["floor"] as? [String: Any])
        let best = ([active] + candidates).filter { ($0["failedChecks"] as? [String])?.isEmpty == true }
            .compactMap { $0["sgemmGFLOPS"] as? Double }.max()
        #expect(floor["sgemmGFLOPS"] as? Double == best)
        #expect(!(j["advice"] as? [String] ?? []).isEmpty)
        // The tests' environment is never changed by the probe: the variables are only read.
        let env = try #require(j["environment"] as? [String: String])
        #expect(env["OPENBLAS_CORETYPE"] == ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"])
    }

    @Test("vst info --no-probe prints the core type and one timing; a bad option exits 2")
    func noProbe() throws {
        let dir = try CommandLineTests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CommandLineTests.run(["info", "--no-probe", "--size", "64", "--repeats", "1"], in: dir)
        #expect(r.code == 0 && r.out.contains("core        : \(BLAS.coreName)") && !r.out.contains("advice:"))
        #expect(try CommandLineTests.run(["info", "--size", "0"], in: dir).code == 2)
    }
}
