import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// docs/method.md §2: the invertible projection, its three fitting methods, signs, completion, whitening, files and shards.
@Suite struct ProjectionTests {
    /// Rows with a clear spectral gap: a rank-r signal of scale s plus unit noise, shifted by an offset.
    static func data(n: Int, d: Int, r: Int = 6, s: Double = 8, offset: Double = 3, seed: UInt64) throws -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        let z = Tensor<Double>.normal([n, r], using: &g)
        let a = try Tensor<Double>.normal([d, r], using: &g).qr().q.transposed() * s
        return try matmul(z, a) + Tensor<Double>.normal([n, d], using: &g) + offset
    }

    @Test(arguments: ProjectionMethod.allCases)
    func liftOfProjectAndResidualIsExact(method: ProjectionMethod) throws {
        let x = try Self.data(n: 400, d: 32, seed: 1)
        let p = try Projection.fit(x, options: ProjectionOptions(k: 9, method: method))
        #expect(try p.roundTripError(x) <= 1e-12, "Double round trip (spec: ≤ 1e-12)")
        #expect(p.orthonormalityError <= 1e-12)
        // The rank-k reconstruction is the Eckart–Young optimum: its error is the discarded variance.
        let z = try p.project(x)
        let approx = try p.lift(z)
        let xc = try Spectrum.centered(x).xc
        let discarded = p.eigenvalues.dropFirst(9).reduce(0, +) * Double(x.shape[0] - 1)
        if method != .randomized {
            #expect(Swift.abs(try (approx - x).square().sum() - discarded) <= 1e-8 * xc.square().sum())
        }
    }

    @Test func floatInputRoundTripsWithinTheFloatBound() throws {
        let x: Tensor<Float> = try Self.data(n: 300, d: 24, seed: 2).cast()
        let p = try Projection.fit(x, options: ProjectionOptions(k: 6))
        let back = try p.lift(p.project(x), residual: p.residual(x))
        let xd: Tensor<Double> = x.cast()
        #expect(try (back - xd).norm() / xd.norm() <= 1e-5)
    }

    @Test func theThreeMethodsAgree() throws {
        let x = try Self.data(n: 2000, d: 64, seed: 3)
        let fits = try ProjectionMethod.allCases.map { try Projection.fit(x, options: ProjectionOptions(k: 6, method: $0)) }
        for p in fits.dropFirst() {
            for i in 0..<6 {
                #expect(Swift.abs(p.eigenvalues[i] - fits[0].eigenvalues[i]) <= 1e-8 * fits[0].eigenvalues[0], "λ\(i + 1) of \(p.method)")
            }
            // Same core subspace, and with the deterministic sign rule the same vectors.
            #expect(try Subspace.similarity(p.coreBasis, fits[0].coreBasis) > 1 - 1e-9)
            #expect(try (p.coreBasis - fits[0].coreBasis).maxAbs() < 1e-6, "\(p.method) vectors differ from svd's")
            #expect(Swift.abs(p.totalVariance - fits[0].totalVariance) <= 1e-10 * fits[0].totalVariance)
        }
    }

    @Test func signsAreDeterministic() throws {
        let x = try Self.data(n: 300, d: 16, seed: 4)
        let p = try Projection.fit(x)
        let flipped = try Projection.fit(x * -1)      // negating the data flips every direction's sign in the SVD
        for j in 0..<16 {
            let col = try p.basis.transposed().row(j).scalars
            let big = col.max { Swift.abs($0) < Swift.abs($1) }!
            #expect(big > 0, "column \(j): largest-magnitude entry must be positive")
        }
        #expect(try (p.coreBasis - flipped.coreBasis).maxAbs() < 1e-8)
    }

    @Test func fewerRowsThanDimensionsStillGivesAFullInvertibleBasis() throws {
        let x = Tensor<Double>.normal([10, 50], seed: 5)
        for method in ProjectionMethod.allCases {
            let p = try Projection.fit(x, options: ProjectionOptions(k: 9, method: method))
            #expect(p.basis.shape == [50, 50])
            #expect(p.orthonormalityError <= 1e-12)
            #expect(try p.roundTripError(x) <= 1e-12)
        }
        let svd = try Projection.fit(x)
        #expect(svd.eigenvalues.count == 50)
        #expect(svd.eigenvalues[10...].allSatisfy { $0 == 0 }, "completed directions carry no variance")
        #expect(svd.eigenvalues[9] < 1e-20, "centred n = 10 rows have rank 9")
    }

    @Test func whiteningGivesUnitVarianceCoordinatesAndInverts() throws {
        let x = try Self.data(n: 500, d: 20, seed: 6)
        var o = ProjectionOptions(k: 6); o.whiten = true
        let p = try Projection.fit(x, options: o)
        let z = try p.project(x)
        let v = try z.variance(axis: 0, ddof: 1).scalars
        for vi in v { #expect(Swift.abs(vi - 1) < 1e-10) }
        #expect(try p.roundTripError(x) <= 1e-12)
        let constant = try Tensor<Double>.ones([20, 4]) * 2
        var bad = ProjectionOptions(k: 2); bad.whiten = true
        #expect(throws: AnalysisError.self) { _ = try Projection.fit(constant, options: bad) }
    }

    @Test func standardisationAndNoCentringRoundTrip() throws {
        let x = try Self.data(n: 300, d: 12, seed: 7)
        var o = ProjectionOptions(k: 3); o.standardize = true
        #expect(try Projection.fit(x, options: o).roundTripError(x) <= 1e-12)
        o = ProjectionOptions(k: 3); o.center = false
        let p = try Projection.fit(x, options: o)
        #expect(p.mean.maxAbs() == 0)
        #expect(try p.roundTripError(x) <= 1e-12)
        o.method = .covariance
        let q = try Projection.fit(x, options: o)
        #expect(try Subspace.similarity(p.coreBasis, q.coreBasis) > 1 - 1e-9)
    }

    @Test func saveLoadGivesTheSameMaps() throws {
        let x = try Self.data(n: 200, d: 16, seed: 8)
        var p = try Projection.fit(x, options: ProjectionOptions(k: 6, method: .covariance))
        p.metadata["source"] = "test.npy"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("proj-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("p.safetensors").path
        try p.save(path)
        #expect(throws: TensorError.self) { try p.save(path) }   // never overwrites silently
        let q = try Projection.load(path)
        #expect(q.k == 6 && q.n == 200 && q.method == .covariance && q.metadata["source"] == "test.npy")
        #expect(try q.project(x) == p.project(x))
        let file = try SafetensorsFile.read(path)
        #expect(Set(file.tensors.keys) == ["mean", "basis", "eigenvalues"])
        for key in ["k", "D", "n", "method", "created", "source"] { #expect(file.metadata[key] != nil, "metadata \(key)") }
        // A file that is not a projection is refused with a message naming what is missing.
        let other = dir.appendingPathComponent("o.safetensors").path
        try SafetensorsFile(tensors: ["mean": NDArray(Tensor<Double>.zeros([3]))]).write(to: other)
        #expect(throws: TensorError.self) { _ = try Projection.load(other) }
    }

    @Test func shardStatisticsMergeIntoTheSingleFit() throws {
        let x = try Self.data(n: 3000, d: 40, offset: 100, seed: 9)   // a large offset tests the centred accumulation
        var single = CovarianceStatistics(dimension: 40)
        try single.add(x, chunk: 777)
        var merged = CovarianceStatistics(dimension: 40)
        for (lo, hi) in [(0, 500), (500, 1900), (1900, 3000)] {
            var shard = CovarianceStatistics(dimension: 40)
            try shard.add(x.slice(lo..<hi))
            try merged.merge(shard)
        }
        #expect(merged.count == 3000)
        let c1 = try single.covariance(), c2 = try merged.covariance()
        #expect(try (c1 - c2).maxAbs() <= 1e-10 * c1.maxAbs())
        let p1 = try Projection.fit(statistics: single), p2 = try Projection.fit(statistics: merged)
        let ref = try Projection.fit(x, options: ProjectionOptions(k: 9, method: .svd))
        for i in 0..<9 {
            #expect(Swift.abs(p1.eigenvalues[i] - p2.eigenvalues[i]) <= 1e-10 * p1.eigenvalues[0])
            #expect(Swift.abs(p1.eigenvalues[i] - ref.eigenvalues[i]) <= 1e-9 * p1.eigenvalues[0])
        }
        #expect(try (p1.coreBasis - p2.coreBasis).maxAbs() <= 1e-8)
        #expect(try (p1.mean - ref.mean).maxAbs() <= 1e-10 * 100)
    }

    @Test func badInputsThrowClearErrors() throws {
        let x = try Self.data(n: 50, d: 8, seed: 10)
        #expect(throws: AnalysisError.self) { _ = try Projection.fit(x, options: ProjectionOptions(k: 9)) }     // k > D
        #expect(throws: AnalysisError.self) { _ = try Projection.fit(try x.slice(0..<1)) }                      // n = 1
        var nan = x
        nan[3, 2] = .nan
        do { _ = try Projection.fit(nan, options: ProjectionOptions(k: 3)); Issue.record("NaN input was accepted") } catch let e as AnalysisError {
            #expect(e.description.contains("row 3, column 2"), "\(e)")
        }
        let p = try Projection.fit(x, options: ProjectionOptions(k: 3))
        #expect(throws: TensorError.self) { _ = try p.project(Tensor<Double>.zeros([4, 7])) }
        #expect(throws: TensorError.self) { _ = try p.lift(Tensor<Double>.zeros([4, 2])) }
    }
}

/// docs/method.md §3 and the exact k-NN search behind TwoNN.
@Suite struct SpectrumTests {
    @Test func participationRatioAndEnergies() {
        #expect(Spectrum.participationRatio([1, 1, 1, 1]) == 4)
        #expect(Spectrum.participationRatio([5, 0, 0]) == 1)
        #expect(Swift.abs(Spectrum.energy([4, 3, 2, 1], k: 2) - 0.7) < 1e-15)
        #expect(Spectrum.coreEnergies([1, 1, 1, 1, 1, 1, 1, 1, 1, 1])[9]! == 0.9)
    }

    @Test func gavishDonohoOmegaAndThreshold() {
        // ω(1) = 0.56 − 0.95 + 1.82 + 1.43 = 2.86 (Gavish & Donoho's ≈ 2.858 for square matrices).
        #expect(Swift.abs(Spectrum.omega(1) - 2.86) < 1e-12)
        let gd = Spectrum.gavishDonoho(singularValues: [10, 5, 1, 1, 1, 1], n: 6, d: 6)
        #expect(gd.rank == 2 && Swift.abs(gd.threshold - 2.86) < 1e-12)
    }

    @Test func twoNNRecoversTheDimensionOfAFlatManifold() throws {
        // Uniform points on a 3-D linear subspace of ℝ^20: TwoNN ≈ 3 (spec: within 10 %).
        var g = RandomGenerator(seed: 3)
        let z = Tensor<Double>.uniform([2000, 3], using: &g)
        let a = try Tensor<Double>.normal([20, 3], using: &g).qr().q.transposed()
        let d = try TwoNN.dimension(matmul(z, a))!
        #expect(Swift.abs(d - 3) / 3 < 0.1, "TwoNN = \(d)")
    }

    @Test func nearestNeighboursMatchABruteForceSearch() throws {
        let x = Tensor<Double>.normal([120, 5], seed: 4)
        let (idx, dist) = try Neighbors.nearest(x, in: x, k: 3, excludeSelf: true)
        for i in 0..<120 {
            var all: [(Double, Int)] = []
            for j in 0..<120 where j != i { all.append(((try (x.row(i) - x.row(j)).norm()), j)) }
            all.sort { $0.0 < $1.0 }
            for t in 0..<3 {
                #expect(idx[i * 3 + t] == all[t].1)
                #expect(Swift.abs(dist[i * 3 + t] - all[t].0) < 1e-9)
            }
        }
    }
}
