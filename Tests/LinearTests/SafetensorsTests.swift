import Foundation
import Testing
import Linear
import TestSupport

// MARK: - Helpers (file-private so other test files can define their own)

/// data/golden/io, found from this file's location (Tests/LinearTests/SafetensorsTests.swift).
fileprivate let stGoldenDir = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("data/golden/io").path

fileprivate func stGolden(_ name: String) -> String { stGoldenDir + "/" + name }

fileprivate func withSTTempDir<R>(_ body: (String) throws -> R) throws -> R { try withTemporaryDirectory("safetensors", body) }

fileprivate func expectSTFileError(_ fragments: String..., path: String? = nil,
                                   sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Any) {
    expectFileError(fragments, path: path, sourceLocation: sourceLocation, body)
}

/// A deterministic array of the given type and shape with varied values.
fileprivate func stSample(_ dtype: DType, _ shape: [Int], seed: Int = 0) throws -> NDArray {
    let n = shape.reduce(1, *)
    let values: NDValues
    switch dtype {
    case .float32: values = .float32((0..<n).map { Float($0 + seed) * -0.71 + 3.5 })
    case .float64: values = .float64((0..<n).map { Double($0 + seed) / 3 - 2 })
    case .int32: values = .int32((0..<n).map { Int32(($0 + seed) * 104_729 - 17) })
    case .int64: values = .int64((0..<n).map { Int64($0 + seed) * -9_876_543_210 + 5 })
    case .bool: values = .bool((0..<n).map { ($0 + seed) % 2 == 1 })
    }
    return try NDArray(shape: shape, values: values)
}

/// The bytes of a .safetensors file with the given JSON header text and data buffer.
fileprivate func stFile(header: String, buffer: [UInt8] = []) -> Data {
    var d = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
    d.append(contentsOf: Array(header.utf8))
    d.append(contentsOf: buffer)
    return d
}

fileprivate func stRaw<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

fileprivate let stShapes: [[Int]] = [[], [0], [5], [3, 4], [2, 3, 4]]

// MARK: - Round trips

@Suite("Safetensors round trips")
struct SafetensorsRoundTripTests {
    @Test("encode → decode preserves dtype, shape and values", arguments: DType.allCases, stShapes)
    func single(dtype: DType, shape: [Int]) throws {
        let a = try stSample(dtype, shape)
        let file = SafetensorsFile(tensors: ["x": a])
        let data = try file.encode()
        let back = try SafetensorsFile.decode(data)
        #expect(back == file)
        #expect(back.tensors["x"]?.dtype == dtype)
        #expect(back.tensors["x"]?.shape == shape)
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
        #expect(data.count == 8 + headerLength + a.count * dtype.itemSize)
    }

    @Test("many tensors and metadata through a file")
    func manyThroughFile() throws {
        try withSTTempDir { dir in
            var tensors: [String: NDArray] = [:]
            for (i, dtype) in DType.allCases.enumerated() {
                for (j, shape) in stShapes.enumerated() {
                    tensors["\(dtype.rawValue)/\(j)"] = try stSample(dtype, shape, seed: i * 10 + j)
                }
            }
            tensors["name with \"quotes\", \\ backslash, tab\t and ünïcödé"] = try stSample(.float32, [2])
            let metadata = ["format": "pt", "quote\"key": "line\nbreak", "empty": ""]
            let file = SafetensorsFile(tensors: tensors, metadata: metadata)
            let path = dir + "/m.safetensors"
            try file.write(to: path)
            let back = try SafetensorsFile.read(path)
            #expect(back.tensors.count == tensors.count)
            #expect(back == file)
            // Deterministic output.
            #expect(try back.encode() == file.encode())
        }
    }

