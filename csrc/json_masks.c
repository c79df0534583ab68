/*
 * json_masks.c -- segmentation values: polygons, RLE objects and their counts strings.
 *
 * What it does: the record scanner (json_results.c) keeps each record's "segmentation"
 * as a byte span (fa_jr_take_span) and, for a results record whose segmentation is the
 * common RLE object {"size": [h, w], "counts": "..."}, reads its size and where its
 * counts string lies (fa_jr_take_segmentation, through rle_object_at), so the mask
 * readers need not parse it again. fa_json_rle_object reads that common shape from a
 * span; fa_json_segmentation_parse reads any segmentation value (polygons [[x, y, ...],
 * ...] into a caller's rows, an RLE object with compressed counts -- in place when they
 * have no escapes, else decoded -- or uncompressed counts).
 * Data layout: offsets into the caller's buffer; numbers and decoded strings go to
 * caller-owned arrays of the span's length (a bound on what any value can hold).
 */
#include "json_number.h"

/* Record the byte span of the value at c->p (skipping it) into span[2]. */
int fa_jr_take_span(jctx *c, int64_t *span)
{
    const unsigned char *start = c->p;
    int rc = fa_jr_skip_value(c);
    if (rc != FA_OK)
        return rc;
    span[0] = (int64_t)(start - c->buf);
    span[1] = (int64_t)(c->p - c->buf);
    return FA_OK;
}

/* Decode the JSON string at c->p (validated by scan_string) into out (cap bytes);
 * only ASCII may come out of escapes (RLE counts are ASCII). */
static int decode_string(jctx *c, char *out, int64_t cap, int64_t *n, int64_t *raw_start,
                         fa_json_segm *raw)
{
    const unsigned char *s;
    size_t len, i = 0;
    int esc, rc;
    const unsigned char *start = c->p;
    rc = fa_jr_scan_string(c, &s, &len, &esc);
    if (rc != FA_OK)
        return rc;
    *n = 0;
    raw->raw_start = (int64_t)(s - c->buf);
    raw->raw_len = (int64_t)len;
    raw->raw_esc = 0;
    if (!esc) {                 /* no escapes: the caller reads the text in place */
        *raw_start = (int64_t)(s - c->buf);
        *n = (int64_t)len;
        return FA_OK;
    }
    *raw_start = -1;
    raw->raw_esc = 1;
    for (i = 0; i < len; i++) { /* only "\\" (the RLE character 92)? */
        if (s[i] != '\\')
            continue;
        if (s[i + 1] != '\\') {
            raw->raw_esc = 2;
            break;
        }
        i++;
    }
    if (!out)
        return FA_OK;
    i = 0;
    while (i < len) {
        unsigned char ch = s[i];
        if (*n >= cap)
            return fa_jr_err(c, FA_EINVAL, start, "string longer than the capacity");
        if (ch != '\\') {
            out[(*n)++] = (char)ch;
            i++;
            continue;
        }
        switch (s[i + 1]) {
        case 'u': {
            int v = (hexval(s[i + 2]) << 12) | (hexval(s[i + 3]) << 8) |
                    (hexval(s[i + 4]) << 4) | hexval(s[i + 5]);
            if (v >= 0x80)
                return fa_jr_err(c, FA_EPARSE, start, "RLE counts must be ASCII");
            out[(*n)++] = (char)v;
            i += 6;
            break;
        }
        case 'b': out[(*n)++] = '\b'; i += 2; break;
        case 'f': out[(*n)++] = '\f'; i += 2; break;
        case 'n': out[(*n)++] = '\n'; i += 2; break;
        case 'r': out[(*n)++] = '\r'; i += 2; break;
        case 't': out[(*n)++] = '\t'; i += 2; break;
        default: out[(*n)++] = (char)s[i + 1]; i += 2; break;   /* " \ / */
        }
    }
    return FA_OK;
}

/* Polygons [[x, y, ...], ...] (c->p at the outer '['): their numbers into values, one
 * after the other, their lengths into poly_len. */
