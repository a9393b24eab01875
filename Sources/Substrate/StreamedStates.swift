import Foundation
import Linear

/// An n×D set of states read a block of rows at a time: a tensor already in memory, or a `.npy` file read through
/// `NPYReader` so that only one block is ever held. Rows come back as Double.
public struct StateRows {
    /// n, the number of rows.
    public let rowCount: Int
    /// D, the width of a row.
    public let dimension: Int
    /// What the rows are called in errors (a file name, or "states").
    public let label: String
    /// True when the rows are stored as Float (or narrower): `floatRows` then loses nothing.
    public let storesSinglePrecision: Bool
    private let read: (Range<Int>) throws -> Tensor<Double>
    private let readFloat: (Range<Int>) throws -> Tensor<Float>

    /// Rows of an in-memory n×D tensor.
    public init<S: BLASScalar>(_ x: Tensor<S>, label: String = "states") throws {
        guard x.rank == 2 else { throw AnalysisError.shape(term: label, problem: "expected an n×D matrix of states, got shape \(x.shape)") }
        rowCount = x.shape[0]; dimension = x.shape[1]; self.label = label
        storesSinglePrecision = S.self == Float.self
        read = { range in try x.slice(range).cast() }
        readFloat = { range in try x.slice(range).cast() }
    }

    /// Rows of an n×D `.npy` file, read on demand (float16/bfloat16/float32 files are read as Float and widened).
    public init(npy reader: NPYReader) throws {
        guard reader.shape.count == 2 else {
            throw InputFileError(path: reader.path, reason: "expected an n×D matrix of states, got shape \(reader.shape)")
        }
        rowCount = reader.rowCount; dimension = reader.rowElements; label = reader.path
        let single = reader.storesSinglePrecision
        storesSinglePrecision = single
        read = { range in single ? try reader.rows(range, as: Float.self).cast() : try reader.rows(range, as: Double.self) }
        readFloat = { range in try reader.rows(range, as: Float.self) }
    }

    /// Rows `range` [range.count, D], checked finite (the error names the first bad row by its index in the set).
    public func rows(_ range: Range<Int>) throws -> Tensor<Double> {
        let x = try read(range)
        do { try x.checkFinite(label) } catch let TensorError.nonFinite(count, first, _) {
            throw AnalysisError.nonFinite(term: label, count: count, row: range.lowerBound + first[0], column: first.count > 1 ? first[1] : 0, detail: " in rows \(range.lowerBound)..<\(range.upperBound)")
        }
        return x
    }

    /// Rows `range` in single precision (exact when `storesSinglePrecision`), checked finite.
    public func floatRows(_ range: Range<Int>) throws -> Tensor<Float> {
        let x = try readFloat(range)
        do { try x.checkFinite(label) } catch let TensorError.nonFinite(count, first, _) {
            throw AnalysisError.nonFinite(term: label, count: count, row: range.lowerBound + first[0], column: first.count > 1 ? first[1] : 0, detail: " in rows \(range.lowerBound)..<\(range.upperBound)")
        }
        return x
    }

    /// The rows at sorted `indices` (read in runs of consecutive indices).
    public func rows(at indices: [Int]) throws -> Tensor<Double> {
        var parts: [Tensor<Double>] = []
        var i = 0
        while i < indices.count {
            var j = i + 1
            while j < indices.count && indices[j] == indices[j - 1] + 1 { j += 1 }
            parts.append(try rows(indices[i]..<(indices[j - 1] + 1)))
            i = j
        }
        if parts.isEmpty { return Tensor<Double>.zeros([0, dimension]) }
        return parts.count == 1 ? parts[0] : try Tensor.concatenate(parts)
    }

    /// Calls `body(start, block)` for consecutive blocks of at most `blockRows` rows.
    public func forEachBlock(blockRows: Int = 16_384, _ body: (Int, Tensor<Double>) throws -> Void) throws {
        var start = 0
        let step = Swift.max(1, blockRows)
        while start < rowCount {
            let end = Swift.min(rowCount, start + step)
            try body(start, try rows(start..<end))
            start = end
        }
    }
}

