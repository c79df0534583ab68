/*
 * json_results.c -- a COCO detection *results* JSON file parsed straight into columns.
 *
 * Design. The input is the raw file content (UTF-8, optional BOM, NOT NUL-terminated):
 * a JSON array of objects {"image_id", "category_id", "bbox": [x, y, w, h], "score",
 * optional "area", any other keys}. The output is columnar, owned by the caller
 * (NumPy): image_id int64[n], category_id int64[n], bbox float64[n][4], score
 * float64[n], area float64[n] (NaN where absent). Two passes: fa_json_results_count_bound
 * gives a cheap upper bound on the record count (the number of '{' bytes, capped by the
 * 41-byte minimum size of a valid record) so the caller can allocate, then
 * fa_json_results_parse validates the whole document and fills the columns in one
 * forward scan (no allocation except for number tokens longer than 63 bytes). The
 * scanner follows Python's json module (strict mode): same grammar, NaN / Infinity /
 * -Infinity accepted, control characters and invalid UTF-8 in strings rejected
 * (surrogates allowed, as json.loads' 'surrogatepass' decode does), duplicate keys:
 * the last one wins. Values of unknown keys are skipped by an iterative skipper that
 * still validates them; "segmentation" / "keypoints" stop the scan with FA_EUNSUPPORTED
 * so the caller can fall back to the general path. Numbers must be bit-identical to
 * Python's float() of the token (and "-0", an integer, gives +0.0). Three tiers:
 * (1) Clinger's fast path: up to 19 significant digits in a uint64 w with a decimal
 * exponent e; when w <= 2^53 and |e| <= 22, w and 10^|e| are exact doubles and one IEEE
 * multiplication or division is correctly rounded (e up to 22+15 by first multiplying w
 * by a power of ten while it stays an exact integer) -- this covers rounded COCO boxes
 * and scores; (2) otherwise, for an exact mantissa of at most 19 digits, the
 * Eisel-Lemire algorithm (a 64x128-bit product with a table of 128-bit powers of five;
 * the algorithm, table and checks of fast_float's compute_float, including its
 * conservative give-up test) -- this covers repr() of float32/float64 values, 16-17
 * digits; (3) everything else (more than 19 digits, or Eisel-Lemire giving up) goes to
 * strtod on a NUL-terminated local copy of the token, with '.' replaced by the current
 * locale's decimal point (glibc's strtod is correctly rounded). The fast path (1) is only
 * compiled where double arithmetic is not evaluated in extended precision
 * (FLT_EVAL_METHOD == 0).
 *
 * Many threads on one file. The caller (Cython, prange) cuts the buffer into parts at
 * guessed record starts (fa_json_results_split: the '{' of a `}, {"` near k * len / n --
 * it may lie in a string or a nested object) and gives every part the rows its bytes can
 * hold (fa_json_results_count_bound of the part), one block of rows after the other.
 * fa_json_results_parse_part scans one part: from its '{', inside the array, up to the
 * first record at or after the next part's start. The scan is deterministic and
 * context-free from a real record start, so a part that begins where the records before
 * it end gives what the one-thread scan gives there; fa_json_results_join_parts then
 * walks the parts in order, takes those, scans the part of a wrong guess again from where
 * the records before it end, and reports the first failure met -- the result, and any
 * error (record index, offset, message), are the serial scan's. The rows come back in
 * pieces (one per part with rows to spare, e.g. masks: two '{' per record), which the
 * caller copies into columns of the right length.
 *
 * Ground-truth files (one object {"images", "annotations", "categories", ...}) use the
 * same machinery: fa_json_object_members validates the document and reports the byte
 * spans of the top-level members (the skipper checks the common number shapes without
 * converting them), and fa_json_annotations_parse turns the "annotations" span into
 * columns (id, image_id, category_id, bbox, area, iscrowd), skipping segmentations,
 * keypoints and any other keys with the validating skipper.
 */
#include "fastap.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define FA_JSON_FAST_FLOAT 1
#else
#define FA_JSON_FAST_FLOAT 0
#endif

/* Smallest possible valid record plus its separating comma or closing ']': with geometry
 * (masks / keypoints may stand in for the box) the bbox is optional, so
 * {"image_id":1,"category_id":1,"score":1}, */
#define FA_JSON_MIN_RECORD 41
#define FA_JSON_MAX_DEPTH 1000

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
/* errors                                                                             */
/* ---------------------------------------------------------------------------------- */

static int jerr(jctx *c, int code, const unsigned char *at, const char *fmt, ...)
{
    fa_json_error *e = c->err;
    va_list ap;
    if (!e)
        return code;
    e->record = c->record;
    if (at < c->buf)
        at = c->buf;
    if (at > c->end)
        at = c->end;
    e->offset = (int64_t)(at - c->buf);
    e->field[0] = '\0';
    if (c->key) {
        size_t n = c->key_len;
        if (n > sizeof(e->field) - 1)
            n = sizeof(e->field) - 1;
        memcpy(e->field, c->key, n);
        e->field[n] = '\0';
    }
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return code;
}

static int match_lit(const jctx *c, const unsigned char *p, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(c->end - p) >= n && memcmp(p, lit, n) == 0;
}

/* Describe the token at p for "expected X, got Y" messages. */
static const char *describe(const jctx *c, const unsigned char *p, char *tmp, size_t n)
{
    if (p >= c->end)
        return "end of file";
    switch (*p) {
    case '"': return "string";
    case '[': return "array";
    case '{': return "object";
    case 't': return match_lit(c, p, "true") ? "boolean" : "an invalid literal";
    case 'f': return match_lit(c, p, "false") ? "boolean" : "an invalid literal";
    case 'n': return match_lit(c, p, "null") ? "null" : "an invalid literal";
    case 'N': return match_lit(c, p, "NaN") ? "number" : "an invalid literal";
    case 'I': return match_lit(c, p, "Infinity") ? "number" : "an invalid literal";
    case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6':
    case '7': case '8': case '9': return "number";
    default: break;
    }
    if (*p >= 0x20 && *p < 0x7f)
        snprintf(tmp, n, "'%c'", *p);
    else
        snprintf(tmp, n, "byte 0x%02x", (unsigned)*p);
    return tmp;
}

static int err_eof(jctx *c)
{
    return jerr(c, FA_EPARSE, c->end, "unexpected end of file");
}

static int err_expected(jctx *c, const char *what)
{
    char tmp[16];
    if (c->p >= c->end)
        return err_eof(c);
    return jerr(c, FA_EPARSE, c->p, "expected %s, got %s", what, describe(c, c->p, tmp, sizeof tmp));
}

/* ---------------------------------------------------------------------------------- */
/* whitespace, literals, strings                                                      */
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

/* Plain string bytes: printable ASCII except '"' and '\\'. */
static const unsigned char g_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* 16 bytes at a time (SSE2): the first byte of [p, e) that is not plain string text
 * (g_plain), or the first of the last < 16 bytes. Long strings (compressed RLE counts)
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

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Length of the UTF-8 sequence at p (lead byte >= 0x80), 0 when invalid. Python
 * decodes json bytes with 'surrogatepass', so encoded surrogates (ED A0..BF xx) pass. */
static size_t utf8_len(const unsigned char *p, const unsigned char *e)
{
    unsigned char b0 = p[0];
    size_t n, i;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
    else if (b0 >= 0xE0 && b0 <= 0xEF) { n = 3; if (b0 == 0xE0) lo = 0xA0; }
    else if (b0 >= 0xF0 && b0 <= 0xF4) { n = 4; if (b0 == 0xF0) lo = 0x90; if (b0 == 0xF4) hi = 0x8F; }
    else return 0;
    if ((size_t)(e - p) < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

/* c->p at the opening quote. Validates and skips the string; *s / *n: the raw content
 * between the quotes, *esc: whether it holds a backslash escape. */
static int scan_string(jctx *c, const unsigned char **s, size_t *n, int *esc)
{
    const unsigned char *p = c->p + 1, *e = c->end;
    int has_esc = 0;
    for (;;) {
        p = skip_plain16(p, e);
        while (p < e && g_plain[*p])
            p++;
        if (p >= e)
            return jerr(c, FA_EPARSE, e, "unexpected end of file (unterminated string)");
        if (*p == '"')
            break;
        if (*p == '\\') {
            has_esc = 1;
            if (p + 1 >= e)
                return jerr(c, FA_EPARSE, e, "unexpected end of file (unterminated string)");
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                break;
            case 'u':
                if (e - p < 6 || hexval(p[2]) < 0 || hexval(p[3]) < 0 || hexval(p[4]) < 0 ||
                    hexval(p[5]) < 0)
                    return jerr(c, FA_EPARSE, p, "invalid \\uXXXX escape in string");
                p += 6;
                break;
            default:
                return jerr(c, FA_EPARSE, p, "invalid escape in string");
            }
        } else if (*p < 0x20) {
            return jerr(c, FA_EPARSE, p, "invalid control character in string");
        } else {
            size_t k = utf8_len(p, e);
            if (!k)
                return jerr(c, FA_EPARSE, p, "invalid UTF-8 in string");
            p += k;
        }
    }
    *s = c->p + 1;
    *n = (size_t)(p - (c->p + 1));
    *esc = has_esc;
    c->p = p + 1;
    return FA_OK;
}

/* ---------------------------------------------------------------------------------- */
/* numbers                                                                            */
/* ---------------------------------------------------------------------------------- */

enum { NUM_INT = 1, NUM_FLOAT = 2, NUM_NAN = 3, NUM_INF = 4 };

typedef struct {
    const unsigned char *start, *stop;  /* the token */
    int kind;
    int neg;
    int truncated;      /* more than 19 significant digits */
    uint64_t w;         /* significant digits (at most 19) */
    int64_t e;          /* decimal exponent: value = w * 10^e when !truncated */
} jnum;

/* Lex a JSON number (or NaN / Infinity / -Infinity) at c->p. Returns FA_OK, or
 * FA_EUNSUPPORTED (not an error message) when the token does not start a number. */
static int lex_number(jctx *c, jnum *t)
{
    const unsigned char *p = c->p, *e = c->end;
    uint64_t w = 0;
    int nd = 0, trunc = 0;
    int64_t e10 = 0;
    t->start = p;
    t->neg = 0;
    if (p < e && *p == '-') {
        t->neg = 1;
        p++;
    }
    if (p >= e)
        return t->neg ? jerr(c, FA_EPARSE, e, "unexpected end of file") : FA_EUNSUPPORTED;
    if (*p == 'I' || (*p == 'N' && !t->neg)) {
        const char *lit = *p == 'I' ? "Infinity" : "NaN";
        if (!match_lit(c, p, lit))
            return jerr(c, FA_EPARSE, t->start, "invalid literal");
        t->kind = *p == 'I' ? NUM_INF : NUM_NAN;
        c->p = t->stop = p + strlen(lit);
        t->w = 0; t->e = 0; t->truncated = 0;
        return FA_OK;
    }
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < e && IS_DIGIT(*p)) {
            if (nd < 19) {
                w = w * 10 + (uint64_t)(*p - '0');
                nd++;
            } else {
                trunc = 1;
                e10++;
            }
            p++;
        }
    } else {
        if (t->neg)
            return jerr(c, FA_EPARSE, t->start, "invalid number");
        return FA_EUNSUPPORTED;
    }
    t->kind = NUM_INT;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9')
            return jerr(c, FA_EPARSE, t->start, "invalid number (no digit after '.')");
        while (p < e && IS_DIGIT(*p)) {
            unsigned d = (unsigned)(*p - '0');
            if (w == 0 && d == 0) {
                e10--;                  /* leading zeros of the fraction */
            } else if (nd < 19) {
                w = w * 10 + d;
                nd++;
                e10--;
            } else {
                trunc = 1;
            }
            p++;
        }
        t->kind = NUM_FLOAT;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        int64_t x = 0;
        p++;
        if (p < e && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p >= e || *p < '0' || *p > '9')
            return jerr(c, FA_EPARSE, t->start, "invalid number (no digit in exponent)");
        while (p < e && IS_DIGIT(*p)) {
            if (x < 100000000)
                x = x * 10 + (*p - '0');
            p++;
        }
        e10 += eneg ? -x : x;
        t->kind = NUM_FLOAT;
    }
    t->w = w;
    t->e = e10;
    t->truncated = trunc;
    c->p = t->stop = p;
    return FA_OK;
}

