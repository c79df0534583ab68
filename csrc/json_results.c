/*
 * json_results.c -- COCO results and annotation lists parsed straight into columns.
 *
 * Design. The input is the raw file content (UTF-8, optional BOM, NOT NUL-terminated):
 * a JSON array of objects {"image_id", "category_id", "bbox": [x, y, w, h], "score",
 * optional "area", any other keys}. The output is columnar, owned by the caller
 * (NumPy): image_id int64[n], category_id int64[n], bbox float64[n][4], score
 * float64[n], area float64[n] (NaN where absent). Two passes: fa_json_results_count_bound
 * gives a cheap upper bound on the record count (the number of '{' bytes, capped by the
 * 41-byte minimum size of a valid record) so the caller can allocate, then
 * fa_json_results_parse validates the whole document and fills the columns in one
 * forward scan (no allocation except for number tokens longer than 63 bytes). The
 * scanner follows Python's json module (strict mode): same grammar, NaN / Infinity /
 * -Infinity accepted, control characters and invalid UTF-8 in strings rejected
 * (surrogates allowed, as json.loads' 'surrogatepass' decode does), duplicate keys:
 * the last one wins. Values of unknown keys are skipped by an iterative skipper that
 * still validates them; "segmentation" / "keypoints" stop the scan with FA_EUNSUPPORTED
 * unless the caller asks for geometry. Numbers are bit-identical to Python's float() of
 * the token (json_number.h says how).
 *
 * Ground-truth files (one object {"images", "annotations", "categories", ...}) use the
 * same machinery: json_members.c reports the byte spans of the top-level members, and
 * fa_json_annotations_parse turns the "annotations" span into columns (id, image_id,
 * category_id, bbox, area, iscrowd).
 *
 * This file: the records. Both kinds of record are read by ONE member loop
 * (parse_record) driven by a schema (jschema): per known key, the value it expects
 * (jvalue), the bit it sets in the record's set of fields seen (FIELD_*), the column it
 * is stored in (an offset into jcols) and the name errors give it. The results schema
 * and the annotations schema are two tables; what differs between the two kinds of file
 * is data, not code. The other parts of the reader (json_internal.h lists them): the
 * lexer and skipper (json_lex.c), numbers (json_number.*), the split of one file over
 * many threads (json_parallel.c), ground-truth members (json_members.c), number arrays
 * (json_numarray.c), masks (json_masks.c) and keypoints (json_keypoints.c).
 */
#include "json_number.h"

#include <stdio.h>

/* Smallest possible valid record plus its separating comma or closing ']': with geometry
 * (masks / keypoints may stand in for the box) the bbox is optional, so
 * {"image_id":1,"category_id":1,"score":1}, */
#define FA_JSON_MIN_RECORD 41

int64_t fa_json_results_count_bound(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t i = 0, braces = 0, cap;
    while (i < len) {
        size_t m = len - i < 255 ? len - i : 255, j;
        unsigned char cnt = 0;
        for (j = 0; j < m; j++)
            cnt += (unsigned char)(p[i + j] == '{');
        braces += cnt;
        i += m;
    }
    cap = len / FA_JSON_MIN_RECORD + 1;
    return (int64_t)(braces < cap ? braces : cap);
}

/* ---------------------------------------------------------------------------------- */
/* keys                                                                               */
/* ---------------------------------------------------------------------------------- */

/* The keys the schemas know (K_OTHER: any other key). */
enum {
    K_OTHER = 0, K_IMAGE_ID, K_CATEGORY_ID, K_BBOX, K_SCORE, K_AREA, K_ID,
    K_SEGMENTATION, K_KEYPOINTS, K_ISCROWD, K_NUM_KEYPOINTS, K_COUNT
};

static int key_kind(const unsigned char *s, size_t n)
{
    switch (n) {
    case 2: return memcmp(s, "id", 2) == 0 ? K_ID : K_OTHER;
    case 4:
        if (memcmp(s, "bbox", 4) == 0) return K_BBOX;
        if (memcmp(s, "area", 4) == 0) return K_AREA;
        return K_OTHER;
    case 5: return memcmp(s, "score", 5) == 0 ? K_SCORE : K_OTHER;
    case 7: return memcmp(s, "iscrowd", 7) == 0 ? K_ISCROWD : K_OTHER;
    case 8: return memcmp(s, "image_id", 8) == 0 ? K_IMAGE_ID : K_OTHER;
    case 9: return memcmp(s, "keypoints", 9) == 0 ? K_KEYPOINTS : K_OTHER;
    case 11: return memcmp(s, "category_id", 11) == 0 ? K_CATEGORY_ID : K_OTHER;
    case 12: return memcmp(s, "segmentation", 12) == 0 ? K_SEGMENTATION : K_OTHER;
    case 13: return memcmp(s, "num_keypoints", 13) == 0 ? K_NUM_KEYPOINTS : K_OTHER;
    default: return K_OTHER;
    }
}

