// Bundled digits, 2-D toys, orthogonal lifting, splits and data names.

import Foundation
@testable import Generative
import Linear
import Testing
import TestSupport

@Suite("Data")
struct DataTests {
    let digitsPath = dataPath("digits.csv")

    @Test("digits: 1797 × 64 in [−1, 1] with labels, matching numpy's statistics; the inverse gives 0 … 16 back")
    func digits() throws {
        let d: LabeledData<Double> = try Digits.load(path: digitsPath)
        let g = try GenerativeGolden().section("digits")
        #expect(d.data.shape == [1797, 64])
        #expect(d.data.min() == -1 && d.data.max() == 1)
        #expect(abs(d.data.mean() - (g["mean"] as! NSNumber).doubleValue) < 1e-12)
        #expect(abs(d.data.std() - (g["std"] as! NSNumber).doubleValue) < 1e-12)
        let means = try d.data.mean(axis: 0)
        for (c, m) in zip(ints(g, "columns"), doubles(g, "column_means")) { #expect(abs(means[c] - m) < 1e-12) }
        let counts = (0..<10).map { k in d.labels!.filter { $0 == k }.count }
        #expect(counts == ints(g, "label_counts"))
        let raw = try d.scaling.invert(d.data)
        #expect(raw.min() == 0 && raw.max() == 16)
        #expect(raw.scalars.allSatisfy { $0 == $0.rounded() })
        let f: LabeledData<Float> = try Digits.load(path: digitsPath)
        #expect(maxDifference(f.data.cast(to: Double.self), d.data) < 1e-7)
        #expect(throws: TensorError.self) { try Digits.load(path: "/nonexistent/digits.csv", as: Double.self) }
    }

    @Test("affine scalings invert exactly; standardising gives zero mean and unit variance")
    func scaling() throws {
        var g = RandomGenerator(seed: 3)
        let x = try Tensor<Double>.normal([200, 3], using: &g) * Tensor<Double>([1, 5, 0.1]) + Tensor<Double>([10, -2, 0])
        let s = try AffineScaling.standardizing(x)
        let y = try s.apply(x)
        for m in try y.mean(axis: 0).scalars { #expect(abs(m) < 1e-12) }
        for v in try y.std(axis: 0).scalars { #expect(abs(v - 1) < 1e-12) }
        #expect(maxDifference(try s.invert(y), x) < 1e-12)
        let r = try AffineScaling.range(0, 16)
        #expect(r == Digits.scaling)
        #expect(AffineScaling.identity.isIdentity)
        let codec = try JSONDecoder().decode(AffineScaling.self, from: JSONEncoder().encode(s))
        #expect(codec == s)
        #expect(throws: ConfigurationError.self) { try AffineScaling(scale: [0], shift: [1]) }
        #expect(throws: TensorError.self) { try s.apply(Tensor<Double>.zeros([2, 4])) }
    }

    @Test("toys: same seed, same samples; different seeds differ; Float and Double agree", arguments: Toy2D.allCases)
    func toyDeterminism(_ toy: Toy2D) throws {
        let a: Tensor<Double> = try toy.sample(500, seed: 42)
        let b: Tensor<Double> = try toy.sample(500, seed: 42)
        let c: Tensor<Double> = try toy.sample(500, seed: 43)
        #expect(a.shape == [500, 2])
        #expect(a == b)
        #expect(a != c)
        let f: Tensor<Float> = try toy.sample(500, seed: 42)
        #expect(maxDifference(f.cast(to: Double.self), a) < 1e-5)
        #expect(a.allFinite)
        #expect(try Toy2D(parsing: toy.rawValue) == toy)
    }

    @Test("toys have the shapes of their definitions")
    func toyShapes() throws {
        let n = 4000
        // Eight Gaussians: every point within a few std of one of the eight centres 4/1.414·(cos kπ/4, sin kπ/4).
        let e: Tensor<Double> = try Toy2D.eightGaussians.sample(n, seed: 1)
        var hits = [Int](repeating: 0, count: 8)
        for i in 0..<n {
            let (x, y) = (e[i, 0], e[i, 1])
            let k = (0..<8).min { a, b in
                let ca = (4 * cos(Double(a) * .pi / 4) / 1.414, 4 * sin(Double(a) * .pi / 4) / 1.414)
                let cb = (4 * cos(Double(b) * .pi / 4) / 1.414, 4 * sin(Double(b) * .pi / 4) / 1.414)
                return hypot(x - ca.0, y - ca.1) < hypot(x - cb.0, y - cb.1)
            }!
            hits[k] += 1
        }
        #expect(hits.allSatisfy { abs(Double($0) - Double(n) / 8) < 5 * (Double(n) / 8).squareRoot() })
        #expect(abs(e.mean()) < 0.1)
        // Checkerboard: inside [−4, 4]², and ⌊x/2⌋ + ⌊y/2⌋ is even (only the "black" squares).
        let c: Tensor<Double> = try Toy2D.checkerboard.sample(n, seed: 2)
        for i in 0..<n {
            let (x, y) = (c[i, 0], c[i, 1])
            #expect(abs(x) <= 4 && abs(y) <= 4)
            let cell = Int(Foundation.floor(x / 2)) + Int(Foundation.floor(y / 2))
            #expect(((cell % 2) + 2) % 2 == 0, "(\(x), \(y))")
        }
        // Moons: E[x] = 2·½(0 + 1) − 1 = 0 and E[y] = 2·½(2/π + ½ − 2/π) − 0.2 = 0.3.
        let m: Tensor<Double> = try Toy2D.moons.sample(n, seed: 3)
        let mm = try m.mean(axis: 0)
        #expect(abs(mm[0]) < 0.06 && abs(mm[1] - 0.3) < 0.04)
        #expect(m.min() > -4 && m.max() < 5)
        // Spiral: symmetric about the origin, radius up to 3π/3 + noise.
        let s: Tensor<Double> = try Toy2D.spiral.sample(n, seed: 4)
        let sm = try s.mean(axis: 0)
        #expect(abs(sm[0]) < 0.15 && abs(sm[1]) < 0.15)
        let radii = (0..<n).map { hypot(s[$0, 0], s[$0, 1]) }
        #expect(radii.max()! < 3.8 && radii.max()! > 2.8)
        #expect(throws: ConfigurationError.self) { try Toy2D(parsing: "swiss-roll") }
    }

    @Test("orthogonal embedding: orthonormal, seeded, distance-preserving; project inverts lift", arguments: [64, 128, 1024])
    func embedding(_ d: Int) throws {
        let e = try OrthogonalEmbedding(dimension: d)
        #expect(e.basis.shape == [d, 2])
        #expect(maxDifference(try matmul(e.basis, e.basis, transposeA: true), Tensor<Double>.eye(2)) < 1e-13)
        #expect(e == (try OrthogonalEmbedding(dimension: d)))
        #expect(e.basis != (try OrthogonalEmbedding(dimension: d, seed: 9)).basis)
        var g = RandomGenerator(seed: 0)
        let x: Tensor<Double> = try Toy2D.moons.sample(300, seed: 5)
        let y = try e.lift(x, noise: 0, using: &g)
        #expect(y.shape == [300, d])
        #expect(maxDifference(try e.project(y), x) < 1e-12)
        #expect(abs(try PairwiseDistance.largest(y) - PairwiseDistance.largest(x)) < 1e-10)
        // With noise σ: the residual off the plane has variance ≈ σ² per coordinate.
        let noisy = try e.lift(x, noise: 0.01, using: &g)
        let residual = try noisy - matmul(e.project(noisy), e.basis, transposeB: true)
        let perCoord = residual.variance() * Double(d) / Double(d - 2)
        #expect(abs(perCoord.squareRoot() - 0.01) < 0.001)
        // Float lift agrees.
        var g2 = RandomGenerator(seed: 0)
        let yf = try e.lift(x.cast(to: Float.self), noise: 0, using: &g2)
        #expect(maxDifference(yf.cast(to: Double.self), y) < 1e-5)
        #expect(throws: TensorError.self) { try e.lift(Tensor<Double>.zeros([3, 3]), using: &g) }
        #expect(throws: ConfigurationError.self) { try OrthogonalEmbedding(dimension: 1) }
    }

    @Test("splits are seeded, disjoint and complete; shuffles are permutations; mini-batches come from Neural")
    func splits() throws {
        let (a, b) = try DataSplit.indices(count: 1797, heldOutFraction: 0.2, seed: 1)
        #expect(a.count == 1797 - 359 && b.count == 359)
        #expect(Set(a).isDisjoint(with: b) && Set(a + b) == Set(0..<1797))
        let (a2, b2) = try DataSplit.indices(count: 1797, heldOutFraction: 0.2, seed: 1)
        #expect(a == a2 && b == b2)
        #expect(try DataSplit.indices(count: 1797, heldOutFraction: 0.2, seed: 2).heldOut != b)
        #expect(throws: ConfigurationError.self) { try DataSplit.indices(count: 10, heldOutFraction: 1, seed: 0) }
        let x = try Tensor<Double>((0..<20).map(Double.init), shape: [10, 2])
        let (tr, ho) = try DataSplit.split(x, heldOutFraction: 0.3, seed: 4)
        #expect(tr.shape == [7, 2] && ho.shape == [3, 2])
        let sh = try DataSplit.shuffled(x, seed: 5)
        #expect(Set(sh.scalars) == Set(x.scalars) && sh != x)
        #expect(sh == (try DataSplit.shuffled(x, seed: 5)))
        let d: LabeledData<Float> = try Digits.load(path: digitsPath)
        let (train, held) = try d.split(heldOutFraction: 0.1, seed: 0)
        #expect(train.count + held.count == 1797 && train.labels!.count == train.count)
        let heldIndices = try DataSplit.indices(count: 1797, heldOutFraction: 0.1, seed: 0).heldOut
        #expect(held.labels! == heldIndices.map { d.labels![$0] })
        #expect(held.data == (try d.data.gather(rows: heldIndices)))
        let batches = try train.miniBatches(batchSize: 128, seed: 3)
        let epoch = batches.batches(epoch: 0)
        #expect(epoch.count == (train.count + 127) / 128)
        #expect(Set(epoch.flatMap { $0 }) == Set(0..<train.count))
        #expect(epoch == batches.batches(epoch: 0) && epoch != batches.batches(epoch: 1))
    }

    @Test("data names parse into sources, with dimensions where they fit")
    func parsing() throws {
        #expect(try DataSource(parsing: "digits") == .digits)
        #expect(try DataSource(parsing: "digits", dimension: 64) == .digits)
        #expect(throws: ConfigurationError.self) { try DataSource(parsing: "digits", dimension: 128) }
        #expect(try DataSource(parsing: "moons") == .toy(.moons, dimension: 2))
        #expect(try DataSource(parsing: "eight-gaussians", dimension: 256) == .toy(.eightGaussians, dimension: 256))
        #expect(try DataSource(parsing: "spiral:512") == .toy(.spiral, dimension: 512))
        #expect(throws: ConfigurationError.self) { try DataSource(parsing: "spiral:512", dimension: 64) }
        #expect(throws: ConfigurationError.self) { try DataSource(parsing: "checkerboard", dimension: 1) }
        #expect(throws: ConfigurationError.self) { try DataSource(parsing: "cifar10") }
        #expect(try DataSource(parsing: "runs/latents.npy") == .file(path: "runs/latents.npy"))
        #expect(try DataSource(parsing: "table.CSV") == .file(path: "table.CSV"))
        #expect(try DataSource(parsing: "moons", dimension: 128).description == "moons:128")
        #expect(try DataSource(parsing: "checkerboard").isGenerated)
        #expect(!DataSource.digits.isGenerated)
    }

    @Test("sources load: toys lifted on a fixed plane with fresh seeded samples; digits subsets; npy and CSV files")
    func loading() throws {
        let src = try DataSource(parsing: "moons", dimension: 64)
        let a: LabeledData<Float> = try src.load(count: 256, seed: 1)
        let b: LabeledData<Float> = try src.load(count: 256, seed: 1)
        let c: LabeledData<Float> = try src.load(count: 256, seed: 2)
        #expect(a.data.shape == [256, 64] && a.data == b.data && a.data != c.data)
        // Training and held-out draws share the plane: both project with tiny residuals.
        let e = try OrthogonalEmbedding(dimension: 64)
        for d in [a.data, c.data] {
            let dd: Tensor<Double> = d.cast()
            let res = try dd - matmul(e.project(dd), e.basis, transposeB: true)
            #expect(res.norm() / Double(res.count).squareRoot() < 0.011)
        }
        let plain: LabeledData<Double> = try DataSource.toy(.spiral, dimension: 2).load(count: 10, seed: 0)
        #expect(plain.data == (try Toy2D.spiral.sample(10, seed: 0)))
        let defaultCount: LabeledData<Double> = try DataSource.toy(.moons, dimension: 2).load()
        #expect(defaultCount.count == DataSource.defaultToyCount)
        let digits: LabeledData<Double> = try DataSource.digits.load(count: 100, seed: 3, digitsPath: digitsPath)
        #expect(digits.data.shape == [100, 64] && digits.labels!.count == 100 && digits.scaling == Digits.scaling)
        #expect(throws: ConfigurationError.self) { try DataSource.digits.load(count: 5000, digitsPath: self.digitsPath, as: Double.self) }
        // Files.
        let dir = try makeTemporaryDirectory("GenerativeTests")
        defer { try? FileManager.default.removeItem(at: dir) }
        let npy = dir.appendingPathComponent("x.npy").path, csv = dir.appendingPathComponent("x.csv").path
        let x = try Tensor<Double>((0..<30).map { Double($0) / 7 }, shape: [10, 3])
        try x.save(npy: npy)
        try CSV.write(x, to: csv)
        for path in [npy, csv] {
            let loaded: LabeledData<Double> = try DataSource(parsing: path).load()
            #expect(maxDifference(loaded.data, x) < 1e-12 && loaded.scaling.isIdentity && loaded.labels == nil)
        }
        try Tensor<Double>.zeros([2, 2, 2]).save(npy: dir.appendingPathComponent("cube.npy").path)
        #expect(throws: TensorError.self) { try DataSource(parsing: dir.appendingPathComponent("cube.npy").path).load(as: Double.self) }
        #expect(throws: TensorError.self) { try DataSource(parsing: dir.appendingPathComponent("missing.npy").path).load(as: Double.self) }
    }
}
