/*
 * group.c -- stable grouping of records into (major, minor, -score) order.
 *
 * Two stable counting sorts (LSD: minor first, then major) give the (major, minor)
 * order in O(n + n_major + n_minor); then each (major, minor) run is sorted by
 * descending score, stably: insertion sort for short runs (the common case: a few
 * detections of one category in one image), merge sort for long ones. Equal scores keep
 * the input order, which is what NumPy's mergesort on -score gives pycocotools.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fastap.h"

/* Stable merge sort of idx[0..n) by descending key[idx], tmp has room for n. */
void fa_sort_desc_stable(int64_t *idx, int64_t n, const double *key, int64_t *tmp)
{
    if (n <= 24) {
        for (int64_t i = 1; i < n; i++) {
            int64_t v = idx[i];
            double kv = key[v];
            int64_t j = i;
            while (j > 0 && key[idx[j - 1]] < kv) { idx[j] = idx[j - 1]; j--; }
            idx[j] = v;
        }
        return;
    }
    int64_t h = n / 2;
    fa_sort_desc_stable(idx, h, key, tmp);
    fa_sort_desc_stable(idx + h, n - h, key, tmp);
    if (!(key[idx[h - 1]] < key[idx[h]])) return;   /* already in order */
    memcpy(tmp, idx, (size_t)h * sizeof(int64_t));
    int64_t i = 0, j = h, o = 0;
    while (i < h && j < n) {
        /* take from the right only when strictly greater: keeps ties in input order */
        if (key[idx[j]] > key[tmp[i]]) idx[o++] = idx[j++];
        else idx[o++] = tmp[i++];
    }
    while (i < h) idx[o++] = tmp[i++];
}

void fa_group_sort_runs(int64_t n, const int32_t *major, const int32_t *minor,
                        const double *score, int64_t *order, int64_t begin, int64_t end,
                        int64_t *tmp)
{
    int64_t s = begin;
    /* a run that began before `begin` belongs to the caller of the part before */
    if (s > 0)
        while (s < n && s < end && major[order[s]] == major[order[s - 1]] &&
               minor[order[s]] == minor[order[s - 1]])
            s++;
    while (s < end) {
        int64_t e = s + 1;
        while (e < n && major[order[e]] == major[order[s]] && minor[order[e]] == minor[order[s]]) e++;
        if (e - s > 1) fa_sort_desc_stable(order + s, e - s, score, tmp);
        s = e;
    }
}

int fa_group(int64_t n, const int32_t *major, int32_t n_major, const int32_t *minor,
             int32_t n_minor, const double *score, int64_t *order, int64_t *major_off)
{
    int64_t *tmp = (int64_t *)malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    int64_t *cnt_minor = (int64_t *)calloc((size_t)n_minor + 1, sizeof(int64_t));
    if (!tmp || !cnt_minor) { free(tmp); free(cnt_minor); return FA_ENOMEM; }

    /* pass 1: stable counting sort by minor -> tmp */
    for (int64_t i = 0; i < n; i++) cnt_minor[minor[i] + 1]++;
    for (int32_t v = 0; v < n_minor; v++) cnt_minor[v + 1] += cnt_minor[v];
    for (int64_t i = 0; i < n; i++) tmp[cnt_minor[minor[i]]++] = i;

    /* pass 2: stable counting sort by major -> order */
    memset(major_off, 0, ((size_t)n_major + 1) * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) major_off[major[i] + 1]++;
    for (int32_t v = 0; v < n_major; v++) major_off[v + 1] += major_off[v];
    for (int64_t i = 0; i < n; i++) {
        int64_t r = tmp[i];
        order[major_off[major[r]]++] = r;
    }
    /* the fill advanced each offset to the start of the next group: shift back */
    for (int32_t v = n_major; v > 0; v--) major_off[v] = major_off[v - 1];
    major_off[0] = 0;

    /* pass 3: descending score inside each (major, minor) run */
    if (score)
        fa_group_sort_runs(n, major, minor, score, order, 0, n, tmp);
    free(tmp);
    free(cnt_minor);
    return FA_OK;
}

int64_t fa_index_lut(int64_t n, const int64_t *values, int64_t lo, int64_t span,
                     const int64_t *lut, int64_t *pos, uint8_t *ok)
{
    int64_t missing = 0;
    for (int64_t i = 0; i < n; i++) {
        const uint64_t v = (uint64_t)values[i] - (uint64_t)lo;     /* below lo: wraps high */
        const int64_t p = v <= (uint64_t)span ? lut[v] : -1;
        pos[i] = p >= 0 ? p : 0;
        ok[i] = (uint8_t)(p >= 0);
        missing += p < 0;
    }
    return missing;
}

int64_t fa_index_lut32(int64_t n, const int64_t *values, int64_t lo, int64_t span,
                       const int64_t *lut, int32_t *pos)
{
    int64_t missing = 0;
    for (int64_t i = 0; i < n; i++) {
        const uint64_t v = (uint64_t)values[i] - (uint64_t)lo;
        const int64_t p = v <= (uint64_t)span ? lut[v] : -1;
        pos[i] = (int32_t)p;
        missing += p < 0 || p > INT32_MAX;
    }
    return missing;
}

int64_t fa_pair_select(int64_t n, const int64_t *img_values, int64_t img_lo, int64_t img_span,
                       const int64_t *img_lut, const int64_t *cat_values, int64_t cat_lo,
                       int64_t cat_span, const int64_t *cat_lut, int64_t n_cat, const double *area,
                       const uint8_t *keep, const uint8_t *table, const uint8_t *mark,
                       int64_t *sel, int32_t *img, int32_t *cat, uint8_t *marked)
{
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        const double a = area[i];
        if (!(a > 0.0 && a < HUGE_VAL) || (keep && !keep[i]))
            continue;                                   /* NaN fails the test too */
        const uint64_t vi = (uint64_t)img_values[i] - (uint64_t)img_lo;
        const uint64_t vc = (uint64_t)cat_values[i] - (uint64_t)cat_lo;
        if (vi > (uint64_t)img_span || vc > (uint64_t)cat_span)
            continue;
        const int64_t pi = img_lut[vi], pc = cat_lut[vc];
        if (pi < 0 || pc < 0)
            continue;
        const int64_t cell = pi * n_cat + pc;
        if (!(table[cell] & 1))
            continue;
        sel[m] = i;
        img[m] = (int32_t)pi;
        cat[m] = (int32_t)pc;
        marked[m] = mark ? mark[cell] != 0 : (table[cell] >> 1) & 1;
        m++;
    }
    return m;
}

void fa_gather_grouped(int64_t begin, int64_t end, const int64_t *order, const int64_t *sel,
                       const int32_t *img, const double *score, const double *box, const double *area,
                       int64_t *idx_out, int32_t *img_out, double *score_out, double *box_out,
                       double *area_out)
{
    for (int64_t j = begin; j < end; j++) {
        const int64_t o = order[j], i = sel[o];
        idx_out[j] = i;
        img_out[j] = img[o];
        score_out[j] = score[i];
        area_out[j] = area[i];
        if (box_out)
            memcpy(box_out + 4 * j, box + 4 * i, 4 * sizeof(double));
    }
}
