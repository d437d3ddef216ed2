/* lrdsl's C evaluator: the primitives.  Each registry primitive has a
 * lrp_<name>_scalar and (unless it declares vector=False) a lrp_<name>_range
 * function here; the opcode enum (lrdsl_ops.h) and the dispatch tables
 * (lrdsl_dispatch.inc, included at the end) are generated from the registry by
 * `python -m lrdsl._gen_kernel`, so a primitive without its C case does not
 * build (-Werror=implicit-function-declaration).
 *
 * Structure: each primitive runs one tight loop per piece of a range (a
 * cosine's two halves, a restart cycle, a stair), with no per-step dispatch.
 * Those loops vectorize: pow goes to glibc's libmvec through `omp declare
 * simd`; the raised cosine (1 + cos x)/2 that every cosine-shaped primitive
 * uses needs sin only on [0, pi/4] (see vrc_first_lo, vrc_first_hi and
 * vrc_second), which an inlined fdlibm kernel polynomial computes to 1 ulp with
 * no range reduction.
 */
#include "lrdsl_math.h"

#define LRP_ARGS const double *f, int64_t nf, const int64_t *ip, int64_t ni
#define LRP_UNUSED ((void)f, (void)nf, (void)ip, (void)ni)

/* ---------------------------------------------------------- scalar helpers */

/* warmup, shape=sqrt: HuggingFace's 1 - sqrt(1 - t/n) as (t/n)/(1 + sqrt((n-t)/n)) */
static inline double f_warmsqrt(double t, double N, double a, double b) {
    return a + (b - a) * ((t / N) / (1.0 + sqrt((N - t) / N)));
}

/* cooldown (lrdsl/primitives/cooldown.py): with t elapsed and r = n - t remaining
 * steps, start - (start-end)*G in the first half (2t <= n), end + (start-end)*F
 * after it; G is the drop done, F = 1 - G the drop to come.  Shape codes as
 * COOLDOWN_SHAPES; RC is the sin^2 helper (rc_second, or vrc_second in loops). */
#define COOL_G_LINEAR(RC, t, r, N, k) ((t) / (N))
#define COOL_F_LINEAR(RC, t, r, N, k) ((r) / (N))
#define COOL_G_COS(RC, t, r, N, k) RC((t) * (HALF_PI / (N)))
#define COOL_F_COS(RC, t, r, N, k) RC((r) * (HALF_PI / (N)))
#define COOL_G_SQRT(RC, t, r, N, k) sqrt((t) / (N))
#define COOL_F_SQRT(RC, t, r, N, k) (((r) / (N)) / (1.0 + sqrt((t) / (N))))
#define COOL_G_SQUARE(RC, t, r, N, k) (((t) / (N)) * ((t) / (N)))
#define COOL_F_SQUARE(RC, t, r, N, k) (((r) / (N)) * (1.0 + (t) / (N)))
#define COOL_G_POWER(RC, t, r, N, k) pow((t) / (N), (k))
#define COOL_F_POWER(RC, t, r, N, k) (1.0 - pow((t) / (N), (k)))

#define COOL_PICK(G, F) (first ? s - d * G(rc_second, t, r, N, k) : e + d * F(rc_second, t, r, N, k))
static double f_cool(int64_t shape, int first, double t, double N, double s, double e, double k) {
    double r = N - t, d = s - e;
    switch (shape) {
    case 0: return COOL_PICK(COOL_G_LINEAR, COOL_F_LINEAR);
    case 1: return COOL_PICK(COOL_G_COS, COOL_F_COS);
    case 2: return COOL_PICK(COOL_G_SQRT, COOL_F_SQRT);
    case 3: return COOL_PICK(COOL_G_SQUARE, COOL_F_SQUARE);
    case 4: return COOL_PICK(COOL_G_POWER, COOL_F_POWER);
    default: return first ? s * pow(e / s, t / N) : e * pow(s / e, r / N); /* exp */
    }
}

/* ------------------------------------------------------- each primitive, one step
 * lrp_<name>_scalar(f, nf, ip, ni, t): the value at local step t, from the
 * node's float slots f[0..nf) and int slots ip[0..ni) (layouts: each
 * primitive's `slots` in lrdsl/primitives/; checked by its `check`). */

