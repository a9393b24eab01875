import Foundation
import Testing
import Linear
import TestSupport

// MARK: - Helpers (file-private so other test files can define their own)

fileprivate func withCSVTempDir<R>(_ body: (String) throws -> R) throws -> R { try withTemporaryDirectory("csv", body) }

fileprivate func expectCSVFileError(_ fragments: String..., path: String? = nil,
                                 sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Any) {
    expectFileError(fragments, path: path, sourceLocation: sourceLocation, body)
}

fileprivate func csvWrite(_ text: String, _ path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

// MARK: - Parsing

@Suite("CSV parsing")
struct CSVParseTests {
    @Test("a header line is detected when it does not parse as numbers")
    func headerDetected() throws {
        let t = try CSV.parse("x,y,z\n1,2,3\n4,5,6\n")
        #expect(t.header == ["x", "y", "z"])
        #expect(t.data.shape == [2, 3])
        #expect(t.data.scalars == [1, 2, 3, 4, 5, 6])
        #expect(t.labels == nil)
    }

    @Test("a numeric first line is data, not a header")
    func noHeader() throws {
        let t = try CSV.parse("1,2\n3,4\n")
        #expect(t.header == nil)
        #expect(t.data.shape == [2, 2])
        #expect(t.data.scalars == [1, 2, 3, 4])
    }

    @Test("hasHeader overrides detection")
    func forcedHeader() throws {
        let t = try CSV.parse("10,20\n3,4\n", hasHeader: true)
        #expect(t.header == ["10", "20"])
        #expect(t.data.scalars == [3, 4])
        expectCSVFileError("line 1, column 1", "'a' is not a number") { try CSV.parse("a,b\n1,2\n", hasHeader: false) }
    }

    @Test("# comments, blank lines and spaces around fields are ignored")
    func commentsAndWhitespace() throws {
        let text = "# written by a test\n\n  # indented comment\na, b\n 1 , 2 \t\n\n# between\n3,4\n   \n"
        let t = try CSV.parse(text)
        #expect(t.header == ["a", "b"])
        #expect(t.data.shape == [2, 2])
        #expect(t.data.scalars == [1, 2, 3, 4])
    }

    @Test("CRLF line ends (Windows files)")
    func crlf() throws {
        // In Swift "\r\n" is one Character, so a parser that splits on "\n" alone sees one long line.
        let t = try CSV.parse("a,b\r\n1,2\r\n3,4\r\n")
        #expect(t.header == ["a", "b"])
        #expect(t.data.shape == [2, 2])
        #expect(t.data.scalars == [1, 2, 3, 4])
    }

    @Test("numbers in every notation")
    func notations() throws {
        let t = try CSV.parse("-1.5,2e3,+4,1E-300,0.1,inf,-0\n")
        #expect(t.data.scalars == [-1.5, 2000, 4, 1e-300, 0.1, .infinity, 0])
    }

    @Test("the label column is split off, by index or counted from the end", arguments: [2, -1])
    func labelColumn(index: Int) throws {
        let t = try CSV.parse("f1,f2,label\n0.5,1.5,3\n2.5,3.5,-1\n4.5,5.5,0\n", labelColumn: index)
        #expect(t.labels == [3, -1, 0])
        #expect(t.header == ["f1", "f2"])
        #expect(t.data.shape == [3, 2])
        #expect(t.data.scalars == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5])
    }

    @Test("a label column in the middle")
    func labelInMiddle() throws {
        let t = try CSV.parse("1,7,2\n3,8,4\n", labelColumn: 1)
        #expect(t.labels == [7, 8])
        #expect(t.data.scalars == [1, 2, 3, 4])
        let u = try CSV.parse("1,7,2\n3,8,4\n", labelColumn: -3)
        #expect(u.labels == [1, 3])
        #expect(u.data.scalars == [7, 2, 8, 4])
    }

    @Test("the bundled digits data set")
    func digits() throws {
        let path = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("data/digits.csv").path
        let t = try CSV.read(path, labelColumn: -1)
        #expect(t.data.rank == 2)
        #expect(t.data.shape[0] > 0)
        #expect(t.labels?.count == t.data.shape[0])
    }
}

// MARK: - Errors

@Suite("CSV errors")
struct CSVErrorTests {
    @Test("a ragged row names its line (counting comments and blank lines)")
    func ragged() {
        expectCSVFileError("line 5 has 2 fields, expected 3") { try CSV.parse("# c\na,b,c\n1,2,3\n\n4,5\n") }
        expectCSVFileError("line 2 has 4 fields, expected 3") { try CSV.parse("1,2,3\n1,2,3,4\n") }
    }

    @Test("a non-numeric value names its line and column")
    func nonNumeric() {
        expectCSVFileError("line 3, column 2", "'abc' is not a number") { try CSV.parse("x,y\n1,2\n3,abc\n") }
        expectCSVFileError("line 2, column 1", "'' is not a number") { try CSV.parse("1,2\n,2\n") }
    }

    @Test("labels must be integers and the label column must exist")
    func badLabels() {
        expectCSVFileError("line 2, column 3", "not an integer") { try CSV.parse("1,2,3\n4,5,6.5\n", labelColumn: -1) }
        expectCSVFileError("label column 5 is out of range for 3 columns") { try CSV.parse("1,2,3\n", labelColumn: 5) }
        expectCSVFileError("label column -4 is out of range") { try CSV.parse("1,2,3\n", labelColumn: -4) }
    }

    @Test("a file with no data rows")
    func noRows() {
        expectCSVFileError("no data rows") { try CSV.parse("") }
        expectCSVFileError("no data rows") { try CSV.parse("# only a comment\n\n") }
        expectCSVFileError("no data rows") { try CSV.parse("a,b,c\n") }
    }

    @Test("missing and non-UTF-8 files name the path")
    func files() throws {
        expectCSVFileError("no such file", path: "/nonexistent/a.csv") { try CSV.read("/nonexistent/a.csv") }
        try withCSVTempDir { dir in
            let path = dir + "/bin.csv"
            try Data([0x31, 0x2C, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: path))
            expectCSVFileError("not UTF-8", path: path) { try CSV.read(path) }
            let ragged = dir + "/ragged.csv"
            try csvWrite("1,2\n3\n", ragged)
            expectCSVFileError("line 2", path: ragged) { try CSV.read(ragged) }
        }
    }
}

// MARK: - Writing

@Suite("CSV writing")
struct CSVWriteTests {
    @Test("write → read round trip keeps every Double exactly")
    func roundTrip() throws {
        try withCSVTempDir { dir in
            let values: [Double] = [0.1, -1e-300, 123456789.123456789, .pi, -0.0, 1e300, 5e-324, 2.0 / 3]
            let t = try Tensor<Double>(values + values.map { -$0 }, shape: [4, 4])
            let path = dir + "/t.csv"
            try CSV.write(t, to: path)
            let back = try CSV.read(path)
            #expect(back.header == nil)
            #expect(back.data == t)
        }
    }

    @Test("Float tensors round trip through Double")
    func floats() throws {
        try withCSVTempDir { dir in
            let t = try Tensor<Float>([0.1, 1.0 / 3, -7.25, 1e-30, 3e38, 0.7], shape: [3, 2])
            let path = dir + "/f.csv"
            try CSV.write(t, to: path)
            #expect(try CSV.read(path).data.cast(to: Float.self) == t)
        }
    }

    @Test("header and labels round trip (the header names the label column too)")
    func headerAndLabels() throws {
        try withCSVTempDir { dir in
            let t = try Tensor<Double>([1, 2, 3, 4, 5, 6], shape: [3, 2])
            let path = dir + "/l.csv"
            try CSV.write(t, to: path, header: ["a", "b", "label"], labels: [0, 9, -2])
            let back = try CSV.read(path, labelColumn: -1)
            #expect(back.header == ["a", "b"])
            #expect(back.labels == [0, 9, -2])
            #expect(back.data == t)
        }
    }

    @Test("a vector is written as one column")
    func vector() throws {
        try withCSVTempDir { dir in
            let path = dir + "/v.csv"
            try CSV.write(Tensor<Double>([1.5, 2.5, 3.5]), to: path)
            let back = try CSV.read(path)
            #expect(back.data.shape == [3, 1])
            #expect(back.data.scalars == [1.5, 2.5, 3.5])
        }
    }

    @Test("invalid arguments are refused")
    func invalid() throws {
        try withCSVTempDir { dir in
            #expect(throws: TensorError.self) { try CSV.write(Tensor<Double>(scalar: 1), to: dir + "/s.csv") }
            #expect(throws: TensorError.self) {
                try CSV.write(try Tensor<Double>([1, 2, 3, 4], shape: [2, 2]), to: dir + "/l.csv", labels: [1])
            }
            #expect(!FileManager.default.fileExists(atPath: dir + "/s.csv"))
            #expect(!FileManager.default.fileExists(atPath: dir + "/l.csv"))
        }
    }

    @Test("CSV.write refuses to overwrite unless asked")
    func overwrite() throws {
        try withCSVTempDir { dir in
            let path = dir + "/o.csv"
            try CSV.write(Tensor<Double>([1, 2]), to: path)
            expectCSVFileError("already exists", path: path) { try CSV.write(Tensor<Double>([3, 4]), to: path) }
            #expect(try CSV.read(path).data.scalars == [1, 2])
            try CSV.write(Tensor<Double>([3, 4]), to: path, overwrite: true)
            #expect(try CSV.read(path).data.scalars == [3, 4])
        }
    }
}