/* Kind of a key written with escapes (already validated by scan_string): decode into a
 * small buffer; anything non-ASCII or longer than the known keys is K_OTHER. */
static int key_kind_escaped(const unsigned char *s, size_t n)
{
    unsigned char buf[16];
    size_t i = 0, k = 0;
    while (i < n) {
        unsigned char ch = s[i];
        if (k >= sizeof buf)
            return K_OTHER;
        if (ch != '\\') {
            buf[k++] = ch;
            i++;
            continue;
        }
        switch (s[i + 1]) {
        case 'u': {
            int v = (hexval(s[i + 2]) << 12) | (hexval(s[i + 3]) << 8) |
                    (hexval(s[i + 4]) << 4) | hexval(s[i + 5]);
            if (v >= 0x80)
                return K_OTHER;
            buf[k++] = (unsigned char)v;
            i += 6;
            break;
        }
        case 'b': buf[k++] = '\b'; i += 2; break;
        case 'f': buf[k++] = '\f'; i += 2; break;
        case 'n': buf[k++] = '\n'; i += 2; break;
        case 'r': buf[k++] = '\r'; i += 2; break;
        case 't': buf[k++] = '\t'; i += 2; break;
        default: buf[k++] = s[i + 1]; i += 2; break;   /* " \ / */
        }
    }
    return key_kind(buf, k);
}

/* c->p at the opening quote of a key: when the key is one of the common ones written
 * plainly, consume it (with its closing quote) and return its kind; else -1 and
 * nothing consumed (the general string scanner then runs). */
static inline int quick_key(jctx *c, const unsigned char **ks, size_t *kn)
{
    const unsigned char *p = c->p + 1;
    size_t avail = (size_t)(c->end - p);
    int kind;
    size_t n;
    if (avail < 13)
        return -1;
    switch (*p) {
    case 'i':
        if (memcmp(p, "image_id\"", 9) == 0) { kind = K_IMAGE_ID; n = 8; }
        else if (memcmp(p, "id\"", 3) == 0) { kind = K_ID; n = 2; }
        else if (memcmp(p, "iscrowd\"", 8) == 0) { kind = K_ISCROWD; n = 7; }
        else return -1;
        break;
    case 'c':
        if (memcmp(p, "category_id\"", 12) == 0) { kind = K_CATEGORY_ID; n = 11; }
        else return -1;
        break;
    case 'b':
        if (memcmp(p, "bbox\"", 5) == 0) { kind = K_BBOX; n = 4; }
        else return -1;
        break;
    case 's':
        if (memcmp(p, "score\"", 6) == 0) { kind = K_SCORE; n = 5; }
        else if (memcmp(p, "segmentation\"", 13) == 0) { kind = K_SEGMENTATION; n = 12; }
        else return -1;
        break;
    case 'a':
        if (memcmp(p, "area\"", 5) == 0) { kind = K_AREA; n = 4; }
        else return -1;
        break;
    default:
        return -1;
    }
    *ks = p;
    *kn = n;
    c->p = p + n + 1;
    return kind;
}

/* ---------------------------------------------------------------------------------- */
/* record schemas                                                                     */
/* ---------------------------------------------------------------------------------- */

/* The fields a record has been seen to hold (bits of `seen`). Missing required fields
 * are named in this order. */
enum {
    FIELD_ID = 1u << 0,
    FIELD_IMAGE_ID = 1u << 1,
    FIELD_CATEGORY_ID = 1u << 2,
    FIELD_BBOX = 1u << 3,
    FIELD_SCORE = 1u << 4,
    FIELD_AREA = 1u << 5
};
#define FIELD_COUNT 6
static const char *const g_field_names[FIELD_COUNT] = {
    "id", "image_id", "category_id", "bbox", "score", "area"};

