import Foundation
import Linear
import Substrate
import Testing
import VSTCore
import TestSupport

/// VSTCore called directly (no process): the fit dispatch, the analysis jobs and their typed errors.
@Suite struct VSTCoreTests {
    /// A scratch directory holding x.npy (300×16 with a 3-D signal, seed 1), y.npy (x + 2), narrow.npy (300×5),
    /// one.npy (1×16), nan.npy (x with NaN at [7, 4]) and x32.npy (x as float32).
    static func workspace() throws -> URL {
        let dir = try makeTemporaryDirectory("vstcore")
        let (x, generator) = try SyntheticRows.lowRank()
        var g = generator
        try x.save(npy: dir.appendingPathComponent("x.npy").path)
        try (x + 2).save(npy: dir.appendingPathComponent("y.npy").path)
        try Tensor<Double>.normal([300, 5], using: &g).save(npy: dir.appendingPathComponent("narrow.npy").path)
        try x.slice(0..<1).save(npy: dir.appendingPathComponent("one.npy").path)
        var bad = x
        bad[7, 4] = .nan
        try bad.save(npy: dir.appendingPathComponent("nan.npy").path)
        let x32: Tensor<Float> = x.cast()
        try x32.save(npy: dir.appendingPathComponent("x32.npy").path)
        return dir
    }

    static func path(_ dir: URL, _ name: String) -> String { dir.appendingPathComponent(name).path }

    /// The value of `key` in a JSON object.
    static func value(_ json: JSON, _ key: String) -> JSON? {
        guard case let .object(pairs) = json else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    @Test("fit in memory: the written projection is Projection.fit's, and the JSON says n, D, k")
    func fitInMemory() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = Self.path(dir, "p.safetensors")
        let result = try ProjectionJobs.fit(FitRequest(inputs: [Self.path(dir, "x.npy")], options: ProjectionOptions(k: 3), out: out))
        #expect(Self.value(result.json, "n") == .int(300) && Self.value(result.json, "d") == .int(16) && Self.value(result.json, "k") == .int(3))
        let saved = try Projection.load(out)
        let direct = try Projection.fit(Inputs.matrix(Self.path(dir, "x.npy")), options: ProjectionOptions(k: 3))
        #expect(try (saved.basis - direct.basis).maxAbs() == 0)
        #expect(result.table.contains("3"))
    }

