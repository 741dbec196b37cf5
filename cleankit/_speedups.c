/*
 * Compiled versions of a few pure-Python inner loops (issue 12). Each function here does what
 * the Python function named beside it does, step for step and in the same order, so that its
 * results are the same objects and the same floats; the Python code stays the reference and
 * the fallback (cleankit/speedups.py decides which one runs).
 *
 * Chosen by profiling the benchmark crawl (benchmarks/README.md, "Speed (issue 12)"): each loop
 * does little work per step, so the interpreter's dispatch is most of its cost.
 *
 *   total_logp      ChineseModel.total_logp's loop (cleankit/text/plausibility.py)
 *   anchor_matches  RepeatsStage._segments' anchor extension (cleankit/stages/repeats.py)
 *   repeated_offsets  repeated_anchor_offsets, which windows of a page occur twice (same module)
 *   feed, grow      byte_shift._Search.feed and .grow, the realignment beam (same module)
 *   min_hashes      signature's block loop (cleankit/neardup/signature.py)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

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

/* 0 when a function got ``expected`` arguments, else -1 with a TypeError. */
static int
count_is(const char *name, Py_ssize_t nargs, Py_ssize_t expected)
{
    if (nargs == expected) {
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "%s takes %zd arguments (%zd given)", name, expected, nargs);
    return -1;
}

