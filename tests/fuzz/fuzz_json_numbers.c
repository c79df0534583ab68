/*
 * fuzz_json_numbers.c -- fuzz target: an array of numbers (fa_json_number_array, the
 * reader of keypoints, polygons and uncompressed counts).
 *
 * Built as fuzz_json_results.c says. Checks beyond memory safety: the AVX-512BW path and
 * the scalar loop give the same return code, count, values (bit for bit) and error
 * (where the CPU has AVX-512BW; elsewhere only the scalar loop runs); every value of an
 * accepted array is what Python's float(json.loads(token)) gives -- strtod in the C
 * locale (correctly rounded in glibc), NaN / Infinity, and +0.0 for the integer "-0";
 * a capacity too small gives FA_EINVAL with exactly `cap` numbers read.
 */
#include "fastap.h"
#include "fuzz_driver.h"

#include <math.h>

const char *const k_fuzz_name = "fuzz_json_numbers";

const char *const k_seeds[] = {
    "[]",
    "[1,2,3]",
    " [ -0 , -0.0 , 0e5, 1E+2, 1e-400, 1e309, NaN, Infinity, -Infinity ] ",
    "[445.68, 120.03, 2, 452.33, 118.51, 2, 0, 0, 0, 440.1, 115.97, 2, 10, 20, 1, 30.5, 40.25, 2, "
    "-1.5, 0.125, 0, 123456.789, 9.99, 1]",
    "[0.30000000000000004, 9007199254740993, 123456789012345678901234567890, "
    "2.2250738585072011e-308, 4.9406564584124654e-324, 1.7976931348623157e308, "
    "0.1000000000000000055511151231257827021181583404541015625]",
    "[1,\n2,\t3,\r4, 5 ,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30]",
    "[01, 2]", "[1.]", "[.5]", "[1,]", "[-]", "[1 2]", "[1e]", "[\"1\"]", "[[1]]",
    NULL,
};

typedef struct {
    int rc;
    int64_t n;
    fa_json_error err;
} result;

static result run(const uint8_t *d, size_t size, double *out, int64_t cap)
{
    result r;
    r.n = -1;
    r.rc = fa_json_number_array((const char *)d, size, out, cap, &r.n, &r.err);
    return r;
}

static void same_result(const result *a, const result *b, const double *va, const double *vb)
{
    FUZZ_CHECK(a->rc == b->rc && a->n == b->n, "simd: rc %d n %lld, scalar: rc %d n %lld",
               a->rc, (long long)a->n, b->rc, (long long)b->n);
    for (int64_t i = 0; i < a->n; i++)
        FUZZ_CHECK(fuzz_same_double(va[i], vb[i]), "value %lld differs: %.17g vs %.17g",
                   (long long)i, va[i], vb[i]);
    if (a->rc != FA_OK)
        FUZZ_CHECK(a->err.offset == b->err.offset && strcmp(a->err.message, b->err.message) == 0,
                   "errors differ: @%lld %s vs @%lld %s", (long long)a->err.offset,
                   a->err.message, (long long)b->err.offset, b->err.message);
}

/* Every value against the oracle (the array was accepted, so the tokens are valid). */
static void values_exact(const uint8_t *d, size_t size, const double *v, int64_t n)
{
    size_t p = 0;
    int64_t k = 0;
    char tok[512];
    while (p < size && k < n) {
        size_t q, len;
        double want;
        while (p < size && (d[p] == ' ' || d[p] == '\t' || d[p] == '\n' || d[p] == '\r' ||
                            d[p] == '[' || d[p] == ','))
            p++;
        q = p;
        while (q < size && d[q] != ',' && d[q] != ']' && d[q] != ' ' && d[q] != '\t' &&
               d[q] != '\n' && d[q] != '\r')
            q++;
        len = q - p;
        if (len >= sizeof tok)
            return;                                 /* (long tokens: strtod checked elsewhere) */
        memcpy(tok, d + p, len);
        tok[len] = '\0';
        p = q;
        if (strcmp(tok, "NaN") == 0) {
            FUZZ_CHECK(isnan(v[k]), "NaN token gave %g", v[k]);
            k++;
            continue;
        }
        want = strcmp(tok, "Infinity") == 0 ? INFINITY : strcmp(tok, "-Infinity") == 0 ? -INFINITY
             : strtod(tok, NULL);
        if (!strpbrk(tok, ".eEIN")) {               /* a JSON integer: Python's int */
            if (want == 0)
                want = 0.0;                         /* "-0" is the integer 0 */
            if (isinf(want)) {                      /* float(huge int) raises in Python */
                k++;
                continue;
            }
        }
        FUZZ_CHECK(fuzz_same_double(v[k], want), "token '%s' gave %.17g, float() gives %.17g",
                   tok, v[k], want);
        k++;
    }
    FUZZ_CHECK(k == n, "%lld tokens for %lld values", (long long)k, (long long)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int64_t caps[3] = {(int64_t)size + 1, 16, 2};
    const int simd = fa_json_simd_numbers(1);
    for (int c = 0; c < 3; c++) {
        const int64_t cap = caps[c];
        double *a = fuzz_alloc((size_t)cap * sizeof(double));
        double *b = fuzz_alloc((size_t)cap * sizeof(double));
        result ra, rb;
        fa_json_simd_numbers(0);
        rb = run(data, size, b, cap);
        if (simd) {
            fa_json_simd_numbers(1);
            ra = run(data, size, a, cap);
            same_result(&ra, &rb, a, b);
        }
        FUZZ_CHECK(rb.n >= 0 && rb.n <= cap, "n %lld with cap %lld", (long long)rb.n, (long long)cap);
        FUZZ_CHECK(rb.rc != FA_EINVAL || rb.n == cap, "FA_EINVAL after %lld of %lld",
                   (long long)rb.n, (long long)cap);
        if (rb.rc != FA_OK)
            FUZZ_CHECK(rb.err.offset >= 0 && rb.err.offset <= (int64_t)size, "error offset %lld",
                       (long long)rb.err.offset);
        if (rb.rc == FA_OK && c == 0)
            values_exact(data, size, b, rb.n);
        free(a);
        free(b);
    }
    fa_json_simd_numbers(1);
    return 0;
}
