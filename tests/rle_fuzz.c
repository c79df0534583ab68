/*
 * rle_fuzz.c -- memory-safety driver for csrc/rle.c, built with
 *   gcc -std=c99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
 *       -Icsrc tests/rle_fuzz.c csrc/rle.c -lm -o rle_fuzz && ./rle_fuzz [iterations]
 * (tests/test_mask.py::test_rle_sanitizer does this). Every buffer is allocated with the
 * exact size the API documents, so AddressSanitizer reports any access past it; inputs
 * are random valid masks / polygons (round trips are checked) and malformed ones
 * (random bytes as strings, counts that do not sum to h*w, zero and huge counts).
 * Exits 0 when everything passed, 1 with a message on a failed check.
 */
#include "fastap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9E3779B97F4A7C15ULL;

static uint64_t next(void)
{
    /* xorshift64* */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
}

static int64_t below(int64_t n) { return n > 0 ? (int64_t)(next() % (uint64_t)n) : 0; }
static double uniform(double lo, double hi) { return lo + (hi - lo) * (double)(next() >> 11) / 9007199254740992.0; }

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "rle_fuzz: check failed at line %d: ", __LINE__);              \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fprintf(stderr, "\n");                                                         \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

static void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);
    CHECK(p != NULL, "out of memory");
    return p;
}

static void text_agrees(const char *s, int64_t len, int64_t h, int64_t w);

/* A random valid mask, its encode / string / decode round trip, area, bbox. */
static void valid_round_trip(void)
{
    int64_t h = below(40), w = below(40), n = h * w;
    uint8_t *mask = xmalloc((size_t)n);
    int mode = (int)below(4);
    double p = uniform(0, 1);
    for (int64_t i = 0; i < n; i++)
        mask[i] = mode == 0 ? 0 : mode == 1 ? (uint8_t)(1 + below(255)) : (uniform(0, 1) < p);
    uint32_t *cnts = xmalloc((size_t)(n + 1) * sizeof(uint32_t));
    fa_rle r = {h, w, fa_rle_encode(mask, h, w, cnts), cnts};
    CHECK(r.m >= 1 && r.m <= n + 1, "m = %lld", (long long)r.m);

    char *s = xmalloc((size_t)fa_rle_string_bound(&r));
    int64_t len = fa_rle_to_string(&r, s);
    char *exact = xmalloc((size_t)len); /* not NUL-terminated: exact size */
    memcpy(exact, s, (size_t)len);
    uint32_t *back = xmalloc((size_t)(len > 0 ? len : 1) * sizeof(uint32_t));
    int64_t m2 = -1;
    char msg[128];
    int rc = fa_rle_from_string(exact, len, h, w, back, len, &m2, msg, sizeof msg);
    CHECK(rc == FA_OK, "from_string failed: %s", msg);
    CHECK(m2 == r.m && (r.m == 0 || memcmp(back, cnts, (size_t)r.m * 4) == 0), "round trip");

    uint8_t *dec = xmalloc((size_t)n);
    CHECK(fa_rle_decode(&r, dec) == FA_OK, "decode");
    uint64_t area = 0;
    for (int64_t i = 0; i < n; i++) {
        CHECK(dec[i] == (mask[i] != 0), "decode differs at %lld", (long long)i);
        area += dec[i];
    }
    CHECK(fa_rle_area(&r) == area, "area");
    double bb[4];
    fa_rle_to_bbox(&r, bb);
    text_agrees(exact, len, h, w);

    /* IoU with itself: 1 where the mask is non-empty */
    double o;
    fa_rle_iou(&r, NULL, 1, &r, NULL, 1, NULL, &o);
    CHECK(area == 0 ? o == 0 : o == 1, "self iou %g", o);

    /* merge with itself and an inverted copy */
    fa_rle two[2] = {r, r};
    uint32_t *mc = xmalloc((size_t)fa_rle_merge_bound(two, 2) * sizeof(uint32_t));
    int64_t mm = fa_rle_merge(two, 2, (int)below(2), mc);
    CHECK(mm >= 0 && mm <= fa_rle_merge_bound(two, 2) / 2, "merge m");

    free(mask); free(cnts); free(s); free(exact); free(back); free(dec); free(mc);
}

/* The in-text pass (fa_rle_text_stats / fa_rle_text_decode) agrees with the strict
 * decoder on a string: valid for both or neither, the same counts, area and box; and
 * again with every backslash written as JSON's escape "\\". */
