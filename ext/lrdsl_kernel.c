/* lrdsl's C evaluator.  See lrdsl_kernel.h for the program layout and
 * lrdsl/backends/lower.py for the per-op parameter slots.
 *
 * Structure: a tree walk over ranges of local steps.  Sequences, repeats and
 * bounded holds split a range into sub-ranges; each primitive then runs one
 * tight loop per piece (a cosine's two halves, a restart cycle, a stair), with
 * no per-step dispatch.  Those loops vectorize: pow goes to glibc's libmvec
 * through `omp declare simd`; the raised cosine (1 + cos x)/2 that every
 * cosine-shaped primitive uses needs sin only on [0, pi/4] (see vrc_first_lo,
 * vrc_first_hi and vrc_second), which an inlined fdlibm kernel polynomial computes to 1 ulp
 * with no range reduction.  Built with -fopenmp-simd and -fno-math-errno but
 * without -ffast-math (no reassociation, no contraction),
 * and each loop is compiled for AVX-512F, AVX2 and baseline x86-64 and picked at
 * load time by CPU feature (target_clones; not by CPU model, which would send
 * an AMD or a newer Intel part to the baseline), so one build runs anywhere.
 *
 * Every formula is written once per branch, as a macro over the raised-cosine
 * helper it uses: the scalar path instantiates it with libm's cos and sin
 * (bit-identical to lrdsl's Python scalar path), the vector loops with the
 * polynomial ones (within a few ulp).
 */
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

const lr_opcode lr_opcodes[] = {
    {"const", LR_CONST},
    {"linear", LR_LINEAR},
    {"warmup", LR_WARMUP},
    {"cosine", LR_COSINE},
    {"step", LR_STEP},
    {"multistep", LR_MULTISTEP},
    {"exp", LR_EXP},
    {"poly", LR_POLY},
    {"inverse_time", LR_INVERSE_TIME},
    {"inverse_sqrt", LR_INVERSE_SQRT},
    {"noam", LR_NOAM},
    {"piecewise", LR_PIECEWISE},
    {"cosine_restarts", LR_RESTARTS},
    {"cyclic", LR_CYCLIC},
    {"one_cycle", LR_ONE_CYCLE},
    {"plateau", LR_PLATEAU},
    {"repeat", LR_REPEAT},
    {"min", LR_MIN},
    {"max", LR_MAX},
    {"seq", LR_SEQ},
    {"add", LR_ADD},
    {"sub", LR_SUB},
    {"mul", LR_MUL},
    {"div", LR_DIV},
    {0, 0},
};

const char *lr_isa(void) {
#if LR_VECTOR_MATH
    /* the same feature tests the target_clones resolver makes */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return "x86-64 AVX-512 (libmvec)";
    if (__builtin_cpu_supports("avx2")) return "x86-64 AVX2 (libmvec)";
    return "x86-64 SSE2 (libmvec)";
#else
    return "portable C (libm)";
#endif
}

/* ------------------------------------------------------------------ helpers */

#define NODE(p, k) ((p)->nodes + (k) * LR_NF)

static void fill(double *out, int64_t n, double v) {
    for (int64_t i = 0; i < n; i++) out[i] = v;
}

static inline int64_t floordiv(int64_t a, int64_t b) { return a / b; } /* a, b >= 0 */

