import Foundation
import Testing
import Linear
import TestSupport

// MARK: - Helpers (file-private so other test files can define their own)

/// data/golden/io, found from this file's location (Tests/LinearTests/NPYTests.swift).
fileprivate let npyGoldenDir = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("data/golden/io").path

fileprivate func npyGolden(_ name: String) -> String { npyGoldenDir + "/" + name }

fileprivate func withNPYTempDir<R>(_ body: (String) throws -> R) throws -> R { try withTemporaryDirectory("npy", body) }

fileprivate func expectNPYFileError(_ fragments: String..., path: String? = nil,
                                 sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Any) {
    expectFileError(fragments, path: path, sourceLocation: sourceLocation, body)
}

/// A deterministic array of the given type and shape with varied values (negative, fractional, large).
fileprivate func npySample(_ dtype: DType, _ shape: [Int]) throws -> NDArray {
    let n = shape.reduce(1, *)
    let values: NDValues
    switch dtype {
    case .float32: values = .float32((0..<n).map { Float($0) * 0.37 - 1.25 })
    case .float64: values = .float64((0..<n).map { Double($0) * 0.1 - 1e-3 })
    case .int32: values = .int32((0..<n).map { Int32($0 * 7919 - 40) })
    case .int64: values = .int64((0..<n).map { Int64($0) * 1_000_000_007 - (1 << 40) })
    case .bool: values = .bool((0..<n).map { $0 % 3 == 0 })
    }
    return try NDArray(shape: shape, values: values)
}

/// The bytes of an .npy file with the given header text (padded to 64-byte alignment) and payload.
fileprivate func npyFile(header: String, version: UInt8 = 1, payload: [UInt8] = [], pad: Bool = true) -> Data {
    var h = Array(header.utf8)
    let prefix = version == 1 ? 10 : 12
    if pad {
        while (prefix + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
    }
    var d = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0])
    if version == 1 {
        withUnsafeBytes(of: UInt16(h.count).littleEndian) { d.append(contentsOf: $0) }
    } else {
        withUnsafeBytes(of: UInt32(h.count).littleEndian) { d.append(contentsOf: $0) }
    }
    d.append(contentsOf: h)
    d.append(contentsOf: payload)
    return d
}

fileprivate func npyRaw<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

fileprivate let npyShapes: [[Int]] = [[], [0], [5], [3, 4], [2, 3, 4]]

// MARK: - Round trips

@Suite("NPY round trips")
struct NPYRoundTripTests {
    @Test("encode → decode preserves dtype, shape and values", arguments: DType.allCases, npyShapes)
    func inMemory(dtype: DType, shape: [Int]) throws {
        let a = try npySample(dtype, shape)
        let data = NPY.encode(a)
        let b = try NPY.decode(data)
        #expect(b == a)
        #expect(b.dtype == dtype)
        #expect(b.shape == shape)
        // Version 1.0, and the data starts on a 64-byte boundary.
        #expect(data[6] == 1 && data[7] == 0)
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(data.count == 10 + headerLength + a.count * dtype.itemSize)
    }

    @Test("write → read through a file", arguments: DType.allCases, npyShapes)
    func throughFile(dtype: DType, shape: [Int]) throws {
        try withNPYTempDir { dir in
            let path = dir + "/a.npy"
            let a = try npySample(dtype, shape)
            try NPY.write(a, to: path)
            #expect(try NPY.read(path) == a)
        }
    }