/* What a known key's value must be, and how it is read. */
typedef enum {
    V_SKIP = 0,             /* any value, validated and skipped */
    V_ID,                   /* an integer (or integral float) in int64: an int64 column */
    V_NUMBER,               /* a number: a double column */
    V_NUMBER_OR_NULL,       /* a number, or null meaning absent (NaN; the field's bit cleared) */
    V_BBOX,                 /* exactly 4 numbers: a double[4] column */
    V_ISCROWD,              /* 0 / 1 (any number token of that value) / true / false: uint8 */
    /* (the kinds above are stored in a column; those below go to the geometry) */
    V_NUM_KEYPOINTS,        /* a number into geom->num_keypoints when asked for, else skipped */
    V_RESULT_SEGMENTATION,  /* geom: the span (and the common RLE object read); no geom:
                             * FA_EUNSUPPORTED (the caller falls back) */
    V_RESULT_KEYPOINTS,     /* geom: the numbers into kpt_values, or the span; no geom:
                             * FA_EUNSUPPORTED */
    V_ANN_SEGMENTATION,     /* geom: the span; else skipped */
    V_ANN_KEYPOINTS         /* geom: the numbers into kpt_values when a flat array of
                             * numbers, else the span (kpt_count -2); else skipped */
} jvalue;

typedef struct {
    jvalue value;
    unsigned bit;           /* FIELD_* set when the field is read, 0 for none */
    size_t column;          /* offsetof(jcols, <column>) for the values stored in a column */
    const char *name;       /* errors inside the value name the field so (escaped keys are
                             * named by their value); NULL: by the key as written */
    size_t name_len;
} jfield;

typedef struct {
    jfield by_key[K_COUNT]; /* indexed by K_*; K_OTHER and keys left out: V_SKIP */
    unsigned required;      /* FIELD_* bits every record must have */
    /* the record's values before its fields are read (absent fields), and the fields
     * that count as seen from the start */
    void (*defaults)(const jcols *o, int64_t i, unsigned *seen);
} jschema;

#define NAMED(s) s, sizeof(s) - 1
#define COLUMN(o, f, type) (*(type *const *)(const void *)((const char *)(o) + (f)->column))

static void result_defaults(const jcols *o, int64_t i, unsigned *seen);
static void annotation_defaults(const jcols *o, int64_t i, unsigned *seen);

/* Results: "image_id", "category_id", "bbox", "score" required; "area" optional (null:
 * absent); "segmentation" / "keypoints" taken when the caller asks for geometry (the
 * bbox is then optional); anything else, "id" included, skipped. */
static const jschema g_result_schema = {
    {
        [K_IMAGE_ID] = {V_ID, FIELD_IMAGE_ID, offsetof(jcols, image_id), NAMED("image_id")},
        [K_CATEGORY_ID] = {V_ID, FIELD_CATEGORY_ID, offsetof(jcols, category_id), NAMED("category_id")},
        [K_BBOX] = {V_BBOX, FIELD_BBOX, offsetof(jcols, bbox), NULL, 0},
        [K_SCORE] = {V_NUMBER, FIELD_SCORE, offsetof(jcols, score), NULL, 0},
        [K_AREA] = {V_NUMBER_OR_NULL, FIELD_AREA, offsetof(jcols, area), NULL, 0},
        [K_SEGMENTATION] = {V_RESULT_SEGMENTATION, 0, 0, NULL, 0},
        [K_KEYPOINTS] = {V_RESULT_KEYPOINTS, 0, 0, NULL, 0},
    },
    FIELD_IMAGE_ID | FIELD_CATEGORY_ID | FIELD_BBOX | FIELD_SCORE,
    result_defaults,
};

/* Annotations: "id", "image_id", "category_id", "bbox", "area" required (area: a number,
 * null is an error); "iscrowd" optional (0); geometry and "num_keypoints" taken when the
 * caller asks for them; anything else, "score" included, skipped. */
static const jschema g_annotation_schema = {
    {
        [K_ID] = {V_ID, FIELD_ID, offsetof(jcols, id), NAMED("id")},
        [K_IMAGE_ID] = {V_ID, FIELD_IMAGE_ID, offsetof(jcols, image_id), NAMED("image_id")},
        [K_CATEGORY_ID] = {V_ID, FIELD_CATEGORY_ID, offsetof(jcols, category_id), NAMED("category_id")},
        [K_BBOX] = {V_BBOX, FIELD_BBOX, offsetof(jcols, bbox), NAMED("bbox")},
        [K_AREA] = {V_NUMBER, FIELD_AREA, offsetof(jcols, area), NAMED("area")},
        [K_ISCROWD] = {V_ISCROWD, 0, offsetof(jcols, iscrowd), NAMED("iscrowd")},
        [K_SEGMENTATION] = {V_ANN_SEGMENTATION, 0, 0, NULL, 0},
        [K_KEYPOINTS] = {V_ANN_KEYPOINTS, 0, 0, NAMED("keypoints")},
        [K_NUM_KEYPOINTS] = {V_NUM_KEYPOINTS, 0, 0, NAMED("num_keypoints")},
    },
    FIELD_ID | FIELD_IMAGE_ID | FIELD_CATEGORY_ID | FIELD_BBOX | FIELD_AREA,
    annotation_defaults,
};

