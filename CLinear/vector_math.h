// Vectorised transcendental kernels over contiguous buffers, with run-time CPU dispatch.
//
// The wide paths call glibc's libmvec (the x86-64 vector ABI: _ZGVeN16v_expf is expf on 16 floats in one
// AVX-512 register, _ZGVdN8v_expf on 8 floats with AVX2). Each kernel is compiled for its instruction set with
// a `target` attribute, so the package needs no compiler flags; the dispatcher picks the widest set the CPU
// has, and machines without AVX2 fall back to scalar libm. Results match libm to a few ulp (libmvec's bound
// is 4 ulp). All functions accept src == dst.
#ifndef CLINEAR_VECTOR_MATH_H
#define CLINEAR_VECTOR_MATH_H
#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>

#define CL_AVX512 __attribute__((target("avx512f,avx512dq")))
#define CL_AVX2 __attribute__((target("avx2,fma")))

CL_AVX512 __m512 _ZGVeN16v_expf(__m512);
CL_AVX512 __m512 _ZGVeN16v_logf(__m512);
CL_AVX512 __m512 _ZGVeN16v_tanhf(__m512);
CL_AVX512 __m512d _ZGVeN8v_exp(__m512d);
CL_AVX512 __m512d _ZGVeN8v_log(__m512d);
CL_AVX512 __m512d _ZGVeN8v_tanh(__m512d);
CL_AVX2 __m256 _ZGVdN8v_expf(__m256);
CL_AVX2 __m256 _ZGVdN8v_logf(__m256);
CL_AVX2 __m256 _ZGVdN8v_tanhf(__m256);
CL_AVX2 __m256d _ZGVdN4v_exp(__m256d);
CL_AVX2 __m256d _ZGVdN4v_log(__m256d);
CL_AVX2 __m256d _ZGVdN4v_tanh(__m256d);

/// 2: AVX-512F+DQ, 1: AVX2+FMA, 0: neither (scalar libm). Detected once per process.
static inline int clinear_simd_level(void) {
    static int level = -1;
    if (level < 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) level = 2;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = 1;
        else level = 0;
    }
    return level;
}

// ---- float, AVX-512: 16 lanes, masked loads/stores for the tail ----
#define CL_F512(name, body)                                                                         \
    static inline CL_AVX512 void clinear_##name##_f512(const float *x, float *y, long n) {         \
        long i = 0;                                                                                 \
        for (; i + 16 <= n; i += 16) { __m512 v = _mm512_loadu_ps(x + i); body; _mm512_storeu_ps(y + i, r); } \
        if (i < n) {                                                                                \
            __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);                                        \
            __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(1.0f), m, x + i); body;                  \
            _mm512_mask_storeu_ps(y + i, m, r);                                                     \
        }                                                                                           \
    }
#define CL_D512(name, body)                                                                         \
    static inline CL_AVX512 void clinear_##name##_d512(const double *x, double *y, long n) {       \
        long i = 0;                                                                                 \
        for (; i + 8 <= n; i += 8) { __m512d v = _mm512_loadu_pd(x + i); body; _mm512_storeu_pd(y + i, r); } \
        if (i < n) {                                                                                \
            __mmask8 m = (__mmask8)((1u << (n - i)) - 1u);                                          \
            __m512d v = _mm512_mask_loadu_pd(_mm512_set1_pd(1.0), m, x + i); body;                  \
            _mm512_mask_storeu_pd(y + i, m, r);                                                     \
        }                                                                                           \
    }
// ---- AVX2: 8 floats / 4 doubles; the tail goes through a zero-padded stack buffer ----
#define CL_F256(name, body)                                                                         \
    static inline CL_AVX2 void clinear_##name##_f256(const float *x, float *y, long n) {           \
        long i = 0;                                                                                 \
        for (; i + 8 <= n; i += 8) { __m256 v = _mm256_loadu_ps(x + i); body; _mm256_storeu_ps(y + i, r); } \
        if (i < n) {                                                                                \
            float buf[8] = {1, 1, 1, 1, 1, 1, 1, 1};                                                \
            for (long j = 0; j < n - i; j++) buf[j] = x[i + j];                                     \
            __m256 v = _mm256_loadu_ps(buf); body; _mm256_storeu_ps(buf, r);                        \
            for (long j = 0; j < n - i; j++) y[i + j] = buf[j];                                     \
        }                                                                                           \
    }