    @Test("fit dispatch: --method covariance streams and agrees with the in-memory covariance fit; stats shards merge to it")
    func streamedAgreesWithInMemory() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = try Inputs.matrix(Self.path(dir, "x.npy"))
        var o = ProjectionOptions(k: 4, method: .covariance)
        var r = FitRequest(inputs: [Self.path(dir, "x.npy")], options: o, out: Self.path(dir, "c.safetensors"))
        #expect(ProjectionJobs.streams(r))
        _ = try ProjectionJobs.fit(r)
        let streamed = try Projection.load(r.out)
        let memory = try Projection.fit(x, options: o)
        for (a, b) in zip(streamed.eigenvalues, memory.eigenvalues) { #expect(abs(a - b) <= 1e-9 * Swift.max(1, abs(b))) }
        // Two shards' statistics, merged, give the same fit.
        try x.slice(0..<120).save(npy: Self.path(dir, "s0.npy"))
        try x.slice(120..<300).save(npy: Self.path(dir, "s1.npy"))
        for i in 0..<2 {
            r = FitRequest(inputs: [Self.path(dir, "s\(i).npy")], options: o, out: Self.path(dir, "s\(i).safetensors"))
            r.statsOnly = true
            _ = try ProjectionJobs.fit(r)
        }
        _ = try ProjectionJobs.mergeStatistics([Self.path(dir, "s0.safetensors"), Self.path(dir, "s1.safetensors")], out: Self.path(dir, "m.safetensors"),
                                               rank: 4, whiten: false, statsOnly: false, seed: 0, force: false)
        let merged = try Projection.load(Self.path(dir, "m.safetensors"))
        for (a, b) in zip(merged.eigenvalues, memory.eigenvalues) { #expect(abs(a - b) <= 1e-9 * Swift.max(1, abs(b))) }
        o.standardize = true
        #expect(!ProjectionJobs.streams(FitRequest(inputs: [], options: o, out: "unused")))
        // merge-stats: the fit's own checks, named as the option and the files.
        let shards = [Self.path(dir, "s0.safetensors"), Self.path(dir, "s1.safetensors")]
        #expect(throws: ConfigurationError(field: "--rank", reason: "17 exceeds the dimension D = 16")) {
            try ProjectionJobs.mergeStatistics(shards, out: Self.path(dir, "m2.safetensors"), rank: 17, whiten: false, statsOnly: false, seed: 0, force: false)
        }
        r = FitRequest(inputs: [Self.path(dir, "one.npy")], options: ProjectionOptions(k: 3), out: Self.path(dir, "one.safetensors"))
        r.statsOnly = true
        _ = try ProjectionJobs.fit(r)
        do {
            _ = try ProjectionJobs.mergeStatistics([r.out], out: Self.path(dir, "m3.safetensors"), rank: 3, whiten: false, statsOnly: false, seed: 0, force: false)
            Issue.record("statistics of 1 row fitted")
        } catch let e as InputFileError { #expect(e.path == r.out && e.reason == "need at least 2 rows to fit, got 1", "\(e)") }
        #expect(!FileManager.default.fileExists(atPath: Self.path(dir, "m2.safetensors")))
    }

    @Test("float32 files: the streamed covariance fit runs in single precision within 1e-6 of the exact float64 fit; the randomized fit of .npy files (statistics streamed, or rows read once) is Projection.fit's")
    func singlePrecisionAndRandomized() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x32 = Self.path(dir, "x32.npy")
        let xf: Tensor<Float> = try NPY.read(x32).tensor(Float.self)
        let xd: Tensor<Double> = xf.cast()
        let o = ProjectionOptions(k: 3, method: .covariance)
        _ = try ProjectionJobs.fit(FitRequest(inputs: [x32], options: o, out: Self.path(dir, "c32.safetensors")))
        let streamed = try Projection.load(Self.path(dir, "c32.safetensors"))
        let exact = try Projection.fit(xd, options: o)
        for (a, b) in zip(streamed.eigenvalues.prefix(3), exact.eigenvalues.prefix(3)) { #expect(abs(a - b) <= 1e-6 * b, "\(a) vs \(b)") }
        #expect(abs(streamed.totalVariance - exact.totalVariance) <= 1e-6 * exact.totalVariance)
        // Two inputs, both operators: the explicit one from streamed statistics (Float chunks cut at other rows than
        // in memory: equal to Float rounding), the streamed one on the rows read once into one tensor (identical).
        let both: Tensor<Float> = try Tensor.concatenate([xf, xf])
        for op in [RandomizedOperator.covariance, .streamed] {
            var ro = ProjectionOptions(k: 3, method: .randomized)
            ro.randomizedOperator = op
            let out = Self.path(dir, "r-\(op.rawValue).safetensors")
            let result = try ProjectionJobs.fit(FitRequest(inputs: [x32, x32], options: ro, out: out))
            #expect(Self.value(result.json, "n") == .int(600))
            let cli = try Projection.load(out), memory = try Projection.fit(both, options: ro)
            for (a, b) in zip(cli.eigenvalues.prefix(3), memory.eigenvalues.prefix(3)) {
                #expect(abs(a - b) <= (op == .streamed ? 0 : 1e-6 * b), "\(op): \(a) vs \(b)")
            }
            #expect(try (cli.mean - memory.mean).maxAbs() <= (op == .streamed ? 0 : 1e-5))
        }
    }

    @Test("fit errors name the option or the file: --rank > D, n = 1, NaN, mismatched widths (streamed and in memory)")
    func fitErrors() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = Self.path(dir, "x.npy")
        for method in [ProjectionMethod.svd, .covariance, .randomized] {
            let tooBig = FitRequest(inputs: [x], options: ProjectionOptions(k: 17, method: method), out: Self.path(dir, "a.safetensors"))
            #expect(throws: ConfigurationError(field: "--rank", reason: "17 exceeds the dimension D = 16")) { try ProjectionJobs.fit(tooBig) }
            let one = FitRequest(inputs: [Self.path(dir, "one.npy")], options: ProjectionOptions(k: 3, method: method), out: Self.path(dir, "b.safetensors"))
            do { _ = try ProjectionJobs.fit(one); Issue.record("n = 1 accepted (\(method))") } catch let e as InputFileError {
                #expect(e.path.hasSuffix("one.npy") && e.reason.contains("at least 2 rows"), "\(e)")
            }
            let nan = FitRequest(inputs: [Self.path(dir, "nan.npy")], options: ProjectionOptions(k: 3, method: method), out: Self.path(dir, "c.safetensors"))
            do { _ = try ProjectionJobs.fit(nan); Issue.record("NaN accepted (\(method))") } catch let e as InputFileError {
                #expect(e.path.hasSuffix("nan.npy") && e.reason.contains("1 non-finite value") && e.reason.contains("row 7, column 4"), "\(e)")
            }
            let widths = FitRequest(inputs: [x, Self.path(dir, "narrow.npy")], options: ProjectionOptions(k: 3, method: method), out: Self.path(dir, "d.safetensors"))
            do { _ = try ProjectionJobs.fit(widths); Issue.record("mixed widths accepted (\(method))") } catch let e as InputFileError {
                #expect(e.path.hasSuffix("narrow.npy") && e.reason.contains("D = 16"), "\(e)")
            }
        }
        // float32 inputs take the single-precision path: the NaN check still names the file.
        var bad32: Tensor<Float> = try Inputs.matrix(x, key: nil, as: Float.self)
        bad32[2, 1] = .infinity
        try bad32.save(npy: Self.path(dir, "inf32.npy"))
        do { _ = try ProjectionJobs.fit(FitRequest(inputs: [Self.path(dir, "inf32.npy")], options: ProjectionOptions(k: 3), out: Self.path(dir, "e.safetensors")))
            Issue.record("Inf accepted")
        } catch let e as InputFileError { #expect(e.path.hasSuffix("inf32.npy") && e.reason.contains("row 2, column 1"), "\(e)") }
        // Nothing was written by the refused fits.
        #expect(!FileManager.default.fileExists(atPath: Self.path(dir, "a.safetensors")))
    }

    @Test("Projection.fit's one check: AnalysisError names the term and the parameter")
    func substrateFitErrors() throws {
        let x = try Inputs.matrix(Self.path(try Self.workspace(), "x.npy"))
        #expect(throws: AnalysisError.parameter(term: "fit", name: "k", problem: "core size k = 20 must be in 1...16 (D = 16)")) {
            try Projection.fit(x, options: ProjectionOptions(k: 20))
        }
        do { _ = try Projection.fit(x.slice(0..<1)); Issue.record("n = 1 accepted") } catch let e as AnalysisError {
            #expect(e.term == "fit" && e.description.contains("at least 2 rows"))
        }
    }