static void result_defaults(const jcols *o, int64_t i, unsigned *seen)
{
    const fa_json_geometry *g = o->geom;
    o->area[i] = NAN;
    if (g) {
        /* masks / keypoints may stand in for the box: bbox becomes optional (NaN) */
        double *bb = o->bbox + 4 * i;
        bb[0] = bb[1] = bb[2] = bb[3] = NAN;
        *seen |= FIELD_BBOX;
        if (g->seg_span) g->seg_span[2 * i] = g->seg_span[2 * i + 1] = -1;
        if (g->seg_rle)
            for (int q = 0; q < 5; q++) g->seg_rle[5 * i + q] = -1;
        if (g->seg_bound)
            for (int q = 0; q < 4; q++) g->seg_bound[4 * i + q] = NAN;
        if (g->kpt_span) g->kpt_span[2 * i] = g->kpt_span[2 * i + 1] = -1;
        if (g->kpt_count) g->kpt_count[i] = -1;
        if (g->kpt_box)
            g->kpt_box[4 * i] = g->kpt_box[4 * i + 1] = g->kpt_box[4 * i + 2] =
                g->kpt_box[4 * i + 3] = NAN;
        if (g->bbox_empty) g->bbox_empty[i] = 0;
    }
}

static void annotation_defaults(const jcols *o, int64_t i, unsigned *seen)
{
    const fa_json_geometry *g = o->geom;
    (void)seen;
    o->iscrowd[i] = 0;
    if (g) {
        if (g->seg_span) g->seg_span[2 * i] = g->seg_span[2 * i + 1] = -1;
        if (g->kpt_span) g->kpt_span[2 * i] = g->kpt_span[2 * i + 1] = -1;
        if (g->num_keypoints) g->num_keypoints[i] = NAN;
        if (g->kpt_count) g->kpt_count[i] = -1;
    }
}

/* ---------------------------------------------------------------------------------- */
/* values                                                                             */
/* ---------------------------------------------------------------------------------- */

static int parse_bbox(jctx *c, double *bb)
{
    const unsigned char *start = c->p;
    int count = 0, rc;
    char tmp[16];
    if (c->p >= c->end)
        return fa_jr_err_eof(c);
    if (*c->p != '[')
        return fa_jr_err(c, FA_EPARSE, c->p, "bbox must be an array of 4 numbers, got %s",
                    fa_jr_describe(c, c->p, tmp, sizeof tmp));
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return fa_jr_err(c, FA_EPARSE, start, "bbox must have 4 numbers, got 0");
    }
    for (;;) {
        if (count < 4)
            rc = fast_double(c, &bb[count]);
        else
            rc = fa_jr_skip_value(c);
        if (rc != FA_OK)
            return rc;
        count++;
        rc = fa_jr_next_item(c, ']', "',' or ']' in bbox");
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
    }
    if (count != 4)
        return fa_jr_err(c, FA_EPARSE, start, "bbox must have 4 numbers, got %d", count);
    return FA_OK;
}

/* A results record's "bbox": [] where the caller takes it as no box (geometry scans:
 * pycocotools' loadRes then uses the mask or the keypoints): consumed, the box NaN, the
 * record marked; 0 (nothing consumed) for any other value. */
static int take_empty_bbox(jctx *c, const jcols *o, int64_t i)
{
    const unsigned char *start = c->p;
    double *bb;
    if (!o->geom || !o->geom->bbox_empty || c->p >= c->end || *c->p != '[')
        return 0;
    c->p++;
    skip_ws(c);
    if (c->p >= c->end || *c->p != ']') {
        c->p = start;
        return 0;
    }
    c->p++;
    bb = o->bbox + 4 * i;
    bb[0] = bb[1] = bb[2] = bb[3] = NAN;
    o->geom->bbox_empty[i] = 1;
    return 1;
}

