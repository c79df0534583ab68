/*
 * json_results.c -- a COCO detection *results* JSON file parsed straight into columns.
 *
 * Design. The input is the raw file content (UTF-8, optional BOM, NOT NUL-terminated):
 * a JSON array of objects {"image_id", "category_id", "bbox": [x, y, w, h], "score",
 * optional "area", any other keys}. The output is columnar, owned by the caller
 * (NumPy): image_id int64[n], category_id int64[n], bbox float64[n][4], score
 * float64[n], area float64[n] (NaN where absent). Two passes: fa_json_results_count_bound
 * gives a cheap upper bound on the record count (the number of '{' bytes, capped by the
 * 57-byte minimum size of a valid record) so the caller can allocate, then
 * fa_json_results_parse validates the whole document and fills the columns in one
 * forward scan (no allocation except for number tokens longer than 63 bytes). The
 * scanner follows Python's json module (strict mode): same grammar, NaN / Infinity /
 * -Infinity accepted, control characters and invalid UTF-8 in strings rejected
 * (surrogates allowed, as json.loads' 'surrogatepass' decode does), duplicate keys:
 * the last one wins. Values of unknown keys are skipped by an iterative skipper that
 * still validates them; "segmentation" / "keypoints" stop the scan with FA_EUNSUPPORTED
 * so the caller can fall back to the general path. Numbers must be bit-identical to
 * Python's float() of the token: the fast path (Clinger) keeps up to 19 significant
 * digits in a uint64 w with a decimal exponent e; when w <= 2^53 and |e| <= 22 both w
 * and 10^|e| are exact doubles and one IEEE multiplication or division is correctly
 * rounded (e up to 22+15 is handled by first multiplying w by a power of ten while it
 * stays an exact integer). Everything else (more digits, larger exponents) goes to
 * strtod on a NUL-terminated local copy of the token, with '.' replaced by the current
 * locale's decimal point (glibc's strtod is correctly rounded). The fast path is only
 * compiled where double arithmetic is not evaluated in extended precision
 * (FLT_EVAL_METHOD == 0).
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

/* Smallest possible valid record plus its separating comma:
 * {"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1}, */
#define FA_JSON_MIN_RECORD 57
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

