/* lrdsl's C evaluator: walks a lowered Program (see lrdsl/backends/lower.py).
 *
 * A program is a table of nodes, LR_NF int64 fields each:
 *   op, length (-1 = unbounded), f offset, f count, i offset, i count,
 *   kid offset, kid count
 * plus one end value per node (held from `length` on), a float parameter
 * array, an int parameter array and a child index array.  The Python side
 * validates a program once; these functions trust it and never touch Python
 * objects, so callers release the GIL around them.
 */
#ifndef LRDSL_KERNEL_H
#define LRDSL_KERNEL_H

#include <stdint.h>

#define LR_NF 8
/* Steps are 0 <= t <= LR_MAX_STEP (2**53 - 1), and every length, position and
 * table entry of a validated program is at most 2**53: sums of two stay far
 * from int64 overflow, and a step is an exact double. */
#define LR_MAX_STEP ((int64_t)9007199254740991)
#define LR_BLOCK 1024 /* doubles of scratch per level of pointwise ops */

#include "lrdsl_ops.h" /* the opcode enum, generated from the registry */

typedef struct {
    const int64_t *nodes;
    const double *ends;
    const double *f;
    const int64_t *ip;
    const int64_t *kids;
} lr_prog;

typedef struct {
    const char *name;
    int code;
} lr_opcode;

/* The opcode table and the primitives with vectorized range loops, each
 * terminated by {NULL, 0} (lrdsl_dispatch.inc, generated). */
extern const lr_opcode lr_opcodes[];
extern const lr_opcode lr_vector_ops[];

/* One primitive node, dispatched on its opcode (lrdsl_dispatch.inc): the value at
 * local step t, and the values at t0 .. t0+n-1 into out. */
double lr_prim_scalar(int64_t op, const double *f, int64_t nf, const int64_t *ip, int64_t ni, int64_t t);
void lr_prim_range(int64_t op, const double *f, int64_t nf, const int64_t *ip, int64_t ni, int64_t t0, int64_t n,
                   double *out);

/* The value of `node` at local step t (libm, one step). */
double lr_scalar(const lr_prog *p, int64_t node, int64_t t);

/* Values at local steps t0 .. t0+n-1 into out[0..n-1] (vectorized loops).
 * scratch holds LR_BLOCK doubles per level of nested pointwise ops. */
void lr_range(const lr_prog *p, int64_t node, int64_t t0, int64_t n, double *out, double *scratch);

/* Values at local steps t[j] - shift for a sorted (non-decreasing) t. */
void lr_sorted(const lr_prog *p, int64_t node, const int64_t *t, int64_t shift, int64_t n, double *out,
               double *scratch);

/* Values at steps t[0..n) into out (out must not overlap t): the range path
 * for runs of consecutive steps, the sorted path otherwise.  Returns 0; -1 if
 * a step is outside [0, LR_MAX_STEP]; 1 if t is not sorted (nothing useful
 * written; sort and retry). */
int lr_values(const lr_prog *p, const int64_t *t, int64_t n, double *out, double *scratch);

/* 2 if t is t[0], t[0]+1, ...; 1 if non-decreasing; 0 otherwise. */
int lr_layout(const int64_t *t, int64_t n);

/* Which code path the vectorized loops took (the ifunc resolver's choice). */
const char *lr_isa(void);

#endif
