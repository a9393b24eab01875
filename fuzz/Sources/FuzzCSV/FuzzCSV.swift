import Foundation
import FuzzSupport
import Linear

// libFuzzer target: the CSV parser, with header detection and with a label column (first and last). Every input
// must parse or throw.

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> CInt {
    if let dir = ProcessInfo.processInfo.environment["FUZZ_MAKE_SEEDS"] {
        makeSeeds(dir)
        exit(0)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    // CSV.read accepts UTF-8 text only; parse is what it calls.
    guard let text = String(data: (start.map { Data(bytes: $0, count: count) } ?? Data()), encoding: .utf8) else { return 0 }
    if let t = try? CSV.parse(text) {
        if t.data.count != t.data.shape.reduce(1, *) { fatalError("shape and count disagree") }
    }
    _ = try? CSV.parse(text, labelColumn: -1)
    _ = try? CSV.parse(text, labelColumn: 0, hasHeader: true)
    _ = try? CSV.parse(text, hasHeader: false)
    return 0
}

func makeSeeds(_ dir: String) {
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let seeds = [
        "plain.csv": "1,2,3\n4,5,6\n",
        "header_labels.csv": "# digits\nx,y,label\n0.5,1e-3,1\n-2,inf,0\r\n\n3,4,2\n",
        "spaces_nan.csv": " 1 , nan \n2,-0\n",
        "single.csv": "42",
    ]
    for (name, text) in seeds { try? Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/" + name)) }
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's callback.
@_cdecl("FuzzCSV_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzCSV(UnsafeRawPointer(data), size) }
}
