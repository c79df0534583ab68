# The C API of csrc/ (csrc/fastap.h, and the run walkers of csrc/runs.h), declared once
# for the Cython binding: fastap/_core.pyx cimports it, and its includes (_json.pxi,
# _mask.pxi, _segm.pxi, _reports.pxi) use these names as they are. fastap.h is the
# documentation (shapes, units, who owns the memory); this file only mirrors it, in the
# header's order. Declarations only: no module named fastap._capi exists at run time.
#
# Every kernel runs without the GIL and never raises (extern functions are noexcept).

from libc.stdint cimport int32_t, int64_t, intptr_t, uint8_t, uint32_t, uint64_t


cdef extern from "fastap.h" nogil:
    enum:
        FA_OK
        FA_ENOMEM
        FA_EINVAL
        FA_EPARSE
        FA_EUNSUPPORTED
        FA_MAX_IOU_THRESHOLDS
        FA_SEGM_POLYGONS
        FA_SEGM_RLE_STRING
        FA_SEGM_RLE_COUNTS

    # ---- iou.c ------------------------------------------------------------------------
    void fa_box_iou_xywh(const double *a, int64_t n, const double *b, int64_t m,
                         const uint8_t *b_crowd, double *out)
    void fa_box_iou_xyxy(const double *a, int64_t n, const double *b, int64_t m,
                         const uint8_t *b_crowd, int plus_one, double *out)
    void fa_box_iou_family(const double *a, int64_t n, const double *b, int64_t m,
                           int kind, double eps, double *out)
    void fa_box_iou_aligned(const double *a, const double *b, int64_t n, const uint8_t *b_crowd,
                            int xywh, int kind, double eps, double *out)

    # ---- assign.c ---------------------------------------------------------------------
    void fa_iou_records(const double *boxes, int64_t n, double *rec)
    void fa_assign_best(const double *anchors, int64_t i0, int64_t i1, const double *gt_rec, int64_t g,
                        double *best_iou, int64_t *best_gt, double *gt_max, int64_t *gt_arg,
                        int64_t *gt_last, int64_t *gt_count)
    void fa_assign_ties(const double *anchors, const double *gt_rec, int64_t g, const double *gt_max,
                        const double *chunk_max, const int64_t *chunk_arg, const int64_t *chunk_last,
                        const int64_t *chunk_count, uint8_t *hit)

    # ---- group.c ----------------------------------------------------------------------
    int fa_group(int64_t n, const int32_t *major, int32_t n_major, const int32_t *minor,
                 int32_t n_minor, const double *score, int64_t *order, int64_t *major_off)
    void fa_group_sort_runs(int64_t n, const int32_t *major, const int32_t *minor,
                            const double *score, int64_t *order, int64_t begin, int64_t end,
                            int64_t *tmp)
    int64_t fa_index_lut(int64_t n, const int64_t *values, int64_t lo, int64_t span,
                         const int64_t *lut, int64_t *pos, uint8_t *ok)
    int64_t fa_index_lut32(int64_t n, const int64_t *values, int64_t lo, int64_t span,
                           const int64_t *lut, int32_t *pos)
    int64_t fa_pair_select(int64_t n, const int64_t *img_values, int64_t img_lo, int64_t img_span,
                           const int64_t *img_lut, const int64_t *cat_values, int64_t cat_lo,
                           int64_t cat_span, const int64_t *cat_lut, int64_t n_cat, const double *area,
                           const uint8_t *keep, const uint8_t *table, const uint8_t *mark,
                           int64_t *sel, int32_t *img, int32_t *cat, uint8_t *marked)
    void fa_gather_grouped(int64_t begin, int64_t end, const int64_t *order, const int64_t *sel,
                           const int32_t *img, const double *score, const double *box, const double *area,
                           int64_t *idx_out, int32_t *img_out, double *score_out, double *box_out,
                           double *area_out) nogil
    void fa_sort_desc_stable(int64_t *idx, int64_t n, const double *key, int64_t *tmp)

    # ---- summary.c --------------------------------------------------------------------
    double fa_np_sum(const double *a, int64_t n)
    int64_t fa_gather_valid(const double *x, int64_t R, int64_t K, int64_t A, const int64_t *ts,
                            int64_t nt, const int64_t *ks, int64_t nk, int64_t a, double *out)

    # ---- coco.c -----------------------------------------------------------------------
    ctypedef struct fa_coco_params:
        int32_t n_iou
        const double *iou_thr
        int32_t n_area
        const double *area_rng
        int32_t n_maxdet
        const int64_t *max_dets
        int32_t n_rec
        const double *rec_thr

    ctypedef struct fa_coco_input:
        int32_t n_cat
        int64_t n_gt
        const int64_t *gt_off
        const int32_t *gt_img
        const double *gt_box
        const double *gt_area
        const uint8_t *gt_crowd
        const uint8_t *gt_id_zero
        int64_t n_dt
        const int64_t *dt_off
        const int32_t *dt_img
        const double *dt_box
        const double *dt_area
        const double *dt_score
        const uint8_t *gt_ignore
        const double *iou
        const int64_t *dt_iou_off

    ctypedef struct fa_coco_match_out:
        uint32_t *dt_tp
        uint32_t *dt_fp
        int32_t *dt_rank
        int64_t *npig
        int32_t *dt_match
        uint32_t *dt_ignore
        uint8_t *gt_ignore

    ctypedef struct fa_coco_sizes:
        int64_t max_dg
        int64_t max_d
        int64_t max_g
        int64_t max_cat_dt
        int64_t max_cat_gt

    size_t fa_coco_scratch_bytes(const fa_coco_input *inp, const fa_coco_params *p,
                                 fa_coco_sizes *sizes)
    size_t fa_coco_accumulate_scratch_bytes(const fa_coco_input *inp, const fa_coco_params *p,
                                            const int64_t *npig)
    int64_t fa_coco_iou_layout(const fa_coco_input *inp, int64_t cut, int64_t *dt_iou_off)
    int fa_coco_match_category(const fa_coco_input *inp, const fa_coco_params *p,
                               const fa_coco_sizes *sizes, int32_t k, void *scratch,
                               fa_coco_match_out *out)
    int fa_coco_match_part(const fa_coco_input *inp, const fa_coco_params *p,
                           const fa_coco_sizes *sizes, int32_t k, int64_t gi, int64_t ge,
                           int64_t di, int64_t de, void *scratch, fa_coco_match_out *out,
                           int64_t *npig)
    int fa_coco_accumulate_category(const fa_coco_input *inp, const fa_coco_params *p, int32_t k,
                                    const fa_coco_match_out *m, int32_t k_out, int32_t n_k_out,
                                    void *scratch, double *precision, double *recall,
                                    double *scores)
    int64_t fa_coco_accumulate_order(const fa_coco_input *inp, const fa_coco_params *p, int32_t k,
                                     const fa_coco_match_out *m, void *scratch, int64_t *order)
    int fa_coco_accumulate_areas(const fa_coco_input *inp, const fa_coco_params *p, int32_t k,
                                 const fa_coco_match_out *m, int32_t k_out, int32_t n_k_out,
                                 int32_t a_begin, int32_t a_end, const int64_t *order,
                                 int64_t n_order, void *scratch, double *precision,
                                 double *recall, double *scores)

    # ---- accum_blocks.c ----------------------------------------------------------------
    ctypedef struct fa_blocks_input:
        int64_t n_blocks
        int64_t n_det
        const int64_t *det_off
        const int64_t *npig
        const double *score
        const int64_t *rank
        const uint8_t *flags
        int32_t n_iou
        int32_t n_rec
        int32_t n_maxdet
        const double *rec_thrs
        const int64_t *max_dets
    int fa_accumulate_block(const fa_blocks_input *inp, int64_t b, double *precision,
                            double *recall, double *scores)

    # ---- keypoints.c ------------------------------------------------------------------
    ctypedef struct fa_oks_input:
        int64_t n_kpt
        const double *sigmas
        const double *gt_kpt
        const int64_t *gt_row
        const int64_t *gt_nvis
        const double *dt_kpt
        int64_t dt_step
        const int64_t *dt_row

    int64_t fa_oks_layout(const fa_coco_input *inp, const fa_oks_input *kp, int64_t *dt_e_off)
    void fa_oks_exponents(const fa_coco_input *inp, const fa_oks_input *kp, int32_t k,
                          int64_t d_begin, int64_t d_end, const int64_t *dt_e_off,
                          double *scratch, double *neg_e)
    # a NumPy ufunc inner loop (PyUFuncGenericFunction), called without the GIL
    ctypedef void (*fa_vec_loop)(char **args, const intptr_t *dims, const intptr_t *steps,
                                 void *data) noexcept nogil
    void fa_oks_pairs(const fa_coco_input *inp, const fa_oks_input *kp, int32_t k,
                      int64_t d_begin, int64_t d_end, fa_vec_loop exp_loop, void *exp_data,
                      double *scratch, double floor, double *iou)
    void fa_oks_reduce(const fa_coco_input *inp, const fa_oks_input *kp, int32_t k,
                       int64_t d_begin, int64_t d_end, const int64_t *dt_e_off,
                       const double *ex, double *iou)

    # ---- voc.c ------------------------------------------------------------------------
    size_t fa_voc_scratch_bytes(const fa_coco_input *inp)
    int fa_voc_category(const fa_coco_input *inp, const uint8_t *gt_difficult, int32_t k,
                        double iou_thr, int plus_one, int use_11_point, void *scratch,
                        double *ap, int64_t *n_pos)
    int fa_voc_category_best(const fa_coco_input *inp, const uint8_t *gt_difficult, int32_t k, const int64_t *best,
                             const double *best_iou, double iou_thr, int strict, int use_11_point, void *scratch,
                             double *ap, int64_t *n_pos)

    # ---- reports.c --------------------------------------------------------------------
    size_t fa_confusion_scratch_bytes(int64_t ng)
    int fa_confusion_match_image(const double *dt_box, int64_t nd, const double *gt_box,
                                 int64_t ng, const double *iou, double iou_thr, void *scratch,
                                 int32_t *dt_gt)
    void fa_tide_ious_image(const double *dt_box, const int32_t *dt_cls, int64_t nd,
                            const double *gt_box, const int32_t *gt_cls,
                            const uint8_t *gt_skip, const uint8_t *gt_used, int64_t ng,
                            const double *iou, double *same_iou, int32_t *same_gt, double *other_iou,
                            int32_t *other_gt, double *used_iou)
    int fa_ap_sorted(const int64_t *cat_off, int64_t K, const uint8_t *tp, const uint8_t *fp,
                     const int64_t *npig, const double *rec_thrs, int64_t R, double *rc,
                     double *pr, double *q)

    # ---- json_results.c ---------------------------------------------------------------
    ctypedef struct fa_json_error:
        int64_t record
        int64_t offset
        char field[32]
        char message[160]

    ctypedef struct fa_json_geometry:
        int64_t *seg_span
        int32_t *seg_rle
        double *seg_bound
        int64_t *kpt_span
        double *num_keypoints
        double *kpt_values
        int64_t kpt_stride
        int64_t *kpt_count
        int32_t kpt_xy
        double *kpt_box
        uint8_t *bbox_empty
        char *shadow

    void fa_keypoint_box(const double *v, int64_t n, int64_t step, double *bb)
    int fa_json_simd_numbers(int set)
    int64_t fa_json_results_count_bound(const char *buf, size_t len)
    int fa_json_results_parse(const char *buf, size_t len, int64_t capacity, int64_t *image_id,
                              int64_t *category_id, double *bbox, double *score, double *area,
                              const fa_json_geometry *geom, int64_t *n_records,
                              int64_t *n_area, fa_json_error *err)
    int fa_json_results_parse_part(const char *buf, size_t len, size_t begin, size_t stop,
                                   int64_t first_row, int64_t capacity, int64_t *image_id,
                                   int64_t *category_id, double *bbox, double *score,
                                   double *area, const fa_json_geometry *geom,
                                   int64_t *n_records, int64_t *n_area, size_t *end_pos,
                                   fa_json_error *err)
    int64_t fa_json_results_split(const char *buf, size_t len, int64_t n_parts, size_t *begin)

    ctypedef struct fa_json_part:
        size_t begin
        int64_t first_row
        int64_t capacity
        int rc
        int64_t n_records
        int64_t n_area
        size_t end_pos
        fa_json_error err

    int fa_json_results_join_parts(const char *buf, size_t len, const fa_json_part *parts,
                                   int64_t n_parts, int64_t capacity, int64_t *image_id,
                                   int64_t *category_id, double *bbox, double *score,
                                   double *area, const fa_json_geometry *geom,
                                   int64_t *piece_row, int64_t *piece_len, int64_t *n_pieces,
                                   int64_t *n_records, int64_t *n_area, fa_json_error *err)

    ctypedef struct fa_json_member:
        int64_t key_start
        int64_t key_end
        int64_t value_start
        int64_t value_end
        int key_escaped

    int fa_json_object_members(const char *buf, size_t len, fa_json_member *out, int64_t cap,
                               int64_t *n, fa_json_error *err)
    int fa_json_member_spans(const char *buf, size_t len, fa_json_member *out, int64_t cap,
                             int64_t *n)
    int fa_json_annotations_parse(const char *buf, size_t len, int64_t capacity, int64_t *id,
                                  int64_t *image_id, int64_t *category_id, double *bbox,
                                  double *area, uint8_t *iscrowd, const fa_json_geometry *geom,
                                  int64_t *n_records, fa_json_error *err)

    ctypedef struct fa_json_segm:
        int kind
        int64_t h
        int64_t w
        int64_t n_poly
        int64_t n_values
        int64_t n_chars
        int64_t str_start
        int64_t raw_start
        int64_t raw_len
        int raw_esc

    int fa_json_segmentation_parse(const char *buf, size_t len, double *values,
                                   int64_t *poly_len, char *str, int64_t cap,
                                   fa_json_segm *out, fa_json_error *err)
    int fa_json_rle_object(const char *buf, size_t len, int64_t *h, int64_t *w,
                           int64_t *raw_start, int64_t *raw_len, int *raw_esc)
    int fa_json_number_array(const char *buf, size_t len, double *out, int64_t cap, int64_t *n,
                             fa_json_error *err)

    # ---- textfile.c -------------------------------------------------------------------
    uint64_t fa_text_digest(const char *buf, size_t len, uint64_t seed)
    int64_t fa_text_find_control(const char *buf, size_t len)
    int fa_map_guard_add(const void *start, size_t len)
    int64_t fa_map_guard_remove(int slot)
    void fa_text_release_pages(const char *p, size_t len)

    # ---- rle.c ------------------------------------------------------------------------
    ctypedef struct fa_rle:
        int64_t h
        int64_t w
        int64_t m
        const uint32_t *cnts

    # ---- boundary.c -------------------------------------------------------------------
    int64_t fa_boundary_dilation(int64_t h, int64_t w, double ratio)
    int64_t fa_rle_boundary_sizes(const fa_rle *r, size_t *scratch_bytes)
    int64_t fa_rle_boundary(const fa_rle *r, int64_t d, void *scratch, uint32_t *cnts)
    int64_t fa_rle_encode(const uint8_t *mask, int64_t h, int64_t w, uint32_t *cnts)
    int fa_rle_decode(const fa_rle *r, uint8_t *mask)
    uint64_t fa_rle_area(const fa_rle *r)
    void fa_rle_to_bbox(const fa_rle *r, double *bb)
    int64_t fa_rle_bbox_counts_bound(const double *bb, int64_t h, int64_t w)
    int64_t fa_rle_from_bbox(const double *bb, int64_t h, int64_t w, uint32_t *cnts)
    int64_t fa_rle_poly_counts_bound(const double *xy, int64_t k, int64_t h, int64_t w)
    size_t fa_rle_poly_scratch_bytes(const double *xy, int64_t k, int64_t h, int64_t w)
    int64_t fa_rle_from_poly(const double *xy, int64_t k, int64_t h, int64_t w, void *scratch,
                             uint32_t *cnts)
    int64_t fa_rle_from_poly_cap(const double *xy, int64_t k, int64_t h, int64_t w, int64_t cap,
                                 void *scratch, uint32_t *cnts)
    int64_t fa_rle_merge_bound(const fa_rle *rs, int64_t n)
    int64_t fa_rle_merge(const fa_rle *rs, int64_t n, int intersect, uint32_t *cnts)
    int64_t fa_rle_string_bound(const fa_rle *r)
    int64_t fa_rle_to_string(const fa_rle *r, char *s)
    int fa_rle_from_string(const char *s, int64_t len, int64_t h, int64_t w, uint32_t *cnts,
                           int64_t cap, int64_t *m, char *msg, size_t msg_len)
    size_t fa_rle_text_scratch_bytes(int64_t len)
    int fa_rle_text_stats(const char *s, int64_t len, int json, int64_t h, int64_t w,
                          uint32_t *scratch, void *chars, int64_t *m, double *area, double *bb)
    int64_t fa_rle_text_decode(const char *s, int64_t len, int json, uint32_t *cnts,
                               void *chars)
    int fa_rle_from_text(const char *s, int64_t len, int64_t h, int64_t w, uint32_t *cnts,
                         void *chars, int64_t *m)
    int fa_rle_iou_reads_counts(const double *dt_bb, const double *gt_bb, int64_t n,
                                const uint8_t *iscrowd)
    void fa_rle_iou(const fa_rle *dt, const double *dt_bb, int64_t m, const fa_rle *gt,
                    const double *gt_bb, int64_t n, const uint8_t *iscrowd, double *out)
    void fa_rle_iou_strided(const fa_rle *dt, const double *dt_bb, int64_t m, const fa_rle *gt,
                            const double *gt_bb, int64_t n, const uint8_t *iscrowd, double *out,
                            int64_t stride_dt, int64_t stride_gt)


    # ---- confusion.c ------------------------------------------------------------------
    enum:
        FA_LBL_I8
        FA_LBL_U8
        FA_LBL_I16
        FA_LBL_U16
        FA_LBL_I32
        FA_LBL_U32
        FA_LBL_I64
        FA_LBL_U64
        FA_SCORE_F32
        FA_SCORE_F64

    ctypedef struct fa_confusion_input:
        const void *gt
        int gt_type
        const void *pred
        int pred_type
        int64_t n_img
        int64_t n_pix
        int64_t n_ch
        int64_t K
        int64_t ignore_index
        int reduce_zero

    int fa_confusion_range(const fa_confusion_input *inp, int64_t img, int64_t begin, int64_t end,
                           int64_t *conf, int64_t *bad)

    # ---- panoptic.c -------------------------------------------------------------------
    int fa_panoptic_pairs(const uint32_t *gt, const uint32_t *pred, int64_t n_pix, uint64_t *table,
                          int log2_slots, int64_t *n_pairs)

