/*
 * fuzz_json_annotations.c -- fuzz target: a COCO ground-truth (annotation) file.
 *
 * The input is read as the whole document (fa_json_object_members, validated, and
 * fa_json_member_spans, brackets only) and its "annotations" member, or the whole input
 * when it is not an object, as an annotation list (fa_json_annotations_parse, with and
 * without geometry). Built as fuzz_json_results.c says. Checks beyond memory safety: on
 * a document the validating scan accepts, the unvalidated span finder gives the same
 * members; FA_EINVAL from fa_json_object_members gives the count to retry with; the
 * count bound is never too small for an annotation list.
 */
#include "fastap.h"
#include "fuzz_driver.h"

#include <math.h>

const char *const k_fuzz_name = "fuzz_json_annotations";

const char *const k_seeds[] = {
    "{}",
    "{\"images\":[{\"id\":1}],\"annotations\":[],\"categories\":[]}",
    "{\"info\":{\"x\":\"}\"},\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":1,"
    "\"bbox\":[1,2,3,4],\"area\":12,\"iscrowd\":0,\"segmentation\":[[1,2,3,4,5,6]]},"
    "{\"id\":2,\"image_id\":1,\"category_id\":2,\"bbox\":[0,0,2,2],\"area\":4,\"iscrowd\":true,"
    "\"segmentation\":{\"size\":[2,2],\"counts\":[0,4]}}]}",
    "{\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],"
    "\"area\":12,\"keypoints\":[1,2,2,3,4,1,5,6,0],\"num_keypoints\":2},{\"id\":2,"
    "\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"area\":1,\"keypoints\":[[1]],"
    "\"num_keypoints\":1.5}]}",
    "[{\"\\u0069d\":5,\"image_id\":1,\"image_id\":9,\"category_id\":3,\"bbox\":[0,0,1,1],"
    "\"b\\u0062ox\":[1,2,3,4],\"area\":1,\"iscrowd\":1,\"iscrowd\":0,\"ar\\u0065a\":2}]",
    "[{\"id\":1,\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"area\":null}]",
    "[{\"id\":1,\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"area\":1,\"iscrowd\":2}]",
    "[{\"id\":1e400,\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"area\":1}]",
    "{\"a\": 1, \"b\" : [1, {\"c\": \"}\"}] ,\"a\":\"x\\\"y\", \"\":null, \"k\\u00e9y\\n\": {}}",
    "{\"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [1, 2, 3, 4], "
    "\"area\": 1.5, \"caption\": \"un chat \xc3\xa9tonn\xc3\xa9 \\ud83d\\ude00\"}]} \n",
    NULL,
};

#define KPT_STRIDE 9

static void annotations(const uint8_t *d, size_t n, int geometry)
{
    const int64_t bound = fa_json_results_count_bound((const char *)d, n);
    const size_t cap = (size_t)(bound > 0 ? bound : 1);
    int64_t *id = fuzz_alloc(cap * sizeof(int64_t)), *img = fuzz_alloc(cap * sizeof(int64_t));
    int64_t *cat = fuzz_alloc(cap * sizeof(int64_t));
    double *bbox = fuzz_alloc(4 * cap * sizeof(double)), *area = fuzz_alloc(cap * sizeof(double));
    uint8_t *crowd = fuzz_alloc(cap);
    int64_t *seg_span = fuzz_alloc(2 * cap * sizeof(int64_t));
    int64_t *kpt_span = fuzz_alloc(2 * cap * sizeof(int64_t));
    int64_t *kpt_count = fuzz_alloc(cap * sizeof(int64_t));
    double *num_kpt = fuzz_alloc(cap * sizeof(double));
    double *kpt_values = fuzz_alloc(KPT_STRIDE * cap * sizeof(double));
    fa_json_geometry g;
    fa_json_error err;
    int64_t nr = -1;
    int rc;
    memset(&g, 0, sizeof g);
    g.seg_span = seg_span;
    g.kpt_span = kpt_span;
    g.kpt_count = kpt_count;
    g.num_keypoints = num_kpt;
    g.kpt_values = kpt_values;
    g.kpt_stride = KPT_STRIDE;
    rc = fa_json_annotations_parse((const char *)d, n, bound, id, img, cat, bbox, area, crowd,
                                   geometry ? &g : NULL, &nr, &err);
    FUZZ_CHECK(rc != FA_EINVAL, "count bound %lld too small for annotations", (long long)bound);
    FUZZ_CHECK(nr >= 0 && nr <= bound, "n_records %lld", (long long)nr);
    if (rc == FA_OK)
        for (int64_t i = 0; i < nr; i++)
            FUZZ_CHECK(crowd[i] <= 1, "iscrowd %d", crowd[i]);
    if (rc == FA_OK && geometry) {
        for (int64_t i = 0; i < nr; i++) {
            if (kpt_span[2 * i] < 0)
                continue;
            FUZZ_CHECK(kpt_span[2 * i] <= kpt_span[2 * i + 1] && kpt_span[2 * i + 1] <= (int64_t)n,
                       "keypoint span out of the buffer");
            {
                const size_t len = (size_t)(kpt_span[2 * i + 1] - kpt_span[2 * i]);
                double *out = fuzz_alloc(len * sizeof(double));
                int64_t k;
                (void)fa_json_number_array((const char *)d + kpt_span[2 * i], len, out,
                                           (int64_t)len, &k, NULL);
                free(out);
            }
        }
    }
    free(id); free(img); free(cat); free(bbox); free(area); free(crowd); free(seg_span);
    free(kpt_span); free(kpt_count); free(num_kpt); free(kpt_values);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fa_json_member m[8], f[8];
    fa_json_error err;
    int64_t n = -1, nf = -1;
    int rc = fa_json_object_members((const char *)data, size, m, 8, &n, &err);
    int rf = fa_json_member_spans((const char *)data, size, f, 8, &nf);
    FUZZ_CHECK(rf == FA_OK || rf == FA_EINVAL || rf == FA_EPARSE, "member_spans rc %d", rf);
    if (rc == FA_EINVAL) {
        fa_json_member *all = fuzz_alloc((size_t)n * sizeof *all);
        int64_t n2 = -1;
        FUZZ_CHECK(n > 8, "FA_EINVAL with %lld members", (long long)n);
        FUZZ_CHECK(fa_json_object_members((const char *)data, size, all, n, &n2, NULL) == FA_OK &&
                   n2 == n, "retry with the reported count failed");
        free(all);
    }
    if (rc == FA_OK) {
        FUZZ_CHECK(rf == FA_OK && nf == n, "member_spans: rc %d, %lld members, not %lld", rf,
                   (long long)nf, (long long)n);
        for (int64_t k = 0; k < n; k++)
            FUZZ_CHECK(m[k].key_start == f[k].key_start && m[k].key_end == f[k].key_end &&
                       m[k].value_start == f[k].value_start && m[k].value_end == f[k].value_end &&
                       m[k].key_escaped == f[k].key_escaped, "member %lld differs", (long long)k);
        for (int64_t k = 0; k < n; k++) {
            if (m[k].key_end - m[k].key_start == 11 && !m[k].key_escaped &&
                memcmp(data + m[k].key_start, "annotations", 11) == 0) {
                const size_t len = (size_t)(m[k].value_end - m[k].value_start);
                uint8_t *span = fuzz_alloc(len);       /* the span alone: exact bounds */
                memcpy(span, data + m[k].value_start, len);
                annotations(span, len, 0);
                annotations(span, len, 1);
                free(span);
            }
        }
    } else {
        annotations(data, size, 0);
        annotations(data, size, 1);
    }
    return 0;
}
