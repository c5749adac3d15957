/* The hot loops of analyze() in C: jieba's dictionary walk over one block of Han characters
 * (walk), finalseg's HMM over one run of unknown characters (hmm), and the repost sketch's
 * trigram features (bottom_k). Each has a Python twin the unit tests hold it to.
 *
 * walk(sentence, freq, log_total, out, flush) does what streams.segment.FastCut._walk_py does:
 * for each start k from the right, every prefix sentence[k:i+1] looked up in `freq` (jieba's
 * Tokenizer.FREQ: absent ends the scan, 0 marks a prefix that is no word), the best route score
 * log(f) - log_total + score[i+1] (on a tie the longer word wins, as jieba's max() of (score, end)
 * tuples), then the route read from the left: a word of two or more characters is appended to
 * `out`, a single character joins a run, and a run of two or more characters is handed to
 * flush(run, out) (the HMM's business, in Python). The same doubles are added in the same order as
 * the Python code, so the same tokens come out; the unit tests hold both to Tokenizer.lcut.
 * It only reads `freq`. Python code can run inside flush (after the walk) and, for values jieba never
 * stores (it keeps int(freq)), in a value's __bool__ or __float__: every value is held while used.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* exact ties need plain double additions; x87 extended precision (32-bit x86) would break them.
 * The extension is optional: there, the build fails and the Python twins run instead. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "streams._speedups needs double evaluation (FLT_EVAL_METHOD 0)"
#endif

/* log(f) - log_total as Python's math.log(f) - log_total: f an int or a float; math.log's domain
 * error for f <= 0 (NaN and inf pass through as there). An int too large for a double raises here,
 * where math.log would not: jieba's frequencies are word counts. */
static int
log_prob(PyObject *f, double log_total, double *lp)
{
    double x = PyFloat_AsDouble(f);
    if (x == -1.0 && PyErr_Occurred())
        return -1;
    if (!(x > 0.0) && !isnan(x)) {
        PyErr_Format(PyExc_ValueError, "word frequency %R is not a positive number", f);
        return -1;
    }
    *lp = log(x) - log_total;
    return 0;
}

/* freq.get(sentence[a:b]) as a new reference; NULL with no error set if absent */
static PyObject *
lookup(PyObject *freq, PyObject *sentence, Py_ssize_t a, Py_ssize_t b)
{
    PyObject *frag = PyUnicode_Substring(sentence, a, b);
    if (frag == NULL)
        return NULL;
    PyObject *f = PyDict_GetItemWithError(freq, frag);
    if (f == Py_None)
        f = NULL;    /* FREQ.get(frag) is None: absent, as the Python walk reads it */
    Py_XINCREF(f);   /* held: a value's __bool__ or __float__ could change the dict */
    Py_DECREF(frag);
    return f;
}

/* 1 if f is a word (a true frequency) and *lp its log probability, 0 if not, -1 on error */
static int
word_score(PyObject *f, double log_total, double *lp)
{
    int word = PyObject_IsTrue(f);
    if (word > 0 && log_prob(f, log_total, lp) < 0)
        word = -1;
    return word;
}

/* a C string's code points are read directly: make sure a legacy string is in its canonical form */
static int
ready(PyObject *text)
{
#if PY_VERSION_HEX < 0x030C0000
    return PyUnicode_READY(text);
#else
    (void)text;
    return 0;
#endif
}

/* out.append(sentence[a:b]) */
static int
append_slice(PyObject *out, PyObject *sentence, Py_ssize_t a, Py_ssize_t b)
{
    PyObject *w = PyUnicode_Substring(sentence, a, b);
    if (w == NULL)
        return -1;
    int rc = PyList_Append(out, w);
    Py_DECREF(w);
    return rc;
}

/* a run of single characters: one character is appended, a longer run goes to flush(run, out) */
static int
emit_run(PyObject *sentence, Py_ssize_t a, Py_ssize_t b, PyObject *out, PyObject *flush)
{
    if (b - a == 1)
        return append_slice(out, sentence, a, b);
    PyObject *run = PyUnicode_Substring(sentence, a, b);
    if (run == NULL)
        return -1;
    PyObject *res = PyObject_CallFunctionObjArgs(flush, run, out, NULL);
    Py_DECREF(run);
    if (res == NULL)
        return -1;
    Py_DECREF(res);
    return 0;
}

