import Foundation

extension KernelSelfTest {
    /// The LAPACK routines Substrate uses, through the ``Tensor`` API: each factorisation's residual and the
    /// orthogonality of its orthogonal factors, in float64 arithmetic, against c·n·u·‖A‖ (c = 4 for QR and
    /// Cholesky, 30 for LU with pivoting and the iterative SVD, eigen and least-squares solvers; Higham ch. 19–20, Demmel *Applied Numerical Linear
    /// Algebra* §5.4).
    static func lapackChecks<S: BLASScalar>(_: S.Type, _ p: String, _ g: inout RandomGenerator) -> [KernelCheck] {
        let u = unitRoundoff(S.self)
        func matrix(_ m: Int, _ n: Int) -> Tensor<S> { Tensor<S>.normal([m, n], seed: g.next()) }
        func check(_ name: String, _ body: () throws -> Double) -> KernelCheck {
            KernelCheck(name: name, scaledError: (try? body()) ?? .infinity)
        }
        var checks: [KernelCheck] = []
        checks.append(check("\(p)gesdd 96×64") {
            let a = matrix(96, 64), f = try a.svd()
            let us = Dense(f.u).scalingColumns(by: f.s.scalars.map(Double.init))
            let norm = Dense(a).frobenius
            return Swift.max(Dense(a).minus(us.times(Dense(f.vt))).frobenius / (30 * 96 * u * norm),
                             Dense(f.u).orthogonalityError / (30 * 96 * u), Dense(f.vt).transposed.orthogonalityError / (30 * 96 * u))
        })
        checks.append(check("\(p)syevd 80") {
            let b = Dense(matrix(80, 80)), a = b.plus(b.transposed)
            let f = try a.tensor(S.self).eigh(), v = Dense(f.vectors)
            let av = a.times(v), vl = v.scalingColumns(by: f.values.scalars.map(Double.init))
            return Swift.max(av.minus(vl).frobenius / (30 * 80 * u * a.frobenius), v.orthogonalityError / (30 * 80 * u))
        })
        checks.append(check("\(p)geqrf+orgqr 100×60") {
            let a = matrix(100, 60), f = try a.qr(), q = Dense(f.q)
            return Swift.max(Dense(a).minus(q.times(Dense(f.r))).frobenius / (4 * 100 * u * Dense(a).frobenius),
                             q.orthogonalityError / (4 * 100 * u))
        })
        checks.append(check("\(p)potrf 70") {
            let b = Dense(matrix(90, 70)), a = b.transposed.times(b)
            let l = Dense(try a.tensor(S.self).cholesky())
            return a.minus(l.times(l.transposed)).frobenius / (4 * 70 * u * a.frobenius)
        })
        checks.append(check("\(p)getrf+getrs 64") {
            let a = matrix(64, 64), b = matrix(64, 3), x = Dense(try solve(a, b))
            let r = Dense(a).times(x).minus(Dense(b)).frobenius
            // Partial pivoting's growth factor on random matrices is small (Trefethen & Schreiber 1990): c = 30.
            return r / (30 * 64 * u * (Dense(a).frobenius * x.frobenius + Dense(b).frobenius))
        })
        checks.append(check("\(p)gelsd 90×50") {
            // The least-squares residual r = b − A·x is orthogonal to A's columns: ‖Aᵀr‖ ≤ c·n·u·‖A‖(‖A‖‖x‖ + ‖b‖).
            let a = matrix(90, 50), b = matrix(90, 2), x = Dense(try lstsq(a, b).solution)
            let r = Dense(b).minus(Dense(a).times(x)), da = Dense(a)
            return da.transposed.times(r).frobenius / (30 * 90 * u * da.frobenius * (da.frobenius * x.frobenius + Dense(b).frobenius))
        })
        return checks
    }
}

/// A small row-major float64 matrix for the reference side of the self-test: plain loops, no BLAS.
struct Dense {
    var rows: Int, cols: Int, values: [Double]

    init(rows: Int, cols: Int, values: [Double]) { self.rows = rows; self.cols = cols; self.values = values }
    init<S: BLASScalar>(_ t: Tensor<S>) {
        self.init(rows: t.shape[0], cols: t.rank > 1 ? t.shape[1] : 1, values: t.scalars.map(Double.init))
    }

    subscript(i: Int, j: Int) -> Double { values[i * cols + j] }
    var frobenius: Double { values.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    var transposed: Dense {
        Dense(rows: cols, cols: rows, values: (0..<cols * rows).map { self[$0 % rows, $0 / rows] })
    }
    func times(_ o: Dense) -> Dense {
        var out = [Double](repeating: 0, count: rows * o.cols)
        for i in 0..<rows { for l in 0..<cols { let a = self[i, l]; for j in 0..<o.cols { out[i * o.cols + j] += a * o[l, j] } } }
        return Dense(rows: rows, cols: o.cols, values: out)
    }
    func minus(_ o: Dense) -> Dense { Dense(rows: rows, cols: cols, values: zip(values, o.values).map { $0 - $1 }) }
    func plus(_ o: Dense) -> Dense { Dense(rows: rows, cols: cols, values: zip(values, o.values).map { $0 + $1 }) }
    func scalingColumns(by s: [Double]) -> Dense {
        Dense(rows: rows, cols: cols, values: values.indices.map { values[$0] * s[$0 % cols] })
    }
    /// ‖QᵀQ − I‖_F for a matrix with orthonormal columns.
    var orthogonalityError: Double {
        let qtq = transposed.times(self)
        return qtq.values.indices.reduce(0) { acc, i in
            let d = qtq.values[i] - (i / cols == i % cols ? 1 : 0)
            return acc + d * d
        }.squareRoot()
    }
    func tensor<S: BLASScalar>(_: S.Type) throws -> Tensor<S> { try Tensor<S>(values.map { S($0) }, shape: [rows, cols]) }
}
