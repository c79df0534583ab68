/*
 * summary.c -- the reductions of the printed summaries, with NumPy's arithmetic.
 *
 * np.mean of a float64 array is np.add.reduce then one division; on a contiguous 1-d
 * array the reduce is NumPy's pairwise summation over the whole array (a plain loop
 * below 8 elements, 8 interleaved partial sums up to 128, halving above, each half a
 * multiple of 8). fa_np_sum reproduces it bit for bit, so a mean computed here equals
 * NumPy's (the tests compare them on arrays of every size class).
 */
#include <stdint.h>
#include "fastap.h"

double fa_np_sum(const double *a, int64_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (int64_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        int64_t i;
        for (int j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return fa_np_sum(a, n2) + fa_np_sum(a + n2, n - n2);
}

int64_t fa_gather_valid(const double *x, int64_t R, int64_t K, int64_t A, const int64_t *ts,
                        int64_t nt, const int64_t *ks, int64_t nk, int64_t a, double *out)
{
    int64_t m = 0;
    for (int64_t i = 0; i < nt; i++)
        for (int64_t r = 0; r < R; r++) {
            const double *row = x + ((ts[i] * R + r) * K) * A + a;
            for (int64_t j = 0; j < nk; j++) {
                const double v = row[(ks ? ks[j] : j) * A];
                if (v > -1.0)               /* NaN is left out, as by s[s > -1] */
                    out[m++] = v;
            }
        }
    return m;
}
