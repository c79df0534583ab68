/*
 * json_number.c -- number tokens of the JSON reader: the general lexer, the slow tier and
 * the id rules.
 *
 * What it does: fa_jr_lex_number reads any JSON number token (and NaN / Infinity /
 * -Infinity, as json.loads accepts them) into a jnum: up to 19 significant digits in a
 * uint64 and a decimal exponent, or "truncated" when there are more;
 * fa_jr_num_to_double turns it into the double Python's float() gives (the three tiers
 * of json_number.h: Clinger's fast path, Eisel-Lemire with the generated table
 * json_pow5_table.h, strtod on a local copy for the rest); fa_jr_parse_double /
 * fa_jr_parse_id are the general readers behind the inline fast paths of json_number.h.
 * Data layout: tokens are read in place; only a token longer than 63 bytes is copied
 * (malloc) for strtod. No state outside the jctx (the locale's decimal point is looked
 * up once per scan), so scans on many threads share nothing.
 */
#include "json_number.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "json_pow5_table.h"

const double fa_jr_pow10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int fa_jr_lex_number(jctx *c, jnum *t)
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
        return t->neg ? fa_jr_err(c, FA_EPARSE, e, "unexpected end of file") : FA_EUNSUPPORTED;
    if (*p == 'I' || (*p == 'N' && !t->neg)) {
        const char *lit = *p == 'I' ? "Infinity" : "NaN";
        if (!match_lit(c, p, lit))
            return fa_jr_err(c, FA_EPARSE, t->start, "invalid literal");
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
            return fa_jr_err(c, FA_EPARSE, t->start, "invalid number");
        return FA_EUNSUPPORTED;
    }
    t->kind = NUM_INT;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9')
            return fa_jr_err(c, FA_EPARSE, t->start, "invalid number (no digit after '.')");
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
            return fa_jr_err(c, FA_EPARSE, t->start, "invalid number (no digit in exponent)");
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
            return fa_jr_err(c, FA_ENOMEM, t->start, "out of memory");
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
int fa_jr_num_to_double(jctx *c, const jnum *t, double *out)
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
                d = d / fa_jr_pow10[-e];
            } else if (e >= 0 && e <= 22) {
                d = d * fa_jr_pow10[e];
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

void fa_jr_format_token(const jnum *t, char *buf, size_t n)
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


/* A number value (score, bbox coordinate, area). */
int fa_jr_parse_double(jctx *c, double *out, const char *what)
{
    jnum t;
    int rc = fa_jr_lex_number(c, &t);
    if (rc == FA_EUNSUPPORTED)
        return fa_jr_err_expected(c, what);
    if (rc != FA_OK)
        return rc;
    return fa_jr_num_to_double(c, &t, out);
}

/* An id: an integer within int64, or a float with an integral value within int64. */
int fa_jr_parse_id(jctx *c, int64_t *out)
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
    rc = fa_jr_lex_number(c, &t);
    if (rc == FA_EUNSUPPORTED)
        return fa_jr_err_expected(c, "an integer");
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
        fa_jr_format_token(&t, tok, sizeof tok);
        return fa_jr_err(c, FA_EPARSE, t.start, "%s is outside the int64 range: %s", name, tok);
    } else {
        double d;
        rc = fa_jr_num_to_double(c, &t, &d);
        if (rc != FA_OK)
            return rc;
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
            fa_jr_format_token(&t, tok, sizeof tok);
            return fa_jr_err(c, FA_EPARSE, t.start, "%s must be an integer in the int64 range, got %s",
                        name, tok);
        }
        if (d != floor(d)) {
            fa_jr_format_token(&t, tok, sizeof tok);
            return fa_jr_err(c, FA_EPARSE, t.start, "%s must be an integer, got %s", name, tok);
        }
        *out = (int64_t)d;
        return FA_OK;
    }
}
