// The per-row loops of the `RowBlockKernels` kernels (moved here from Substrate, unchanged, so the kernels give the same
// bits): SIMD conversion, centring and summation of one row of a row-major matrix, in Double unless stated.

/// Per-row helpers of `RowBlockKernels`: each reads one row of width d through a raw pointer (SIMD8 Double lanes, or
/// SIMD16 Float lanes where the centring stays in Float) and returns the sum it needs for a finiteness check.
enum RowOps {
    /// Rows per block so that one block of `d` Doubles takes about `bytes` (at least 16 rows, at most `n`).
    @inline(__always)
    static func blockRows(_ n: Int, _ d: Int, bytes: Int = 1 << 20) -> Int {
        Swift.max(1, Swift.min(n, Swift.max(16, bytes / (8 * Swift.max(1, d)))))
    }

    /// Adds the column sums (in Double) of `rows` rows of width `d` starting at `p` into `sums`, and returns the
    /// sum of all of them: non-finite exactly when an element is (or, for huge finite values, when the sum overflows).
    @inline(__always)
    static func addColumnSums<S: BLASScalar>(_ p: UnsafePointer<S>, rows: Int, d: Int, into sums: UnsafeMutablePointer<Double>) -> Double {
        var total = 0.0
        for i in 0..<rows {
            let row = p + i * d
            var j = 0
            var acc = SIMD8<Double>(repeating: 0)
            while j + 8 <= d {
                let v = SIMD8<Double>(UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<S>.self))
                let s = UnsafeMutableRawPointer(sums + j).loadUnaligned(as: SIMD8<Double>.self) + v
                UnsafeMutableRawPointer(sums + j).storeBytes(of: s, as: SIMD8<Double>.self)
                acc += v
                j += 8
            }
            var tail = 0.0
            while j < d { let v = Double(row[j]); sums[j] += v; tail += v; j += 1 }
            total += acc.sum() + tail
        }
        return total
    }

    /// dst[j] = T((Double(src[j]) − μ[j]) / s[j]) for j < d (no division when `scale` is nil); returns the sum of
    /// the Double values, non-finite when an input is.
    @inline(__always)
    static func centerRow<S: BLASScalar, T: BLASScalar>(_ src: UnsafePointer<S>, _ mu: UnsafePointer<Double>, _ scale: UnsafePointer<Double>?,
                                                       _ dst: UnsafeMutablePointer<T>, _ d: Int) -> Double {
        var j = 0
        var acc = SIMD8<Double>(repeating: 0)
        if let scale {
            while j + 8 <= d {
                let v = (SIMD8<Double>(UnsafeRawPointer(src + j).loadUnaligned(as: SIMD8<S>.self))
                         - UnsafeRawPointer(mu + j).loadUnaligned(as: SIMD8<Double>.self))
                    / UnsafeRawPointer(scale + j).loadUnaligned(as: SIMD8<Double>.self)
                UnsafeMutableRawPointer(dst + j).storeBytes(of: SIMD8<T>(v), as: SIMD8<T>.self)
                acc += v
                j += 8
            }
        } else {
            while j + 8 <= d {
                let v = SIMD8<Double>(UnsafeRawPointer(src + j).loadUnaligned(as: SIMD8<S>.self))
                    - UnsafeRawPointer(mu + j).loadUnaligned(as: SIMD8<Double>.self)
                UnsafeMutableRawPointer(dst + j).storeBytes(of: SIMD8<T>(v), as: SIMD8<T>.self)
                acc += v
                j += 8
            }
        }
        var tail = 0.0
        while j < d {
            var v = Double(src[j]) - mu[j]
            if let scale { v /= scale[j] }
            dst[j] = T(v)
            tail += v
            j += 1
        }
        return acc.sum() + tail
    }

    /// Σ_j (Double(src[j]) − μ[j])².
    @inline(__always)
    static func centeredSquares<S: BLASScalar>(_ src: UnsafePointer<S>, _ mu: UnsafePointer<Double>, _ d: Int) -> Double {
        var j = 0
        var acc = SIMD8<Double>(repeating: 0)
        while j + 8 <= d {
            let v = SIMD8<Double>(UnsafeRawPointer(src + j).loadUnaligned(as: SIMD8<S>.self))
                - UnsafeRawPointer(mu + j).loadUnaligned(as: SIMD8<Double>.self)
            acc += v * v
            j += 8
        }
        var tail = 0.0
        while j < d { let v = Double(src[j]) - mu[j]; tail += v * v; j += 1 }
        return acc.sum() + tail
    }

    /// dst[j] = T(Double(src[j]) − c[j]) and sums[j] += Double(src[j]) − c[j] for j < d; returns Σ of the values.
    @inline(__always)
    static func centerRowSums<S: BLASScalar, T: BLASScalar>(_ src: UnsafePointer<S>, _ c: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<T>,
                                                           _ sums: UnsafeMutablePointer<Double>, _ d: Int) -> Double {
        var j = 0
        var acc = SIMD8<Double>(repeating: 0)
        while j + 8 <= d {
            let v = SIMD8<Double>(UnsafeRawPointer(src + j).loadUnaligned(as: SIMD8<S>.self))
                - UnsafeRawPointer(c + j).loadUnaligned(as: SIMD8<Double>.self)
            UnsafeMutableRawPointer(dst + j).storeBytes(of: SIMD8<T>(v), as: SIMD8<T>.self)
            let s = UnsafeMutableRawPointer(sums + j).loadUnaligned(as: SIMD8<Double>.self) + v
            UnsafeMutableRawPointer(sums + j).storeBytes(of: s, as: SIMD8<Double>.self)
            acc += v
            j += 8
        }
        var tail = 0.0
        while j < d { let v = Double(src[j]) - c[j]; dst[j] = T(v); sums[j] += v; tail += v; j += 1 }
        return acc.sum() + tail
    }

    /// dst[j] = src[j] − c[j] and partial[j] += dst[j] for j < d, all in Float (16 lanes); returns Σ dst[j]
    /// (non-finite when an input is).
    @inline(__always)
    static func centerRowFloat(_ src: UnsafePointer<Float>, _ c: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                               _ partial: UnsafeMutablePointer<Float>, _ d: Int) -> Float {
        var j = 0
        var acc = SIMD16<Float>(repeating: 0)
        while j + 16 <= d {
            let v = UnsafeRawPointer(src + j).loadUnaligned(as: SIMD16<Float>.self) - UnsafeRawPointer(c + j).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(dst + j).storeBytes(of: v, as: SIMD16<Float>.self)
            let s = UnsafeRawPointer(partial + j).loadUnaligned(as: SIMD16<Float>.self) + v
            UnsafeMutableRawPointer(partial + j).storeBytes(of: s, as: SIMD16<Float>.self)
            acc += v
            j += 16
        }
        var tail: Float = 0
        while j < d { let v = src[j] - c[j]; dst[j] = v; partial[j] += v; tail += v; j += 1 }
        return acc.sum() + tail
    }

    /// True when none of the `count` values at `p` is NaN or infinite (x·0 is 0 for finite x, NaN otherwise).
    @inline(__always)
    static func allFinite(_ p: UnsafePointer<Double>, _ count: Int) -> Bool {
        var i = 0
        var acc = SIMD8<Double>(repeating: 0)
        while i + 8 <= count {
            acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Double>.self) * 0
            i += 8
        }
        var tail = 0.0
        while i < count { tail += p[i] * 0; i += 1 }
        return (acc.sum() + tail).isFinite
    }

    /// dst[j] = src[j] − μ[j] for j < d, in the input's precision (μ given in S): the sketch's centring, where
    /// one rounding of μ to S is immaterial and no conversion to Double is needed.
    @inline(__always)
    static func centerRowInPlace<S: BLASScalar>(_ src: UnsafePointer<S>, _ mu: UnsafePointer<S>, _ dst: UnsafeMutablePointer<S>, _ d: Int) {
        var j = 0
        while j + 16 <= d {
            let v = UnsafeRawPointer(src + j).loadUnaligned(as: SIMD16<S>.self) - UnsafeRawPointer(mu + j).loadUnaligned(as: SIMD16<S>.self)
            UnsafeMutableRawPointer(dst + j).storeBytes(of: v, as: SIMD16<S>.self)
            j += 16
        }
        while j < d { dst[j] = src[j] - mu[j]; j += 1 }
    }
}
