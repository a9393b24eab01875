import Foundation
import FuzzSupport
import Generative
import Linear
import Neural

// libFuzzer target: the model-checkpoint loaders on arbitrary bytes given as a file: a generative model file
// (`GenerativeModelFile.load`, raw and EMA weights) and a Neural module's `load(from:)` into a fixed small MLP.
// Every input must load or throw.

let scratch = "/dev/shm/substrate-fuzz-checkpoint-\(getpid()).safetensors"
nonisolated(unsafe) var rng = RandomGenerator(seed: 0)
nonisolated(unsafe) let mlp = MLP<Float>(sizes: [2, 4, 2], using: &rng)

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> CInt {
    if let dir = ProcessInfo.processInfo.environment["FUZZ_MAKE_SEEDS"] {
        makeSeeds(dir)
        exit(0)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard FileManager.default.createFile(atPath: scratch, contents: (start.map { Data(bytes: $0, count: count) } ?? Data())) else { return 0 }
    _ = try? GenerativeModelFile<Float>.load(scratch)
    _ = try? GenerativeModelFile<Float>.load(scratch, useEMA: true)
    _ = try? mlp.load(from: scratch)
    return 0
}

/// The Neural seed; scripts/fuzz.sh adds generative model files made by `vst train` (one per family), so this
/// target depends only on the loader's API, not on the writer's.
func makeSeeds(_ dir: String) {
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try? mlp.save(to: dir + "/mlp_2_4_2.safetensors", metadata: ["sizes": "2,4,2"], overwrite: true)
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's callback.
@_cdecl("FuzzCheckpoint_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzCheckpoint(UnsafeRawPointer(data), size) }
}