static const double g_pow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* 5^q for q in [-342, 308], normalized to 128 bits with the top bit set: truncated for
 * q >= 0, rounded up for q < 0 (as fast_float's table_generation.py makes it); two
 * words per power, high word first. Used by the Eisel-Lemire path (Lemire, "Number
 * Parsing at a Gigabyte per Second", Software: Practice and Experience, 2021). */
static const uint64_t g_pow5_128[651 * 2] = {
    0xeef453d6923bd65aull, 0x113faa2906a13b3full, /* 5^-342 */
    0x9558b4661b6565f8ull, 0x4ac7ca59a424c507ull, /* 5^-341 */
    0xbaaee17fa23ebf76ull, 0x5d79bcf00d2df649ull, /* 5^-340 */
    0xe95a99df8ace6f53ull, 0xf4d82c2c107973dcull, /* 5^-339 */
    0x91d8a02bb6c10594ull, 0x79071b9b8a4be869ull, /* 5^-338 */
    0xb64ec836a47146f9ull, 0x9748e2826cdee284ull, /* 5^-337 */
    0xe3e27a444d8d98b7ull, 0xfd1b1b2308169b25ull, /* 5^-336 */
    0x8e6d8c6ab0787f72ull, 0xfe30f0f5e50e20f7ull, /* 5^-335 */
    0xb208ef855c969f4full, 0xbdbd2d335e51a935ull, /* 5^-334 */
    0xde8b2b66b3bc4723ull, 0xad2c788035e61382ull, /* 5^-333 */
    0x8b16fb203055ac76ull, 0x4c3bcb5021afcc31ull, /* 5^-332 */
    0xaddcb9e83c6b1793ull, 0xdf4abe242a1bbf3dull, /* 5^-331 */
    0xd953e8624b85dd78ull, 0xd71d6dad34a2af0dull, /* 5^-330 */
    0x87d4713d6f33aa6bull, 0x8672648c40e5ad68ull, /* 5^-329 */
    0xa9c98d8ccb009506ull, 0x680efdaf511f18c2ull, /* 5^-328 */
    0xd43bf0effdc0ba48ull, 0x0212bd1b2566def2ull, /* 5^-327 */
    0x84a57695fe98746dull, 0x014bb630f7604b57ull, /* 5^-326 */
    0xa5ced43b7e3e9188ull, 0x419ea3bd35385e2dull, /* 5^-325 */
    0xcf42894a5dce35eaull, 0x52064cac828675b9ull, /* 5^-324 */
    0x818995ce7aa0e1b2ull, 0x7343efebd1940993ull, /* 5^-323 */
    0xa1ebfb4219491a1full, 0x1014ebe6c5f90bf8ull, /* 5^-322 */
    0xca66fa129f9b60a6ull, 0xd41a26e077774ef6ull, /* 5^-321 */
    0xfd00b897478238d0ull, 0x8920b098955522b4ull, /* 5^-320 */
    0x9e20735e8cb16382ull, 0x55b46e5f5d5535b0ull, /* 5^-319 */
    0xc5a890362fddbc62ull, 0xeb2189f734aa831dull, /* 5^-318 */
    0xf712b443bbd52b7bull, 0xa5e9ec7501d523e4ull, /* 5^-317 */
    0x9a6bb0aa55653b2dull, 0x47b233c92125366eull, /* 5^-316 */
    0xc1069cd4eabe89f8ull, 0x999ec0bb696e840aull, /* 5^-315 */
    0xf148440a256e2c76ull, 0xc00670ea43ca250dull, /* 5^-314 */
    0x96cd2a865764dbcaull, 0x380406926a5e5728ull, /* 5^-313 */
    0xbc807527ed3e12bcull, 0xc605083704f5ecf2ull, /* 5^-312 */
    0xeba09271e88d976bull, 0xf7864a44c633682eull, /* 5^-311 */
    0x93445b8731587ea3ull, 0x7ab3ee6afbe0211dull, /* 5^-310 */
    0xb8157268fdae9e4cull, 0x5960ea05bad82964ull, /* 5^-309 */
    0xe61acf033d1a45dfull, 0x6fb92487298e33bdull, /* 5^-308 */
    0x8fd0c16206306babull, 0xa5d3b6d479f8e056ull, /* 5^-307 */
    0xb3c4f1ba87bc8696ull, 0x8f48a4899877186cull, /* 5^-306 */
    0xe0b62e2929aba83cull, 0x331acdabfe94de87ull, /* 5^-305 */
    0x8c71dcd9ba0b4925ull, 0x9ff0c08b7f1d0b14ull, /* 5^-304 */
    0xaf8e5410288e1b6full, 0x07ecf0ae5ee44dd9ull, /* 5^-303 */
    0xdb71e91432b1a24aull, 0xc9e82cd9f69d6150ull, /* 5^-302 */
    0x892731ac9faf056eull, 0xbe311c083a225cd2ull, /* 5^-301 */
    0xab70fe17c79ac6caull, 0x6dbd630a48aaf406ull, /* 5^-300 */
    0xd64d3d9db981787dull, 0x092cbbccdad5b108ull, /* 5^-299 */
    0x85f0468293f0eb4eull, 0x25bbf56008c58ea5ull, /* 5^-298 */
    0xa76c582338ed2621ull, 0xaf2af2b80af6f24eull, /* 5^-297 */
    0xd1476e2c07286faaull, 0x1af5af660db4aee1ull, /* 5^-296 */
    0x82cca4db847945caull, 0x50d98d9fc890ed4dull, /* 5^-295 */
    0xa37fce126597973cull, 0xe50ff107bab528a0ull, /* 5^-294 */
    0xcc5fc196fefd7d0cull, 0x1e53ed49a96272c8ull, /* 5^-293 */
    0xff77b1fcbebcdc4full, 0x25e8e89c13bb0f7aull, /* 5^-292 */
    0x9faacf3df73609b1ull, 0x77b191618c54e9acull, /* 5^-291 */
    0xc795830d75038c1dull, 0xd59df5b9ef6a2417ull, /* 5^-290 */
    0xf97ae3d0d2446f25ull, 0x4b0573286b44ad1dull, /* 5^-289 */
    0x9becce62836ac577ull, 0x4ee367f9430aec32ull, /* 5^-288 */
    0xc2e801fb244576d5ull, 0x229c41f793cda73full, /* 5^-287 */
    0xf3a20279ed56d48aull, 0x6b43527578c1110full, /* 5^-286 */
    0x9845418c345644d6ull, 0x830a13896b78aaa9ull, /* 5^-285 */
    0xbe5691ef416bd60cull, 0x23cc986bc656d553ull, /* 5^-284 */
    0xedec366b11c6cb8full, 0x2cbfbe86b7ec8aa8ull, /* 5^-283 */
    0x94b3a202eb1c3f39ull, 0x7bf7d71432f3d6a9ull, /* 5^-282 */
    0xb9e08a83a5e34f07ull, 0xdaf5ccd93fb0cc53ull, /* 5^-281 */
    0xe858ad248f5c22c9ull, 0xd1b3400f8f9cff68ull, /* 5^-280 */
    0x91376c36d99995beull, 0x23100809b9c21fa1ull, /* 5^-279 */
    0xb58547448ffffb2dull, 0xabd40a0c2832a78aull, /* 5^-278 */
    0xe2e69915b3fff9f9ull, 0x16c90c8f323f516cull, /* 5^-277 */
    0x8dd01fad907ffc3bull, 0xae3da7d97f6792e3ull, /* 5^-276 */
    0xb1442798f49ffb4aull, 0x99cd11cfdf41779cull, /* 5^-275 */
    0xdd95317f31c7fa1dull, 0x40405643d711d583ull, /* 5^-274 */
    0x8a7d3eef7f1cfc52ull, 0x482835ea666b2572ull, /* 5^-273 */
    0xad1c8eab5ee43b66ull, 0xda3243650005eecfull, /* 5^-272 */
    0xd863b256369d4a40ull, 0x90bed43e40076a82ull, /* 5^-271 */
    0x873e4f75e2224e68ull, 0x5a7744a6e804a291ull, /* 5^-270 */
    0xa90de3535aaae202ull, 0x711515d0a205cb36ull, /* 5^-269 */
    0xd3515c2831559a83ull, 0x0d5a5b44ca873e03ull, /* 5^-268 */
    0x8412d9991ed58091ull, 0xe858790afe9486c2ull, /* 5^-267 */
    0xa5178fff668ae0b6ull, 0x626e974dbe39a872ull, /* 5^-266 */
    0xce5d73ff402d98e3ull, 0xfb0a3d212dc8128full, /* 5^-265 */
    0x80fa687f881c7f8eull, 0x7ce66634bc9d0b99ull, /* 5^-264 */
    0xa139029f6a239f72ull, 0x1c1fffc1ebc44e80ull, /* 5^-263 */
    0xc987434744ac874eull, 0xa327ffb266b56220ull, /* 5^-262 */
    0xfbe9141915d7a922ull, 0x4bf1ff9f0062baa8ull, /* 5^-261 */
    0x9d71ac8fada6c9b5ull, 0x6f773fc3603db4a9ull, /* 5^-260 */
    0xc4ce17b399107c22ull, 0xcb550fb4384d21d3ull, /* 5^-259 */
    0xf6019da07f549b2bull, 0x7e2a53a146606a48ull, /* 5^-258 */
    0x99c102844f94e0fbull, 0x2eda7444cbfc426dull, /* 5^-257 */
    0xc0314325637a1939ull, 0xfa911155fefb5308ull, /* 5^-256 */
    0xf03d93eebc589f88ull, 0x793555ab7eba27caull, /* 5^-255 */
    0x96267c7535b763b5ull, 0x4bc1558b2f3458deull, /* 5^-254 */
    0xbbb01b9283253ca2ull, 0x9eb1aaedfb016f16ull, /* 5^-253 */
    0xea9c227723ee8bcbull, 0x465e15a979c1cadcull, /* 5^-252 */
    0x92a1958a7675175full, 0x0bfacd89ec191ec9ull, /* 5^-251 */
    0xb749faed14125d36ull, 0xcef980ec671f667bull, /* 5^-250 */
    0xe51c79a85916f484ull, 0x82b7e12780e7401aull, /* 5^-249 */
    0x8f31cc0937ae58d2ull, 0xd1b2ecb8b0908810ull, /* 5^-248 */
    0xb2fe3f0b8599ef07ull, 0x861fa7e6dcb4aa15ull, /* 5^-247 */
    0xdfbdcece67006ac9ull, 0x67a791e093e1d49aull, /* 5^-246 */
    0x8bd6a141006042bdull, 0xe0c8bb2c5c6d24e0ull, /* 5^-245 */
    0xaecc49914078536dull, 0x58fae9f773886e18ull, /* 5^-244 */
    0xda7f5bf590966848ull, 0xaf39a475506a899eull, /* 5^-243 */
    0x888f99797a5e012dull, 0x6d8406c952429603ull, /* 5^-242 */
    0xaab37fd7d8f58178ull, 0xc8e5087ba6d33b83ull, /* 5^-241 */
    0xd5605fcdcf32e1d6ull, 0xfb1e4a9a90880a64ull, /* 5^-240 */
    0x855c3be0a17fcd26ull, 0x5cf2eea09a55067full, /* 5^-239 */
    0xa6b34ad8c9dfc06full, 0xf42faa48c0ea481eull, /* 5^-238 */
    0xd0601d8efc57b08bull, 0xf13b94daf124da26ull, /* 5^-237 */
    0x823c12795db6ce57ull, 0x76c53d08d6b70858ull, /* 5^-236 */
    0xa2cb1717b52481edull, 0x54768c4b0c64ca6eull, /* 5^-235 */
    0xcb7ddcdda26da268ull, 0xa9942f5dcf7dfd09ull, /* 5^-234 */
    0xfe5d54150b090b02ull, 0xd3f93b35435d7c4cull, /* 5^-233 */
    0x9efa548d26e5a6e1ull, 0xc47bc5014a1a6dafull, /* 5^-232 */
    0xc6b8e9b0709f109aull, 0x359ab6419ca1091bull, /* 5^-231 */
    0xf867241c8cc6d4c0ull, 0xc30163d203c94b62ull, /* 5^-230 */
    0x9b407691d7fc44f8ull, 0x79e0de63425dcf1dull, /* 5^-229 */
    0xc21094364dfb5636ull, 0x985915fc12f542e4ull, /* 5^-228 */
    0xf294b943e17a2bc4ull, 0x3e6f5b7b17b2939dull, /* 5^-227 */
    0x979cf3ca6cec5b5aull, 0xa705992ceecf9c42ull, /* 5^-226 */
    0xbd8430bd08277231ull, 0x50c6ff782a838353ull, /* 5^-225 */
    0xece53cec4a314ebdull, 0xa4f8bf5635246428ull, /* 5^-224 */
    0x940f4613ae5ed136ull, 0x871b7795e136be99ull, /* 5^-223 */
    0xb913179899f68584ull, 0x28e2557b59846e3full, /* 5^-222 */
    0xe757dd7ec07426e5ull, 0x331aeada2fe589cfull, /* 5^-221 */
    0x9096ea6f3848984full, 0x3ff0d2c85def7621ull, /* 5^-220 */
    0xb4bca50b065abe63ull, 0x0fed077a756b53a9ull, /* 5^-219 */
    0xe1ebce4dc7f16dfbull, 0xd3e8495912c62894ull, /* 5^-218 */
    0x8d3360f09cf6e4bdull, 0x64712dd7abbbd95cull, /* 5^-217 */
    0xb080392cc4349decull, 0xbd8d794d96aacfb3ull, /* 5^-216 */
    0xdca04777f541c567ull, 0xecf0d7a0fc5583a0ull, /* 5^-215 */
    0x89e42caaf9491b60ull, 0xf41686c49db57244ull, /* 5^-214 */
    0xac5d37d5b79b6239ull, 0x311c2875c522ced5ull, /* 5^-213 */
    0xd77485cb25823ac7ull, 0x7d633293366b828bull, /* 5^-212 */
    0x86a8d39ef77164bcull, 0xae5dff9c02033197ull, /* 5^-211 */
    0xa8530886b54dbdebull, 0xd9f57f830283fdfcull, /* 5^-210 */
    0xd267caa862a12d66ull, 0xd072df63c324fd7bull, /* 5^-209 */
    0x8380dea93da4bc60ull, 0x4247cb9e59f71e6dull, /* 5^-208 */
    0xa46116538d0deb78ull, 0x52d9be85f074e608ull, /* 5^-207 */
    0xcd795be870516656ull, 0x67902e276c921f8bull, /* 5^-206 */
    0x806bd9714632dff6ull, 0x00ba1cd8a3db53b6ull, /* 5^-205 */
    0xa086cfcd97bf97f3ull, 0x80e8a40eccd228a4ull, /* 5^-204 */
    0xc8a883c0fdaf7df0ull, 0x6122cd128006b2cdull, /* 5^-203 */
    0xfad2a4b13d1b5d6cull, 0x796b805720085f81ull, /* 5^-202 */
    0x9cc3a6eec6311a63ull, 0xcbe3303674053bb0ull, /* 5^-201 */
    0xc3f490aa77bd60fcull, 0xbedbfc4411068a9cull, /* 5^-200 */
    0xf4f1b4d515acb93bull, 0xee92fb5515482d44ull, /* 5^-199 */
    0x991711052d8bf3c5ull, 0x751bdd152d4d1c4aull, /* 5^-198 */
    0xbf5cd54678eef0b6ull, 0xd262d45a78a0635dull, /* 5^-197 */
    0xef340a98172aace4ull, 0x86fb897116c87c34ull, /* 5^-196 */
    0x9580869f0e7aac0eull, 0xd45d35e6ae3d4da0ull, /* 5^-195 */
    0xbae0a846d2195712ull, 0x8974836059cca109ull, /* 5^-194 */
    0xe998d258869facd7ull, 0x2bd1a438703fc94bull, /* 5^-193 */
    0x91ff83775423cc06ull, 0x7b6306a34627ddcfull, /* 5^-192 */
    0xb67f6455292cbf08ull, 0x1a3bc84c17b1d542ull, /* 5^-191 */
    0xe41f3d6a7377eecaull, 0x20caba5f1d9e4a93ull, /* 5^-190 */
    0x8e938662882af53eull, 0x547eb47b7282ee9cull, /* 5^-189 */
    0xb23867fb2a35b28dull, 0xe99e619a4f23aa43ull, /* 5^-188 */
    0xdec681f9f4c31f31ull, 0x6405fa00e2ec94d4ull, /* 5^-187 */
    0x8b3c113c38f9f37eull, 0xde83bc408dd3dd04ull, /* 5^-186 */
    0xae0b158b4738705eull, 0x9624ab50b148d445ull, /* 5^-185 */
    0xd98ddaee19068c76ull, 0x3badd624dd9b0957ull, /* 5^-184 */
    0x87f8a8d4cfa417c9ull, 0xe54ca5d70a80e5d6ull, /* 5^-183 */
    0xa9f6d30a038d1dbcull, 0x5e9fcf4ccd211f4cull, /* 5^-182 */
    0xd47487cc8470652bull, 0x7647c3200069671full, /* 5^-181 */
    0x84c8d4dfd2c63f3bull, 0x29ecd9f40041e073ull, /* 5^-180 */
    0xa5fb0a17c777cf09ull, 0xf468107100525890ull, /* 5^-179 */
    0xcf79cc9db955c2ccull, 0x7182148d4066eeb4ull, /* 5^-178 */
    0x81ac1fe293d599bfull, 0xc6f14cd848405530ull, /* 5^-177 */
    0xa21727db38cb002full, 0xb8ada00e5a506a7cull, /* 5^-176 */
    0xca9cf1d206fdc03bull, 0xa6d90811f0e4851cull, /* 5^-175 */
    0xfd442e4688bd304aull, 0x908f4a166d1da663ull, /* 5^-174 */
    0x9e4a9cec15763e2eull, 0x9a598e4e043287feull, /* 5^-173 */
    0xc5dd44271ad3cdbaull, 0x40eff1e1853f29fdull, /* 5^-172 */
    0xf7549530e188c128ull, 0xd12bee59e68ef47cull, /* 5^-171 */
    0x9a94dd3e8cf578b9ull, 0x82bb74f8301958ceull, /* 5^-170 */
    0xc13a148e3032d6e7ull, 0xe36a52363c1faf01ull, /* 5^-169 */
    0xf18899b1bc3f8ca1ull, 0xdc44e6c3cb279ac1ull, /* 5^-168 */
    0x96f5600f15a7b7e5ull, 0x29ab103a5ef8c0b9ull, /* 5^-167 */
    0xbcb2b812db11a5deull, 0x7415d448f6b6f0e7ull, /* 5^-166 */
    0xebdf661791d60f56ull, 0x111b495b3464ad21ull, /* 5^-165 */
    0x936b9fcebb25c995ull, 0xcab10dd900beec34ull, /* 5^-164 */
    0xb84687c269ef3bfbull, 0x3d5d514f40eea742ull, /* 5^-163 */
    0xe65829b3046b0afaull, 0x0cb4a5a3112a5112ull, /* 5^-162 */
    0x8ff71a0fe2c2e6dcull, 0x47f0e785eaba72abull, /* 5^-161 */
    0xb3f4e093db73a093ull, 0x59ed216765690f56ull, /* 5^-160 */
    0xe0f218b8d25088b8ull, 0x306869c13ec3532cull, /* 5^-159 */
    0x8c974f7383725573ull, 0x1e414218c73a13fbull, /* 5^-158 */
    0xafbd2350644eeacfull, 0xe5d1929ef90898faull, /* 5^-157 */
    0xdbac6c247d62a583ull, 0xdf45f746b74abf39ull, /* 5^-156 */
    0x894bc396ce5da772ull, 0x6b8bba8c328eb783ull, /* 5^-155 */
    0xab9eb47c81f5114full, 0x066ea92f3f326564ull, /* 5^-154 */
    0xd686619ba27255a2ull, 0xc80a537b0efefebdull, /* 5^-153 */
    0x8613fd0145877585ull, 0xbd06742ce95f5f36ull, /* 5^-152 */
    0xa798fc4196e952e7ull, 0x2c48113823b73704ull, /* 5^-151 */
    0xd17f3b51fca3a7a0ull, 0xf75a15862ca504c5ull, /* 5^-150 */
    0x82ef85133de648c4ull, 0x9a984d73dbe722fbull, /* 5^-149 */
    0xa3ab66580d5fdaf5ull, 0xc13e60d0d2e0ebbaull, /* 5^-148 */
    0xcc963fee10b7d1b3ull, 0x318df905079926a8ull, /* 5^-147 */
    0xffbbcfe994e5c61full, 0xfdf17746497f7052ull, /* 5^-146 */
    0x9fd561f1fd0f9bd3ull, 0xfeb6ea8bedefa633ull, /* 5^-145 */
    0xc7caba6e7c5382c8ull, 0xfe64a52ee96b8fc0ull, /* 5^-144 */
    0xf9bd690a1b68637bull, 0x3dfdce7aa3c673b0ull, /* 5^-143 */
    0x9c1661a651213e2dull, 0x06bea10ca65c084eull, /* 5^-142 */
    0xc31bfa0fe5698db8ull, 0x486e494fcff30a62ull, /* 5^-141 */
    0xf3e2f893dec3f126ull, 0x5a89dba3c3efccfaull, /* 5^-140 */
    0x986ddb5c6b3a76b7ull, 0xf89629465a75e01cull, /* 5^-139 */
    0xbe89523386091465ull, 0xf6bbb397f1135823ull, /* 5^-138 */
    0xee2ba6c0678b597full, 0x746aa07ded582e2cull, /* 5^-137 */
    0x94db483840b717efull, 0xa8c2a44eb4571cdcull, /* 5^-136 */
    0xba121a4650e4ddebull, 0x92f34d62616ce413ull, /* 5^-135 */
    0xe896a0d7e51e1566ull, 0x77b020baf9c81d17ull, /* 5^-134 */
    0x915e2486ef32cd60ull, 0x0ace1474dc1d122eull, /* 5^-133 */
    0xb5b5ada8aaff80b8ull, 0x0d819992132456baull, /* 5^-132 */
    0xe3231912d5bf60e6ull, 0x10e1fff697ed6c69ull, /* 5^-131 */
    0x8df5efabc5979c8full, 0xca8d3ffa1ef463c1ull, /* 5^-130 */
    0xb1736b96b6fd83b3ull, 0xbd308ff8a6b17cb2ull, /* 5^-129 */
    0xddd0467c64bce4a0ull, 0xac7cb3f6d05ddbdeull, /* 5^-128 */
    0x8aa22c0dbef60ee4ull, 0x6bcdf07a423aa96bull, /* 5^-127 */
    0xad4ab7112eb3929dull, 0x86c16c98d2c953c6ull, /* 5^-126 */
    0xd89d64d57a607744ull, 0xe871c7bf077ba8b7ull, /* 5^-125 */
    0x87625f056c7c4a8bull, 0x11471cd764ad4972ull, /* 5^-124 */
    0xa93af6c6c79b5d2dull, 0xd598e40d3dd89bcfull, /* 5^-123 */
    0xd389b47879823479ull, 0x4aff1d108d4ec2c3ull, /* 5^-122 */
    0x843610cb4bf160cbull, 0xcedf722a585139baull, /* 5^-121 */
    0xa54394fe1eedb8feull, 0xc2974eb4ee658828ull, /* 5^-120 */
    0xce947a3da6a9273eull, 0x733d226229feea32ull, /* 5^-119 */
    0x811ccc668829b887ull, 0x0806357d5a3f525full, /* 5^-118 */
    0xa163ff802a3426a8ull, 0xca07c2dcb0cf26f7ull, /* 5^-117 */
    0xc9bcff6034c13052ull, 0xfc89b393dd02f0b5ull, /* 5^-116 */
    0xfc2c3f3841f17c67ull, 0xbbac2078d443ace2ull, /* 5^-115 */
    0x9d9ba7832936edc0ull, 0xd54b944b84aa4c0dull, /* 5^-114 */
    0xc5029163f384a931ull, 0x0a9e795e65d4df11ull, /* 5^-113 */
    0xf64335bcf065d37dull, 0x4d4617b5ff4a16d5ull, /* 5^-112 */
    0x99ea0196163fa42eull, 0x504bced1bf8e4e45ull, /* 5^-111 */
    0xc06481fb9bcf8d39ull, 0xe45ec2862f71e1d6ull, /* 5^-110 */
    0xf07da27a82c37088ull, 0x5d767327bb4e5a4cull, /* 5^-109 */
    0x964e858c91ba2655ull, 0x3a6a07f8d510f86full, /* 5^-108 */
    0xbbe226efb628afeaull, 0x890489f70a55368bull, /* 5^-107 */
    0xeadab0aba3b2dbe5ull, 0x2b45ac74ccea842eull, /* 5^-106 */
    0x92c8ae6b464fc96full, 0x3b0b8bc90012929dull, /* 5^-105 */
    0xb77ada0617e3bbcbull, 0x09ce6ebb40173744ull, /* 5^-104 */
    0xe55990879ddcaabdull, 0xcc420a6a101d0515ull, /* 5^-103 */
    0x8f57fa54c2a9eab6ull, 0x9fa946824a12232dull, /* 5^-102 */
    0xb32df8e9f3546564ull, 0x47939822dc96abf9ull, /* 5^-101 */
    0xdff9772470297ebdull, 0x59787e2b93bc56f7ull, /* 5^-100 */
    0x8bfbea76c619ef36ull, 0x57eb4edb3c55b65aull, /* 5^-99 */
    0xaefae51477a06b03ull, 0xede622920b6b23f1ull, /* 5^-98 */
    0xdab99e59958885c4ull, 0xe95fab368e45ecedull, /* 5^-97 */
    0x88b402f7fd75539bull, 0x11dbcb0218ebb414ull, /* 5^-96 */
    0xaae103b5fcd2a881ull, 0xd652bdc29f26a119ull, /* 5^-95 */
    0xd59944a37c0752a2ull, 0x4be76d3346f0495full, /* 5^-94 */
    0x857fcae62d8493a5ull, 0x6f70a4400c562ddbull, /* 5^-93 */
    0xa6dfbd9fb8e5b88eull, 0xcb4ccd500f6bb952ull, /* 5^-92 */
    0xd097ad07a71f26b2ull, 0x7e2000a41346a7a7ull, /* 5^-91 */
    0x825ecc24c873782full, 0x8ed400668c0c28c8ull, /* 5^-90 */
    0xa2f67f2dfa90563bull, 0x728900802f0f32faull, /* 5^-89 */
    0xcbb41ef979346bcaull, 0x4f2b40a03ad2ffb9ull, /* 5^-88 */
    0xfea126b7d78186bcull, 0xe2f610c84987bfa8ull, /* 5^-87 */
    0x9f24b832e6b0f436ull, 0x0dd9ca7d2df4d7c9ull, /* 5^-86 */
    0xc6ede63fa05d3143ull, 0x91503d1c79720dbbull, /* 5^-85 */
    0xf8a95fcf88747d94ull, 0x75a44c6397ce912aull, /* 5^-84 */
    0x9b69dbe1b548ce7cull, 0xc986afbe3ee11abaull, /* 5^-83 */
    0xc24452da229b021bull, 0xfbe85badce996168ull, /* 5^-82 */
    0xf2d56790ab41c2a2ull, 0xfae27299423fb9c3ull, /* 5^-81 */
    0x97c560ba6b0919a5ull, 0xdccd879fc967d41aull, /* 5^-80 */
    0xbdb6b8e905cb600full, 0x5400e987bbc1c920ull, /* 5^-79 */
    0xed246723473e3813ull, 0x290123e9aab23b68ull, /* 5^-78 */
    0x9436c0760c86e30bull, 0xf9a0b6720aaf6521ull, /* 5^-77 */
    0xb94470938fa89bceull, 0xf808e40e8d5b3e69ull, /* 5^-76 */
    0xe7958cb87392c2c2ull, 0xb60b1d1230b20e04ull, /* 5^-75 */
    0x90bd77f3483bb9b9ull, 0xb1c6f22b5e6f48c2ull, /* 5^-74 */
    0xb4ecd5f01a4aa828ull, 0x1e38aeb6360b1af3ull, /* 5^-73 */
    0xe2280b6c20dd5232ull, 0x25c6da63c38de1b0ull, /* 5^-72 */
    0x8d590723948a535full, 0x579c487e5a38ad0eull, /* 5^-71 */
    0xb0af48ec79ace837ull, 0x2d835a9df0c6d851ull, /* 5^-70 */
    0xdcdb1b2798182244ull, 0xf8e431456cf88e65ull, /* 5^-69 */
    0x8a08f0f8bf0f156bull, 0x1b8e9ecb641b58ffull, /* 5^-68 */
    0xac8b2d36eed2dac5ull, 0xe272467e3d222f3full, /* 5^-67 */
    0xd7adf884aa879177ull, 0x5b0ed81dcc6abb0full, /* 5^-66 */
    0x86ccbb52ea94baeaull, 0x98e947129fc2b4e9ull, /* 5^-65 */
    0xa87fea27a539e9a5ull, 0x3f2398d747b36224ull, /* 5^-64 */
    0xd29fe4b18e88640eull, 0x8eec7f0d19a03aadull, /* 5^-63 */
    0x83a3eeeef9153e89ull, 0x1953cf68300424acull, /* 5^-62 */
    0xa48ceaaab75a8e2bull, 0x5fa8c3423c052dd7ull, /* 5^-61 */
    0xcdb02555653131b6ull, 0x3792f412cb06794dull, /* 5^-60 */
    0x808e17555f3ebf11ull, 0xe2bbd88bbee40bd0ull, /* 5^-59 */
    0xa0b19d2ab70e6ed6ull, 0x5b6aceaeae9d0ec4ull, /* 5^-58 */
    0xc8de047564d20a8bull, 0xf245825a5a445275ull, /* 5^-57 */
    0xfb158592be068d2eull, 0xeed6e2f0f0d56712ull, /* 5^-56 */
    0x9ced737bb6c4183dull, 0x55464dd69685606bull, /* 5^-55 */
    0xc428d05aa4751e4cull, 0xaa97e14c3c26b886ull, /* 5^-54 */
    0xf53304714d9265dfull, 0xd53dd99f4b3066a8ull, /* 5^-53 */
    0x993fe2c6d07b7fabull, 0xe546a8038efe4029ull, /* 5^-52 */
    0xbf8fdb78849a5f96ull, 0xde98520472bdd033ull, /* 5^-51 */
    0xef73d256a5c0f77cull, 0x963e66858f6d4440ull, /* 5^-50 */
    0x95a8637627989aadull, 0xdde7001379a44aa8ull, /* 5^-49 */
    0xbb127c53b17ec159ull, 0x5560c018580d5d52ull, /* 5^-48 */
    0xe9d71b689dde71afull, 0xaab8f01e6e10b4a6ull, /* 5^-47 */
    0x9226712162ab070dull, 0xcab3961304ca70e8ull, /* 5^-46 */
    0xb6b00d69bb55c8d1ull, 0x3d607b97c5fd0d22ull, /* 5^-45 */
    0xe45c10c42a2b3b05ull, 0x8cb89a7db77c506aull, /* 5^-44 */
    0x8eb98a7a9a5b04e3ull, 0x77f3608e92adb242ull, /* 5^-43 */
    0xb267ed1940f1c61cull, 0x55f038b237591ed3ull, /* 5^-42 */
    0xdf01e85f912e37a3ull, 0x6b6c46dec52f6688ull, /* 5^-41 */
    0x8b61313bbabce2c6ull, 0x2323ac4b3b3da015ull, /* 5^-40 */
    0xae397d8aa96c1b77ull, 0xabec975e0a0d081aull, /* 5^-39 */
    0xd9c7dced53c72255ull, 0x96e7bd358c904a21ull, /* 5^-38 */
    0x881cea14545c7575ull, 0x7e50d64177da2e54ull, /* 5^-37 */
    0xaa242499697392d2ull, 0xdde50bd1d5d0b9e9ull, /* 5^-36 */
    0xd4ad2dbfc3d07787ull, 0x955e4ec64b44e864ull, /* 5^-35 */
    0x84ec3c97da624ab4ull, 0xbd5af13bef0b113eull, /* 5^-34 */
    0xa6274bbdd0fadd61ull, 0xecb1ad8aeacdd58eull, /* 5^-33 */
    0xcfb11ead453994baull, 0x67de18eda5814af2ull, /* 5^-32 */
    0x81ceb32c4b43fcf4ull, 0x80eacf948770ced7ull, /* 5^-31 */
    0xa2425ff75e14fc31ull, 0xa1258379a94d028dull, /* 5^-30 */
    0xcad2f7f5359a3b3eull, 0x096ee45813a04330ull, /* 5^-29 */
    0xfd87b5f28300ca0dull, 0x8bca9d6e188853fcull, /* 5^-28 */
    0x9e74d1b791e07e48ull, 0x775ea264cf55347eull, /* 5^-27 */
    0xc612062576589ddaull, 0x95364afe032a819eull, /* 5^-26 */
    0xf79687aed3eec551ull, 0x3a83ddbd83f52205ull, /* 5^-25 */
    0x9abe14cd44753b52ull, 0xc4926a9672793543ull, /* 5^-24 */
    0xc16d9a0095928a27ull, 0x75b7053c0f178294ull, /* 5^-23 */
    0xf1c90080baf72cb1ull, 0x5324c68b12dd6339ull, /* 5^-22 */
    0x971da05074da7beeull, 0xd3f6fc16ebca5e04ull, /* 5^-21 */
    0xbce5086492111aeaull, 0x88f4bb1ca6bcf585ull, /* 5^-20 */
    0xec1e4a7db69561a5ull, 0x2b31e9e3d06c32e6ull, /* 5^-19 */
    0x9392ee8e921d5d07ull, 0x3aff322e62439fd0ull, /* 5^-18 */
    0xb877aa3236a4b449ull, 0x09befeb9fad487c3ull, /* 5^-17 */
    0xe69594bec44de15bull, 0x4c2ebe687989a9b4ull, /* 5^-16 */
    0x901d7cf73ab0acd9ull, 0x0f9d37014bf60a11ull, /* 5^-15 */
    0xb424dc35095cd80full, 0x538484c19ef38c95ull, /* 5^-14 */
    0xe12e13424bb40e13ull, 0x2865a5f206b06fbaull, /* 5^-13 */
    0x8cbccc096f5088cbull, 0xf93f87b7442e45d4ull, /* 5^-12 */
    0xafebff0bcb24aafeull, 0xf78f69a51539d749ull, /* 5^-11 */
    0xdbe6fecebdedd5beull, 0xb573440e5a884d1cull, /* 5^-10 */
    0x89705f4136b4a597ull, 0x31680a88f8953031ull, /* 5^-9 */
    0xabcc77118461cefcull, 0xfdc20d2b36ba7c3eull, /* 5^-8 */
    0xd6bf94d5e57a42bcull, 0x3d32907604691b4dull, /* 5^-7 */
    0x8637bd05af6c69b5ull, 0xa63f9a49c2c1b110ull, /* 5^-6 */
    0xa7c5ac471b478423ull, 0x0fcf80dc33721d54ull, /* 5^-5 */
    0xd1b71758e219652bull, 0xd3c36113404ea4a9ull, /* 5^-4 */
    0x83126e978d4fdf3bull, 0x645a1cac083126eaull, /* 5^-3 */
    0xa3d70a3d70a3d70aull, 0x3d70a3d70a3d70a4ull, /* 5^-2 */
    0xccccccccccccccccull, 0xcccccccccccccccdull, /* 5^-1 */
    0x8000000000000000ull, 0x0000000000000000ull, /* 5^0 */
    0xa000000000000000ull, 0x0000000000000000ull, /* 5^1 */
    0xc800000000000000ull, 0x0000000000000000ull, /* 5^2 */
    0xfa00000000000000ull, 0x0000000000000000ull, /* 5^3 */
    0x9c40000000000000ull, 0x0000000000000000ull, /* 5^4 */
    0xc350000000000000ull, 0x0000000000000000ull, /* 5^5 */
    0xf424000000000000ull, 0x0000000000000000ull, /* 5^6 */
    0x9896800000000000ull, 0x0000000000000000ull, /* 5^7 */
    0xbebc200000000000ull, 0x0000000000000000ull, /* 5^8 */
    0xee6b280000000000ull, 0x0000000000000000ull, /* 5^9 */
    0x9502f90000000000ull, 0x0000000000000000ull, /* 5^10 */
    0xba43b74000000000ull, 0x0000000000000000ull, /* 5^11 */
    0xe8d4a51000000000ull, 0x0000000000000000ull, /* 5^12 */
    0x9184e72a00000000ull, 0x0000000000000000ull, /* 5^13 */
    0xb5e620f480000000ull, 0x0000000000000000ull, /* 5^14 */
    0xe35fa931a0000000ull, 0x0000000000000000ull, /* 5^15 */
    0x8e1bc9bf04000000ull, 0x0000000000000000ull, /* 5^16 */
    0xb1a2bc2ec5000000ull, 0x0000000000000000ull, /* 5^17 */
    0xde0b6b3a76400000ull, 0x0000000000000000ull, /* 5^18 */
    0x8ac7230489e80000ull, 0x0000000000000000ull, /* 5^19 */
    0xad78ebc5ac620000ull, 0x0000000000000000ull, /* 5^20 */
    0xd8d726b7177a8000ull, 0x0000000000000000ull, /* 5^21 */
    0x878678326eac9000ull, 0x0000000000000000ull, /* 5^22 */
    0xa968163f0a57b400ull, 0x0000000000000000ull, /* 5^23 */
    0xd3c21bcecceda100ull, 0x0000000000000000ull, /* 5^24 */
    0x84595161401484a0ull, 0x0000000000000000ull, /* 5^25 */
    0xa56fa5b99019a5c8ull, 0x0000000000000000ull, /* 5^26 */
    0xcecb8f27f4200f3aull, 0x0000000000000000ull, /* 5^27 */
    0x813f3978f8940984ull, 0x4000000000000000ull, /* 5^28 */
    0xa18f07d736b90be5ull, 0x5000000000000000ull, /* 5^29 */
    0xc9f2c9cd04674edeull, 0xa400000000000000ull, /* 5^30 */
    0xfc6f7c4045812296ull, 0x4d00000000000000ull, /* 5^31 */
    0x9dc5ada82b70b59dull, 0xf020000000000000ull, /* 5^32 */
    0xc5371912364ce305ull, 0x6c28000000000000ull, /* 5^33 */
    0xf684df56c3e01bc6ull, 0xc732000000000000ull, /* 5^34 */
    0x9a130b963a6c115cull, 0x3c7f400000000000ull, /* 5^35 */
    0xc097ce7bc90715b3ull, 0x4b9f100000000000ull, /* 5^36 */
    0xf0bdc21abb48db20ull, 0x1e86d40000000000ull, /* 5^37 */
    0x96769950b50d88f4ull, 0x1314448000000000ull, /* 5^38 */
    0xbc143fa4e250eb31ull, 0x17d955a000000000ull, /* 5^39 */
    0xeb194f8e1ae525fdull, 0x5dcfab0800000000ull, /* 5^40 */
    0x92efd1b8d0cf37beull, 0x5aa1cae500000000ull, /* 5^41 */
    0xb7abc627050305adull, 0xf14a3d9e40000000ull, /* 5^42 */
    0xe596b7b0c643c719ull, 0x6d9ccd05d0000000ull, /* 5^43 */
    0x8f7e32ce7bea5c6full, 0xe4820023a2000000ull, /* 5^44 */
    0xb35dbf821ae4f38bull, 0xdda2802c8a800000ull, /* 5^45 */
    0xe0352f62a19e306eull, 0xd50b2037ad200000ull, /* 5^46 */
    0x8c213d9da502de45ull, 0x4526f422cc340000ull, /* 5^47 */
    0xaf298d050e4395d6ull, 0x9670b12b7f410000ull, /* 5^48 */
    0xdaf3f04651d47b4cull, 0x3c0cdd765f114000ull, /* 5^49 */
    0x88d8762bf324cd0full, 0xa5880a69fb6ac800ull, /* 5^50 */
    0xab0e93b6efee0053ull, 0x8eea0d047a457a00ull, /* 5^51 */
    0xd5d238a4abe98068ull, 0x72a4904598d6d880ull, /* 5^52 */
    0x85a36366eb71f041ull, 0x47a6da2b7f864750ull, /* 5^53 */
    0xa70c3c40a64e6c51ull, 0x999090b65f67d924ull, /* 5^54 */
    0xd0cf4b50cfe20765ull, 0xfff4b4e3f741cf6dull, /* 5^55 */
    0x82818f1281ed449full, 0xbff8f10e7a8921a4ull, /* 5^56 */
    0xa321f2d7226895c7ull, 0xaff72d52192b6a0dull, /* 5^57 */
    0xcbea6f8ceb02bb39ull, 0x9bf4f8a69f764490ull, /* 5^58 */
    0xfee50b7025c36a08ull, 0x02f236d04753d5b4ull, /* 5^59 */
    0x9f4f2726179a2245ull, 0x01d762422c946590ull, /* 5^60 */
    0xc722f0ef9d80aad6ull, 0x424d3ad2b7b97ef5ull, /* 5^61 */
    0xf8ebad2b84e0d58bull, 0xd2e0898765a7deb2ull, /* 5^62 */
    0x9b934c3b330c8577ull, 0x63cc55f49f88eb2full, /* 5^63 */
    0xc2781f49ffcfa6d5ull, 0x3cbf6b71c76b25fbull, /* 5^64 */
    0xf316271c7fc3908aull, 0x8bef464e3945ef7aull, /* 5^65 */
    0x97edd871cfda3a56ull, 0x97758bf0e3cbb5acull, /* 5^66 */
    0xbde94e8e43d0c8ecull, 0x3d52eeed1cbea317ull, /* 5^67 */
    0xed63a231d4c4fb27ull, 0x4ca7aaa863ee4bddull, /* 5^68 */
    0x945e455f24fb1cf8ull, 0x8fe8caa93e74ef6aull, /* 5^69 */
    0xb975d6b6ee39e436ull, 0xb3e2fd538e122b44ull, /* 5^70 */
    0xe7d34c64a9c85d44ull, 0x60dbbca87196b616ull, /* 5^71 */
    0x90e40fbeea1d3a4aull, 0xbc8955e946fe31cdull, /* 5^72 */
    0xb51d13aea4a488ddull, 0x6babab6398bdbe41ull, /* 5^73 */
    0xe264589a4dcdab14ull, 0xc696963c7eed2dd1ull, /* 5^74 */
    0x8d7eb76070a08aecull, 0xfc1e1de5cf543ca2ull, /* 5^75 */
    0xb0de65388cc8ada8ull, 0x3b25a55f43294bcbull, /* 5^76 */
    0xdd15fe86affad912ull, 0x49ef0eb713f39ebeull, /* 5^77 */
    0x8a2dbf142dfcc7abull, 0x6e3569326c784337ull, /* 5^78 */
    0xacb92ed9397bf996ull, 0x49c2c37f07965404ull, /* 5^79 */
    0xd7e77a8f87daf7fbull, 0xdc33745ec97be906ull, /* 5^80 */
    0x86f0ac99b4e8dafdull, 0x69a028bb3ded71a3ull, /* 5^81 */
    0xa8acd7c0222311bcull, 0xc40832ea0d68ce0cull, /* 5^82 */
    0xd2d80db02aabd62bull, 0xf50a3fa490c30190ull, /* 5^83 */
    0x83c7088e1aab65dbull, 0x792667c6da79e0faull, /* 5^84 */
    0xa4b8cab1a1563f52ull, 0x577001b891185938ull, /* 5^85 */
    0xcde6fd5e09abcf26ull, 0xed4c0226b55e6f86ull, /* 5^86 */
    0x80b05e5ac60b6178ull, 0x544f8158315b05b4ull, /* 5^87 */
    0xa0dc75f1778e39d6ull, 0x696361ae3db1c721ull, /* 5^88 */
    0xc913936dd571c84cull, 0x03bc3a19cd1e38e9ull, /* 5^89 */
    0xfb5878494ace3a5full, 0x04ab48a04065c723ull, /* 5^90 */
    0x9d174b2dcec0e47bull, 0x62eb0d64283f9c76ull, /* 5^91 */
    0xc45d1df942711d9aull, 0x3ba5d0bd324f8394ull, /* 5^92 */
    0xf5746577930d6500ull, 0xca8f44ec7ee36479ull, /* 5^93 */
    0x9968bf6abbe85f20ull, 0x7e998b13cf4e1ecbull, /* 5^94 */
    0xbfc2ef456ae276e8ull, 0x9e3fedd8c321a67eull, /* 5^95 */
    0xefb3ab16c59b14a2ull, 0xc5cfe94ef3ea101eull, /* 5^96 */
    0x95d04aee3b80ece5ull, 0xbba1f1d158724a12ull, /* 5^97 */
    0xbb445da9ca61281full, 0x2a8a6e45ae8edc97ull, /* 5^98 */
    0xea1575143cf97226ull, 0xf52d09d71a3293bdull, /* 5^99 */
    0x924d692ca61be758ull, 0x593c2626705f9c56ull, /* 5^100 */
    0xb6e0c377cfa2e12eull, 0x6f8b2fb00c77836cull, /* 5^101 */
    0xe498f455c38b997aull, 0x0b6dfb9c0f956447ull, /* 5^102 */
    0x8edf98b59a373fecull, 0x4724bd4189bd5eacull, /* 5^103 */
    0xb2977ee300c50fe7ull, 0x58edec91ec2cb657ull, /* 5^104 */
    0xdf3d5e9bc0f653e1ull, 0x2f2967b66737e3edull, /* 5^105 */
    0x8b865b215899f46cull, 0xbd79e0d20082ee74ull, /* 5^106 */
    0xae67f1e9aec07187ull, 0xecd8590680a3aa11ull, /* 5^107 */
    0xda01ee641a708de9ull, 0xe80e6f4820cc9495ull, /* 5^108 */
    0x884134fe908658b2ull, 0x3109058d147fdcddull, /* 5^109 */
    0xaa51823e34a7eedeull, 0xbd4b46f0599fd415ull, /* 5^110 */
    0xd4e5e2cdc1d1ea96ull, 0x6c9e18ac7007c91aull, /* 5^111 */
    0x850fadc09923329eull, 0x03e2cf6bc604ddb0ull, /* 5^112 */
    0xa6539930bf6bff45ull, 0x84db8346b786151cull, /* 5^113 */
    0xcfe87f7cef46ff16ull, 0xe612641865679a63ull, /* 5^114 */
    0x81f14fae158c5f6eull, 0x4fcb7e8f3f60c07eull, /* 5^115 */
    0xa26da3999aef7749ull, 0xe3be5e330f38f09dull, /* 5^116 */
    0xcb090c8001ab551cull, 0x5cadf5bfd3072cc5ull, /* 5^117 */
    0xfdcb4fa002162a63ull, 0x73d9732fc7c8f7f6ull, /* 5^118 */
    0x9e9f11c4014dda7eull, 0x2867e7fddcdd9afaull, /* 5^119 */
    0xc646d63501a1511dull, 0xb281e1fd541501b8ull, /* 5^120 */
    0xf7d88bc24209a565ull, 0x1f225a7ca91a4226ull, /* 5^121 */
    0x9ae757596946075full, 0x3375788de9b06958ull, /* 5^122 */
    0xc1a12d2fc3978937ull, 0x0052d6b1641c83aeull, /* 5^123 */
    0xf209787bb47d6b84ull, 0xc0678c5dbd23a49aull, /* 5^124 */
    0x9745eb4d50ce6332ull, 0xf840b7ba963646e0ull, /* 5^125 */
    0xbd176620a501fbffull, 0xb650e5a93bc3d898ull, /* 5^126 */
    0xec5d3fa8ce427affull, 0xa3e51f138ab4cebeull, /* 5^127 */
    0x93ba47c980e98cdfull, 0xc66f336c36b10137ull, /* 5^128 */
    0xb8a8d9bbe123f017ull, 0xb80b0047445d4184ull, /* 5^129 */
    0xe6d3102ad96cec1dull, 0xa60dc059157491e5ull, /* 5^130 */
    0x9043ea1ac7e41392ull, 0x87c89837ad68db2full, /* 5^131 */
    0xb454e4a179dd1877ull, 0x29babe4598c311fbull, /* 5^132 */
    0xe16a1dc9d8545e94ull, 0xf4296dd6fef3d67aull, /* 5^133 */
    0x8ce2529e2734bb1dull, 0x1899e4a65f58660cull, /* 5^134 */
    0xb01ae745b101e9e4ull, 0x5ec05dcff72e7f8full, /* 5^135 */
    0xdc21a1171d42645dull, 0x76707543f4fa1f73ull, /* 5^136 */
    0x899504ae72497ebaull, 0x6a06494a791c53a8ull, /* 5^137 */
    0xabfa45da0edbde69ull, 0x0487db9d17636892ull, /* 5^138 */
    0xd6f8d7509292d603ull, 0x45a9d2845d3c42b6ull, /* 5^139 */
    0x865b86925b9bc5c2ull, 0x0b8a2392ba45a9b2ull, /* 5^140 */
    0xa7f26836f282b732ull, 0x8e6cac7768d7141eull, /* 5^141 */
    0xd1ef0244af2364ffull, 0x3207d795430cd926ull, /* 5^142 */
    0x8335616aed761f1full, 0x7f44e6bd49e807b8ull, /* 5^143 */
    0xa402b9c5a8d3a6e7ull, 0x5f16206c9c6209a6ull, /* 5^144 */
    0xcd036837130890a1ull, 0x36dba887c37a8c0full, /* 5^145 */
    0x802221226be55a64ull, 0xc2494954da2c9789ull, /* 5^146 */
    0xa02aa96b06deb0fdull, 0xf2db9baa10b7bd6cull, /* 5^147 */
    0xc83553c5c8965d3dull, 0x6f92829494e5acc7ull, /* 5^148 */
    0xfa42a8b73abbf48cull, 0xcb772339ba1f17f9ull, /* 5^149 */
    0x9c69a97284b578d7ull, 0xff2a760414536efbull, /* 5^150 */
    0xc38413cf25e2d70dull, 0xfef5138519684abaull, /* 5^151 */
    0xf46518c2ef5b8cd1ull, 0x7eb258665fc25d69ull, /* 5^152 */
    0x98bf2f79d5993802ull, 0xef2f773ffbd97a61ull, /* 5^153 */
    0xbeeefb584aff8603ull, 0xaafb550ffacfd8faull, /* 5^154 */
    0xeeaaba2e5dbf6784ull, 0x95ba2a53f983cf38ull, /* 5^155 */
    0x952ab45cfa97a0b2ull, 0xdd945a747bf26183ull, /* 5^156 */
    0xba756174393d88dfull, 0x94f971119aeef9e4ull, /* 5^157 */
    0xe912b9d1478ceb17ull, 0x7a37cd5601aab85dull, /* 5^158 */
    0x91abb422ccb812eeull, 0xac62e055c10ab33aull, /* 5^159 */
    0xb616a12b7fe617aaull, 0x577b986b314d6009ull, /* 5^160 */
    0xe39c49765fdf9d94ull, 0xed5a7e85fda0b80bull, /* 5^161 */
    0x8e41ade9fbebc27dull, 0x14588f13be847307ull, /* 5^162 */
    0xb1d219647ae6b31cull, 0x596eb2d8ae258fc8ull, /* 5^163 */
    0xde469fbd99a05fe3ull, 0x6fca5f8ed9aef3bbull, /* 5^164 */
    0x8aec23d680043beeull, 0x25de7bb9480d5854ull, /* 5^165 */
    0xada72ccc20054ae9ull, 0xaf561aa79a10ae6aull, /* 5^166 */
    0xd910f7ff28069da4ull, 0x1b2ba1518094da04ull, /* 5^167 */
    0x87aa9aff79042286ull, 0x90fb44d2f05d0842ull, /* 5^168 */
    0xa99541bf57452b28ull, 0x353a1607ac744a53ull, /* 5^169 */
    0xd3fa922f2d1675f2ull, 0x42889b8997915ce8ull, /* 5^170 */
    0x847c9b5d7c2e09b7ull, 0x69956135febada11ull, /* 5^171 */
    0xa59bc234db398c25ull, 0x43fab9837e699095ull, /* 5^172 */
    0xcf02b2c21207ef2eull, 0x94f967e45e03f4bbull, /* 5^173 */
    0x8161afb94b44f57dull, 0x1d1be0eebac278f5ull, /* 5^174 */
    0xa1ba1ba79e1632dcull, 0x6462d92a69731732ull, /* 5^175 */
    0xca28a291859bbf93ull, 0x7d7b8f7503cfdcfeull, /* 5^176 */
    0xfcb2cb35e702af78ull, 0x5cda735244c3d43eull, /* 5^177 */
    0x9defbf01b061adabull, 0x3a0888136afa64a7ull, /* 5^178 */
    0xc56baec21c7a1916ull, 0x088aaa1845b8fdd0ull, /* 5^179 */
    0xf6c69a72a3989f5bull, 0x8aad549e57273d45ull, /* 5^180 */
    0x9a3c2087a63f6399ull, 0x36ac54e2f678864bull, /* 5^181 */
    0xc0cb28a98fcf3c7full, 0x84576a1bb416a7ddull, /* 5^182 */
    0xf0fdf2d3f3c30b9full, 0x656d44a2a11c51d5ull, /* 5^183 */
    0x969eb7c47859e743ull, 0x9f644ae5a4b1b325ull, /* 5^184 */
    0xbc4665b596706114ull, 0x873d5d9f0dde1feeull, /* 5^185 */
    0xeb57ff22fc0c7959ull, 0xa90cb506d155a7eaull, /* 5^186 */
    0x9316ff75dd87cbd8ull, 0x09a7f12442d588f2ull, /* 5^187 */
    0xb7dcbf5354e9beceull, 0x0c11ed6d538aeb2full, /* 5^188 */
    0xe5d3ef282a242e81ull, 0x8f1668c8a86da5faull, /* 5^189 */
    0x8fa475791a569d10ull, 0xf96e017d694487bcull, /* 5^190 */
    0xb38d92d760ec4455ull, 0x37c981dcc395a9acull, /* 5^191 */
    0xe070f78d3927556aull, 0x85bbe253f47b1417ull, /* 5^192 */
    0x8c469ab843b89562ull, 0x93956d7478ccec8eull, /* 5^193 */
    0xaf58416654a6babbull, 0x387ac8d1970027b2ull, /* 5^194 */
    0xdb2e51bfe9d0696aull, 0x06997b05fcc0319eull, /* 5^195 */
    0x88fcf317f22241e2ull, 0x441fece3bdf81f03ull, /* 5^196 */
    0xab3c2fddeeaad25aull, 0xd527e81cad7626c3ull, /* 5^197 */
    0xd60b3bd56a5586f1ull, 0x8a71e223d8d3b074ull, /* 5^198 */
    0x85c7056562757456ull, 0xf6872d5667844e49ull, /* 5^199 */
    0xa738c6bebb12d16cull, 0xb428f8ac016561dbull, /* 5^200 */
    0xd106f86e69d785c7ull, 0xe13336d701beba52ull, /* 5^201 */
    0x82a45b450226b39cull, 0xecc0024661173473ull, /* 5^202 */
    0xa34d721642b06084ull, 0x27f002d7f95d0190ull, /* 5^203 */
    0xcc20ce9bd35c78a5ull, 0x31ec038df7b441f4ull, /* 5^204 */
    0xff290242c83396ceull, 0x7e67047175a15271ull, /* 5^205 */
    0x9f79a169bd203e41ull, 0x0f0062c6e984d386ull, /* 5^206 */
    0xc75809c42c684dd1ull, 0x52c07b78a3e60868ull, /* 5^207 */
    0xf92e0c3537826145ull, 0xa7709a56ccdf8a82ull, /* 5^208 */
    0x9bbcc7a142b17ccbull, 0x88a66076400bb691ull, /* 5^209 */
    0xc2abf989935ddbfeull, 0x6acff893d00ea435ull, /* 5^210 */
    0xf356f7ebf83552feull, 0x0583f6b8c4124d43ull, /* 5^211 */
    0x98165af37b2153deull, 0xc3727a337a8b704aull, /* 5^212 */
    0xbe1bf1b059e9a8d6ull, 0x744f18c0592e4c5cull, /* 5^213 */
    0xeda2ee1c7064130cull, 0x1162def06f79df73ull, /* 5^214 */
    0x9485d4d1c63e8be7ull, 0x8addcb5645ac2ba8ull, /* 5^215 */
    0xb9a74a0637ce2ee1ull, 0x6d953e2bd7173692ull, /* 5^216 */
    0xe8111c87c5c1ba99ull, 0xc8fa8db6ccdd0437ull, /* 5^217 */
    0x910ab1d4db9914a0ull, 0x1d9c9892400a22a2ull, /* 5^218 */
    0xb54d5e4a127f59c8ull, 0x2503beb6d00cab4bull, /* 5^219 */
    0xe2a0b5dc971f303aull, 0x2e44ae64840fd61dull, /* 5^220 */
    0x8da471a9de737e24ull, 0x5ceaecfed289e5d2ull, /* 5^221 */
    0xb10d8e1456105dadull, 0x7425a83e872c5f47ull, /* 5^222 */
    0xdd50f1996b947518ull, 0xd12f124e28f77719ull, /* 5^223 */
    0x8a5296ffe33cc92full, 0x82bd6b70d99aaa6full, /* 5^224 */
    0xace73cbfdc0bfb7bull, 0x636cc64d1001550bull, /* 5^225 */
    0xd8210befd30efa5aull, 0x3c47f7e05401aa4eull, /* 5^226 */
    0x8714a775e3e95c78ull, 0x65acfaec34810a71ull, /* 5^227 */
    0xa8d9d1535ce3b396ull, 0x7f1839a741a14d0dull, /* 5^228 */
    0xd31045a8341ca07cull, 0x1ede48111209a050ull, /* 5^229 */
    0x83ea2b892091e44dull, 0x934aed0aab460432ull, /* 5^230 */
    0xa4e4b66b68b65d60ull, 0xf81da84d5617853full, /* 5^231 */
    0xce1de40642e3f4b9ull, 0x36251260ab9d668eull, /* 5^232 */
    0x80d2ae83e9ce78f3ull, 0xc1d72b7c6b426019ull, /* 5^233 */
    0xa1075a24e4421730ull, 0xb24cf65b8612f81full, /* 5^234 */
    0xc94930ae1d529cfcull, 0xdee033f26797b627ull, /* 5^235 */
    0xfb9b7cd9a4a7443cull, 0x169840ef017da3b1ull, /* 5^236 */
    0x9d412e0806e88aa5ull, 0x8e1f289560ee864eull, /* 5^237 */
    0xc491798a08a2ad4eull, 0xf1a6f2bab92a27e2ull, /* 5^238 */
    0xf5b5d7ec8acb58a2ull, 0xae10af696774b1dbull, /* 5^239 */
    0x9991a6f3d6bf1765ull, 0xacca6da1e0a8ef29ull, /* 5^240 */
    0xbff610b0cc6edd3full, 0x17fd090a58d32af3ull, /* 5^241 */
    0xeff394dcff8a948eull, 0xddfc4b4cef07f5b0ull, /* 5^242 */
    0x95f83d0a1fb69cd9ull, 0x4abdaf101564f98eull, /* 5^243 */
    0xbb764c4ca7a4440full, 0x9d6d1ad41abe37f1ull, /* 5^244 */
    0xea53df5fd18d5513ull, 0x84c86189216dc5edull, /* 5^245 */
    0x92746b9be2f8552cull, 0x32fd3cf5b4e49bb4ull, /* 5^246 */
    0xb7118682dbb66a77ull, 0x3fbc8c33221dc2a1ull, /* 5^247 */
    0xe4d5e82392a40515ull, 0x0fabaf3feaa5334aull, /* 5^248 */
    0x8f05b1163ba6832dull, 0x29cb4d87f2a7400eull, /* 5^249 */
    0xb2c71d5bca9023f8ull, 0x743e20e9ef511012ull, /* 5^250 */
    0xdf78e4b2bd342cf6ull, 0x914da9246b255416ull, /* 5^251 */
    0x8bab8eefb6409c1aull, 0x1ad089b6c2f7548eull, /* 5^252 */
    0xae9672aba3d0c320ull, 0xa184ac2473b529b1ull, /* 5^253 */
    0xda3c0f568cc4f3e8ull, 0xc9e5d72d90a2741eull, /* 5^254 */
    0x8865899617fb1871ull, 0x7e2fa67c7a658892ull, /* 5^255 */
    0xaa7eebfb9df9de8dull, 0xddbb901b98feeab7ull, /* 5^256 */
    0xd51ea6fa85785631ull, 0x552a74227f3ea565ull, /* 5^257 */
    0x8533285c936b35deull, 0xd53a88958f87275full, /* 5^258 */
    0xa67ff273b8460356ull, 0x8a892abaf368f137ull, /* 5^259 */
    0xd01fef10a657842cull, 0x2d2b7569b0432d85ull, /* 5^260 */
    0x8213f56a67f6b29bull, 0x9c3b29620e29fc73ull, /* 5^261 */
    0xa298f2c501f45f42ull, 0x8349f3ba91b47b8full, /* 5^262 */
    0xcb3f2f7642717713ull, 0x241c70a936219a73ull, /* 5^263 */
    0xfe0efb53d30dd4d7ull, 0xed238cd383aa0110ull, /* 5^264 */
    0x9ec95d1463e8a506ull, 0xf4363804324a40aaull, /* 5^265 */
    0xc67bb4597ce2ce48ull, 0xb143c6053edcd0d5ull, /* 5^266 */
    0xf81aa16fdc1b81daull, 0xdd94b7868e94050aull, /* 5^267 */
    0x9b10a4e5e9913128ull, 0xca7cf2b4191c8326ull, /* 5^268 */
    0xc1d4ce1f63f57d72ull, 0xfd1c2f611f63a3f0ull, /* 5^269 */
    0xf24a01a73cf2dccfull, 0xbc633b39673c8cecull, /* 5^270 */
    0x976e41088617ca01ull, 0xd5be0503e085d813ull, /* 5^271 */
    0xbd49d14aa79dbc82ull, 0x4b2d8644d8a74e18ull, /* 5^272 */
    0xec9c459d51852ba2ull, 0xddf8e7d60ed1219eull, /* 5^273 */
    0x93e1ab8252f33b45ull, 0xcabb90e5c942b503ull, /* 5^274 */
    0xb8da1662e7b00a17ull, 0x3d6a751f3b936243ull, /* 5^275 */
    0xe7109bfba19c0c9dull, 0x0cc512670a783ad4ull, /* 5^276 */
    0x906a617d450187e2ull, 0x27fb2b80668b24c5ull, /* 5^277 */
    0xb484f9dc9641e9daull, 0xb1f9f660802dedf6ull, /* 5^278 */
    0xe1a63853bbd26451ull, 0x5e7873f8a0396973ull, /* 5^279 */
    0x8d07e33455637eb2ull, 0xdb0b487b6423e1e8ull, /* 5^280 */
    0xb049dc016abc5e5full, 0x91ce1a9a3d2cda62ull, /* 5^281 */
    0xdc5c5301c56b75f7ull, 0x7641a140cc7810fbull, /* 5^282 */
    0x89b9b3e11b6329baull, 0xa9e904c87fcb0a9dull, /* 5^283 */
    0xac2820d9623bf429ull, 0x546345fa9fbdcd44ull, /* 5^284 */
    0xd732290fbacaf133ull, 0xa97c177947ad4095ull, /* 5^285 */
    0x867f59a9d4bed6c0ull, 0x49ed8eabcccc485dull, /* 5^286 */
    0xa81f301449ee8c70ull, 0x5c68f256bfff5a74ull, /* 5^287 */
    0xd226fc195c6a2f8cull, 0x73832eec6fff3111ull, /* 5^288 */
    0x83585d8fd9c25db7ull, 0xc831fd53c5ff7eabull, /* 5^289 */
    0xa42e74f3d032f525ull, 0xba3e7ca8b77f5e55ull, /* 5^290 */
    0xcd3a1230c43fb26full, 0x28ce1bd2e55f35ebull, /* 5^291 */
    0x80444b5e7aa7cf85ull, 0x7980d163cf5b81b3ull, /* 5^292 */
    0xa0555e361951c366ull, 0xd7e105bcc332621full, /* 5^293 */
    0xc86ab5c39fa63440ull, 0x8dd9472bf3fefaa7ull, /* 5^294 */
    0xfa856334878fc150ull, 0xb14f98f6f0feb951ull, /* 5^295 */
    0x9c935e00d4b9d8d2ull, 0x6ed1bf9a569f33d3ull, /* 5^296 */
    0xc3b8358109e84f07ull, 0x0a862f80ec4700c8ull, /* 5^297 */
    0xf4a642e14c6262c8ull, 0xcd27bb612758c0faull, /* 5^298 */
    0x98e7e9cccfbd7dbdull, 0x8038d51cb897789cull, /* 5^299 */
    0xbf21e44003acdd2cull, 0xe0470a63e6bd56c3ull, /* 5^300 */
    0xeeea5d5004981478ull, 0x1858ccfce06cac74ull, /* 5^301 */
    0x95527a5202df0ccbull, 0x0f37801e0c43ebc8ull, /* 5^302 */
    0xbaa718e68396cffdull, 0xd30560258f54e6baull, /* 5^303 */
    0xe950df20247c83fdull, 0x47c6b82ef32a2069ull, /* 5^304 */
    0x91d28b7416cdd27eull, 0x4cdc331d57fa5441ull, /* 5^305 */
    0xb6472e511c81471dull, 0xe0133fe4adf8e952ull, /* 5^306 */
    0xe3d8f9e563a198e5ull, 0x58180fddd97723a6ull, /* 5^307 */
    0x8e679c2f5e44ff8full, 0x570f09eaa7ea7648ull, /* 5^308 */
};

/* 64 x 64 -> 128-bit product. */
static inline void mul_64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 u128;
    u128 r = (u128)a * b;
    *hi = (uint64_t)(r >> 64);
    *lo = (uint64_t)r;
#else
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    *lo = (mid << 32) | (uint32_t)p00;
#endif
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

/* floor(x / 65536) without relying on the implementation-defined >> of negatives. */
static inline int64_t floor_div_65536(int64_t x)
{
    return x >= 0 ? x / 65536 : -((-x + 65535) / 65536);
}

/* Eisel-Lemire: the correctly rounded double nearest to w * 10^q for an exact decimal
 * mantissa 0 < w < 10^19 (fast_float's compute_float for binary64, with its
 * conservative fallback test kept). Returns 0 when it cannot decide (the caller then
 * uses strtod); that is extremely rare. */
static int eisel_lemire(uint64_t w, int64_t q, int neg, double *out)
{
    uint64_t hi, lo, mant, bits;
    int64_t p2;
    int lz, upper;
    if (q < -342) {             /* w * 10^q < 2^64 * 10^-343 < 2^-1076: rounds to 0 */
        *out = neg ? -0.0 : 0.0;
        return 1;
    }
    if (q > 308) {              /* >= 10^309: overflows */
        *out = neg ? -INFINITY : INFINITY;
        return 1;
    }
    lz = clz64(w);
    w <<= lz;
    {
        size_t idx = (size_t)(2 * (q + 342));
        mul_64x64(w, g_pow5_128[idx], &hi, &lo);
        if ((hi & 0x1FF) == 0x1FF) {        /* the 55 leading bits may be off by one */
            uint64_t hi2, lo2;
            mul_64x64(w, g_pow5_128[idx + 1], &hi2, &lo2);
            lo += hi2;
            if (hi2 > lo)
                hi++;
        }
    }
    if (lo == UINT64_MAX && !(q >= -27 && q <= 55))
        return 0;
    upper = (int)(hi >> 63);
    mant = hi >> (upper + 9);
    p2 = floor_div_65536(217706 * q) + 63 + upper - lz + 1023;
    if (p2 <= 0) {              /* subnormal (or zero) */
        if (-p2 + 1 >= 64) {
            *out = neg ? -0.0 : 0.0;
            return 1;
        }
        mant >>= -p2 + 1;
        mant += mant & 1;
        mant >>= 1;
        p2 = mant < ((uint64_t)1 << 52) ? 0 : 1;
    } else {
        /* exactly halfway between two doubles: round to even */
        if (lo <= 1 && q >= -4 && q <= 23 && (mant & 3) == 1 &&
            (mant << (upper + 9)) == hi)
            mant &= ~(uint64_t)1;
        mant += mant & 1;
        mant >>= 1;
        if (mant >= ((uint64_t)2 << 52)) {
            mant = (uint64_t)1 << 52;
            p2++;
        }
        mant &= ~((uint64_t)1 << 52);
        if (p2 >= 0x7FF) {
            *out = neg ? -INFINITY : INFINITY;
            return 1;
        }
    }
    bits = mant | ((uint64_t)p2 << 52) | ((uint64_t)(neg != 0) << 63);
    memcpy(out, &bits, sizeof bits);
    return 1;
}

/* strtod on a NUL-terminated copy of the token, with the locale's decimal point. */
static int slow_double(jctx *c, const jnum *t, double *out)
{
    char local[64];
    char *tmp = local;
    size_t n = (size_t)(t->stop - t->start), i, j = 0;
    size_t cap;
    if (!c->dp_len) {
        const struct lconv *lc = localeconv();
        const char *dp = (lc && lc->decimal_point && lc->decimal_point[0]) ? lc->decimal_point : ".";
        size_t k = strlen(dp);
        if (k >= sizeof(c->dp))
            k = 1, dp = ".";
        memcpy(c->dp, dp, k);
        c->dp_len = (int)k;
    }
    cap = n + (size_t)c->dp_len + 1;
    if (cap > sizeof(local)) {
        tmp = (char *)malloc(cap);
        if (!tmp)
            return jerr(c, FA_ENOMEM, t->start, "out of memory");
    }
    for (i = 0; i < n; i++) {
        if (t->start[i] == '.') {
            memcpy(tmp + j, c->dp, (size_t)c->dp_len);
            j += (size_t)c->dp_len;
        } else {
            tmp[j++] = (char)t->start[i];
        }
    }
    tmp[j] = '\0';
    *out = strtod(tmp, NULL);
    if (tmp != local)
        free(tmp);
    return FA_OK;
}

/* The double that Python's float() gives for the token. */
static int num_to_double(jctx *c, const jnum *t, double *out)
{
    if (t->kind == NUM_NAN) {
        *out = NAN;
        return FA_OK;
    }
    if (t->kind == NUM_INF) {
        *out = t->neg ? -INFINITY : INFINITY;
        return FA_OK;
    }
    if (!t->truncated) {
        if (t->w == 0) {
            /* "-0" is the integer 0 in Python (float() of it is +0.0); "-0.0", "-0e1"
             * are floats: -0.0 */
            *out = (t->neg && t->kind != NUM_INT) ? -0.0 : 0.0;
            return FA_OK;
        }
#if FA_JSON_FAST_FLOAT
        if (t->w <= ((uint64_t)1 << 53)) {
            double d = (double)t->w;
            int64_t e = t->e;
            int ok = 1;
            if (e < 0 && e >= -22) {
                d = d / g_pow10[-e];
            } else if (e >= 0 && e <= 22) {
                d = d * g_pow10[e];
            } else if (e > 22 && e <= 22 + 15) {
                /* w * 10^(e-22) still an exact integer <= 2^53? */
                uint64_t x = t->w;
                int64_t k;
                for (k = 0; k < e - 22 && ok; k++) {
                    if (x > ((uint64_t)1 << 53) / 10)
                        ok = 0;
                    else
                        x *= 10;
                }
                if (ok)
                    d = (double)x * 1e22;
            } else {
                ok = 0;
            }
            if (ok) {
                *out = t->neg ? -d : d;
                return FA_OK;
            }
        }
#endif
        if (eisel_lemire(t->w, t->e, t->neg, out))
            return FA_OK;
    }
    return slow_double(c, t, out);
}

static void format_token(const jnum *t, char *buf, size_t n)
{
    size_t k = (size_t)(t->stop - t->start);
    if (k + 1 > n) {
        k = n - 4;
        memcpy(buf, t->start, k);
        memcpy(buf + k, "...", 4);
    } else {
        memcpy(buf, t->start, k);
        buf[k] = '\0';
    }
}

/* Fast paths for the common shapes of tokens: "-?digits(.digits)?" with at most 19
 * digits in all. Anything else (exponent, NaN / Infinity, long mantissas, malformed
 * tokens) goes to the general lexer below, from the same position, so the result and
 * the error messages do not depend on which path ran. */
static int parse_double(jctx *c, double *out, const char *what);
static int parse_id(jctx *c, int64_t *out);

/* The fast path of fast_double on local pointers (no jctx: callers keep the position in
 * a register, where a store of the value could otherwise make the compiler reload it).
 * 1: *out and *end set; 0: not the common shape (nothing set). */
static inline int fast_number(const unsigned char *p, const unsigned char *e, double *out,
                              const unsigned char **end)
{
#if FA_JSON_FAST_FLOAT
    const unsigned char *ds;
    uint64_t w = 0;
    ptrdiff_t nd, fd = 0;
    int neg = 0;
    double d;
    if (p < e && *p == '-') {
        neg = 1;
        p++;
    }
    ds = p;
    while (p < e && IS_DIGIT(*p)) {
        w = w * 10 + (uint64_t)(*p - '0');
        p++;
    }
    nd = p - ds;
    if (nd == 0 || (nd > 1 && *ds == '0'))
        return 0;
    if (p < e && *p == '.') {
        const unsigned char *fs = ++p;
        while (p < e && IS_DIGIT(*p)) {
            w = w * 10 + (uint64_t)(*p - '0');
            p++;
        }
        fd = p - fs;
        if (fd == 0)
            return 0;
    }
    if (nd + fd > 19 || (p < e && (*p == 'e' || *p == 'E')))
        return 0;
    if (w > ((uint64_t)1 << 53)) {
        /* 16 to 19 digits, e.g. repr() of a float32 score: Eisel-Lemire */
        if (!eisel_lemire(w, -(int64_t)fd, neg, out))
            return 0;
        *end = p;
        return 1;
    }
    d = (double)w;
    if (fd)
        d = d / g_pow10[fd];   /* fd <= 19 */
    else if (w == 0)
        neg = 0;               /* "-0" is the integer 0 in Python: +0.0 */
    *out = neg ? -d : d;
    *end = p;
    return 1;
#else
    (void)p; (void)e; (void)out; (void)end;
    return 0;
#endif
}

static inline int fast_double(jctx *c, double *out)
{
    const unsigned char *q;
    if (fast_number(c->p, c->end, out, &q)) {
        c->p = q;
        return FA_OK;
    }
    return parse_double(c, out, "a number");
}

static inline int fast_id(jctx *c, int64_t *out)
{
    const unsigned char *p = c->p, *e = c->end, *ds;
    uint64_t w = 0;
    ptrdiff_t nd;
    int neg = 0;
    if (p < e && *p == '-') {
        neg = 1;
        p++;
    }
    ds = p;
    while (p < e && IS_DIGIT(*p)) {
        w = w * 10 + (uint64_t)(*p - '0');
        p++;
    }
    nd = p - ds;
    if (nd == 0 || nd > 18 || (nd > 1 && *ds == '0') ||
        (p < e && (*p == '.' || *p == 'e' || *p == 'E')))
        return parse_id(c, out);
    *out = neg ? -(int64_t)w : (int64_t)w;
    c->p = p;
    return FA_OK;
}

/* A number value (score, bbox coordinate, area). */
static int parse_double(jctx *c, double *out, const char *what)
{
    jnum t;
    int rc = lex_number(c, &t);
    if (rc == FA_EUNSUPPORTED)
        return err_expected(c, what);
    if (rc != FA_OK)
        return rc;
    return num_to_double(c, &t, out);
}

/* An id: an integer within int64, or a float with an integral value within int64. */
static int parse_id(jctx *c, int64_t *out)
{
    jnum t;
    char tok[40];
    char name[32];
    int rc;
    /* the field is named by c->key (set to the canonical name by the callers) */
    size_t kn = c->key ? (c->key_len < sizeof name - 1 ? c->key_len : sizeof name - 1) : 0;
    if (kn)
        memcpy(name, c->key, kn);
    else
        memcpy(name, "id", kn = 2);
    name[kn] = '\0';
    rc = lex_number(c, &t);
    if (rc == FA_EUNSUPPORTED)
        return err_expected(c, "an integer");
    if (rc != FA_OK)
        return rc;
    if (t.kind == NUM_INT) {
        if (!t.truncated && t.w <= (uint64_t)INT64_MAX) {
            *out = t.neg ? -(int64_t)t.w : (int64_t)t.w;
            return FA_OK;
        }
        if (!t.truncated && t.neg && t.w == (uint64_t)INT64_MAX + 1) {
            *out = INT64_MIN;
            return FA_OK;
        }
        format_token(&t, tok, sizeof tok);
        return jerr(c, FA_EPARSE, t.start, "%s is outside the int64 range: %s", name, tok);
    } else {
        double d;
        rc = num_to_double(c, &t, &d);
        if (rc != FA_OK)
            return rc;
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
            format_token(&t, tok, sizeof tok);
            return jerr(c, FA_EPARSE, t.start, "%s must be an integer in the int64 range, got %s",
                        name, tok);
        }
        if (d != floor(d)) {
            format_token(&t, tok, sizeof tok);
            return jerr(c, FA_EPARSE, t.start, "%s must be an integer, got %s", name, tok);
        }
        *out = (int64_t)d;
        return FA_OK;
    }
}

/* ---------------------------------------------------------------------------------- */
/* generic value skipper (iterative; validates what it skips)                          */
/* ---------------------------------------------------------------------------------- */

static int skip_value(jctx *c)
{
    unsigned char stack[FA_JSON_MAX_DEPTH]; /* 1: array, 2: object */
    int depth = 0;
    const unsigned char *s;
    size_t n;
    int esc, rc;
    jnum t;

value:
    if (c->p >= c->end)
        return err_eof(c);
    switch (*c->p) {
    case '{':
        if (depth >= FA_JSON_MAX_DEPTH)
            return jerr(c, FA_EUNSUPPORTED, c->p, "nesting deeper than %d levels", FA_JSON_MAX_DEPTH);
        stack[depth++] = 2;
        c->p++;
        skip_ws(c);
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            depth--;
            goto after;
        }
        goto member;
    case '[':
        if (depth >= FA_JSON_MAX_DEPTH)
            return jerr(c, FA_EUNSUPPORTED, c->p, "nesting deeper than %d levels", FA_JSON_MAX_DEPTH);
        stack[depth++] = 1;
        c->p++;
        skip_ws(c);
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            depth--;
            goto after;
        }
        goto value;
    case '"':
        rc = scan_string(c, &s, &n, &esc);
        if (rc != FA_OK)
            return rc;
        goto after;
    case 't':
        if (!match_lit(c, c->p, "true"))
            return jerr(c, FA_EPARSE, c->p, "invalid literal");
        c->p += 4;
        goto after;
    case 'f':
        if (!match_lit(c, c->p, "false"))
            return jerr(c, FA_EPARSE, c->p, "invalid literal");
        c->p += 5;
        goto after;
    case 'n':
        if (!match_lit(c, c->p, "null"))
            return jerr(c, FA_EPARSE, c->p, "invalid literal");
        c->p += 4;
        goto after;
    default: {
        /* the common number shapes, -?(0|[1-9][0-9]*)(.[0-9]+)?, checked without
         * converting; anything else (exponents, NaN / Infinity, errors) is lexed */
        const unsigned char *p = c->p, *e = c->end;
        if (p < e && *p == '-')
            p++;
        if (p < e && IS_DIGIT(*p)) {
            if (*p++ != '0')
                while (p < e && IS_DIGIT(*p))
                    p++;
            if (p < e && *p == '.') {
                p++;
                if (p < e && IS_DIGIT(*p)) {
                    while (p < e && IS_DIGIT(*p))
                        p++;
                } else {
                    p = NULL;
                }
            }
            if (p && !(p < e && (*p == 'e' || *p == 'E'))) {
                c->p = p;
                goto after;
            }
        }
        rc = lex_number(c, &t);
        if (rc == FA_EUNSUPPORTED)
            return err_expected(c, "a value");
        if (rc != FA_OK)
            return rc;
        goto after;
    }
    }

