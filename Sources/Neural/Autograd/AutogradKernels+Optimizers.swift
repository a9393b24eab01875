import Linear

/// Optimiser and training updates over parameter buffers (AdamW over one flat buffer, SGD, EMA), and random tensors
/// (see AutogradKernels.swift for why kernels live apart).
extension AutogradKernels {
    // MARK: Optimiser updates

    /// One parameter's part of a flat Adam step: its index, where its moments start in the flat buffers, and its
    /// bias corrections c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ.
    struct AdamSegment {
        var index: Int, offset: Int, c1: Double, c2: Double
    }

    /// Adam/AdamW over the flat moment buffers m, v and the listed parameters (each with a gradient), in one pass
    /// split across threads by element count: m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
    /// p ← p·(1 − lr·λ_decoupled) − lr·(m/c₁)/(√(v/c₂) + ε), where g already includes any coupled (L2) weight decay;
    /// eight lanes at a time (explicit SIMD: the compiler does not vectorise the scalar loop, whose square root and
    /// division then cost ~10 cycles per element), the tail element by element with the
    /// same expression. Each parameter's buffer is opened once for the whole pass.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func adamUpdateFlat<S: BLASScalar>(_ params: [Variable<S>], _ segments: [AdamSegment], _ m: inout Tensor<S>,
                                              _ v: inout Tensor<S>, lr: Double, beta1: Double, beta2: Double, eps: Double,
                                              l2: Double, decoupled: Double) {
        // Gather stable pointers: each parameter's value opened for writing and its gradient for reading, nested
        // (recursively) so that every pointer stays valid for the whole update.
        var ps = [UnsafeMutablePointer<S>?](repeating: nil, count: segments.count)
        var gs = [UnsafePointer<S>?](repeating: nil, count: segments.count)
        func open(_ k: Int, _ body: () -> Void) {
            if k == segments.count { body(); return }
            let p = params[segments[k].index]
            let g = p.grad!
            g.withUnsafeBufferPointer { pg in
                p.value.withUnsafeMutableBufferPointer { pp in
                    ps[k] = pp.baseAddress; gs[k] = pg.baseAddress
                    open(k + 1, body)
                }
            }
        }
        let b1 = S(beta1), b2 = S(beta2), ob1 = S(1 - beta1), ob2 = S(1 - beta2)
        let e = S(eps), wd = S(l2), shrink = S(1 - lr * decoupled)
        let stepSizes = segments.map { S(lr / $0.c1) }, rc2s = segments.map { S(1 / $0.c2.squareRoot()) }
        var starts = [0]
        for s in segments { starts.append(starts.last! + params[s.index].count) }
        let total = starts.last!
        m.withUnsafeMutableBufferPointer { pm in
            v.withUnsafeMutableBufferPointer { pv in
                let mBase = pm.baseAddress!, vBase = pv.baseAddress!
                open(0) {
                    let ps = ps, gs = gs
                    Parallel.forChunks(total, minimum: 1 << 15) { r in
                        // The segments that meet r, each over its part of r.
                        var k = 0
                        while starts[k + 1] <= r.lowerBound { k += 1 }
                        while k < segments.count && starts[k] < r.upperBound {
                            let lo = Swift.max(r.lowerBound, starts[k]) - starts[k], hi = Swift.min(r.upperBound, starts[k + 1]) - starts[k]
                            let xp = ps[k]!, gp = gs[k]!, mp = mBase + segments[k].offset, vp = vBase + segments[k].offset
                            let stepSize = stepSizes[k], rc2 = rc2s[k]
                            typealias V = SIMD8<S>
                            var i = lo
                            while i &+ 8 <= hi {
                                let x = UnsafeRawPointer(xp + i).loadUnaligned(as: V.self)
                                let gi = UnsafeRawPointer(gp + i).loadUnaligned(as: V.self) + wd * x
                                let mi = b1 * UnsafeRawPointer(mp + i).loadUnaligned(as: V.self) + ob1 * gi
                                let vi = b2 * UnsafeRawPointer(vp + i).loadUnaligned(as: V.self) + ob2 * gi * gi
                                UnsafeMutableRawPointer(mp + i).storeBytes(of: mi, as: V.self)
                                UnsafeMutableRawPointer(vp + i).storeBytes(of: vi, as: V.self)
                                let upd = x * shrink - stepSize * mi / (vi.squareRoot() * rc2 + e)
                                UnsafeMutableRawPointer(xp + i).storeBytes(of: upd, as: V.self)
                                i &+= 8
                            }
                            while i < hi {
                                let gi = gp[i] + wd * xp[i]
                                let mi = b1 * mp[i] + ob1 * gi
                                let vi = b2 * vp[i] + ob2 * gi * gi
                                mp[i] = mi
                                vp[i] = vi
                                xp[i] = xp[i] * shrink - stepSize * mi / (vi.squareRoot() * rc2 + e)
                                i &+= 1
                            }
                            k += 1
                        }
                    }
                }
            }
        }
    }

    /// SGD with momentum μ and dampening 0 (PyTorch's form): g ← g + λp; b ← μb + g; step d = g + μb (Nesterov)
    /// or b; p ← p − lr·d. Without momentum (`buffer` nil) p ← p − lr·g.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func sgdUpdate<S: BLASScalar>(_ p: inout Tensor<S>, _ g: Tensor<S>, _ buffer: inout Tensor<S>?, lr: Double,
                                         momentum: Double, nesterov: Bool, weightDecay: Double, firstStep: Bool) {
        let mu = S(momentum), l = S(lr), wd = S(weightDecay)
        g.withUnsafeBufferPointer { pg in
            p.withUnsafeMutableBufferPointer { pp in
                let gp = pg.baseAddress!, xp = pp.baseAddress!
                if buffer == nil {
                    for i in 0..<pp.count { xp[i] -= l * (gp[i] + wd * xp[i]) }
                    return
                }
                buffer!.withUnsafeMutableBufferPointer { pb in
                    let bp = pb.baseAddress!
                    for i in 0..<pp.count {
                        let gi = gp[i] + wd * xp[i]
                        let bi = firstStep ? gi : mu * bp[i] + gi
                        bp[i] = bi
                        xp[i] -= l * (nesterov ? gi + mu * bi : bi)
                    }
                }
            }
        }
    }

    /// e ← d·e + (1 − d)·p.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func emaUpdate<S: BLASScalar>(_ e: inout Tensor<S>, _ p: Tensor<S>, decay: Double) {
        let d = S(decay), od = S(1 - decay)
        p.withUnsafeBufferPointer { pp in
            e.withUnsafeMutableBufferPointer { pe in for i in 0..<pe.count { pe[i] = d * pe[i] + od * pp[i] } }
        }
    }

    /// Σ x² in Double.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func sumOfSquares<S: BLASScalar>(_ x: Tensor<S>) -> Double {
        x.withUnsafeBufferPointer { p in
            var acc = 0.0
            var i = 0
            let n = p.count
            while i < n {
                let end = Swift.min(n, i + 1024)
                acc += Double(Tensor<S>.laneDot(p.baseAddress! + i, p.baseAddress! + i, end - i))
                i = end
            }
            return acc
        }
    }

    /// Uniform [0, 1) samples ≥ p become 1/(1 − p), others 0 (an inverted-dropout mask).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func dropoutMask<S: BLASScalar>(_ shape: [Int], p: Double, using g: inout RandomGenerator) -> Tensor<S> {
        let keep = S(1 / (1 - p))
        return Tensor(unsafeUninitializedShape: shape) { d, n in
            for i in 0..<n { d[i] = g.nextUniform() >= p ? keep : 0 }
        }
    }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func normal<S: BLASScalar>(_ shape: [Int], std: Double, using g: inout RandomGenerator) -> Tensor<S> {
        Tensor<S>.normal(shape, std: S(std), using: &g)
    }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func uniform<S: BLASScalar>(_ shape: [Int], bound: Double, using g: inout RandomGenerator) -> Tensor<S> {
        Tensor<S>.uniform(shape, low: S(-bound), high: S(bound), using: &g)
    }

    /// Exact element-wise equality of two tensors (shapes and values).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func equal<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Bool { a == b }
}