#define CL_D256(name, body)                                                                         \
    static inline CL_AVX2 void clinear_##name##_d256(const double *x, double *y, long n) {         \
        long i = 0;                                                                                 \
        for (; i + 4 <= n; i += 4) { __m256d v = _mm256_loadu_pd(x + i); body; _mm256_storeu_pd(y + i, r); } \
        if (i < n) {                                                                                \
            double buf[4] = {1, 1, 1, 1};                                                           \
            for (long j = 0; j < n - i; j++) buf[j] = x[i + j];                                     \
            __m256d v = _mm256_loadu_pd(buf); body; _mm256_storeu_pd(buf, r);                      \
            for (long j = 0; j < n - i; j++) y[i + j] = buf[j];                                     \
        }                                                                                           \
    }

// σ(x) = 1/(1 + e^{−|x|}) for x ≥ 0 and e^{−|x|}/(1 + e^{−|x|}) for x < 0: never overflows.
#define SIG512F(u)                                                                                  \
    __m512 su = (u);                                                                                \
    __m512 e = _ZGVeN16v_expf(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(su)));               \
    __m512 s = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(_mm512_set1_ps(1.0f), e));         \
    s = _mm512_mask_mul_ps(s, _mm512_cmp_ps_mask(su, _mm512_setzero_ps(), _CMP_LT_OQ), s, e);
#define SIG512D(u)                                                                                  \
    __m512d su = (u);                                                                               \
    __m512d e = _ZGVeN8v_exp(_mm512_sub_pd(_mm512_setzero_pd(), _mm512_abs_pd(su)));                \
    __m512d s = _mm512_div_pd(_mm512_set1_pd(1.0), _mm512_add_pd(_mm512_set1_pd(1.0), e));          \
    s = _mm512_mask_mul_pd(s, _mm512_cmp_pd_mask(su, _mm512_setzero_pd(), _CMP_LT_OQ), s, e);
#define SIG256F(u)                                                                                  \
    __m256 su = (u);                                                                                \
    __m256 e = _ZGVdN8v_expf(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_andnot_ps(_mm256_set1_ps(-0.0f), su))); \
    __m256 s = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));         \
    s = _mm256_blendv_ps(s, _mm256_mul_ps(s, e), _mm256_cmp_ps(su, _mm256_setzero_ps(), _CMP_LT_OQ));
#define SIG256D(u)                                                                                  \
    __m256d su = (u);                                                                               \
    __m256d e = _ZGVdN4v_exp(_mm256_sub_pd(_mm256_setzero_pd(), _mm256_andnot_pd(_mm256_set1_pd(-0.0), su))); \
    __m256d s = _mm256_div_pd(_mm256_set1_pd(1.0), _mm256_add_pd(_mm256_set1_pd(1.0), e));          \
    s = _mm256_blendv_pd(s, _mm256_mul_pd(s, e), _mm256_cmp_pd(su, _mm256_setzero_pd(), _CMP_LT_OQ));
// GELU (tanh form): ½x(1 + tanh(z)), z = √(2/π)(x + 0.044715x³), evaluated as x·σ(2z) (the same function:
// 1 + tanh z = 2σ(2z)), which avoids the cancellation of 1 + tanh z for negative x.
#define GELU_ARG512F _mm512_mul_ps(_mm512_set1_ps(1.5957691216057308f), _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), _mm512_mul_ps(v, v)), v, v))
#define GELU_ARG512D _mm512_mul_pd(_mm512_set1_pd(1.5957691216057308), _mm512_fmadd_pd(_mm512_mul_pd(_mm512_set1_pd(0.044715), _mm512_mul_pd(v, v)), v, v))
#define GELU_ARG256F _mm256_mul_ps(_mm256_set1_ps(1.5957691216057308f), _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(0.044715f), _mm256_mul_ps(v, v)), v, v))
#define GELU_ARG256D _mm256_mul_pd(_mm256_set1_pd(1.5957691216057308), _mm256_fmadd_pd(_mm256_mul_pd(_mm256_set1_pd(0.044715), _mm256_mul_pd(v, v)), v, v))