member: /* c->p at (whitespace-skipped) position where a key is expected */
    if (c->p >= c->end)
        return err_eof(c);
    if (*c->p != '"')
        return err_expected(c, "a string (object key)");
    rc = scan_string(c, &s, &n, &esc);
    if (rc != FA_OK)
        return rc;
    skip_ws(c);
    if (c->p >= c->end || *c->p != ':')
        return err_expected(c, "':'");
    c->p++;
    skip_ws(c);
    goto value;

after:
    if (depth == 0)
        return FA_OK;
    skip_ws(c);
    if (c->p >= c->end)
        return err_eof(c);
    if (*c->p == ',') {
        c->p++;
        skip_ws(c);
        if (stack[depth - 1] == 2)
            goto member;
        goto value;
    }
    if (stack[depth - 1] == 1 && *c->p == ']') {
        c->p++;
        depth--;
        goto after;
    }
    if (stack[depth - 1] == 2 && *c->p == '}') {
        c->p++;
        depth--;
        goto after;
    }
    return err_expected(c, stack[depth - 1] == 1 ? "',' or ']'" : "',' or '}'");
}

/* ---------------------------------------------------------------------------------- */
/* records                                                                            */
/* ---------------------------------------------------------------------------------- */

enum {
    K_OTHER = 0, K_IMAGE_ID, K_CATEGORY_ID, K_BBOX, K_SCORE, K_AREA, K_ID,
    K_SEGMENTATION, K_KEYPOINTS, K_ISCROWD, K_NUM_KEYPOINTS
};

