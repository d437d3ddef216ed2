# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""lrdsl._kernel: the compiled evaluator.

A :class:`Program` owns a copy of a lowered program (lrdsl/backends/lower.py)
and evaluates it with the C walker in lrdsl_kernel.c: ``scalar(t)`` for one
step, ``values(steps, out)`` for an int64 array (contiguous ranges take the
vectorized range path, other sorted arrays the sorted path), ``range_list``
for the CLI, which avoids importing numpy.  Evaluation runs without the GIL.
"""

from cpython.array cimport array, clone
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_CheckExact
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy


cdef extern from "lrdsl_kernel.h" nogil:
    ctypedef struct lr_prog:
        const int64_t *nodes
        const double *ends
        const double *f
        const int64_t *ip
        const int64_t *kids
    ctypedef struct lr_opcode:
        const char *name
        int code
    const lr_opcode lr_opcodes[]
    const lr_opcode lr_vector_ops[]
    int LR_NF
    int LR_BLOCK
    double lr_scalar(const lr_prog *p, int64_t node, int64_t t)
    void lr_range(const lr_prog *p, int64_t node, int64_t t0, int64_t n, double *out, double *scratch)
    void lr_sorted(const lr_prog *p, int64_t node, const int64_t *t, int64_t shift, int64_t n,
                   double *out, double *scratch)
    int lr_layout(const int64_t *t, int64_t n)
    int lr_values(const lr_prog *p, const int64_t *t, int64_t n, double *out, double *scratch)
    const char *lr_isa()


cdef dict _table(const lr_opcode *entries):
    cdef int i = 0
    table = {}
    while entries[i].name != NULL:
        table[entries[i].name.decode()] = entries[i].code
        i += 1
    return table


#: name -> opcode, as the C kernel knows them (a test compares it with the registry)
OPCODES = _table(lr_opcodes)
#: the primitives whose range path is a vectorized loop (the others loop over their scalar case)
VECTOR = frozenset(_table(lr_vector_ops))
#: the instruction set the vectorized loops run on here
ISA = lr_isa().decode()
NODE_FIELDS = LR_NF


cdef void *_copy(const unsigned char[::1] data, Py_ssize_t itemsize) except NULL:
    cdef Py_ssize_t size = data.shape[0]
    cdef void *buf = malloc(size if size > 0 else itemsize)
    if buf == NULL:
        raise MemoryError()
    if size > 0:
        memcpy(buf, &data[0], size)
    return buf


cdef int64_t MAX_STEP = (<int64_t> 1 << 53) - 1


cdef class Program:
    """A lowered program: ``Program(nodes, ends, fparams, iparams, kids)``.

    The arrays are validated (:func:`lrdsl.backends.lower.validate`) before
    they are copied, whoever built them, so the nogil walker only ever sees
    tables that keep it in bounds; a bad table raises ``ProgramError``."""

    cdef lr_prog prog
    cdef int64_t *_nodes
    cdef double *_ends
    cdef double *_f
    cdef int64_t *_ip
    cdef int64_t *_kids
    cdef Py_ssize_t levels
    cdef object _tables

    def __cinit__(self, nodes, ends, fparams, iparams, kids):
        from .backends.lower import validate

        tables = (array("q", nodes), array("d", ends), array("d", fparams), array("q", iparams), array("q", kids))
        self.levels = validate(*tables)
        self._tables = tables
        self._nodes = <int64_t *> _copy(memoryview(tables[0]).cast("B"), 8)
        self._ends = <double *> _copy(memoryview(tables[1]).cast("B"), 8)
        self._f = <double *> _copy(memoryview(tables[2]).cast("B"), 8)
        self._ip = <int64_t *> _copy(memoryview(tables[3]).cast("B"), 8)
        self._kids = <int64_t *> _copy(memoryview(tables[4]).cast("B"), 8)
        self.prog.nodes = self._nodes
        self.prog.ends = self._ends
        self.prog.f = self._f
        self.prog.ip = self._ip
        self.prog.kids = self._kids

    def __reduce__(self):
        return (Program, self._tables)

    def __dealloc__(self):
        free(self._nodes)
        free(self._ends)
        free(self._f)
        free(self._ip)
        free(self._kids)

    cpdef double scalar(self, int64_t t) except? -1.0:
        """The value at step ``t`` (0 <= t < 2**53, else ValueError)."""
        if t < 0 or t > MAX_STEP:
            raise ValueError("step outside [0, 2**53)")
        return lr_scalar(&self.prog, 0, t)

    def __call__(self, step):
        """The value at ``step``, checked: what ``Schedule.__call__`` runs."""
        cdef int overflow = 0
        cdef long long t = -1
        if PyLong_CheckExact(step):
            t = PyLong_AsLongLongAndOverflow(step, &overflow)
        if overflow or t < 0 or t > MAX_STEP:
            from .language.domain import check_step

            t = check_step(step)  # the same checks as the reference path; raises LrdslError
        return lr_scalar(&self.prog, 0, t)

    cdef double *_scratch(self) except? NULL:
        if self.levels == 0:
            return NULL
        cdef double *s = <double *> malloc(self.levels * LR_BLOCK * sizeof(double))
        if s == NULL:
            raise MemoryError()
        return s

    def values(self, const int64_t[::1] steps, double[::1] out):
        """Values at ``steps`` into ``out`` (which must not overlap ``steps``).
        Returns 0; -1 when a step is outside [0, 2**53); 1, writing nothing
        useful, when ``steps`` is not sorted (the caller sorts and calls again)."""
        cdef Py_ssize_t n = steps.shape[0]
        if out.shape[0] != n:
            raise ValueError("out and steps differ in length")
        if n == 0:
            return 0
        cdef double *scratch = self._scratch()
        cdef int status
        try:
            with nogil:
                status = lr_values(&self.prog, &steps[0], n, &out[0], scratch)
        finally:
            free(scratch)
        return status

    def range_into(self, int64_t start, double[::1] out):
        """Values at ``start .. start+len(out)-1`` into ``out``."""
        cdef Py_ssize_t n = out.shape[0]
        if n == 0:
            return
        if start < 0 or start > MAX_STEP or n > MAX_STEP + 1 - start:
            raise ValueError("steps outside [0, 2**53)")
        cdef double *scratch = self._scratch()
        try:
            with nogil:
                lr_range(&self.prog, 0, start, n, &out[0], scratch)
        finally:
            free(scratch)

    def range_list(self, int64_t start, Py_ssize_t count):
        """Values at ``start .. start+count-1`` as a list of floats (no numpy)."""
        if count < 0:
            raise ValueError("negative count")
        cdef array buf = clone(array("d"), count, False)
        if count:
            self.range_into(start, buf)
        return buf.tolist()