/* iscrowd: 0 / 1 (any number token with that value, e.g. 1.0, as the column checks of
 * the engine accept) or true / false. */
static int parse_iscrowd(jctx *c, uint8_t *out)
{
    const unsigned char *start = c->p;
    double d;
    int rc;
    if (c->p < c->end) {
        /* the common tokens */
        if (*c->p == '0' || *c->p == '1') {
            const unsigned char *q = c->p + 1;
            if (q >= c->end || !(IS_DIGIT(*q) || *q == '.' || *q == 'e' || *q == 'E')) {
                *out = (uint8_t)(*c->p - '0');
                c->p = q;
                return FA_OK;
            }
        } else if (*c->p == 't' && match_lit(c, c->p, "true")) {
            *out = 1;
            c->p += 4;
            return FA_OK;
        } else if (*c->p == 'f' && match_lit(c, c->p, "false")) {
            *out = 0;
            c->p += 5;
            return FA_OK;
        }
    }
    rc = fa_jr_parse_double(c, &d, "0, 1, true or false");
    if (rc != FA_OK)
        return rc;
    if (d == 0.0 || d == 1.0) {
        *out = (uint8_t)d;
        return FA_OK;
    }
    {
        char tok[40];
        jnum t;
        t.start = start;
        t.stop = c->p;
        fa_jr_format_token(&t, tok, sizeof tok);
        return fa_jr_err(c, FA_EPARSE, start, "iscrowd must be 0 or 1 (or a boolean), got %s", tok);
    }
}

/* A results record's "segmentation" / "keypoints" (kind: K_SEGMENTATION / K_KEYPOINTS);
 * with a shadow buffer, the text of a value kept as a span is copied there while it is
 * in cache (keypoints read into kpt_values are not). */
static int result_geometry(jctx *c, const jcols *o, int kind, int64_t i)
{
    const fa_json_geometry *g = o->geom;
    const unsigned char *start = c->p;
    int64_t *sp;
    int rc;
    if (!g)
        return fa_jr_err(c, FA_EUNSUPPORTED, c->key - 1,
                         "records with '%s' are not supported by the fast parser",
                         kind == K_SEGMENTATION ? "segmentation" : "keypoints");
    sp = kind == K_SEGMENTATION ? g->seg_span : g->kpt_span;
    if (kind == K_KEYPOINTS && g->kpt_values && c->p < c->end && *c->p == '[')
        return fa_jr_take_keypoints(c, g, i);   /* read into numbers: no text to keep */
    if (kind == K_SEGMENTATION && sp && g->seg_rle)
        rc = fa_jr_take_segmentation(c, sp + 2 * i, g->seg_rle + 5 * i,
                                     g->seg_bound ? g->seg_bound + 4 * i : NULL);
    else
        rc = sp ? fa_jr_take_span(c, sp + 2 * i) : fa_jr_skip_value(c);
    if (rc == FA_OK && g->shadow)
        memcpy(g->shadow + (start - c->buf), start, (size_t)(c->p - start));
    return rc;
}

/* An annotation's "segmentation" / "keypoints". */
static int annotation_geometry(jctx *c, const jcols *o, const jfield *f, int kind, int64_t i)
{
    const fa_json_geometry *g = o->geom;
    int64_t *sp;
    if (!g)
        return fa_jr_skip_value(c);
    if (kind == K_KEYPOINTS && g->kpt_values && g->kpt_span) {
        /* the numbers straight into their row; a value that is not a flat array of
         * numbers is skipped as any value (kpt_count -2: the caller reads it from its
         * span, and names what is wrong when it evaluates) */
        const unsigned char *start = c->p;
        int rc;
        c->key = (const unsigned char *)f->name;
        c->key_len = f->name_len;
        rc = fa_jr_take_keypoints(c, g, i);
        if (rc != FA_OK) {
            c->p = start;
            rc = fa_jr_take_span(c, g->kpt_span + 2 * i);
            g->kpt_count[i] = -2;
        }
        return rc;
    }
    sp = kind == K_SEGMENTATION ? g->seg_span : g->kpt_span;
    return sp ? fa_jr_take_span(c, sp + 2 * i) : fa_jr_skip_value(c);
}

