import Foundation
import FuzzSupport
import Linear

// libFuzzer target: the .npy decoder (whole-file) and the streaming reader (NPYReader) on the same bytes.
// Every input must decode or throw; a decoded array must convert to a tensor and re-encode to bytes that decode
// to the same array.

let scratch = "/dev/shm/substrate-fuzz-npy-\(getpid()).npy"

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> CInt {
    if let dir = ProcessInfo.processInfo.environment["FUZZ_MAKE_SEEDS"] {
        makeSeeds(dir)
        exit(0)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = (start.map { Data(bytes: $0, count: count) } ?? Data())
    if let a = try? NPY.decode(data) {
        _ = try? a.tensor(Double.self)
        _ = try? a.tensor(Float.self)
        let again = try? NPY.decode(NPY.encode(a))
        if again?.shape != a.shape || again?.dtype != a.dtype { fatalError("re-encoding changed shape or dtype") }
    }
    // The streaming reader parses the header itself: give it the same bytes as a file.
    if FileManager.default.createFile(atPath: scratch, contents: data), let r = try? NPYReader(scratch) {
        if r.rowCount > 0 { _ = try? r.rows(0..<Swift.min(r.rowCount, 4), as: Double.self) }
    }
    return 0
}

func makeSeeds(_ dir: String) {
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    func put(_ name: String, _ a: NDArray) { try? NPY.encode(a).write(to: URL(fileURLWithPath: dir + "/" + name)) }
    put("f8_2x3.npy", try! NDArray(shape: [2, 3], values: .float64([0, 1, 2, 3, 4, 5])))
    put("f4_3.npy", try! NDArray(shape: [3], values: .float32([1.5, -2, .infinity])))
    put("i8_scalar.npy", try! NDArray(shape: [], values: .int64([7])))
    put("i4_2x0.npy", try! NDArray(shape: [2, 0], values: .int32([])))
    put("b1_2x2.npy", try! NDArray(shape: [2, 2], values: .bool([true, false, false, true])))
    // Hand-made variants: Fortran order, big-endian, version 2.0, float16.
    func raw(_ name: String, version: UInt8, _ dict: String, _ body: [UInt8]) {
        var h = Array(dict.utf8)
        let prefix = version == 1 ? 10 : 12
        while (prefix + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
        if version == 1 { out += [UInt8(h.count & 0xFF), UInt8(h.count >> 8)] }
        else { out += [UInt8(h.count & 0xFF), UInt8((h.count >> 8) & 0xFF), 0, 0] }
        try? Data(out + h + body).write(to: URL(fileURLWithPath: dir + "/" + name))
    }
    raw("fortran_2x2.npy", version: 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
        [Float(1), 3, 2, 4].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    raw("bigendian_2.npy", version: 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }",
        [1.0, -1.0].flatMap { withUnsafeBytes(of: $0.bitPattern.bigEndian, Array.init) })
    raw("v2_u2_3.npy", version: 2, "{'descr': '<u2', 'fortran_order': False, 'shape': (3,), }", [1, 0, 2, 0, 255, 255])
    raw("f2_2.npy", version: 3, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", [0x00, 0x3C, 0x00, 0xC0])
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's callback.
@_cdecl("FuzzNPY_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzNPY(UnsafeRawPointer(data), size) }
}