static PyObject *
walk(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
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
    if ((log_total == -1.0 && PyErr_Occurred()) || ready(sentence) < 0)
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
            int word = word_score(f, log_total, &lp);
            Py_DECREF(f);
            if (word < 0)
                goto fail;
            if (word) {
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
            int word = f == NULL ? 0 : word_score(f, log_total, &lp);
            Py_XDECREF(f);
            if (word < 0)
                goto fail;
            if (!word)
                lp = log(1.0) - log_total;
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
            if (append_slice(out, sentence, x, y) < 0)
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

/* emit.get(c, min_float) for the one-character string c */
static int
emission(PyObject *emit, PyObject *c, double min_float, double *out)
{
    PyObject *v = PyDict_GetItemWithError(emit, c);
    if (v == NULL) {
        if (PyErr_Occurred())
            return -1;
        *out = min_float;
        return 0;
    }
    Py_INCREF(v);   /* held: a value's __float__ could change the dict */
    *out = PyFloat_AsDouble(v);
    Py_DECREF(v);
    return *out == -1.0 && PyErr_Occurred() ? -1 : 0;
}

/* hmm(sentence, out, emit_b, emit_m, emit_e, emit_s, params): streams.segment._hmm_han_py, that is
 * jieba's finalseg Viterbi over the states B, M, E, S and the words it reads off the best path,
 * appended to `out`. params: the four start scores (B, M, E, S), the eight allowed transitions
 * (E->B, S->B, M->M, B->M, S->S, E->S, B->E, M->E) and finalseg's MIN_FLOAT. The sums are
 * ((score + transition) + emission) in finalseg's order, with its tie-breaking (see _viterbi). */
static PyObject *
hmm(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "hmm(sentence, out, emit_b, emit_m, emit_e, emit_s, params) takes 7 arguments");
        return NULL;
    }
    PyObject *sentence = args[0], *out = args[1], *params = args[6];
    PyObject *emit[4] = {args[2], args[3], args[4], args[5]};
    if (!PyUnicode_Check(sentence) || !PyList_Check(out) || !PyTuple_Check(params)
            || PyTuple_GET_SIZE(params) != 13) {
        PyErr_SetString(PyExc_TypeError, "hmm() needs a str, a list, four dicts and a tuple of 13 floats");
        return NULL;
    }
    for (int j = 0; j < 4; j++) {
        if (!PyDict_Check(emit[j])) {
            PyErr_SetString(PyExc_TypeError, "hmm() needs a str, a list, four dicts and a tuple of 13 floats");
            return NULL;
        }
    }
    double p[13];
    for (int j = 0; j < 13; j++) {
        p[j] = PyFloat_AsDouble(PyTuple_GET_ITEM(params, j));
        if (p[j] == -1.0 && PyErr_Occurred())
            return NULL;
    }
    const double EB = p[4], SB = p[5], MM = p[6], BM = p[7], SS = p[8], ES = p[9], BE = p[10], ME = p[11];
    const double MIN = p[12];
    if (ready(sentence) < 0)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(sentence);
    if (n == 0)
        Py_RETURN_NONE;
    /* back[t]: for step t >= 1, the previous state of B, M, E, S packed as 2 bits each */
    unsigned char *back = PyMem_New(unsigned char, n);
    char *path = PyMem_New(char, n);
    if (back == NULL || path == NULL) {
        PyMem_Free(back);
        PyMem_Free(path);
        return PyErr_NoMemory();
    }
    enum { B = 0, M = 1, E = 2, S = 3 };
    double b, m, e, s, em[4];
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *c = PyUnicode_Substring(sentence, t, t + 1);
        if (c == NULL)
            goto fail;
        int rc = 0;
        for (int j = 0; j < 4 && rc == 0; j++)
            rc = emission(emit[j], c, MIN, &em[j]);
        Py_DECREF(c);
        if (rc < 0)
            goto fail;
        if (t == 0) {
            b = p[0] + em[B];
            m = p[1] + em[M];
            e = p[2] + em[E];
            s = p[3] + em[S];
            back[0] = 0;
            continue;
        }
        double x, y, nb, nm, ne, ns;
        int pb, pm, pe, ps;
        x = e + EB + em[B]; y = s + SB + em[B];
        if (x > y) { nb = x; pb = E; } else { nb = y; pb = S; }
        x = m + MM + em[M]; y = b + BM + em[M];
        if (x >= y) { nm = x; pm = M; } else { nm = y; pm = B; }
        x = s + SS + em[S]; y = e + ES + em[S];
        if (x >= y) { ns = x; ps = S; } else { ns = y; ps = E; }
        x = b + BE + em[E]; y = m + ME + em[E];
        if (x > y) { ne = x; pe = B; } else { ne = y; pe = M; }
        b = nb; m = nm; e = ne; s = ns;
        back[t] = (unsigned char)(pb | pm << 2 | pe << 4 | ps << 6);
    }
    int state = e > s ? E : S;
    for (Py_ssize_t t = n - 1; t >= 0; t--) {
        path[t] = (char)state;
        state = (back[t] >> (2 * state)) & 3;
    }
    Py_ssize_t begin = 0, next = 0;
    for (Py_ssize_t t = 0; t < n; t++) {
        Py_ssize_t from = -1;
        if (path[t] == B) {
            begin = t;
        } else if (path[t] == E) {
            from = begin;
        } else if (path[t] == S) {
            from = t;
        }
        if (from >= 0) {
            if (append_slice(out, sentence, from, t + 1) < 0)
                goto fail;
            next = t + 1;
        }
    }
    if (next < n && append_slice(out, sentence, next, n) < 0)
        goto fail;
    PyMem_Free(back);
    PyMem_Free(path);
    Py_RETURN_NONE;