    @Test("layout: sorted names, contiguous data, header padded with spaces to 8 bytes")
    func layout() throws {
        let file = SafetensorsFile(tensors: [
            "zeta": try stSample(.int64, [3]),
            "alpha": try stSample(.float32, [2, 2]),
            "mid": try stSample(.bool, [5]),
        ], metadata: ["k": "v"])
        let data = try file.encode()
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(n % 8 == 0)
        let headerBytes = data.subdata(in: 8 ..< 8 + n)
        let text = try #require(String(data: headerBytes, encoding: .utf8))
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        #expect(text.hasPrefix("{") && trimmed.hasSuffix("}"))
        #expect(text.dropFirst(trimmed.count).allSatisfy { $0 == " " })
        let json = try #require(try JSONSerialization.jsonObject(with: headerBytes) as? [String: Any])
        func offsets(_ name: String) -> [Int] { ((json[name] as? [String: Any])?["data_offsets"] as? [Int]) ?? [] }
        #expect(offsets("alpha") == [0, 16])
        #expect(offsets("mid") == [16, 21])
        #expect(offsets("zeta") == [21, 45])
        #expect((json["__metadata__"] as? [String: String]) == ["k": "v"])
        #expect(data.count == 8 + n + 45)
    }

    @Test("Float and Double tensors")
    func tensors() throws {
        let f = try Tensor<Float>((0..<12).map { Float($0) / 7 }, shape: [3, 4])
        let d = try Tensor<Double>((0..<24).map { Double($0) * 1e-5 }, shape: [2, 3, 4])
        let file = SafetensorsFile(tensors: ["f": NDArray(f), "d": NDArray(d)])
        let back = try SafetensorsFile.decode(try file.encode())
        #expect(try back.tensor("f", as: Float.self) == f)
        #expect(try back.tensor("d", as: Double.self) == d)
        #expect(try back.tensor("f", as: Double.self) == f.cast(to: Double.self))
        #expect(back.tensors["f"]?.dtype == .float32 && back.tensors["d"]?.dtype == .float64)
        #expect(throws: TensorError.self) { try back.tensor("missing", as: Float.self) }
    }

    @Test("an empty file (no tensors, no metadata)")
    func empty() throws {
        let data = try SafetensorsFile().encode()
        #expect(data.count == 16)
        #expect(try SafetensorsFile.decode(data) == SafetensorsFile())
    }

