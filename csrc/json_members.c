/*
 * json_members.c -- the top-level members of a ground-truth file.
 *
 * What it does: a ground-truth file is one JSON object {"images": [...], "annotations":
 * [...], "categories": [...], ...}. fa_json_object_members validates the whole document
 * (the skipper of json_lex.c, which checks the common number shapes without converting
 * them) and reports the byte spans of its members; fa_json_member_spans finds the same
 * spans by matching brackets and strings only (no validation), so that a caller can
 * validate the document on one thread while it reads a member on another.
 * Data layout: spans are offsets into the caller's buffer (fa_json_member); nothing is
 * copied. The unvalidated walk reads 64 bytes at a time where a block holds no
 * backslash (SSE2 compares, a prefix XOR of the quote bits marks the bytes inside
 * strings).
 */
#include "json_internal.h"

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
    rc = fa_jr_begin(&c, buf, len, 0, err);
    if (rc != FA_OK)
        return rc;
    if (c.p >= c.end)
        return fa_jr_err_eof(&c);
    if (*c.p != '{') {
        char tmp[16];
        return fa_jr_err(&c, FA_EPARSE, c.p, "expected a JSON object at the top level, got %s",
                    fa_jr_describe(&c, c.p, tmp, sizeof tmp));
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
            rc = fa_jr_key(&c, &ks, &kn, &esc, "a string (object key)");
            if (rc != FA_OK)
                return rc;
            c.key = ks;             /* errors after the key (its ':', the value) name it */
            c.key_len = kn;
            rc = fa_jr_colon(&c, "':' after the key");
            if (rc != FA_OK)
                return rc;
            vs = c.p;
            if (validate) {
                rc = fa_jr_skip_value(&c);
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
            rc = fa_jr_next_item(&c, '}', "',' or '}' after the member");
            if (rc < 0)
                return rc;
            if (rc == 0)
                break;
        }
    }
    skip_ws(&c);
    if (validate && c.p != c.end) {
        char tmp[16];
        return fa_jr_err(&c, FA_EPARSE, c.p, "unexpected data after the closing '}': %s",
                    fa_jr_describe(&c, c.p, tmp, sizeof tmp));
    }
    if (n) *n = k;
    if (k > cap)
        return fa_jr_err(&c, FA_EINVAL, c.end, "%lld members, more than the capacity %lld",
                    (long long)k, (long long)cap);
    return FA_OK;
}

int fa_json_member_spans(const char *buf, size_t len, fa_json_member *out, int64_t cap,
                         int64_t *n)
{
    const int rc = object_members(buf, len, out, cap, n, NULL, 0);
    return rc == FA_OK || rc == FA_EINVAL ? rc : FA_EPARSE;
}