static void text_agrees(const char *s, int64_t len, int64_t h, int64_t w)
{
    char *esc = xmalloc((size_t)(2 * len + 2));
    int64_t elen = 0;
    for (int64_t i = 0; i < len; i++) {
        if (s[i] == '\\') esc[elen++] = '\\';
        esc[elen++] = s[i];
    }
    char *raw = xmalloc((size_t)len + 1);     /* exactly len bytes are read */
    if (len) memcpy(raw, s, (size_t)len);
    uint32_t *a = xmalloc((size_t)(len + 1) * sizeof(uint32_t));
    uint32_t *b = xmalloc((size_t)(len + 1) * sizeof(uint32_t));
    void *ch = xmalloc(fa_rle_text_scratch_bytes(2 * len + 1));
    int64_t ma = -1;
    int ok = fa_rle_from_string(s, len, h, w, a, len + 1, &ma, NULL, 0) == FA_OK;
    for (int json = 0; json < 2; json++) {
        int64_t mb = -1;
        double area, bb[4], rb[4];
        int rc = json ? fa_rle_text_stats(esc, elen, 1, h, w, b, ch, &mb, &area, bb)
                      : fa_rle_text_stats(raw, len, 0, h, w, b, ch, &mb, &area, bb);
        CHECK((rc == FA_OK) == ok, "text_stats validity differs (json %d)", json);
        if (!ok) continue;
        fa_rle r = {h, w, ma, a};
        fa_rle_to_bbox(&r, rb);
        CHECK(mb == ma && area == (double)fa_rle_area(&r) && memcmp(bb, rb, sizeof bb) == 0,
              "text_stats differs (json %d)", json);
        int64_t md = json ? fa_rle_text_decode(esc, elen, 1, b, ch) : fa_rle_text_decode(raw, len, 0, b, ch);
        CHECK(md == ma && (ma == 0 || memcmp(a, b, (size_t)ma * 4) == 0), "text_decode differs");
    }
    /* fastap.mask's reader: the in-text decoder plus the sum, as the strict one */
    int64_t mt = -1;
    int rt = fa_rle_from_text(raw, len, h, w, b, ch, &mt);
    CHECK((rt == FA_OK) == ok, "from_text validity differs");
    CHECK(!ok || (mt == ma && (ma == 0 || memcmp(a, b, (size_t)ma * 4) == 0)), "from_text differs");
    free(esc); free(raw); free(a); free(b); free(ch);
}

/* Random counts that need not sum to h*w: nothing may read or write out of bounds. */
static void malformed_counts(void)
{
    int64_t h = below(12), w = below(12), n = h * w, m = below(12);
    uint32_t *cnts = xmalloc((size_t)m * sizeof(uint32_t));
    for (int64_t i = 0; i < m; i++) {
        int k = (int)below(5);
        cnts[i] = k == 0 ? 0 : k == 1 ? UINT32_MAX - (uint32_t)below(3)
                : k == 2 ? (uint32_t)below(1 << 30) : (uint32_t)below(n + 2);
    }
    fa_rle r = {h, w, m, m ? cnts : NULL};
    uint8_t *dec = xmalloc((size_t)n);
    (void)fa_rle_decode(&r, dec);
    (void)fa_rle_area(&r);
    double bb[4];
    fa_rle_to_bbox(&r, bb);

    int64_t m2 = below(12);
    uint32_t *c2 = xmalloc((size_t)m2 * sizeof(uint32_t));
    for (int64_t i = 0; i < m2; i++) c2[i] = (uint32_t)below(n + 2);
    fa_rle g = {h, w, m2, m2 ? c2 : NULL};
    double bbg[4] = {0, 0, 1, 1}, bbd[4] = {0, 0, 1, 1}, out[1];
    uint8_t crowd = (uint8_t)below(2);
    fa_rle_iou(&r, bbd, 1, &g, bbg, 1, &crowd, out);
    fa_rle_iou(&r, NULL, 1, &g, NULL, 1, &crowd, out);

    fa_rle rs[3] = {r, g, r};
    int64_t nb = fa_rle_merge_bound(rs, 3);
    uint32_t *mc = xmalloc((size_t)nb * sizeof(uint32_t));
    int64_t mm = fa_rle_merge(rs, 3, (int)below(2), mc);
    CHECK(mm >= 0 && mm <= nb / 2, "merge of malformed counts: m = %lld", (long long)mm);

    char *s = xmalloc((size_t)fa_rle_string_bound(&r));
    (void)fa_rle_to_string(&r, s);
    free(cnts); free(dec); free(c2); free(mc); free(s);
}

