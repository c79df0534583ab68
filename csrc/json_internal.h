/*
 * json_internal.h -- what the parts of the JSON reader share (private; not part of fastap.h).
 *
 * The reader (see json_results.c for the whole design) is cut into parts:
 *   json_lex.c        errors, whitespace, strings, the validating skipper of any value
 *   json_number.h/.c  number tokens -> doubles bit-identical to Python's float()
 *   json_results.c    record schemas (results, annotations): one member loop over a table
 *   json_parallel.c   one results file on many threads: split at guessed records, join
 *   json_members.c    the top-level members of a ground-truth object
 *   json_numarray.c   arrays of plain numbers (scalar loop and the AVX-512BW path)
 *   json_masks.c      segmentation values: polygons, RLE objects and their counts strings
 *   json_keypoints.c  keypoint values and pycocotools' keypoint box
 * Data layout: a scan is a jctx (the buffer, the position, the record and field being
 * read for error messages); values go straight into caller-owned columns (jcols). The
 * small helpers every part runs per byte or per token are static inline here, so the
 * split costs no calls on the hot paths; the rest is internal linkage across the parts
 * (FA_JR_INTERNAL: hidden, so calls between parts are direct, not through the PLT).
 */
#ifndef FASTAP_JSON_INTERNAL_H
#define FASTAP_JSON_INTERNAL_H

#include "fastap.h"

#include <float.h>
#include <stddef.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define FA_JR_INTERNAL __attribute__((visibility("hidden")))
#else
#define FA_JR_INTERNAL
#endif

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define FA_JSON_FAST_FLOAT 1
#else
#define FA_JSON_FAST_FLOAT 0
#endif

/* Deepest nesting the skipper follows (FA_EUNSUPPORTED beyond: the caller falls back). */
#define FA_JSON_MAX_DEPTH 1000

/* The state of one scan. */

typedef struct {
    const unsigned char *buf;
    const unsigned char *p;
    const unsigned char *end;
    int64_t record;             /* current record index, -1 outside records */
    const unsigned char *key;   /* current field name (raw bytes) or NULL */
    size_t key_len;
    fa_json_error *err;
    char dp[8];                 /* the locale's decimal point, looked up lazily */
    int dp_len;                 /* 0 until looked up */
} jctx;

/* ---------------------------------------------------------------------------------- */
/* errors (json_lex.c)                                                                */
/* ---------------------------------------------------------------------------------- */

/* Fill c->err (record, offset of `at`, field c->key, message) and return code. */
FA_JR_INTERNAL int fa_jr_err(jctx *c, int code, const unsigned char *at, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* The token at p in words, for "expected X, got Y" messages (tmp: scratch of n bytes). */
FA_JR_INTERNAL const char *fa_jr_describe(const jctx *c, const unsigned char *p, char *tmp, size_t n);
FA_JR_INTERNAL int fa_jr_err_eof(jctx *c);
FA_JR_INTERNAL int fa_jr_err_expected(jctx *c, const char *what);

static inline int match_lit(const jctx *c, const unsigned char *p, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(c->end - p) >= n && memcmp(p, lit, n) == 0;
}

/* ---------------------------------------------------------------------------------- */
/* whitespace, strings, bit tricks                                                    */
/* ---------------------------------------------------------------------------------- */

#define IS_DIGIT(ch) ((unsigned char)((ch) - '0') < 10u)
#define IS_WS(ch) ((ch) == ' ' || (ch) == '\n' || (ch) == '\r' || (ch) == '\t')

static inline void skip_ws(jctx *c)
{
    const unsigned char *p = c->p, *e = c->end;
    while (p < e && IS_WS(*p))
        p++;
    c->p = p;
}

/* Plain string bytes: printable ASCII except '"' and '\\' (json_lex.c). */
FA_JR_INTERNAL extern const unsigned char fa_jr_plain[256];

/* 16 bytes at a time (SSE2): the first byte of [p, e) that is not plain string text
 * (fa_jr_plain), or the first of the last < 16 bytes. Long strings (compressed RLE counts)
 * are most of a mask results file. */
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define FA_JSON_SSE2 1
#endif

static inline int ctz64_nz(uint64_t m)    /* m != 0 */
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctzll(m);
#else
    int n = 0;
    while (!(m & 1u)) { m >>= 1; n++; }
    return n;
#endif
}
/* bit i: the XOR of bits 0..i of x */
static inline uint64_t prefix_xor64(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

static inline int ctz32_nz(unsigned m)      /* m != 0 */
{
    return ctz64_nz(m);
}

static inline const unsigned char *skip_plain16(const unsigned char *p, const unsigned char *e)
{
#if defined(FA_JSON_SSE2)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (e - p >= 16) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* signed compare: bytes >= 0x80 are negative, below 0x20 with the controls */
        const __m128i x = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                       _mm_cmplt_epi8(v, space));
        const unsigned m = (unsigned)_mm_movemask_epi8(x);
        if (m)
            return p + ctz32_nz(m);
        p += 16;
    }
#else
    (void)e;
#endif
    return p;
}

/* The first '"' or backslash in [p, e), or NULL. */
static inline const unsigned char *find_quote_or_backslash(const unsigned char *p, const unsigned char *e)
{
#if defined(FA_JSON_SSE2)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    while (e - p >= 16) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        const unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
        if (m)
            return p + ctz32_nz(m);
        p += 16;
    }
#endif
    for (; p < e; p++)
        if (*p == '"' || *p == '\\')
            return p;
    return NULL;
}

static inline int clz64(uint64_t x)   /* x != 0 */
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_clzll(x);
#else
    int n = 0;
    while (!(x & ((uint64_t)1 << 63))) {
        x <<= 1;
        n++;
    }
    return n;
