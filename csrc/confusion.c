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
 * block's pairs are counted. No per-pixel array the size of an image is ever made.
 */
#include <math.h>

#include "fastap.h"

#define FA_CONF_BLOCK 2048

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

int fa_confusion_range(const fa_confusion_input *in, int64_t img, int64_t begin, int64_t end,
                       int64_t *conf, int64_t *bad)
{
    int64_t g[FA_CONF_BLOCK], p[FA_CONF_BLOCK];
    double best[FA_CONF_BLOCK];
    const int64_t K = in->K, ign = in->ignore_index;
    int64_t off, i;
    *bad = -1;
    for (off = begin; off < end; off += FA_CONF_BLOCK) {
        int64_t n = end - off < FA_CONF_BLOCK ? end - off : FA_CONF_BLOCK;
        load_labels(in->gt, in->gt_type, img * in->n_pix + off, n, g);
        if (in->pred_type >= FA_SCORE_F32) {
            const char *sb = (const char *)in->pred + img * in->n_ch * in->n_pix *
                             (in->pred_type == FA_SCORE_F32 ? 4 : 8);
            int64_t nan_at = argmax_scores(sb, in->pred_type, in->n_pix, in->n_ch, off, n, p, best);
            if (nan_at >= 0) {
                *bad = off + nan_at;
                return FA_EINVAL;
            }
        } else {
            load_labels(in->pred, in->pred_type, img * in->n_pix + off, n, p);
        }
        for (i = 0; i < n; i++) {
            int64_t gv = g[i], pv = p[i];
            if (in->reduce_zero) {
                /* mmsegmentation: 0 -> 255, then v - 1, then 254 -> 255 */
                gv = gv == 0 ? 254 : gv - 1;
                if (gv == 254)
                    gv = 255;
            }
            if (gv == ign)
                continue;
            if ((uint64_t)gv >= (uint64_t)K || (uint64_t)pv >= (uint64_t)K) {
                *bad = off + i;
                return FA_EINVAL;
            }
            conf[gv * K + pv]++;
        }
    }
    return FA_OK;
}