    @Test("Float and Double tensors through save(npy:) / load(npy:)")
    func tensors() throws {
        try withNPYTempDir { dir in
            let f = try Tensor<Float>((0..<12).map { Float($0) / 3 - 2 }, shape: [3, 4])
            let d = try Tensor<Double>((0..<24).map { Double($0) * 0.1 - 1 }, shape: [2, 3, 4])
            try f.save(npy: dir + "/f.npy")
            try d.save(npy: dir + "/d.npy")
            #expect(try Tensor<Float>.load(npy: dir + "/f.npy") == f)
            #expect(try Tensor<Double>.load(npy: dir + "/d.npy") == d)
            #expect(try NPY.read(dir + "/f.npy").dtype == .float32)
            #expect(try NPY.read(dir + "/d.npy").dtype == .float64)
            // Cross-precision loads convert.
            #expect(try Tensor<Double>.load(npy: dir + "/f.npy") == f.cast(to: Double.self))
            #expect(try Tensor<Float>.load(npy: dir + "/d.npy") == d.cast(to: Float.self))
            // Scalars and empty tensors.
            let s = Tensor<Double>(scalar: -7.5)
            try s.save(npy: dir + "/s.npy")
            let s2 = try Tensor<Double>.load(npy: dir + "/s.npy")
            #expect(s2.shape == [] && s2.scalar == -7.5)
            let e = try Tensor<Float>([], shape: [0, 5])
            try e.save(npy: dir + "/e.npy")
            #expect(try Tensor<Float>.load(npy: dir + "/e.npy").shape == [0, 5])
        }
    }

    @Test("special floating-point values keep their exact bits")
    func specialValues() throws {
        let f: [Float] = [.infinity, -.infinity, .nan, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .ulpOfOne]
        let d: [Double] = [.infinity, -.infinity, .nan, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e-300]
        let a = try NPY.decode(NPY.encode(try NDArray(shape: [7], values: .float32(f))))
        let b = try NPY.decode(NPY.encode(try NDArray(shape: [7], values: .float64(d))))
        guard case let .float32(f2) = a.values, case let .float64(d2) = b.values else {
            Issue.record("wrong dtypes \(a.dtype), \(b.dtype)")
            return
        }
        #expect(f2.map(\.bitPattern) == f.map(\.bitPattern))
        #expect(d2.map(\.bitPattern) == d.map(\.bitPattern))
        // Extreme integers.
        let i = try NDArray(shape: [4], values: .int64([.min, .max, -1, 0]))
        #expect(try NPY.decode(NPY.encode(i)) == i)
        let j = try NDArray(shape: [2], values: .int32([.min, .max]))
        #expect(try NPY.decode(NPY.encode(j)) == j)
    }

    @Test("writes are byte-identical to numpy.save for small arrays")
    func byteIdenticalToNumpy() throws {
        for name in ["f4_3x4.npy", "f8_2x3x4.npy", "i4_5.npy", "i8_2x2.npy", "bool_2x3.npy", "f8_scalar.npy", "f4_0x3.npy"] {
            let original = try Data(contentsOf: URL(fileURLWithPath: npyGolden(name)))
            let reencoded = NPY.encode(try NPY.decode(original, path: name))
            #expect(reencoded == original, "\(name)")
        }
    }

    @Test("a huge header is written as version 2.0")
    func version2ForHugeHeader() throws {
        // 30 000 axes of extent 1 make a header of more than 65535 bytes.
        let shape = [Int](repeating: 1, count: 30_000)
        let a = try NDArray(shape: shape, values: .float64([2.5]))
        let data = NPY.encode(a)
        #expect(data[6] == 2)
        let headerLength = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
        #expect(headerLength > 65535)
        #expect((12 + headerLength) % 64 == 0)
        #expect(try NPY.decode(data) == a)
    }
}

// MARK: - Files written by numpy

@Suite("NPY files written by numpy")
struct NPYGoldenTests {
    @Test func float32Matrix() throws {
        let a = try NPY.read(npyGolden("f4_3x4.npy"))
        #expect(a.dtype == .float32 && a.shape == [3, 4])
        #expect(a.values == .float32((0..<12).map { Float($0) / 4 - 1.5 }))
        let t = try Tensor<Float>.load(npy: npyGolden("f4_3x4.npy"))
        #expect(t[2, 3] == 11.0 / 4 - 1.5)
    }

    @Test func float64Rank3() throws {
        let a = try NPY.read(npyGolden("f8_2x3x4.npy"))
        #expect(a.dtype == .float64 && a.shape == [2, 3, 4])
        #expect(a.values == .float64((0..<24).map { Double($0) / 8 - 1 }))
    }

