import Foundation
import FuzzSupport
import Linear

// libFuzzer target: the .safetensors decoder. Every input must decode or throw; every decoded tensor must convert
// to a Tensor, and the file must re-encode to bytes that decode to the same names and shapes.

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> CInt {
    if let dir = ProcessInfo.processInfo.environment["FUZZ_MAKE_SEEDS"] {
        makeSeeds(dir)
        exit(0)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = (start.map { Data(bytes: $0, count: count) } ?? Data())
    guard let f = try? SafetensorsFile.decode(data) else { return 0 }
    for name in f.tensors.keys { _ = try? f.tensor(name, as: Float.self) }
    if let bytes = try? f.encode() {
        guard let again = try? SafetensorsFile.decode(bytes), again.tensors.mapValues(\.shape) == f.tensors.mapValues(\.shape) else {
            fatalError("re-encoding a decoded file changed it")
        }
    }
    return 0
}

func makeSeeds(_ dir: String) {
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    func put(_ name: String, _ f: SafetensorsFile) { try? f.encode().write(to: URL(fileURLWithPath: dir + "/" + name)) }
    put("two_tensors.safetensors", SafetensorsFile(tensors: [
        "w": try! NDArray(shape: [2, 2], values: .float32([1, 2, 3, 4])),
        "b": try! NDArray(shape: [2], values: .float64([0.5, -0.5])),
    ], metadata: ["format": "pt", "note": "seed"]))
    put("int_bool.safetensors", SafetensorsFile(tensors: [
        "labels": try! NDArray(shape: [3], values: .int64([0, 1, 2])),
        "mask": try! NDArray(shape: [1, 3], values: .bool([true, false, true])),
        "idx": try! NDArray(shape: [], values: .int32([9])),
    ]))
    put("empty.safetensors", SafetensorsFile())
    put("zero_size.safetensors", SafetensorsFile(tensors: ["e": try! NDArray(shape: [0, 4], values: .float32([]))]))
    // Hand-made: F16/BF16 entries and a gap between tensors.
    let json = #"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"g":{"dtype":"BF16","shape":[1],"data_offsets":[6,8]}}"#
    var header = Array(json.utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    var out = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header
    out += [0x00, 0x3C, 0x00, 0xC0, 0xFF, 0xFF, 0x80, 0x3F]
    try? Data(out).write(to: URL(fileURLWithPath: dir + "/f16_bf16_gap.safetensors"))
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's callback.
@_cdecl("FuzzSafetensors_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzSafetensors(UnsafeRawPointer(data), size) }
}
