/*
 * json_lex.c -- the JSON reader's lexer and validating skipper.
 *
 * What it does: error reports (fa_jr_err fills the caller's fa_json_error with the record,
 * field, byte offset and message), the string scanner (fa_jr_scan_string: Python's json
 * module in strict mode -- control characters and invalid UTF-8 rejected, encoded
 * surrogates allowed as json.loads' 'surrogatepass' decode does, escapes checked), the
 * skipper that validates any value it skips (fa_jr_skip_value: iterative, an explicit
 * stack of at most FA_JSON_MAX_DEPTH levels, so hostile nesting cannot overflow the C
 * stack), and the set-up of a scan (BOM, UTF-16/32 detection).
 * Data layout: the input is read in place, never NUL-terminated; strings are reported as
 * raw byte spans (decoding is the caller's business). Plain string bytes are skipped 16
 * at a time (SSE2, json_internal.h). No state outside the jctx: scans are reentrant.
 */
#include "json_number.h"

#include <stdarg.h>
#include <stdio.h>

/* ---------------------------------------------------------------------------------- */
/* errors                                                                             */
/* ---------------------------------------------------------------------------------- */

int fa_jr_err(jctx *c, int code, const unsigned char *at, const char *fmt, ...)
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
const char *fa_jr_describe(const jctx *c, const unsigned char *p, char *tmp, size_t n)
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

int fa_jr_err_eof(jctx *c)
{
    return fa_jr_err(c, FA_EPARSE, c->end, "unexpected end of file");
}

int fa_jr_err_expected(jctx *c, const char *what)
{
    char tmp[16];
    if (c->p >= c->end)
        return fa_jr_err_eof(c);
    return fa_jr_err(c, FA_EPARSE, c->p, "expected %s, got %s", what, fa_jr_describe(c, c->p, tmp, sizeof tmp));
}

/* ---------------------------------------------------------------------------------- */
/* strings                                                                            */
/* ---------------------------------------------------------------------------------- */

const unsigned char fa_jr_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

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
int fa_jr_scan_string(jctx *c, const unsigned char **s, size_t *n, int *esc)
{
    const unsigned char *p = c->p + 1, *e = c->end;
    int has_esc = 0;
    for (;;) {
        p = skip_plain16(p, e);
        while (p < e && fa_jr_plain[*p])
            p++;
        if (p >= e)
            return fa_jr_err(c, FA_EPARSE, e, "unexpected end of file (unterminated string)");
        if (*p == '"')
            break;
        if (*p == '\\') {
            has_esc = 1;
            if (p + 1 >= e)
                return fa_jr_err(c, FA_EPARSE, e, "unexpected end of file (unterminated string)");
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                break;
            case 'u':
                if (e - p < 6 || hexval(p[2]) < 0 || hexval(p[3]) < 0 || hexval(p[4]) < 0 ||
                    hexval(p[5]) < 0)
                    return fa_jr_err(c, FA_EPARSE, p, "invalid \\uXXXX escape in string");
                p += 6;
                break;
            default:
                return fa_jr_err(c, FA_EPARSE, p, "invalid escape in string");
            }
        } else if (*p < 0x20) {
            return fa_jr_err(c, FA_EPARSE, p, "invalid control character in string");
        } else {
            size_t k = utf8_len(p, e);
            if (!k)
                return fa_jr_err(c, FA_EPARSE, p, "invalid UTF-8 in string");
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
/* generic value skipper (iterative; validates what it skips)                          */
/* ---------------------------------------------------------------------------------- */

enum { SKIP_ARRAY = 1, SKIP_OBJECT = 2 };   /* the skipper's stack entries */

/* The common number shapes, -?(0|[1-9][0-9]*)(.[0-9]+)?, checked without converting:
 * 1 with c->p past the token; 0 for anything else (exponents, NaN / Infinity, errors),
 * which the number lexer reads. */
static inline int skip_plain_number(jctx *c)
{
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
            return 1;
        }
    }
    return 0;
}