static int key_kind(const unsigned char *s, size_t n)
{
    switch (n) {
    case 2: return memcmp(s, "id", 2) == 0 ? K_ID : K_OTHER;
    case 4:
        if (memcmp(s, "bbox", 4) == 0) return K_BBOX;
        if (memcmp(s, "area", 4) == 0) return K_AREA;
        return K_OTHER;
    case 5: return memcmp(s, "score", 5) == 0 ? K_SCORE : K_OTHER;
    case 7: return memcmp(s, "iscrowd", 7) == 0 ? K_ISCROWD : K_OTHER;
    case 8: return memcmp(s, "image_id", 8) == 0 ? K_IMAGE_ID : K_OTHER;
    case 9: return memcmp(s, "keypoints", 9) == 0 ? K_KEYPOINTS : K_OTHER;
    case 11: return memcmp(s, "category_id", 11) == 0 ? K_CATEGORY_ID : K_OTHER;
    case 12: return memcmp(s, "segmentation", 12) == 0 ? K_SEGMENTATION : K_OTHER;
    case 13: return memcmp(s, "num_keypoints", 13) == 0 ? K_NUM_KEYPOINTS : K_OTHER;
    default: return K_OTHER;
    }
}

/* Kind of a key written with escapes (already validated by scan_string): decode into a
 * small buffer; anything non-ASCII or longer than the known keys is K_OTHER. */
