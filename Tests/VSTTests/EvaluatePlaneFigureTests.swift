import Foundation
import Linear
import Testing
import TestSupport

/// `vst evaluate --reference <toy> --report DIR` draws the samples on the toy's own 2-D plane beside held-out points
/// (plane.svg), the figure `make quality` links for every family; other references get no such figure.
@Suite(.serialized) struct EvaluatePlaneFigureTests {
    typealias CLI = CommandLineTests

    @Test("a toy reference's report has plane.svg with both groups; a digits reference has none")
    func planeFigure() throws {
        let dir = try EvaluateReferenceTests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        var g = RandomGenerator(seed: 11)
        try Tensor<Double>.normal([300, 64], using: &g).save(npy: dir.appendingPathComponent("blob64.npy").path)
        let toy = try CLI.run(["evaluate", "blob64.npy", "--reference", "moons", "--dim", "64", "--count", "500", "--report", "toy", "--quiet"], in: dir)
        #expect(toy.code == 0, "\(toy.err)")
        let svg = try String(contentsOf: dir.appendingPathComponent("toy/plane.svg"), encoding: .utf8)
        #expect(svg.contains("held-out data") && svg.contains("model samples"))
        // 500 real rows and 300 samples, one circle each (the legend draws no circles).
        #expect(svg.components(separatedBy: "<circle class=\"point\"").count - 1 == 800)
        let html = try String(contentsOf: dir.appendingPathComponent("toy/index.html"), encoding: .utf8)
        #expect(html.contains("plane.svg"))

        let digits = try CLI.run(["evaluate", "digits400.npy", "--reference", "digits", "--report", "digits", "--quiet"], in: dir)
        #expect(digits.code == 0, "\(digits.err)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("digits/plane.svg").path))
    }
}
