import Foundation
import Linear
import Testing
import TestSupport

// Replays the fuzzing corpus (fuzz/corpus/<target>/) and every saved crash (fuzz/regressions/) through the readers,
// runs a deterministic in-process mutation fuzz over the same seeds, and checks the hostile headers the fuzzer
// taught us about. Every input must give a valid result or a thrown `TensorError`; a crash, trap or hang fails the
// whole test run. scripts/fuzz.sh does the coverage-guided (libFuzzer) part and adds new regression files here.

/// `<root>/fuzz/<sub>`: every regular file below it (recursively), sorted, without dot files.
private func fuzzFiles(_ sub: String) -> [URL] {
    let dir = repoRoot().appendingPathComponent("fuzz").appendingPathComponent(sub)
    guard let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
    var out: [URL] = []
    for case let url as URL in e where !url.lastPathComponent.hasPrefix(".") {
        if (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true { out.append(url) }
    }
    return out.sorted { $0.path < $1.path }
}

/// Feeds `data` to every reader; returns how many accepted it. Anything but success or `TensorError` is recorded
/// as a test failure (a crash ends the process, which fails the run too).
@discardableResult
private func feedAllReaders(_ data: Data, name: String, scratch: URL) -> Int {
    var accepted = 0
    func run(_ reader: String, _ body: () throws -> Void) {
        do { try body(); accepted += 1 } catch is TensorError {
        } catch { Issue.record("\(reader) threw a non-TensorError \(type(of: error)) for \(name): \(error)") }
    }
    run("NPY.decode") {
        let a = try NPY.decode(data, path: name)
        try a.validate()
        _ = try a.tensor(Double.self)
        #expect(try NPY.decode(NPY.encode(a)) .shape == a.shape)
    }
    run("SafetensorsFile.decode") {
        let f = try SafetensorsFile.decode(data, path: name)
        for k in f.tensors.keys { _ = try f.tensor(k, as: Float.self) }
    }
    if let text = String(data: data, encoding: .utf8) {
        run("CSV.parse") {
            let t = try CSV.parse(text, path: name)
            #expect(t.data.count == t.data.shape.reduce(1, *))
        }
        run("CSV.parse(labelColumn: -1)") { _ = try CSV.parse(text, path: name, labelColumn: -1) }
    }
    // The streaming reader parses headers on its own: give it the same bytes as a file.
    run("NPYReader") {
        try data.write(to: scratch)
        let r = try NPYReader(scratch.path)
        if r.rowCount > 0 { _ = try r.rows(0..<min(r.rowCount, 3), as: Double.self) }
    }
    return accepted
}

@Suite struct FuzzRegressionTests {
    @Test("every committed corpus file and saved crash decodes or throws TensorError")
    func replayCorpusAndRegressions() throws {
        let dir = try makeTemporaryDirectory("FuzzReplay")
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = fuzzFiles("corpus"), regressions = fuzzFiles("regressions")
        #expect(corpus.count >= 10, "fuzz/corpus is missing (run scripts/fuzz.sh to seed it)")
        var acceptedSeeds = 0, seeds = 0
        for url in corpus + regressions {
            let accepted = feedAllReaders(try Data(contentsOf: url), name: url.lastPathComponent, scratch: dir.appendingPathComponent("in.npy"))
            // The hand-made seeds (named with an extension; libFuzzer's additions are bare hashes) are valid files.
            if url.path.contains("/corpus/") && !url.pathExtension.isEmpty { seeds += 1; if accepted > 0 { acceptedSeeds += 1 } }
        }
        #expect(seeds >= 10 && acceptedSeeds == seeds, "\(acceptedSeeds) of \(seeds) seed files accepted")
    }

    @Test("deterministic mutations of the seed files (truncation, byte flips, splices, length fields) never crash")
    func mutationFuzz() throws {
        let dir = try makeTemporaryDirectory("FuzzMutate")
        defer { try? FileManager.default.removeItem(at: dir) }
        // The hand-made seeds (named with an extension; libFuzzer's additions are bare hashes), 200 mutants each.
        let seeds = try fuzzFiles("corpus").filter { !$0.pathExtension.isEmpty }.map { try Data(contentsOf: $0) }.filter { !$0.isEmpty }
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return bound <= 1 ? 0 : Int(state % UInt64(bound))
        }
        let start = ContinuousClock.now
        var runs = 0
        for (i, seed) in seeds.enumerated() {
            for _ in 0..<200 {
                var d = seed
                for _ in 0...next(3) {
                    guard !d.isEmpty else { break }
                    switch next(7) {
                    case 0: d = d.prefix(next(d.count))                                           // truncate
                    case 1: d[next(d.count)] = UInt8(truncatingIfNeeded: next(256))              // random byte
                    case 2: d[next(d.count)] ^= UInt8(1 << next(8))                               // bit flip
                    case 3: d.insert(contentsOf: seeds[next(seeds.count)].prefix(next(64)), at: next(d.count))  // splice
                    case 4: d[next(min(d.count, 12))] = [0x00, 0xFF, 0x7F, 0x80][next(4)]         // length fields
                    case 5:                                                                         // digits → huge
                        if let j = d.firstIndex(where: { $0 >= 0x30 && $0 <= 0x39 }) { d.replaceSubrange(j...j, with: Data("9999999999".utf8)) }
                    default: d.append(contentsOf: d.prefix(next(32)))                             // trailing junk
                    }
                }
                feedAllReaders(d, name: "mutant-\(i)", scratch: dir.appendingPathComponent("m.npy"))
                runs += 1
            }
        }
        #expect(seeds.count >= 10 && runs == seeds.count * 200)
        #expect(ContinuousClock.now - start < .seconds(180), "mutation fuzz took too long: a reader may be slow on bad input")
    }

    /// The .npy bytes of `header` (version 1.0, padded) followed by `body`.
    static func npy(_ header: String, body: [UInt8] = []) -> Data {
        var h = Array(header.utf8)
        while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
        return Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + body)
    }

    /// A .safetensors file with this JSON header and data buffer.
    static func safetensors(_ json: String, body: [UInt8] = []) -> Data {
        let h = Array(json.utf8)
        return Data(withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h + body)
    }

    @Test("a header claiming 10¹² elements is refused before anything is allocated")
    func hugeClaimsRefusedCheaply() throws {
        let dir = try makeTemporaryDirectory("FuzzHuge")
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = residentBytes()
        let start = ContinuousClock.now
        let npy = Self.npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }", body: [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(throws: TensorError.self) { try NPY.decode(npy) }
        try npy.write(to: dir.appendingPathComponent("huge.npy"))
        #expect(throws: TensorError.self) { try NPYReader(dir.appendingPathComponent("huge.npy").path) }
        let st = Self.safetensors(#"{"x":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,8]}}"#, body: [UInt8](repeating: 0, count: 8))
        #expect(throws: TensorError.self) { try SafetensorsFile.decode(st) }
        // A header length of 2⁶³ and an offset pair far past the buffer.
        var bad = Data(withUnsafeBytes(of: UInt64(1) << 63, Array.init)); bad.append(contentsOf: [0x7B, 0x7D])
        #expect(throws: TensorError.self) { try SafetensorsFile.decode(bad) }
        let far = Self.safetensors(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775800,9223372036854775804]}}"#)
        #expect(throws: TensorError.self) { try SafetensorsFile.decode(far) }
        #expect(ContinuousClock.now - start < .seconds(1))
        #expect(residentBytes() - before < 64 << 20, "refusing a huge claim allocated memory")
    }

    @Test("empty arrays whose other extents overflow decode, but never become a trapping Tensor")
    func zeroExtentOverflow() throws {
        let dir = try makeTemporaryDirectory("FuzzZero")
        defer { try? FileManager.default.removeItem(at: dir) }
        // 2⁴⁰ · 2⁴⁰ · 0 = 0 elements (a valid empty NDArray), but Tensor, strides and row sizes would multiply 2⁸⁰
        // on the way: the conversion and the streaming reader refuse it instead of trapping.
        for shape in ["(1099511627776, 1099511627776, 0)", "(0, 1099511627776, 1099511627776)"] {
            let d = Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }")
            let a = try NPY.decode(d)
            #expect(a.count == 0)
            #expect(throws: TensorError.self) { try a.tensor(Float.self) }
            try d.write(to: dir.appendingPathComponent("z.npy"))
            #expect(throws: TensorError.self) { try Tensor<Double>.load(npy: dir.appendingPathComponent("z.npy").path) }
            #expect(throws: TensorError.self) { try NPYReader(dir.appendingPathComponent("z.npy").path) }
        }
        let st = try SafetensorsFile.decode(Self.safetensors(#"{"x":{"dtype":"F32","shape":[1099511627776,1099511627776,0],"data_offsets":[0,0]}}"#))
        #expect(throws: TensorError.self) { try st.tensor("x", as: Double.self) }
        // Plain zero-size arrays still become empty tensors.
        #expect(try NPY.decode(Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 0, 5), }")).tensor(Float.self).shape == [3, 0, 5])
        #expect(try NPY.decode(Self.npy("{'descr': '<f8', 'fortran_order': True, 'shape': (0, 4), }")).shape == [0, 4])
    }

    @Test("deeply nested headers are refused, not a stack overflow")
    func deepNesting() throws {
        let depth = 100_000
        let nestedJSON = "{\"x\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        #expect(throws: TensorError.self) { try SafetensorsFile.decode(Self.safetensors(nestedJSON)) }
        let nestedPy = "{'descr': '<f8', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 5000) + String(repeating: ")", count: 5000) + "}"
        #expect(throws: TensorError.self) { try NPY.decode(Self.npy(nestedPy)) }
    }

    @Test("CSV edge cases: huge exponents, NUL bytes, very long lines, lone separators")
    func csvEdges() throws {
        #expect(try CSV.parse("1e400,2\n3,4").data.scalars.first == .infinity)
        #expect(throws: TensorError.self) { try CSV.parse("1,2\0\n3,4") }
        let wide = (0..<20_000).map { String($0) }.joined(separator: ",")
        #expect(try CSV.parse(wide + "\n" + wide).data.shape == [2, 20_000])
        #expect(throws: TensorError.self) { try CSV.parse(",\n,") }
        #expect(throws: TensorError.self) { try CSV.parse("") }
        #expect(throws: TensorError.self) { try CSV.parse("a,b\n", hasHeader: true) }
        #expect(throws: TensorError.self) { try CSV.parse("1,2\n1e18,3", labelColumn: 0) }
    }
}

/// Resident set size of this process in bytes (Linux /proc/self/statm; 0 elsewhere).
func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = s.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
