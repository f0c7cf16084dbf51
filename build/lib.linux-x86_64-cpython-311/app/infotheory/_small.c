/*
 * Small-input kernels for app.infotheory, in C.
 *
 * For one short distribution (or pair) the cost of a numpy kernel is its per-call overhead,
 * a few microseconds; these loops take well under one. Each function takes 1-D C-contiguous
 * float64 buffers (numpy arrays) of at most `max_n` events and returns the value in nats as
 * a float, or None when the inputs are not of that kind (the caller then takes the numpy
 * path, which also raises the errors for bad shapes). The caller clamps rounding and
 * converts units.
 *
 * Conventions match the numpy kernels: terms with p = 0 are 0; p > 0 where q = 0 gives +inf.
 * Sums are compensated (Neumaier), so they are at least as accurate as numpy's pairwise sum.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

typedef struct {
    double sum;
    double compensation;
} Accumulator;

static inline void accumulate(Accumulator *acc, double x) {
    double t = acc->sum + x;
    if (fabs(acc->sum) >= fabs(x)) {
        acc->compensation += (acc->sum - t) + x;
    } else {
        acc->compensation += (x - t) + acc->sum;
    }
    acc->sum = t;
}

static inline double total(const Accumulator *acc) { return acc->sum + acc->compensation; }

/* log(a / b) for a, b > 0, without overflow or underflow of the ratio. */
static inline double log_ratio(double a, double b) {
    double r = a / b;
    if (r > 0.0 && isfinite(r)) {
        return log(r);
    }
    return log(a) - log(b);
}

/* Acquire a 1-D contiguous float64 buffer of length <= max_n; 0 if obj is not one. */
static int vector(PyObject *obj, Py_buffer *view, Py_ssize_t max_n) {
    if (!PyObject_CheckBuffer(obj)) {
        return 0;
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        return 0;
    }
    if (view->ndim != 1 || view->itemsize != 8 || view->format == NULL ||
        strcmp(view->format, "d") != 0 || view->shape[0] == 0 || view->shape[0] > max_n) {
        PyBuffer_Release(view);
        return 0;
    }
    return 1;
}

typedef double (*pair_kernel)(const double *p, const double *q, Py_ssize_t n);

static PyObject *run_pair(PyObject *args, pair_kernel kernel) {
    PyObject *p_obj, *q_obj;
    Py_ssize_t max_n;
    Py_buffer p, q;
    if (!PyArg_ParseTuple(args, "OOn", &p_obj, &q_obj, &max_n)) {
        return NULL;
    }
    if (!vector(p_obj, &p, max_n)) {
        Py_RETURN_NONE;
    }
    if (!vector(q_obj, &q, max_n)) {
        PyBuffer_Release(&p);
        Py_RETURN_NONE;
    }
    if (p.shape[0] != q.shape[0]) {
        PyBuffer_Release(&p);
        PyBuffer_Release(&q);
        Py_RETURN_NONE;
    }
    double value = kernel((const double *)p.buf, (const double *)q.buf, p.shape[0]);
    PyBuffer_Release(&p);
    PyBuffer_Release(&q);
    return PyFloat_FromDouble(value);
}

static double kl_kernel(const double *p, const double *q, Py_ssize_t n) {
    Accumulator acc = {0.0, 0.0};
    for (Py_ssize_t i = 0; i < n; i++) {
        double a = p[i];
        if (a > 0.0) {
            if (q[i] == 0.0) {
                return INFINITY;
            }
            accumulate(&acc, a * log_ratio(a, q[i]));
        }
    }
    return total(&acc);
}

static double cross_entropy_kernel(const double *p, const double *q, Py_ssize_t n) {
    Accumulator acc = {0.0, 0.0};
    for (Py_ssize_t i = 0; i < n; i++) {
        double a = p[i];
        if (a > 0.0) {
            if (q[i] == 0.0) {
                return INFINITY;
            }
            accumulate(&acc, -a * log(q[i]));
        }
    }
    return total(&acc);
}

static double js_kernel(const double *p, const double *q, Py_ssize_t n) {
    Accumulator acc = {0.0, 0.0};
    for (Py_ssize_t i = 0; i < n; i++) {
        double a = p[i], b = q[i];
        double m = 0.5 * a + 0.5 * b;
        if (a > 0.0) {
            accumulate(&acc, a * log_ratio(a, m));
        }
        if (b > 0.0) {
            accumulate(&acc, b * log_ratio(b, m));
        }
    }
    return 0.5 * total(&acc);
}

static PyObject *kl(PyObject *self, PyObject *args) { return run_pair(args, kl_kernel); }

static PyObject *cross_entropy(PyObject *self, PyObject *args) {
    return run_pair(args, cross_entropy_kernel);
}

static PyObject *js(PyObject *self, PyObject *args) { return run_pair(args, js_kernel); }

static PyObject *entropy(PyObject *self, PyObject *args) {
    PyObject *p_obj;
    Py_ssize_t max_n;
    Py_buffer p;
    if (!PyArg_ParseTuple(args, "On", &p_obj, &max_n)) {
        return NULL;
    }
    if (!vector(p_obj, &p, max_n)) {
        Py_RETURN_NONE;
    }
    const double *x = (const double *)p.buf;
    Accumulator acc = {0.0, 0.0};
    for (Py_ssize_t i = 0; i < p.shape[0]; i++) {
        if (x[i] > 0.0) {
            accumulate(&acc, -x[i] * log(x[i]));
        }
    }
    PyBuffer_Release(&p);
    return PyFloat_FromDouble(total(&acc));
}

static PyMethodDef methods[] = {
    {"kl", kl, METH_VARARGS, "kl(p, q, max_n) -> D(p||q) in nats, or None"},
    {"cross_entropy", cross_entropy, METH_VARARGS, "cross_entropy(p, q, max_n) -> H(p,q) in nats, or None"},
    {"js", js, METH_VARARGS, "js(p, q, max_n) -> JS(p,q) in nats, or None"},
    {"entropy", entropy, METH_VARARGS, "entropy(p, max_n) -> H(p) in nats, or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_small", "Small-input kernels in C (see _small.c).", -1, methods,
};

PyMODINIT_FUNC PyInit__small(void) { return PyModule_Create(&module); }
