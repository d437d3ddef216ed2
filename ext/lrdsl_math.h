/* lrdsl's C evaluator, shared by its two translation units: the branch
 * formulas, the raised-cosine helpers and the loop macros (lrdsl_prims.c, the
 * primitives) and the small table helpers (lrdsl_kernel.c, the tree walk).
 *
 * Every formula is written once per branch, as a macro over the raised-cosine
 * helper it uses: the scalar path instantiates it with libm's cos and sin
 * (bit-identical to lrdsl's Python scalar path), the vector loops with the
 * polynomial ones (within a few ulp).  Built with -fopenmp-simd and
 * -fno-math-errno but without -ffast-math (no reassociation, no contraction);
 * pow goes to glibc's libmvec through `omp declare simd`, and each loop is
 * compiled for AVX-512F, AVX2 and baseline x86-64 and picked at load time by
 * CPU feature (target_clones; not by CPU model, which would send an AMD or a
 * newer Intel part to the baseline), so one build runs anywhere.
 */
#ifndef LRDSL_MATH_H
#define LRDSL_MATH_H

#include "lrdsl_kernel.h"

#include <math.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__)
#define LR_VECTOR_MATH 1
#pragma omp declare simd notinbranch
extern double pow(double, double);
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LR_VECTOR_MATH 0
#define CLONES
#endif

#define HALF_PI (M_PI / 2)
#define CHUNK (1 << 30) /* int32 loop counters vectorize; chunk longer ranges */



static inline void fill(double *out, int64_t n, double v) {
    for (int64_t i = 0; i < n; i++) out[i] = v;
}

static inline int64_t floordiv(int64_t a, int64_t b) { return a / b; } /* a, b >= 0 */

