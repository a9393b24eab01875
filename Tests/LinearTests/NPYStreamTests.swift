import Foundation
import Linear
import Testing

/// Row-block reading and writing of large `.npy` files.
@Suite struct NPYStreamTests {
    @Test func writerInChunksMatchesWholeFileAndReaderSlicesMatchRows() throws {
        let dir = try makeTemporaryDirectory("NPYStream")
        let path = dir.appendingPathComponent("big.npy").path
        let x = Tensor<Double>.normal([1003, 7], seed: 5)
        let w = try NPYWriter(path, shape: [1003, 7])
        for start in stride(from: 0, to: 1003, by: 100) {
            try w.append(x.slice(start..<Swift.min(start + 100, 1003)))
        }
        try w.finish()
        let whole = try Tensor<Double>.load(npy: path)
        #expect(whole == x)
        // Byte-identical to the one-shot writer.
        let other = dir.appendingPathComponent("whole.npy").path
        try x.save(npy: other)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: other)))
        let r = try NPYReader(path)
        #expect(r.rowCount == 1003 && r.rowElements == 7)
        let part: Tensor<Double> = try r.rows(500..<612)
        #expect(part == (try x.slice(500..<612)))
        let asFloat: Tensor<Float> = try r.rows(0..<3)
        #expect(asFloat.shape == [3, 7])
        #expect(throws: TensorError.self) { let _: Tensor<Double> = try r.rows(1000..<1004) }
    }

    @Test func unfinishedWriterLeavesNothingAndExistingFilesAreKept() throws {
        let dir = try makeTemporaryDirectory("NPYStream")
        let path = dir.appendingPathComponent("partial.npy").path
        do {
            let w = try NPYWriter(path, shape: [10, 2])
            try w.append(Tensor<Double>.zeros([4, 2]))
            #expect(throws: TensorError.self) { try w.finish() }   // 4 of 10 rows
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "temporary files left behind")
        try Tensor<Double>.ones([2, 2]).save(npy: path)
        #expect(throws: TensorError.self) { _ = try NPYWriter(path, shape: [2, 2]) }
        let w = try NPYWriter(path, shape: [1, 2], overwrite: true)
        try w.append(Tensor<Double>.zeros([1, 2]))
        try w.finish()
        #expect(try Tensor<Double>.load(npy: path).shape == [1, 2])
    }

    @Test func readerRefusesFortranOrderAndTruncatedFiles() throws {
        #expect(throws: TensorError.self) { _ = try NPYReader(dataURL("golden/io/f8_fortran_2x3x4.npy").path) }
        let dir = try makeTemporaryDirectory("NPYStream")
        let path = dir.appendingPathComponent("t.npy").path
        try Tensor<Double>.ones([50, 4]).save(npy: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir.appendingPathComponent("cut.npy").path
        try data.prefix(data.count - 9).write(to: URL(fileURLWithPath: cut))
        #expect(throws: TensorError.self) { _ = try NPYReader(cut) }
        // Big-endian data streams correctly.
        let be = try NPYReader(dataURL("golden/io/f8_bigendian_2x3.npy").path)
        let rows: Tensor<Double> = try be.rows(0..<2)
        #expect(rows == (try NPY.read(dataURL("golden/io/f8_bigendian_2x3.npy").path).tensor(Double.self)))
    }
}