/* A value that is not an array or an object (c->p < c->end): string, literal, number. */
static inline int skip_scalar(jctx *c)
{
    const unsigned char *s;
    size_t n;
    int esc, rc;
    jnum t;
    switch (*c->p) {
    case '"':
        return fa_jr_scan_string(c, &s, &n, &esc);
    case 't':
        if (!match_lit(c, c->p, "true"))
            return fa_jr_err(c, FA_EPARSE, c->p, "invalid literal");
        c->p += 4;
        return FA_OK;
    case 'f':
        if (!match_lit(c, c->p, "false"))
            return fa_jr_err(c, FA_EPARSE, c->p, "invalid literal");
        c->p += 5;
        return FA_OK;
    case 'n':
        if (!match_lit(c, c->p, "null"))
            return fa_jr_err(c, FA_EPARSE, c->p, "invalid literal");
        c->p += 4;
        return FA_OK;
    default:
        if (skip_plain_number(c))
            return FA_OK;
        rc = fa_jr_lex_number(c, &t);
        if (rc == FA_EUNSUPPORTED)
            return fa_jr_err_expected(c, "a value");
        return rc;
    }
}

/* An object member's key and its ':' (c->p where a key is expected, whitespace skipped). */
static inline int skip_key(jctx *c)
{
    const unsigned char *s;
    size_t n;
    int esc;
    const int rc = fa_jr_key(c, &s, &n, &esc, "a string (object key)");
    return rc != FA_OK ? rc : fa_jr_colon(c, "':'");
}

/* Three states, as labels: `value` (a value starts at c->p), `member` (a key is
 * expected), `after` (a value ended: ',' or the closing bracket of the innermost open
 * container). The stack holds SKIP_ARRAY / SKIP_OBJECT per open container. */
int fa_jr_skip_value(jctx *c)
{
    unsigned char stack[FA_JSON_MAX_DEPTH];
    int depth = 0, rc;

value:
    if (c->p >= c->end)
        return fa_jr_err_eof(c);
    if (*c->p == '{' || *c->p == '[') {
        const unsigned char kind = *c->p == '{' ? SKIP_OBJECT : SKIP_ARRAY;
        if (depth >= FA_JSON_MAX_DEPTH)
            return fa_jr_err(c, FA_EUNSUPPORTED, c->p, "nesting deeper than %d levels", FA_JSON_MAX_DEPTH);
        stack[depth++] = kind;
        c->p++;
        skip_ws(c);
        if (c->p < c->end && *c->p == (kind == SKIP_OBJECT ? '}' : ']')) {
            c->p++;
            depth--;
            goto after;
        }
        if (kind == SKIP_OBJECT)
            goto member;
        goto value;
    }
    rc = skip_scalar(c);
    if (rc != FA_OK)
        return rc;
    goto after;

member:
    rc = skip_key(c);
    if (rc != FA_OK)
        return rc;
    goto value;

after:
    if (depth == 0)
        return FA_OK;
    if (stack[depth - 1] == SKIP_OBJECT) {
        rc = fa_jr_next_item(c, '}', "',' or '}'");
        if (rc == 1)
            goto member;
    } else {
        rc = fa_jr_next_item(c, ']', "',' or ']'");
        if (rc == 1)
            goto value;
    }
    if (rc == 0) {
        depth--;
        goto after;
    }
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* the start of a scan                                                                */
/* ---------------------------------------------------------------------------------- */

/* What both starts share: *err cleared, c over [buf, buf + len) (NULL: empty), c->p at
 * its first byte, outside records and fields. Returns the length (0 for NULL). */
static size_t scan_init(jctx *c, const char *buf, size_t len, fa_json_error *err)
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
    return len;
}

/* Set up a scan of [buf, buf + len): clear *err; at begin == 0 skip a UTF-8 BOM (reject
 * UTF-16/32) and leading whitespace, else start at byte `begin` (offsets in errors stay
 * relative to buf). */
int fa_jr_begin(jctx *c, const char *buf, size_t len, size_t begin, fa_json_error *err)
{
    len = scan_init(c, buf, len, err);
    if (begin > 0) {
        c->p = c->buf + (begin < len ? begin : len);
        return FA_OK;
    }
    if (len >= 3 && c->p[0] == 0xEF && c->p[1] == 0xBB && c->p[2] == 0xBF) {
        c->p += 3;
    } else if (len >= 2 && (c->p[0] == 0 || c->p[1] == 0 || (c->p[0] == 0xFE && c->p[1] == 0xFF) ||
                            (c->p[0] == 0xFF && c->p[1] == 0xFE))) {
        return fa_jr_err(c, FA_EUNSUPPORTED, c->p, "input is not UTF-8 (UTF-16/32?)");
    }
    skip_ws(c);
    return FA_OK;
}

void fa_jr_begin_span(jctx *c, const char *buf, size_t len, const char *field, fa_json_error *err)
{
    (void)scan_init(c, buf, len, err);
    c->key = (const unsigned char *)field;
    c->key_len = strlen(field);
    skip_ws(c);
}
