/*
 * panoptic.c -- the joint histogram of (ground-truth id, predicted id) pairs of one
 * panoptic segment map pair, the only per-pixel work of panoptic quality.
 *
 * Layout: both maps are C-contiguous uint32 [n_pix] (segment ids, 0 = VOID). The caller
 * gives each image to one thread, with that thread's own table (no sharing). The table is
 * open addressing over 2^k slots of (key, count) uint64 pairs, key = gt << 32 | pred,
 * count 0 marking an empty slot. Segment maps hold long runs of one pair along a row, so a
 * run is counted locally and inserted once. At the end the used slots are moved to the
 * front and sorted by key (the order of np.unique over the keys). No allocation.
 */
#include <stdlib.h>
#include <string.h>

#include "fastap.h"

static int cmp_pair(const void *a, const void *b)
{
    uint64_t ka = ((const uint64_t *)a)[0], kb = ((const uint64_t *)b)[0];
    return ka < kb ? -1 : ka > kb;
}

/* Adds `count` to `key` in the table; returns 0, or -1 when the table would pass half full. */
static int table_add(uint64_t *table, int shift, uint64_t mask, uint64_t key, uint64_t count, int64_t *used,
                     int64_t limit)
{
    uint64_t h = (key * 0x9E3779B97F4A7C15ULL) >> shift;
    for (;;) {
        uint64_t *slot = table + 2 * h;
        if (slot[1] == 0) {
            if (*used >= limit)
                return -1;
            slot[0] = key;
            slot[1] = count;
            (*used)++;
            return 0;
        }
        if (slot[0] == key) {
            slot[1] += count;
            return 0;
        }
        h = (h + 1) & mask;
    }
}

int fa_panoptic_pairs(const uint32_t *gt, const uint32_t *pred, int64_t n_pix, uint64_t *table, int log2_slots,
                      int64_t *n_pairs)
{
    const int64_t slots = (int64_t)1 << log2_slots;
    const uint64_t mask = (uint64_t)slots - 1;
    const int shift = 64 - log2_slots;
    int64_t i, used = 0, run = 0;
    uint64_t key = 0;
    *n_pairs = 0;
    if (log2_slots < 1 || log2_slots > 40)
        return FA_EINVAL;
    memset(table, 0, (size_t)slots * 2 * sizeof(uint64_t));
    for (i = 0; i < n_pix; i++) {
        uint64_t k = ((uint64_t)gt[i] << 32) | pred[i];
        if (k == key && run > 0) {
            run++;
            continue;
        }
        if (run > 0 && table_add(table, shift, mask, key, (uint64_t)run, &used, slots / 2) < 0)
            return FA_ENOMEM;
        key = k;
        run = 1;
    }
    if (run > 0 && table_add(table, shift, mask, key, (uint64_t)run, &used, slots / 2) < 0)
        return FA_ENOMEM;
    /* compact: slot j <= i, so nothing unread is overwritten */
    for (i = 0, used = 0; i < slots; i++)
        if (table[2 * i + 1] != 0) {
            table[2 * used] = table[2 * i];
            table[2 * used + 1] = table[2 * i + 1];
            used++;
        }
    qsort(table, (size_t)used, 2 * sizeof(uint64_t), cmp_pair);
    *n_pairs = used;
    return FA_OK;
}