/* Describe the token at p for "expected X, got Y" messages. */
static const char *describe(const jctx *c, const unsigned char *p, char *tmp, size_t n)
{
    if (p >= c->end)
        return "end of file";
    switch (*p) {
    case '"': return "string";
    case '[': return "array";
    case '{': return "object";
    case 't': case 'f': return "boolean";
    case 'n': return "null";
    case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6':
    case '7': case '8': case '9': case 'N': case 'I': return "number";
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

static int match_lit(const jctx *c, const unsigned char *p, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(c->end - p) >= n && memcmp(p, lit, n) == 0;
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

static inline int fast_double(jctx *c, double *out)
{
#if FA_JSON_FAST_FLOAT
    const unsigned char *p = c->p, *e = c->end, *ds;
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
        goto slow;
    if (p < e && *p == '.') {
        const unsigned char *fs = ++p;
        while (p < e && IS_DIGIT(*p)) {
            w = w * 10 + (uint64_t)(*p - '0');
            p++;
        }
        fd = p - fs;
        if (fd == 0)
            goto slow;
    }
    if (nd + fd > 19 || w > ((uint64_t)1 << 53) || (p < e && (*p == 'e' || *p == 'E')))
        goto slow;
    d = (double)w;
    if (fd)
        d = d / g_pow10[fd];   /* fd <= 19 */
    else if (w == 0)
        neg = 0;               /* "-0" is the integer 0 in Python: +0.0 */
    *out = neg ? -d : d;
    c->p = p;
    return FA_OK;
slow:
#endif
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
    const char *name = c->key_len == 8 ? "image_id" : "category_id";
    int rc = lex_number(c, &t);
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
    default:
        rc = lex_number(c, &t);
        if (rc == FA_EUNSUPPORTED)
            return err_expected(c, "a value");
        if (rc != FA_OK)
            return rc;
        goto after;
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
    K_SEGMENTATION, K_KEYPOINTS
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
    case 8: return memcmp(s, "image_id", 8) == 0 ? K_IMAGE_ID : K_OTHER;
    case 9: return memcmp(s, "keypoints", 9) == 0 ? K_KEYPOINTS : K_OTHER;
    case 11: return memcmp(s, "category_id", 11) == 0 ? K_CATEGORY_ID : K_OTHER;
    case 12: return memcmp(s, "segmentation", 12) == 0 ? K_SEGMENTATION : K_OTHER;
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
} jout;

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
static int parse_record(jctx *c, int64_t i, const jout *o, int64_t *n_area)
{
    const unsigned char *rec_start = c->p;
    unsigned seen = 0;
    int rc, k;
    double *bb = o->bbox + 4 * i;
    c->p++;
    o->area[i] = NAN;
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        goto done;
    }
    for (;;) {
        const unsigned char *ks;
        size_t kn;
        int esc, kind;
        if (c->p >= c->end)
            return err_eof(c);
        if (*c->p != '"')
            return err_expected(c, "a field name (string)");
        kind = quick_key(c, &ks, &kn);
        if (kind < 0) {
            rc = scan_string(c, &ks, &kn, &esc);
            if (rc != FA_OK)
                return rc;
            kind = esc ? key_kind_escaped(ks, kn) : key_kind(ks, kn);
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
            return jerr(c, FA_EUNSUPPORTED, ks - 1,
                        "records with '%s' are not supported by the fast parser",
                        kind == K_SEGMENTATION ? "segmentation" : "keypoints");
        default:
            rc = skip_value(c);
            break;
        }
        if (rc != FA_OK)
            return rc;
        c->key = NULL;
        c->key_len = 0;
        skip_ws(c);
        if (c->p >= c->end)
            return err_eof(c);
        if (*c->p == ',') {
            c->p++;
            skip_ws(c);
            continue;
        }
        if (*c->p == '}') {
            c->p++;
            break;
        }
        return err_expected(c, "',' or '}' in record");
    }
done:
    for (k = 0; k < 4; k++) {
        if (!(seen & (1u << k))) {
            c->key = (const unsigned char *)g_required[k];
            c->key_len = strlen(g_required[k]);
            return jerr(c, FA_EPARSE, rec_start, "missing field '%s'", g_required[k]);
        }
    }
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

int fa_json_results_parse(const char *buf, size_t len, int64_t capacity, int64_t *image_id,
                          int64_t *category_id, double *bbox, double *score, double *area,
                          int64_t *n_records, int64_t *n_area, fa_json_error *err)
{
    jctx c;
    jout o;
    int64_t n = 0, na = 0;
    int rc;
    static const unsigned char empty[1] = {0};

    if (err) {
        err->record = -1;
        err->offset = 0;
        err->field[0] = '\0';
        err->message[0] = '\0';
    }
    if (n_records) *n_records = 0;
    if (n_area) *n_area = 0;
    c.buf = buf ? (const unsigned char *)buf : empty;
    if (!buf)
        len = 0;
    c.p = c.buf;
    c.end = c.buf + len;
    c.record = -1;
    c.key = NULL;
    c.key_len = 0;
    c.err = err;
    c.dp_len = 0;
    o.image_id = image_id;
    o.category_id = category_id;
    o.bbox = bbox;
    o.score = score;
    o.area = area;

    if (len >= 3 && c.p[0] == 0xEF && c.p[1] == 0xBB && c.p[2] == 0xBF) {
        c.p += 3;
    } else if (len >= 2 && (c.p[0] == 0 || c.p[1] == 0 || (c.p[0] == 0xFE && c.p[1] == 0xFF) ||
                            (c.p[0] == 0xFF && c.p[1] == 0xFE))) {
        return jerr(&c, FA_EUNSUPPORTED, c.p, "input is not UTF-8 (UTF-16/32?)");
    }
    skip_ws(&c);
    if (c.p >= c.end)
        return err_eof(&c);
    if (*c.p != '[') {
        char tmp[16];
        return jerr(&c, FA_EPARSE, c.p, "not a JSON array (results must be a list of objects), got %s",
                    describe(&c, c.p, tmp, sizeof tmp));
    }
    c.p++;
    skip_ws(&c);
    if (c.p < c.end && *c.p == ']') {
        c.p++;
    } else {
        for (;;) {
            c.record = n;
            if (c.p >= c.end)
                return err_eof(&c);
            if (*c.p != '{')
                return err_expected(&c, "an object (record)");
            if (n >= capacity)
                return jerr(&c, FA_EINVAL, c.p, "more records than the capacity %lld",
                            (long long)capacity);
            rc = parse_record(&c, n, &o, &na);
            if (rc != FA_OK)
                return rc;
            n++;
            if (n_records) *n_records = n;
            skip_ws(&c);
            if (c.p >= c.end)
                return err_eof(&c);
            if (*c.p == ',') {
                c.p++;
                skip_ws(&c);
                continue;
            }
            if (*c.p == ']') {
                c.p++;
                break;
            }
            return err_expected(&c, "',' or ']' after the record");
        }
    }
    c.record = -1;
    skip_ws(&c);
    if (c.p != c.end) {
        char tmp[16];
        return jerr(&c, FA_EPARSE, c.p, "unexpected data after the closing ']': %s",
                    describe(&c, c.p, tmp, sizeof tmp));
    }
    if (n_records) *n_records = n;
    if (n_area) *n_area = na;
    return FA_OK;
}