/* The value of field f (key kind `kind`) of record i at c->p, read as the schema says. */
static inline int read_value(jctx *c, const jcols *o, const jfield *f, int kind, int64_t i,
                             unsigned *seen)
{
    int rc;
    if (f->name && f->value <= V_ISCROWD) {         /* a column's value: named by f */
        c->key = (const unsigned char *)f->name;   /* canonical name (escaped keys) */
        c->key_len = f->name_len;
    }
    switch (f->value) {
    case V_ID:
        rc = fast_id(c, &COLUMN(o, f, int64_t)[i]);
        break;
    case V_NUMBER:
        rc = fast_double(c, &COLUMN(o, f, double)[i]);
        break;
    case V_NUMBER_OR_NULL:
        if (c->p < c->end && *c->p == 'n' && match_lit(c, c->p, "null")) {
            c->p += 4;
            COLUMN(o, f, double)[i] = NAN;
            *seen &= ~f->bit;
            return FA_OK;
        }
        rc = fast_double(c, &COLUMN(o, f, double)[i]);
        break;
    case V_BBOX:
        if (take_empty_bbox(c, o, i))
            return FA_OK;               /* optional with geometry: the bit was set */
        rc = parse_bbox(c, COLUMN(o, f, double) + 4 * i);
        if (rc == FA_OK && o->geom && o->geom->bbox_empty)
            o->geom->bbox_empty[i] = 0; /* a later duplicate key wins */
        break;
    case V_ISCROWD:
        rc = parse_iscrowd(c, &COLUMN(o, f, uint8_t)[i]);
        break;
    case V_NUM_KEYPOINTS:
        if (!o->geom || !o->geom->num_keypoints)
            return fa_jr_skip_value(c);
        c->key = (const unsigned char *)f->name;
        c->key_len = f->name_len;
        return fa_jr_parse_double(c, &o->geom->num_keypoints[i], "a number");
    case V_RESULT_SEGMENTATION:
    case V_RESULT_KEYPOINTS:
        return result_geometry(c, o, kind, i);
    case V_ANN_SEGMENTATION:
    case V_ANN_KEYPOINTS:
        return annotation_geometry(c, o, f, kind, i);
    default:
        return fa_jr_skip_value(c);
    }
    *seen |= f->bit;
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* the member loop                                                                    */
/* ---------------------------------------------------------------------------------- */

/* Read a record's field name and the ':' after it; *kind is its K_* code. Leaves
 * c->key / c->key_len naming the field for error messages and c->p at the value. */
static int read_field_name(jctx *c, int *kind)
{
    const unsigned char *ks;
    size_t kn;
    int esc, rc;
    *kind = c->p < c->end && *c->p == '"' ? quick_key(c, &ks, &kn) : -1;
    if (*kind < 0) {                     /* any other key, or none (reported) */
        rc = fa_jr_key(c, &ks, &kn, &esc, "a field name (string)");
        if (rc != FA_OK)
            return rc;
        *kind = esc ? key_kind_escaped(ks, kn) : key_kind(ks, kn);
    }
    c->key = ks;
    c->key_len = kn;
    return fa_jr_colon(c, "':' after the field name");
}

/* FA_EPARSE naming the first required field (FIELD_* order) whose bit is not in `seen`. */
static int check_required(jctx *c, unsigned seen, unsigned required, const unsigned char *rec_start)
{
    for (int k = 0; k < FIELD_COUNT; k++) {
        if ((required & (1u << k)) && !(seen & (1u << k))) {
            c->key = (const unsigned char *)g_field_names[k];
            c->key_len = strlen(g_field_names[k]);
            return fa_jr_err(c, FA_EPARSE, rec_start, "missing field '%s'", g_field_names[k]);
        }
    }
    return FA_OK;
}

/* Duplicated keys: json.loads keeps an object's last value of a key, so a value the
 * schema refuses (a wrong type or shape: FA_EPARSE, the text itself valid JSON) may yet
 * be replaced by a later one. Such a value is skipped and remembered (`pending`, a bit
 * per key kind, with where the value and its key lie); a later value of the same key
 * that reads well forgets it; what is still remembered at the record's end is read
 * again, the first in the text first, to report its error. (A value whose text is not
 * valid JSON is reported at once, as before.) */
typedef struct {
    unsigned pending;
    const unsigned char *value[K_COUNT];
    const unsigned char *key[K_COUNT];
    size_t key_len[K_COUNT];
} jdeferred;

static int defer_bad_value(jctx *c, const jcols *o, const jfield *f, int kind, int64_t i, unsigned *seen,
                           const unsigned char *value, const unsigned char *key, size_t key_len, jdeferred *d)
{
    if (kind == K_OTHER)
        return FA_EPARSE;
    c->p = value;
    if (fa_jr_skip_value(c) != FA_OK) {  /* not valid JSON: the schema's error, again */
        c->p = value;
        c->key = key;
        c->key_len = key_len;
        return read_value(c, o, f, kind, i, seen);
    }
    d->pending |= 1u << kind;
    d->value[kind] = value;
    d->key[kind] = key;
    d->key_len[kind] = key_len;
    return FA_OK;
}

static int report_deferred(jctx *c, const jschema *s, const jcols *o, int64_t i, unsigned *seen,
                           const jdeferred *d)
{
    int first = -1, rc;
    const unsigned char *end = c->p;
    for (int k = 0; k < K_COUNT; k++)
        if ((d->pending & (1u << k)) && (first < 0 || d->value[k] < d->value[first]))
            first = k;
    c->p = d->value[first];
    c->key = d->key[first];
    c->key_len = d->key_len[first];
    rc = read_value(c, o, &s->by_key[first], first, i, seen);
    if (rc == FA_OK) {                   /* cannot happen: the value failed before */
        c->p = end;
        rc = fa_jr_err(c, FA_EPARSE, d->value[first], "invalid value");
    }
    return rc;
}

/* c->p at '{' of record i: its members read as schema s says, into the columns of o. */
static int parse_record(jctx *c, int64_t i, const jschema *s, const jcols *o)
{
    const unsigned char *rec_start = c->p;
    unsigned seen = 0;
    int rc, closed = 0;
    jdeferred d;
    d.pending = 0;
    c->p++;
    s->defaults(o, i, &seen);
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        closed = 1;
    }
    while (!closed) {
        int kind = K_OTHER;
        const unsigned char *value, *key;
        size_t key_len;
        rc = read_field_name(c, &kind);
        if (rc != FA_OK)
            return rc;
        value = c->p;
        key = c->key;
        key_len = c->key_len;
        rc = read_value(c, o, &s->by_key[kind], kind, i, &seen);
        if (rc == FA_EPARSE)
            rc = defer_bad_value(c, o, &s->by_key[kind], kind, i, &seen, value, key, key_len, &d);
        else if (rc == FA_OK && d.pending)
            d.pending &= ~(1u << kind);
        if (rc != FA_OK)
            return rc;
        c->key = NULL;                   /* between fields: errors name none */
        c->key_len = 0;
        rc = fa_jr_next_item(c, '}', "',' or '}' in record");
        if (rc < 0)
            return rc;
        closed = rc == 0;
    }
    if (d.pending)
        return report_deferred(c, s, o, i, &seen, &d);
    rc = check_required(c, seen, s->required, rec_start);
    if (rc != FA_OK)
        return rc;
    if (o->n_area && (seen & FIELD_AREA))
        (*o->n_area)++;
    return FA_OK;
}

