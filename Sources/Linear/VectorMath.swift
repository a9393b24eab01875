import CLinear

/// Transcendental kernels over contiguous buffers: `dst[i] = f(src[i])` for `i < n`.
///
/// Concrete (non-generic) implementations per type, so generic tensor code pays one dynamic call per buffer,
/// never per element. They run glibc's libmvec vector functions (AVX-512 or AVX2, chosen at run time; see
/// `CLinear/vector_math.h`) and fall back to scalar libm on other CPUs. Accuracy: within a few ulp of libm.
/// `src` and `dst` may be the same buffer.
public protocol VectorMathScalar: BinaryFloatingPoint {
    /// eˣ
    static func vexp(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
    /// ln x
    static func vlog(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
    /// tanh x
    static func vtanh(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
    /// σ(x) = 1/(1 + e⁻ˣ), evaluated as e^{−|x|}-based branches so it never overflows
    static func vsigmoid(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
    /// x·σ(x)
    static func vsilu(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
    /// ½x(1 + tanh(√(2/π)(x + 0.044715x³))), evaluated as x·σ(2√(2/π)(x + 0.044715x³)) to avoid cancellation
    static func vgelu(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
    /// y[i] = a[i·sa] ∘ b[i·sb] for ∘ = `op` (+ − × ÷), sa, sb ∈ {0, 1}: full-width (AVX-512) arithmetic.
    /// Only called when `wideArithmetic` is true; `y` may alias `a` or `b`.
    static func vbinary(_ op: ElementwiseOp, _ a: UnsafePointer<Self>, _ sa: Int, _ b: UnsafePointer<Self>, _ sb: Int,
                        _ y: UnsafeMutablePointer<Self>, _ n: Int)
}

/// The four arithmetic operations the wide kernels implement.
public enum ElementwiseOp: Int32, Sendable {
    case add = 0, subtract = 1, multiply = 2, divide = 3
}

/// True when the CPU has AVX-512, so `vbinary` runs 16 floats (8 doubles) per instruction; otherwise Swift's own
/// loops (which the compiler vectorises for the baseline SSE2 target) are as fast.
public let wideArithmetic: Bool = clinear_simd_level() == 2

/// The instruction set the vector kernels use on this CPU: "AVX-512", "AVX2" or "scalar".
public var vectorMathInstructionSet: String {
    switch clinear_simd_level() { case 2: return "AVX-512"; case 1: return "AVX2"; default: return "scalar" }
}

extension Float: VectorMathScalar {
    public static func vexp(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) { clinear_vexpf(src, dst, n) }
    public static func vlog(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) { clinear_vlogf(src, dst, n) }
    public static func vtanh(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) { clinear_vtanhf(src, dst, n) }
    public static func vsigmoid(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) { clinear_vsigmoidf(src, dst, n) }
    public static func vsilu(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) { clinear_vsiluf(src, dst, n) }
    public static func vgelu(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) { clinear_vgeluf(src, dst, n) }
    public static func vbinary(_ op: ElementwiseOp, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                               _ y: UnsafeMutablePointer<Float>, _ n: Int) { clinear_binary_f(op.rawValue, a, sa, b, sb, y, n) }
}

extension Double: VectorMathScalar {
    public static func vexp(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) { clinear_vexp(src, dst, n) }
    public static func vlog(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) { clinear_vlog(src, dst, n) }
    public static func vtanh(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) { clinear_vtanh(src, dst, n) }
    public static func vsigmoid(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) { clinear_vsigmoid(src, dst, n) }
    public static func vsilu(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) { clinear_vsilu(src, dst, n) }
    public static func vgelu(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) { clinear_vgelu(src, dst, n) }
    public static func vbinary(_ op: ElementwiseOp, _ a: UnsafePointer<Double>, _ sa: Int, _ b: UnsafePointer<Double>, _ sb: Int,
                               _ y: UnsafeMutablePointer<Double>, _ n: Int) { clinear_binary_d(op.rawValue, a, sa, b, sb, y, n) }
}
