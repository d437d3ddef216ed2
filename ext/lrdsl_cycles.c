/* lrdsl's C evaluator: the cyclic primitives (SGDR restarts, cyclical LR,
 * 1cycle).  Part of lrdsl_prims.c's translation unit (included from it, not
 * compiled on its own), so these functions are static like the others there.
 */

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

static double lrp_cosine_restarts_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    return restart_scalar(f, ip, t);
}
static double lrp_cyclic_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    int64_t total = ip[0] + ip[1];
    int64_t c = floordiv(t, total);
    int64_t r = t - c * total;
    return f_cyclic((double)r, (double)c, (double)t, f, ip, r <= ip[0]);
}
static double lrp_one_cycle_scalar(LRP_ARGS, int64_t t) {
    LRP_UNUSED;
    return one_cycle_scalar(f, ip, t);
}
CLONES static void v_restart_1(double *out, int32_t n, double t0, double B, double L, double mi, double pk, double mn, int32_t split, int hi_first) {
    FIRST_HALF(RESTART_1, B, L, mi, pk, mn);
}
CLONES static void v_restart_2(double *out, int32_t n, double t0, double Bn, double L, double mi, double pk,
                               double mn) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) out[i] = RESTART_2(vrc_second, t0 + (double)i, Bn, L, mi, pk, mn);
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
            v_restart_1(o1 + k, cnt, tk, c.B, c.L, c.mi, pk, mn, cross_at(tk - c.B, cnt, c.L / 4, 1) /* in cycle time: B + L/4 rounds past 2**52 */, 0);
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

static void lrp_cosine_restarts_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    restart_range(f, ip, t0, n, out);
}
static void lrp_cyclic_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    cyclic_range(f, ip, t0, n, out);
}
static void lrp_one_cycle_range(LRP_ARGS, int64_t t0, int64_t n, double *out) {
    LRP_UNUSED;
    one_cycle_range(f, ip, t0, n, out);
}