/* number of sorted values a[0..n) that are <= x (bisect_right) */
static inline int64_t upper(const int64_t *a, int64_t n, int64_t x) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* number of sorted values a[0..n) that are < x (bisect_left) */
static inline int64_t lower_(const int64_t *a, int64_t n, int64_t x) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* first j in [0, n) with t[j] - shift >= x (t sorted) */
static inline int64_t first_at_least(const int64_t *t, int64_t n, int64_t shift, int64_t x) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (t[mid] - shift < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* --------------------------------------------------------- branch formulas */

/* (1 + cos(angle)) / 2 and its second-half form sin(rest)^2; see
 * lrdsl/primitives/decays.py:raised_cosine.  The scalar forms use libm. */
static inline double rc_first(double angle) { return (1.0 + cos(angle)) / 2; }
static inline double rc_second(double rest) {
    double s = sin(rest);
    return s * s;
}

/* The vector forms.  A raised cosine's first half has angle a in [0, pi/2]:
 * below pi/4 it is 1 - sin(a/2)^2, above it (1 + sin(pi/2 - a))/2 (which, like
 * the libm form, gives exactly 0.5 at a = pi/2), both with sine arguments in
 * [0, pi/4].  Its second half has rest = (pi - a)/2 in [0, pi/4].  fdlibm's
 * __kernel_sin is accurate to 1 ulp there and needs no range reduction, so
 * these inline and vectorize.  A first-half loop is split where a crosses
 * pi/4; exactly where does not matter, both forms are accurate around it. */
static const double KS1 = -1.66666666666666324348e-01, KS2 = 8.33333333332248946124e-03,
                    KS3 = -1.98412698298579493134e-04, KS4 = 2.75573137070700676789e-06,
                    KS5 = -2.50507602534068634195e-08, KS6 = 1.58969099521155010221e-10;
static const double PIO2_HI = 1.57079632673412561417e+00, PIO2_LO = 6.07710050650619224932e-11;
static inline double ksin(double x) { /* |x| <= pi/4 */
    double z = x * x, v = z * x, r = KS2 + z * (KS3 + z * (KS4 + z * (KS5 + z * KS6)));
    return x + v * (KS1 + z * r);
}
static inline double vrc_first_lo(double angle) {
    double s = ksin(0.5 * angle);
    return 1.0 - s * s;
}
static inline double vrc_first_hi(double angle) { return (1.0 + ksin((PIO2_HI - angle) + PIO2_LO)) / 2; }
static inline double vrc_second(double rest) {
    double s = ksin(rest);
    return s * s;
}

/* first index in [0, n) whose step t0+i has passed `cross` (a real step) */
static inline int32_t cross_at(double t0, int32_t n, double cross, int rising) {
    double k = rising ? ceil(cross - t0) : floor(cross - t0) + 1;
    if (!(k > 0)) return 0;
    return k > n ? n : (int32_t)k;
}

/* both ends exact: a at t = 0, b at t = N (and a*((N-t)/N) is HF's linear decay bit for bit) */
static inline double f_linear(double t, double N, double a, double b) { return a * ((N - t) / N) + b * (t / N); }

/* Cosine-shaped branches, written once over the raised-cosine helpers
 * RC1 (first half, argument an angle) and RC2 (second half, a rest angle). */
#define COSINE_1(RC1, t, N, pk, mn) ((mn) + ((pk) - (mn)) * RC1((M_PI * (t)) / (N)))
#define COSINE_2(RC2, t, N, pk, mn) ((mn) + ((pk) - (mn)) * RC2(((N) - (t)) * (HALF_PI / (N))))
/* warmup, shape=cos: the cosine descent run backwards */
#define WARMCOS_1(RC1, t, N, a, b) ((a) + ((b) - (a)) * RC1((M_PI * ((N) - (t))) / (N)))
#define WARMCOS_2(RC2, t, N, a, b) ((a) + ((b) - (a)) * RC2((t) * (HALF_PI / (N))))
/* a restart cycle starting at real step B (next at Bn), length L, amplitude factor mi */
#define RESTART_1(RC1, t, B, L, mi, pk, mn) ((mn) + ((pk) - (mn)) * ((mi) * RC1(M_PI * (((t) - (B)) / (L)))))
#define RESTART_2(RC2, t, Bn, L, mi, pk, mn) ((mn) + ((pk) - (mn)) * ((mi) * RC2(((Bn) - (t)) / (L) * HALF_PI)))
/* a 1cycle phase from s0 to e, lr a to b */
#define PHASE_COS_1(RC1, t, s0, e, a, b) ((b) + ((a) - (b)) * RC1(M_PI * (((t) - (s0)) / ((e) - (s0)))))
#define PHASE_COS_2(RC2, t, s0, e, a, b) ((b) + ((a) - (b)) * RC2(((e) - (t)) / ((e) - (s0)) * HALF_PI))

static inline double f_warmexp(double t, double N, double a, double b) { return a * pow(b / a, t / N); }

static inline double f_exp(double t, double a, double g, double every) { return a * pow(g, t / every); }
static inline double f_poly(double t, double N, double a, double b, double pw) {
    return (a - b) * pow((N - t) / N, pw) + b;
}
static inline double f_invtime(double x, double a, double rate) { return a / (1.0 + rate * x); }
static inline double f_invsqrt(double t, double a, double w, double ts) {
    return t < w ? a * t / w : a / sqrt((t - w + ts) / ts);
}
static inline double f_noam(double t, double scale, double wp) {
    double s = t < 1.0 ? 1.0 : t;
    double x = 1.0 / sqrt(s), y = s * wp;
    return scale * (y < x ? y : x);
}
static inline double f_cyclic(double r, double c, double t, const double *f, const int64_t *ip, int up_part) {
    double sf = up_part ? r / (double)ip[0] : ((double)(ip[0] + ip[1]) - r) / (double)ip[1];
    double height = (f[1] - f[0]) * sf;
    if (ip[2] == 1) height = height * pow(0.5, c);
    else if (ip[2] == 2) height = height * pow(f[2], t);
    return f[0] + height;
}
/* torch's (b - a) * pct + a, as a weighted mean: both weights are >= 0 in the
   phase, so a value near 0 keeps its relative precision (no cancellation). */
static inline double f_phase_lin(double t, double s0, double e, double a, double b) {
    return (a * (e - t) + b * (t - s0)) / (e - s0);
}

/* out[i] = EXPR for i in [lo, hi), in a loop the compiler vectorizes */
#define SIMD_FILL(lo, hi, EXPR)                                                                                    \
    _Pragma("omp simd") for (int32_t i = (lo); i < (hi); i++) out[i] = (EXPR)

/* The first half of a raised-cosine branch FORM over t = t0 + i: vrc_first_lo on
 * one side of `split`, vrc_first_hi on the other (hi before split when hi_first). */
#define FIRST_HALF(FORM, ...)                                                                                      \
    do {                                                                                                           \
        if (hi_first) {                                                                                            \
            SIMD_FILL(0, split, FORM(vrc_first_hi, t0 + (double)i, __VA_ARGS__));                                  \
            SIMD_FILL(split, n, FORM(vrc_first_lo, t0 + (double)i, __VA_ARGS__));                                  \
        } else {                                                                                                   \
            SIMD_FILL(0, split, FORM(vrc_first_lo, t0 + (double)i, __VA_ARGS__));                                  \
            SIMD_FILL(split, n, FORM(vrc_first_hi, t0 + (double)i, __VA_ARGS__));                                  \
        }                                                                                                          \
    } while (0)

/* Chunked dispatch so loop counters fit int32. */
#define CHUNKED(call_with_out_n_t0)                                                                           \
    for (int64_t _o = 0; _o < n; _o += CHUNK) {                                                              \
        int32_t _m = (int32_t)(n - _o < CHUNK ? n - _o : CHUNK);                                             \
        double *_out = out + _o;                                                                             \
        double _t0 = (double)(t0 + _o);                                                                      \
        (void)_t0;                                                                                           \
        call_with_out_n_t0;                                                                                  \
    }

#endif