// MARK: - AtomicFile

@Suite("CSV AtomicFile")
struct CSVAtomicFileTests {
    @Test("refuses to overwrite without overwrite: true, overwrites with it, leaves no temporary files")
    func atomicWrites() throws {
        try withCSVTempDir { dir in
            let path = dir + "/x.bin"
            try AtomicFile.write(Data([1, 2, 3]), to: path)
            #expect(try AtomicFile.read(path) == Data([1, 2, 3]))
            expectCSVFileError("already exists", "refusing to overwrite", path: path) {
                try AtomicFile.write(Data([9]), to: path)
            }
            #expect(try AtomicFile.read(path) == Data([1, 2, 3]))
            try AtomicFile.write(Data([4, 5]), to: path, overwrite: true)
            #expect(try AtomicFile.read(path) == Data([4, 5]))
            // Many writes later, only the target is in the directory.
            for i in 0..<20 { try AtomicFile.write(Data([UInt8(i)]), to: path, overwrite: true) }
            let contents = try FileManager.default.contentsOfDirectory(atPath: dir)
            #expect(contents == ["x.bin"])
        }
    }

    @Test("an empty file can be written and read")
    func emptyData() throws {
        try withCSVTempDir { dir in
            try AtomicFile.write(Data(), to: dir + "/empty")
            #expect(try AtomicFile.read(dir + "/empty").isEmpty)
        }
    }

    @Test("errors name the file: missing file, missing directory, unwritable target")
    func errors() throws {
        expectCSVFileError("no such file", path: "/nonexistent/f") { try AtomicFile.read("/nonexistent/f") }
        try withCSVTempDir { dir in
            let missing = dir + "/no/such/dir/f"
            expectCSVFileError("does not exist", path: missing) { try AtomicFile.write(Data([1]), to: missing) }
            // A directory in the way of the target: refused before anything is written (no temporary file).
            let sub = dir + "/sub"
            try FileManager.default.createDirectory(atPath: sub + "/inner", withIntermediateDirectories: true)
            expectCSVFileError("exists and is a directory", path: sub) { try AtomicFile.write(Data([1]), to: sub, overwrite: true) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["sub"])
        }
    }
}
