/*
 * json_numarray.c -- arrays of plain numbers: keypoints, polygons, uncompressed counts.
 *
 * What it does: fa_jr_number_array reads a JSON array of numbers into a caller's row
 * (exactly the values of the scalar number readers of json_number.h), and
 * fa_jr_keypoint_xy the same for (x, y, v) keypoint triples of which only x and y are
 * kept; fa_json_number_array is the public reader of one keypoints span.
 * How the work is split: a scalar loop (fast_number, the general lexer for anything
 * else) and, where the CPU has AVX-512BW (chosen once, at first use: fa_json_simd_numbers),
 * a path that takes 64 bytes at a time and hands the scalar loop the first number it
 * does not take, so values, errors and their positions are the scalar loop's.
 */
#include "json_number.h"

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
                d = (double)v / fa_jr_pow10[fd];
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
        return fa_jr_err_eof(c);
    if (*c->p != '[')
        return fa_jr_err(c, FA_EPARSE, c->p, "%s must be an array of numbers, got %s", what,
                    fa_jr_describe(c, c->p, tmp, sizeof tmp));
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
                return fa_jr_err(c, FA_EINVAL, p, "more numbers than the capacity");
            }
            if (fast_number(p, e, &v, &q)) {
                p = q;
            } else {
                c->p = p;
                rc = fa_jr_parse_double(c, &v, "a number");
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
                return fa_jr_err_eof(c);
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
            return fa_jr_err(c, FA_EPARSE, p, "expected ',' or ']' in %s", what);
        }
    }
}

int fa_jr_number_array(jctx *c, double *out, int64_t cap, int64_t *n, const char *what)
{
    return number_array(c, out, cap, n, what, 0, NULL);
}

/* Keypoint triples with only x and y stored (see number_array). */
int fa_jr_keypoint_xy(jctx *c, double *out, int64_t cap, int64_t *n, int *finite)
{
    return number_array(c, out, cap, n, "keypoints", 1, finite);
}

int fa_json_number_array(const char *buf, size_t len, double *out, int64_t cap, int64_t *n,
                         fa_json_error *err)
{
    jctx c;
    fa_jr_begin_span(&c, buf, len, "keypoints", err);
    return fa_jr_number_array(&c, out, cap, n, "keypoints");
}
