/*
 * fuzz_json_rle.c -- fuzz target: one segmentation value, above all the RLE object with a
 * compressed-counts string (fa_json_rle_object, fa_json_segmentation_parse), and that
 * string given to the in-text decoders of rle.c.
 *
 *   gcc -std=c99 -DFASTAP_FUZZ_STANDALONE -fsanitize=address,undefined -Icsrc \
 *       -Itests/fuzz tests/fuzz/fuzz_json_rle.c csrc/json_*.c csrc/rle.c -lm
 * (or clang -fsanitize=fuzzer,... without the define). Checks beyond memory safety: where
 * both the quick reader and the full parser accept the value they agree (size, where
 * the counts lie, escapes); the counts read in place (fa_rle_text_stats with JSON
 * escapes, fa_rle_from_text) agree with the strict decoder on the decoded string.
 */
#include "fastap.h"
#include "fuzz_driver.h"

const char *const k_fuzz_name = "fuzz_json_rle";

const char *const k_seeds[] = {
    "{\"size\":[4,4],\"counts\":\"04\"}",
    "{\"counts\": \"52203\", \"size\": [3, 4]}",
    "{\"size\":[480.0,640],\"counts\":\"Xb0a\\\\b1O\"}",
    "{\"size\":[2,2],\"counts\":\"0\\u00344\"}",
    "{\"size\":[2,2],\"counts\":[0,4]}",
    "{\"size\":[2,2],\"counts\":\"04\",\"counts\":\"13\"}",
    "{\"size\":[-1,2],\"counts\":\"\"}",
    "{\"size\":[2147483648,1],\"counts\":\"0\"}",
    "{\"size\":[2,2]}",
    "[[1,2,3,4,5,6],[7,8,9,10,11,12.5]]",
    "{\"si\\u007ae\":[1,1],\"counts\":\"1\"}",
    "{\"size\":[3,3],\"counts\":\"\\\\\\\\\",\"x\":[{}]}",
    /* libFuzzer: a non-ASCII escape in counts that a later "counts" replaces (the
     * harness's str / no-str comparison was too strict) */
    "{\"size\":[0,3],\"counts\":\"00\\u06FFF\",\"eze\":[0,3],\"counts\":\"3\"}",
    NULL,
};

static void counts_agree(const char *decoded, int64_t n, const char *raw, int64_t raw_len, int esc,
                         int64_t h, int64_t w)
{
    const int64_t cap = (n > raw_len ? n : raw_len) + 1;
    uint32_t *a = fuzz_alloc((size_t)cap * sizeof(uint32_t));
    uint32_t *b = fuzz_alloc((size_t)cap * sizeof(uint32_t));
    void *chars = fuzz_alloc(fa_rle_text_scratch_bytes(cap));
    int64_t ma = -1, mb = -1;
    double area, bb[4];
    const int ok = fa_rle_from_string(decoded, n, h, w, a, cap, &ma, NULL, 0) == FA_OK;
    const int rs = fa_rle_text_stats(raw, raw_len, esc, h, w, b, chars, &mb, &area, bb);
    FUZZ_CHECK((rs == FA_OK) == ok, "text_stats (json %d) and from_string disagree", esc);
    if (ok) {
        FUZZ_CHECK(mb == ma, "text_stats m %lld, from_string %lld", (long long)mb, (long long)ma);
        FUZZ_CHECK(fa_rle_text_decode(raw, raw_len, esc, b, chars) == ma &&
                   (ma == 0 || memcmp(a, b, (size_t)ma * sizeof *a) == 0), "text_decode differs");
    }
    if (!esc) {
        int64_t mt = -1;
        const int rt = fa_rle_from_text(raw, raw_len, h, w, b, chars, &mt);
        FUZZ_CHECK((rt == FA_OK) == ok && (!ok || mt == ma), "from_text disagrees");
    }
    free(a);
    free(b);
    free(chars);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const int64_t cap = (int64_t)size;
    double *values = fuzz_alloc(size * sizeof(double));
    int64_t *poly_len = fuzz_alloc(size * sizeof(int64_t));
    char *str = fuzz_alloc(size);
    fa_json_segm segm, segm2;
    fa_json_error err;
    int64_t h = -1, w = -1, rs = -1, rl = -1;
    int esc = -1;
    const int quick = fa_json_rle_object(s, size, &h, &w, &rs, &rl, &esc);
    const int rc = fa_json_segmentation_parse(s, size, values, poly_len, str, cap, &segm, &err);
    const int rc2 = fa_json_segmentation_parse(s, size, values, poly_len, NULL, cap, &segm2, NULL);
    /* without str, escaped counts are not decoded: only the decoding's own errors (a
     * non-ASCII escape, in any "counts" member, also one a later duplicate replaces) may
     * be missed */
    FUZZ_CHECK(rc == rc2 || (rc2 == FA_OK && (strcmp(err.message, "RLE counts must be ASCII") == 0 ||
                                             strcmp(err.message, "string longer than the capacity") == 0)),
               "str NULL changes the result: %d vs %d (%s)", rc, rc2, err.message);
    if (quick) {
        FUZZ_CHECK(h >= 0 && h < 2147483648LL && w >= 0 && w < 2147483648LL && rs >= 0 &&
                   rl >= 0 && rs + rl <= cap && (esc == 0 || esc == 1), "quick reader's values");
    }
    if (quick && rc == FA_OK) {
        FUZZ_CHECK(segm.kind == FA_SEGM_RLE_STRING && segm.h == h && segm.w == w &&
                   segm.raw_start == rs && segm.raw_len == rl && segm.raw_esc == esc,
                   "quick reader and parser disagree");
    }
    if (rc == FA_OK && segm.kind == FA_SEGM_RLE_STRING && segm.raw_esc != 2) {
        const char *decoded = segm.str_start >= 0 ? s + segm.str_start : str;
        FUZZ_CHECK(segm.raw_start >= 0 && segm.raw_start + segm.raw_len <= cap &&
                   segm.n_chars <= segm.raw_len, "counts span");
        counts_agree(decoded, segm.n_chars, s + segm.raw_start, segm.raw_len, segm.raw_esc,
                     segm.h, segm.w);
    }
    if (rc == FA_OK && segm.kind == FA_SEGM_POLYGONS) {
        int64_t total = 0;
        for (int64_t k = 0; k < segm.n_poly; k++)
            total += poly_len[k];
        FUZZ_CHECK(total == segm.n_values && total <= cap, "polygon lengths");
    }
    free(values);
    free(poly_len);
    free(str);
    return 0;
}