#endif
}

static inline int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* c->p at the opening quote. Validates and skips the string; *s / *n: the raw content
 * between the quotes, *esc: whether it holds a backslash escape. */
FA_JR_INTERNAL int fa_jr_scan_string(jctx *c, const unsigned char **s, size_t *n, int *esc);

/* ---------------------------------------------------------------------------------- */
/* the steps between the items of arrays and objects                                 */
/* ---------------------------------------------------------------------------------- */

/* After an item of an array or object: whitespace, then ',' (1, c->p past it and the
 * whitespace after it: another item follows) or `close` (0, c->p past it); -1 for
 * anything else, the end included (c->p at it, nothing reported). */
static inline int fa_jr_sep(jctx *c, unsigned char close)
{
    skip_ws(c);
    if (c->p < c->end) {
        if (*c->p == ',') {
            c->p++;
            skip_ws(c);
            return 1;
        }
        if (*c->p == close) {
            c->p++;
            return 0;
        }
    }
    return -1;
}

/* fa_jr_sep reporting the rest: 1 (another item), 0 (closed), or FA_EPARSE with
 * "unexpected end of file" / "expected <what>, got ..." at c->p (fa_jr_err_expected,
 * whose code is always FA_EPARSE: returned as a constant, so that the callers' tests of
 * the result fold away on the hot paths). */
static inline int fa_jr_next_item(jctx *c, unsigned char close, const char *what)
{
    const int r = fa_jr_sep(c, close);
    if (r >= 0)
        return r;
    (void)fa_jr_err_expected(c, what);
    return FA_EPARSE;
}

/* c->p where an object key is expected: the key string, scanned (fa_jr_scan_string);
 * FA_EPARSE "expected <what>, got ..." when none starts there. */
static inline int fa_jr_key(jctx *c, const unsigned char **s, size_t *n, int *esc, const char *what)
{
    if (c->p >= c->end || *c->p != '"')
        return fa_jr_err_expected(c, what);
    return fa_jr_scan_string(c, s, n, esc);
}

/* After an object key: whitespace, the ':' (FA_EPARSE "expected <what>, got ..." when it
 * is not there), whitespace; c->p then at the value. */
static inline int fa_jr_colon(jctx *c, const char *what)
{
    skip_ws(c);
    if (c->p >= c->end || *c->p != ':')
        return fa_jr_err_expected(c, what);
    c->p++;
    skip_ws(c);
    return FA_OK;
}

/* Skip the value at c->p, validating it as json.loads would (iterative, nesting up to
 * FA_JSON_MAX_DEPTH). */
FA_JR_INTERNAL int fa_jr_skip_value(jctx *c);

/* Set up a scan of [buf, buf + len): clear *err; at begin == 0 skip a UTF-8 BOM (reject
 * UTF-16/32) and leading whitespace, else start at byte `begin` (offsets in errors stay
 * relative to buf). */
FA_JR_INTERNAL int fa_jr_begin(jctx *c, const char *buf, size_t len, size_t begin, fa_json_error *err);
/* Set up a scan of one field's value span (errors name `field`), leading whitespace skipped. */
FA_JR_INTERNAL void fa_jr_begin_span(jctx *c, const char *buf, size_t len, const char *field,
                                     fa_json_error *err);

/* ---------------------------------------------------------------------------------- */
/* values read into columns                                                           */
/* ---------------------------------------------------------------------------------- */

/* The output columns of the record parsers (caller-owned; NULL where a schema has none). */
typedef struct {
    int64_t *id;                /* annotations */
    int64_t *image_id;
    int64_t *category_id;
    double *bbox;               /* [4] per row */
    double *score;              /* results */
    double *area;
    uint8_t *iscrowd;           /* annotations */
    int64_t *n_area;            /* results: records that had an area; NULL: not counted */
    const fa_json_geometry *geom;   /* NULL: segmentation / keypoints not taken */
} jcols;

/* Numbers per row of the geometry's keypoint values (kpt_xy: the x and y of each triple). */
static inline int64_t kpt_width(const fa_json_geometry *g)
{
    return g->kpt_xy ? g->kpt_stride / 3 * 2 : g->kpt_stride;
}

/* Numbers stored of the first k of an array of (x, y, v) triples when only x and y are
 * kept (see fa_jr_number_array). */
static inline int64_t xy_stored(int64_t k)
{
    return k / 3 * 2 + (k % 3 < 2 ? k % 3 : 2);
}

/* json_numarray.c: c->p at '['; the array's numbers into out[cap] (FA_EINVAL beyond). */
FA_JR_INTERNAL int fa_jr_number_array(jctx *c, double *out, int64_t cap, int64_t *n, const char *what);
/* The same for keypoint triples, only x and y stored; *finite: every number was finite. */
FA_JR_INTERNAL int fa_jr_keypoint_xy(jctx *c, double *out, int64_t cap, int64_t *n, int *finite);

/* json_keypoints.c: record i's "keypoints" (c->p at '[') into the geometry's rows. */
FA_JR_INTERNAL int fa_jr_take_keypoints(jctx *c, const fa_json_geometry *g, int64_t i);

/* json_masks.c: the span [start, end) of the value at c->p, skipping (validating) it. */
FA_JR_INTERNAL int fa_jr_take_span(jctx *c, int64_t *span);
/* json_masks.c: a results record's "segmentation": its span and, for the common RLE
 * object, its size and counts position (row[5]); for polygons, their vertices' box
 * (bound[4], see fa_json_geometry.seg_bound; NULL: not wanted). */
FA_JR_INTERNAL int fa_jr_take_segmentation(jctx *c, int64_t *span, int32_t *row, double *bound);

#endif
