/*
 * Compiled versions of three pure-Python inner loops (issue 12). Each function here does what
 * the Python function named beside it does, step for step and in the same order, so that its
 * results are the same objects and the same floats; the Python code stays the reference and
 * the fallback (cleankit/speedups.py decides which one runs).
 *
 * Chosen by profiling the benchmark crawl (benchmarks/README.md, "Speed (issue 12)"): each loop
 * does little work per step, so the interpreter's dispatch is most of its cost.
 *
 *   total_logp      ChineseModel.total_logp's loop (cleankit/text/plausibility.py)
 *   anchor_matches  RepeatsStage._segments' anchor extension (cleankit/stages/repeats.py)
 *   dedupe          byte_shift._dedupe (cleankit/stages/mojibake/byte_shift.py)
 *   min_hashes      signature's block loop (cleankit/neardup/signature.py)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* A str of the two code points: the exact (canonical) kind for its widest character, as a
 * str built in Python would have, or it would not compare equal to the dictionaries' keys. */
static PyObject *
pair_of(Py_UCS4 first, Py_UCS4 second)
{
    PyObject *pair = PyUnicode_New(2, first > second ? first : second);
    if (pair == NULL) {
        return NULL;
    }
    int kind = PyUnicode_KIND(pair);
    void *data = PyUnicode_DATA(pair);
    PyUnicode_WRITE(kind, data, 0, first);
    PyUnicode_WRITE(kind, data, 1, second);
    return pair;
}

/* value = table.get(key); on a miss, value = table[key] = make(*args). A new reference, or NULL
 * with an exception set. */