static int segm_polygons(jctx *c, double *values, int64_t *poly_len, int64_t cap, fa_json_segm *out)
{
    char tmp[16];
    int rc;
    out->kind = FA_SEGM_POLYGONS;
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']')
        return FA_OK;
    for (;;) {
        int64_t k;
        if (out->n_poly >= cap)
            return fa_jr_err(c, FA_EINVAL, c->p, "more polygons than the capacity");
        if (c->p >= c->end || *c->p != '[')
            return fa_jr_err(c, FA_EPARSE, c->p, "polygons must be lists of numbers, got %s",
                        fa_jr_describe(c, c->p, tmp, sizeof tmp));
        rc = fa_jr_number_array(c, values + out->n_values, cap - out->n_values, &k, "a polygon");
        if (rc != FA_OK)
            return rc;
        poly_len[out->n_poly++] = k;
        out->n_values += k;
        rc = fa_jr_sep(c, ']');
        if (rc == 1)
            continue;
        if (rc == 0)
            return FA_OK;
        if (c->p >= c->end)
            return fa_jr_err_eof(c);
        return fa_jr_err(c, FA_EPARSE, c->p, "expected ',' or ']' in the polygon list");
    }
}

/* An RLE object's "size" (c->p at its value): [h, w], non-negative integers < 2^31. */
static int segm_size(jctx *c, fa_json_segm *out)
{
    double hw[3];
    int64_t k;
    int rc = fa_jr_number_array(c, hw, 3, &k, "size");
    if (rc == FA_EINVAL || (rc == FA_OK && k != 2))
        return fa_jr_err(c, FA_EPARSE, c->p, "size must be [height, width]");
    if (rc != FA_OK)
        return rc;
    if (!(hw[0] >= 0 && hw[1] >= 0 && hw[0] == floor(hw[0]) && hw[1] == floor(hw[1]) &&
          hw[0] < 2147483648.0 && hw[1] < 2147483648.0))
        return fa_jr_err(c, FA_EPARSE, c->p, "size must be two non-negative integers");
    out->h = (int64_t)hw[0];
    out->w = (int64_t)hw[1];
    return FA_OK;
}

/* An RLE object's "counts" (c->p at its value): a string or an array of numbers. */
static int segm_counts(jctx *c, double *values, char *str, int64_t cap, fa_json_segm *out)
{
    if (c->p < c->end && *c->p == '"') {
        out->kind = FA_SEGM_RLE_STRING;
        return decode_string(c, str, cap, &out->n_chars, &out->str_start, out);
    }
    out->kind = FA_SEGM_RLE_COUNTS;
    return fa_jr_number_array(c, values, cap, &out->n_values, "counts");
}

/* An RLE object {"size": [h, w], "counts": "..." or [...]} (c->p at its '{'). A key
 * given twice: the last value counts (json.loads), so a first value that is refused
 * (FA_EPARSE on valid JSON text) is skipped and reported only if no later value of the
 * key reads well (see json_results.c, defer_bad_value). */
static int segm_rle_object(jctx *c, double *values, char *str, int64_t cap, fa_json_segm *out)
{
    const unsigned char *obj = c->p, *bad[2] = {NULL, NULL};
    int rc, has[2] = {0, 0};
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == '}')
        c->p++;
    else for (;;) {
        const unsigned char *ks, *value;
        size_t kn;
        int esc, k = -1;
        rc = fa_jr_key(c, &ks, &kn, &esc, "a field name (string)");
        if (rc != FA_OK)
            return rc;
        rc = fa_jr_colon(c, "':' after the field name");
        if (rc != FA_OK)
            return rc;
        value = c->p;
        if (!esc && kn == 4 && memcmp(ks, "size", 4) == 0)
            k = 0;
        else if (!esc && kn == 6 && memcmp(ks, "counts", 6) == 0)
            k = 1;
        rc = k == 0 ? segm_size(c, out) : k == 1 ? segm_counts(c, values, str, cap, out) : fa_jr_skip_value(c);
        if (rc == FA_EPARSE && k >= 0) {
            c->p = value;
            if (fa_jr_skip_value(c) == FA_OK) {
                bad[k] = value;          /* may yet be replaced by a later value */
                rc = FA_OK;
            } else {
                c->p = value;
                rc = k == 0 ? segm_size(c, out) : segm_counts(c, values, str, cap, out);
            }
        } else if (rc == FA_OK && k >= 0) {
            has[k] = 1;
            bad[k] = NULL;
        }
        if (rc != FA_OK)
            return rc;
        rc = fa_jr_next_item(c, '}', "',' or '}' in the RLE object");
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
    }
    for (int k = 0; k < 2; k++) {
        if (bad[k] && (!bad[1 - k] || bad[k] < bad[1 - k])) {   /* the first in the text */
            c->p = bad[k];
            rc = k == 0 ? segm_size(c, out) : segm_counts(c, values, str, cap, out);
            return rc != FA_OK ? rc : fa_jr_err(c, FA_EPARSE, bad[k], "invalid value");
        }
    }
    if (!has[0] || !has[1])
        return fa_jr_err(c, FA_EPARSE, obj, "an RLE segmentation needs 'size' and 'counts'");
    return FA_OK;
}

