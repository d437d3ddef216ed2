/* lrdsl's C evaluator: the tree walk.  See lrdsl_kernel.h for the program
 * layout, lrdsl_prims.c for the primitives and lrdsl/backends/lower.py for the
 * validator every program passes before it gets here.
 *
 * Sequences, repeats and bounded holds split a range of local steps into
 * sub-ranges and hand each to a primitive's range function (or, on the sorted
 * path, its scalar function per step); pointwise ops combine their operands
 * block by block in scratch memory.
 */
#include "lrdsl_math.h"

#define NODE(p, k) ((p)->nodes + (k) * LR_NF)

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
    return lr_prim_scalar(nd[0], f, nd[3], ip, nd[5], t);
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
    lr_prim_range(op, f, nd[3], ip, nd[5], t0, n, out);
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
    for (int64_t j = 0; j < n; j++) out[j] = lr_prim_scalar(op, f, nd[3], ip, nd[5], t[j] - shift);
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
