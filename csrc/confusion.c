/*
 * confusion.c -- the K x K confusion matrix of semantic segmentation label maps.
 *
 * Layout: label maps are C-contiguous [image][pixel]; score maps [image][channel][pixel]
 * (NCHW). The caller splits the work into (image, pixel range) pieces, one thread per
 * piece, each adding into its own int64 [K][K] matrix (rows = ground truth, columns =
 * prediction); the binding sums the per-thread matrices. Each piece is read once, in
 * blocks of FA_CONF_BLOCK pixels: the block's labels are widened to int64 on the stack
 * (any integer type, one switch per block, not per pixel), or, for scores, the argmax over
 * the channels is taken channel by channel over the block (contiguous reads), then the
 * block's pairs are counted (for K <= 45 into four interleaved uint32 copies on the stack,
 * added to the matrix at the end). No per-pixel array the size of an image is ever made.
 */
#include <math.h>
#include <string.h>

#include "fastap.h"

#define FA_CONF_BLOCK 2048
/* matrices of at most this many entries (K <= 45) are counted in four uint32 copies */
#define FA_CONF_SMALL 2048

/* out[i] = label i of base[off + i], widened to int64 (uint64 above INT64_MAX becomes
 * negative, hence out of range). */
static void load_labels(const void *base, int type, int64_t off, int64_t n, int64_t *out)
{
    int64_t i;
#define FA_LOAD(T) do { const T *p = (const T *)base + off; \
        for (i = 0; i < n; i++) out[i] = (int64_t)p[i]; } while (0)
    switch (type) {
    case FA_LBL_I8: FA_LOAD(int8_t); break;
    case FA_LBL_U8: FA_LOAD(uint8_t); break;
    case FA_LBL_I16: FA_LOAD(int16_t); break;
    case FA_LBL_U16: FA_LOAD(uint16_t); break;
    case FA_LBL_I32: FA_LOAD(int32_t); break;
    case FA_LBL_U32: FA_LOAD(uint32_t); break;
    case FA_LBL_I64: FA_LOAD(int64_t); break;
    default: FA_LOAD(uint64_t); break;
    }
#undef FA_LOAD
}

/* out[i] = the first channel holding the maximum score of pixel off + i of score map
 * base ([n_ch][n_pix]); best: scratch for n doubles. Returns the block index of the first
 * pixel with a NaN score, or -1. */
static int64_t argmax_scores(const void *base, int type, int64_t n_pix, int64_t n_ch, int64_t off,
                             int64_t n, int64_t *out, double *best)
{
    int64_t i, c;
    for (c = 0; c < n_ch; c++) {
        const float *pf = (const float *)base + c * n_pix + off;
        const double *pd = (const double *)base + c * n_pix + off;
        for (i = 0; i < n; i++) {
            double v = type == FA_SCORE_F32 ? (double)pf[i] : pd[i];
            if (c == 0 || v > best[i]) {
                best[i] = v;
                out[i] = c;
            }
            if (isnan(v))
                return i;
        }
    }
    return -1;
}

/* The matrix entry of one pixel: gt * K + pred, -1 for an ignored pixel, -2 for a label
 * outside [0, K). */
static inline int64_t pixel_key(int64_t gv, int64_t pv, int64_t K, int64_t ign, int reduce_zero)
{
    if (reduce_zero) {
        /* mmsegmentation: 0 -> 255, then v - 1, then 254 -> 255 */
        gv = gv == 0 ? 254 : gv - 1;
        if (gv == 254)
            gv = 255;
    }
    if (gv == ign)
        return -1;
    if ((uint64_t)gv >= (uint64_t)K || (uint64_t)pv >= (uint64_t)K)
        return -2;
    return gv * K + pv;
}

/* Count n pixel pairs. With `sub` (K*K <= FA_CONF_SMALL), pixel i goes to the copy
 * sub[i % 4]: label maps hold long runs of one (gt, pred) pair, and four counters in turn
 * do not wait for each other's stores as a single one does. Returns the first bad index
 * or -1. */
static int64_t count_block(const int64_t *g, const int64_t *p, int64_t n, const fa_confusion_input *in,
                           int64_t *conf, uint32_t (*sub)[FA_CONF_SMALL])
{
    const int64_t K = in->K, ign = in->ignore_index;
    const int rz = in->reduce_zero;
    int64_t i;
    if (sub) {
        for (i = 0; i < n; i++) {
            int64_t key = pixel_key(g[i], p[i], K, ign, rz);
            if (key >= 0)
                sub[i & 3][key]++;
            else if (key == -2)
                return i;
        }
    } else {
        for (i = 0; i < n; i++) {
            int64_t key = pixel_key(g[i], p[i], K, ign, rz);
            if (key >= 0)
                conf[key]++;
            else if (key == -2)
                return i;
        }
    }
    return -1;
}

static void flush_sub(uint32_t (*sub)[FA_CONF_SMALL], int64_t KK, int64_t *conf)
{
    int64_t j;
    int c;
    for (c = 0; c < 4; c++)
        for (j = 0; j < KK; j++) {
            conf[j] += sub[c][j];
            sub[c][j] = 0;
        }
}

int fa_confusion_range(const fa_confusion_input *in, int64_t img, int64_t begin, int64_t end,
                       int64_t *conf, int64_t *bad)
{
    int64_t g[FA_CONF_BLOCK], p[FA_CONF_BLOCK];
    double best[FA_CONF_BLOCK];
    uint32_t sub_store[4][FA_CONF_SMALL];
    const int64_t KK = in->K * in->K;
    uint32_t (*sub)[FA_CONF_SMALL] = KK <= FA_CONF_SMALL ? sub_store : NULL;
    int64_t off, since_flush = 0;
    *bad = -1;
    if (sub)
        memset(sub_store, 0, sizeof(sub_store));
    for (off = begin; off < end; off += FA_CONF_BLOCK) {
        int64_t n = end - off < FA_CONF_BLOCK ? end - off : FA_CONF_BLOCK, at;
        load_labels(in->gt, in->gt_type, img * in->n_pix + off, n, g);
        if (in->pred_type >= FA_SCORE_F32) {
            const char *sb = (const char *)in->pred + img * in->n_ch * in->n_pix *
                             (in->pred_type == FA_SCORE_F32 ? 4 : 8);
            at = argmax_scores(sb, in->pred_type, in->n_pix, in->n_ch, off, n, p, best);
            if (at >= 0) {
                *bad = off + at;
                break;
            }
        } else {
            load_labels(in->pred, in->pred_type, img * in->n_pix + off, n, p);
        }
        at = count_block(g, p, n, in, conf, sub);
        if (at >= 0) {
            *bad = off + at;
            break;
        }
        since_flush += n;
        if (sub && since_flush >= ((int64_t)1 << 30)) {     /* uint32 copies never overflow */
            flush_sub(sub, KK, conf);
            since_flush = 0;
        }
    }
    if (sub)
        flush_sub(sub, KK, conf);
    return *bad >= 0 ? FA_EINVAL : FA_OK;
}
