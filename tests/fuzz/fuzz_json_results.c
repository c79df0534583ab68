/*
 * fuzz_json_results.c -- fuzz target: a COCO results file (fa_json_results_parse and its
 * split / join over parts, with and without geometry).
 *
 *   clang -fsanitize=fuzzer,address,undefined -Icsrc tests/fuzz/fuzz_json_results.c \
 *         csrc/json_*.c -lm -o fuzz_json_results
 *   gcc -std=c99 -DFASTAP_FUZZ_STANDALONE -fsanitize=address,undefined ... (same files)
 * (tests/test_json_fuzz.py builds and runs both ways.) Every column is allocated with
 * the documented capacity and nothing more, so a write past it is an ASan report.
 * Checks beyond memory safety: the parallel split and join gives exactly what the serial
 * scan gives (return code, counts, values, error); the record span readers
 * (fa_json_segmentation_parse, fa_json_rle_object, fa_json_number_array) accept every
 * span the scanner kept, and the common RLE object the scan read agrees with
 * fa_json_rle_object.
 */
#include "fastap.h"
#include "fuzz_driver.h"

#include <math.h>

const char *const k_fuzz_name = "fuzz_json_results";

const char *const k_seeds[] = {
    "[]",
    " [ ] ",
    "[{\"image_id\":1,\"category_id\":2,\"bbox\":[1,2,3,4],\"score\":0.5}]",
    "\xef\xbb\xbf[{\"image_id\":1.0,\"category_id\":-0,\"bbox\":[1e3,-2.5E-3,NaN,Infinity],"
    "\"score\":0.30000000000000004,\"area\":null,\"id\":7}]",
    "[{\"image_id\":1,\"category_id\":1,\"score\":1,\"segmentation\":{\"size\":[4,4],"
    "\"counts\":\"04\"}},{\"image_id\":2,\"category_id\":1,\"score\":0.25,"
    "\"segmentation\":[[1,2,3,4,5,6]]}]",
    "[{\"image_id\":1,\"category_id\":1,\"score\":1,\"segmentation\":{\"counts\":\"a\\\\b\","
    "\"size\":[480.0,640]}}, {\"image_id\":3,\"category_id\":1,\"score\":1,"
    "\"segmentation\":{\"size\":[2,2],\"counts\":[0,4]}}]",
    "[{\"image_id\":1,\"category_id\":1,\"score\":0.9,\"keypoints\":[1,2,2,3.5,4,1,-1,0,0]},"
    "{\"image_id\":1,\"category_id\":1,\"score\":0.9,\"keypoints\":[1,2,2,NaN,4,1]}]",
    "[{\"\\u0069mage_id\":3,\"category_id\":1,\"bb\\u006fx\":[1,2,3,4],\"score\":0.1,"
    "\"score\":0.75,\"are\\u0061\":2,\"x\":{\"a\":[[[]]],\"b\":\"\\ud83d\\ude00\"}}]",
    "[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3],\"score\":1}]",
    "[{\"image_id\":92233720368547758070,\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":1}]",
    "[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":1}, {\"image_id\":2,"
    "\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":1}, {\"image_id\":3,\"category_id\":1,"
    "\"bbox\":[1,2,3,4],\"score\":1,\"name\":\"}, {\\\"\"}, {\"image_id\":4,"
    "\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":1}]",
    "[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":1}] x",
    /* polygons the scan bounds, and shapes it leaves to the mask readers */
    "[{\"image_id\":1,\"category_id\":1,\"score\":1,\"bbox\":[0,0,1,1],\"segmentation\":"
    "[ [10.5, 2.25, 30.75, 4.5, 20, 40.125, 7], [-3.5,9,1e2,2, 5,5] ] }, {\"image_id\":1,"
    "\"category_id\":1,\"score\":1,\"segmentation\":[[1,2,3,4],[5,6,7,8,9,10]]}, {\"image_id\":1,"
    "\"category_id\":1,\"score\":1,\"segmentation\":[[1,2,3,4,5,6],[]]}, {\"image_id\":1,"
    "\"category_id\":1,\"score\":1,\"segmentation\":[[]]}, {\"image_id\":1,\"category_id\":1,"
    "\"score\":1,\"segmentation\":[]}, {\"image_id\":1,\"category_id\":1,\"score\":1,"
    "\"segmentation\":[[1,2,3,4,5,NaN]]}, {\"image_id\":1,\"category_id\":1,\"score\":1,"
    "\"segmentation\":[[1,2,3,4,5,2e8]]}, {\"image_id\":1,\"category_id\":1,\"score\":1,"
    "\"segmentation\":[[1,2,3,4,5,6]],\"segmentation\":{\"size\":[2,2],\"counts\":\"04\"}},"
    "{\"image_id\":1,\"category_id\":1,\"score\":1,\"segmentation\":[[445.68, 101.25, 446.12, "
    "102.5, 447.0, 120.75, 401.33, 140.5, 399.98, 99.5, 400.01, 98.25, 420.5, 97.75, 430.25, 98.5]]}]",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    NULL,
};

