import Foundation

/// Transcendental kernels over contiguous buffers: `dst[i] = f(src[i])` for `i < n`.
///
/// Concrete (non-generic) implementations per type, so generic tensor code pays one dynamic call per buffer,
/// never per element. `src` and `dst` may be the same buffer.
public protocol VectorMathScalar: BinaryFloatingPoint {
    /// eˣ
    static func vexp(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
    /// ln x
    static func vlog(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
    /// tanh x
    static func vtanh(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
    /// 1/(1 + e⁻ˣ)
    static func vsigmoid(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
    /// x/(1 + e⁻ˣ)
    static func vsilu(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
    /// ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
    static func vgelu(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
}

extension Float: VectorMathScalar {
    public static func vexp(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { dst[i] = Foundation.expf(src[i]) }
    }
    public static func vlog(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { dst[i] = Foundation.logf(src[i]) }
    }
    public static func vtanh(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { dst[i] = Foundation.tanhf(src[i]) }
    }
    public static func vsigmoid(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n {
            let x = src[i]
            if x >= 0 { dst[i] = 1 / (1 + Foundation.expf(-x)) } else { let e = Foundation.expf(x); dst[i] = e / (1 + e) }
        }
    }
    public static func vsilu(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n {
            let x = src[i]
            if x >= 0 { dst[i] = x / (1 + Foundation.expf(-x)) } else { let e = Foundation.expf(x); dst[i] = x * e / (1 + e) }
        }
    }
    public static func vgelu(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let c: Float = 0.7978845608028654
        for i in 0..<n { let x = src[i]; dst[i] = 0.5 * x * (1 + Foundation.tanhf(c * (x + 0.044715 * x * x * x))) }
    }
}

extension Double: VectorMathScalar {
    public static func vexp(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { dst[i] = Foundation.exp(src[i]) }
    }
    public static func vlog(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { dst[i] = Foundation.log(src[i]) }
    }
    public static func vtanh(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { dst[i] = Foundation.tanh(src[i]) }
    }
    public static func vsigmoid(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n {
            let x = src[i]
            if x >= 0 { dst[i] = 1 / (1 + Foundation.exp(-x)) } else { let e = Foundation.exp(x); dst[i] = e / (1 + e) }
        }
    }
    public static func vsilu(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n {
            let x = src[i]
            if x >= 0 { dst[i] = x / (1 + Foundation.exp(-x)) } else { let e = Foundation.exp(x); dst[i] = x * e / (1 + e) }
        }
    }
    public static func vgelu(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) {
        let c = 0.7978845608028654
        for i in 0..<n { let x = src[i]; dst[i] = 0.5 * x * (1 + Foundation.tanh(c * (x + 0.044715 * x * x * x))) }
    }
}