/// Everything `Regimes.classify` needs, accumulated over row blocks in one pass: the mean and scatter of the whole
/// set and, for each of the `splits` seeded half-splits, of its first half; the second half's follow exactly from
/// the merge rule of Chan, Golub & LeVeque (1979) run backwards (μ_b = (nμ − n_aμ_a)/n_b,
/// M₂ᵇ = M₂ − M₂ᵃ − δδᵀ·n_a·n_b/n, δ = μ_b − μ_a), so each row costs one rank-1 update per split instead of two.
/// Blocks of Float are folded in by `ssyrk` (CovarianceStatistics flushes each chunk into Double). Plus the TwoNN
/// subsample. Memory: O(splits·D² + block) and one byte per row and split for the half memberships.
///
/// The half-splits are the ones `Regimes.stability` draws for the same seed (the first ⌊n/2⌋ rows of the same
/// permutation), and the top-k directions of each half are the top eigenvectors of its scatter — the right
/// singular vectors `Subspace.topDirections` finds from the centred rows — so the verdict equals the in-memory
/// one up to rounding.
public struct RegimeAccumulator {
    public let rowCount: Int
    public let dimension: Int
    public let splits: Int
    let membership: [[Bool]]   // [split][row]: true when the row is in the first half
    var firstHalves: [CovarianceStatistics]
    var whole: CovarianceStatistics
    let twoNNRows: [Int]
    var twoNNPicked: [Tensor<Double>] = []
    var twoNNCursor = 0
    public private(set) var rowsSeen = 0
    /// The unit roundoff of the rows' storage precision (float32's unless a Double block holds a non-float32 value).
    var storageUnitRoundoff = Spectrum.floatUnitRoundoff

    /// For a set of `n` rows of width `d`; `twoNN` nil skips the TwoNN subsample.
    public init(n: Int, d: Int, splits: Int, seed: UInt64, twoNN: TwoNNOptions?) throws {
        rowCount = n; dimension = d; self.splits = Swift.max(0, splits)
        var m: [[Bool]] = []
        let half = n / 2
        for s in 0..<self.splits {
            var g = RandomGenerator(seed: seed &+ UInt64(s) &* 0x9E37_79B9)
            let perm = g.permutation(n)
            var inA = [Bool](repeating: false, count: n)
            for i in 0..<half { inA[perm[i]] = true }
            m.append(inA)
        }
        membership = m
        firstHalves = (0..<self.splits).map { _ in CovarianceStatistics(dimension: d) }
        whole = CovarianceStatistics(dimension: d)
        twoNNRows = try twoNN.map { try TwoNN.subsampleRows(n: n, options: $0) } ?? []
    }

