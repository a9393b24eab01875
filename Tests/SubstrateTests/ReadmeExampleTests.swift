import Foundation
import Linear
import Substrate
import Testing
import TestSupport

// The README's "Use it from Swift" example, compiled here. The test below checks that the README shows exactly
// this text, so the example cannot rot.
// README-EXAMPLE-BEGIN
func studyLatents(_ path: String, later laterPath: String, saveTo output: String) throws {
    let z = try Tensor<Float>.load(npy: path)                   // n × D latents, e.g. np.save from PyTorch
    let projection = try Projection.fit(z, options: ProjectionOptions(k: 9, method: .covariance))
    let core = try projection.project(z)                        // n × 9 coordinates in the core
    let back = try projection.lift(core, residual: projection.residual(z))
    print("round trip error", try (back - z.cast(to: Double.self)).abs().max())

    let regime = try Regimes.classify(z)                        // R1 / R2 / R3 with its numbers
    print(regime.regime, "k* =", regime.spectrum.signalRank, "E9 =", regime.spectrum.coreEnergy[9] ?? 0)

    let later = try Tensor<Float>.load(npy: laterPath)          // the same inputs through a later checkpoint
    let drift = try Drift.compare(z, later)
    print("drift:", drift.drift, "MMD²", drift.mmd2, "p", drift.pValue)
    let alignment = try Alignment.compare(z, later)              // rows must be paired
    print("alignment:", alignment.regime, "linear CKA", alignment.linearCKA)
    try projection.save(output, overwrite: true)                // reload with Projection.load(output)
}
// README-EXAMPLE-END

@Suite("README example")
struct ReadmeExampleTests {
    @Test("the README shows the compiled example verbatim")
    func readmeMatchesCompiledExample() throws {
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let begin = try #require(source.range(of: "// README-EXAMPLE-BEGIN\n")), end = try #require(source.range(of: "// README-EXAMPLE-END"))
        let example = String(source[begin.upperBound..<end.lowerBound])
        let readmePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md").path
        let readme = try String(contentsOfFile: readmePath, encoding: .utf8)
        #expect(readme.contains(example), "README.md must contain the example of Tests/SubstrateTests/ReadmeExampleTests.swift verbatim")
        #expect(example.split(separator: "\n").count <= 22)
    }

    @Test("the example runs on latents written by numpy-style .npy files")
    func exampleRuns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("readme-example-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var g = RandomGenerator(seed: 3)
        let signal = try matmul(Tensor<Float>.normal([400, 4], using: &g), Tensor<Float>.normal([4, 32], using: &g))
        let z = try signal + Tensor<Float>.normal([400, 32], using: &g) * 0.05
        let later = try z + Tensor<Float>.normal([400, 32], using: &g) * 0.05
        try z.save(npy: dir.appendingPathComponent("a.npy").path)
        try later.save(npy: dir.appendingPathComponent("b.npy").path)
        for _ in 0..<2 {   // a README example must run twice (the second run replaces its own output)
            try studyLatents(dir.appendingPathComponent("a.npy").path, later: dir.appendingPathComponent("b.npy").path,
                             saveTo: dir.appendingPathComponent("projection.safetensors").path)
        }
        let saved = try Projection.load(dir.appendingPathComponent("projection.safetensors").path)
        #expect(saved.k == 9)
    }

    @Test("regime labels print from Swift as the CLI prints them")
    func regimeLabelsPrintAsInTheCLI() {
        #expect("\(Regime.r1)" == "R1" && "\(Regime.r3)" == "R3")
        #expect("\(AlignmentRegime.allCases.first!)" == AlignmentRegime.allCases.first!.rawValue)
        #expect("\(ScalingRegime.s2)" == "S2")
    }
}