/* ---------------------------------------------------------------------------------- */
/* arrays of records, entry points                                                    */
/* ---------------------------------------------------------------------------------- */

/* Which records of the array a walk takes (see fa_json_results_parse_part). */
typedef struct {
    size_t begin;       /* 0: the whole document ('[' first); else a record's '{' inside it */
    size_t stop;        /* stop before a record whose '{' is at or after this offset */
    int64_t first;      /* index (output row) of the first record */
    int64_t capacity;   /* rows there are: records [first, capacity) fit */
} jrange;

/* Walk a JSON array of records, calling parse(c, i, ctx) on each '{' (i from r->first);
 * checks the commas, the closing ']' and that nothing but whitespace follows it.
 * *n_records (may be NULL): the records parsed, also on error. *end_pos (may be NULL):
 * the buffer length once the array is closed; the offset of the '{' it stopped at (by
 * r->stop, or FA_EINVAL: no room for that record). */
static int walk_records(jctx *c, const jrange *r, const char *not_array,
                        int (*parse)(jctx *, int64_t, void *), void *ctx, int64_t *n_records,
                        size_t *end_pos)
{
    int64_t n = 0, i;
    int rc;
    if (n_records) *n_records = 0;
    if (r->begin == 0) {
        if (c->p >= c->end)
            return fa_jr_err_eof(c);
        if (*c->p != '[') {
            char tmp[16];
            return fa_jr_err(c, FA_EPARSE, c->p, "%s, got %s", not_array, fa_jr_describe(c, c->p, tmp, sizeof tmp));
        }
        c->p++;
        skip_ws(c);
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            goto closed;
        }
    }
    for (;;) {
        i = r->first + n;
        c->record = i;
        if (c->p >= c->end)
            return fa_jr_err_eof(c);
        if (*c->p != '{')
            return fa_jr_err_expected(c, "an object (record)");
        if (i >= r->capacity) {
            if (end_pos) *end_pos = (size_t)(c->p - c->buf);
            return fa_jr_err(c, FA_EINVAL, c->p, "more records than the capacity %lld",
                        (long long)r->capacity);
        }
        rc = parse(c, i, ctx);
        if (rc != FA_OK)
            return rc;
        n++;
        if (n_records) *n_records = n;
        rc = fa_jr_next_item(c, ']', "',' or ']' after the record");
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        if (c->p < c->end && *c->p == '{' && (size_t)(c->p - c->buf) >= r->stop) {
            c->record = -1;
            if (end_pos) *end_pos = (size_t)(c->p - c->buf);
            return FA_OK;
        }
    }