static int key_kind_escaped(const unsigned char *s, size_t n)
{
    unsigned char buf[16];
    size_t i = 0, k = 0;
    while (i < n) {
        unsigned char ch = s[i];
        if (k >= sizeof buf)
            return K_OTHER;
        if (ch != '\\') {
            buf[k++] = ch;
            i++;
            continue;
        }
        switch (s[i + 1]) {
        case 'u': {
            int v = (hexval(s[i + 2]) << 12) | (hexval(s[i + 3]) << 8) |
                    (hexval(s[i + 4]) << 4) | hexval(s[i + 5]);
            if (v >= 0x80)
                return K_OTHER;
            buf[k++] = (unsigned char)v;
            i += 6;
            break;
        }
        case 'b': buf[k++] = '\b'; i += 2; break;
        case 'f': buf[k++] = '\f'; i += 2; break;
        case 'n': buf[k++] = '\n'; i += 2; break;
        case 'r': buf[k++] = '\r'; i += 2; break;
        case 't': buf[k++] = '\t'; i += 2; break;
        default: buf[k++] = s[i + 1]; i += 2; break;   /* " \ / */
        }
    }
    return key_kind(buf, k);
}

/* c->p at the opening quote of a key: when the key is one of the common ones written
 * plainly, consume it (with its closing quote) and return its kind; else -1 and
 * nothing consumed (the general string scanner then runs). */
static inline int quick_key(jctx *c, const unsigned char **ks, size_t *kn)
{
    const unsigned char *p = c->p + 1;
    size_t avail = (size_t)(c->end - p);
    int kind;
    size_t n;
    if (avail < 13)
        return -1;
    switch (*p) {
    case 'i':
        if (memcmp(p, "image_id\"", 9) == 0) { kind = K_IMAGE_ID; n = 8; }
        else if (memcmp(p, "id\"", 3) == 0) { kind = K_ID; n = 2; }
        else if (memcmp(p, "iscrowd\"", 8) == 0) { kind = K_ISCROWD; n = 7; }
        else return -1;
        break;
    case 'c':
        if (memcmp(p, "category_id\"", 12) == 0) { kind = K_CATEGORY_ID; n = 11; }
        else return -1;
        break;
    case 'b':
        if (memcmp(p, "bbox\"", 5) == 0) { kind = K_BBOX; n = 4; }
        else return -1;
        break;
    case 's':
        if (memcmp(p, "score\"", 6) == 0) { kind = K_SCORE; n = 5; }
        else if (memcmp(p, "segmentation\"", 13) == 0) { kind = K_SEGMENTATION; n = 12; }
        else return -1;
        break;
    case 'a':
        if (memcmp(p, "area\"", 5) == 0) { kind = K_AREA; n = 4; }
        else return -1;
        break;
    default:
        return -1;
    }
    *ks = p;
    *kn = n;
    c->p = p + n + 1;
    return kind;
}

typedef struct {
    int64_t *image_id;
    int64_t *category_id;
    double *bbox;
    double *score;
    double *area;
    int64_t *n_area;            /* records that had an area */
    const fa_json_geometry *geom;   /* NULL: segmentation / keypoints unsupported */
} jout;

static int parse_number_array(jctx *c, double *out, int64_t cap, int64_t *n, const char *what);
static int parse_keypoint_xy(jctx *c, double *out, int64_t cap, int64_t *n, int *finite);

/* Keypoints of record i straight into the geometry's value rows (kpt_stride numbers;
 * kpt_count[i] = stride + 1 when there are more, which the caller reports). */