CL_F512(exp, __m512 r = _ZGVeN16v_expf(v))
CL_F512(log, __m512 r = _ZGVeN16v_logf(v))
CL_F512(tanh, __m512 r = _ZGVeN16v_tanhf(v))
CL_F512(sigmoid, SIG512F(v) __m512 r = s)
CL_F512(silu, SIG512F(v) __m512 r = _mm512_mul_ps(v, s))
CL_F512(gelu, SIG512F(GELU_ARG512F) __m512 r = _mm512_mul_ps(v, s))
CL_D512(exp, __m512d r = _ZGVeN8v_exp(v))
CL_D512(log, __m512d r = _ZGVeN8v_log(v))
CL_D512(tanh, __m512d r = _ZGVeN8v_tanh(v))
CL_D512(sigmoid, SIG512D(v) __m512d r = s)
CL_D512(silu, SIG512D(v) __m512d r = _mm512_mul_pd(v, s))
CL_D512(gelu, SIG512D(GELU_ARG512D) __m512d r = _mm512_mul_pd(v, s))
CL_F256(exp, __m256 r = _ZGVdN8v_expf(v))
CL_F256(log, __m256 r = _ZGVdN8v_logf(v))
CL_F256(tanh, __m256 r = _ZGVdN8v_tanhf(v))
CL_F256(sigmoid, SIG256F(v) __m256 r = s)
CL_F256(silu, SIG256F(v) __m256 r = _mm256_mul_ps(v, s))
CL_F256(gelu, SIG256F(GELU_ARG256F) __m256 r = _mm256_mul_ps(v, s))
CL_D256(exp, __m256d r = _ZGVdN4v_exp(v))
CL_D256(log, __m256d r = _ZGVdN4v_log(v))
CL_D256(tanh, __m256d r = _ZGVdN4v_tanh(v))
CL_D256(sigmoid, SIG256D(v) __m256d r = s)
CL_D256(silu, SIG256D(v) __m256d r = _mm256_mul_pd(v, s))
CL_D256(gelu, SIG256D(GELU_ARG256D) __m256d r = _mm256_mul_pd(v, s))
#define CL_HAVE_SIMD 1
#else
#define CL_HAVE_SIMD 0
#endif

// ---- scalar references (also the fallback) ----
static inline float clinear_sigmoidf_1(float x) { float e = expf(-fabsf(x)); float s = 1.0f / (1.0f + e); return x < 0 ? s * e : s; }
static inline double clinear_sigmoid_1(double x) { double e = exp(-fabs(x)); double s = 1.0 / (1.0 + e); return x < 0 ? s * e : s; }
static inline float clinear_geluf_1(float x) { return x * clinear_sigmoidf_1(1.5957691216057308f * (x + 0.044715f * x * x * x)); }
static inline double clinear_gelu_1(double x) { return x * clinear_sigmoid_1(1.5957691216057308 * (x + 0.044715 * x * x * x)); }