/* pycocotools' string decoding (rleFrString) with fastap's checks and no sum check:
 * the plain reference for fa_rle_text_decode. -1 when invalid. */
static int64_t ref_text_decode(const char *s, int64_t len, uint32_t *out)
{
    int64_t n = 0, p = 0;
    while (p < len) {
        int64_t x = 0;
        int k = 0, more = 1;
        while (more) {
            if (p >= len || k >= 12) return -1;          /* cut short, or too long */
            unsigned c = (unsigned)(unsigned char)s[p] - 48u;
            if (c > 63) return -1;                       /* outside '0'..'o' */
            x |= (int64_t)(c & 0x1f) << (5 * k);
            more = (int)(c & 0x20);
            p++;
            k++;
            if (!more && (c & 0x10)) x |= (int64_t)(~(uint64_t)0 << (5 * k));
        }
        if (n > 2) x += out[n - 2];
        if (x < 0 || x > (int64_t)UINT32_MAX) return -1;
        out[n++] = (uint32_t)x;
    }
    return n;
}

/* Three counts near 0, 2^31 or 2^32, then a run of one-character values (the shape the
 * eight-at-a-time decoder takes; sums may cross 0 or 2^32): fa_rle_text_decode gives
 * the reference's counts, or rejects what it rejects, with and without JSON escapes. */
static void big_values_string(void)
{
    uint32_t c[3];
    for (int i = 0; i < 3; i++) {
        int k = (int)below(5);
        uint64_t v = k == 0 ? below(40) : k == 1 ? 0x7FFFFF00u + below(512)
                   : k == 2 ? 0x80000000u - below(40) : k == 3 ? 0xFFFFFFFFu - below(40) : below(1u << 31);
        c[i] = (uint32_t)v;
    }
    fa_rle r = {1, 1, 3, c};
    int64_t extra = (int64_t)below(40);
    char *s = xmalloc((size_t)fa_rle_string_bound(&r) + (size_t)extra + 1);
    int64_t len = fa_rle_to_string(&r, s);
    for (int64_t i = 0; i < extra; i++)       /* one-character values: '0'..'O' */
        s[len++] = (char)(48 + below(32));
    if (len > 0 && below(4) == 0) s[below(len)] = (char)(48 + below(64));   /* a changed value */
    uint32_t *a = xmalloc((size_t)(len + 1) * sizeof(uint32_t));
    uint32_t *b = xmalloc((size_t)(len + 1) * sizeof(uint32_t));
    char *esc = xmalloc((size_t)(2 * len + 2));
    int64_t elen = 0;
    for (int64_t i = 0; i < len; i++) {
        if (s[i] == '\\') esc[elen++] = '\\';
        esc[elen++] = s[i];
    }
    void *ch = xmalloc(fa_rle_text_scratch_bytes(2 * len + 1));
    int64_t want = ref_text_decode(s, len, a);
    for (int json = 0; json < 2; json++) {
        int64_t got = json ? fa_rle_text_decode(esc, elen, 1, b, ch) : fa_rle_text_decode(s, len, 0, b, ch);
        CHECK(got == want, "text_decode of big values: %lld counts, reference %lld (json %d)",
              (long long)got, (long long)want, json);
        CHECK(want <= 0 || memcmp(a, b, (size_t)want * 4) == 0, "text_decode of big values differs");
    }
    free(s); free(a); free(b); free(esc); free(ch);
}