    @Test("inputs: unknown type, missing key and a trajectory given as states are refused naming the file")
    func inputErrors() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("1,2\n".utf8).write(to: dir.appendingPathComponent("x.bin"))
        #expect(throws: InputFileError.self) { try Inputs.matrix(Self.path(dir, "x.bin")) }
        try Tensor<Double>.zeros([2, 3, 4]).save(npy: Self.path(dir, "traj.npy"))
        do { _ = try Inputs.matrix(Self.path(dir, "traj.npy")); Issue.record("3-D accepted") } catch let e as InputFileError {
            #expect(e.reason.contains("vst trajectory"))
        }
        do { _ = try Inputs.matrix(Self.path(dir, "one.npy")); Issue.record("1 row accepted") } catch let e as InputFileError {
            #expect(e.description == "\(Self.path(dir, "one.npy")): need at least 2 rows, got 1")
        }
    }

    @Test("regimes: in memory and streamed give the report of Regimes.classify; --twonn-exact above the limit names the option")
    func regimes() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        var r = RegimesRequest(input: Self.path(dir, "x.npy"))
        r.twoNN = false; r.quiet = true
        let got = try AnalysisJobs.regimes(r)
        let direct = try Regimes.classify(Inputs.matrix(Self.path(dir, "x.npy")), twoNN: false)
        // Equal up to the last bits: the covariance behind both splits its rows by BLAS.threads, which tests running
        // beside this one change (TrainingMonitorTests.equalUpToRounding says more); at one thread count they are
        // bit-identical.
        #expect(TrainingMonitorTests.equalUpToRounding(got.output.json, direct.json), "\(got.output.json.serialized())\n\(direct.json.serialized())")
        #expect(got.output.table.contains(direct.regime.rawValue))
        // A .npy above streamingValues is streamed: same regime and signal rank as the in-memory analysis.
        var g = RandomGenerator(seed: 3)
        let n = AnalysisJobs.streamingValues / 64 + 8
        let big = try Tensor<Double>.normal([n, 64], using: &g) * Tensor<Double>((0..<64).map { 8 / Double($0 + 1) })
        try big.save(npy: Self.path(dir, "big.npy"))
        r.input = Self.path(dir, "big.npy")
        let streamed = try AnalysisJobs.regimes(r).report
        let memory = try Regimes.classify(big, twoNN: false)
        #expect(streamed.spectrum.signalRank == memory.spectrum.signalRank && streamed.regime == memory.regime)
        r.twoNN = true; r.twoNNOptions.exact = true
        do { _ = try AnalysisJobs.regimes(r); Issue.record("exact TwoNN above the limit accepted") } catch let e as ConfigurationError {
            #expect(e.field == "--twonn-exact")
        }
    }

    @Test("drift, align, scaling and validate: results of Substrate, errors naming the file or option")
    func pairedAnalyses() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = Self.path(dir, "x.npy"), y = Self.path(dir, "y.npy"), narrow = Self.path(dir, "narrow.npy")
        var o = DriftOptions(); o.permutations = 20
        let drift = try AnalysisJobs.drift(reference: x, candidate: y, key: nil, options: o, paired: false, report: nil, force: false, quiet: true)
        #expect(drift.report.drift, "a shift of 2 in every coordinate is drift")
        do { _ = try AnalysisJobs.drift(reference: x, candidate: narrow, key: nil, options: o, paired: false, report: nil, force: false, quiet: true)
            Issue.record("widths 16 and 5 accepted")
        } catch let e as InputFileError { #expect(e.path == narrow && e.reason.contains("D = 5")) }

        let align = try AnalysisJobs.align(x, y, key: nil, options: Substrate.AlignmentOptions(), seed: 0, report: nil, force: false)
        #expect(align.report.regime.rawValue == "A1", "y = x + 2 is x up to a shift")
        #expect(throws: ConfigurationError.self) { try AnalysisJobs.parseMeasures("linear_cka,nope") }
        #expect(try AnalysisJobs.parseMeasures("none").isEmpty)

        #expect(throws: ConfigurationError.self) { try AnalysisJobs.parseRung("x=a.npy") }
        let rung = try AnalysisJobs.parseRung("16=a=b.npy")
        #expect(rung.d == 16 && rung.path == "a=b.npy")
        do { _ = try AnalysisJobs.scaling(rungs: [(16, x)], directory: nil, seed: 0, report: nil, force: false, quiet: true)
            Issue.record("one rung accepted")
        } catch let e as ConfigurationError { #expect(e.field == "--rung") }
        do { _ = try AnalysisJobs.scaling(rungs: [(8, x), (5, narrow)], directory: nil, seed: 0, report: nil, force: false, quiet: true)
            Issue.record("a rung of the wrong width accepted")
        } catch let e as InputFileError { #expect(e.path == x && e.reason.contains("d = 8")) }

        var v = ValidateRequest(input: x)
        v.reference = x
        let valid = try AnalysisJobs.validate(v)
        #expect(valid.report.status != .fail, "states against themselves pass the drift check")
        v.input = Self.path(dir, "nan.npy")
        #expect(try AnalysisJobs.validate(v).report.status == .fail, "NaN fails V1")
    }

    @Test("project then lift with the residual inverts exactly; a wrong width names the input")
    func projectLift() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = Self.path(dir, "x.npy")
        _ = try ProjectionJobs.fit(FitRequest(inputs: [x], options: ProjectionOptions(k: 3), out: Self.path(dir, "p.safetensors")))
        var r = ProjectRequest(projection: Self.path(dir, "p.safetensors"), inputs: [x])
        r.out = Self.path(dir, "x.core.npy"); r.residual = true; r.quiet = true
        let projected = try ProjectionJobs.project(r)
        #expect(Self.value(projected.json, "k") == .int(3))
        _ = try ProjectionJobs.lift(projection: r.projection, input: Self.path(dir, "x.core.npy"), residual: Self.path(dir, "x.residual.npy"),
                                    out: Self.path(dir, "lifted.npy"), dtype: nil, force: false)
        let lifted = try Inputs.matrix(Self.path(dir, "lifted.npy")), original = try Inputs.matrix(x)
        #expect(try (lifted - original).maxAbs() < 1e-10)
        r.inputs = [Self.path(dir, "narrow.npy")]; r.out = Self.path(dir, "n.core.npy")
        do { _ = try ProjectionJobs.project(r); Issue.record("width 5 projected with a D = 16 projection") } catch let e as InputFileError {
            #expect(e.path.hasSuffix("narrow.npy") && e.reason.contains("D = 16"))
        }
        #expect(ProjectionJobs.mirroredStems(["/a/s0/l.npy", "/a/s1/l.npy"], under: "out") == ["out/s0/l", "out/s1/l"])
    }
}