    /// Adds the rows `block` that start at row `start` of the set (blocks must come in order).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public mutating func add<S: BLASScalar>(_ block: Tensor<S>, start: Int) throws {
        let m = block.shape[0]
        guard start == rowsSeen, block.rank == 2, block.shape[1] == dimension, start + m <= rowCount else {
            throw AnalysisError.incompatible(term: "RegimeAccumulator", problem: "expected rows from \(rowsSeen) of width \(dimension), got \(m) rows from \(start) of shape \(block.shape)")
        }
        try whole.add(block)
        if let b = block as? Tensor<Double> {
            storageUnitRoundoff = Swift.min(storageUnitRoundoff, Spectrum.storageUnitRoundoff(b))
        }
        for s in 0..<splits {
            var a: [Int] = []
            a.reserveCapacity(m / 2 + 1)
            for r in 0..<m where membership[s][start + r] { a.append(r) }
            if !a.isEmpty { try firstHalves[s].add(block.gather(rows: a)) }
        }
        var local: [Int] = []
        while twoNNCursor < twoNNRows.count && twoNNRows[twoNNCursor] < start + m {
            local.append(twoNNRows[twoNNCursor] - start); twoNNCursor += 1
        }
        if !local.isEmpty { twoNNPicked.append(try block.gather(rows: local).cast()) }
        rowsSeen += m
    }

    /// Mean and scatter of every row added.
    public func statistics() throws -> CovarianceStatistics { whole }

    /// The second half of split s: the whole minus the first half (the merge rule run backwards), computed on the
    /// power-of-two-scaled parts (`CovarianceStatistics.scaledScatter`): the unscaled scatter of data near 1e200
    /// overflows Double and that of data near 1e-300 underflows to 0.
    func secondHalf(_ s: Int) throws -> CovarianceStatistics {
        var whole = self.whole, a = firstHalves[s]
        let n = whole.count, na = a.count, nb = n - na
        guard nb >= 1 else { return CovarianceStatistics(dimension: dimension) }
        let e = Swift.max(whole.scaleExponent, a.scaleExponent)
        whole.rescale(to: e); a.rescale(to: e)
        let meanB = try (whole.scaledMean * (Double(n) / Double(nb))) - (a.scaledMean * (Double(na) / Double(nb)))
        let delta = try meanB - a.scaledMean
        var scatter = try whole.scaledScatter - a.scaledScatter
        try scatter.addScaled(outer(delta, delta), -Double(na) * Double(nb) / Double(n))
        return try CovarianceStatistics(count: nb, scaledMean: meanB, scaledScatter: scatter, scaleExponent: e)
    }

    /// The spectrum statistics of §3 from the scatter's eigenvalues (σᵢ² = eigenvalues of M₂), with TwoNN on the
    /// collected subsample when requested.
    public func spectrum(twoNN: TwoNNOptions?) throws -> SpectrumStatistics {
        guard rowsSeen == rowCount else { throw AnalysisError.tooFewRows(term: "RegimeAccumulator", needed: rowCount, got: rowsSeen, detail: "saw \(rowsSeen) of \(rowCount) rows") }
        let n = rowCount, d = dimension
        guard n >= 2 else { throw AnalysisError.tooFewRows(term: "spectrum", needed: 2, got: n, detail: "need at least 2 states, got n = \(n)") }
        let stats = try statistics()
        var est: TwoNNEstimate? = nil
        if let o = twoNN {
            let sub = twoNNPicked.isEmpty ? Tensor<Double>.zeros([0, d]) : try Tensor.concatenate(twoNNPicked)
            est = try TwoNN.estimate(subsample: sub, options: o)
        }
        return try Spectrum.analyze(statistics: stats, storageUnitRoundoff: storageUnitRoundoff, twoNN: est)
    }

    /// The top-k eigenvectors of a scatter matrix, descending (D × k).
    /// The directions of the scaled scatter (the scale 2²ᵉ changes no direction, and the unscaled scatter of data
    /// near 1e200 would overflow).
    static func topDirections(_ s: CovarianceStatistics, k: Int) throws -> Tensor<Double> {
        var scatter = s.scaledScatter
        scatter.symmetrizeFromUpper()
        return try Subspace.reversedColumns(scatter.eigh(top: k).vectors)
    }

    /// P(k) over the half-splits, as `Regimes.stability` computes it.
    public func stability(ks: [Int]) throws -> [Int: Stability] {
        let n = rowCount, d = dimension, half = n / 2
        let usable = ks.filter { $0 >= 1 && $0 <= Swift.min(half, d) && $0 <= Swift.min(n - half, d) }
        guard let kmax = usable.max(), splits >= 1 else { return [:] }
        var samples: [Int: [Double]] = [:]
        for s in 0..<splits {
            let a = firstHalves[s], b = try secondHalf(s)
            let va = try RegimeAccumulator.topDirections(a, k: kmax), vb = try RegimeAccumulator.topDirections(b, k: kmax)
            for k in usable {
                samples[k, default: []].append(try Subspace.similarity(va.slice(0..<k, axis: 1), vb.slice(0..<k, axis: 1)))
            }
        }
        return samples.mapValues { Stability(mean: $0.reduce(0, +) / Double($0.count), min: $0.min() ?? .nan) }
    }

    /// The regime report (docs/method.md §4) of the rows added.
    public func report(thresholds t: RegimeThresholds, twoNN: TwoNNOptions?) throws -> RegimeReport {
        let spectrum = try spectrum(twoNN: twoNN)
        let ks = Swift.min(spectrum.signalRank, spectrum.n / 4)
        let stab = try stability(ks: Regimes.stabilityRanks(signalRank: spectrum.signalRank, n: spectrum.n))
        return Regimes.classify(spectrum: spectrum, stability: stab, stabilityRank: ks, thresholds: t)
    }
}

