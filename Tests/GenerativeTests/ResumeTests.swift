// Exact resumption (AdamW moments, EMA, the family's training state in the checkpoint) and divergence handling
// (a non-finite loss stops the run naming the step; the last good checkpoint stays on disk).

import Foundation
import Linear
import Neural
import Testing
import Generative
import TestSupport

/// Flow matching whose loss becomes NaN at one step (to test divergence handling).
final class ExplodingFamily: TrainableFamily {
    typealias Scalar = Float
    let inner: FlowMatching<Float>
    let explodeAt: Int
    var current = 0
    init(_ inner: FlowMatching<Float>, explodeAt: Int) { self.inner = inner; self.explodeAt = explodeAt }
    var denoiser: any Denoiser<Float> { inner.denoiser }
    var familyName: FamilyName { .flowMatching }
    var configurationMetadata: [String: String] { inner.configurationMetadata }
    func willTrain(step k: Int, of totalSteps: Int) throws { current = k }
    func loss(x0: Tensor<Float>, labels: [Int]?, using g: inout RandomGenerator) throws -> Variable<Float> {
        let l = try inner.loss(x0: x0, labels: labels, using: &g)
        return current == explodeAt ? l * Float.nan : l
    }
}

@Suite("Exact resume and divergence", .serialized)
struct ResumeTests {
    static let data: Tensor<Float> = {
        let x: Tensor<Float> = try! Toy2D.moons.sample(1024, seed: 1)
        return try! AffineScaling.standardizing(x).apply(x)
    }()
    static let dc = MLPDenoiserConfiguration(dimension: 2, hidden: 32, blocks: 1, timeFrequencies: 16)

    /// Everything a trainer holds: raw weights, EMA, AdamW's moments and counts.
    static func snapshot(_ t: Trainer<Float>) -> [Tensor<Float>] {
        let o = t.optimizer.state
        return t.family.denoiser.parameters.map(\.value) + t.emaWeights + o.firstMoments + o.secondMoments
    }

    @Test("2 000 steps straight equal 1 000 steps, a checkpoint, and 1 000 resumed steps, bit for bit (flow matching)")
    func flowMatchingResume() throws {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        var c = TrainingConfiguration(steps: 2000, batchSize: 64, learningRate: 3e-3, seed: 4)
        c.weightDecay = 0.01
        let straight = try Trainer(family: FlowMatching(denoiser: MLPDenoiser<Float>(Self.dc, seed: 1)), scaling: .identity, configuration: c)
        try straight.train(Self.data)

        var ci = c
        ci.checkpointPath = dir.appendingPathComponent("half.safetensors").path
        let first = try Trainer(family: FlowMatching(denoiser: MLPDenoiser<Float>(Self.dc, seed: 1)), scaling: .identity, configuration: ci)
        try first.train(Self.data, until: 1000)
        #expect(first.step == 1000)
        let file = try GenerativeModelFile<Float>.load(ci.checkpointPath!)
        #expect(file.step == 1000 && file.hasOptimizerState && file.denoising?.optimizer.stepCount == 1000)

        // A fresh process: a network with other initial weights, resumed from the file.
        let resumed = try Trainer(family: FlowMatching(denoiser: MLPDenoiser<Float>(Self.dc, seed: 99)), scaling: .identity, configuration: c)
        try resumed.resume(from: ci.checkpointPath!)
        try resumed.train(Self.data)
        #expect(resumed.step == 2000 && resumed.optimizer.stepCount == 2000 && resumed.emaUpdates == 2000)
        let a = Self.snapshot(straight), b = Self.snapshot(resumed)
        var differing = 0
        for (x, y) in zip(a, b) where x != y { differing += 1 }
        print("resume (flow matching, 2000 = 1000 + 1000 steps): \(differing) of \(a.count) tensors differ")
        #expect(a.count == b.count && differing == 0)

        // Without the moments (an old checkpoint), the resumed run is not the same: the test has teeth.
        var stripped = try SafetensorsFile.read(ci.checkpointPath!)
        stripped.tensors = stripped.tensors.filter { !$0.key.hasPrefix("optimizer.") }
        stripped.metadata = stripped.metadata.filter { !$0.key.hasPrefix("optimizer.") }
        let oldPath = dir.appendingPathComponent("old.safetensors").path
        try stripped.write(to: oldPath)
        let old = try Trainer(family: FlowMatching(denoiser: MLPDenoiser<Float>(Self.dc, seed: 99)), scaling: .identity, configuration: c)
        try old.resume(from: oldPath)
        try old.train(Self.data, until: 1010)
        let partial = try Trainer(family: FlowMatching(denoiser: MLPDenoiser<Float>(Self.dc, seed: 99)), scaling: .identity, configuration: c)
        try partial.resume(from: ci.checkpointPath!)
        try partial.train(Self.data, until: 1010)
        #expect(zip(old.family.denoiser.parameters, partial.family.denoiser.parameters).contains { $0.value != $1.value })
    }

