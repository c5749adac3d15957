/* The dictionary walk of jieba's accurate mode, for one block of Han characters, in C.
 *
 * walk(sentence, freq, log_total, out, flush) does what streams.segment.FastCut._walk_py does:
 * for each start k from the right, every prefix sentence[k:i+1] looked up in `freq` (jieba's
 * Tokenizer.FREQ: absent ends the scan, 0 marks a prefix that is no word), the best route score
 * log(f) - log_total + score[i+1] (on a tie the longer word wins, as jieba's max() of (score, end)
 * tuples), then the route read from the left: a word of two or more characters is appended to
 * `out`, a single character joins a run, and a run of two or more characters is handed to
 * flush(run, out) (the HMM's business, in Python). The same doubles are added in the same order as
 * the Python code, so the same tokens come out; the unit tests hold both to Tokenizer.lcut.
 * It only reads `freq`; Python code runs only inside flush, after the walk.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

/* log(f) - log_total as Python's math.log(f) - log_total: f an int or a float, > 0 */
static int
log_prob(PyObject *f, double log_total, double *lp)
{
    double x = PyFloat_AsDouble(f);
    if (x == -1.0 && PyErr_Occurred())
        return -1;
    if (!(x > 0.0) || !isfinite(x)) {
        PyErr_Format(PyExc_ValueError, "word frequency %R is not a positive number", f);
        return -1;
    }
    *lp = log(x) - log_total;
    return 0;
}

/* freq.get(sentence[a:b]) as a borrowed reference; NULL with no error set if absent */
static PyObject *
lookup(PyObject *freq, PyObject *sentence, Py_ssize_t a, Py_ssize_t b)
{
    PyObject *frag = PyUnicode_Substring(sentence, a, b);
    if (frag == NULL)
        return NULL;
    PyObject *f = PyDict_GetItemWithError(freq, frag);   /* borrowed; freq is not changed below */
    Py_DECREF(frag);
    return f;
}

static int
emit_run(PyObject *sentence, Py_ssize_t a, Py_ssize_t b, PyObject *out, PyObject *flush)
{
    PyObject *run = PyUnicode_Substring(sentence, a, b);
    if (run == NULL)
        return -1;
    int rc;
    if (b - a == 1) {
        rc = PyList_Append(out, run);
    } else {
        PyObject *res = PyObject_CallFunctionObjArgs(flush, run, out, NULL);
        rc = res == NULL ? -1 : 0;
        Py_XDECREF(res);
    }
    Py_DECREF(run);
    return rc;
}

static PyObject *
walk(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "walk(sentence, freq, log_total, out, flush) takes 5 arguments");
        return NULL;
    }
    PyObject *sentence = args[0], *freq = args[1], *out = args[3], *flush = args[4];
    if (!PyUnicode_Check(sentence) || !PyDict_Check(freq) || !PyList_Check(out)) {
        PyErr_SetString(PyExc_TypeError, "walk() needs a str, a dict and a list");
        return NULL;
    }
    double log_total = PyFloat_AsDouble(args[2]);
    if (log_total == -1.0 && PyErr_Occurred())
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(sentence);
    double *score = PyMem_New(double, n + 1);
    Py_ssize_t *end = PyMem_New(Py_ssize_t, n + 1);
    if (score == NULL || end == NULL) {
        PyMem_Free(score);
        PyMem_Free(end);
        return PyErr_NoMemory();
    }
    score[n] = 0.0;
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        int found = 0;
        double best = 0.0, lp;
        Py_ssize_t best_end = k;
        for (Py_ssize_t i = k; i < n; i++) {
            PyObject *f = lookup(freq, sentence, k, i + 1);
            if (f == NULL) {
                if (PyErr_Occurred())
                    goto fail;
                break;
            }
            int word = PyObject_IsTrue(f);
            if (word < 0)
                goto fail;
            if (word) {
                if (log_prob(f, log_total, &lp) < 0)
                    goto fail;
                double s = lp + score[i + 1];
                if (!found || s >= best) {   /* >=: the later (longer) end wins a tie */
                    best = s;
                    best_end = i;
                    found = 1;
                }
            }
        }
        if (!found) {   /* no dictionary word starts here: the character alone, frequency 1 */
            PyObject *f = lookup(freq, sentence, k, k + 1);
            if (f == NULL && PyErr_Occurred())
                goto fail;
            int word = f == NULL ? 0 : PyObject_IsTrue(f);
            if (word < 0)
                goto fail;
            if (word) {
                if (log_prob(f, log_total, &lp) < 0)
                    goto fail;
            } else {
                lp = log(1.0) - log_total;
            }
            best = lp + score[k + 1];
        }
        score[k] = best;
        end[k] = best_end;
    }
    Py_ssize_t x = 0, run = -1;
    while (x < n) {
        Py_ssize_t y = end[x] + 1;
        if (y - x == 1) {
            if (run < 0)
                run = x;
        } else {
            if (run >= 0) {
                if (emit_run(sentence, run, x, out, flush) < 0)
                    goto fail;
                run = -1;
            }
            PyObject *w = PyUnicode_Substring(sentence, x, y);
            if (w == NULL)
                goto fail;
            int rc = PyList_Append(out, w);
            Py_DECREF(w);
            if (rc < 0)
                goto fail;
        }
        x = y;
    }
    if (run >= 0 && emit_run(sentence, run, n, out, flush) < 0)
        goto fail;
    PyMem_Free(score);
    PyMem_Free(end);
    Py_RETURN_NONE;
fail:
    PyMem_Free(score);
    PyMem_Free(end);
    return NULL;
}

static PyMethodDef methods[] = {
    {"walk", (PyCFunction)(void (*)(void))walk, METH_FASTCALL,
     "walk(sentence, freq, log_total, out, flush): jieba's accurate-mode route through one Han block"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "streams._segwalk",
    "jieba's dictionary walk in C (see streams/segment.py)", -1, methods,
};

PyMODINIT_FUNC
PyInit__segwalk(void)
{
    return PyModule_Create(&module);
}
