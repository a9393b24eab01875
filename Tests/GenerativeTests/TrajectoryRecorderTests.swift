// The trajectory recorder: which states it keeps, the T×n×D tensor, the .npy file.

import Foundation
@testable import Generative
import Linear
import Testing
import TestSupport

@Suite("Trajectory recorder")
struct TrajectoryRecorderTests {
    @Test("keeps step 0, every k-th step and the last step; T×n×D with the first rows only")
    func keeps() throws {
        let r = try TrajectoryRecorder<Float>(every: 4, rows: 3)
        for step in 0...10 {
            try r.record(step: step, time: 1 - Double(step) / 10, state: Tensor<Float>.full([5, 2, 2], Float(step)))
        }
        let t = try r.tensor()
        #expect(r.steps == [0, 4, 8, 10])
        #expect(r.times == [1, 0.6, 0.19999999999999996, 0])
        #expect(t.shape == [4, 3, 4])
        #expect(t[0, 0, 0] == 0 && t[1, 2, 3] == 4 && t[3, 0, 0] == 10)
        // finish() is idempotent; a last step that is a multiple of k is not duplicated.
        r.finish()
        #expect(r.count == 4)
        let exact = try TrajectoryRecorder<Double>(every: 5)
        for step in 0...10 { try exact.record(step: step, state: Tensor<Double>.full([2, 3], Double(step))) }
        #expect(try exact.tensor().shape == [3, 2, 3])
        #expect(exact.steps == [0, 5, 10])
    }

    @Test("records a solver's path through its observer, and writes a .npy that reads back (atomic, no clobbering)")
    func solverAndFile() throws {
        let recorder = try TrajectoryRecorder<Float>(every: 3)
        let noise = SeededNoise(seed: 2)
        let x0: Tensor<Float> = noise.prior([16, 8])
        let sol = try ODESolver.solve({ _, x in x * -1 }, initial: x0, from: 0, to: 1, steps: 10, method: .euler, observe: recorder.observer)
        let path = try recorder.tensor()
        #expect(path.shape == [5, 16, 8])          // steps 0, 3, 6, 9, 10
        #expect(recorder.steps == [0, 3, 6, 9, 10])
        #expect(try path.slice(0..<1).reshaped([16, 8]) == x0)
        #expect(try path.slice(4..<5).reshaped([16, 8]) == sol.state)
        let dir = try makeTemporaryDirectory("GenerativeTests")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("trajectory.npy").path
        try recorder.write(npy: file)
        let back = try Tensor<Float>.load(npy: file)
        #expect(back == path)
        let reader = try NPYReader(file)
        #expect(reader.shape == [5, 16, 8] && reader.storesSinglePrecision)
        #expect(throws: TensorError.self) { try recorder.write(npy: file) }
        try recorder.write(npy: file, overwrite: true)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(leftovers == ["trajectory.npy"])
    }

    @Test("rejects steps that go backwards, changing shapes, empty records and bad settings")
    func errors() throws {
        let r = try TrajectoryRecorder<Double>(every: 2)
        #expect(throws: TensorError.self) { try r.tensor() }
        try r.record(step: 0, state: Tensor<Double>.zeros([2, 3]))
        #expect(throws: ConfigurationError.self) { try r.record(step: 0, state: Tensor<Double>.zeros([2, 3])) }
        #expect(throws: TensorError.self) { try r.record(step: 1, state: Tensor<Double>.zeros([2, 4])) }
        #expect(throws: TensorError.self) { try r.record(step: 2, state: Tensor<Double>(scalar: 1)) }
        #expect(throws: ConfigurationError.self) { try TrajectoryRecorder<Double>(every: 0) }
        #expect(throws: ConfigurationError.self) { try TrajectoryRecorder<Double>(rows: 0) }
    }
}