static double lrp_const_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    return f[0];
}
static double lrp_linear_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    return f_linear((double)t, (double)ip[0], f[0], f[1]);
}
static double lrp_warmup_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    double x = (double)t, N = (double)ip[0];
    if (ip[1] == 0) return f_linear(x, N, f[0], f[1]);
    if (ip[1] == 1)
        return 2 * (ip[0] - t) <= ip[0] ? WARMCOS_1(rc_first, x, N, f[0], f[1]) : WARMCOS_2(rc_second, x, N, f[0], f[1]);
    if (ip[1] == 3) return f_warmsqrt(x, N, f[0], f[1]);
    return f_warmexp(x, N, f[0], f[1]);
}
static double lrp_cosine_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    double x = (double)t;
    return 2 * t <= ip[0] ? COSINE_1(rc_first, x, (double)ip[0], f[0], f[1])
                          : COSINE_2(rc_second, x, (double)ip[0], f[0], f[1]);
}
static double lrp_cooldown_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    return f_cool(ip[1], 2 * t <= ip[0], (double)t, (double)ip[0], f[0], f[1], f[2]);
}
static double lrp_step_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    return f[0] * pow(f[1], (double)floordiv(t, ip[0]));
}
static double lrp_multistep_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    return f[0] * pow(f[1], (double)upper(ip, ni, t));
}
static double lrp_exp_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    if (ip[1]) return f[0] * pow(f[1], (double)floordiv(t, ip[0]));
    return f_exp((double)t, f[0], f[1], (double)ip[0]);
}
static double lrp_poly_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    return f_poly((double)t, (double)ip[0], f[0], f[1], f[2]);
}
static double lrp_inverse_time_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    return f_invtime(ip[1] ? (double)floordiv(t, ip[0]) : (double)t / (double)ip[0], f[0], f[1]);
}
static double lrp_inverse_sqrt_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    return f_invsqrt((double)t, f[0], (double)ip[0], (double)ip[1]);
}
static double lrp_noam_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    return f_noam((double)t, f[0], pow((double)ip[0], -1.5));
}
static double lrp_piecewise_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    return f[lower_(ip, ni, t)];
}
static double lrp_plateau_scalar(LRP_ARGS, int64_t t) { /* f: start, then the level after each cut; ip: the cut steps */
    LRP_UNUSED;
    return f[upper(ip, ni, t)];
}

/* ------------------------------------------------------------- vector loops */
CLONES static void v_linear(double *out, int32_t n, double t0, double N, double a, double b) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = f_linear(t0 + (double)i, N, a, b);
}

CLONES static void v_cosine_1(double *out, int32_t n, double t0, double N, double pk, double mn, int32_t split, int hi_first) {
    FIRST_HALF(COSINE_1, N, pk, mn);
}
CLONES static void v_cosine_2(double *out, int32_t n, double t0, double N, double pk, double mn) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = COSINE_2(vrc_second, t0 + (double)i, N, pk, mn);
}
CLONES static void v_warmcos_1(double *out, int32_t n, double t0, double N, double a, double b, int32_t split, int hi_first) {
    FIRST_HALF(WARMCOS_1, N, a, b);
}
CLONES static void v_warmcos_2(double *out, int32_t n, double t0, double N, double a, double b) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = WARMCOS_2(vrc_second, t0 + (double)i, N, a, b);
}
CLONES static void v_warmexp(double *out, int32_t n, double t0, double N, double a, double b) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = f_warmexp(t0 + (double)i, N, a, b);
}
CLONES static void v_warmsqrt(double *out, int32_t n, double t0, double N, double a, double b) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = f_warmsqrt(t0 + (double)i, N, a, b);
}
/* a cooldown's two halves, one loop each per shape */
#define COOL_ARGS double *out, int32_t n, double t0, double N, double s, double e, double k
typedef void (*cool_loop)(COOL_ARGS);
#define COOL_LOOPS(NAME, FIRST, SECOND)                                                                          \
    CLONES static void v_cool_##NAME##_1(COOL_ARGS) {                                                            \
        double d = s - e;                                                                                        \
        (void)d, (void)k;                                                                                        \
        _Pragma("omp simd") for (int32_t i = 0; i < n; i++) {                                                    \
            double t = t0 + (double)i, r = N - t;                                                                \
            (void)r;                                                                                             \
            out[i] = (FIRST);                                                                                    \
        }                                                                                                        \
    }                                                                                                            \
    CLONES static void v_cool_##NAME##_2(COOL_ARGS) {                                                            \
        double d = s - e;                                                                                        \
        (void)d, (void)k;                                                                                        \
        _Pragma("omp simd") for (int32_t i = 0; i < n; i++) {                                                    \
            double t = t0 + (double)i, r = N - t;                                                                \
            (void)r;                                                                                             \
            out[i] = (SECOND);                                                                                   \
        }                                                                                                        \
    }