/* Random bytes (mostly from the alphabet) as a compressed string. */
static void malformed_string(void)
{
    int64_t len = below(24);
    char *s = xmalloc((size_t)len);
    for (int64_t i = 0; i < len; i++)
        s[i] = below(10) == 0 ? (char)below(256) : (char)(48 + below(64));
    uint32_t *cnts = xmalloc((size_t)(len > 0 ? len : 1) * sizeof(uint32_t));
    int64_t m = -1;
    char msg[64];
    int64_t sh = below(50), sw = below(50);
    int rc = fa_rle_from_string(s, len, sh, sw, cnts, len, &m, msg, sizeof msg);
    CHECK(rc == FA_OK || rc == FA_EPARSE, "rc %d", rc);
    text_agrees(s, len, sh, sw);
    {
        uint32_t *ra = xmalloc((size_t)(len + 1) * sizeof(uint32_t)), *rb = xmalloc((size_t)(len + 1) * sizeof(uint32_t));
        void *rch = xmalloc(fa_rle_text_scratch_bytes(len));
        int64_t want = ref_text_decode(s, len, ra), got = fa_rle_text_decode(s, len, 0, rb, rch);
        CHECK(got == want && (want <= 0 || memcmp(ra, rb, (size_t)want * 4) == 0), "text_decode vs reference");
        free(ra); free(rb); free(rch);
    }
    if (rc != FA_OK) CHECK(strlen(msg) > 0 && strlen(msg) < sizeof msg, "message");
    /* a smaller capacity is reported, not overrun */
    if (len > 1) {
        rc = fa_rle_from_string(s, len, below(50), below(50), cnts, 1, &m, NULL, 0);
        CHECK(rc == FA_OK || rc == FA_EPARSE || rc == FA_EINVAL, "rc %d", rc);
    }
    free(s); free(cnts);
}

static void polygon(void)
{
    int64_t h = below(60), w = below(60), k = below(9);
    int far = below(8) == 0;
    double *xy = xmalloc((size_t)(2 * k) * sizeof(double));
    for (int64_t i = 0; i < 2 * k; i++) {
        double extent = (i % 2 ? h : w) + 1.0;
        xy[i] = far ? uniform(-2e4, 2e4) : uniform(-0.3 * extent, 1.3 * extent);
        if (below(4) == 0) xy[i] = floor(xy[i]);
    }
    int64_t cap = fa_rle_poly_counts_bound(xy, k, h, w);
    CHECK(cap >= 1, "bound %lld", (long long)cap);
    size_t sb = fa_rle_poly_scratch_bytes(xy, k, h, w);
    void *scratch = xmalloc(sb);
    uint32_t *cnts = xmalloc((size_t)cap * sizeof(uint32_t));
    int64_t m = fa_rle_from_poly(xy, k, h, w, scratch, cnts);
    CHECK(m >= 1 && m <= cap, "poly m = %lld (cap %lld)", (long long)m, (long long)cap);
    if (h > 0 && w > 0) {
        uint64_t sum = 0;
        for (int64_t i = 0; i < m; i++) sum += cnts[i];
        CHECK(sum == (uint64_t)(h * w), "poly counts sum %llu", (unsigned long long)sum);
    }
    /* the box path */
    double bb[4] = {uniform(-10, w + 10.0), uniform(-10, h + 10.0), uniform(0, 80), uniform(0, 80)};
    int64_t bcap = fa_rle_bbox_counts_bound(bb, h, w);
    CHECK(bcap >= 2, "bbox bound");
    uint32_t *bc = xmalloc((size_t)bcap * sizeof(uint32_t));
    int64_t bm = fa_rle_from_bbox(bb, h, w, bc);
    CHECK(bm >= 1 && bm <= bcap / 2, "bbox m = %lld", (long long)bm);
    free(xy); free(scratch); free(cnts); free(bc);
}

static void bad_coordinates(void)
{
    double xy[6] = {1, 1, 5, 1, 3, 4};
    double bad[3] = {NAN, INFINITY, 3e8};
    for (int i = 0; i < 3; i++) {
        xy[2] = bad[i];
        CHECK(fa_rle_poly_counts_bound(xy, 3, 10, 10) == FA_EINVAL, "bad coordinate accepted");
        CHECK(fa_rle_poly_scratch_bytes(xy, 3, 10, 10) == 0, "scratch of bad coordinate");
        uint32_t c[4];
        CHECK(fa_rle_from_poly(xy, 3, 10, 10, NULL, c) == FA_EINVAL, "from_poly accepted it");
        double bb[4] = {0, 0, bad[i], 1};
        CHECK(fa_rle_bbox_counts_bound(bb, 10, 10) == FA_EINVAL, "bad box accepted");
        CHECK(fa_rle_from_bbox(bb, 10, 10, c) == FA_EINVAL, "from_bbox accepted it");
    }
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 3000;
    for (long it = 0; it < iterations; it++) {
        valid_round_trip();
        malformed_counts();
        malformed_string();
        big_values_string();
        polygon();
    }
    bad_coordinates();
    printf("rle_fuzz: %ld iterations passed\n", iterations);
    return 0;
}