int fa_json_segmentation_parse(const char *buf, size_t len, double *values, int64_t *poly_len,
                               char *str, int64_t cap, fa_json_segm *out, fa_json_error *err)
{
    jctx c;
    char tmp[16];
    fa_jr_begin_span(&c, buf, len, "segmentation", err);
    memset(out, 0, sizeof(*out));
    out->h = out->w = -1;
    if (c.p >= c.end)
        return fa_jr_err_eof(&c);
    if (*c.p == '[')
        return segm_polygons(&c, values, poly_len, cap, out);
    if (*c.p != '{')
        return fa_jr_err(&c, FA_EPARSE, c.p, "segmentation must be polygons (a list of lists) or an RLE "
                    "object {\"size\": [h, w], \"counts\": ...}, got %s", fa_jr_describe(&c, c.p, tmp, sizeof tmp));
    return segm_rle_object(&c, values, str, cap, out);
}

/* ---------------------------------------------------------------------------------- */
/* RLE objects in text the record scanner has validated                               */
/* ---------------------------------------------------------------------------------- */

/* One of the RLE object's sizes: an integer in [0, 2^31) (fast_id also takes 480.0). */
static int rle_size(jctx *c, int64_t *v)
{
    return fast_id(c, v) == FA_OK && *v >= 0 && *v < 2147483648LL;
}

/* The common RLE object {"size": [h, w], "counts": "..."} at c->p (its '{'), without
 * the general parser: returns 1 with c->p past its '}', the size, and where the counts
 * string's characters lie (raw_start: offset in c->buf; esc: it holds "\\\\" escapes);
 * 0 for anything else (c->p is then anywhere; nothing is reported). `strict_text`: the
 * counts string must also be valid JSON text as the scanner checks it (no control
 * characters, only ASCII), so that a record read this way is one the scanner accepts. */
static int rle_object_at(jctx *c, int strict_text, int64_t *h, int64_t *w, int64_t *raw_start,
                         int64_t *raw_len, int *raw_esc)
{
    int have_size = 0, have_counts = 0, sep;
    if (c->p >= c->end || *c->p != '{') return 0;
    c->p++;
    skip_ws(c);
    while (c->p < c->end && *c->p == '"') {
        const unsigned char *k = c->p + 1, *ke = (const unsigned char *)memchr(k, '"', (size_t)(c->end - k));
        if (!ke) return 0;
        c->p = ke + 1;
        skip_ws(c);
        if (c->p >= c->end || *c->p != ':') return 0;
        c->p++;
        skip_ws(c);
        if (ke - k == 4 && memcmp(k, "size", 4) == 0 && !have_size) {
            if (c->p >= c->end || *c->p != '[') return 0;
            c->p++;
            skip_ws(c);
            if (!rle_size(c, h)) return 0;
            skip_ws(c);
            if (c->p >= c->end || *c->p != ',') return 0;
            c->p++;
            skip_ws(c);
            if (!rle_size(c, w)) return 0;
            skip_ws(c);
            if (c->p >= c->end || *c->p != ']') return 0;
            c->p++;
            have_size = 1;
        } else if (ke - k == 6 && memcmp(k, "counts", 6) == 0 && !have_counts) {
            if (c->p >= c->end || *c->p != '"') return 0;
            const unsigned char *s = c->p + 1, *q = s;
            /* the closing quote, in one pass: every backslash must start the escape of
             * a backslash (the one RLE character JSON escapes); any other escape is
             * left to the full parser */
            int esc = 0;
            for (;;) {
                if (strict_text) {
                    q = skip_plain16(q, c->end);
                    while (q < c->end && fa_jr_plain[*q]) q++;
                    if (q >= c->end) return 0;
                    if (*q != '"' && *q != '\\') return 0;   /* control or non-ASCII byte */
                } else {
                    q = find_quote_or_backslash(q, c->end);
                    if (!q) return 0;
                }
                if (*q == '"') break;
                if (q + 1 >= c->end || q[1] != '\\') return 0;
                esc = 1;
                q += 2;
            }
            *raw_start = (int64_t)(s - c->buf);
            *raw_len = (int64_t)(q - s);
            *raw_esc = esc;
            c->p = q + 1;
            have_counts = 1;
        } else {
            return 0;
        }
        sep = fa_jr_sep(c, '}');
        if (sep < 0)
            return 0;
        if (sep == 0)
            return have_size && have_counts;
    }
    return 0;
}