#define COOL_SHAPE(NAME, G, F) COOL_LOOPS(NAME, s - d * G(vrc_second, t, r, N, k), e + d * F(vrc_second, t, r, N, k))
COOL_SHAPE(linear, COOL_G_LINEAR, COOL_F_LINEAR)
COOL_SHAPE(cos, COOL_G_COS, COOL_F_COS)
COOL_SHAPE(sqrt, COOL_G_SQRT, COOL_F_SQRT)
COOL_SHAPE(square, COOL_G_SQUARE, COOL_F_SQUARE)
COOL_SHAPE(power, COOL_G_POWER, COOL_F_POWER)
COOL_LOOPS(exp, s * pow(e / s, t / N), e * pow(s / e, r / N))
static const cool_loop cool_first[] = {v_cool_linear_1, v_cool_cos_1,   v_cool_sqrt_1,
                                       v_cool_square_1, v_cool_power_1, v_cool_exp_1};
static const cool_loop cool_second[] = {v_cool_linear_2, v_cool_cos_2,   v_cool_sqrt_2,
                                        v_cool_square_2, v_cool_power_2, v_cool_exp_2};
CLONES static void v_exp(double *out, int32_t n, double t0, double a, double g, double every) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = f_exp(t0 + (double)i, a, g, every);
}
CLONES static void v_poly(double *out, int32_t n, double t0, double N, double a, double b, double pw) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = f_poly(t0 + (double)i, N, a, b, pw);
}
CLONES static void v_invtime(double *out, int32_t n, double t0, double a, double rate, double every) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = f_invtime((t0 + (double)i) / every, a, rate);
}
CLONES static void v_invsqrt(double *out, int32_t n, double t0, double a, double w, double ts) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = f_invsqrt(t0 + (double)i, a, w, ts);
}
CLONES static void v_noam(double *out, int32_t n, double t0, double scale, double wp) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = f_noam(t0 + (double)i, scale, wp);
}
static void stairs(double *out, int64_t t0, int64_t n, int64_t every, double a, double g, int inverse_time) {
    int64_t t = t0, end = t0 + n;
    while (t < end) {
        int64_t k = floordiv(t, every);
        int64_t stop = (k + 1) * every;
        if (stop > end) stop = end;
        double v = inverse_time ? f_invtime((double)k, a, g) : a * pow(g, (double)k);
        fill(out + (t - t0), stop - t, v);
        t = stop;
    }
}

/* ------------------------------------------------------- each primitive, a range
 * lrp_<name>_range(f, nf, ip, ni, t0, n, out): values at local steps
 * t0 .. t0+n-1 into out[0..n), one tight (vectorized) loop per piece. */

