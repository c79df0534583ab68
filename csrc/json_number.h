/*
 * json_number.h -- number tokens to doubles, the inline tiers (private to the JSON reader).
 *
 * Numbers must come out bit-identical to Python's float() of the token (and "-0", an
 * integer, gives +0.0). Three tiers: (1) Clinger's fast path: up to 19 significant digits
 * in a uint64 w with a decimal exponent e; when w <= 2^53 and |e| <= 22, w and 10^|e| are
 * exact doubles and one IEEE multiplication or division is correctly rounded (e up to
 * 22+15 by first multiplying w by a power of ten while it stays an exact integer) -- this
 * covers rounded COCO boxes and scores; (2) otherwise, for an exact mantissa of at most
 * 19 digits, the Eisel-Lemire algorithm (a 64x128-bit product with a table of 128-bit
 * powers of five, json_pow5_table.h, written by tools/gen_pow5_table.py; the algorithm,
 * table and checks of fast_float's compute_float, including its conservative give-up
 * test) -- this covers repr() of float32/float64 values, 16-17 digits; (3) everything
 * else (more than 19 digits, or Eisel-Lemire giving up) goes to strtod on a
 * NUL-terminated local copy of the token, with '.' replaced by the current locale's
 * decimal point (glibc's strtod is correctly rounded). The fast path (1) is only compiled
 * where double arithmetic is not evaluated in extended precision (FLT_EVAL_METHOD == 0).
 *
 * Layout: the per-token fast paths that records and number arrays run (fast_number,
 * fast_double, fast_id, eisel_lemire) are static inline here, as they were when the
 * reader was one file; the general lexer, the slow tier and the id rules are in
 * json_number.c.
 */
#ifndef FASTAP_JSON_NUMBER_H
#define FASTAP_JSON_NUMBER_H

#include "json_internal.h"

#include <math.h>

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
FA_JR_INTERNAL int fa_jr_lex_number(jctx *c, jnum *t);
/* The double that Python's float() gives for the token. */
FA_JR_INTERNAL int fa_jr_num_to_double(jctx *c, const jnum *t, double *out);
/* A number value (score, bbox coordinate, area); `what` names it in "expected" errors. */
FA_JR_INTERNAL int fa_jr_parse_double(jctx *c, double *out, const char *what);
/* An id: an integer within int64, or a float with an integral value within int64. */
FA_JR_INTERNAL int fa_jr_parse_id(jctx *c, int64_t *out);
/* The token's text for messages, "..." when it does not fit in buf[n]. */
FA_JR_INTERNAL void fa_jr_format_token(const jnum *t, char *buf, size_t n);

/* 10^0 .. 10^22, exact doubles (json_number.c). */
FA_JR_INTERNAL extern const double fa_jr_pow10[23];
/* 5^q, q in [-342, 308], 128 bits each, high word first (json_pow5_table.h). */
FA_JR_INTERNAL extern const uint64_t fa_jr_pow5_128[651 * 2];

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

/* floor(x / 65536) without relying on the implementation-defined >> of negatives. */
static inline int64_t floor_div_65536(int64_t x)
{
    return x >= 0 ? x / 65536 : -((-x + 65535) / 65536);
}

/* Eisel-Lemire: the correctly rounded double nearest to w * 10^q for an exact decimal
 * mantissa 0 < w < 10^19 (fast_float's compute_float for binary64, with its
 * conservative fallback test kept). Returns 0 when it cannot decide (the caller then
 * uses strtod); that is extremely rare. */
static inline int eisel_lemire(uint64_t w, int64_t q, int neg, double *out)
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
        mul_64x64(w, fa_jr_pow5_128[idx], &hi, &lo);
        if ((hi & 0x1FF) == 0x1FF) {        /* the 55 leading bits may be off by one */
            uint64_t hi2, lo2;
            mul_64x64(w, fa_jr_pow5_128[idx + 1], &hi2, &lo2);
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

/* Fast paths for the common shapes of tokens: "-?digits(.digits)?" with at most 19
 * digits in all. Anything else (exponent, NaN / Infinity, long mantissas, malformed
 * tokens) goes to the general lexer (json_number.c), from the same position, so the
 * result and the error messages do not depend on which path ran. */

/* The fast path of fast_double on local pointers (no jctx: callers keep the position in on local pointers (no jctx: callers keep the position in
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
        d = d / fa_jr_pow10[fd];   /* fd <= 19 */
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
    return fa_jr_parse_double(c, out, "a number");
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
        return fa_jr_parse_id(c, out);
    *out = neg ? -(int64_t)w : (int64_t)w;
    c->p = p;
    return FA_OK;
}

#endif