#define KPT_STRIDE 9

typedef struct {
    int64_t cap;
    int64_t *image_id, *category_id;
    double *bbox, *score, *area;
    int64_t *seg_span, *kpt_span, *kpt_count;
    int32_t *seg_rle;
    double *seg_bound;
    double *kpt_values, *kpt_box;
    fa_json_geometry geom;
} columns;

static void columns_alloc(columns *c, int64_t cap, int geometry, int xy)
{
    const size_t n = (size_t)cap;
    memset(c, 0, sizeof *c);
    c->cap = cap;
    c->image_id = fuzz_alloc(n * sizeof(int64_t));
    c->category_id = fuzz_alloc(n * sizeof(int64_t));
    c->bbox = fuzz_alloc(4 * n * sizeof(double));
    c->score = fuzz_alloc(n * sizeof(double));
    c->area = fuzz_alloc(n * sizeof(double));
    if (!geometry)
        return;
    c->seg_span = fuzz_alloc(2 * n * sizeof(int64_t));
    c->seg_rle = fuzz_alloc(5 * n * sizeof(int32_t));
    c->seg_bound = fuzz_alloc(4 * n * sizeof(double));
    c->kpt_span = fuzz_alloc(2 * n * sizeof(int64_t));
    c->kpt_count = fuzz_alloc(n * sizeof(int64_t));
    c->kpt_values = fuzz_alloc(n * (xy ? KPT_STRIDE / 3 * 2 : KPT_STRIDE) * sizeof(double));
    c->kpt_box = fuzz_alloc(4 * n * sizeof(double));
    c->geom.seg_span = c->seg_span;
    c->geom.seg_rle = c->seg_rle;
    c->geom.seg_bound = c->seg_bound;
    c->geom.kpt_span = c->kpt_span;
    c->geom.kpt_values = c->kpt_values;
    c->geom.kpt_stride = KPT_STRIDE;
    c->geom.kpt_count = c->kpt_count;
    c->geom.kpt_xy = xy;
    c->geom.kpt_box = c->kpt_box;
}

static void columns_free(columns *c)
{
    free(c->image_id); free(c->category_id); free(c->bbox); free(c->score); free(c->area);
    free(c->seg_span); free(c->seg_rle); free(c->seg_bound); free(c->kpt_span); free(c->kpt_count);
    free(c->kpt_values); free(c->kpt_box);
}

static int parse(const uint8_t *d, size_t n, columns *c, int geometry, int64_t *nr, int64_t *na,
                 fa_json_error *err)
{
    return fa_json_results_parse((const char *)d, n, c->cap, c->image_id, c->category_id, c->bbox,
                                 c->score, c->area, geometry ? &c->geom : NULL, nr, na, err);
}

/* Row a of x equals row b of y. */
static void same_row(const columns *x, int64_t a, const columns *y, int64_t b, int geometry)
{
    FUZZ_CHECK(x->image_id[a] == y->image_id[b] && x->category_id[a] == y->category_id[b],
               "ids differ at row %lld", (long long)b);
    for (int k = 0; k < 4; k++)
        FUZZ_CHECK(fuzz_same_double(x->bbox[4 * a + k], y->bbox[4 * b + k]), "bbox differs");
    FUZZ_CHECK(fuzz_same_double(x->score[a], y->score[b]), "score differs");
    FUZZ_CHECK(fuzz_same_double(x->area[a], y->area[b]), "area differs");
    if (!geometry)
        return;
    FUZZ_CHECK(memcmp(x->seg_span + 2 * a, y->seg_span + 2 * b, 2 * sizeof(int64_t)) == 0 &&
               memcmp(x->seg_rle + 5 * a, y->seg_rle + 5 * b, 5 * sizeof(int32_t)) == 0 &&
               memcmp(x->kpt_span + 2 * a, y->kpt_span + 2 * b, 2 * sizeof(int64_t)) == 0 &&
               x->kpt_count[a] == y->kpt_count[b], "geometry differs at row %lld", (long long)b);
    for (int k = 0; k < 4; k++)
        FUZZ_CHECK(fuzz_same_double(x->kpt_box[4 * a + k], y->kpt_box[4 * b + k]), "kpt_box differs");
    if (x->geom.seg_bound && y->geom.seg_bound)
        for (int k = 0; k < 4; k++)
            FUZZ_CHECK(fuzz_same_double(x->seg_bound[4 * a + k], y->seg_bound[4 * b + k]), "seg_bound differs");
}