int fa_json_rle_object(const char *buf, size_t len, int64_t *h, int64_t *w, int64_t *raw_start,
                       int64_t *raw_len, int *raw_esc)
{
    jctx c;
    fa_json_error err;       /* never reported: any surprise is left to the full parser */
    fa_jr_begin_span(&c, buf, len, "segmentation", &err);
    if (!rle_object_at(&c, 0, h, w, raw_start, raw_len, raw_esc)) return 0;
    skip_ws(&c);
    return c.p == c.end;
}

/* Polygons [[x, y, ...], ...] at c->p (its '['), each read into scratch[cap]: 1 with
 * c->p past the list and bound = their vertices' box when they are what
 * fa_json_geometry.seg_bound describes; 0 for anything else (c->p then anywhere, errors
 * go to c->err: the caller's scratch). */
static int polygon_bound_at(jctx *c, double *scratch, int64_t cap, double *bound)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    int first = 1;
    c->p++;
    skip_ws(c);
    for (;;) {
        int64_t k, j;
        int ok = 1;
        if (c->p >= c->end || *c->p != '[')
            return 0;                     /* no polygon, or not a list of lists */
        if (fa_jr_number_array(c, scratch, cap, &k, "a polygon") != FA_OK || (first && k <= 4))
            return 0;
        first = 0;
        for (j = 0; j < k; j++)
            ok &= scratch[j] > -2e8 && scratch[j] < 2e8;      /* false for NaN */
        if (!ok)
            return 0;
        for (j = 0; j + 1 < k; j += 2) {
            const double x = scratch[j], y = scratch[j + 1];
            x0 = x < x0 ? x : x0;
            x1 = x > x1 ? x : x1;
            y0 = y < y0 ? y : y0;
            y1 = y > y1 ? y : y1;
        }
        j = fa_jr_sep(c, ']');
        if (j == 0)
            break;
        if (j < 0)
            return 0;
    }
    bound[0] = x0;
    bound[1] = y0;
    bound[2] = x1;
    bound[3] = y1;
    return 1;
}

/* A results record's "segmentation": its span, and when it is the common RLE object,
 * what rle_object_at reads (row: h, w, counts offset from the span's start, counts
 * length, escaped; all -1 otherwise), so the mask readers need not parse it again; with
 * `bound`, polygons' vertex box (see fa_json_geometry.seg_bound), read as the scan
 * passes them, so that no later pass reads their numbers only for it. */
int fa_jr_take_segmentation(jctx *c, int64_t *span, int32_t *row, double *bound)
{
    const unsigned char *start = c->p;
    for (int q = 0; q < 5; q++) row[q] = -1;
    if (bound)
        bound[0] = bound[1] = bound[2] = bound[3] = NAN;
    if (bound && c->p < c->end && *c->p == '[') {
        double scratch[FA_POLY_BOUND_VALUES], b[4];
        fa_json_error quiet, *keep = c->err;
        c->err = &quiet;                 /* what it does not take is read below */
        const int ok = polygon_bound_at(c, scratch, FA_POLY_BOUND_VALUES, b);
        c->err = keep;
        if (ok) {
            span[0] = (int64_t)(start - c->buf);
            span[1] = (int64_t)(c->p - c->buf);
            memcpy(bound, b, sizeof b);
            return FA_OK;
        }
        c->p = start;
    }
    if (c->p < c->end && *c->p == '{') {
        fa_json_error scratch, *keep = c->err;
        int64_t h, w, rs, rl;
        int esc;
        c->err = &scratch;               /* a shape it does not read is not an error */
        const int ok = rle_object_at(c, 1, &h, &w, &rs, &rl, &esc);
        c->err = keep;
        span[0] = (int64_t)(start - c->buf);
        span[1] = (int64_t)(c->p - c->buf);
        if (ok && rs - span[0] <= INT32_MAX && rl <= INT32_MAX) {   /* sizes are < 2^31 */
            row[0] = (int32_t)h;
            row[1] = (int32_t)w;
            row[2] = (int32_t)(rs - span[0]);
            row[3] = (int32_t)rl;
            row[4] = esc;
            return FA_OK;
        }
        c->p = start;
    }
    return fa_jr_take_span(c, span);
}