void fa_keypoint_box(const double *v, int64_t n, int64_t step, double *bb)
{
    double x0 = v[0], x1 = v[0], y0 = v[1], y1 = v[1];
    for (int64_t j = step; j < n - 1; j += step) {
        const double x = v[j], y = v[j + 1];
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
    }
    bb[0] = x0;
    bb[1] = y0;
    bb[2] = x1 - x0;
    bb[3] = y1 - y0;
}

/* Numbers per row of the geometry's keypoint values (kpt_xy: the x and y of each triple). */
static inline int64_t kpt_width(const fa_json_geometry *g)
{
    return g->kpt_xy ? g->kpt_stride / 3 * 2 : g->kpt_stride;
}

static int take_keypoints(jctx *c, const fa_json_geometry *g, int64_t i)
{
    int64_t n = 0;
    const unsigned char *start = c->p;
    const int xy = g->kpt_xy != 0;
    const int64_t width = kpt_width(g);
    double *v = g->kpt_values + i * width;
    int finite = 1;
    int rc = xy ? parse_keypoint_xy(c, v, g->kpt_stride, &n, &finite)
                : parse_number_array(c, v, g->kpt_stride, &n, "keypoints");
    if (rc == FA_EINVAL) {            /* more numbers than the stride: skip the rest */
        c->p = start;
        rc = skip_value(c);
        n = g->kpt_stride + 1;
    }
    if (rc != FA_OK)
        return rc;
    g->kpt_count[i] = n;
    if (g->kpt_box) {
        /* pycocotools' loadRes box of keypoint results when all the record's numbers
         * are finite; NaN otherwise */
        double *bb = g->kpt_box + 4 * i;
        finite = finite && n == g->kpt_stride && n >= 3;
        for (int64_t j = 0; finite && !xy && j < n; j++)
            finite = v[j] - v[j] == 0.0;         /* false for NaN and infinities */
        if (!finite) {
            bb[0] = bb[1] = bb[2] = bb[3] = NAN;
        } else {
            fa_keypoint_box(v, width, xy ? 2 : 3, bb);
        }
    }
    if (g->kpt_span) {
        g->kpt_span[2 * i] = (int64_t)(start - c->buf);
        g->kpt_span[2 * i + 1] = (int64_t)(c->p - c->buf);
    }
    return FA_OK;
}

/* Record the byte span of the value at c->p (skipping it) into span[2]. */
static int take_segmentation(jctx *c, int64_t *span, int32_t *row);

static int take_span(jctx *c, int64_t *span)
{
    const unsigned char *start = c->p;
    int rc = skip_value(c);
    if (rc != FA_OK)
        return rc;
    span[0] = (int64_t)(start - c->buf);
    span[1] = (int64_t)(c->p - c->buf);
    return FA_OK;
}

static int parse_bbox(jctx *c, double *bb)
{
    const unsigned char *start = c->p;
    int count = 0, rc;
    char tmp[16];
    if (c->p >= c->end)
        return err_eof(c);
    if (*c->p != '[')
        return jerr(c, FA_EPARSE, c->p, "bbox must be an array of 4 numbers, got %s",
                    describe(c, c->p, tmp, sizeof tmp));
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return jerr(c, FA_EPARSE, start, "bbox must have 4 numbers, got 0");
    }
    for (;;) {
        if (count < 4)
            rc = fast_double(c, &bb[count]);
        else
            rc = skip_value(c);
        if (rc != FA_OK)
            return rc;
        count++;
        skip_ws(c);
        if (c->p >= c->end)
            return err_eof(c);
        if (*c->p == ',') {
            c->p++;
            skip_ws(c);
            continue;
        }
        if (*c->p == ']') {
            c->p++;
            break;
        }
        return err_expected(c, "',' or ']' in bbox");
    }
    if (count != 4)
        return jerr(c, FA_EPARSE, start, "bbox must have 4 numbers, got %d", count);
    return FA_OK;
}

static const char *const g_required[4] = {"image_id", "category_id", "bbox", "score"};

/* c->p at '{' of record i. */
/* Read a record's field name and the ':' after it; *kind is its K_* code. Leaves
 * c->key / c->key_len naming the field for error messages and c->p at the value. */
static int read_field_name(jctx *c, int *kind)
{
    const unsigned char *ks;
    size_t kn;
    int esc, rc;
    if (c->p >= c->end)
        return err_eof(c);
    if (*c->p != '"')
        return err_expected(c, "a field name (string)");
    *kind = quick_key(c, &ks, &kn);
    if (*kind < 0) {
        rc = scan_string(c, &ks, &kn, &esc);
        if (rc != FA_OK)
            return rc;
        *kind = esc ? key_kind_escaped(ks, kn) : key_kind(ks, kn);
    }
    c->key = ks;
    c->key_len = kn;
    skip_ws(c);
    if (c->p >= c->end)
        return err_eof(c);
    if (*c->p != ':')
        return err_expected(c, "':' after the field name");
    c->p++;
    skip_ws(c);
    return FA_OK;
}

/* After a field's value: ',' (another field follows) or '}' (*closed = 1). */
static int next_field(jctx *c, int *closed)
{
    c->key = NULL;
    c->key_len = 0;
    skip_ws(c);
    if (c->p >= c->end)
        return err_eof(c);
    if (*c->p == ',') {
        c->p++;
        skip_ws(c);
        *closed = 0;
        return FA_OK;
    }
    if (*c->p == '}') {
        c->p++;
        *closed = 1;
        return FA_OK;
    }
    return err_expected(c, "',' or '}' in record");
}

/* FA_EPARSE naming the first of the n required fields whose bit is not in `seen`. */
static int check_required(jctx *c, unsigned seen, const char *const *names, int n,
                          const unsigned char *rec_start)
{
    for (int k = 0; k < n; k++) {
        if (!(seen & (1u << k))) {
            c->key = (const unsigned char *)names[k];
            c->key_len = strlen(names[k]);
            return jerr(c, FA_EPARSE, rec_start, "missing field '%s'", names[k]);
        }
    }
    return FA_OK;
}

static int parse_record(jctx *c, int64_t i, const jout *o, int64_t *n_area)
{
    const unsigned char *rec_start = c->p;
    unsigned seen = 0;
    int rc, closed = 0;
    double *bb = o->bbox + 4 * i;
    c->p++;
    o->area[i] = NAN;
    if (o->geom) {
        /* masks / keypoints may stand in for the box: bbox becomes optional (NaN) */
        bb[0] = bb[1] = bb[2] = bb[3] = NAN;
        seen |= 4u;
        if (o->geom->seg_span) o->geom->seg_span[2 * i] = o->geom->seg_span[2 * i + 1] = -1;
        if (o->geom->seg_rle)
            for (int q = 0; q < 5; q++) o->geom->seg_rle[5 * i + q] = -1;
        if (o->geom->kpt_span) o->geom->kpt_span[2 * i] = o->geom->kpt_span[2 * i + 1] = -1;
        if (o->geom->kpt_count) o->geom->kpt_count[i] = -1;
        if (o->geom->kpt_box)
            o->geom->kpt_box[4 * i] = o->geom->kpt_box[4 * i + 1] = o->geom->kpt_box[4 * i + 2] =
                o->geom->kpt_box[4 * i + 3] = NAN;
    }
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        goto done;
    }
    for (;;) {
        int kind;
        rc = read_field_name(c, &kind);
        if (rc != FA_OK)
            return rc;
        switch (kind) {
        case K_IMAGE_ID:
            c->key_len = 8;  /* parse_id names the field by key_len (escaped keys) */
            c->key = (const unsigned char *)"image_id";
            rc = fast_id(c, &o->image_id[i]);
            seen |= 1u;
            break;
        case K_CATEGORY_ID:
            c->key_len = 11;
            c->key = (const unsigned char *)"category_id";
            rc = fast_id(c, &o->category_id[i]);
            seen |= 2u;
            break;
        case K_BBOX:
            rc = parse_bbox(c, bb);
            seen |= 4u;
            break;
        case K_SCORE:
            rc = fast_double(c, &o->score[i]);
            seen |= 8u;
            break;
        case K_AREA:
            if (c->p < c->end && *c->p == 'n' && match_lit(c, c->p, "null")) {
                c->p += 4;          /* "area": null counts as absent */
                o->area[i] = NAN;
                seen &= ~16u;
                rc = FA_OK;
            } else {
                rc = fast_double(c, &o->area[i]);
                seen |= 16u;
            }
            break;
        case K_SEGMENTATION:
        case K_KEYPOINTS:
            if (o->geom) {
                int64_t *sp = kind == K_SEGMENTATION ? o->geom->seg_span : o->geom->kpt_span;
                if (kind == K_KEYPOINTS && o->geom->kpt_values && c->p < c->end && *c->p == '[')
                    rc = take_keypoints(c, o->geom, i);
                else if (kind == K_SEGMENTATION && sp && o->geom->seg_rle)
                    rc = take_segmentation(c, sp + 2 * i, o->geom->seg_rle + 5 * i);
                else
                    rc = sp ? take_span(c, sp + 2 * i) : skip_value(c);
                break;
            }
            return jerr(c, FA_EUNSUPPORTED, c->key - 1,
                        "records with '%s' are not supported by the fast parser",
                        kind == K_SEGMENTATION ? "segmentation" : "keypoints");
        default:
            rc = skip_value(c);
            break;
        }
        if (rc != FA_OK)
            return rc;
        rc = next_field(c, &closed);
        if (rc != FA_OK)
            return rc;
        if (closed)
            break;
    }
done:
    rc = check_required(c, seen, g_required, 4, rec_start);
    if (rc != FA_OK)
        return rc;
    if (seen & 16u)
        (*n_area)++;
    return FA_OK;
}

/* ---------------------------------------------------------------------------------- */
/* entry points                                                                       */
/* ---------------------------------------------------------------------------------- */

int64_t fa_json_results_count_bound(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t i = 0, braces = 0, cap;
    while (i < len) {
        size_t m = len - i < 255 ? len - i : 255, j;
        unsigned char cnt = 0;
        for (j = 0; j < m; j++)
            cnt += (unsigned char)(p[i + j] == '{');
        braces += cnt;
        i += m;
    }
    cap = len / FA_JSON_MIN_RECORD + 1;
    return (int64_t)(braces < cap ? braces : cap);
}

/* Set up a scan of [buf, buf + len): clear *err; at begin == 0 skip a UTF-8 BOM (reject
 * UTF-16/32) and leading whitespace, else start at byte `begin` (offsets in errors stay
 * relative to buf). */
static int jctx_begin(jctx *c, const char *buf, size_t len, size_t begin, fa_json_error *err)
{
    static const unsigned char empty[1] = {0};
    if (err) {
        err->record = -1;
        err->offset = 0;
        err->field[0] = '\0';
        err->message[0] = '\0';
    }
    c->buf = buf ? (const unsigned char *)buf : empty;
    if (!buf)
        len = 0;
    c->p = c->buf;
    c->end = c->buf + len;
    c->record = -1;
    c->key = NULL;
    c->key_len = 0;
    c->err = err;
    c->dp_len = 0;
    if (begin > 0) {
        c->p = c->buf + (begin < len ? begin : len);
        return FA_OK;
    }
    if (len >= 3 && c->p[0] == 0xEF && c->p[1] == 0xBB && c->p[2] == 0xBF) {
        c->p += 3;
    } else if (len >= 2 && (c->p[0] == 0 || c->p[1] == 0 || (c->p[0] == 0xFE && c->p[1] == 0xFF) ||
                            (c->p[0] == 0xFF && c->p[1] == 0xFE))) {
        return jerr(c, FA_EUNSUPPORTED, c->p, "input is not UTF-8 (UTF-16/32?)");
    }
    skip_ws(c);
    return FA_OK;
}

/* Which records of the array a walk takes (see fa_json_results_parse_part). */
typedef struct {
    size_t begin;       /* 0: the whole document ('[' first); else a record's '{' inside it */
    size_t stop;        /* stop before a record whose '{' is at or after this offset */
    int64_t first;      /* index (output row) of the first record */
    int64_t capacity;   /* rows there are: records [first, capacity) fit */
} jrange;

/* Walk a JSON array of records, calling parse(c, i, ctx) on each '{' (i from r->first);
 * checks the commas, the closing ']' and that nothing but whitespace follows it.
 * *n_records (may be NULL): the records parsed, also on error. *end_pos (may be NULL):
 * the buffer length once the array is closed; the offset of the '{' it stopped at (by
 * r->stop, or FA_EINVAL: no room for that record). */
static int walk_records(jctx *c, const jrange *r, const char *not_array,
                        int (*parse)(jctx *, int64_t, void *), void *ctx, int64_t *n_records,
                        size_t *end_pos)
{
    int64_t n = 0, i;
    int rc;
    if (n_records) *n_records = 0;
    if (r->begin == 0) {
        if (c->p >= c->end)
            return err_eof(c);
        if (*c->p != '[') {
            char tmp[16];
            return jerr(c, FA_EPARSE, c->p, "%s, got %s", not_array, describe(c, c->p, tmp, sizeof tmp));
        }
        c->p++;
        skip_ws(c);
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            goto closed;
        }
    }
    for (;;) {
        i = r->first + n;
        c->record = i;
        if (c->p >= c->end)
            return err_eof(c);
        if (*c->p != '{')
            return err_expected(c, "an object (record)");
        if (i >= r->capacity) {
            if (end_pos) *end_pos = (size_t)(c->p - c->buf);
            return jerr(c, FA_EINVAL, c->p, "more records than the capacity %lld",
                        (long long)r->capacity);
        }
        rc = parse(c, i, ctx);
        if (rc != FA_OK)
            return rc;
        n++;
        if (n_records) *n_records = n;
        skip_ws(c);
        if (c->p >= c->end)
            return err_eof(c);
        if (*c->p == ',') {
            c->p++;
            skip_ws(c);
            if (c->p < c->end && *c->p == '{' && (size_t)(c->p - c->buf) >= r->stop) {
                c->record = -1;
                if (end_pos) *end_pos = (size_t)(c->p - c->buf);
                return FA_OK;
            }
            continue;
        }
        if (*c->p == ']') {
            c->p++;
            break;
        }
        return err_expected(c, "',' or ']' after the record");
    }
closed:
    c->record = -1;
    skip_ws(c);
    if (c->p != c->end) {
        char tmp[16];
        return jerr(c, FA_EPARSE, c->p, "unexpected data after the closing ']': %s",
                    describe(c, c->p, tmp, sizeof tmp));
    }
    if (end_pos) *end_pos = (size_t)(c->end - c->buf);
    return FA_OK;
}

static int parse_result_cb(jctx *c, int64_t i, void *ctx)
{
    const jout *o = (const jout *)ctx;
    return parse_record(c, i, o, o->n_area);
}

int fa_json_results_parse_part(const char *buf, size_t len, size_t begin, size_t stop,
                               int64_t first_row, int64_t capacity, int64_t *image_id,
                               int64_t *category_id, double *bbox, double *score, double *area,
                               const fa_json_geometry *geom, int64_t *n_records, int64_t *n_area,
                               size_t *end_pos, fa_json_error *err)
{
    jctx c;
    jout o;
    jrange r;
    int64_t na = 0;
    int rc;

    if (n_records) *n_records = 0;
    if (n_area) *n_area = 0;
    if (end_pos) *end_pos = begin;
    rc = jctx_begin(&c, buf, len, begin, err);
    if (rc != FA_OK)
        return rc;
    o.image_id = image_id;
    o.category_id = category_id;
    o.bbox = bbox;
    o.score = score;
    o.area = area;
    o.n_area = &na;
    o.geom = geom;
    r.begin = begin;
    r.stop = stop;
    r.first = first_row;
    r.capacity = capacity;
    rc = walk_records(&c, &r, "not a JSON array (results must be a list of objects)",
                      parse_result_cb, &o, n_records, end_pos);
    if (n_area) *n_area = na;
    return rc;
}

int fa_json_results_parse(const char *buf, size_t len, int64_t capacity, int64_t *image_id,
                          int64_t *category_id, double *bbox, double *score, double *area,
                          const fa_json_geometry *geom, int64_t *n_records, int64_t *n_area,
                          fa_json_error *err)
{
    return fa_json_results_parse_part(buf, len, 0, SIZE_MAX, 0, capacity, image_id, category_id,
                                      bbox, score, area, geom, n_records, n_area, NULL, err);
}

/* --- one results file on many threads: parts split at guessed record starts --------- */

/* The '{' of the first `}` ws* `,` ws* `{` ws* `"` whose '}' lies in [from, to); len if
 * there is none. */
static size_t guess_record(const unsigned char *b, size_t len, size_t from, size_t to)
{
    while (from < to) {
        const unsigned char *q = memchr(b + from, '}', to - from);
        size_t i, brace;
        if (!q)
            break;
        i = (size_t)(q - b) + 1;
        from = i;
        while (i < len && IS_WS(b[i]))
            i++;
        if (i >= len || b[i] != ',')
            continue;
        i++;
        while (i < len && IS_WS(b[i]))
            i++;
        if (i >= len || b[i] != '{')
            continue;
        brace = i++;
        while (i < len && IS_WS(b[i]))
            i++;
        if (i < len && b[i] == '"')
            return brace;
    }
    return len;
}

int64_t fa_json_results_split(const char *buf, size_t len, int64_t n_parts, size_t *begin)
{
    const unsigned char *b = (const unsigned char *)buf;
    size_t q, r;
    int64_t m = 1, k;
    if (n_parts < 1)
        return 0;
    begin[0] = 0;
    if (!buf)
        return 1;
    q = len / (size_t)n_parts;
    r = len % (size_t)n_parts;
    for (k = 1; k < n_parts; k++) {
        /* nominal part k: [k * len / n_parts, (k + 1) * len / n_parts), without overflow */
        size_t from = q * (size_t)k + r * (size_t)k / (size_t)n_parts;
        size_t to = q * (size_t)(k + 1) + r * (size_t)(k + 1) / (size_t)n_parts;
        size_t at;
        if (from <= begin[m - 1])
            from = begin[m - 1] + 1;
        at = guess_record(b, len, from, to);
        if (at < len)
            begin[m++] = at;
    }
    return m;
}

/* Move rows [from, from + n) of every output column to [to, to + n) (to <= from). */
static void move_rows(const jout *o, int64_t from, int64_t to, int64_t n)
{
    const fa_json_geometry *g = o->geom;
    if (from == to || n <= 0)
        return;
#define FA_MOVE_ROWS(col, width)                                                           \
    memmove((col) + (size_t)(width) * (size_t)to, (col) + (size_t)(width) * (size_t)from,  \
            sizeof(*(col)) * (size_t)(width) * (size_t)n)
    FA_MOVE_ROWS(o->image_id, 1);
    FA_MOVE_ROWS(o->category_id, 1);
    FA_MOVE_ROWS(o->bbox, 4);
    FA_MOVE_ROWS(o->score, 1);
    FA_MOVE_ROWS(o->area, 1);
    if (g) {
        if (g->seg_span) FA_MOVE_ROWS(g->seg_span, 2);
        if (g->seg_rle) FA_MOVE_ROWS(g->seg_rle, 5);
        if (g->kpt_span) FA_MOVE_ROWS(g->kpt_span, 2);
        if (g->num_keypoints) FA_MOVE_ROWS(g->num_keypoints, 1);
        if (g->kpt_values && g->kpt_stride > 0)
            FA_MOVE_ROWS(g->kpt_values, kpt_width(g));
        if (g->kpt_box) FA_MOVE_ROWS(g->kpt_box, 4);
        if (g->kpt_count) FA_MOVE_ROWS(g->kpt_count, 1);
    }
#undef FA_MOVE_ROWS
}

