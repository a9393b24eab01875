import Foundation
import Linear
import Testing
import TestSupport

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

    @Test func readerStreamsFortranOrderFromMemoryAndByColumnSpans() throws {
        // numpy's own Fortran-order file (2×3×4): every row block, read whole and by spans of one column.
        let golden = dataURL("golden/io/f8_fortran_2x3x4.npy").path
        let whole = try NPY.read(golden).tensor(Double.self)
        for (cache, span) in [(NPYReader.fortranCacheBytes, NPYReader.fortranSpanBytes), (0, 1), (0, 24)] {
            let r = try NPYReader(golden)
            r.fortranCacheLimit = cache; r.fortranSpanLimit = span
            #expect(r.fortranOrder && r.shape == [2, 3, 4])
            for range in [0..<2, 0..<1, 1..<2] {
                let rows: Tensor<Double> = try r.rows(range)
                #expect(rows == (try whole.slice(range)), "rows \(range), cache \(cache), span \(span)")
            }
        }
        // A column-major n×d float32 file written here: blocks of rows equal the C-order matrix.
        let (n, d) = (37, 5)
        let x = Tensor<Double>.normal([n, d], seed: 9).cast(to: Float.self)
        var dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (\(n), \(d)), }"
        dict += String(repeating: " ", count: (64 - (10 + dict.utf8.count + 1) % 64) % 64) + "\n"
        var bytes = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(dict.utf8.count & 0xFF), UInt8(dict.utf8.count >> 8)])
        bytes.append(contentsOf: Array(dict.utf8))
        let values = x.scalars
        for j in 0..<d { for i in 0..<n { withUnsafeBytes(of: values[i * d + j].bitPattern.littleEndian) { bytes.append(contentsOf: $0) } } }
        let dir = try makeTemporaryDirectory("NPYStream")
        let path = dir.appendingPathComponent("fortran.npy").path
        try bytes.write(to: URL(fileURLWithPath: path))
        for (cache, span) in [(NPYReader.fortranCacheBytes, NPYReader.fortranSpanBytes), (0, 4 * n), (0, 4 * n * 2 + 3), (0, 1 << 20)] {
            let r = try NPYReader(path)
            r.fortranCacheLimit = cache; r.fortranSpanLimit = span
            var start = 0
            while start < n {
                let end = Swift.min(n, start + 8)
                let rows: Tensor<Float> = try r.rows(start..<end)
                #expect(rows == (try x.slice(start..<end)), "rows \(start)..<\(end), cache \(cache), span \(span)")
                start = end
            }
        }
    }

    @Test func readersRefuseDirectoriesAndFIFOsBeforeOpening() throws {
        let dir = try makeTemporaryDirectory("NPYStream")
        let sub = dir.appendingPathComponent("d.npy").path
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        let fifo = dir.appendingPathComponent("p.npy").path
        #expect(mkfifo(fifo, 0o644) == 0)
        for (path, kind) in [(sub, "a directory"), (fifo, "a FIFO")] {
            for read in [{ _ = try NPYReader(path) }, { _ = try AtomicFile.read(path) }] as [() throws -> Void] {
                do { try read(); Issue.record("\(path) was read") } catch let TensorError.file(p, message) {
                    #expect(p == path && message.contains(kind) && message.contains("not a regular file"), "\(message)")
                }
            }
        }
        #expect(FileKind.reason(ENOSPC).contains("disk full"))
    }

    @Test func readerRefusesTruncatedFiles() throws {
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
