import Foundation
import FuzzSupport
import Linear
import Neural

// A fixed workload over Tensor storage, the file formats and autodiff, run once per libFuzzer input (the input
// bytes are ignored) so LeakSanitizer sees many repetitions; scripts/leakcheck.sh runs it with -runs=N and
// detect_leaks=1. Any allocation not freed at exit and not reachable from a global is reported as a leak.

let dir = "/dev/shm/substrate-leakcheck-\(getpid())"

@_cdecl("LLVMFuzzerTestOneInput")
public func leakCheckOnce(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    do { try workload() } catch { fatalError("leak-check workload failed: \(error)") }
    return 0
}

func workload() throws {
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // Tensor storage: copies, copy-on-write, views, products, decompositions.
    var g = RandomGenerator(seed: 1)
    let a = Tensor<Double>.normal([64, 16], using: &g)
    var b = a
    b[0, 0] = 1
    let c = try matmul(a, b, transposeA: true)
    _ = try c.eigh()
    _ = try a.svd()
    _ = try (a.reshaped([16, 64]).transposed() + 1).exp().sum(axis: 0)
    let f: Tensor<Float> = a.cast()
    _ = try f.qr()
    // IO: .npy, .safetensors, CSV, streaming reader and writer.
    try a.save(npy: dir + "/a.npy", overwrite: true)
    _ = try Tensor<Double>.load(npy: dir + "/a.npy")
    try SafetensorsFile(tensors: ["a": NDArray(a), "f": NDArray(f)], metadata: ["k": "v"]).write(to: dir + "/a.safetensors", overwrite: true)
    _ = try SafetensorsFile.read(dir + "/a.safetensors").tensor("f", as: Float.self)
    try CSV.write(a, to: dir + "/a.csv", overwrite: true)
    _ = try CSV.read(dir + "/a.csv")
    let w = try NPYWriter(dir + "/s.npy", shape: [64, 16], overwrite: true)
    try w.append(a.slice(0..<32)); try w.append(a.slice(32..<64)); try w.finish()
    let r = try NPYReader(dir + "/s.npy")
    _ = try r.rows(10..<20, as: Float.self)
    _ = try? NPY.decode(Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 4, 0, 0x7B, 0x7D, 0x20, 0x0A]))   // a refused file
    // Autodiff: forward, backward, gradients of gradients, an optimiser step, a checkpoint round trip.
    let model = MLP<Float>(sizes: [16, 8, 1], using: &g)
    let opt = Adam(parameters: model.parameters, learningRate: 1e-3)
    let x = Variable(f, requiresGrad: true)
    let loss = try model(x).square().mean()
    let gx = try gradient(of: loss, wrt: x, createGraph: true)
    try (loss + gx.square().sum()).backward()
    try opt.step()
    try model.save(to: dir + "/m.safetensors", overwrite: true)
    try model.load(from: dir + "/m.safetensors")
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's callback.
@_cdecl("LeakCheck_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in leakCheckOnce(UnsafeRawPointer(data), size) }
}