    @Test("special floating-point values keep their exact bits")
    func specialValues() throws {
        let f: [Float] = [.infinity, -.infinity, .nan, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let d: [Double] = [.infinity, -.infinity, .nan, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let file = SafetensorsFile(tensors: ["f": try NDArray(shape: [6], values: .float32(f)),
                                             "d": try NDArray(shape: [6], values: .float64(d))])
        let back = try SafetensorsFile.decode(try file.encode())
        guard case let .float32(f2)? = back.tensors["f"]?.values, case let .float64(d2)? = back.tensors["d"]?.values else {
            Issue.record("wrong dtypes")
            return
        }
        #expect(f2.map(\.bitPattern) == f.map(\.bitPattern))
        #expect(d2.map(\.bitPattern) == d.map(\.bitPattern))
    }

    @Test("writing refuses to overwrite unless asked, and rejects invalid content")
    func writeGuards() throws {
        try withSTTempDir { dir in
            let path = dir + "/a.safetensors"
            let a = SafetensorsFile(tensors: ["a": try stSample(.float32, [2])])
            try a.write(to: path)
            expectSTFileError("already exists", path: path) { try a.write(to: path) }
            let b = SafetensorsFile(tensors: ["b": try stSample(.int64, [3])], metadata: ["m": "1"])
            try b.write(to: path, overwrite: true)
            #expect(try SafetensorsFile.read(path) == b)

            var bad = try stSample(.float64, [2, 2])
            bad.shape = [5]
            #expect(throws: TensorError.self) { try SafetensorsFile(tensors: ["bad": bad]).encode() }
            #expect(throws: TensorError.self) { try SafetensorsFile(tensors: ["__metadata__": try stSample(.bool, [1])]).encode() }
            #expect(throws: TensorError.self) { try SafetensorsFile(tensors: ["bad": bad]).write(to: dir + "/bad.safetensors") }
            #expect(!FileManager.default.fileExists(atPath: dir + "/bad.safetensors"))
        }
    }
}

// MARK: - Files written by Python

@Suite("Safetensors files written by Python")
struct SafetensorsGoldenTests {
    @Test("mixed dtypes, data not in name order, metadata")
    func mixed() throws {
        let f = try SafetensorsFile.read(stGolden("mixed.safetensors"))
        #expect(f.metadata == ["format": "pt", "note": "written by make_io_fixtures.py"])
        #expect(Set(f.tensors.keys) == ["weight", "bias", "labels", "counts", "mask", "step", "empty"])
        #expect(f.tensors["weight"] == (try NDArray(shape: [2, 2], values: .float32([0.5, -1, 2, 4]))))
        #expect(f.tensors["bias"] == (try NDArray(shape: [3], values: .float64([0.25, -0.125, 1e-300]))))
        #expect(f.tensors["labels"] == (try NDArray(shape: [4], values: .int64([0, 1, -1, 1 << 40]))))
        #expect(f.tensors["counts"] == (try NDArray(shape: [2, 1], values: .int32([7, -8]))))
        #expect(f.tensors["mask"] == (try NDArray(shape: [3], values: .bool([true, false, true]))))
        #expect(f.tensors["step"] == (try NDArray(shape: [], values: .int64([42]))))
        #expect(f.tensors["empty"] == (try NDArray(shape: [0, 4], values: .float32([]))))
        #expect(try f.tensors["labels"]?.integers() == [0, 1, -1, 1 << 40])
        #expect(try f.tensor("weight", as: Double.self).scalars == [0.5, -1, 2, 4])
        // Re-encoding (sorted, contiguous) reads back identically.
        #expect(try SafetensorsFile.decode(try f.encode()) == f)
    }

    @Test("F16 and BF16 are widened to float32")
    func half() throws {
        let f = try SafetensorsFile.read(stGolden("half.safetensors"))
        #expect(f.tensors["h"] == (try NDArray(shape: [4], values: .float32([1, -2, 0.5, 65504]))))
        #expect(f.tensors["b"] == (try NDArray(shape: [2, 2], values: .float32([1, -2, 0.5, 3]))))
    }
}

// MARK: - Errors

@Suite("Safetensors errors")
struct SafetensorsErrorTests {
    let f32x2 = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"

    @Test func valid() throws {
        #expect(try SafetensorsFile.decode(stFile(header: f32x2, buffer: stRaw([Float(1), 2]))).tensors["a"]?.values == .float32([1, 2]))
    }

    @Test func missingFile() {
        expectSTFileError("no such file", path: "/nonexistent/x.safetensors") { try SafetensorsFile.read("/nonexistent/x.safetensors") }
    }

    @Test("empty and truncated files")
    func truncated() throws {
        expectSTFileError("truncated") { try SafetensorsFile.decode(Data()) }
        expectSTFileError("truncated") { try SafetensorsFile.decode(Data([1, 0, 0, 0, 0, 0, 0])) }
        let whole = stFile(header: f32x2, buffer: stRaw([Float(1), 2]))
        expectSTFileError("outside the 5-byte data buffer") { try SafetensorsFile.decode(whole.dropLast(3)) }
        expectSTFileError("header length") { try SafetensorsFile.decode(whole.prefix(20)) }
        try withSTTempDir { dir in
            let path = dir + "/cut.safetensors"
            let original = try Data(contentsOf: URL(fileURLWithPath: stGolden("mixed.safetensors")))
            try original.dropLast(10).write(to: URL(fileURLWithPath: path))
            expectSTFileError("outside", path: path) { try SafetensorsFile.read(path) }
        }
    }

    @Test("header length beyond the end of the file")
    func headerBeyondEOF() {
        var d = Data()
        withUnsafeBytes(of: UInt64(1000).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array("{}".utf8))
        expectSTFileError("header length is 1000 bytes but only 2 follow") { try SafetensorsFile.decode(d) }
        var huge = Data(repeating: 0xFF, count: 8)
        huge.append(contentsOf: Array("{}".utf8))
        expectSTFileError("header length is 18446744073709551615") { try SafetensorsFile.decode(huge) }
        // An .npy file is not a .safetensors file.
        expectSTFileError("header length") {
            try SafetensorsFile.decode(try Data(contentsOf: URL(fileURLWithPath: stGolden("f4_3x4.npy"))))
        }
    }

    @Test func nonUTF8Header() {
        var d = stFile(header: f32x2, buffer: stRaw([Float(1), 2]))
        d[10] = 0xC3
        d[11] = 0x28
        expectSTFileError("not valid UTF-8") { try SafetensorsFile.decode(d) }
    }

    @Test("garbage JSON", arguments: ["", "{", "not json", "{\"a\": }", "{\"a\":{\"dtype\":\"F32\",}", String(repeating: "[", count: 10000)])
    func badJSON(header: String) {
        expectSTFileError("not valid JSON") { try SafetensorsFile.decode(stFile(header: header)) }
    }

    @Test("malformed entries", arguments: [
        ("[1, 2, 3]", "not a JSON object"),
        ("{\"a\": 5}", "tensor 'a': entry is not a JSON object"),
        ("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "missing or non-string 'dtype'"),
        ("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", "missing or non-array 'shape'"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", "not an integer"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", "not an integer"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "negative extent"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", "'data_offsets' is not a pair"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", "'data_offsets' is not a pair"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", "'data_offsets' is not a pair"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", "outside"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", "outside the 8-byte data buffer"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999]}}", "'data_offsets' is not a pair"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "needs 12 bytes but data_offsets [0, 8] span 8"),
        ("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", "needs 16 bytes"),
        ("{\"a\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", "dtype 'C64' is not supported"),
        ("{\"a\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[0,8]}}", "dtype 'U64' is not supported"),
        ("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]}}", "not supported"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         "tensors 'a' and 'b' overlap"),
        ("{\"__metadata__\":{\"n\":1}}", "metadata value for key 'n' is not a string"),
        ("{\"__metadata__\":[\"a\"]}", "'__metadata__' is not a JSON object"),
    ])
    func malformed(header: String, fragment: String) {
        expectSTFileError(fragment) { try SafetensorsFile.decode(stFile(header: header, buffer: stRaw([Float(1), 2]))) }
    }

    @Test("absurd shapes are refused quickly, before allocating")
    func hugeShapes() {
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            // 10^12 float64 elements claimed in an 8-byte buffer.
            expectSTFileError("needs 8000000000000 bytes") {
                try SafetensorsFile.decode(stFile(header: "{\"a\":{\"dtype\":\"F64\",\"shape\":[1000000,1000000],\"data_offsets\":[0,8]}}",
                                                  buffer: stRaw([1.0])))
            }
            expectSTFileError("overflows") {
                try SafetensorsFile.decode(stFile(header: "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}",
                                                  buffer: stRaw([1.0])))
            }
            expectSTFileError("needs more than") {
                try SafetensorsFile.decode(stFile(header: "{\"a\":{\"dtype\":\"F64\",\"shape\":[\(Int.max / 4)],\"data_offsets\":[0,8]}}",
                                                  buffer: stRaw([1.0])))
            }
        }
        #expect(elapsed < .seconds(1))
    }

    @Test("random corruptions either decode or throw TensorError.file, never crash")
    func fuzz() throws {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let digits = Array("0123456789".utf8)
        for name in ["mixed.safetensors", "half.safetensors"] {
            let original = try Data(contentsOf: URL(fileURLWithPath: stGolden(name)))
            for _ in 0..<500 {
                var d = original
                switch next(4) {
                case 0: d = d.prefix(next(d.count))                                   // truncate
                case 1: for _ in 0...next(4) { d[next(d.count)] = UInt8(next(256)) }  // random bytes anywhere
                case 2: d[next(8)] = UInt8(next(256))                                 // header length
                default:                                                              // digits in the header
                    let positions = d.indices.filter { $0 >= 8 && digits.contains(d[$0]) }
                    for _ in 0...next(3) { d[positions[next(positions.count)]] = digits[next(10)] }
                }
                do { _ = try SafetensorsFile.decode(d, path: name) } catch TensorError.file(let p, _) { #expect(p == name) }
            }
        }
    }

    @Test("a zero extent makes an empty tensor even when other extents are huge")
    func zeroExtent() throws {
        let f = try SafetensorsFile.decode(stFile(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[0,4294967296,4294967296],\"data_offsets\":[0,0]}}"))
        #expect(f.tensors["a"]?.count == 0)
    }

    @Test("gaps between tensors and unknown entry fields are tolerated")
    func tolerated() throws {
        let header = "{\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8],\"extra\":true}}   "
        let f = try SafetensorsFile.decode(stFile(header: header, buffer: stRaw([Int32(-1), 9])))
        #expect(f.tensors["b"]?.values == .int32([9]))
    }
}
