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
#include <string.h>

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

/* ---- the entity CRF (streams.entity_crf): its weights in C, and Viterbi ----
 *
 * An attribute key is (template, a, b, c) with N_LABELS = 7 weights. Stored for speed, not by key:
 * the five character templates (u-2 .. u2) in one record per code point, the four bigram templates
 * and the skip pair in one record per pair of code points (one hash look-up serves them all), and
 * the templates over small codes (bias, character classes, rule tags, token places) in plain arrays.
 * Weights are floats (the Python twin rounds them the same way) and are added as doubles, template
 * by template in streams.entity_crf.features' order, so the twin and this code agree exactly. */

#define CRF_LABELS 7
#define CRF_CODES 16     /* rule codes (LABELS indexes, 7 / 8 past the ends) are below this */
#define CRF_SEGS 8
#define CRF_CLASSES 6

typedef float crf_row[CRF_LABELS];

/* a record of up to five rows (one per character offset, or four bigram offsets and the skip pair),
 * packed: `at` is (index of its first row) << 5 | (mask of the rows it has); 0 = an empty slot */
typedef struct {
    uint32_t a, b;       /* a code point (singles) or a pair of them */
    uint32_t at;
} crf_slot;

typedef struct {
    uint64_t mask;
    crf_slot *slots;
    crf_row *rows;       /* the records' rows, packed */
} crf_map;

typedef struct {
    crf_map singles, pairs;
    crf_row bias, cls[CRF_CLASSES * CRF_CLASSES * CRF_CLASSES], r0[CRF_CODES], rp[CRF_CODES * CRF_CODES],
        rn[CRF_CODES * CRF_CODES], seg[CRF_SEGS], segr[CRF_SEGS * CRF_CODES];
    double trans[CRF_LABELS * CRF_LABELS];   /* trans[from * 7 + to] */
} crf_model;

static const unsigned char crf_bits[32] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                           1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5};

static uint64_t
crf_hash(uint32_t a, uint32_t b)
{
    uint64_t h = ((uint64_t)a << 32 | b) * UINT64_C(0x9E3779B97F4A7C15);
    return h ^ (h >> 31);
}

static crf_slot *
crf_find(const crf_map *m, uint32_t a, uint32_t b)
{
    for (uint64_t i = crf_hash(a, b) & m->mask;; i = (i + 1) & m->mask) {
        crf_slot *s = &m->slots[i];
        if (s->at == 0 || (s->a == a && s->b == b))
            return s;
    }
}

/* the record word of (a, b): 0 if it has none */
static uint32_t
crf_at(const crf_map *m, uint32_t a, uint32_t b)
{
    return crf_find(m, a, b)->at;
}

/* row o of a record, or NULL */
static const float *
crf_rec_row(const crf_map *m, uint32_t at, int o)
{
    if (!(at >> o & 1))
        return NULL;
    return m->rows[(at >> 5) + crf_bits[at & ((1u << o) - 1)]];
}

static int
crf_map_init(crf_map *m, Py_ssize_t keys)
{
    Py_ssize_t cap = 16;
    while (cap < 2 * keys)
        cap *= 2;
    m->mask = (uint64_t)(cap - 1);
    m->slots = PyMem_Calloc((size_t)cap, sizeof(crf_slot));
    return m->slots == NULL ? -1 : 0;
}

/* pass 1 marks row o of (a, b) in its slot's mask; pass 2 (crf_map_pack) gives each record its rows */
static void
crf_mark(crf_map *m, uint32_t a, uint32_t b, int o)
{
    crf_slot *s = crf_find(m, a, b);
    s->a = a;
    s->b = b;
    s->at |= 1u << o;
}

static int
crf_map_pack(crf_map *m)
{
    uint64_t rows = 0;
    for (uint64_t i = 0; i <= m->mask; i++) {
        crf_slot *s = &m->slots[i];
        if (s->at) {
            uint32_t bits = s->at;
            s->at = (uint32_t)(rows << 5) | bits;
            rows += crf_bits[bits];
        }
    }
    if (rows >= (UINT64_C(1) << 27))
        return -1;
    m->rows = PyMem_Calloc((size_t)rows + 1, sizeof(crf_row));
    return m->rows == NULL ? -1 : 0;
}

static void
crf_model_free(crf_model *m)
{
    if (m == NULL)
        return;
    PyMem_Free(m->singles.slots);
    PyMem_Free(m->singles.rows);
    PyMem_Free(m->pairs.slots);
    PyMem_Free(m->pairs.rows);
    PyMem_Free(m);
}

static void
crf_capsule_free(PyObject *capsule)
{
    crf_model_free(PyCapsule_GetPointer(capsule, "shaobing.crf"));
}