    @Test func integersAndBools() throws {
        let i4 = try NPY.read(npyGolden("i4_5.npy"))
        #expect(i4.dtype == .int32 && i4.shape == [5])
        #expect(try i4.integers() == [-3, -1, 0, 2, 2147483647])
        let i8 = try NPY.read(npyGolden("i8_2x2.npy"))
        #expect(i8.values == .int64([1 << 40, -(1 << 40), 0, 7]) && i8.shape == [2, 2])
        let b = try NPY.read(npyGolden("bool_2x3.npy"))
        #expect(b.values == .bool([true, false, true, true, false, false]) && b.shape == [2, 3])
        #expect(try b.integers() == [1, 0, 1, 1, 0, 0])
        // Integer and bool files load as tensors too.
        #expect(try Tensor<Double>.load(npy: npyGolden("i8_2x2.npy")).scalars == [0x1p40, -0x1p40, 0, 7])
        #expect(try Tensor<Float>.load(npy: npyGolden("bool_2x3.npy")).scalars == [1, 0, 1, 1, 0, 0])
    }

    @Test func scalarAndEmpty() throws {
        let s = try NPY.read(npyGolden("f8_scalar.npy"))
        #expect(s.shape == [] && s.values == .float64([3.25]))
        #expect(try Tensor<Double>.load(npy: npyGolden("f8_scalar.npy")).scalar == 3.25)
        let e = try NPY.read(npyGolden("f4_0x3.npy"))
        #expect(e.shape == [0, 3] && e.count == 0 && e.dtype == .float32)
    }

    @Test("Fortran-order arrays are reordered to C order")
    func fortranOrder() throws {
        let f = try NPY.read(npyGolden("f8_fortran_2x3x4.npy"))
        #expect(f.shape == [2, 3, 4])
        #expect(f.values == .float64((0..<24).map(Double.init)))
        let i = try NPY.read(npyGolden("i4_fortran_3x2.npy"))
        #expect(i.shape == [3, 2])
        #expect(i.values == .int32([0, 1, 2, 3, 4, 5]))
    }

    @Test("big-endian arrays are byte-swapped")
    func bigEndian() throws {
        let f = try NPY.read(npyGolden("f8_bigendian_2x3.npy"))
        #expect(f.shape == [2, 3] && f.values == .float64([-1, -0.5, 0, 0.5, 1, 1.5]))
        let i = try NPY.read(npyGolden("i4_bigendian_4.npy"))
        #expect(i.values == .int32([1, -2, 65536, -2147483648]))
    }

    @Test("format versions 2.0 and 3.0")
    func versions() throws {
        let v2 = try NPY.read(npyGolden("f4_v2_2x2.npy"))
        #expect(v2.shape == [2, 2] && v2.values == .float32([1, 2, 3, 4]))
        let v3 = try NPY.read(npyGolden("i8_v3_3.npy"))
        #expect(v3.shape == [3] && v3.values == .int64([5, 6, 7]))
    }

    @Test("float16 and narrow integers are widened exactly")
    func widened() throws {
        let h = try NPY.read(npyGolden("f2_9.npy"))
        #expect(h.dtype == .float32)
        #expect(h.values == .float32([0, 1, -2, 0.5, 65504, 0x1p-24, 0x1p-14, .infinity, -.infinity]))
        #expect(try NPY.read(npyGolden("u1_3.npy")).values == .int32([0, 200, 255]))
        #expect(try NPY.read(npyGolden("i2_2.npy")).values == .int32([-32768, 32767]))
    }

    @Test("complex arrays are refused with a clear error")
    func complexRefused() {
        expectNPYFileError("'<c16'", "not supported", path: npyGolden("c16_2.npy")) { try NPY.read(npyGolden("c16_2.npy")) }
    }
}

// MARK: - Header parsing