extension Regimes {
    /// `classify` over row blocks: one pass, memory O(block + splits·D²) (see `RegimeAccumulator`), so a set
    /// larger than memory can be classified. `progress(rows done, rows)` after each block.
    public static func classify(rows: StateRows, thresholds t: RegimeThresholds = RegimeThresholds(), seed: UInt64 = 0,
                                twoNN: Bool = true, twoNNOptions: TwoNNOptions = TwoNNOptions(), blockRows: Int = 16_384,
                                progress: ((Int, Int) -> Void)? = nil) throws -> RegimeReport {
        let options: TwoNNOptions? = twoNN ? twoNNOptions : nil
        if let o = options, o.exact, rows.rowCount > TwoNN.exactRowLimit {
            throw AnalysisError.parameter(term: "TwoNN", name: "exact", problem: "an exact estimate is limited to \(TwoNN.exactRowLimit) rows (n = \(rows.rowCount)); subsample instead (TwoNNOptions.rows)")
        }
        var acc = try RegimeAccumulator(n: rows.rowCount, d: rows.dimension, splits: t.splits, seed: seed, twoNN: options)
        var start = 0
        while start < rows.rowCount {
            let end = Swift.min(rows.rowCount, start + Swift.max(1, blockRows))
            if rows.storesSinglePrecision { try acc.add(rows.floatRows(start..<end), start: start) } else { try acc.add(rows.rows(start..<end), start: start) }
            progress?(end, rows.rowCount)
            start = end
        }
        return try acc.report(thresholds: t, twoNN: options)
    }
}

extension Spectrum {
    /// The spectrum statistics of §3 from mergeable statistics (σᵢ² the eigenvalues of the scatter M₂,
    /// λᵢ = σᵢ²/(n − 1), the Gavish–Donoho threshold with the rounding floor of `roundingFloor`, Gram route, for
    /// data stored with unit roundoff `uIn`), with a TwoNN estimate made elsewhere. Computed on the power-of-two-
    /// scaled scatter, as `analyze` does: σ, λ, τ and the floor are scaled back, the ratios (PR, ρ, E_k, k*) are
    /// those of unit-scale data whatever unit the states are stored in. Used by streamed and sharded analyses.
    static func analyze(statistics stats: CovarianceStatistics, storageUnitRoundoff uIn: Double, twoNN est: TwoNNEstimate?) throws -> SpectrumStatistics {
        let n = stats.count, d = stats.dimension
        guard n >= 2 else { throw AnalysisError.tooFewRows(term: "spectrum", needed: 2, got: n, detail: "need at least 2 states, got n = \(n)") }
        let k = stats.scaleExponent
        var scatter = stats.scaledScatter
        scatter.symmetrizeFromUpper()
        let w = try scatter.eigvalsh().scalars
        let s2 = Array(w.reversed().prefix(Swift.min(n, d))).map { Swift.max($0, 0) }
        let sigmaScaled = s2.map { $0.squareRoot() }
        let lambdaScaled = s2.map { $0 / Double(n - 1) }
        let centredSquares = s2.reduce(0, +), meanSquares = stats.scaledMean.scalars.reduce(0) { $0 + $1 * $1 } * Double(n)
        let floor = roundingFloor(frobenius: (centredSquares + meanSquares).squareRoot(), centredFrobenius: centredSquares.squareRoot(),
                                  n: n, d: d, storageUnitRoundoff: uIn, gram: true)
        let gd = gavishDonoho(singularValues: sigmaScaled, n: n, d: d, roundingFloor: floor)
        return SpectrumStatistics(
            n: n, d: d, eigenvalues: BinaryScale.times(lambdaScaled, pow2: 2 * k), singularValues: BinaryScale.times(sigmaScaled, pow2: k),
            participationRatio: participationRatio(lambdaScaled),
            signalRank: gd.rank, threshold: BinaryScale.times(gd.threshold, pow2: k), beta: gd.beta, omega: gd.omega,
            signalEnergy: gd.rank == 0 ? 0 : energy(lambdaScaled, k: gd.rank),
            coreEnergy: coreEnergies(lambdaScaled),
            twoNNDimension: est?.dimension, roundingFloor: BinaryScale.times(floor, pow2: k), twoNNInterval: est?.interval, twoNNRows: est?.rows)
    }
}