static void lrp_const_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    (void)t0;
    fill(out, n, f[0]);
}
static void lrp_linear_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    CHUNKED(v_linear(_out, _m, _t0, (double)ip[0], f[0], f[1]));
}
static void lrp_warmup_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    double N = (double)ip[0];
    if (ip[1] == 0) {
        CHUNKED(v_linear(_out, _m, _t0, N, f[0], f[1]));
        return;
    }
    if (ip[1] == 2) {
        CHUNKED(v_warmexp(_out, _m, _t0, N, f[0], f[1]));
        return;
    }
    if (ip[1] == 3) {
        CHUNKED(v_warmsqrt(_out, _m, _t0, N, f[0], f[1]));
        return;
    }
    /* cos: the sin^2 form while 2*(n - t) > n, i.e. t < n/2 */
    int64_t mid = ip[0] - ip[0] / 2; /* first t with 2*(n-t) <= n */
    int64_t split = mid < t0 ? 0 : mid - t0 > n ? n : mid - t0;
    for (int64_t o = 0; o < split; o += CHUNK) {
        int32_t c = (int32_t)(split - o < CHUNK ? split - o : CHUNK);
        v_warmcos_2(out + o, c, (double)(t0 + o), N, f[0], f[1]);
    }
    for (int64_t o = split; o < n; o += CHUNK) {
        int32_t c = (int32_t)(n - o < CHUNK ? n - o : CHUNK);
        double to = (double)(t0 + o);
        v_warmcos_1(out + o, c, to, N, f[0], f[1], cross_at(to, c, 0.75 * N, 0), 1);
    }
}
static void lrp_cosine_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    double N = (double)ip[0];
    int64_t mid = ip[0] / 2 + 1; /* first t with 2t > n */
    int64_t split = mid < t0 ? 0 : mid - t0 > n ? n : mid - t0;
    for (int64_t o = 0; o < split; o += CHUNK) {
        int32_t c = (int32_t)(split - o < CHUNK ? split - o : CHUNK);
        double to = (double)(t0 + o);
        v_cosine_1(out + o, c, to, N, f[0], f[1], cross_at(to, c, 0.25 * N, 1), 0);
    }
    for (int64_t o = split; o < n; o += CHUNK) {
        int32_t c = (int32_t)(n - o < CHUNK ? n - o : CHUNK);
        v_cosine_2(out + o, c, (double)(t0 + o), N, f[0], f[1]);
    }
}
static void lrp_cooldown_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    double N = (double)ip[0];
    int64_t mid = ip[0] / 2 + 1; /* first t with 2t > n */
    int64_t split = mid < t0 ? 0 : mid - t0 > n ? n : mid - t0;
    for (int64_t o = 0; o < split; o += CHUNK) {
        int32_t c = (int32_t)(split - o < CHUNK ? split - o : CHUNK);
        cool_first[ip[1]](out + o, c, (double)(t0 + o), N, f[0], f[1], f[2]);
    }
    for (int64_t o = split; o < n; o += CHUNK) {
        int32_t c = (int32_t)(n - o < CHUNK ? n - o : CHUNK);
        cool_second[ip[1]](out + o, c, (double)(t0 + o), N, f[0], f[1], f[2]);
    }
}
static void lrp_step_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    stairs(out, t0, n, ip[0], f[0], f[1], 0);
}
static void lrp_multistep_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    int64_t t = t0, end = t0 + n;
    while (t < end) {
        int64_t k = upper(ip, ni, t);
        int64_t stop = k < ni ? ip[k] : end;
        if (stop > end) stop = end;
        fill(out + (t - t0), stop - t, f[0] * pow(f[1], (double)k));
        t = stop;
    }
}
static void lrp_exp_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    if (ip[1]) stairs(out, t0, n, ip[0], f[0], f[1], 0);
    else CHUNKED(v_exp(_out, _m, _t0, f[0], f[1], (double)ip[0]));
}
static void lrp_poly_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    CHUNKED(v_poly(_out, _m, _t0, (double)ip[0], f[0], f[1], f[2]));
}
static void lrp_inverse_time_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    if (ip[1]) stairs(out, t0, n, ip[0], f[0], f[1], 1);
    else CHUNKED(v_invtime(_out, _m, _t0, f[0], f[1], (double)ip[0]));
}
static void lrp_inverse_sqrt_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    CHUNKED(v_invsqrt(_out, _m, _t0, f[0], (double)ip[0], (double)ip[1]));
}
static void lrp_noam_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    CHUNKED(v_noam(_out, _m, _t0, f[0], pow((double)ip[0], -1.5)));
}
static void lrp_piecewise_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    int64_t t = t0, end = t0 + n;
    while (t < end) {
        int64_t k = lower_(ip, ni, t); /* values[k] for b[k-1] < t <= b[k] */
        int64_t stop = k < ni ? ip[k] + 1 : end;
        if (stop > end) stop = end;
        fill(out + (t - t0), stop - t, f[k]);
        t = stop;
    }
}
static void lrp_plateau_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    int64_t t = t0, end = t0 + n;
    while (t < end) {
        int64_t k = upper(ip, ni, t);
        int64_t stop = k < ni ? ip[k] : end;
        if (stop > end) stop = end;
        fill(out + (t - t0), stop - t, f[k]);
        t = stop;
    }
}

#include "lrdsl_cycles.c" /* restarts, cyclic, one_cycle */

#include "lrdsl_dispatch.inc"