#if CL_HAVE_SIMD
#define CL_DISPATCH(name, T, suffix512, suffix256, scalar)                                          \
    static inline void clinear_v##name(const T *x, T *y, long n) {                                  \
        int level = clinear_simd_level();                                                           \
        if (level == 2) { clinear_##suffix512(x, y, n); return; }                                   \
        if (level == 1) { clinear_##suffix256(x, y, n); return; }                                   \
        for (long i = 0; i < n; i++) y[i] = scalar;                                                 \
    }
#else
#define CL_DISPATCH(name, T, suffix512, suffix256, scalar)                                          \
    static inline void clinear_v##name(const T *x, T *y, long n) { for (long i = 0; i < n; i++) y[i] = scalar; }
#endif

CL_DISPATCH(expf, float, exp_f512, exp_f256, expf(x[i]))
CL_DISPATCH(logf, float, log_f512, log_f256, logf(x[i]))
CL_DISPATCH(tanhf, float, tanh_f512, tanh_f256, tanhf(x[i]))
CL_DISPATCH(sigmoidf, float, sigmoid_f512, sigmoid_f256, clinear_sigmoidf_1(x[i]))
CL_DISPATCH(siluf, float, silu_f512, silu_f256, x[i] * clinear_sigmoidf_1(x[i]))
CL_DISPATCH(geluf, float, gelu_f512, gelu_f256, clinear_geluf_1(x[i]))
CL_DISPATCH(exp, double, exp_d512, exp_d256, exp(x[i]))
CL_DISPATCH(log, double, log_d512, log_d256, log(x[i]))
CL_DISPATCH(tanh, double, tanh_d512, tanh_d256, tanh(x[i]))
CL_DISPATCH(sigmoid, double, sigmoid_d512, sigmoid_d256, clinear_sigmoid_1(x[i]))
CL_DISPATCH(silu, double, silu_d512, silu_d256, x[i] * clinear_sigmoid_1(x[i]))
CL_DISPATCH(gelu, double, gelu_d512, gelu_d256, clinear_gelu_1(x[i]))

// ---- binary arithmetic: y = a ∘ b with ∘ ∈ {+, −, ×, ÷}; a stride of 0 broadcasts that operand's first element ----
enum { CLINEAR_ADD = 0, CLINEAR_SUB = 1, CLINEAR_MUL = 2, CLINEAR_DIV = 3 };

#define CL_BIN_LOOP(T, W, LOAD, MLOAD, STORE, MSTORE, SET1, MASKT, OPV)                             \
    {                                                                                               \
        long i = 0;                                                                                 \
        if (sa && sb) { for (; i + W <= n; i += W) STORE(y + i, OPV(LOAD(a + i), LOAD(b + i))); }   \
        else if (sb) { T va = SET1(a[0]); for (; i + W <= n; i += W) STORE(y + i, OPV(va, LOAD(b + i))); } \
        else if (sa) { T vb = SET1(b[0]); for (; i + W <= n; i += W) STORE(y + i, OPV(LOAD(a + i), vb)); } \
        if (i < n) {                                                                                \
            MASKT m = (MASKT)((1ull << (n - i)) - 1ull);                                            \
            T va = sa ? MLOAD(SET1(1), m, a + i) : SET1(a[0]);                                      \
            T vb = sb ? MLOAD(SET1(1), m, b + i) : SET1(b[0]);                                      \
            MSTORE(y + i, m, OPV(va, vb));                                                          \
        }                                                                                           \
    }

#if CL_HAVE_SIMD
#define CL_BIN_F512(OPV) CL_BIN_LOOP(__m512, 16, _mm512_loadu_ps, _mm512_mask_loadu_ps, _mm512_storeu_ps, _mm512_mask_storeu_ps, _mm512_set1_ps, __mmask16, OPV)
#define CL_BIN_D512(OPV) CL_BIN_LOOP(__m512d, 8, _mm512_loadu_pd, _mm512_mask_loadu_pd, _mm512_storeu_pd, _mm512_mask_storeu_pd, _mm512_set1_pd, __mmask8, OPV)
static inline CL_AVX512 void clinear_binary_f512(int op, const float *a, long sa, const float *b, long sb, float *y, long n) {
    switch (op) {
    case CLINEAR_ADD: CL_BIN_F512(_mm512_add_ps) break;
    case CLINEAR_SUB: CL_BIN_F512(_mm512_sub_ps) break;
    case CLINEAR_MUL: CL_BIN_F512(_mm512_mul_ps) break;
    default: CL_BIN_F512(_mm512_div_ps) break;
    }
}
static inline CL_AVX512 void clinear_binary_d512(int op, const double *a, long sa, const double *b, long sb, double *y, long n) {
    switch (op) {
    case CLINEAR_ADD: CL_BIN_D512(_mm512_add_pd) break;
    case CLINEAR_SUB: CL_BIN_D512(_mm512_sub_pd) break;
    case CLINEAR_MUL: CL_BIN_D512(_mm512_mul_pd) break;
    default: CL_BIN_D512(_mm512_div_pd) break;
    }
}
#endif

#define CL_BIN_SCALAR(T)                                                                            \
    for (long i = 0; i < n; i++) {                                                                  \
        T u = a[sa ? i : 0], v = b[sb ? i : 0];                                                     \
        y[i] = op == CLINEAR_ADD ? u + v : op == CLINEAR_SUB ? u - v : op == CLINEAR_MUL ? u * v : u / v; \
    }

/// y[i] = a[i·sa] ∘ b[i·sb] for i < n (sa, sb ∈ {0, 1}, not both 0). AVX-512 when the CPU has it, else scalar.
static inline void clinear_binary_f(int op, const float *a, long sa, const float *b, long sb, float *y, long n) {
#if CL_HAVE_SIMD
    if (clinear_simd_level() == 2 && (sa || sb)) { clinear_binary_f512(op, a, sa, b, sb, y, n); return; }
#endif
    CL_BIN_SCALAR(float)
}
static inline void clinear_binary_d(int op, const double *a, long sa, const double *b, long sb, double *y, long n) {
#if CL_HAVE_SIMD
    if (clinear_simd_level() == 2 && (sa || sb)) { clinear_binary_d512(op, a, sa, b, sb, y, n); return; }
#endif
    CL_BIN_SCALAR(double)
}

#endif