    @Test("a consistency-training run resumes exactly too (target network and N(k) curriculum)")
    func consistencyResume() throws {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        let schedule = try ConsistencySchedule(sigmaData: 1)
        func model(_ seed: UInt64) throws -> ConsistencyModel<Float> {
            try ConsistencyModel(denoiser: MLPDenoiser<Float>(Self.dc, seed: seed), configuration: ConsistencyConfiguration(schedule: schedule, finalSteps: 40))
        }
        let c = TrainingConfiguration(steps: 400, batchSize: 64, learningRate: 2e-3, seed: 6)
        let straight = try Trainer(family: model(1), scaling: .identity, configuration: c)
        try straight.train(Self.data)
        var ci = c
        ci.checkpointPath = dir.appendingPathComponent("ct.safetensors").path
        let first = try Trainer(family: model(1), scaling: .identity, configuration: ci)
        try first.train(Self.data, until: 200)
        let resumedModel = try model(50)
        let resumed = try Trainer(family: resumedModel, scaling: .identity, configuration: c)
        try resumed.resume(from: ci.checkpointPath!)
        try resumed.train(Self.data)
        let a = Self.snapshot(straight) + (straight.family as! ConsistencyModel<Float>).targetWeights
        let b = Self.snapshot(resumed) + resumedModel.targetWeights
        #expect(a.count == b.count && zip(a, b).allSatisfy { $0 == $1 })
    }

    @Test("a NaN loss stops training with an error naming the step; the last good checkpoint is kept")
    func divergence() throws {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        let path = dir.appendingPathComponent("run.safetensors").path
        var c = TrainingConfiguration(steps: 100, batchSize: 32, seed: 2)
        c.checkpointPath = path
        c.checkpointEvery = 10
        let family = ExplodingFamily(try FlowMatching(denoiser: MLPDenoiser<Float>(Self.dc, seed: 1)), explodeAt: 25)
        let t = try Trainer(family: family, scaling: .identity, configuration: c)
        var message = ""
        do {
            try t.train(Self.data)
            Issue.record("training with a NaN loss did not throw")
        } catch let TrainingError.diverged(step, of, reason) {
            #expect(step == 26 && of == 100, "step \(step) of \(of)")
            message = "\(TrainingError.diverged(step: step, of: of, reason: reason))"
        } catch {
            Issue.record("expected TrainingError.diverged, got \(type(of: error)): \(error)")
        }
        print("divergence error: \(message)")
        #expect(message.contains("step 26 of 100") && message.lowercased().contains("nan") && message.contains("kept"))
        #expect(t.step == 25)
        // The weights in memory are those after step 25 (finite), and the file holds step 20, finite.
        #expect(t.family.denoiser.parameters.allSatisfy { $0.value.scalars.allSatisfy(\.isFinite) })
        let file = try GenerativeModelFile<Float>.load(path)
        #expect(file.step == 20)
        let model = try #require(file.denoising)
        #expect(model.family.denoiser.parameters.allSatisfy { $0.value.scalars.allSatisfy(\.isFinite) })
        #expect(model.emaWeights.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
    }

    @Test("a model file that does not fit its configuration throws ModelFileError naming the file and the key or tensor")
    func modelFileErrors() throws {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        let good = dir.appendingPathComponent("good.safetensors").path
        var c = TrainingConfiguration(steps: 3, batchSize: 16, seed: 2)
        c.checkpointPath = good
        try Trainer(family: FlowMatching(denoiser: MLPDenoiser<Float>(Self.dc, seed: 1)), scaling: .identity, configuration: c).train(Self.data)
        let file = try SafetensorsFile.read(good)

        /// Writes `good` with `edit` applied and returns the error loading it.
        func loadError(_ name: String, _ edit: (inout [String: NDArray], inout [String: String]) -> Void) throws -> ModelFileError? {
            var tensors = file.tensors, metadata = file.metadata
            edit(&tensors, &metadata)
            let path = dir.appendingPathComponent(name).path
            try SafetensorsFile(tensors: tensors, metadata: metadata).write(to: path)
            do { _ = try GenerativeModelFile<Float>.load(path); return nil } catch let e as ModelFileError {
                #expect(e.path == path && "\(e)".hasPrefix(path + ": "), "\(e)")
                return e
            }
        }
        let noConfiguration = try #require(try loadError("a.safetensors") { _, m in m["configuration"] = nil })
        #expect(noConfiguration.reason == "metadata 'configuration' is missing")
        let foreign = try #require(try loadError("b.safetensors") { _, m in m["format"] = "someone-else/3" })
        #expect(foreign.reason.contains("not a Substrate generative model file") && foreign.reason.contains("someone-else/3"))
        let moment = try #require(file.tensors.keys.sorted().first { $0.hasPrefix("optimizer.") && $0.contains(".m.") })
        let noMoment = try #require(try loadError("c.safetensors") { t, _ in t[moment] = nil })
        #expect(noMoment.reason.contains("optimiser moment") && noMoment.reason.contains("is missing"), "\(noMoment)")
        let weight = try #require(file.tensors.keys.sorted().first { !$0.hasPrefix("optimizer.") && !$0.hasPrefix("buffer.") })
        let badShape = try #require(try loadError("d.safetensors") { t, _ in t[weight] = NDArray(Tensor<Float>.zeros([1, 1])) })
        #expect(badShape.reason.contains(weight), "\(badShape)")
        let badStep = try #require(try loadError("e.safetensors") { _, m in m["step"] = "1e300" })
        #expect(badStep.reason.contains("'step' must be a whole number"), "\(badStep)")
    }
}