int fa_json_results_join_parts(const char *buf, size_t len, const fa_json_part *parts,
                               int64_t n_parts, int64_t capacity, int64_t *image_id,
                               int64_t *category_id, double *bbox, double *score, double *area,
                               const fa_json_geometry *geom, int64_t *piece_row,
                               int64_t *piece_len, int64_t *n_pieces, int64_t *n_records,
                               int64_t *n_area, fa_json_error *err)
{
    jout o;
    fa_json_part redo;
    int64_t n = 0, na = 0, k = 0, np = 0, before, i;
    size_t pos = 0;    /* the records before pos are the pieces so far, n of them */
    int rc;

    o.image_id = image_id;
    o.category_id = category_id;
    o.bbox = bbox;
    o.score = score;
    o.area = area;
    o.n_area = NULL;
    o.geom = geom;
    if (n_parts < 1)
        goto serial;
    for (;;) {
        const fa_json_part *pt;
        /* parts that begin before pos were wrong guesses: a scan went past them */
        while (k + 1 < n_parts && parts[k + 1].begin <= pos)
            k++;
        if (parts[k].begin == pos) {
            pt = &parts[k];       /* a real part: it starts where a record does */
        } else {
            /* pos lies inside part k (a wrong guess): scan its records from pos up to the
             * next part again, into its rows (its room holds every record that begins in
             * its bytes) */
            redo.begin = pos;
            redo.first_row = parts[k].first_row;
            redo.capacity = parts[k].capacity;
            redo.rc = fa_json_results_parse_part(
                buf, len, pos, k + 1 < n_parts ? parts[k + 1].begin : len, redo.first_row,
                redo.capacity, image_id, category_id, bbox, score, area, geom,
                &redo.n_records, &redo.n_area, &redo.end_pos, &redo.err);
            pt = &redo;
        }
        before = n;
        if (pt->n_records > 0) {
            if (np > 0 && piece_row[np - 1] + piece_len[np - 1] == pt->first_row) {
                piece_len[np - 1] += pt->n_records;
            } else {
                piece_row[np] = pt->first_row;
                piece_len[np] = pt->n_records;
                np++;
            }
        }
        n += pt->n_records;
        na += pt->n_area;
        if (pt->rc == FA_EINVAL) {
            pos = pt->end_pos;    /* out of rows (not with the rooms said): go on serially */
            goto serial;
        }
        if (pt->rc != FA_OK) {
            /* the serial scan fails here too, the same way (same state at the same byte) */
            if (err) {
                *err = pt->err;
                if (err->record >= 0)
                    err->record = err->record - pt->first_row + before;
            }
            rc = pt->rc;
            goto out;
        }
        pos = pt->end_pos;
        if (pos == len) {     /* the array is closed (any later parts were wrong guesses) */
            if (err) {
                err->record = -1;
                err->offset = 0;
                err->field[0] = '\0';
                err->message[0] = '\0';
            }
            rc = FA_OK;
            goto out;
        }
    }
serial: {
        /* close up the pieces into rows [0, n) (memmove, in order), then scan the rest
         * into the rows after them */
        int64_t row = 0, m = 0, ma = 0;
        for (i = 0; i < np; i++) {
            move_rows(&o, piece_row[i], row, piece_len[i]);
            row += piece_len[i];
        }
        rc = fa_json_results_parse_part(buf, len, pos, SIZE_MAX, n, capacity, image_id,
                                        category_id, bbox, score, area, geom, &m, &ma, NULL, err);
        n += m;
        na += ma;
        np = n > 0;
        piece_row[0] = 0;
        piece_len[0] = n;
    }
out:
    if (n_pieces) *n_pieces = np;
    if (n_records) *n_records = n;
    if (n_area) *n_area = na;
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* ground-truth files: top-level members, annotation lists                            */
/* ---------------------------------------------------------------------------------- */

static int object_members(const char *buf, size_t len, fa_json_member *out, int64_t cap,
                          int64_t *n, fa_json_error *err, int validate);

int fa_json_object_members(const char *buf, size_t len, fa_json_member *out, int64_t cap,
                           int64_t *n, fa_json_error *err)
{
    return object_members(buf, len, out, cap, n, err, 1);
}

/* ---------------------------------------------------------------------------------- */
/* member spans without validation                                                    */
/* ---------------------------------------------------------------------------------- */

/* The end of the string whose opening quote is at p (one past its closing quote), or
 * NULL when it does not end. Only quotes and backslashes are looked at. */
static const unsigned char *string_end_fast(const unsigned char *p, const unsigned char *e)
{
    p++;
    for (;;) {
        p = find_quote_or_backslash(p, e);
        if (!p)
            return NULL;
        if (*p == '"')
            return p + 1;
        p += 2;                                  /* a backslash and the byte it escapes */
        if (p > e)
            return NULL;
    }
}

/* One past the end of the value at p, by its brackets and strings only; NULL when the
 * text is not shaped like a value. Arrays and objects are read 64 bytes at a time
 * where a block holds no backslash: the bytes inside strings are those after an odd
 * number of quotes (a prefix XOR of the quote bits), and the brackets outside them
 * move the depth. Blocks with a backslash are read byte by byte. */
static const unsigned char *value_end_fast(const unsigned char *p, const unsigned char *e)
{
    int64_t depth = 0;
    int in_str = 0, esc = 0;
    if (p >= e)
        return NULL;
    if (*p == '"')
        return string_end_fast(p, e);
    if (*p != '[' && *p != '{') {                /* number or literal */
        while (p < e && *p != ',' && *p != '}' && *p != ']' && !IS_WS(*p))
            p++;
        return p;
    }
    for (;;) {
#if defined(FA_JSON_SSE2)
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
        const __m128i open = _mm_set1_epi8('{'), close = _mm_set1_epi8('}');
        const __m128i set20 = _mm_set1_epi8(0x20);
        while (!esc && e - p >= 64) {
            uint64_t q = 0, bs = 0, op = 0, cl = 0;
            for (int k = 0; k < 4; k++) {
                const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
                const __m128i b = _mm_or_si128(v, set20);    /* '[' -> '{', ']' -> '}' */
                q |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)) << (16 * k);
                bs |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, bslash)) << (16 * k);
                op |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, open)) << (16 * k);
                cl |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, close)) << (16 * k);
            }
            if (bs)
                break;                            /* this block byte by byte */
            {
                const uint64_t inside = prefix_xor64(q) ^ (in_str ? ~(uint64_t)0 : 0);
                uint64_t st = (op | cl) & ~inside & ~q;
                in_str = (int)(inside >> 63);
                while (st) {
                    const int i = ctz64_nz(st);
                    if ((op >> i) & 1u) {
                        depth++;
                    } else if (--depth == 0) {
                        return p + i + 1;
                    }
                    st &= st - 1;
                }
            }
            p += 64;
        }
#endif
        {
            /* byte by byte: up to 64 bytes, then past any escape that is pending */
            const unsigned char *stop = e - p > 64 ? p + 64 : e;
            if (p >= e)
                return NULL;
            for (; p < stop || (esc && p < e); p++) {
                const unsigned char ch = *p;
                if (in_str) {
                    if (esc)
                        esc = 0;
                    else if (ch == '\\')
                        esc = 1;
                    else if (ch == '"')
                        in_str = 0;
                } else if (ch == '"') {
                    in_str = 1;
                } else if (ch == '[' || ch == '{') {
                    depth++;
                } else if (ch == ']' || ch == '}') {
                    if (--depth == 0)
                        return p + 1;
                }
            }
        }
    }
}

/* The members of a top-level object (fa_json_object_members); validate = 0: values
 * are skipped by their brackets and strings only (fa_json_member_spans). */
static int object_members(const char *buf, size_t len, fa_json_member *out, int64_t cap,
                          int64_t *n, fa_json_error *err, int validate)
{
    jctx c;
    int64_t k = 0;
    int rc;

    if (n) *n = 0;
    rc = jctx_begin(&c, buf, len, 0, err);
    if (rc != FA_OK)
        return rc;
    if (c.p >= c.end)
        return err_eof(&c);
    if (*c.p != '{') {
        char tmp[16];
        return jerr(&c, FA_EPARSE, c.p, "expected a JSON object at the top level, got %s",
                    describe(&c, c.p, tmp, sizeof tmp));
    }
    c.p++;
    skip_ws(&c);
    if (c.p < c.end && *c.p == '}') {
        c.p++;
    } else {
        for (;;) {
            const unsigned char *ks, *vs;
            size_t kn;
            int esc;
            if (c.p >= c.end)
                return err_eof(&c);
            if (*c.p != '"')
                return err_expected(&c, "a string (object key)");
            rc = scan_string(&c, &ks, &kn, &esc);
            if (rc != FA_OK)
                return rc;
            c.key = ks;             /* errors inside the value name this member */
            c.key_len = kn;
            skip_ws(&c);
            if (c.p >= c.end)
                return err_eof(&c);
            if (*c.p != ':')
                return err_expected(&c, "':' after the key");
            c.p++;
            skip_ws(&c);
            vs = c.p;
            if (validate) {
                rc = skip_value(&c);
                if (rc != FA_OK)
                    return rc;
            } else {
                c.p = value_end_fast(c.p, c.end);     /* brackets and strings only */
                if (!c.p || c.p == vs)
                    return FA_EPARSE;
            }
            if (k < cap && out) {
                out[k].key_start = (int64_t)(ks - c.buf);
                out[k].key_end = (int64_t)(ks + kn - c.buf);
                out[k].value_start = (int64_t)(vs - c.buf);
                out[k].value_end = (int64_t)(c.p - c.buf);
                out[k].key_escaped = esc;
            }
            k++;
            if (n) *n = k;
            c.key = NULL;
            c.key_len = 0;
            skip_ws(&c);
            if (c.p >= c.end)
                return err_eof(&c);
            if (*c.p == ',') {
                c.p++;
                skip_ws(&c);
                continue;
            }
            if (*c.p == '}') {
                c.p++;
                break;
            }
            return err_expected(&c, "',' or '}' after the member");
        }
    }
    skip_ws(&c);
    if (validate && c.p != c.end) {
        char tmp[16];
        return jerr(&c, FA_EPARSE, c.p, "unexpected data after the closing '}': %s",
                    describe(&c, c.p, tmp, sizeof tmp));
    }
    if (n) *n = k;
    if (k > cap)
        return jerr(&c, FA_EINVAL, c.end, "%lld members, more than the capacity %lld",
                    (long long)k, (long long)cap);
    return FA_OK;
}

int fa_json_member_spans(const char *buf, size_t len, fa_json_member *out, int64_t cap,
                         int64_t *n)
{
    const int rc = object_members(buf, len, out, cap, n, NULL, 0);
    return rc == FA_OK || rc == FA_EINVAL ? rc : FA_EPARSE;
}

typedef struct {
    int64_t *id;
    int64_t *image_id;
    int64_t *category_id;
    double *bbox;
    double *area;
    uint8_t *iscrowd;
    const fa_json_geometry *geom;   /* NULL: geometry skipped */
} jann;

static const char *const g_ann_required[5] = {"id", "image_id", "category_id", "bbox", "area"};

/* iscrowd: 0 / 1 (any number token with that value, e.g. 1.0, as the column checks of
 * the engine accept) or true / false. */
static int parse_iscrowd(jctx *c, uint8_t *out)
{
    const unsigned char *start = c->p;
    double d;
    int rc;
    if (c->p < c->end) {
        /* the common tokens */
        if (*c->p == '0' || *c->p == '1') {
            const unsigned char *q = c->p + 1;
            if (q >= c->end || !(IS_DIGIT(*q) || *q == '.' || *q == 'e' || *q == 'E')) {
                *out = (uint8_t)(*c->p - '0');
                c->p = q;
                return FA_OK;
            }
        } else if (*c->p == 't' && match_lit(c, c->p, "true")) {
            *out = 1;
            c->p += 4;
            return FA_OK;
        } else if (*c->p == 'f' && match_lit(c, c->p, "false")) {
            *out = 0;
            c->p += 5;
            return FA_OK;
        }
    }
    rc = parse_double(c, &d, "0, 1, true or false");
    if (rc != FA_OK)
        return rc;
    if (d == 0.0 || d == 1.0) {
        *out = (uint8_t)d;
        return FA_OK;
    }
    {
        char tok[40];
        jnum t;
        t.start = start;
        t.stop = c->p;
        format_token(&t, tok, sizeof tok);
        return jerr(c, FA_EPARSE, start, "iscrowd must be 0 or 1 (or a boolean), got %s", tok);
    }
}

/* c->p at '{' of annotation i. */
static int parse_annotation(jctx *c, int64_t i, const jann *o)
{
    const unsigned char *rec_start = c->p;
    unsigned seen = 0;
    int rc, closed = 0;
    c->p++;
    o->iscrowd[i] = 0;
    if (o->geom) {
        if (o->geom->seg_span) o->geom->seg_span[2 * i] = o->geom->seg_span[2 * i + 1] = -1;
        if (o->geom->kpt_span) o->geom->kpt_span[2 * i] = o->geom->kpt_span[2 * i + 1] = -1;
        if (o->geom->num_keypoints) o->geom->num_keypoints[i] = NAN;
        if (o->geom->kpt_count) o->geom->kpt_count[i] = -1;
    }
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        goto done;
    }
    for (;;) {
        int kind;
        rc = read_field_name(c, &kind);
        if (rc != FA_OK)
            return rc;
        switch (kind) {
        case K_ID:
            c->key = (const unsigned char *)"id";    /* canonical name (escaped keys) */
            c->key_len = 2;
            rc = fast_id(c, &o->id[i]);
            seen |= 1u;
            break;
        case K_IMAGE_ID:
            c->key = (const unsigned char *)"image_id";
            c->key_len = 8;
            rc = fast_id(c, &o->image_id[i]);
            seen |= 2u;
            break;
        case K_CATEGORY_ID:
            c->key = (const unsigned char *)"category_id";
            c->key_len = 11;
            rc = fast_id(c, &o->category_id[i]);
            seen |= 4u;
            break;
        case K_BBOX:
            c->key = (const unsigned char *)"bbox";
            c->key_len = 4;
            rc = parse_bbox(c, o->bbox + 4 * i);
            seen |= 8u;
            break;
        case K_AREA:
            c->key = (const unsigned char *)"area";
            c->key_len = 4;
            rc = fast_double(c, &o->area[i]);
            seen |= 16u;
            break;
        case K_ISCROWD:
            c->key = (const unsigned char *)"iscrowd";
            c->key_len = 7;
            rc = parse_iscrowd(c, &o->iscrowd[i]);
            break;
        case K_SEGMENTATION:
        case K_KEYPOINTS:
            if (o->geom && kind == K_KEYPOINTS && o->geom->kpt_values && o->geom->kpt_span) {
                /* the numbers straight into their row; a value that is not a flat array
                 * of numbers is skipped as any value (kpt_count -2: the caller reads it
                 * from its span, and names what is wrong when it evaluates) */
                const unsigned char *start = c->p;
                c->key = (const unsigned char *)"keypoints";
                c->key_len = 9;
                rc = take_keypoints(c, o->geom, i);
                if (rc != FA_OK) {
                    c->p = start;
                    rc = take_span(c, o->geom->kpt_span + 2 * i);
                    o->geom->kpt_count[i] = -2;
                }
            } else if (o->geom) {
                int64_t *sp = kind == K_SEGMENTATION ? o->geom->seg_span : o->geom->kpt_span;
                rc = sp ? take_span(c, sp + 2 * i) : skip_value(c);
            } else {
                rc = skip_value(c);
            }
            break;
        case K_NUM_KEYPOINTS:
            if (o->geom && o->geom->num_keypoints) {
                c->key = (const unsigned char *)"num_keypoints";
                c->key_len = 13;
                rc = parse_double(c, &o->geom->num_keypoints[i], "a number");
            } else {
                rc = skip_value(c);
            }
            break;
        default:        /* score, anything else */
            rc = skip_value(c);
            break;
        }
        if (rc != FA_OK)
            return rc;
        rc = next_field(c, &closed);
        if (rc != FA_OK)
            return rc;
        if (closed)
            break;
    }
done:
    rc = check_required(c, seen, g_ann_required, 5, rec_start);
    if (rc != FA_OK)
        return rc;
    return FA_OK;
}

static int parse_annotation_cb(jctx *c, int64_t i, void *ctx)
{
    return parse_annotation(c, i, (const jann *)ctx);
}

int fa_json_annotations_parse(const char *buf, size_t len, int64_t capacity, int64_t *id,
                              int64_t *image_id, int64_t *category_id, double *bbox,
                              double *area, uint8_t *iscrowd, const fa_json_geometry *geom,
                              int64_t *n_records, fa_json_error *err)
{
    jctx c;
    jann o;
    jrange r;
    int rc;

    if (n_records) *n_records = 0;
    rc = jctx_begin(&c, buf, len, 0, err);
    if (rc != FA_OK)
        return rc;
    o.id = id;
    o.image_id = image_id;
    o.category_id = category_id;
    o.bbox = bbox;
    o.area = area;
    o.iscrowd = iscrowd;
    o.geom = geom;
    r.begin = 0;
    r.stop = SIZE_MAX;
    r.first = 0;
    r.capacity = capacity;
    return walk_records(&c, &r, "annotations must be a JSON array of objects",
                        parse_annotation_cb, &o, n_records, NULL);
}

/* ---------------------------------------------------------------------------------- */
/* values of one field: keypoints and segmentations (spans found by the parsers above) */
/* ---------------------------------------------------------------------------------- */

/* Numbers stored of the first k of an array of (x, y, v) triples when only x and y are
 * kept (see number_array). */
static inline int64_t xy_stored(int64_t k)
{
    return k / 3 * 2 + (k % 3 < 2 ? k % 3 : 2);
}

/* ---------------------------------------------------------------------------------- */
/* arrays of plain numbers, 64 bytes at a time (AVX-512BW, chosen at run time)         */
/* ---------------------------------------------------------------------------------- */

/* Keypoint and polygon arrays are most of a keypoint or polygon file: tens of numbers
 * like 445.68 between ", ". Their bytes are classified 64 at a time into bit masks
 * (digits, '.', '-', ',', spaces, ']'), the masks are checked for the plain shape
 * -?digits(.digits)? between single commas, and each number is converted from its
 * digits with the dot squeezed out, eight at once (SWAR): no branch depends on a
 * number's length. Anything else -- exponents, NaN, long or malformed numbers, other
 * whitespace, a short buffer -- is left to the scalar loop from the first number not
 * taken, so the values, the errors and their positions are the scalar loop's. */
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(FA_NO_SIMD_NUMBERS)
#include <immintrin.h>
#define FA_SIMD_NUMBERS 1
#define FA_SIMD_TARGET __attribute__((target("avx512f,avx512bw,bmi,bmi2,lzcnt,popcnt")))

/* -1: not decided yet; 0 / 1 (see fa_json_simd_numbers) */
static int g_simd_numbers = -1;

int fa_json_simd_numbers(int set)
{
    if (set == 0 || set == 1 || g_simd_numbers < 0) {
        __builtin_cpu_init();
        g_simd_numbers = set != 0 && __builtin_cpu_supports("avx512f") &&
                         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("bmi2");
    }
    return g_simd_numbers;
}