/* where key k's weights go: its row, or NULL (with ValueError) for a key outside the templates */
static float *
crf_slot_of(crf_model *m, const uint32_t *k)
{
    uint32_t t = k[0], a = k[1], b = k[2], c = k[3];
    if (t == 0 && a == 0 && b == 0 && c == 0)
        return m->bias;
    if (t >= 1 && t <= 5 && b == 0 && c == 0)
        return (float *)crf_rec_row(&m->singles, crf_at(&m->singles, a, 0), (int)(t - 1));
    if (t >= 6 && t <= 10 && c == 0)
        return (float *)crf_rec_row(&m->pairs, crf_at(&m->pairs, a, b), (int)(t - 6));
    if (t == 11 && a < CRF_CLASSES && b < CRF_CLASSES && c < CRF_CLASSES)
        return m->cls[(a * CRF_CLASSES + b) * CRF_CLASSES + c];
    if (t == 12 && a < CRF_CODES && b == 0 && c == 0)
        return m->r0[a];
    if (t == 13 && a < CRF_CODES && b < CRF_CODES && c == 0)
        return m->rp[a * CRF_CODES + b];
    if (t == 14 && a < CRF_CODES && b < CRF_CODES && c == 0)
        return m->rn[a * CRF_CODES + b];
    if (t == 15 && a < CRF_SEGS && b == 0 && c == 0)
        return m->seg[a];
    if (t == 16 && a < CRF_SEGS && b < CRF_CODES && c == 0)
        return m->segr[a * CRF_CODES + b];
    PyErr_Format(PyExc_ValueError, "crf_table: key (%u, %u, %u, %u) fits no template", t, a, b, c);
    return NULL;
}

/* crf_table(keys, weights, transitions, n_labels): keys packed uint32 (template, a, b, c) per
 * attribute, weights packed doubles (7 per attribute, in the keys' order, stored as floats),
 * transitions 7 x 7 doubles (from, to). A key given twice keeps its last weights. */
static PyObject *
crf_table(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyBytes_Check(args[0]) || !PyBytes_Check(args[1]) || !PyBytes_Check(args[2])
            || !PyLong_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "crf_table(keys: bytes, weights: bytes, transitions: bytes, n_labels: int)");
        return NULL;
    }
    Py_ssize_t L = PyLong_AsSsize_t(args[3]);
    if (L == -1 && PyErr_Occurred())
        return NULL;
    const Py_ssize_t width = 4 * (Py_ssize_t)sizeof(uint32_t);
    Py_ssize_t nk = PyBytes_GET_SIZE(args[0]), nw = PyBytes_GET_SIZE(args[1]), nt = PyBytes_GET_SIZE(args[2]);
    if (L != CRF_LABELS || nk % width || nw != nk / width * CRF_LABELS * (Py_ssize_t)sizeof(double)
            || nt != CRF_LABELS * CRF_LABELS * (Py_ssize_t)sizeof(double) || nk / width > INT32_MAX / 5) {
        PyErr_Format(PyExc_ValueError, "crf_table: sizes do not fit 7 labels (n_labels %zd; keys %zd, weights %zd, "
                     "transitions %zd bytes)", L, nk, nw, nt);
        return NULL;
    }
    Py_ssize_t n = nk / width, singles = 0, pairs = 0;
    const char *keys = PyBytes_AS_STRING(args[0]), *weights = PyBytes_AS_STRING(args[1]);
    for (Py_ssize_t r = 0; r < n; r++) {
        uint32_t t;
        memcpy(&t, keys + r * width, sizeof t);
        singles += t >= 1 && t <= 5;
        pairs += t >= 6 && t <= 10;
    }
    crf_model *m = PyMem_Calloc(1, sizeof(crf_model));
    if (m == NULL)
        return PyErr_NoMemory();
    if (crf_map_init(&m->singles, singles) < 0 || crf_map_init(&m->pairs, pairs) < 0) {
        crf_model_free(m);
        return PyErr_NoMemory();
    }
    memcpy(m->trans, PyBytes_AS_STRING(args[2]), (size_t)nt);
    for (Py_ssize_t r = 0; r < n; r++) {     /* which rows each character and pair record has */
        uint32_t k[4];
        memcpy(k, keys + r * width, sizeof k);
        if (k[0] >= 1 && k[0] <= 5 && k[2] == 0 && k[3] == 0)
            crf_mark(&m->singles, k[1], 0, (int)(k[0] - 1));
        else if (k[0] >= 6 && k[0] <= 10 && k[3] == 0)
            crf_mark(&m->pairs, k[1], k[2], (int)(k[0] - 6));
    }
    if (crf_map_pack(&m->singles) < 0 || crf_map_pack(&m->pairs) < 0) {
        crf_model_free(m);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t r = 0; r < n; r++) {
        uint32_t k[4];
        double w[CRF_LABELS];
        memcpy(k, keys + r * width, sizeof k);
        memcpy(w, weights + r * CRF_LABELS * (Py_ssize_t)sizeof(double), sizeof w);
        float *row = crf_slot_of(m, k);
        if (row == NULL) {
            crf_model_free(m);
            return NULL;
        }
        for (int y = 0; y < CRF_LABELS; y++) {
            if (!(fabs(w[y]) <= FLT_MAX)) {   /* NaN, inf, or no float (the cast would be undefined) */
                PyErr_Format(PyExc_ValueError, "crf_table: weight %d of attribute %zd is not a finite float",
                             y, r);
                crf_model_free(m);
                return NULL;
            }
            row[y] = (float)w[y];
        }
    }
    PyObject *capsule = PyCapsule_New(m, "shaobing.crf", crf_capsule_free);
    if (capsule == NULL)
        crf_model_free(m);
    return capsule;
}

