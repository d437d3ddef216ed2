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
    int LR_NF
    int LR_BLOCK
    double lr_scalar(const lr_prog *p, int64_t node, int64_t t)
    void lr_range(const lr_prog *p, int64_t node, int64_t t0, int64_t n, double *out, double *scratch)
    void lr_sorted(const lr_prog *p, int64_t node, const int64_t *t, int64_t shift, int64_t n,
                   double *out, double *scratch)
    int lr_layout(const int64_t *t, int64_t n)
    int lr_values(const lr_prog *p, const int64_t *t, int64_t n, double *out, double *scratch)
    const char *lr_isa()


def _opcodes():
    cdef int i = 0
    table = {}
    while lr_opcodes[i].name != NULL:
        table[lr_opcodes[i].name.decode()] = lr_opcodes[i].code
        i += 1
    return table


#: name -> opcode, as the C kernel knows them (a test compares it with the registry)
OPCODES = _opcodes()
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


cdef class Program:
    """A lowered program: ``Program(nodes, ends, fparams, iparams, kids, levels)``."""

    cdef lr_prog prog
    cdef int64_t *_nodes
    cdef double *_ends
    cdef double *_f
    cdef int64_t *_ip
    cdef int64_t *_kids
    cdef Py_ssize_t levels

    def __cinit__(self, nodes, ends, fparams, iparams, kids, Py_ssize_t levels):
        self._nodes = <int64_t *> _copy(memoryview(nodes).cast("B"), 8)
        self._ends = <double *> _copy(memoryview(ends).cast("B"), 8)
        self._f = <double *> _copy(memoryview(fparams).cast("B"), 8)
        self._ip = <int64_t *> _copy(memoryview(iparams).cast("B"), 8)
        self._kids = <int64_t *> _copy(memoryview(kids).cast("B"), 8)
        self.prog.nodes = self._nodes
        self.prog.ends = self._ends
        self.prog.f = self._f
        self.prog.ip = self._ip
        self.prog.kids = self._kids
        self.levels = levels

    def __dealloc__(self):
        free(self._nodes)
        free(self._ends)
        free(self._f)
        free(self._ip)
        free(self._kids)

    cpdef double scalar(self, int64_t t):
        """The value at step ``t`` (t >= 0, checked by the caller)."""
        return lr_scalar(&self.prog, 0, t)

    def __call__(self, step):
        """The value at ``step``, checked: what ``Schedule.__call__`` runs."""
        cdef int overflow = 0
        cdef long long t = -1
        if PyLong_CheckExact(step):
            t = PyLong_AsLongLongAndOverflow(step, &overflow)
        if overflow or t < 0:
            from .schedule import _step

            t = _step(step)  # the same checks as the reference path; raises LrdslError
        return lr_scalar(&self.prog, 0, t)

    cdef double *_scratch(self) except? NULL:
        if self.levels == 0:
            return NULL
        cdef double *s = <double *> malloc(self.levels * LR_BLOCK * sizeof(double))
        if s == NULL:
            raise MemoryError()
        return s

    def values(self, const int64_t[::1] steps, double[::1] out):
        """Values at ``steps`` into ``out``.  Returns 0; -1 when a step is
        negative; 1, writing nothing useful, when ``steps`` is not sorted
        (the caller sorts and calls again)."""
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
        cdef double *scratch = self._scratch()
        try:
            with nogil:
                lr_range(&self.prog, 0, start, n, &out[0], scratch)
        finally:
            free(scratch)

    def range_list(self, int64_t start, Py_ssize_t count):
        """Values at ``start .. start+count-1`` as a list of floats (no numpy)."""
        cdef array buf = clone(array("d"), count, False)
        if count:
            self.range_into(start, buf)
        return buf.tolist()