/* The value of the n (1..8) digits in the low bytes of v (ASCII), as an integer. */
static inline uint64_t swar_digits8(uint64_t v, int n)
{
    v = (v & 0x0F0F0F0F0F0F0F0Full) << (64 - 8 * n);   /* leading zeros above */
    v = v * 10 + (v >> 8);
    return (((v & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
            (((v >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >> 32;
}

/* From p (a number's first byte, inside an array), numbers into out while they have the
 * plain shape: *k counts the array's numbers read so far (with xy, out holds only the
 * first two of every three). Returns where the scalar loop goes on (the first number
 * not read), or, with *done, one past the closing ']'. Needs e - p >= 80 to start. */
FA_SIMD_TARGET
static const unsigned char *simd_numbers(const unsigned char *p, const unsigned char *e, double *out,
                                         int64_t cap, int64_t *kk, int xy, int *done)
{
    int64_t k = *kk, j = xy ? xy_stored(k) : k;
    int m = (int)(k % 3);
    const __m512i c0 = _mm512_set1_epi8('0'), c9 = _mm512_set1_epi8(9);
    *done = 0;
    while (e - p >= 80) {
        const __m512i x = _mm512_loadu_si512((const void *)p);
        const uint64_t D = _mm512_cmple_epu8_mask(_mm512_sub_epi8(x, c0), c9);
        const uint64_t W = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(' ')) |
                           _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\n'));
        uint64_t P = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('.'));
        uint64_t M = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('-'));
        uint64_t C = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(','));
        const uint64_t R = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(']'));
        const uint64_t Z0 = _mm512_cmpeq_epi8_mask(x, c0);
        const uint64_t N = D | P | M;
        uint64_t S = N & ~(N << 1);      /* first bytes of numbers (bit 0: p) */
        uint64_t E = N & ~(N >> 1);      /* last bytes */
        uint64_t lim, Z;
        const int closed = R != 0;
        if (closed) {
            lim = (R & (0 - R)) - 1;     /* the bytes before the first ']' */
        } else {
            const uint64_t later = S & ~(uint64_t)1;  /* the last number start: next block's */
            if (!later)
                break;
            lim = ((uint64_t)1 << (63 - clz64(later))) - 1;
        }
        S &= lim;
        E &= lim;
        C &= lim;
        M &= lim;
        P &= lim;
        /* only number bytes, spaces and commas; numbers and commas alternate from a number,
         * the last before ']' a number, the last before the next block a comma */
        if (((N | W | C) & lim) != lim)
            break;
        Z = S | C;
        if ((prefix_xor64(Z) & Z) != S || !(S & 1))
            break;
        if (closed ? clz64(Z) != clz64(S) : clz64(Z) == clz64(S))
            break;
        /* '-' only first and before a digit; '.' between digits; no 0 before a digit at
         * the start of the integer part */
        if ((M & ~S) | ((M << 1) & ~D) | (P & ~(D << 1)) | (P & ~(D >> 1)) |
            (((S & ~M) | (M << 1)) & Z0 & (D >> 1)))
            break;
        if (k + (int64_t)__builtin_popcountll(S) > cap)
            break;
        while (S) {
            const int s = ctz64_nz(S), t = ctz64_nz(E);
            const int neg = (int)((M >> s) & 1), a = s + neg;
            const uint64_t dots = P & ((((uint64_t)2) << t) - 1);   /* the number's dot, if any */
            uint64_t v;
            double d;
            if (dots & ~((((uint64_t)1) << s) - 1)) {
                const int dp = ctz64_nz(dots & ~((((uint64_t)1) << s) - 1));
                const int nd = dp - a, fd = t - dp;
                uint64_t lo, hi, keep;
                if (nd + fd > 8 || ((dots >> dp) >> 1))
                    break;                        /* long, or two dots: the scalar loop's */
                memcpy(&lo, p + a, 8);
                memcpy(&hi, p + a + 1, 8);
                keep = (((uint64_t)1) << (8 * nd)) - 1;              /* nd <= 7 */
                v = swar_digits8((lo & keep) | (hi & ~keep), nd + fd);
                d = (double)v / g_pow10[fd];
                if (neg)
                    d = -d;
            } else {
                const int nd = t + 1 - a;
                if (nd > 8)
                    break;
                memcpy(&v, p + a, 8);
                v = swar_digits8(v, nd);
                d = (double)v;
                if (neg && v)                     /* "-0" is the integer 0: +0.0 */
                    d = -d;
            }
            if (xy) {
                if (m != 2)
                    out[j++] = d;
                m = m == 2 ? 0 : m + 1;
            } else {
                out[j++] = d;
            }
            k++;
            S &= S - 1;
            E &= E - 1;
        }
        if (S) {                                   /* a number the scalar loop takes */
            *kk = k;
            return p + ctz64_nz(S);
        }
        if (closed) {
            *kk = k;
            *done = 1;
            return p + ctz64_nz(R) + 1;
        }
        p += 64 - clz64(lim);                      /* the next number */
    }
    *kk = k;
    return p;
}
#else
int fa_json_simd_numbers(int set)
{
    (void)set;
    return 0;
}
#endif

/* c->p at '['. The numbers of the array into out (at most cap; FA_EINVAL "more numbers than
 * the capacity" beyond). With xy (a constant where it is inlined), the numbers are
 * (x, y, v) triples of which only x and y are stored, and *finite tells whether every
 * number read was finite. */
static inline int number_array(jctx *c, double *out, int64_t cap, int64_t *n, const char *what,
                               const int xy, int *finite)
{
    char tmp[16];
    int rc;
    *n = 0;
    if (c->p >= c->end)
        return err_eof(c);
    if (*c->p != '[')
        return jerr(c, FA_EPARSE, c->p, "%s must be an array of numbers, got %s", what,
                    describe(c, c->p, tmp, sizeof tmp));
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return FA_OK;
    }
    {
        /* the position and the count in locals (see fast_number) */
        const unsigned char *p = c->p, *const e = c->end, *q;
        int64_t k = 0, j = 0;
        int m = 0, fin = 1;
#if defined(FA_SIMD_NUMBERS)
        if (cap >= 16 && e - p >= 80 && (g_simd_numbers > 0 || (g_simd_numbers < 0 && fa_json_simd_numbers(-1)))) {
            int done;
            p = simd_numbers(p, e, out, cap, &k, xy, &done);
            if (done) {
                *n = k;
                c->p = p;
                if (xy) *finite = 1;              /* plain numbers only */
                return FA_OK;
            }
            m = (int)(k % 3);
            j = xy ? xy_stored(k) : k;
        }
#endif
        for (;;) {
            double v;
            if (k >= cap) {
                *n = k;
                c->p = p;
                if (xy) *finite = fin;
                return jerr(c, FA_EINVAL, p, "more numbers than the capacity");
            }
            if (fast_number(p, e, &v, &q)) {
                p = q;
            } else {
                c->p = p;
                rc = parse_double(c, &v, "a number");
                if (rc != FA_OK) {
                    *n = k;
                    if (xy) *finite = fin;
                    return rc;
                }
                p = c->p;
            }
            if (xy) {
                fin &= v - v == 0.0;              /* false for NaN and infinities */
                if (m != 2)
                    out[j++] = v;
                m = m == 2 ? 0 : m + 1;
                k++;
            } else {
                out[k++] = v;
            }
            while (p < e && IS_WS(*p))
                p++;
            if (p >= e) {
                *n = k;
                c->p = p;
                if (xy) *finite = fin;
                return err_eof(c);
            }
            if (*p == ',') {
                p++;
                while (p < e && IS_WS(*p))
                    p++;
                continue;
            }
            *n = k;
            if (xy) *finite = fin;
            if (*p == ']') {
                c->p = p + 1;
                return FA_OK;
            }
            c->p = p;
            return jerr(c, FA_EPARSE, p, "expected ',' or ']' in %s", what);
        }
    }
}

static int parse_number_array(jctx *c, double *out, int64_t cap, int64_t *n, const char *what)
{
    return number_array(c, out, cap, n, what, 0, NULL);
}

/* Keypoint triples with only x and y stored (see number_array). */
static int parse_keypoint_xy(jctx *c, double *out, int64_t cap, int64_t *n, int *finite)
{
    return number_array(c, out, cap, n, "keypoints", 1, finite);
}

static void jctx_span(jctx *c, const char *buf, size_t len, const char *field, fa_json_error *err)
{
    static const unsigned char empty[1] = {0};
    if (err) {
        err->record = -1;
        err->offset = 0;
        err->field[0] = '\0';
        err->message[0] = '\0';
    }
    c->buf = buf ? (const unsigned char *)buf : empty;
    c->p = c->buf;
    c->end = c->buf + (buf ? len : 0);
    c->record = -1;
    c->key = (const unsigned char *)field;
    c->key_len = strlen(field);
    c->err = err;
    c->dp_len = 0;
    skip_ws(c);
}

int fa_json_number_array(const char *buf, size_t len, double *out, int64_t cap, int64_t *n,
                         fa_json_error *err)
{
    jctx c;
    jctx_span(&c, buf, len, "keypoints", err);
    return parse_number_array(&c, out, cap, n, "keypoints");
}

/* Decode the JSON string at c->p (validated by scan_string) into out (cap bytes);
 * only ASCII may come out of escapes (RLE counts are ASCII). */
static int decode_string(jctx *c, char *out, int64_t cap, int64_t *n, int64_t *raw_start,
                         fa_json_segm *raw)
{
    const unsigned char *s;
    size_t len, i = 0;
    int esc, rc;
    const unsigned char *start = c->p;
    rc = scan_string(c, &s, &len, &esc);
    if (rc != FA_OK)
        return rc;
    *n = 0;
    raw->raw_start = (int64_t)(s - c->buf);
    raw->raw_len = (int64_t)len;
    raw->raw_esc = 0;
    if (!esc) {                 /* no escapes: the caller reads the text in place */
        *raw_start = (int64_t)(s - c->buf);
        *n = (int64_t)len;
        return FA_OK;
    }
    *raw_start = -1;
    raw->raw_esc = 1;
    for (i = 0; i < len; i++) { /* only "\\" (the RLE character 92)? */
        if (s[i] != '\\')
            continue;
        if (s[i + 1] != '\\') {
            raw->raw_esc = 2;
            break;
        }
        i++;
    }
    if (!out)
        return FA_OK;
    i = 0;
    while (i < len) {
        unsigned char ch = s[i];
        if (*n >= cap)
            return jerr(c, FA_EINVAL, start, "string longer than the capacity");
        if (ch != '\\') {
            out[(*n)++] = (char)ch;
            i++;
            continue;
        }
        switch (s[i + 1]) {
        case 'u': {
            int v = (hexval(s[i + 2]) << 12) | (hexval(s[i + 3]) << 8) |
                    (hexval(s[i + 4]) << 4) | hexval(s[i + 5]);
            if (v >= 0x80)
                return jerr(c, FA_EPARSE, start, "RLE counts must be ASCII");
            out[(*n)++] = (char)v;
            i += 6;
            break;
        }
        case 'b': out[(*n)++] = '\b'; i += 2; break;
        case 'f': out[(*n)++] = '\f'; i += 2; break;
        case 'n': out[(*n)++] = '\n'; i += 2; break;
        case 'r': out[(*n)++] = '\r'; i += 2; break;
        case 't': out[(*n)++] = '\t'; i += 2; break;
        default: out[(*n)++] = (char)s[i + 1]; i += 2; break;   /* " \ / */
        }
    }
    return FA_OK;
}

int fa_json_segmentation_parse(const char *buf, size_t len, double *values, int64_t *poly_len,
                               char *str, int64_t cap, fa_json_segm *out, fa_json_error *err)
{
    jctx c;
    char tmp[16];
    int rc;
    jctx_span(&c, buf, len, "segmentation", err);
    memset(out, 0, sizeof(*out));
    out->h = out->w = -1;
    if (c.p >= c.end)
        return err_eof(&c);
    if (*c.p == '[') {                      /* polygons: [[x, y, ...], ...] */
        out->kind = FA_SEGM_POLYGONS;
        c.p++;
        skip_ws(&c);
        if (c.p < c.end && *c.p == ']')
            return FA_OK;
        for (;;) {
            int64_t k;
            if (out->n_poly >= cap)
                return jerr(&c, FA_EINVAL, c.p, "more polygons than the capacity");
            if (c.p >= c.end || *c.p != '[')
                return jerr(&c, FA_EPARSE, c.p, "polygons must be lists of numbers, got %s",
                            describe(&c, c.p, tmp, sizeof tmp));
            rc = parse_number_array(&c, values + out->n_values, cap - out->n_values, &k, "a polygon");
            if (rc != FA_OK)
                return rc;
            poly_len[out->n_poly++] = k;
            out->n_values += k;
            skip_ws(&c);
            if (c.p >= c.end)
                return err_eof(&c);
            if (*c.p == ',') {
                c.p++;
                skip_ws(&c);
                continue;
            }
            if (*c.p == ']')
                return FA_OK;
            return jerr(&c, FA_EPARSE, c.p, "expected ',' or ']' in the polygon list");
        }
    }
    if (*c.p != '{')
        return jerr(&c, FA_EPARSE, c.p, "segmentation must be polygons (a list of lists) or an RLE "
                    "object {\"size\": [h, w], \"counts\": ...}, got %s", describe(&c, c.p, tmp, sizeof tmp));
    c.p++;
    skip_ws(&c);
    {
        int has_size = 0, has_counts = 0;
        const unsigned char *obj = c.p - 1;
        if (c.p < c.end && *c.p == '}')
            c.p++;
        else for (;;) {
            const unsigned char *ks;
            size_t kn;
            int esc;
            if (c.p >= c.end)
                return err_eof(&c);
            if (*c.p != '"')
                return err_expected(&c, "a field name (string)");
            rc = scan_string(&c, &ks, &kn, &esc);
            if (rc != FA_OK)
                return rc;
            skip_ws(&c);
            if (c.p >= c.end || *c.p != ':')
                return err_expected(&c, "':' after the field name");
            c.p++;
            skip_ws(&c);
            if (!esc && kn == 4 && memcmp(ks, "size", 4) == 0) {
                double hw[3];
                int64_t k;
                rc = parse_number_array(&c, hw, 3, &k, "size");
                if (rc == FA_EINVAL || (rc == FA_OK && k != 2))
                    return jerr(&c, FA_EPARSE, c.p, "size must be [height, width]");
                if (rc != FA_OK)
                    return rc;
                if (!(hw[0] >= 0 && hw[1] >= 0 && hw[0] == floor(hw[0]) && hw[1] == floor(hw[1]) &&
                      hw[0] < 2147483648.0 && hw[1] < 2147483648.0))
                    return jerr(&c, FA_EPARSE, c.p, "size must be two non-negative integers");
                out->h = (int64_t)hw[0];
                out->w = (int64_t)hw[1];
                has_size = 1;
            } else if (!esc && kn == 6 && memcmp(ks, "counts", 6) == 0) {
                if (c.p < c.end && *c.p == '"') {
                    out->kind = FA_SEGM_RLE_STRING;
                    rc = decode_string(&c, str, cap, &out->n_chars, &out->str_start, out);
                } else {
                    out->kind = FA_SEGM_RLE_COUNTS;
                    rc = parse_number_array(&c, values, cap, &out->n_values, "counts");
                }
                if (rc != FA_OK)
                    return rc;
                has_counts = 1;
            } else {
                rc = skip_value(&c);
                if (rc != FA_OK)
                    return rc;
            }
            skip_ws(&c);
            if (c.p >= c.end)
                return err_eof(&c);
            if (*c.p == ',') {
                c.p++;
                skip_ws(&c);
                continue;
            }
            if (*c.p == '}') {
                c.p++;
                break;
            }
            return err_expected(&c, "',' or '}' in the RLE object");
        }
        if (!has_size || !has_counts)
            return jerr(&c, FA_EPARSE, obj, "an RLE segmentation needs 'size' and 'counts'");
    }
    return FA_OK;
}

/* ---------------------------------------------------------------------------------- */
/* RLE objects in text the record scanner has validated                               */
/* ---------------------------------------------------------------------------------- */

/* One of the RLE object's sizes: an integer in [0, 2^31) (fast_id also takes 480.0). */
static int rle_size(jctx *c, int64_t *v)
{
    return fast_id(c, v) == FA_OK && *v >= 0 && *v < 2147483648LL;
}

/* The common RLE object {"size": [h, w], "counts": "..."} at c->p (its '{'), without
 * the general parser: returns 1 with c->p past its '}', the size, and where the counts
 * string's characters lie (raw_start: offset in c->buf; esc: it holds "\\\\" escapes);
 * 0 for anything else (c->p is then anywhere; nothing is reported). `strict_text`: the
 * counts string must also be valid JSON text as the scanner checks it (no control
 * characters, only ASCII), so that a record read this way is one the scanner accepts. */
static int rle_object_at(jctx *c, int strict_text, int64_t *h, int64_t *w, int64_t *raw_start,
                         int64_t *raw_len, int *raw_esc)
{
    int have_size = 0, have_counts = 0;
    if (c->p >= c->end || *c->p != '{') return 0;
    c->p++;
    skip_ws(c);
    while (c->p < c->end && *c->p == '"') {
        const unsigned char *k = c->p + 1, *ke = (const unsigned char *)memchr(k, '"', (size_t)(c->end - k));
        if (!ke) return 0;
        c->p = ke + 1;
        skip_ws(c);
        if (c->p >= c->end || *c->p != ':') return 0;
        c->p++;
        skip_ws(c);
        if (ke - k == 4 && memcmp(k, "size", 4) == 0 && !have_size) {
            if (c->p >= c->end || *c->p != '[') return 0;
            c->p++;
            skip_ws(c);
            if (!rle_size(c, h)) return 0;
            skip_ws(c);
            if (c->p >= c->end || *c->p != ',') return 0;
            c->p++;
            skip_ws(c);
            if (!rle_size(c, w)) return 0;
            skip_ws(c);
            if (c->p >= c->end || *c->p != ']') return 0;
            c->p++;
            have_size = 1;
        } else if (ke - k == 6 && memcmp(k, "counts", 6) == 0 && !have_counts) {
            if (c->p >= c->end || *c->p != '"') return 0;
            const unsigned char *s = c->p + 1, *q = s;
            /* the closing quote, in one pass: every backslash must start the escape of
             * a backslash (the one RLE character JSON escapes); any other escape is
             * left to the full parser */
            int esc = 0;
            for (;;) {
                if (strict_text) {
                    q = skip_plain16(q, c->end);
                    while (q < c->end && g_plain[*q]) q++;
                    if (q >= c->end) return 0;
                    if (*q != '"' && *q != '\\') return 0;   /* control or non-ASCII byte */
                } else {
                    q = find_quote_or_backslash(q, c->end);
                    if (!q) return 0;
                }
                if (*q == '"') break;
                if (q + 1 >= c->end || q[1] != '\\') return 0;
                esc = 1;
                q += 2;
            }
            *raw_start = (int64_t)(s - c->buf);
            *raw_len = (int64_t)(q - s);
            *raw_esc = esc;
            c->p = q + 1;
            have_counts = 1;
        } else {
            return 0;
        }
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            skip_ws(c);
            continue;
        }
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            return have_size && have_counts;
        }
        return 0;
    }
    return 0;
}

int fa_json_rle_object(const char *buf, size_t len, int64_t *h, int64_t *w, int64_t *raw_start,
                       int64_t *raw_len, int *raw_esc)
{
    jctx c;
    fa_json_error err;       /* never reported: any surprise is left to the full parser */
    jctx_span(&c, buf, len, "segmentation", &err);
    if (!rle_object_at(&c, 0, h, w, raw_start, raw_len, raw_esc)) return 0;
    skip_ws(&c);
    return c.p == c.end;
}

/* A results record's "segmentation": its span, and when it is the common RLE object,
 * what rle_object_at reads (row: h, w, counts offset from the span's start, counts
 * length, escaped; all -1 otherwise), so the mask readers need not parse it again. */
static int take_segmentation(jctx *c, int64_t *span, int32_t *row)
{
    const unsigned char *start = c->p;
    for (int q = 0; q < 5; q++) row[q] = -1;
    if (c->p < c->end && *c->p == '{') {
        fa_json_error scratch, *keep = c->err;
        int64_t h, w, rs, rl;
        int esc;
        c->err = &scratch;               /* a shape it does not read is not an error */
        const int ok = rle_object_at(c, 1, &h, &w, &rs, &rl, &esc);
        c->err = keep;
        span[0] = (int64_t)(start - c->buf);
        span[1] = (int64_t)(c->p - c->buf);
        if (ok && rs - span[0] <= INT32_MAX && rl <= INT32_MAX) {   /* sizes are < 2^31 */
            row[0] = (int32_t)h;
            row[1] = (int32_t)w;
            row[2] = (int32_t)(rs - span[0]);
            row[3] = (int32_t)rl;
            row[4] = esc;
            return FA_OK;
        }
        c->p = start;
    }
    return take_span(c, span);
}