/* as streams.entity_crf.char_class */
static uint32_t
crf_class(Py_UCS4 cp)
{
    static const Py_UCS4 numerals[] = {0x96F6, 0x4E00, 0x4E8C, 0x4E09, 0x56DB, 0x4E94, 0x516D, 0x4E03,
                                       0x516B, 0x4E5D, 0x5341, 0x767E, 0x5343, 0x4E07, 0x4EBF, 0x4E24, 0x3007};
    if (cp == 2)
        return 4;
    if (cp == 3)
        return 5;
    if ((cp >= 48 && cp <= 57) || (cp >= 0xFF10 && cp <= 0xFF19))
        return 0;
    for (size_t i = 0; i < sizeof numerals / sizeof numerals[0]; i++)
        if (cp == numerals[i])
            return 0;
    if ((cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122) || (cp >= 0xFF21 && cp <= 0xFF3A)
            || (cp >= 0xFF41 && cp <= 0xFF5A))
        return 1;
    if (cp >= 0x4E00 && cp <= 0x9FFF)
        return 2;
    return 3;
}

static inline void
crf_add(double *emit, const float *row)
{
    for (int y = 0; y < CRF_LABELS; y++)
        emit[y] += (double)row[y];
}

/* crf_tag(table, text, seg, rule): streams.entity_crf.EntityCRF.tag_py in C. seg and rule hold one
 * code per character (SEG codes; rule BIO tags as LABELS indexes). Returns the Viterbi labels as
 * bytes: the same weights added in the same order, the lowest label on a tie. */
static PyObject *
crf_tag(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyCapsule_IsValid(args[0], "shaobing.crf") || !PyUnicode_Check(args[1])
            || !PyBytes_Check(args[2]) || !PyBytes_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "crf_tag(table, text: str, seg: bytes, rule: bytes)");
        return NULL;
    }
    const crf_model *m = PyCapsule_GetPointer(args[0], "shaobing.crf");
    PyObject *text = args[1];
    if (m == NULL || ready(text) < 0)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (PyBytes_GET_SIZE(args[2]) != n || PyBytes_GET_SIZE(args[3]) != n) {
        PyErr_Format(PyExc_ValueError, "crf_tag: seg and rule need one code per character (%zd), got %zd and %zd",
                     n, PyBytes_GET_SIZE(args[2]), PyBytes_GET_SIZE(args[3]));
        return NULL;
    }
    if (n == 0)
        return PyBytes_FromStringAndSize(NULL, 0);
    const unsigned char *seg = (const unsigned char *)PyBytes_AS_STRING(args[2]);
    const unsigned char *rule = (const unsigned char *)PyBytes_AS_STRING(args[3]);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    /* n x 7 back-pointers, then n labels; the code points padded by two each side; their records */
    unsigned char *back = PyMem_Malloc((size_t)(n * (CRF_LABELS + 1)));
    Py_UCS4 *cps = PyMem_New(Py_UCS4, n + 4);
    uint32_t *single = PyMem_New(uint32_t, n + 4);
    uint32_t *pair = PyMem_New(uint32_t, n + 3);
    if (back == NULL || cps == NULL || single == NULL || pair == NULL) {
        PyMem_Free(back);
        PyMem_Free(cps);
        PyMem_Free(single);
        PyMem_Free(pair);
        return PyErr_NoMemory();
    }
    cps[0] = cps[1] = 2;
    cps[n + 2] = cps[n + 3] = 3;
    for (Py_ssize_t i = 0; i < n; i++)
        cps[i + 2] = PyUnicode_READ(kind, data, i);