/* 0 when ``holds``, else -1 with a TypeError saying ``message``. */
static int
type_check(int holds, const char *message)
{
    if (!holds) {
        PyErr_SetString(PyExc_TypeError, message);
        return -1;
    }
    return 0;
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
    if (count_is("total_logp", nargs, 7) < 0) {
        return NULL;
    }
    PyObject *text = args[0], *pairs = args[2], *unseen = args[3], *bigrams = args[4];
    PyObject *pair_logp = args[5], *unseen_logp = args[6];
    if (type_check(PyUnicode_Check(text) && PyDict_Check(pairs) && PyDict_Check(unseen) && PyDict_Check(bigrams),
                   "total_logp: text must be a str and the tables dicts") < 0) {
        return NULL;
    }
    double score = PyFloat_AsDouble(args[1]);
    if (score == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    /* Each pair's terms cost dict lookups: reading the text by kind once would gain nothing. */
    for (Py_ssize_t index = 1; index < PyUnicode_GET_LENGTH(text); index++) {
        Py_UCS4 previous = PyUnicode_READ_CHAR(text, index - 1);
        Py_UCS4 current = PyUnicode_READ_CHAR(text, index);
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

/* repeated_offsets(joined, lengths, size) -> [[offset, ...] per view]
 *
 * repeated_anchor_offsets' search (cleankit/stages/repeats.py, _repeated_offsets_pure step for
 * step): the 64-bit rolling hash (h = h * 1000003 + point, modulo 2**64) of every
 * ``size``-long window of ``joined`` (the views joined by LF, ``lengths`` their lengths),
 * counted in a hash table; per view, the offsets (ascending) of its windows whose hash occurs
 * more than once among all windows, separators included. */
#define REPEAT_MULTIPLIER 1000003ULL

static PyObject *
speedups_repeated_offsets(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (count_is("repeated_offsets", nargs, 3) < 0) {
        return NULL;
    }
    PyObject *joined = args[0], *lengths = args[1];
    if (type_check(PyUnicode_Check(joined) && PyList_Check(lengths),
                   "repeated_offsets: joined must be a str and lengths a list") < 0) {
        return NULL;
    }
    Py_ssize_t size = PyLong_AsSsize_t(args[2]);
    if (size == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (size < 1) {
        PyErr_SetString(PyExc_ValueError, "repeated_offsets: size must be at least 1");
        return NULL;
    }
    Py_ssize_t views = PyList_GET_SIZE(lengths);
    Py_ssize_t total = PyUnicode_GET_LENGTH(joined);
    Py_ssize_t count = total - size + 1;
    uint64_t *hashes = NULL, *keys = NULL;
    unsigned char *seen = NULL;
    PyObject *result = PyList_New(views);
    if (result == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < views; i++) {
        PyObject *empty = PyList_New(0);
        if (empty == NULL) {
            goto fail;
        }
        PyList_SET_ITEM(result, i, empty);
    }
    if (count <= 1) {
        return result;
    }
    int kind = PyUnicode_KIND(joined);
    const void *data = PyUnicode_DATA(joined);
    /* A table of at least twice the windows: short probe runs. */
    size_t capacity = 1;
    int bits = 0;
    while (capacity < (size_t)count * 2) {
        capacity <<= 1;
        bits++;
    }
    hashes = PyMem_Malloc(sizeof(uint64_t) * (size_t)count);
    keys = PyMem_Malloc(sizeof(uint64_t) * capacity);
    seen = PyMem_Calloc(capacity, 1);
    if (hashes == NULL || keys == NULL || seen == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    uint64_t top = 1, value = 0;
    for (Py_ssize_t k = 0; k < size - 1; k++) {
        top *= REPEAT_MULTIPLIER;
    }
    for (Py_ssize_t k = 0; k < size; k++) {
        value = value * REPEAT_MULTIPLIER + (uint64_t)PyUnicode_READ(kind, data, k);
    }
    size_t mask = capacity - 1;
    for (Py_ssize_t at = 0;; at++) {
        hashes[at] = value;
        /* Fibonacci hashing of the hash: the table's slot from its high bits. */
        size_t slot = bits ? (size_t)((value * 0x9E3779B97F4A7C15ULL) >> (64 - bits)) : 0;
        while (seen[slot] && keys[slot] != value) {
            slot = (slot + 1) & mask;
        }
        if (!seen[slot]) {
            keys[slot] = value;
            seen[slot] = 1;
        }
        else {
            seen[slot] = 2;
        }
        if (at + 1 >= count) {
            break;
        }
        value = (value - (uint64_t)PyUnicode_READ(kind, data, at) * top) * REPEAT_MULTIPLIER
                + (uint64_t)PyUnicode_READ(kind, data, at + size);
    }
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i < views; i++) {
        Py_ssize_t length = PyLong_AsSsize_t(PyList_GET_ITEM(lengths, i));
        if (length == -1 && PyErr_Occurred()) {
            goto fail;
        }
        if (length < 0 || start + length > total) {
            PyErr_SetString(PyExc_ValueError, "repeated_offsets: the lengths do not fit the joined text");
            goto fail;
        }
        PyObject *found = PyList_GET_ITEM(result, i);
        for (Py_ssize_t offset = 0; offset + size <= length; offset++) {
            uint64_t hash = hashes[start + offset];
            size_t slot = bits ? (size_t)((hash * 0x9E3779B97F4A7C15ULL) >> (64 - bits)) : 0;
            /* Linear probing without deletions: every slot before the hash's own is taken. */
            while (seen[slot] && keys[slot] != hash) {
                slot = (slot + 1) & mask;
            }
            if (seen[slot] == 2) {
                PyObject *number = PyLong_FromSsize_t(offset);
                if (number == NULL || PyList_Append(found, number) < 0) {
                    Py_XDECREF(number);
                    goto fail;
                }
                Py_DECREF(number);
            }
        }
        start += length + 1;
    }
    PyMem_Free(hashes);
    PyMem_Free(keys);
    PyMem_Free(seen);
    return result;
fail:
    PyMem_Free(hashes);
    PyMem_Free(keys);
    PyMem_Free(seen);
    Py_DECREF(result);
    return NULL;
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
    if (count_is("anchor_matches", nargs, 5) < 0) {
        return NULL;
    }
    PyObject *view = args[0], *anchors = args[1], *kept_views = args[2];
    if (type_check(PyUnicode_Check(view) && PyDict_Check(anchors) && PyDict_Check(kept_views),
                   "anchor_matches: view must be a str and the indexes dicts") < 0) {
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

/* ---- The byte-shift realignment search's transitions (byte_shift._Search) ----
 *
 * A path is the tuple (score, text, pending, lost): ``pending`` None, WILDCARD (a lost lead) or
 * a lead byte waiting for its trail, ``lost`` the guess entries. Every transition below is the
 * Python method of the same name, building the same tuples in the same order; the Python
 * callables it is given are called exactly where the Python code would miss its memos. */

#define WILDCARD (-1)
#define NO_BYTE (-2) /* lost_trail's ``then`` is None */
#define GUESS_SHIFT 9
#define LEAD_BIT 0x100

typedef struct {
    PyObject *before;      /* the character before the run, or None */
    PyObject *by_lead;     /* Frame.tables(): lead byte -> candidate list */
    PyObject *by_trail;    /* trail byte -> candidate list */
    PyObject *no_candidates; /* byte_shift._NO_CANDIDATES */
    PyObject *pairs;       /* Frame._pairs: (lead << 8) | trail -> character or "" */
    PyObject *pair_char;   /* Frame.pair_char: fills ``pairs`` */
    PyObject *logp_cache;  /* ChineseModel._logp_cache */
    PyObject *logp;        /* ChineseModel.logp: fills (and bounds) ``logp_cache`` */
    PyObject *ranked;      /* _Search._ranked: (previous, id(candidates)) -> [(char, logp)] */
    PyObject *ranking;     /* _Search._ranking(previous, candidates): fills ``ranked`` */
    double lost_cost;      /* LOST_BYTE_COST */
} Search;

#define SEARCH_FIELDS 11

static int
read_search(PyObject *context, Search *search)
{
    if (!PyTuple_Check(context) || PyTuple_GET_SIZE(context) != SEARCH_FIELDS) {
        PyErr_SetString(PyExc_TypeError, "feed: the search context must be a tuple of 11");
        return -1;
    }
    PyObject **item = &PyTuple_GET_ITEM(context, 0);
    *search = (Search){item[0], item[1], item[2], item[3], item[4], item[5], item[6], item[7], item[8], item[9],
                       PyFloat_AsDouble(item[10])};
    if (search->lost_cost == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    if (!PyDict_Check(search->by_lead) || !PyDict_Check(search->by_trail) || !PyDict_Check(search->pairs)
        || !PyDict_Check(search->logp_cache) || !PyDict_Check(search->ranked)) {
        PyErr_SetString(PyExc_TypeError, "feed: the search's tables must be dicts");
        return -1;
    }
    return 0;
}

/* text[-1] if text else before: a new reference. */
static PyObject *
previous_of(Search *search, PyObject *text)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    if (length == 0) {
        return Py_NewRef(search->before);
    }
    return PyUnicode_FromOrdinal(PyUnicode_READ_CHAR(text, length - 1));
}

/* ChineseModel.logp(previous, char) where previous is text[-1] if text else before: its memo
 * read here under the key _memo_key builds (no str made for ``previous`` on a hit), the method
 * itself called on a miss (it fills and bounds the memo). */
static int
logp_after(Search *search, PyObject *text, PyObject *character, double *out)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    PyObject *key = NULL;
    if (PyUnicode_GET_LENGTH(character) == 1) {
        if (length > 0) {
            key = pair_of(PyUnicode_READ_CHAR(text, length - 1), PyUnicode_READ_CHAR(character, 0));
        }
        else if (search->before == Py_None) {
            key = Py_NewRef(character);
        }
        else if (PyUnicode_Check(search->before) && PyUnicode_GET_LENGTH(search->before) == 1) {
            key = PyUnicode_Concat(search->before, character);
        }
        if (key == NULL && PyErr_Occurred()) {
            return -1;
        }
    }
    PyObject *value = key == NULL ? NULL : PyDict_GetItemWithError(search->logp_cache, key);
    Py_XDECREF(key);
    if (value != NULL) {
        Py_INCREF(value);
    }
    else if (PyErr_Occurred()) {
        return -1;
    }
    else {
        PyObject *previous = previous_of(search, text);
        value = previous == NULL ? NULL : PyObject_CallFunctionObjArgs(search->logp, previous, character, NULL);
        Py_XDECREF(previous);
        if (value == NULL) {
            return -1;
        }
    }
    *out = PyFloat_AsDouble(value);
    Py_DECREF(value);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* (score, text + char, None, lost): a new reference. */
static PyObject *
grown_path(double score, PyObject *text, PyObject *character, PyObject *lost)
{
    PyObject *longer = PyUnicode_Concat(text, character);
    if (longer == NULL) {
        return NULL;
    }
    PyObject *number = PyFloat_FromDouble(score);
    PyObject *path = number == NULL ? NULL : PyTuple_Pack(4, number, longer, Py_None, lost);
    Py_XDECREF(number);
    Py_DECREF(longer);
    return path;
}

/* Appends ``item`` (a new reference, or NULL after an error) to ``out``. */
static int
append_new(PyObject *out, PyObject *item)
{
    if (item == NULL) {
        return -1;
    }
    int status = PyList_Append(out, item);
    Py_DECREF(item);
    return status;
}

/* _Search.emit */
static int
emit(Search *search, PyObject *path, PyObject *character, PyObject *out)
{
    PyObject *text = PyTuple_GET_ITEM(path, 1);
    double logp;
    if (logp_after(search, text, character, &logp) < 0) {
        return -1;
    }
    double score = PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(path, 0)) + logp;
    return append_new(out, grown_path(score, text, character, PyTuple_GET_ITEM(path, 3)));
}

/* _Search.guesses: the ranked guesses for a character of which only ``byte`` survived. */
static int
guesses(Search *search, PyObject *path, PyObject *candidates, long byte, int is_lead, PyObject *out)
{
    PyObject *text = PyTuple_GET_ITEM(path, 1), *lost = PyTuple_GET_ITEM(path, 3);
    PyObject *previous = previous_of(search, text);
    if (previous == NULL) {
        return -1;
    }
    PyObject *identity = PyLong_FromVoidPtr(candidates); /* id(candidates) */
    PyObject *key = identity == NULL ? NULL : PyTuple_Pack(2, previous, identity);
    Py_XDECREF(identity);
    PyObject *ranked = key == NULL ? NULL : PyDict_GetItemWithError(search->ranked, key);
    Py_XDECREF(key);
    if (ranked != NULL) {
        Py_INCREF(ranked);
    }
    else if (!PyErr_Occurred()) {
        ranked = PyObject_CallFunctionObjArgs(search->ranking, previous, candidates, NULL);
    }
    Py_DECREF(previous);
    if (ranked == NULL) {
        return -1;
    }
    if (!PyList_Check(ranked)) {
        PyErr_SetString(PyExc_TypeError, "feed: a ranking must be a list");
        Py_DECREF(ranked);
        return -1;
    }
    /* guessed = (*lost, _guess_entry(len(text), byte, is_lead)) */
    Py_ssize_t count = PyTuple_GET_SIZE(lost);
    PyObject *guessed = PyTuple_New(count + 1);
    PyObject *entry = PyLong_FromSsize_t((PyUnicode_GET_LENGTH(text) << GUESS_SHIFT) | (is_lead ? LEAD_BIT : 0)
                                         | byte);
    if (guessed == NULL || entry == NULL) {
        Py_XDECREF(guessed);
        Py_XDECREF(entry);
        Py_DECREF(ranked);
        return -1;
    }
    for (Py_ssize_t at = 0; at < count; at++) {
        PyTuple_SET_ITEM(guessed, at, Py_NewRef(PyTuple_GET_ITEM(lost, at)));
    }
    PyTuple_SET_ITEM(guessed, count, entry);
    double score = PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(path, 0));
    int status = 0;
    for (Py_ssize_t at = 0; at < PyList_GET_SIZE(ranked) && status == 0; at++) {
        PyObject *pair = PyList_GET_ITEM(ranked, at);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 || !PyFloat_Check(PyTuple_GET_ITEM(pair, 1))) {
            PyErr_SetString(PyExc_TypeError, "feed: a ranking holds (char, logp) tuples");
            status = -1;
            break;
        }
        /* score + logp - LOST_BYTE_COST, left to right as in Python */
        double guessed_score = score + PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(pair, 1)) - search->lost_cost;
        status = append_new(out, grown_path(guessed_score, text, PyTuple_GET_ITEM(pair, 0), guessed));
    }
    Py_DECREF(guessed);
    Py_DECREF(ranked);
    return status;
}

/* dict.get(byte) for the byte tables: a borrowed reference, or NULL (then check PyErr_Occurred). */
static PyObject *
table_get(PyObject *table, long byte)
{
    PyObject *key = PyLong_FromLong(byte);
    if (key == NULL) {
        return NULL;
    }
    PyObject *value = PyDict_GetItemWithError(table, key);
    Py_DECREF(key);
    return value;
}

/* (score, text, pending, lost) with a new pending entry. */
static int
pending_path(PyObject *path, long pending, PyObject *out)
{
    PyObject *number = PyLong_FromLong(pending);
    if (number == NULL) {
        return -1;
    }
    PyObject *waiting = PyTuple_Pack(4, PyTuple_GET_ITEM(path, 0), PyTuple_GET_ITEM(path, 1), number,
                                     PyTuple_GET_ITEM(path, 3));
    Py_DECREF(number);
    return append_new(out, waiting);
}

/* _Search.start: ``byte`` arrives with nothing pending. */
static int
start(Search *search, PyObject *path, long byte, PyObject *out)
{
    if (byte == WILDCARD) {
        return pending_path(path, WILDCARD, out);
    }
    PyObject *trail = table_get(search->by_trail, byte);
    if (trail == NULL && PyErr_Occurred()) {
        return -1;
    }
    Py_XINCREF(trail); /* held across the calls below, which may run Python code */
    int status;
    if (byte < 0x80) {
        PyObject *character = PyUnicode_FromOrdinal((int)byte);
        status = character == NULL ? -1 : emit(search, path, character, out);
        Py_XDECREF(character);
    }
    else {
        status = pending_path(path, byte, out);
    }
    if (status == 0 && trail != NULL) { /* a trail byte whose lead was lost */
        status = guesses(search, path, trail, byte, 0, out);
    }
    Py_XDECREF(trail);
    return status;
}

/* _Search.lost_trail: the pending ``lead`` lost its trail; ``then`` (unless NO_BYTE) starts afresh. */
static int
lost_trail(Search *search, PyObject *path, long lead, long then, PyObject *out)
{
    PyObject *candidates = table_get(search->by_lead, lead);
    if (candidates == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    Py_INCREF(candidates);
    PyObject *closed = then == NO_BYTE ? Py_NewRef(out) : PyList_New(0);
    int status = closed == NULL ? -1 : guesses(search, path, candidates, lead, 1, closed);
    Py_DECREF(candidates);
    if (status == 0 && then != NO_BYTE) {
        for (Py_ssize_t at = 0; at < PyList_GET_SIZE(closed) && status == 0; at++) {
            status = start(search, PyList_GET_ITEM(closed, at), then, out);
        }
    }
    Py_XDECREF(closed);
    return status;
}

/* pair_char(lead, trail) through Frame's memo: a new reference ("" when the bytes make none). */
static PyObject *
pair_char(Search *search, long lead, long trail)
{
    PyObject *character = table_get(search->pairs, (lead << 8) | trail);
    if (character != NULL) {
        return Py_NewRef(character);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    PyObject *lead_number = PyLong_FromLong(lead), *trail_number = PyLong_FromLong(trail);
    if (lead_number != NULL && trail_number != NULL) {
        character = PyObject_CallFunctionObjArgs(search->pair_char, lead_number, trail_number, NULL);
    }
    Py_XDECREF(lead_number);
    Py_XDECREF(trail_number);
    if (character != NULL && !PyUnicode_Check(character)) {
        PyErr_SetString(PyExc_TypeError, "feed: pair_char must return a str");
        Py_CLEAR(character);
    }
    return character;
}

/* One path's successors on ``byte`` (the body of _Search.feed's inner loop). */
static int
step(Search *search, PyObject *path, long byte, PyObject *out)
{
    PyObject *pending_entry = PyTuple_GET_ITEM(path, 2);
    if (pending_entry == Py_None) {
        return start(search, path, byte, out);
    }
    long pending = PyLong_AsLong(pending_entry);
    if (pending == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (pending == WILDCARD) {
        if (byte == WILDCARD) {
            return 0;
        }
        PyObject *trail = table_get(search->by_trail, byte);
        if (trail == NULL) {
            return PyErr_Occurred() ? -1 : 0;
        }
        Py_INCREF(trail);
        int status = guesses(search, path, trail, byte, 0, out);
        Py_DECREF(trail);
        return status;
    }
    if (byte == WILDCARD) { /* the trail of the pending lead is the lost byte */
        PyObject *candidates = table_get(search->by_lead, pending);
        if (candidates == NULL && PyErr_Occurred()) {
            return -1;
        }
        candidates = Py_NewRef(candidates != NULL ? candidates : search->no_candidates);
        int status = guesses(search, path, candidates, pending, 1, out);
        Py_DECREF(candidates);
        return status;
    }
    PyObject *character = pair_char(search, pending, byte);
    if (character == NULL) {
        return -1;
    }
    int status = PyUnicode_GET_LENGTH(character) ? emit(search, path, character, out) : 0;
    Py_DECREF(character);
    return status == 0 ? lost_trail(search, path, pending, byte, out) : -1;
}

/* A path of the beam with what sorting and deduplicating it reads: its score, and its key
 * (text[-2:], pending) as code points (-1: none) and the pending byte (NO_BYTE: None). */
typedef struct {
    double score;
    Py_UCS4 last[2];
    int tail;
    long pending;
    PyObject *path; /* borrowed from the list being cut */
} Ranked;

static int
read_ranked(PyObject *path, Ranked *ranked)
{
    PyObject *text = PyTuple_GET_ITEM(path, 1), *pending = PyTuple_GET_ITEM(path, 2);
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    ranked->score = PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(path, 0));
    ranked->tail = length < 2 ? (int)length : 2;
    ranked->last[0] = ranked->tail == 2 ? PyUnicode_READ_CHAR(text, length - 2) : 0;
    ranked->last[1] = ranked->tail >= 1 ? PyUnicode_READ_CHAR(text, length - 1) : 0;
    ranked->path = path;
    if (pending == Py_None) {
        ranked->pending = NO_BYTE;
        return 0;
    }
    ranked->pending = PyLong_AsLong(pending);
    return (ranked->pending == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* Stable merge sort, highest score first: list.sort(key=itemgetter(0), reverse=True) keeps
 * equal scores in their order too, and scores are never NaN (the caller checks), so the
 * order is the same. */
static void
sort_ranked(Ranked *items, Ranked *scratch, Py_ssize_t count)
{
    for (Py_ssize_t width = 1; width < count; width *= 2) {
        for (Py_ssize_t low = 0; low < count; low += 2 * width) {
            Py_ssize_t middle = low + width < count ? low + width : count;
            Py_ssize_t high = low + 2 * width < count ? low + 2 * width : count;
            Py_ssize_t left = low, right = middle, to = low;
            while (left < middle && right < high) {
                /* the right run's item goes first only when strictly higher: stability */
                scratch[to++] = items[right].score > items[left].score ? items[right++] : items[left++];
            }
            while (left < middle) {
                scratch[to++] = items[left++];
            }
            while (right < high) {
                scratch[to++] = items[right++];
            }
        }
        memcpy(items, scratch, (size_t)count * sizeof(Ranked));
    }
}

/* The beam after one byte: ``grown`` sorted (see sort_ranked) and cut to the first ``keep``
 * paths with distinct keys (byte_shift._dedupe, with the keys compared as numbers). A new list. */
static PyObject *
cut_beam(PyObject *grown, Py_ssize_t keep)
{
    Py_ssize_t count = PyList_GET_SIZE(grown);
    Ranked *items = PyMem_Malloc((size_t)(2 * count + 1) * sizeof(Ranked));
    if (items == NULL) {
        return PyErr_NoMemory();
    }
    for (Py_ssize_t at = 0; at < count; at++) {
        if (read_ranked(PyList_GET_ITEM(grown, at), &items[at]) < 0) {
            PyMem_Free(items);
            return NULL;
        }
        if (isnan(items[at].score)) { /* list.sort's order is not a merge of a total order then */
            PyMem_Free(items);
            PyErr_SetString(PyExc_ValueError, "feed: a path's score is NaN");
            return NULL;
        }
    }
    sort_ranked(items, items + count, count);
    PyObject *unique = PyList_New(0);
    Py_ssize_t kept = 0; /* items[0:kept] are the distinct ones so far */
    for (Py_ssize_t at = 0; unique != NULL && at < count; at++) {
        Ranked *item = &items[at];
        int seen = 0;
        for (Py_ssize_t other = 0; other < kept && !seen; other++) {
            Ranked *before = &items[other];
            seen = before->tail == item->tail && before->pending == item->pending
                   && before->last[0] == item->last[0] && before->last[1] == item->last[1];
        }
        if (seen) {
            continue;
        }
        items[kept++] = *item;
        if (PyList_Append(unique, item->path) < 0) {
            Py_CLEAR(unique);
        }
        else if (kept == keep) {
            break;
        }
    }
    PyMem_Free(items);
    return unique;
}

/* _Search.feed: every way of extending ``path`` by the bytes ``data`` (a list of ints), the
 * beam sorted by score (stable) and cut to ``keep`` distinct paths after each byte. */
static PyObject *
feed_path(Search *search, PyObject *path, PyObject *data, Py_ssize_t keep)
{
    if (!PyList_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "feed: data must be a list of bytes");
        return NULL;
    }
    PyObject *paths = PyList_New(1);
    if (paths == NULL) {
        return NULL;
    }
    PyList_SET_ITEM(paths, 0, Py_NewRef(path));
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(data); index++) {
        long byte = PyLong_AsLong(PyList_GET_ITEM(data, index));
        if (byte == -1 && PyErr_Occurred()) {
            goto fail;
        }
        PyObject *next = PyList_New(0);
        if (next == NULL) {
            goto fail;
        }
        for (Py_ssize_t at = 0; at < PyList_GET_SIZE(paths); at++) {
            PyObject *path = PyList_GET_ITEM(paths, at);
            if (!PyTuple_Check(path) || PyTuple_GET_SIZE(path) != 4 || !PyFloat_Check(PyTuple_GET_ITEM(path, 0))
                || !PyUnicode_Check(PyTuple_GET_ITEM(path, 1)) || !PyTuple_Check(PyTuple_GET_ITEM(path, 3))) {
                PyErr_SetString(PyExc_TypeError, "feed: a path must be (float, str, pending, tuple)");
                Py_DECREF(next);
                goto fail;
            }
            if (step(search, path, byte, next) < 0) {
                Py_DECREF(next);
                goto fail;
            }
        }
        Py_SETREF(paths, cut_beam(next, keep));
        Py_DECREF(next);
        if (paths == NULL) {
            return NULL;
        }
    }
    return paths;
fail:
    Py_DECREF(paths);
    return NULL;
}

/* feed(context, path, data, keep) -> list: _Search.feed; ``context`` is _Search._context (see
 * read_search). */
static PyObject *
speedups_feed(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    Search search;
    if (count_is("feed", nargs, 4) < 0) {
        return NULL;
    }
    Py_ssize_t keep = PyLong_AsSsize_t(args[3]);
    if ((keep == -1 && PyErr_Occurred()) || read_search(args[0], &search) < 0) {
        return NULL;
    }
    return feed_path(&search, args[1], args[2], keep);
}

/* grow(context, paths, alternatives, feed_keep, keep) -> list: _Search.grow, one character of
 * the realignment: every path fed every byte reading of the character (feed, beam
 * ``feed_keep``), the whole sorted and cut to ``keep`` distinct paths ([] when none grew). */
static PyObject *
speedups_grow(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    Search search;
    if (count_is("grow", nargs, 5) < 0) {
        return NULL;
    }
    PyObject *paths = args[1], *alternatives = args[2];
    Py_ssize_t feed_keep = PyLong_AsSsize_t(args[3]), keep = PyLong_AsSsize_t(args[4]);
    if (((feed_keep == -1 || keep == -1) && PyErr_Occurred()) || read_search(args[0], &search) < 0) {
        return NULL;
    }
    if (!PyList_Check(paths) || !PyList_Check(alternatives)) {
        PyErr_SetString(PyExc_TypeError, "grow: paths and alternatives must be lists");
        return NULL;
    }
    PyObject *grown = PyList_New(0);
    /* Both lists are the caller's: held, as the calls into Python below could drop them. */
    Py_INCREF(paths);
    Py_INCREF(alternatives);
    for (Py_ssize_t at = 0; grown != NULL && at < PyList_GET_SIZE(paths); at++) {
        for (Py_ssize_t choice = 0; grown != NULL && choice < PyList_GET_SIZE(alternatives); choice++) {
            PyObject *fed = feed_path(&search, PyList_GET_ITEM(paths, at), PyList_GET_ITEM(alternatives, choice),
                                      feed_keep);
            if (fed == NULL || PyList_SetSlice(grown, PY_SSIZE_T_MAX, PY_SSIZE_T_MAX, fed) < 0) {
                Py_CLEAR(grown);
            }
            Py_XDECREF(fed);
        }
    }
    Py_DECREF(paths);
    Py_DECREF(alternatives);
    if (grown == NULL) {
        return NULL;
    }
    Py_SETREF(grown, cut_beam(grown, keep));
    return grown;
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
    if (count_is("min_hashes", nargs, 4) < 0) {
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
    {"repeated_offsets", (PyCFunction)(void (*)(void))speedups_repeated_offsets, METH_FASTCALL,
     "repeated_anchor_offsets: per view, the offsets of its windows whose hash occurs twice."},
    {"feed", (PyCFunction)(void (*)(void))speedups_feed, METH_FASTCALL,
     "byte_shift._Search.feed: every way of extending a path by some bytes, beam-cut after each."},
    {"grow", (PyCFunction)(void (*)(void))speedups_grow, METH_FASTCALL,
     "byte_shift._Search.grow: one character of the realignment beam."},
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