@Suite("NPY header parsing")
struct NPYHeaderTests {
    @Test("tolerates whitespace, quotes, key order, trailing commas and Python 2 longs", arguments: [
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
        "{\"shape\":(2,3),\"fortran_order\":False,\"descr\":\"<i4\"}",
        "{ 'descr' : '<i4' ,\n\t'fortran_order' : False ,\r\n 'shape' : ( 2 , 3 , ) , }",
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 3L)}",
        "{'descr': 'i4', 'fortran_order': False, 'shape': [2, 3]}",
    ])
    func tolerant(header: String) throws {
        let a = try NPY.decode(npyFile(header: header, payload: npyRaw([Int32](0..<6))))
        #expect(a.shape == [2, 3] && a.values == .int32([0, 1, 2, 3, 4, 5]))
    }

    @Test("an unpadded header without a newline is accepted")
    func unpadded() throws {
        let a = try NPY.decode(npyFile(header: "{'descr':'<f8','fortran_order':False,'shape':()}", payload: npyRaw([2.5]), pad: false))
        #expect(a.shape == [] && a.values == .float64([2.5]))
    }

    @Test("shape tuples: (), (3,), (0,)")
    func tuples() throws {
        let s = try NPY.decode(npyFile(header: "{'descr': '<f4', 'fortran_order': False, 'shape': ()}", payload: npyRaw([Float(1)])))
        #expect(s.shape == [])
        let v = try NPY.decode(npyFile(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", payload: npyRaw([Float](repeating: 1, count: 3))))
        #expect(v.shape == [3])
        let z = try NPY.decode(npyFile(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (0,)}"))
        #expect(z.shape == [0] && z.count == 0)
    }
}

// MARK: - Errors

@Suite("NPY errors")
struct NPYErrorTests {
    let f8Header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"

    @Test func missingFile() {
        expectNPYFileError("no such file", path: "/nonexistent/x.npy") { try NPY.read("/nonexistent/x.npy") }
    }

    @Test func badMagic() throws {
        expectNPYFileError("not an .npy file") { try NPY.decode(Data("PK\u{3}\u{4} this is a zip file".utf8)) }
        try withNPYTempDir { dir in
            let path = dir + "/text.npy"
            try Data("a,b,c\n1,2,3\n".utf8).write(to: URL(fileURLWithPath: path))
            expectNPYFileError("not an .npy file", path: path) { try NPY.read(path) }
        }
    }

    @Test func emptyAndTruncatedPreamble() {
        expectNPYFileError("truncated") { try NPY.decode(Data()) }
        expectNPYFileError("truncated") { try NPY.decode(Data([0x93, 0x4E, 0x55])) }
        expectNPYFileError("truncated") { try NPY.decode(Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 5])) }
        expectNPYFileError("truncated") { try NPY.decode(Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, 5, 0])) }
    }

    @Test func unsupportedVersion() {
        var d = npyFile(header: f8Header, payload: npyRaw([Double](repeating: 0, count: 6)))
        d[6] = 4
        expectNPYFileError("version 4.0") { try NPY.decode(d) }
    }

    @Test("header length beyond the end of the file")
    func headerBeyondEOF() {
        var d = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0xFF, 0xFF])
        d.append(contentsOf: Array("{'descr': '<f8'".utf8))
        expectNPYFileError("header claims 65535 bytes") { try NPY.decode(d) }
        var v2 = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, 0xFF, 0xFF, 0xFF, 0xFF])
        v2.append(contentsOf: Array("{}".utf8))
        expectNPYFileError("header claims 4294967295 bytes") { try NPY.decode(v2) }
    }

    @Test("truncated data and trailing garbage")
    func truncatedData() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: npyGolden("f8_2x3x4.npy")))
        expectNPYFileError("truncated", "needs 192 data bytes but only 187") { try NPY.decode(original.dropLast(5)) }
        // A slice that does not start at index 0 is decoded correctly too.
        let prefixed = Data([1, 2, 3]) + original
        #expect(try NPY.decode(prefixed.dropFirst(3)) == NPY.decode(original))
        expectNPYFileError("3 unexpected bytes") { try NPY.decode(original + Data([1, 2, 3])) }
        try withNPYTempDir { dir in
            let path = dir + "/cut.npy"
            try original.prefix(100).write(to: URL(fileURLWithPath: path))
            expectNPYFileError("truncated", path: path) { try NPY.read(path) }
        }
    }

    @Test("absurd shapes are refused quickly, before allocating")
    func hugeShapes() {
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            // 10^12 float64 elements = 8 TB claimed, 0 present.
            expectNPYFileError("needs 8000000000000 data bytes but only 0") {
                try NPY.decode(npyFile(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"))
            }
            // Element count overflows Int.
            expectNPYFileError("overflows") {
                try NPY.decode(npyFile(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }"))
            }
            // Element count fits but the byte count overflows.
            expectNPYFileError("needs more than") {
                try NPY.decode(npyFile(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (\(Int.max / 4),), }"))
            }
            // An extent that does not fit in 64 bits.
            expectNPYFileError("integer too large") {
                try NPY.decode(npyFile(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }"))
            }
        }
        #expect(elapsed < .seconds(1))
    }

    @Test("random corruptions of numpy's files either decode or throw TensorError.file, never crash")
    func fuzz() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let names = ["f4_3x4.npy", "f8_fortran_2x3x4.npy", "i4_bigendian_4.npy", "f4_v2_2x2.npy", "i8_v3_3.npy", "bool_2x3.npy", "f8_scalar.npy"]
        for name in names {
            let original = try Data(contentsOf: URL(fileURLWithPath: npyGolden(name)))
            for _ in 0..<300 {
                var d = original
                switch next(4) {
                case 0: d = d.prefix(next(d.count))                                   // truncate
                case 1: for _ in 0...next(4) { d[next(d.count)] = UInt8(next(256)) }  // random bytes anywhere
                case 2: d[8 + next(4)] = UInt8(next(256))                             // header length
                default: d[10 + next(min(d.count - 10, 70))] = UInt8(next(128))       // header text
                }
                do { _ = try NPY.decode(d, path: name) } catch TensorError.file(let p, _) { #expect(p == name) }
            }
        }
    }

    @Test func negativeExtent() {
        expectNPYFileError("negative extent") {
            try NPY.decode(npyFile(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 3), }"))
        }
    }

    @Test("unsupported dtypes", arguments: ["<c8", "<U5", "|S3", "|O", "<u8", "<M8[ns]", "<f16", ">x4", ""])
    func unsupportedDtype(descr: String) {
        expectNPYFileError("'\(descr)'", "not supported") {
            try NPY.decode(npyFile(header: "{'descr': '\(descr)', 'fortran_order': False, 'shape': (1,), }", payload: [0, 0, 0, 0, 0, 0, 0, 0]))
        }
    }

    @Test func structuredDtype() {
        expectNPYFileError("structured dtype") {
            try NPY.decode(npyFile(header: "{'descr': [('x', '<f4'), ('y', '<f4')], 'fortran_order': False, 'shape': (1,), }", payload: [0, 0, 0, 0, 0, 0, 0, 0]))
        }
    }

    @Test func nonUTF8Header() {
        var d = npyFile(header: f8Header, payload: npyRaw([Double](repeating: 0, count: 6)))
        d[14] = 0xFF
        d[15] = 0xFE
        expectNPYFileError("not valid UTF-8") { try NPY.decode(d) }
    }

    @Test("malformed header dicts", arguments: [
        ("not a dict at all", "malformed .npy header"),
        ("['descr', 'fortran_order', 'shape']", "not a Python dict"),
        ("{'descr': '<f8', 'fortran_order': False}", "no 'shape' key"),
        ("{'fortran_order': False, 'shape': (1,)}", "no 'descr' key"),
        ("{'descr': '<f8', 'shape': (1,)}", "no 'fortran_order' key"),
        ("{'descr': '<f8', 'fortran_order': 'no', 'shape': (1,)}", "'fortran_order' is not True or False"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': 3}", "'shape' is not a tuple"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (3)}", "'shape' is not a tuple"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (1.5,)}", "only integer"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': ('a',)}", "non-integer"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)", "unterminated dict"),
        ("{'descr': '<f8, 'fortran_order': False, 'shape': (1,)}", "malformed .npy header"),
        ("{'descr': '<f8' 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}'"),
        ("{'descr': '<f8', 'fortran_order': Falsey, 'shape': (1,)}", "unexpected 'F'"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} extra", "after the dict"),
        ("", "unexpected end of header"),
        (String(repeating: "(", count: 5000), "nesting deeper"),
    ])
    func malformed(header: String, fragment: String) {
        expectNPYFileError(fragment) {
            try NPY.decode(npyFile(header: header, payload: npyRaw([Double(0)])))
        }
    }

    @Test("writing refuses to overwrite unless asked, and rejects inconsistent arrays")
    func writeGuards() throws {
        try withNPYTempDir { dir in
            let path = dir + "/a.npy"
            let a = try npySample(.float64, [2, 2])
            try NPY.write(a, to: path)
            expectNPYFileError("already exists", path: path) { try NPY.write(a, to: path) }
            let b = try npySample(.int32, [4])
            try NPY.write(b, to: path, overwrite: true)
            #expect(try NPY.read(path) == b)
            // Tensor.save follows the same rule.
            let t = Tensor<Float>([1, 2, 3])
            expectNPYFileError("already exists", path: path) { try t.save(npy: path) }
            try t.save(npy: path, overwrite: true)
            #expect(try Tensor<Float>.load(npy: path) == t)

            var bad = a
            bad.shape = [3, 3]
            #expect(throws: TensorError.self) { try NPY.write(bad, to: dir + "/bad.npy") }
            #expect(!FileManager.default.fileExists(atPath: dir + "/bad.npy"))
            expectNPYFileError("does not exist") { try NPY.write(a, to: dir + "/no/such/dir/a.npy") }
        }
    }
}

// MARK: - NDArray

@Suite("NDArray (NPY)")
struct NPYNDArrayTests {
    @Test func initValidates() {
        #expect(throws: TensorError.self) { try NDArray(shape: [2, 3], values: .float32([1, 2, 3])) }
        #expect(throws: TensorError.self) { try NDArray(shape: [-1], values: .float32([])) }
        #expect(throws: TensorError.self) { try NDArray(shape: [Int.max, 4], values: .float32([])) }
        #expect(throws: Never.self) { try NDArray(shape: [0, Int.max, Int.max], values: .bool([])) }
    }

    @Test func fromTensors() throws {
        let f = try Tensor<Float>([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let a = NDArray(f)
        #expect(a.dtype == .float32 && a.shape == [2, 3] && a.values == .float32([1, 2, 3, 4, 5, 6]))
        let d = Tensor<Double>(scalar: 2)
        let b = NDArray(d)
        #expect(b.dtype == .float64 && b.shape == [] && b.count == 1)
        #expect(try a.tensor(Float.self) == f)
        #expect(try b.tensor(Double.self) == d)
    }

    @Test func conversions() throws {
        let i = try NDArray(shape: [2, 2], values: .int64([1, -2, 3, 1 << 40]))
        #expect(try i.tensor(Double.self).scalars == [1, -2, 3, 0x1p40])
        #expect(try i.tensor(Float.self).shape == [2, 2])
        let b = try NDArray(shape: [3], values: .bool([true, false, true]))
        #expect(try b.tensor(Double.self).scalars == [1, 0, 1])
        let f = try NDArray(shape: [2], values: .float64([0.1, 1e40]))
        let ft = try f.tensor(Float.self)
        #expect(ft.scalars[0] == Float(0.1) && ft.scalars[1] == .infinity)
    }

    @Test func integers() throws {
        #expect(try NDArray(shape: [3], values: .int32([4, -5, 6])).integers() == [4, -5, 6])
        #expect(try NDArray(shape: [2], values: .int64([.max, .min])).integers() == [.max, .min])
        #expect(try NDArray(shape: [2], values: .bool([false, true])).integers() == [0, 1])
        #expect(try NDArray(shape: [3], values: .float64([0, 3, -9])).integers() == [0, 3, -9])
        #expect(throws: TensorError.self) { try NDArray(shape: [2], values: .float32([1, 1.5])).integers() }
        #expect(throws: TensorError.self) { try NDArray(shape: [1], values: .float64([.nan])).integers() }
    }

    @Test func dtypeItemSizes() {
        #expect(DType.allCases.map(\.itemSize) == [4, 8, 4, 8, 1])
        #expect(DType(rawValue: "float32") == .float32)
    }
}
