// Typed errors above Linear: a bad setting is a `ConfigurationError` naming its field, and no source file of
// Generative, Neural, Substrate or VSTCore throws the untyped `TensorError.invalidArgument`.

import Foundation
import Generative
import Linear
import Neural
import Testing

@Suite("Typed errors: configuration fields, and no string errors above Linear")
struct ErrorTypeTests {
    /// The field of the `ConfigurationError` that `body` throws; a description of anything else.
    static func field(_ body: () throws -> Void) -> String {
        do { try body(); return "nothing thrown" }
        catch let e as ConfigurationError { return e.field }
        catch { return "\(type(of: error)): \(error)" }
    }

    @Test("an unknown schedule name, a zero denoiser width and a zero sampler step count name their fields")
    func configurationFields() throws {
        #expect(Self.field { _ = try BetaSchedule(parsing: "quadratic") } == "BetaSchedule.name")
        #expect(Self.field { _ = try MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: 2, hidden: 0), seed: 0) } == "MLPDenoiserConfiguration.hidden")
        #expect(Self.field { _ = try MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: 2, timeFrequencies: 1), seed: 0) } == "MLPDenoiserConfiguration.timeFrequencies")
        let linear = try DiffusionSchedule(.linear(), timesteps: 50)
        #expect(Self.field { _ = try DDIMSchedule(linear, steps: 0) } == "DDIMSchedule.steps")
        #expect(Self.field { _ = try DDIMSchedule(linear, steps: 51) } == "DDIMSchedule.steps")
        #expect(Self.field { _ = try DDIMSchedule(linear, steps: 5, offset: -1) } == "DDIMSchedule.offset")
        #expect(Self.field { _ = try SamplerName(parsing: "langevin") } == "SamplerName.name")
        #expect(Self.field { _ = try DataSource(parsing: "cifar10") } == "DataSource.name")
        // The message is `field: reason`, the reason worded as before.
        do {
            _ = try BetaSchedule(parsing: "quadratic")
            Issue.record("'quadratic' was accepted")
        } catch let e as ConfigurationError {
            #expect(e.description == "BetaSchedule.name: unknown beta schedule 'quadratic': expected linear, cosine or scaled-linear")
        }
        // Valid settings still pass.
        #expect(Self.field { _ = try DDIMSchedule(linear, steps: 50) } == "nothing thrown")
    }

    @Test("sampling a model with a sampler its family does not have names the sampler")
    func samplerField() throws {
        let net = try MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: 2, hidden: 8, blocks: 0), seed: 0)
        let model = try DenoisingModel<Float>(family: DDPM<Float>(denoiser: net, configuration: DDPMConfiguration(timesteps: 10)),
                                              denoiser: .mlp(net.configuration), training: TrainingConfiguration())
        #expect(Self.field { _ = try model.draw(3, sampler: .euler, steps: 2, seed: 1, options: SamplingOptions(), recorder: nil, progress: nil) } == "sampler")
        #expect(Self.field { _ = try model.draw(3, sampler: .ddim, steps: 0, seed: 1, options: SamplingOptions(), recorder: nil, progress: nil) } == "steps")
        #expect(Self.field { _ = try model.draw(3, sampler: .ddim, steps: 2, seed: 1, options: SamplingOptions(), recorder: nil, progress: nil) } == "nothing thrown")
    }

    @Test("no file of Generative, Neural, Substrate or VSTCore throws TensorError.invalidArgument")
    func noUntypedArgumentErrorsAboveLinear() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let needle = "TensorError" + ".invalidArgument("
        var scanned = 0
        var found: [String: Int] = [:]
        for module in ["Generative", "Neural", "Substrate", "VSTCore"] {
            let dir = "Sources/" + module
            let files = try #require(FileManager.default.subpaths(atPath: root.appendingPathComponent(dir).path), "cannot list \(dir)")
            for file in files.sorted() where file.hasSuffix(".swift") {
                let text = try String(contentsOf: root.appendingPathComponent(dir).appendingPathComponent(file), encoding: .utf8)
                scanned += 1
                let count = text.components(separatedBy: needle).count - 1
                if count > 0 { found[dir + "/" + file] = count }
            }
        }
        #expect(scanned > 100, "only \(scanned) Swift files found under Sources: the scan did not find the sources")
        for (file, count) in found.sorted(by: { $0.key < $1.key }) {
            Issue.record("\(file) throws TensorError.invalidArgument \(count) time(s): throw ConfigurationError(field:reason:), TensorError.invalidShape/.shapeMismatch, ModelStateError or ModelFileError instead")
        }
    }
}