# csrc/runs.h (static inline, private to the kernels; the mask IoU chunks walk runs too)
cdef extern from "iou_pair.h" nogil:
    enum:
        FA_IOU_KIND_IOU
        FA_IOU_KIND_GIOU
        FA_IOU_KIND_DIOU
        FA_IOU_KIND_CIOU
        FA_IOU_REC


cdef extern from "runs.h" nogil:
    ctypedef struct fa_gt_cursor:
        int64_t g0
        int64_t G
    void fa_gt_cursor_init(const fa_coco_input *inp, int32_t k, fa_gt_cursor *c)
    void fa_gt_cursor_seek(const fa_coco_input *inp, fa_gt_cursor *c, int64_t d)


# ---- rotated.c (fastap.h) ----------------------------------------------------------------
cdef extern from "fastap.h" nogil:
    enum:
        FA_ROT_RECORD
    void fa_rot_rbox_records(const double *boxes, int64_t n, int radians, double *rec)
    int64_t fa_rot_quad_records(const double *quads, int64_t n, double *rec)
    void fa_rot_iou(const double *ra, int64_t n, const double *rb, int64_t m, double *out)
    void fa_rot_iou_crowd(const double *ra, int64_t n, const double *rb, int64_t m, const uint8_t *crowd,
                          double *out)
    void fa_rot_best_gt(const double *dt_rec, int64_t n, const int64_t *g_first, const int64_t *g_count,
                        const double *gt_rec, int64_t *best, double *best_iou)
    void fa_rot_iou_rows(const double *dt_rec, int64_t n, const int64_t *row_off, const int64_t *g_first,
                         const int64_t *g_count, const double *gt_rec, const uint8_t *gt_crowd, double *iou)
