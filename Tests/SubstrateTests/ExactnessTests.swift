import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// Exactness on every input (issue 15): exactly low-rank states get k* = their rank (the rounding floor of
/// `Spectrum.roundingFloor`), fits and statistics are invariant under the data's scale from 1e-30 to 1e200, and
/// malformed projection and statistics files are refused with typed errors instead of crashes or NaN.
@Suite struct ExactnessTests {
    /// Z [n, r]·A [r, D] with Gaussian Z and A: rank exactly r, no noise.
    static func lowRank(n: Int, d: Int, r: Int, seed: UInt64) throws -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        return try matmul(Tensor<Double>.normal([n, r], using: &g), Tensor<Double>.normal([r, d], using: &g))
    }

    /// Anisotropic Gaussian data, spectrum 3 … 0.5, rotated: distinct, well separated top eigenvalues.
    static func anisotropic(n: Int = 1500, d: Int = 12, seed: UInt64 = 3) throws -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        let scales = Tensor((0..<d).map { 3 - 2.5 * Double($0) / Double(d - 1) })
        let rot = try Tensor<Double>.normal([d, d], using: &g).qr().q
        return try matmul(Tensor<Double>.normal([n, d], using: &g) * scales, rot) + 0.7
    }

    // MARK: 1. Exact low rank

    @Test("rank-r states without noise: k* = r and R1, in float64 and float32",
          arguments: [(2000, 128, 6), (400, 64, 3), (300, 90, 9), (120, 300, 4)])
    func exactLowRank(_ c: (Int, Int, Int)) throws {
        let (n, d, r) = c
        let x = try Self.lowRank(n: n, d: d, r: r, seed: UInt64(n + r))
        let double = try Regimes.classify(x, twoNN: false)
        #expect(double.spectrum.signalRank == r, "float64 \(n)×\(d) rank \(r): k* = \(double.spectrum.signalRank)")
        #expect(double.regime == .r1, "float64: \(double.regime) \(double.reasons)")
        let single = try Regimes.classify(x.cast(to: Float.self), twoNN: false)
        #expect(single.spectrum.signalRank == r, "float32 \(n)×\(d) rank \(r): k* = \(single.spectrum.signalRank)")
        #expect(single.regime == .r1, "float32: \(single.regime) \(single.reasons)")
        // Widened float32 (as a float32 file read as Double) is recognised by its values.
        let widened: Tensor<Double> = x.cast(to: Float.self).cast()
        #expect(Spectrum.storageUnitRoundoff(widened) == Spectrum.floatUnitRoundoff)
        #expect(Spectrum.storageUnitRoundoff(x) == Spectrum.doubleUnitRoundoff)
        #expect(try Spectrum.analyze(widened, twoNN: false).signalRank == r)
        // Without the floor the rounding bulk was counted as signal (the measured failure).
        let s = try Spectrum.analyze(x, twoNN: false)
        #expect(Spectrum.gavishDonoho(singularValues: s.singularValues, n: n, d: d).rank > r)
        #expect(s.roundingFloor > 0 && s.threshold == s.roundingFloor)
    }

    @Test("noisy states: k* is exactly the Gavish–Donoho rank without a floor", arguments: [0.01, 0.1, 1.0])
    func noisyUnchanged(_ noise: Double) throws {
        for (n, d, seed) in [(2000, 128, 1), (400, 64, 2), (100, 300, 3), (500, 400, 4)] {
            var g = RandomGenerator(seed: UInt64(seed))
            let x = try Self.lowRank(n: n, d: d, r: 5, seed: UInt64(seed)) + Tensor<Double>.normal([n, d], using: &g) * noise
            for input in [x, x.cast(to: Float.self).cast()] {
                let s = try Spectrum.analyze(input, twoNN: false)
                let plain = Spectrum.gavishDonoho(singularValues: s.singularValues, n: n, d: d)
                #expect(s.signalRank == plain.rank && s.threshold == plain.threshold, "noise \(noise), \(n)×\(d)")
                #expect(Spectrum.median(s.singularValues) > 10 * s.roundingFloor)
            }
        }
    }

    @Test("constant states: no signal (k* = 0) instead of ranked rounding error")
    func constantStates() throws {
        let x = Tensor<Double>.ones([50, 7]) * 3.1
        #expect(try Spectrum.analyze(x, twoNN: false).signalRank == 0)
    }

    @Test("zero features are refused, not called R3")
    func zeroColumns() throws {
        #expect(throws: AnalysisError.self) { try Spectrum.analyze(Tensor<Double>.zeros([10, 0]), twoNN: false) }
        #expect(throws: AnalysisError.self) { try Regimes.classify(Tensor<Double>.zeros([10, 0]), twoNN: false) }
    }

    // MARK: 2. Scale invariance

    /// Explained-variance ratios (top 6) and core directions of `p` against the unit-scale `ref`.
    static func expectSame(_ p: Projection, _ ref: Projection, rtol: Double, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let a = p.explainedVarianceRatio, b = ref.explainedVarianceRatio
        #expect(a.count == b.count, "\(what)", sourceLocation: sourceLocation)
        for i in 0..<Swift.min(6, a.count) {
            #expect(isClose(a[i], b[i], rtol: rtol), "\(what): ratio \(i) = \(a[i]) vs \(b[i])", sourceLocation: sourceLocation)
        }
        let dv = try (p.coreBasis - ref.coreBasis).maxAbs()
        #expect(dv <= rtol * 100, "\(what): core directions differ by \(dv)", sourceLocation: sourceLocation)
    }

    @Test("float64 fits at 1e-30 … 1e200 give the unit-scale ratios and directions (svd, covariance, randomized, streamed)",
          arguments: [1e-30, 1e-10, 1e10, 1e200])
    func doubleScales(_ scale: Double) throws {
        let x = try Self.anisotropic()
        for (method, op) in [(ProjectionMethod.svd, RandomizedOperator.automatic), (.covariance, .automatic), (.randomized, .covariance), (.randomized, .streamed)] {
            var o = ProjectionOptions(k: 4, method: method)
            o.randomizedOperator = op
            let ref = try Projection.fit(x, options: o)
            let p = try Projection.fit(x * scale, options: o)
            try Self.expectSame(p, ref, rtol: 1e-10, "\(method)/\(op) at \(scale)")
            // True variances: λ·2ᴱ = λ_unit·scale².
            let l0 = Foundation.log2(p.eigenvalues[0]) + Double(p.varianceExponent)
            #expect(Swift.abs(l0 - (Foundation.log2(ref.eigenvalues[0]) + 2 * Foundation.log2(scale))) < 1e-9, "\(method) at \(scale)")
            #expect(p.eigenvalues.allSatisfy(\.isFinite) && p.totalVariance.isFinite)
            SubstrateSupport.expectClose(p.mean[0], ref.mean[0] * scale, rtol: 1e-12)
            // Whitened coordinates are scale-free.
            var w = o; w.whiten = true
            let zw = try Projection.fit(x * scale, options: w).project(x.slice(0..<20) * scale)
            let zr = try Projection.fit(x, options: w).project(x.slice(0..<20))
            #expect(try (zw - zr).maxAbs() <= 1e-8, "whitened \(method) at \(scale)")
        }
        // Standardised fits: ratios scale-free, per-feature scales multiplied.
        var o = ProjectionOptions(k: 4, method: .svd); o.standardize = true
        try Self.expectSame(Projection.fit(x * scale, options: o), Projection.fit(x, options: o), rtol: 1e-10, "standardised at \(scale)")
        // Statistics: streamed in blocks, saved, loaded and merged at scale.
        var s = CovarianceStatistics(dimension: 12)
        try s.add(x.slice(0..<700) * scale, chunk: 256)
        try s.add(x.slice(700..<1500) * scale, chunk: 256)
        let ref = try Projection.fit(x, options: ProjectionOptions(k: 4, method: .covariance))
        try Self.expectSame(Projection.fit(statistics: s, options: ProjectionOptions(k: 4, method: .covariance)), ref, rtol: 1e-10, "statistics at \(scale)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exact-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.safetensors").path
        try s.save(path)
        let back = try CovarianceStatistics.load(path)
        #expect(back.scaleExponent == s.scaleExponent && back.count == 1500)
        try Self.expectSame(Projection.fit(statistics: back, options: ProjectionOptions(k: 4, method: .covariance)), ref, rtol: 1e-10, "loaded statistics at \(scale)")
        // A saved projection keeps its variance exponent.
        let p = try Projection.fit(statistics: back, options: ProjectionOptions(k: 4, method: .covariance))
        try p.save(dir.appendingPathComponent("p.safetensors").path)
        let q = try Projection.load(dir.appendingPathComponent("p.safetensors").path)
        #expect(q.varianceExponent == p.varianceExponent && q.eigenvalues == p.eigenvalues)
    }

    @Test("float32 fits at 1e-30 … 1e30 give the unit-scale ratios and directions", arguments: [1e-30, 1e-10, 1e10, 1e30])
    func floatScales(_ scale: Double) throws {
        let x = try Self.anisotropic()
        let unit = x.cast(to: Float.self)
        // Data scaled in Double and rounded to float32 once, like (x·s).astype(float32).
        let scaled = (x * scale).cast(to: Float.self)
        for (method, op) in [(ProjectionMethod.svd, RandomizedOperator.automatic), (.covariance, .automatic), (.randomized, .covariance), (.randomized, .streamed)] {
            var o = ProjectionOptions(k: 4, method: method)
            o.randomizedOperator = op
            try Self.expectSame(Projection.fit(scaled, options: o), Projection.fit(unit, options: o), rtol: 2e-5, "float32 \(method)/\(op) at \(scale)")
        }
        var s = CovarianceStatistics(dimension: 12)
        try s.add(scaled, chunk: 500)
        try Self.expectSame(Projection.fit(statistics: s, options: ProjectionOptions(k: 4, method: .covariance)),
                            Projection.fit(unit, options: ProjectionOptions(k: 4, method: .covariance)), rtol: 2e-5, "float32 statistics at \(scale)")
    }

    @Test("float64 subnormal data (1e-320) get the unit-scale ratios to their own precision, not a zero spectrum")
    func subnormal() throws {
        let x = try Self.anisotropic()
        let tiny = x * 1e-320                                               // about 11 significant bits
        for method in ProjectionMethod.allCases {
            let p = try Projection.fit(tiny, options: ProjectionOptions(k: 4, method: method))
            let ref = try Projection.fit(x, options: ProjectionOptions(k: 4, method: method))
            for i in 0..<3 { #expect(isClose(p.explainedVarianceRatio[i], ref.explainedVarianceRatio[i], rtol: 2e-2), "\(method) \(i)") }
        }
        let s = try Spectrum.analyze(tiny, twoNN: false), r = try Spectrum.analyze(x, twoNN: false)
        #expect(isClose(s.participationRatio, r.participationRatio, rtol: 2e-2))
    }

    @Test("spectrum statistics at 1e-30 … 1e200 match unit scale")
    func spectrumScales() throws {
        let x = try Self.anisotropic()
        let ref = try Spectrum.analyze(x, twoNN: false)
        for scale in [1e-300, 1e-30, 1e30, 1e200] {
            let s = try Spectrum.analyze(x * scale, twoNN: false)
            #expect(s.signalRank == ref.signalRank)
            SubstrateSupport.expectClose(s.participationRatio, ref.participationRatio, rtol: 1e-10)
            SubstrateSupport.expectClose(s.coreEnergy[3]!, ref.coreEnergy[3]!, rtol: 1e-10)
            SubstrateSupport.expectClose(s.singularValues[0], ref.singularValues[0] * scale, rtol: 1e-10)
        }
    }

    @Test("merging statistics of different scales equals one pass")
    func mergeAcrossScales() throws {
        let x = try Self.anisotropic()
        var a = CovarianceStatistics(dimension: 12), b = CovarianceStatistics(dimension: 12), whole = CovarianceStatistics(dimension: 12)
        try a.add(x.slice(0..<500) * 0x1p-700)
        try b.add(x.slice(500..<1500) * 0x1p-700)
        try whole.add(x * 0x1p-700)
        #expect(a.scaleExponent != 0)
        try a.merge(b)
        let pa = try Projection.fit(statistics: a, options: ProjectionOptions(k: 4, method: .covariance))
        let pw = try Projection.fit(statistics: whole, options: ProjectionOptions(k: 4, method: .covariance))
        try Self.expectSame(pa, pw, rtol: 1e-10, "merged")
        // Unscaled statistics merged with scaled ones: both brought to the larger exponent.
        var big = CovarianceStatistics(dimension: 12), small = CovarianceStatistics(dimension: 12)
        try big.add(x.slice(0..<750) * 1e200)
        try small.add(x.slice(750..<1500))
        try big.merge(small)
        #expect(big.count == 1500 && big.scaleExponent > 600)
    }

    // MARK: 3. Validation

    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exact-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Rewrites the eigenvalues (and metadata) of a saved projection file.
    static func rewrite(_ path: String, eigenvalues: [Double], metadata: [String: String] = [:]) throws {
        let f = try SafetensorsFile.read(path)
        var t = f.tensors
        t["eigenvalues"] = NDArray(Tensor(eigenvalues))
        try SafetensorsFile(tensors: t, metadata: f.metadata.merging(metadata) { $1 }).write(to: path, overwrite: true)
    }

    @Test("projection files with unusable eigenvalues are refused on load, naming the file")
    func badEigenvalues() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = try Self.anisotropic()
        var o = ProjectionOptions(k: 3, method: .svd); o.whiten = true
        let p = try Projection.fit(x, options: o)
        let good = p.eigenvalues
        var cases: [(String, [Double])] = [("zero", [good[0], 0] + good.dropFirst(2)), ("negative", [good[0], -1] + good.dropFirst(2)),
                                           ("nan", [.nan] + good.dropFirst()), ("short", Array(good.prefix(2)))]
        cases.append(("empty", []))
        for (name, eig) in cases {
            let path = dir.appendingPathComponent("\(name).safetensors").path
            try p.save(path)
            try Self.rewrite(path, eigenvalues: eig)
            do {
                _ = try Projection.load(path)
                Issue.record("\(name): loaded")
            } catch let TensorError.file(at, _) {
                #expect(at == path)
            }
        }
        // A zero beyond the core is fine without whitening, a short list never is.
        var plain = ProjectionOptions(k: 3, method: .svd); plain.whiten = false
        let q = try Projection.fit(x, options: plain)
        let path = dir.appendingPathComponent("tail.safetensors").path
        try q.save(path)
        try Self.rewrite(path, eigenvalues: Array(q.eigenvalues.prefix(11)) + [0])
        #expect(try Projection.load(path).eigenvalues.last == 0)
        try Self.rewrite(path, eigenvalues: Array(q.eigenvalues.prefix(2)))
        #expect(throws: TensorError.self) { try Projection.load(path) }
    }

    @Test("project and lift with too few eigenvalues for whitening throw instead of trapping")
    func whitenTooFewEigenvalues() throws {
        let x = try Self.anisotropic()
        var o = ProjectionOptions(k: 3, method: .svd); o.whiten = true
        var p = try Projection.fit(x, options: o)
        p.eigenvalues = Array(p.eigenvalues.prefix(2))
        #expect(throws: AnalysisError.self) { try p.project(x) }
        #expect(throws: AnalysisError.self) { try p.lift(Tensor<Double>.zeros([4, 3])) }
    }

    @Test("statistics whose row counts overflow are refused; bad statistics files name the file")
    func statisticsValidation() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var a = try CovarianceStatistics(count: 1 << 62, mean: Tensor.zeros([2]), scatter: Tensor.eye(2))
        let b = try CovarianceStatistics(count: 1 << 62, mean: Tensor.ones([2]), scatter: Tensor.eye(2))
        #expect(throws: AnalysisError.self) { try a.merge(b) }                // 2⁶² + 2⁶² = 2⁶³ > Int.max
        #expect(a.count == 1 << 62)
        #expect(throws: AnalysisError.self) { try CovarianceStatistics(count: -1, mean: Tensor.zeros([2]), scatter: Tensor.eye(2)) }
        // Non-finite parts and a scale that is not a power of two: refused, naming the file.
        let path = dir.appendingPathComponent("s.safetensors").path
        for (meta, scatter) in [([String: String](), try Tensor<Double>([1, .nan, .nan, 1], shape: [2, 2])), (["scale": "3"], Tensor<Double>.eye(2)),
                                (["n": "-4"], Tensor<Double>.eye(2))] {
            try SafetensorsFile(tensors: ["mean": NDArray(Tensor<Double>.zeros([2])), "scatter": NDArray(scatter)],
                                metadata: ["format": "substrate.covariance-stats/1", "n": "10", "D": "2"].merging(meta) { $1 }).write(to: path, overwrite: true)
            do {
                _ = try CovarianceStatistics.load(path)
                Issue.record("loaded \(meta)")
            } catch let TensorError.file(at, _) {
                #expect(at == path)
            }
        }
        // A file written before the scale field existed loads with scale 1.
        try SafetensorsFile(tensors: ["mean": NDArray(Tensor<Double>([1, 2])), "scatter": NDArray(Tensor<Double>.eye(2) * 5)],
                            metadata: ["format": "substrate.covariance-stats/1", "n": "10", "D": "2"]).write(to: path, overwrite: true)
        let old = try CovarianceStatistics.load(path)
        #expect(old.scale == 1 && old.count == 10 && old.mean.scalars == [1, 2] && old.scatter.scalars == [5, 0, 0, 5])
    }
}
