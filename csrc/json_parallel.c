/*
 * json_parallel.c -- one results file parsed by many threads: the split and the join.
 *
 * How the work is split. The caller (Cython, prange) cuts the buffer into parts at
 * guessed record starts (fa_json_results_split: the '{' of a `}, {"` near k * len / n --
 * it may lie in a string or a nested object) and gives every part the rows its bytes can
 * hold (fa_json_results_count_bound of the part), one block of rows after the other.
 * fa_json_results_parse_part (json_results.c) scans one part: from its '{', inside the
 * array, up to the first record at or after the next part's start. The scan is
 * deterministic and context-free from a real record start, so a part that begins where
 * the records before it end gives what the one-thread scan gives there;
 * fa_json_results_join_parts then walks the parts in order, takes those, scans the part
 * of a wrong guess again from where the records before it end, and reports the first
 * failure met -- the result, and any error (record index, offset, message), are the
 * serial scan's. Data layout: the rows come back in pieces (one per part with rows to
 * spare, e.g. masks: two '{' per record), which the caller copies into columns of the
 * right length; only when a part runs out of rows are the pieces closed up (memmove)
 * and the rest scanned serially.
 */
#include "json_internal.h"

/* The '{' of the first `}` ws* `,` ws* `{` ws* `"` whose '}' lies in [from, to); len if
 * there is none. */
static size_t guess_record(const unsigned char *b, size_t len, size_t from, size_t to)
{
    while (from < to) {
        const unsigned char *q = memchr(b + from, '}', to - from);
        size_t i, brace;
        if (!q)
            break;
        i = (size_t)(q - b) + 1;
        from = i;
        while (i < len && IS_WS(b[i]))
            i++;
        if (i >= len || b[i] != ',')
            continue;
        i++;
        while (i < len && IS_WS(b[i]))
            i++;
        if (i >= len || b[i] != '{')
            continue;
        brace = i++;
        while (i < len && IS_WS(b[i]))
            i++;
        if (i < len && b[i] == '"')
            return brace;
    }
    return len;
}

int64_t fa_json_results_split(const char *buf, size_t len, int64_t n_parts, size_t *begin)
{
    const unsigned char *b = (const unsigned char *)buf;
    size_t q, r;
    int64_t m = 1, k;
    if (n_parts < 1)
        return 0;
    begin[0] = 0;
    if (!buf)
        return 1;
    q = len / (size_t)n_parts;
    r = len % (size_t)n_parts;
    for (k = 1; k < n_parts; k++) {
        /* nominal part k: [k * len / n_parts, (k + 1) * len / n_parts), without overflow */
        size_t from = q * (size_t)k + r * (size_t)k / (size_t)n_parts;
        size_t to = q * (size_t)(k + 1) + r * (size_t)(k + 1) / (size_t)n_parts;
        size_t at;
        if (from <= begin[m - 1])
            from = begin[m - 1] + 1;
        at = guess_record(b, len, from, to);
        if (at < len)
            begin[m++] = at;
    }
    return m;
}

/* Move rows [from, from + n) of every output column to [to, to + n) (to <= from). */
static void move_rows(const jcols *o, int64_t from, int64_t to, int64_t n)
{
    const fa_json_geometry *g = o->geom;
    if (from == to || n <= 0)
        return;
#define FA_MOVE_ROWS(col, width)                                                           \
    memmove((col) + (size_t)(width) * (size_t)to, (col) + (size_t)(width) * (size_t)from,  \
            sizeof(*(col)) * (size_t)(width) * (size_t)n)
    FA_MOVE_ROWS(o->image_id, 1);
    FA_MOVE_ROWS(o->category_id, 1);
    FA_MOVE_ROWS(o->bbox, 4);
    FA_MOVE_ROWS(o->score, 1);
    FA_MOVE_ROWS(o->area, 1);
    if (g) {
        if (g->seg_span) FA_MOVE_ROWS(g->seg_span, 2);
        if (g->seg_rle) FA_MOVE_ROWS(g->seg_rle, 5);
        if (g->seg_bound) FA_MOVE_ROWS(g->seg_bound, 4);
        if (g->kpt_span) FA_MOVE_ROWS(g->kpt_span, 2);
        if (g->num_keypoints) FA_MOVE_ROWS(g->num_keypoints, 1);
        if (g->kpt_values && g->kpt_stride > 0)
            FA_MOVE_ROWS(g->kpt_values, kpt_width(g));
        if (g->kpt_box) FA_MOVE_ROWS(g->kpt_box, 4);
        if (g->kpt_count) FA_MOVE_ROWS(g->kpt_count, 1);
        if (g->bbox_empty) FA_MOVE_ROWS(g->bbox_empty, 1);
    }
#undef FA_MOVE_ROWS
}