/* number of sorted values a[0..n) that are <= x (bisect_right) */
static int64_t upper(const int64_t *a, int64_t n, int64_t x) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* number of sorted values a[0..n) that are < x (bisect_left) */
static int64_t lower_(const int64_t *a, int64_t n, int64_t x) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* first j in [0, n) with t[j] - shift >= x (t sorted) */
static int64_t first_at_least(const int64_t *t, int64_t n, int64_t shift, int64_t x) {
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
static int32_t cross_at(double t0, int32_t n, double cross, int rising) {
    double k = rising ? ceil(cross - t0) : floor(cross - t0) + 1;
    if (!(k > 0)) return 0;
    return k > n ? n : (int32_t)k;
}

static inline double f_linear(double t, double N, double a, double b) { return (a * (N - t) + b * t) / N; }

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

/* ---------------------------------------------------------- scalar primitives */

/* SGDR cycles (slots: lrdsl/backends/lower.py _restart_slots).
 * ip: n, K, has tail, last tail cycle (-1: unbounded), S[0..K] (first whole step of each tabulated cycle)
 * f:  peak, min, m_mul, tail BK, tail LK, t_mul, B[0..K], L[0..K-1], m_mul^i for i < K
 * t_mul = 1 has K = 0: cycle i is [i*n, (i+1)*n).  Past the table, tail cycle j starts at
 * BK + LK*(q^j - 1)/(q - 1) (lrdsl/primitives/periodic.py tail_start, the same operations),
 * found by a log estimate and an exact correction (tail_cycle there). */
typedef struct {
    int64_t i;    /* cycle index */
    int64_t stop; /* first whole step of the next cycle (may exceed any step asked for) */
    double B, Bn, L, mi;
} lr_cycle;

static inline double tail_start(double bk, double lk, double q, int64_t j) {
    return bk + lk * ((pow(q, (double)j) - 1.0) / (q - 1.0));
}

static int64_t tail_cycle(double bk, double lk, double q, int64_t jmax, int64_t t) {
    int64_t top = jmax < 0 ? ((int64_t)1 << 62) : jmax;
    double tt = (double)t; /* exact: t < 2**53 */
    double x = (tt - bk) * (q - 1.0) / lk;
    int64_t j;
    if (x <= -1.0) {
        j = top;
    } else {
        double e = log1p(x) / log(q);
        j = !(e > 0) ? 0 : e >= (double)top ? top : (int64_t)e;
    }
    for (int it = 0; it < 64; it++) {
        if (j > 0 && tail_start(bk, lk, q, j) > tt) j--;
        else if (j < top && tail_start(bk, lk, q, j + 1) <= tt) j++;
        else return j;
    }
    int64_t lo = 0, hi = top; /* the estimate was far off: bisect, start(lo) <= t */
    while (lo < hi) {
        int64_t mid = hi - (hi - lo) / 2;
        if (tail_start(bk, lk, q, mid) <= tt) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

static void restart_cycle(const double *f, const int64_t *ip, int64_t t, lr_cycle *c) {
    int64_t K = ip[1];
    double m = f[2];
    if (K == 0) {
        int64_t n = ip[0];
        c->i = floordiv(t, n);
        c->B = (double)(c->i * n);
        c->L = (double)n;
        c->Bn = c->B + c->L;
        c->stop = (c->i + 1) * n;
        c->mi = m == 1.0 ? 1.0 : pow(m, (double)c->i);
        return;
    }
    const int64_t *S = ip + 4;
    const double *B = f + 6, *L = f + 6 + K + 1, *P = f + 6 + 2 * K + 1;
    if (!ip[2] || t < S[K]) {
        int64_t i = upper(S, K, t) - 1;
        c->i = i;
        c->B = B[i];
        c->Bn = B[i + 1];
        c->L = L[i];
        c->stop = S[i + 1];
        c->mi = P[i];
        return;
    }
    double bk = f[3], lk = f[4], q = f[5];
    int64_t j = tail_cycle(bk, lk, q, ip[3], t);
    c->i = K + j;
    c->B = tail_start(bk, lk, q, j);
    c->Bn = tail_start(bk, lk, q, j + 1);
    c->L = c->Bn - c->B;
    /* the next cycle's first whole step; past the step domain it is never reached */
    c->stop = ip[3] >= 0 && j >= ip[3] ? ((int64_t)1 << 62)
              : c->Bn < 9007199254740992.0 ? (int64_t)ceil(c->Bn) : ((int64_t)1 << 62);
    c->mi = pow(m, (double)c->i);
}

static double restart_scalar(const double *f, const int64_t *ip, int64_t t) {
    double pk = f[0], mn = f[1];
    lr_cycle c;
    restart_cycle(f, ip, t, &c);
    double frac = ((double)t - c.B) / c.L;
    return frac <= 0.5 ? RESTART_1(rc_first, (double)t, c.B, c.L, c.mi, pk, mn)
                       : RESTART_2(rc_second, (double)t, c.Bn, c.L, c.mi, pk, mn);
}

static double one_cycle_scalar(const double *f, const int64_t *ip, int64_t t) {
    int64_t nph = ip[0];
    int cosine = (int)ip[1];
    const int64_t *firsts = ip + 2;
    int64_t k = upper(firsts, nph, t) - 1;
    double s0 = k == 0 ? 0.0 : f[3 * (k - 1)];
    double e = f[3 * k], a = f[3 * k + 1], b = f[3 * k + 2];
    double x = (double)t;
    if (!cosine) return f_phase_lin(x, s0, e, a, b);
    double pct = (x - s0) / (e - s0);
    return pct <= 0.5 ? PHASE_COS_1(rc_first, x, s0, e, a, b) : PHASE_COS_2(rc_second, x, s0, e, a, b);
}

static double prim_scalar(int64_t op, const double *f, int64_t nf, const int64_t *ip, int64_t ni, int64_t t) {
    double x = (double)t;
    switch (op) {
    case LR_CONST:
        return f[0];
    case LR_LINEAR:
        return f_linear(x, (double)ip[0], f[0], f[1]);
    case LR_WARMUP: {
        double N = (double)ip[0];
        if (ip[1] == 0) return f_linear(x, N, f[0], f[1]);
        if (ip[1] == 1)
            return 2 * (ip[0] - t) <= ip[0] ? WARMCOS_1(rc_first, x, N, f[0], f[1]) : WARMCOS_2(rc_second, x, N, f[0], f[1]);
        return f_warmexp(x, N, f[0], f[1]);
    }
    case LR_COSINE:
        return 2 * t <= ip[0] ? COSINE_1(rc_first, x, (double)ip[0], f[0], f[1])
                              : COSINE_2(rc_second, x, (double)ip[0], f[0], f[1]);
    case LR_STEP:
        return f[0] * pow(f[1], (double)floordiv(t, ip[0]));
    case LR_MULTISTEP:
        return f[0] * pow(f[1], (double)upper(ip, ni, t));
    case LR_EXP:
        if (ip[1]) return f[0] * pow(f[1], (double)floordiv(t, ip[0]));
        return f_exp(x, f[0], f[1], (double)ip[0]);
    case LR_POLY:
        return f_poly(x, (double)ip[0], f[0], f[1], f[2]);
    case LR_INVERSE_TIME:
        return f_invtime(ip[1] ? (double)floordiv(t, ip[0]) : x / (double)ip[0], f[0], f[1]);
    case LR_INVERSE_SQRT:
        return f_invsqrt(x, f[0], (double)ip[0], (double)ip[1]);
    case LR_NOAM:
        return f_noam(x, f[0], pow((double)ip[0], -1.5));
    case LR_PIECEWISE:
        return f[lower_(ip, ni, t)];
    case LR_RESTARTS:
        return restart_scalar(f, ip, t);
    case LR_CYCLIC: {
        int64_t total = ip[0] + ip[1];
        int64_t c = floordiv(t, total);
        int64_t r = t - c * total;
        return f_cyclic((double)r, (double)c, x, f, ip, r <= ip[0]);
    }
    case LR_ONE_CYCLE:
        return one_cycle_scalar(f, ip, t);
    case LR_PLATEAU: /* f: start, then the level after each cut; ip: the cut steps */
        return f[upper(ip, ni, t)];
    }
    (void)nf;
    return NAN; /* unreachable for a validated program */
}

double lr_scalar(const lr_prog *p, int64_t node, int64_t t) {
    const int64_t *nd = NODE(p, node);
    if (nd[1] >= 0 && t >= nd[1]) return p->ends[node];
    const double *f = p->f + nd[2];
    const int64_t *ip = p->ip + nd[4];
    const int64_t *kd = p->kids + nd[6];
    int64_t nk = nd[7];
    switch (nd[0]) {
    case LR_SEQ: {
        int64_t k = upper(ip, nk, t) - 1;
        return lr_scalar(p, kd[k], t - ip[k]);
    }
    case LR_REPEAT: {
        int64_t period = ip[0];
        int64_t r = floordiv(t, period);
        double v = lr_scalar(p, kd[0], t - r * period);
        return f[0] != 1.0 ? v * pow(f[0], (double)r) : v;
    }
    case LR_MIN:
    case LR_MAX: {
        double v = lr_scalar(p, kd[0], t);
        for (int64_t k = 1; k < nk; k++) {
            double w = lr_scalar(p, kd[k], t);
            if (w != w || (nd[0] == LR_MIN ? w < v : w > v)) v = w; /* NaN propagates */
        }
        return v;
    }
    case LR_ADD:
        return lr_scalar(p, kd[0], t) + lr_scalar(p, kd[1], t);
    case LR_SUB:
        return lr_scalar(p, kd[0], t) - lr_scalar(p, kd[1], t);
    case LR_MUL:
        return lr_scalar(p, kd[0], t) * lr_scalar(p, kd[1], t);
    case LR_DIV:
        return lr_scalar(p, kd[0], t) / lr_scalar(p, kd[1], t);
    }
    return prim_scalar(nd[0], f, nd[3], ip, nd[5], t);
}

/* ------------------------------------------------------------- vector loops */

CLONES static void v_linear(double *out, int32_t n, double t0, double N, double a, double b) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = f_linear(t0 + (double)i, N, a, b);
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
CLONES static void v_restart_1(double *out, int32_t n, double t0, double B, double L, double mi, double pk, double mn, int32_t split, int hi_first) {
    FIRST_HALF(RESTART_1, B, L, mi, pk, mn);
}
CLONES static void v_restart_2(double *out, int32_t n, double t0, double Bn, double L, double mi, double pk,
                               double mn) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = RESTART_2(vrc_second, t0 + (double)i, Bn, L, mi, pk, mn);
}
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
CLONES static void v_cyclic(double *out, int32_t n, double r0, double c, double t0, const double *f,
                            const int64_t *ip, int up_part) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = f_cyclic(r0 + (double)i, c, t0 + (double)i, f, ip, up_part);
}
CLONES static void v_phase(double *out, int32_t n, double t0, double s0, double e, double a, double b, int kind) {
    if (kind == 0) {
#pragma omp simd
        for (int32_t i = 0; i < n; i++) out[i] = f_phase_lin(t0 + (double)i, s0, e, a, b);
    } else if (kind == 1) {
        int32_t split = cross_at(t0, n, s0 + (e - s0) / 4, 1);
        int hi_first = 0;
        FIRST_HALF(PHASE_COS_1, s0, e, a, b);
    } else {
#pragma omp simd
        for (int32_t i = 0; i < n; i++) out[i] = PHASE_COS_2(vrc_second, t0 + (double)i, s0, e, a, b);
    }
}

/* Split [lo, hi) at the first step where a monotone double predicate turns
 * false, evaluating the predicate exactly as the scalar path does. */
static int64_t split_restart(int64_t lo, int64_t hi, double B, double L) {
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (((double)mid - B) / L <= 0.5) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}
static int64_t split_phase(int64_t lo, int64_t hi, double s0, double e) {
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (((double)mid - s0) / (e - s0) <= 0.5) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Chunked dispatch so loop counters fit int32. */
#define CHUNKED(call_with_out_n_t0)                                                                           \
    for (int64_t _o = 0; _o < n; _o += CHUNK) {                                                              \
        int32_t _m = (int32_t)(n - _o < CHUNK ? n - _o : CHUNK);                                             \
        double *_out = out + _o;                                                                             \
        double _t0 = (double)(t0 + _o);                                                                      \
        (void)_t0;                                                                                           \
        call_with_out_n_t0;                                                                                  \
    }

static void restart_range(const double *f, const int64_t *ip, int64_t t0, int64_t n, double *out) {
    double pk = f[0], mn = f[1];
    int64_t t = t0, end = t0 + n;
    while (t < end) {
        lr_cycle c;
        restart_cycle(f, ip, t, &c);
        int64_t stop = c.stop > end || c.stop <= t ? end : c.stop;
        int64_t mid = split_restart(t, stop, c.B, c.L);
        int64_t n1 = mid - t;
        double *o1 = out + (t - t0);
        for (int64_t k = 0; k < n1; k += CHUNK) {
            int32_t cnt = (int32_t)(n1 - k < CHUNK ? n1 - k : CHUNK);
            double tk = (double)(t + k);
            v_restart_1(o1 + k, cnt, tk, c.B, c.L, c.mi, pk, mn, cross_at(tk, cnt, c.B + c.L / 4, 1), 0);
        }
        int64_t n2 = stop - mid;
        double *o2 = out + (mid - t0);
        for (int64_t k = 0; k < n2; k += CHUNK) {
            int32_t cnt = (int32_t)(n2 - k < CHUNK ? n2 - k : CHUNK);
            v_restart_2(o2 + k, cnt, (double)(mid + k), c.Bn, c.L, c.mi, pk, mn);
        }
        t = stop;
    }
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

static void cyclic_range(const double *f, const int64_t *ip, int64_t t0, int64_t n, double *out) {
    int64_t up = ip[0], total = ip[0] + ip[1];
    int64_t t = t0, end = t0 + n;
    while (t < end) {
        int64_t c = floordiv(t, total);
        int64_t base = c * total;
        int64_t r = t - base;
        int up_part = r <= up;
        int64_t stop = up_part ? base + up + 1 : base + total;
        if (stop > end) stop = end;
        int64_t m = stop - t;
        for (int64_t k = 0; k < m; k += CHUNK) {
            int32_t cnt = (int32_t)(m - k < CHUNK ? m - k : CHUNK);
            v_cyclic(out + (t - t0) + k, cnt, (double)(r + k), (double)c, (double)(t + k), f, ip, up_part);
        }
        t = stop;
    }
}

static void one_cycle_range(const double *f, const int64_t *ip, int64_t t0, int64_t n, double *out) {
    int64_t nph = ip[0];
    int cosine = (int)ip[1];
    const int64_t *firsts = ip + 2;
    int64_t t = t0, end = t0 + n;
    while (t < end) {
        int64_t k = upper(firsts, nph, t) - 1;
        int64_t stop = k + 1 < nph ? firsts[k + 1] : end;
        if (stop > end) stop = end;
        double s0 = k == 0 ? 0.0 : f[3 * (k - 1)];
        double e = f[3 * k], a = f[3 * k + 1], b = f[3 * k + 2];
        int64_t mid = cosine ? split_phase(t, stop, s0, e) : stop;
        for (int64_t part = 0; part < 2; part++) {
            int64_t lo = part == 0 ? t : mid, hi = part == 0 ? mid : stop;
            int kind = !cosine ? 0 : part == 0 ? 1 : 2;
            for (int64_t q = lo; q < hi; q += CHUNK) {
                int32_t cnt = (int32_t)(hi - q < CHUNK ? hi - q : CHUNK);
                v_phase(out + (q - t0), cnt, (double)q, s0, e, a, b, kind);
            }
        }
        t = stop;
    }
}

static void prim_range(int64_t op, const double *f, int64_t nf, const int64_t *ip, int64_t ni, int64_t t0,
                       int64_t n, double *out) {
    (void)nf;
    switch (op) {
    case LR_CONST:
        fill(out, n, f[0]);
        return;
    case LR_LINEAR:
        CHUNKED(v_linear(_out, _m, _t0, (double)ip[0], f[0], f[1]));
        return;
    case LR_WARMUP: {
        double N = (double)ip[0];
        if (ip[1] == 0) {
            CHUNKED(v_linear(_out, _m, _t0, N, f[0], f[1]));
        } else if (ip[1] == 2) {
            CHUNKED(v_warmexp(_out, _m, _t0, N, f[0], f[1]));
        } else { /* cos: the sin^2 form while 2*(n - t) > n, i.e. t < n/2 */
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
        return;
    }
    case LR_COSINE: {
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
        return;
    }
    case LR_STEP:
        stairs(out, t0, n, ip[0], f[0], f[1], 0);
        return;
    case LR_MULTISTEP: {
        int64_t t = t0, end = t0 + n;
        while (t < end) {
            int64_t k = upper(ip, ni, t);
            int64_t stop = k < ni ? ip[k] : end;
            if (stop > end) stop = end;
            fill(out + (t - t0), stop - t, f[0] * pow(f[1], (double)k));
            t = stop;
        }
        return;
    }
    case LR_EXP:
        if (ip[1]) stairs(out, t0, n, ip[0], f[0], f[1], 0);
        else CHUNKED(v_exp(_out, _m, _t0, f[0], f[1], (double)ip[0]));
        return;
    case LR_POLY:
        CHUNKED(v_poly(_out, _m, _t0, (double)ip[0], f[0], f[1], f[2]));
        return;
    case LR_INVERSE_TIME:
        if (ip[1]) stairs(out, t0, n, ip[0], f[0], f[1], 1);
        else CHUNKED(v_invtime(_out, _m, _t0, f[0], f[1], (double)ip[0]));
        return;
    case LR_INVERSE_SQRT:
        CHUNKED(v_invsqrt(_out, _m, _t0, f[0], (double)ip[0], (double)ip[1]));
        return;
    case LR_NOAM:
        CHUNKED(v_noam(_out, _m, _t0, f[0], pow((double)ip[0], -1.5)));
        return;
    case LR_PIECEWISE: {
        int64_t t = t0, end = t0 + n;
        while (t < end) {
            int64_t k = lower_(ip, ni, t); /* values[k] for b[k-1] < t <= b[k] */
            int64_t stop = k < ni ? ip[k] + 1 : end;
            if (stop > end) stop = end;
            fill(out + (t - t0), stop - t, f[k]);
            t = stop;
        }
        return;
    }
    case LR_RESTARTS:
        restart_range(f, ip, t0, n, out);
        return;
    case LR_CYCLIC:
        cyclic_range(f, ip, t0, n, out);
        return;
    case LR_ONE_CYCLE:
        one_cycle_range(f, ip, t0, n, out);
        return;
    case LR_PLATEAU: {
        int64_t t = t0, end = t0 + n;
        while (t < end) {
            int64_t k = upper(ip, ni, t);
            int64_t stop = k < ni ? ip[k] : end;
            if (stop > end) stop = end;
            fill(out + (t - t0), stop - t, f[k]);
            t = stop;
        }
        return;
    }
    }
    fill(out, n, NAN);
}

/* ------------------------------------------------------------- tree walks */

static void combine(int64_t op, double *out, const double *b, int64_t n) {
    switch (op) {
    case LR_MIN: /* NaN propagates, whichever operand it is (numpy's minimum) */
        for (int64_t i = 0; i < n; i++) out[i] = (b[i] < out[i] || b[i] != b[i]) ? b[i] : out[i];
        return;
    case LR_MAX:
        for (int64_t i = 0; i < n; i++) out[i] = (b[i] > out[i] || b[i] != b[i]) ? b[i] : out[i];
        return;
    case LR_ADD:
        for (int64_t i = 0; i < n; i++) out[i] = out[i] + b[i];
        return;
    case LR_SUB:
        for (int64_t i = 0; i < n; i++) out[i] = out[i] - b[i];
        return;
    case LR_MUL:
        for (int64_t i = 0; i < n; i++) out[i] = out[i] * b[i];
        return;
    case LR_DIV:
        for (int64_t i = 0; i < n; i++) out[i] = out[i] / b[i];
        return;
    }
}

static int is_pointwise(int64_t op) {
    return op == LR_MIN || op == LR_MAX || op == LR_ADD || op == LR_SUB || op == LR_MUL || op == LR_DIV;
}

void lr_range(const lr_prog *p, int64_t node, int64_t t0, int64_t n, double *out, double *scratch) {
    const int64_t *nd = NODE(p, node);
    int64_t L = nd[1];
    if (n <= 0) return;
    if (L >= 0) {
        if (t0 >= L) {
            fill(out, n, p->ends[node]);
            return;
        }
        if (n > L - t0) {
            int64_t m = L - t0;
            fill(out + m, n - m, p->ends[node]);
            n = m;
        }
    }
    const double *f = p->f + nd[2];
    const int64_t *ip = p->ip + nd[4];
    const int64_t *kd = p->kids + nd[6];
    int64_t nk = nd[7];
    int64_t op = nd[0];
    if (op == LR_SEQ) {
        int64_t end = t0 + n;
        for (int64_t k = upper(ip, nk, t0) - 1; k < nk && ip[k] < end; k++) {
            int64_t lo = ip[k] > t0 ? ip[k] : t0;
            int64_t hi = k + 1 < nk && ip[k + 1] < end ? ip[k + 1] : end;
            lr_range(p, kd[k], lo - ip[k], hi - lo, out + (lo - t0), scratch);
        }
        return;
    }
    if (op == LR_REPEAT) {
        int64_t period = ip[0], end = t0 + n;
        for (int64_t r = floordiv(t0, period); r * period < end; r++) {
            int64_t s = r * period;
            int64_t lo = s > t0 ? s : t0;
            int64_t hi = s + period < end ? s + period : end;
            double *o = out + (lo - t0);
            lr_range(p, kd[0], lo - s, hi - lo, o, scratch);
            if (f[0] != 1.0) {
                double scale = pow(f[0], (double)r);
                for (int64_t i = 0; i < hi - lo; i++) o[i] = o[i] * scale;
            }
        }
        return;
    }
    if (is_pointwise(op)) {
        for (int64_t b = 0; b < n; b += LR_BLOCK) {
            int64_t m = n - b < LR_BLOCK ? n - b : LR_BLOCK;
            lr_range(p, kd[0], t0 + b, m, out + b, scratch + LR_BLOCK);
            for (int64_t k = 1; k < nk; k++) {
                lr_range(p, kd[k], t0 + b, m, scratch, scratch + LR_BLOCK);
                combine(op, out + b, scratch, m);
            }
        }
        return;
    }
    prim_range(op, f, nd[3], ip, nd[5], t0, n, out);
}

void lr_sorted(const lr_prog *p, int64_t node, const int64_t *t, int64_t shift, int64_t n, double *out,
               double *scratch) {
    const int64_t *nd = NODE(p, node);
    int64_t L = nd[1];
    if (n <= 0) return;
    if (L >= 0) {
        int64_t m = first_at_least(t, n, shift, L);
        fill(out + m, n - m, p->ends[node]);
        n = m;
        if (n == 0) return;
    }
    const double *f = p->f + nd[2];
    const int64_t *ip = p->ip + nd[4];
    const int64_t *kd = p->kids + nd[6];
    int64_t nk = nd[7];
    int64_t op = nd[0];
    if (op == LR_SEQ) {
        int64_t j = 0;
        while (j < n) {
            int64_t k = upper(ip, nk, t[j] - shift) - 1;
            int64_t stop = k + 1 < nk ? first_at_least(t, n, shift, ip[k + 1]) : n;
            lr_sorted(p, kd[k], t + j, shift + ip[k], stop - j, out + j, scratch);
            j = stop;
        }
        return;
    }
    if (op == LR_REPEAT) {
        int64_t period = ip[0], j = 0;
        while (j < n) {
            int64_t r = floordiv(t[j] - shift, period);
            int64_t stop = first_at_least(t, n, shift, (r + 1) * period);
            lr_sorted(p, kd[0], t + j, shift + r * period, stop - j, out + j, scratch);
            if (f[0] != 1.0) {
                double scale = pow(f[0], (double)r);
                for (int64_t i = j; i < stop; i++) out[i] = out[i] * scale;
            }
            j = stop;
        }
        return;
    }
    if (is_pointwise(op)) {
        for (int64_t b = 0; b < n; b += LR_BLOCK) {
            int64_t m = n - b < LR_BLOCK ? n - b : LR_BLOCK;
            lr_sorted(p, kd[0], t + b, shift, m, out + b, scratch + LR_BLOCK);
            for (int64_t k = 1; k < nk; k++) {
                lr_sorted(p, kd[k], t + b, shift, m, scratch, scratch + LR_BLOCK);
                combine(op, out + b, scratch, m);
            }
        }
        return;
    }
    for (int64_t j = 0; j < n; j++) out[j] = prim_scalar(op, f, nd[3], ip, nd[5], t[j] - shift);
}

#define FUSED 16384 /* steps checked and evaluated per block on the range path */

static int contiguous_block(const int64_t *t, int64_t m) {
    int64_t base = t[0], bad = 0;
    for (int64_t k = 1; k < m; k++) bad |= t[k] ^ (base + k);
    return bad == 0;
}

int lr_values(const lr_prog *p, const int64_t *t, int64_t n, double *out, double *scratch) {
    if (n == 0) return 0;
    int64_t i = 0;
    /* The range path, fused with the checks that the steps are t[0], t[0]+1, ...
     * and inside the domain: each block of steps is read while it is evaluated,
     * so no separate pass.  A block's first step is checked before base + k is
     * formed, so that sum cannot overflow. */
    while (i < n) {
        int64_t m = n - i < FUSED ? n - i : FUSED;
        if (t[i] < 0 || t[i] > LR_MAX_STEP) return -1;
        if (!contiguous_block(t + i, m) || (i > 0 && t[i] != t[i - 1] + 1)) break;
        if (t[i + m - 1] > LR_MAX_STEP) return -1;
        lr_range(p, 0, t[i], m, out + i, scratch);
        i += m;
    }
    if (i == n) return 0;
    for (int64_t k = i > 0 ? i : 1; k < n; k++)
        if (t[k] < t[k - 1]) return 1; /* unsorted: the caller sorts */
    if (t[i] < 0 || t[n - 1] > LR_MAX_STEP) return -1;
    lr_sorted(p, 0, t + i, 0, n - i, out + i, scratch);
    return 0;
}

int lr_layout(const int64_t *t, int64_t n) {
    int contiguous = 1;
    for (int64_t i = 1; i < n; i++) {
        if (t[i] < t[i - 1]) return 0;
        if (t[i] != t[i - 1] + 1) contiguous = 0;
    }
    return contiguous ? 2 : 1;
}
