// Neural's typed errors: a bad setting names its field; saved state that does not fit the model is a
// ModelStateError (a file loader turns it into a ModelFileError naming the file).

import Foundation
import Linear
import Neural
import Testing

@Suite("Neural typed errors")
struct NeuralErrorTypeTests {
    /// The field of the `ConfigurationError` that `body` throws; a description of anything else.
    static func field(_ body: () throws -> Void) -> String {
        do { try body(); return "nothing thrown" }
        catch let e as ConfigurationError { return e.field }
        catch { return "\(type(of: error)): \(error)" }
    }

    @Test("groupNorm's groups and an Embedding index out of range name their fields")
    func configurationFields() throws {
        let x = Variable(Tensor<Double>.zeros([2, 6, 3]))
        #expect(Self.field { _ = try x.groupNorm(groups: 4) } == "Variable.groupNorm(groups:)")
        #expect(Self.field { _ = try x.groupNorm(groups: 3) } == "nothing thrown")
        var g = RandomGenerator(seed: 1)
        let e = Embedding<Double>(count: 5, dimension: 2, using: &g)
        #expect(Self.field { _ = try e([0, 5]) } == "Embedding.callAsFunction(_:)")
        #expect(Self.field { _ = try e([0, 4]) } == "nothing thrown")
    }

    @Test("parameters or Adam moments that do not fit the model are a ModelStateError; from a file, a ModelFileError naming it")
    func stateThatDoesNotFit() throws {
        var g = RandomGenerator(seed: 2)
        let a = Dense<Double>(3, 2, using: &g)
        var state = a.stateDict()
        state.removeValue(forKey: state.keys.sorted()[0])
        #expect(throws: ModelStateError.self) { try a.loadStateDict(state) }
        let adam = Adam(parameters: a.parameters, learningRate: 1e-3)
        #expect(throws: ModelStateError.self) {
            try adam.load(state: Adam<Double>.State(firstMoments: [], secondMoments: [], parameterSteps: [], stepCount: 0))
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("neural-errors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("wide.safetensors").path
        try Dense<Double>(4, 2, using: &g).save(to: path)
        do {
            try a.load(from: path)
            Issue.record("a [2, 4] weight was loaded into a [2, 3] layer")
        } catch let e as ModelFileError {
            #expect(e.path == path && e.reason.contains("shape mismatch"), "\(e)")
        }
    }
}