/* The polygons' vertex box the scan recorded (seg_bound) for a span that parses as
 * polygons: NaN exactly where the value is not what fa_json_geometry.seg_bound takes,
 * else their vertices' min and max. */
static void bound_agrees(const double *bound, int parsed, const fa_json_segm *segm, const double *values,
                         const int64_t *poly_len)
{
    int takes = parsed && segm->kind == FA_SEGM_POLYGONS && segm->n_poly > 0 && poly_len[0] > 4;
    double b[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    int64_t off = 0;
    for (int64_t q = 0; takes && q < segm->n_poly; q++) {
        takes = poly_len[q] <= FA_POLY_BOUND_VALUES;
        for (int64_t j = 0; takes && j < poly_len[q]; j++)
            takes = values[off + j] > -2e8 && values[off + j] < 2e8;
        for (int64_t j = 0; takes && j + 1 < poly_len[q]; j += 2) {
            b[0] = fmin(b[0], values[off + j]);
            b[1] = fmin(b[1], values[off + j + 1]);
            b[2] = fmax(b[2], values[off + j]);
            b[3] = fmax(b[3], values[off + j + 1]);
        }
        off += poly_len[q];
    }
    if (!takes) {
        FUZZ_CHECK(isnan(bound[0]) && isnan(bound[1]) && isnan(bound[2]) && isnan(bound[3]),
                   "seg_bound set for a value it does not take");
        return;
    }
    for (int k = 0; k < 4; k++)
        FUZZ_CHECK(bound[k] == b[k], "seg_bound %d: %g, the vertices give %g", k, bound[k], b[k]);
}

static void same_error(const fa_json_error *a, const fa_json_error *b)
{
    FUZZ_CHECK(a->record == b->record && a->offset == b->offset &&
               strcmp(a->field, b->field) == 0 && strcmp(a->message, b->message) == 0,
               "errors differ: [%lld @%lld %s: %s] vs [%lld @%lld %s: %s]", (long long)a->record,
               (long long)a->offset, a->field, a->message, (long long)b->record,
               (long long)b->offset, b->field, b->message);
}

/* The split scan over n_parts parts joined == the serial scan (rc0, s, nr0, na0, e0). */
static void split_agrees(const uint8_t *d, size_t n, int64_t n_parts, int geometry, int rc0,
                         const columns *s, int64_t nr0, int64_t na0, const fa_json_error *e0)
{
    size_t begin[8];
    fa_json_part parts[8];
    int64_t piece_row[9], piece_len[9], np = 0, nr = 0, na = 0, cap = 0, m, row = 0;
    fa_json_error err;
    columns c;
    int rc;
    m = fa_json_results_split((const char *)d, n, n_parts, begin);
    FUZZ_CHECK(m >= 1 && m <= n_parts && begin[0] == 0, "split gave %lld parts", (long long)m);
    for (int64_t k = 0; k < m; k++) {
        size_t stop = k + 1 < m ? begin[k + 1] : n;
        FUZZ_CHECK(k == 0 || begin[k] > begin[k - 1], "split not increasing");
        parts[k].begin = begin[k];
        parts[k].first_row = cap;
        cap += fa_json_results_count_bound((const char *)d + begin[k], stop - begin[k]);
        parts[k].capacity = cap;
    }
    if (cap < 1) cap = 1;
    columns_alloc(&c, cap, geometry, 1);
    for (int64_t k = 0; k < m; k++)
        parts[k].rc = fa_json_results_parse_part(
            (const char *)d, n, begin[k], k + 1 < m ? begin[k + 1] : n, parts[k].first_row,
            parts[k].capacity, c.image_id, c.category_id, c.bbox, c.score, c.area,
            geometry ? &c.geom : NULL, &parts[k].n_records, &parts[k].n_area, &parts[k].end_pos,
            &parts[k].err);
    rc = fa_json_results_join_parts((const char *)d, n, parts, m, cap, c.image_id, c.category_id,
                                    c.bbox, c.score, c.area, geometry ? &c.geom : NULL, piece_row,
                                    piece_len, &np, &nr, &na, &err);
    FUZZ_CHECK(rc == rc0 && nr == nr0, "join: rc %d n %lld, serial: rc %d n %lld", rc,
               (long long)nr, rc0, (long long)nr0);
    if (rc == FA_OK)
        FUZZ_CHECK(na == na0, "join n_area differs");
    else
        same_error(&err, e0);
    for (int64_t p = 0; p < np; p++)
        for (int64_t j = 0; j < piece_len[p]; j++, row++)
            same_row(&c, piece_row[p] + j, s, row, geometry);
    FUZZ_CHECK(row == nr, "pieces hold %lld rows, not %lld", (long long)row, (long long)nr);
    columns_free(&c);
}

/* The span readers on what the scan kept. */
static void spans_readable(const uint8_t *d, const columns *c, int64_t nr)
{
    for (int64_t i = 0; i < nr; i++) {
        const int64_t *sp = c->seg_span + 2 * i, *kp = c->kpt_span + 2 * i;
        if (sp[0] >= 0) {
            const size_t len = (size_t)(sp[1] - sp[0]);
            double *values = fuzz_alloc(len * sizeof(double));
            int64_t *poly_len = fuzz_alloc(len * sizeof(int64_t)), h, w, rs, rl;
            char *str = fuzz_alloc(len);
            fa_json_segm segm;
            int esc;
            const char *s = (const char *)d + sp[0];
            const int parsed = fa_json_segmentation_parse(s, len, values, poly_len, str, (int64_t)len, &segm,
                                                          NULL) == FA_OK;
            if (c->geom.seg_bound)
                bound_agrees(c->seg_bound + 4 * i, parsed, &segm, values, poly_len);
            if (fa_json_rle_object(s, len, &h, &w, &rs, &rl, &esc) && c->seg_rle[5 * i] >= 0)
                FUZZ_CHECK(h == c->seg_rle[5 * i] && w == c->seg_rle[5 * i + 1] &&
                           rs == c->seg_rle[5 * i + 2] && rl == c->seg_rle[5 * i + 3] &&
                           esc == c->seg_rle[5 * i + 4], "seg_rle differs from fa_json_rle_object");
            free(values); free(poly_len); free(str);
        }
        if (kp[0] >= 0) {
            const size_t len = (size_t)(kp[1] - kp[0]);
            double *out = fuzz_alloc(len * sizeof(double));
            int64_t k;
            (void)fa_json_number_array((const char *)d + kp[0], len, out, (int64_t)len, &k, NULL);
            free(out);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int64_t bound = fa_json_results_count_bound((const char *)data, size);
    const int64_t cap = bound > 0 ? bound : 1;
    for (int geometry = 0; geometry < 2; geometry++) {
        columns s;
        fa_json_error err;
        int64_t nr = -1, na = -1;
        int rc;
        columns_alloc(&s, cap, geometry, 1);
        rc = parse(data, size, &s, geometry, &nr, &na, &err);
        FUZZ_CHECK(rc != FA_EINVAL, "count_bound %lld was too small", (long long)bound);
        FUZZ_CHECK(nr >= 0 && nr <= bound, "n_records %lld", (long long)nr);
        if (geometry) {     /* the polygons' bounds change nothing else the scan gives */
            columns t;
            fa_json_error terr;
            int64_t tnr = -1, tna = -1;
            int trc;
            columns_alloc(&t, cap, geometry, 1);
            t.geom.seg_bound = NULL;
            trc = parse(data, size, &t, geometry, &tnr, &tna, &terr);
            FUZZ_CHECK(trc == rc && tnr == nr, "seg_bound changed the scan: rc %d n %lld, without: rc %d n %lld",
                       rc, (long long)nr, trc, (long long)tnr);
            if (rc == FA_OK)
                for (int64_t r = 0; r < nr; r++)
                    same_row(&t, r, &s, r, geometry);
            else
                same_error(&terr, &err);
            columns_free(&t);
        }
        if (rc == FA_OK && geometry)
            spans_readable(data, &s, nr);
        for (int64_t parts = 2; parts <= 4; parts++)
            split_agrees(data, size, parts, geometry, rc, &s, nr, na, &err);
        columns_free(&s);
    }
    {   /* keypoints with every number kept, and a capacity of one record too few */
        columns s;
        int64_t nr, na;
        columns_alloc(&s, cap, 1, 0);
        (void)parse(data, size, &s, 1, &nr, &na, NULL);
        s.cap = bound - 1;
        if (s.cap >= 0)
            (void)parse(data, size, &s, 1, &nr, &na, NULL);
        columns_free(&s);
    }
    return 0;
}