int fa_json_results_join_parts(const char *buf, size_t len, const fa_json_part *parts,
                               int64_t n_parts, int64_t capacity, int64_t *image_id,
                               int64_t *category_id, double *bbox, double *score, double *area,
                               const fa_json_geometry *geom, int64_t *piece_row,
                               int64_t *piece_len, int64_t *n_pieces, int64_t *n_records,
                               int64_t *n_area, fa_json_error *err)
{
    jcols o;
    fa_json_part redo;
    int64_t n = 0, na = 0, k = 0, np = 0, before, i;
    size_t pos = 0;    /* the records before pos are the pieces so far, n of them */
    int rc;

    memset(&o, 0, sizeof o);
    o.image_id = image_id;
    o.category_id = category_id;
    o.bbox = bbox;
    o.score = score;
    o.area = area;
    o.geom = geom;
    if (n_parts < 1)
        goto serial;
    for (;;) {
        const fa_json_part *pt;
        /* parts that begin before pos were wrong guesses: a scan went past them */
        while (k + 1 < n_parts && parts[k + 1].begin <= pos)
            k++;
        if (parts[k].begin == pos) {
            pt = &parts[k];       /* a real part: it starts where a record does */
        } else {
            /* pos lies inside part k (a wrong guess): scan its records from pos up to the
             * next part again, into its rows (its room holds every record that begins in
             * its bytes) */
            redo.begin = pos;
            redo.first_row = parts[k].first_row;
            redo.capacity = parts[k].capacity;
            redo.rc = fa_json_results_parse_part(
                buf, len, pos, k + 1 < n_parts ? parts[k + 1].begin : len, redo.first_row,
                redo.capacity, image_id, category_id, bbox, score, area, geom,
                &redo.n_records, &redo.n_area, &redo.end_pos, &redo.err);
            pt = &redo;
        }
        before = n;
        if (pt->n_records > 0) {
            if (np > 0 && piece_row[np - 1] + piece_len[np - 1] == pt->first_row) {
                piece_len[np - 1] += pt->n_records;
            } else {
                piece_row[np] = pt->first_row;
                piece_len[np] = pt->n_records;
                np++;
            }
        }
        n += pt->n_records;
        na += pt->n_area;
        if (pt->rc == FA_EINVAL) {
            pos = pt->end_pos;    /* out of rows (not with the rooms said): go on serially */
            goto serial;
        }
        if (pt->rc != FA_OK) {
            /* the serial scan fails here too, the same way (same state at the same byte) */
            if (err) {
                *err = pt->err;
                if (err->record >= 0)
                    err->record = err->record - pt->first_row + before;
            }
            rc = pt->rc;
            goto out;
        }
        pos = pt->end_pos;
        if (pos == len) {     /* the array is closed (any later parts were wrong guesses) */
            if (err) {
                err->record = -1;
                err->offset = 0;
                err->field[0] = '\0';
                err->message[0] = '\0';
            }
            rc = FA_OK;
            goto out;
        }
    }
serial: {
        /* close up the pieces into rows [0, n) (memmove, in order), then scan the rest
         * into the rows after them */
        int64_t row = 0, m = 0, ma = 0;
        for (i = 0; i < np; i++) {
            move_rows(&o, piece_row[i], row, piece_len[i]);
            row += piece_len[i];
        }
        rc = fa_json_results_parse_part(buf, len, pos, SIZE_MAX, n, capacity, image_id,
                                        category_id, bbox, score, area, geom, &m, &ma, NULL, err);
        n += m;
        na += ma;
        np = n > 0;
        piece_row[0] = 0;
        piece_len[0] = n;
    }
out:
    if (n_pieces) *n_pieces = np;
    if (n_records) *n_records = n;
    if (n_area) *n_area = na;
    return rc;
}