closed:
    c->record = -1;
    skip_ws(c);
    if (c->p != c->end) {
        char tmp[16];
        return fa_jr_err(c, FA_EPARSE, c->p, "unexpected data after the closing ']': %s",
                    fa_jr_describe(c, c->p, tmp, sizeof tmp));
    }
    if (end_pos) *end_pos = (size_t)(c->end - c->buf);
    return FA_OK;
}

static int parse_result_cb(jctx *c, int64_t i, void *ctx)
{
    return parse_record(c, i, &g_result_schema, (const jcols *)ctx);
}

static int parse_annotation_cb(jctx *c, int64_t i, void *ctx)
{
    return parse_record(c, i, &g_annotation_schema, (const jcols *)ctx);
}

int fa_json_results_parse_part(const char *buf, size_t len, size_t begin, size_t stop,
                               int64_t first_row, int64_t capacity, int64_t *image_id,
                               int64_t *category_id, double *bbox, double *score, double *area,
                               const fa_json_geometry *geom, int64_t *n_records, int64_t *n_area,
                               size_t *end_pos, fa_json_error *err)
{
    jctx c;
    jcols o;
    jrange r;
    int64_t na = 0;
    int rc;

    if (n_records) *n_records = 0;
    if (n_area) *n_area = 0;
    if (end_pos) *end_pos = begin;
    rc = fa_jr_begin(&c, buf, len, begin, err);
    if (rc != FA_OK)
        return rc;
    memset(&o, 0, sizeof o);
    o.image_id = image_id;
    o.category_id = category_id;
    o.bbox = bbox;
    o.score = score;
    o.area = area;
    o.n_area = &na;
    o.geom = geom;
    r.begin = begin;
    r.stop = stop;
    r.first = first_row;
    r.capacity = capacity;
    rc = walk_records(&c, &r, "not a JSON array (results must be a list of objects)",
                      parse_result_cb, &o, n_records, end_pos);
    if (n_area) *n_area = na;
    return rc;
}

int fa_json_results_parse(const char *buf, size_t len, int64_t capacity, int64_t *image_id,
                          int64_t *category_id, double *bbox, double *score, double *area,
                          const fa_json_geometry *geom, int64_t *n_records, int64_t *n_area,
                          fa_json_error *err)
{
    return fa_json_results_parse_part(buf, len, 0, SIZE_MAX, 0, capacity, image_id, category_id,
                                      bbox, score, area, geom, n_records, n_area, NULL, err);
}

int fa_json_annotations_parse(const char *buf, size_t len, int64_t capacity, int64_t *id,
                              int64_t *image_id, int64_t *category_id, double *bbox,
                              double *area, uint8_t *iscrowd, const fa_json_geometry *geom,
                              int64_t *n_records, fa_json_error *err)
{
    jctx c;
    jcols o;
    jrange r;
    int rc;

    if (n_records) *n_records = 0;
    rc = fa_jr_begin(&c, buf, len, 0, err);
    if (rc != FA_OK)
        return rc;
    memset(&o, 0, sizeof o);
    o.id = id;
    o.image_id = image_id;
    o.category_id = category_id;
    o.bbox = bbox;
    o.area = area;
    o.iscrowd = iscrowd;
    o.geom = geom;
    r.begin = 0;
    r.stop = SIZE_MAX;
    r.first = 0;
    r.capacity = capacity;
    return walk_records(&c, &r, "annotations must be a JSON array of objects",
                        parse_annotation_cb, &o, n_records, NULL);
}