fail:
    PyMem_Free(back);
    PyMem_Free(path);
    return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* bottom_k(chars, k): streams.dedup's trigram features of `chars` (three code points packed as
 * a << 42 | b << 21 | c, times the 64-bit golden ratio mod 2**64, top 32 bits), distinct,
 * ascending, the k smallest, as a tuple of ints; () for fewer than three characters. */
static PyObject *
bottom_k(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyLong_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "bottom_k(chars: str, k: int)");
        return NULL;
    }
    PyObject *chars = args[0];
    Py_ssize_t k = PyLong_AsSsize_t(args[1]);
    if ((k == -1 && PyErr_Occurred()) || ready(chars) < 0)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(chars);
    if (n < 3 || k <= 0)
        return PyTuple_New(0);
    int kind = PyUnicode_KIND(chars);
    const void *data = PyUnicode_DATA(chars);
    uint32_t *h = PyMem_New(uint32_t, n - 2);
    if (h == NULL)
        return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i + 2 < n; i++) {
        uint64_t x = (uint64_t)PyUnicode_READ(kind, data, i) << 42
            | (uint64_t)PyUnicode_READ(kind, data, i + 1) << 21
            | (uint64_t)PyUnicode_READ(kind, data, i + 2);
        h[i] = (uint32_t)((x * UINT64_C(0x9E3779B97F4A7C15)) >> 32);
    }
    qsort(h, (size_t)(n - 2), sizeof(uint32_t), cmp_u32);
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n - 2 && m < k; i++) {
        if (m == 0 || h[i] != h[m - 1])
            h[m++] = h[i];
    }
    PyObject *out = PyTuple_New(m);
    if (out == NULL) {
        PyMem_Free(h);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < m; i++) {
        PyObject *v = PyLong_FromUnsignedLong(h[i]);
        if (v == NULL) {
            Py_DECREF(out);
            PyMem_Free(h);
            return NULL;
        }
        PyTuple_SET_ITEM(out, i, v);
    }
    PyMem_Free(h);
    return out;
}

static PyMethodDef methods[] = {
    {"walk", (PyCFunction)(void (*)(void))walk, METH_FASTCALL,
     "walk(sentence, freq, log_total, out, flush): jieba's accurate-mode route through one Han block"},
    {"hmm", (PyCFunction)(void (*)(void))hmm, METH_FASTCALL,
     "hmm(sentence, out, emit_b, emit_m, emit_e, emit_s, params): finalseg's Viterbi words for one Han run"},
    {"bottom_k", (PyCFunction)(void (*)(void))bottom_k, METH_FASTCALL,
     "bottom_k(chars, k): the k smallest distinct trigram features of chars (streams.dedup.sketch)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "streams._speedups",
    "the hot loops of analyze() in C (see streams/segment.py and streams/dedup.py)", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module);
}