#if defined(__GNUC__)
    /* the look-ups are independent: ask for every first slot before reading any (they miss cache) */
    for (Py_ssize_t k = 0; k < n + 4; k++)
        __builtin_prefetch(&m->singles.slots[crf_hash(cps[k], 0) & m->singles.mask]);
    for (Py_ssize_t k = 0; k < n + 3; k++)
        __builtin_prefetch(&m->pairs.slots[crf_hash(cps[k], cps[k + 1]) & m->pairs.mask]);
    for (Py_ssize_t k = 1; k + 2 < n + 4; k++)
        __builtin_prefetch(&m->pairs.slots[crf_hash(cps[k], cps[k + 2]) & m->pairs.mask]);
#endif
    for (Py_ssize_t k = 0; k < n + 4; k++)
        single[k] = crf_at(&m->singles, cps[k], 0);
    for (Py_ssize_t k = 0; k < n + 3; k++)
        pair[k] = crf_at(&m->pairs, cps[k], cps[k + 1]);
    double prev[CRF_LABELS], cur[CRF_LABELS];
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t j = i + 2;
        uint32_t r0 = rule[i], rp = i ? rule[i - 1] : 7, rn = i + 1 < n ? rule[i + 1] : 8, s = seg[i];
        double emit[CRF_LABELS] = {0.0};
        const float *row;
        crf_add(emit, m->bias);
        for (int o = 0; o < 5; o++)
            if ((row = crf_rec_row(&m->singles, single[j - 2 + o], o)) != NULL)
                crf_add(emit, row);
        for (int o = 0; o < 4; o++)
            if ((row = crf_rec_row(&m->pairs, pair[j - 2 + o], o)) != NULL)
                crf_add(emit, row);
        if ((row = crf_rec_row(&m->pairs, crf_at(&m->pairs, cps[j - 1], cps[j + 1]), 4)) != NULL)
            crf_add(emit, row);
        crf_add(emit, m->cls[(crf_class(cps[j - 1]) * CRF_CLASSES + crf_class(cps[j])) * CRF_CLASSES
                             + crf_class(cps[j + 1])]);
        if (r0 < CRF_CODES) {
            crf_add(emit, m->r0[r0]);
            if (rp < CRF_CODES)
                crf_add(emit, m->rp[rp * CRF_CODES + r0]);
            if (rn < CRF_CODES)
                crf_add(emit, m->rn[r0 * CRF_CODES + rn]);
        }
        if (s < CRF_SEGS) {
            crf_add(emit, m->seg[s]);
            if (r0 < CRF_CODES)
                crf_add(emit, m->segr[s * CRF_CODES + r0]);
        }
        if (i == 0) {
            memcpy(prev, emit, sizeof prev);
            continue;
        }
        for (int y = 0; y < CRF_LABELS; y++) {
            double best = prev[0] + m->trans[y];
            unsigned char arg = 0;
            for (int z = 1; z < CRF_LABELS; z++) {
                double sc = prev[z] + m->trans[z * CRF_LABELS + y];
                if (sc > best) {
                    best = sc;
                    arg = (unsigned char)z;
                }
            }
            cur[y] = best + emit[y];
            back[i * CRF_LABELS + y] = arg;
        }
        memcpy(prev, cur, sizeof prev);
    }
    unsigned char y = 0;
    for (int z = 1; z < CRF_LABELS; z++)
        if (prev[z] > prev[y])
            y = (unsigned char)z;
    unsigned char *labels = back + n * CRF_LABELS;
    for (Py_ssize_t i = n - 1;; i--) {
        labels[i] = y;
        if (i == 0)
            break;
        y = back[i * CRF_LABELS + y];
    }
    PyObject *out = PyBytes_FromStringAndSize((const char *)labels, n);
    PyMem_Free(back);
    PyMem_Free(cps);
    PyMem_Free(single);
    PyMem_Free(pair);
    return out;
}

static PyMethodDef methods[] = {
    {"walk", (PyCFunction)(void (*)(void))walk, METH_FASTCALL,
     "walk(sentence, freq, log_total, out, flush): jieba's accurate-mode route through one Han block"},
    {"hmm", (PyCFunction)(void (*)(void))hmm, METH_FASTCALL,
     "hmm(sentence, out, emit_b, emit_m, emit_e, emit_s, params): finalseg's Viterbi words for one Han run"},
    {"bottom_k", (PyCFunction)(void (*)(void))bottom_k, METH_FASTCALL,
     "bottom_k(chars, k): the k smallest distinct trigram features of chars (streams.dedup.sketch)"},
    {"crf_table", (PyCFunction)(void (*)(void))crf_table, METH_FASTCALL,
     "crf_table(keys, weights, transitions, n_labels): the entity CRF's weights as a hash table"},
    {"crf_tag", (PyCFunction)(void (*)(void))crf_tag, METH_FASTCALL,
     "crf_tag(table, text, seg, rule): the entity CRF's Viterbi labels (streams.entity_crf)"},
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