static PyObject *
get_or_make(PyObject *table, PyObject *key, PyObject *make, PyObject *first, PyObject *second)
{
    PyObject *value = PyDict_GetItemWithError(table, key);
    if (value != NULL) {
        Py_INCREF(value);
        return value;
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    value = second == NULL ? PyObject_CallOneArg(make, first)
                           : PyObject_CallFunctionObjArgs(make, first, second, NULL);
    if (value == NULL) {
        return NULL;
    }
    if (PyDict_SetItem(table, key, value) < 0) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

/* total_logp(text, score, pairs, unseen, bigrams, pair_logp, unseen_logp) -> float
 *
 * The score of text[1:] after text[0], added to ``score`` (the first character's term, which
 * the caller computes). A pair of ``bigrams`` scores pairs[key] (made by pair_logp(previous,
 * char) on a miss), any other pair unseen[char] (made by unseen_logp(char)). The sum is taken
 * in the same order as the Python loop, so it is the same double. */
static PyObject *
speedups_total_logp(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "total_logp takes 7 arguments");
        return NULL;
    }
    PyObject *text = args[0], *pairs = args[2], *unseen = args[3], *bigrams = args[4];
    PyObject *pair_logp = args[5], *unseen_logp = args[6];
    if (!PyUnicode_Check(text) || !PyDict_Check(pairs) || !PyDict_Check(unseen) || !PyDict_Check(bigrams)) {
        PyErr_SetString(PyExc_TypeError, "total_logp: text must be a str and the tables dicts");
        return NULL;
    }
    double score = PyFloat_AsDouble(args[1]);
    if (score == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t index = 1; index < length; index++) {
        Py_UCS4 previous = PyUnicode_READ(kind, data, index - 1);
        Py_UCS4 current = PyUnicode_READ(kind, data, index);
        PyObject *key = pair_of(previous, current);
        if (key == NULL) {
            return NULL;
        }
        PyObject *logp = PyDict_GetItemWithError(pairs, key);
        if (logp != NULL) {
            Py_INCREF(logp);
        }
        else if (!PyErr_Occurred()) {
            int known = PyDict_Contains(bigrams, key);
            PyObject *second = known < 0 ? NULL : PyUnicode_FromOrdinal(current);
            if (second != NULL && known) {
                PyObject *first = PyUnicode_FromOrdinal(previous);
                logp = first == NULL ? NULL : get_or_make(pairs, key, pair_logp, first, second);
                Py_XDECREF(first);
            }
            else if (second != NULL) {
                logp = get_or_make(unseen, second, unseen_logp, second, NULL);
            }
            Py_XDECREF(second);
        }
        Py_DECREF(key);
        if (logp == NULL) {
            return NULL;
        }
        double term = PyFloat_AsDouble(logp);
        Py_DECREF(logp);
        if (term == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        score += term;
    }
    return PyFloat_FromDouble(score);
}

/* The length of the common run of a[a_at..] and b[b_at..] going forward (step 1, bounded by
 * the ends) or backward (step -1, bounded by a_floor and 0). */
static Py_ssize_t
forward_run(int a_kind, const void *a, Py_ssize_t a_at, Py_ssize_t a_len, int b_kind, const void *b,
            Py_ssize_t b_at, Py_ssize_t b_len)
{
    Py_ssize_t run = 0;
    while (a_at + run < a_len && b_at + run < b_len
           && PyUnicode_READ(a_kind, a, a_at + run) == PyUnicode_READ(b_kind, b, b_at + run)) {
        run++;
    }
    return run;
}

static Py_ssize_t
backward_run(int a_kind, const void *a, Py_ssize_t a_at, Py_ssize_t a_floor, int b_kind, const void *b,
             Py_ssize_t b_at)
{
    Py_ssize_t run = 0;
    while (a_at - run > a_floor && b_at - run > 0
           && PyUnicode_READ(a_kind, a, a_at - run - 1) == PyUnicode_READ(b_kind, b, b_at - run - 1)) {
        run++;
    }
    return run;
}

/* Reads one (kept, kept_offset) place of the anchor index. */
static int
read_place(PyObject *place, PyObject **kept, Py_ssize_t *kept_offset)
{
    /* Plain ints only: hashing or reading any other object could run Python code that
     * changes the index while it is read. */
    if (!PyTuple_Check(place) || PyTuple_GET_SIZE(place) != 2 || !PyLong_CheckExact(PyTuple_GET_ITEM(place, 0))
        || !PyLong_CheckExact(PyTuple_GET_ITEM(place, 1))) {
        PyErr_SetString(PyExc_TypeError, "anchor_matches: a place must be a (kept, offset) tuple of ints");
        return -1;
    }
    *kept = PyTuple_GET_ITEM(place, 0);
    *kept_offset = PyLong_AsSsize_t(PyTuple_GET_ITEM(place, 1));
    return (*kept_offset == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* anchor_matches(view, anchors, kept_views, offsets, size) -> [(start, end, kept, kept_start, kept_end)]
 *
 * For each offset (ascending) at or past the end of the last match whose anchor
 * view[offset:offset+size] is indexed: every place of the anchor is extended both ways as far
 * as the texts agree (backward no further than the last match's end), and the longest run
 * kept (of equally long ones the first reaching the end of its kept paragraph, else the first
 * place). */
static PyObject *
speedups_anchor_matches(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "anchor_matches takes 5 arguments");
        return NULL;
    }
    PyObject *view = args[0], *anchors = args[1], *kept_views = args[2];
    if (!PyUnicode_Check(view) || !PyDict_Check(anchors) || !PyDict_Check(kept_views)) {
        PyErr_SetString(PyExc_TypeError, "anchor_matches: view must be a str and the indexes dicts");
        return NULL;
    }
    Py_ssize_t size = PyLong_AsSsize_t(args[4]);
    if (size == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t view_size = PyUnicode_GET_LENGTH(view);
    int kind = PyUnicode_KIND(view);
    const void *data = PyUnicode_DATA(view);
    Py_ssize_t limit = view_size - size, floor = 0;
    PyObject *found = PyList_New(0);
    PyObject *offsets = PyObject_GetIter(args[3]);
    if (found == NULL || offsets == NULL) {
        goto fail;
    }
    PyObject *item;
    while ((item = PyIter_Next(offsets)) != NULL) {
        Py_ssize_t offset = PyLong_AsSsize_t(item);
        Py_DECREF(item);
        if (offset == -1 && PyErr_Occurred()) {
            goto fail;
        }
        if (offset < floor || offset > limit) {
            continue;
        }
        PyObject *anchor = PyUnicode_Substring(view, offset, offset + size);
        if (anchor == NULL) {
            goto fail;
        }
        PyObject *places = PyDict_GetItemWithError(anchors, anchor);
        Py_DECREF(anchor);
        if (places == NULL) {
            if (PyErr_Occurred()) {
                goto fail;
            }
            continue;
        }
        if (!PyList_Check(places) || PyList_GET_SIZE(places) == 0) {
            PyErr_SetString(PyExc_TypeError, "anchor_matches: an anchor's places must be a non-empty list");
            goto fail;
        }
        /* Held while it is read, though nothing below runs Python code (plain ints, str). */
        Py_INCREF(places);
        PyObject *best_kept = NULL;
        Py_ssize_t best_start = 0, best_end = 0, best_kept_start = 0, best_kept_end = 0;
        int best_reaches_end = 0;
        for (Py_ssize_t at = 0; at < PyList_GET_SIZE(places); at++) {
            PyObject *kept;
            Py_ssize_t kept_offset;
            if (read_place(PyList_GET_ITEM(places, at), &kept, &kept_offset) < 0) {
                Py_DECREF(places);
                goto fail;
            }
            PyObject *other = PyDict_GetItemWithError(kept_views, kept);
            if (other == NULL || !PyUnicode_Check(other)) {
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(other == NULL ? PyExc_KeyError : PyExc_TypeError, kept);
                }
                Py_DECREF(places);
                goto fail;
            }
            Py_ssize_t other_size = PyUnicode_GET_LENGTH(other);
            int other_kind = PyUnicode_KIND(other);
            const void *other_data = PyUnicode_DATA(other);
            Py_ssize_t back = backward_run(kind, data, offset, floor, other_kind, other_data, kept_offset);
            Py_ssize_t ahead = forward_run(kind, data, offset + size, view_size, other_kind, other_data,
                                           kept_offset + size, other_size);
            Py_ssize_t start = offset - back, end = offset + size + ahead;
            Py_ssize_t kept_start = kept_offset - back, kept_end = kept_offset + size + ahead;
            int reaches_end = kept_end == other_size;
            /* rank = (length, reaches the end) compared as the Python tuples are. */
            if (best_kept == NULL || end - start > best_end - best_start
                || (end - start == best_end - best_start && reaches_end > best_reaches_end)) {
                best_kept = kept;
                best_start = start, best_end = end, best_kept_start = kept_start, best_kept_end = kept_end;
                best_reaches_end = reaches_end;
            }
        }
        PyObject *match = Py_BuildValue("(nnOnn)", best_start, best_end, best_kept, best_kept_start, best_kept_end);
        Py_DECREF(places);
        if (match == NULL || PyList_Append(found, match) < 0) {
            Py_XDECREF(match);
            goto fail;
        }
        Py_DECREF(match);
        floor = best_end;
    }
    if (PyErr_Occurred()) {
        goto fail;
    }
    Py_DECREF(offsets);
    return found;
fail:
    Py_XDECREF(offsets);
    Py_XDECREF(found);
    return NULL;
}

/* dedupe(paths, keep) -> list
 *
 * The first ``keep`` paths (in the given order) whose (text[-2:], pending) differ, for the
 * byte-shift search's (score, text, pending, lost) tuples. */
static PyObject *
speedups_dedupe(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "dedupe takes a list and a count");
        return NULL;
    }
    PyObject *paths = args[0];
    Py_ssize_t keep = PyLong_AsSsize_t(args[1]);
    if (keep == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *unique = PyList_New(0);
    PyObject *seen = PySet_New(NULL);
    if (unique == NULL || seen == NULL) {
        goto fail;
    }
    /* Hashing a key may run Python code (the pending entry is any object), so the list's
     * size is read again at every step. */
    for (Py_ssize_t at = 0; at < PyList_GET_SIZE(paths); at++) {
        PyObject *path = PyList_GET_ITEM(paths, at);
        if (!PyTuple_Check(path) || PyTuple_GET_SIZE(path) < 3 || !PyUnicode_Check(PyTuple_GET_ITEM(path, 1))) {
            PyErr_SetString(PyExc_TypeError, "dedupe: a path must be a (score, text, pending, ...) tuple");
            goto fail;
        }
        Py_INCREF(path);
        PyObject *text = PyTuple_GET_ITEM(path, 1);
        Py_ssize_t length = PyUnicode_GET_LENGTH(text);
        PyObject *tail = PyUnicode_Substring(text, length > 2 ? length - 2 : 0, length);
        PyObject *key = tail == NULL ? NULL : PyTuple_Pack(2, tail, PyTuple_GET_ITEM(path, 2));
        Py_XDECREF(tail);
        int known = key == NULL ? -1 : PySet_Contains(seen, key);
        if (known == 0 && (PySet_Add(seen, key) < 0 || PyList_Append(unique, path) < 0)) {
            known = -1;
        }
        Py_XDECREF(key);
        Py_DECREF(path);
        if (known < 0) {
            goto fail;
        }
        if (!known && PyList_GET_SIZE(unique) == keep) {
            break;
        }
    }
    Py_DECREF(seen);
    return unique;
fail:
    Py_XDECREF(seen);
    Py_XDECREF(unique);
    return NULL;
}

/* A C-contiguous buffer of uint32 (format "I", or "L"/"=I"/"<I" of 4 bytes), writable if asked. */
static int
uint32_buffer(PyObject *object, Py_buffer *view, int writable, const char *name)
{
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0) {
        return -1;
    }
    const char *format = view->format == NULL ? "B" : view->format;
    if (*format == '=' || *format == '<' || *format == '@') {
        format++;
    }
    if (view->itemsize != 4 || (strcmp(format, "I") != 0 && strcmp(format, "L") != 0)) {
        PyErr_Format(PyExc_TypeError, "min_hashes: %s must hold uint32", name);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* min_hashes(hashes, a, b, result) -> None
 *
 * result[p] = min(result[p], min over h of (a[p] * h + b[p]) mod 2**32) for every permutation p,
 * in place: what signature's numpy block loop computes (multiply, add, row minimum), in one pass
 * and without its (permutations x block) buffer. uint32 arithmetic wraps the same way in both. */
/* The loop alone, compiled twice where GCC can pick at load time: x86-64's baseline (SSE2)
 * has no 32-bit vector multiply or unsigned minimum, AVX2 has both: 133 against 19 us for 3,000 hashes x 128 permutations here. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx2", "default")))
#endif
static void
min_hash_loop(const uint32_t *h, Py_ssize_t count, const uint32_t *pa, const uint32_t *pb, uint32_t *out,
              Py_ssize_t permutations)
{
    for (Py_ssize_t p = 0; p < permutations; p++) {
        uint32_t multiplier = pa[p], offset = pb[p], low = out[p];
        for (Py_ssize_t i = 0; i < count; i++) {
            uint32_t value = multiplier * h[i] + offset;
            low = value < low ? value : low;
        }
        out[p] = low;
    }
}

static PyObject *
speedups_min_hashes(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "min_hashes takes 4 arguments");
        return NULL;
    }
    Py_buffer hashes, a, b, result;
    if (uint32_buffer(args[0], &hashes, 0, "hashes") < 0) {
        return NULL;
    }
    if (uint32_buffer(args[1], &a, 0, "a") < 0) {
        PyBuffer_Release(&hashes);
        return NULL;
    }
    if (uint32_buffer(args[2], &b, 0, "b") < 0) {
        PyBuffer_Release(&hashes);
        PyBuffer_Release(&a);
        return NULL;
    }
    if (uint32_buffer(args[3], &result, 1, "result") < 0) {
        PyBuffer_Release(&hashes);
        PyBuffer_Release(&a);
        PyBuffer_Release(&b);
        return NULL;
    }
    Py_ssize_t count = hashes.len / 4, permutations = result.len / 4;
    PyObject *answer = Py_None;
    if (a.len / 4 != permutations || b.len / 4 != permutations) {
        PyErr_SetString(PyExc_ValueError, "min_hashes: a, b and result must be as long");
        answer = NULL;
    }
    else {
        min_hash_loop(hashes.buf, count, a.buf, b.buf, result.buf, permutations);
        Py_INCREF(answer);
    }
    PyBuffer_Release(&hashes);
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    PyBuffer_Release(&result);
    return answer;
}

static PyMethodDef speedups_methods[] = {
    {"total_logp", (PyCFunction)(void (*)(void))speedups_total_logp, METH_FASTCALL,
     "The log-probability loop of ChineseModel.total_logp."},
    {"anchor_matches", (PyCFunction)(void (*)(void))speedups_anchor_matches, METH_FASTCALL,
     "The anchor extension of RepeatsStage._segments."},
    {"dedupe", (PyCFunction)(void (*)(void))speedups_dedupe, METH_FASTCALL,
     "byte_shift._dedupe: the first paths that differ in their last two characters or pending byte."},
    {"min_hashes", (PyCFunction)(void (*)(void))speedups_min_hashes, METH_FASTCALL,
     "signature's MinHash minimum over every shingle hash, per permutation, in place."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "cleankit._speedups", "Compiled inner loops (see cleankit/speedups.py).", -1,
    speedups_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&speedups_module);
}
