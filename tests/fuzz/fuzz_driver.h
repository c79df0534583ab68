/*
 * fuzz_driver.h -- shared by the JSON reader's fuzz targets (tests/fuzz/fuzz_json_*.c).
 *
 * Each target defines LLVMFuzzerTestOneInput (libFuzzer's entry point) and a list of
 * built-in seeds (k_seeds). Built with clang -fsanitize=fuzzer, libFuzzer drives it;
 * built with -DFASTAP_FUZZ_STANDALONE (any C99 compiler, e.g. gcc with
 * -fsanitize=address,undefined), this file adds a main() that
 *   1. replays the built-in seeds and every file named on the command line (a directory:
 *      the files in it), each copied into a buffer of exactly its size, so that ASan
 *      reports any read past the end (the readers must never rely on a NUL);
 *   2. runs a deterministic mutation loop (xorshift64*, fixed seed): pick a seed, apply
 *      1..8 mutations (bit flips, byte / JSON-token inserts, deletions, duplicated and
 *      truncated ranges), run the target;
 * and prints "<name>: N inputs executed" (tests/test_json_fuzz.py checks N). Usage:
 *   fuzz_x [-n ITERATIONS] [-s SECONDS] [-r SEED] [-c FILE] [SEED_FILE_OR_DIR ...]
 * The loop stops at ITERATIONS (default 20000) or after SECONDS of wall-clock time
 * (default: no limit), whichever comes first. -r mixes SEED into the generator's state (another
 * sequence of mutations: tools/fuzz_campaign.py gives each run its own); -c FILE: when the
 * program dies of a failed check or a sanitizer report (ASan's death callback), the input
 * it died on is written to FILE.
 * Exits 0; a failed check or a sanitizer report aborts.
 */
#ifndef FASTAP_FUZZ_DRIVER_H
#define FASTAP_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                              \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz check failed at %s:%d: ", __FILE__, __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fprintf(stderr, "\n");                                                         \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* malloc of exactly n bytes (at least 1), aborting on failure. */
static inline void *fuzz_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    FUZZ_CHECK(p != NULL, "out of memory (%zu bytes)", n);
    return p;
}

/* Same bits, NaN equal to NaN (payloads compared too: the reader never makes new ones). */
static inline int fuzz_same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

#ifdef FASTAP_FUZZ_STANDALONE
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

static uint64_t g_fz_state = 0x9E3779B97F4A7C15ULL;

static uint64_t fz_next(void)
{
    g_fz_state ^= g_fz_state >> 12;
    g_fz_state ^= g_fz_state << 25;
    g_fz_state ^= g_fz_state >> 27;
    return g_fz_state * 0x2545F4914F6CDD1DULL;
}

static size_t fz_below(size_t n) { return n ? (size_t)(fz_next() % n) : 0; }

typedef struct {
    uint8_t *data;
    size_t size;
} fz_input;

static fz_input *g_fz_seeds;
static size_t g_fz_n, g_fz_cap;
static long g_fz_executed;
static FILE *g_fz_current;                  /* -c FILE: written with the input being run on abort */
static const uint8_t *volatile g_fz_cur_data;   /* volatile: read by the handlers */
static volatile size_t g_fz_cur_size;

static void fz_save_current(void)
{
    if (g_fz_current && g_fz_cur_data) {
        fwrite((const void *)g_fz_cur_data, 1, g_fz_cur_size, g_fz_current);
        fflush(g_fz_current);
        g_fz_cur_data = NULL;
    }
}

static void fz_on_abort(int sig)
{
    (void)sig;
    fz_save_current();
    signal(SIGABRT, SIG_DFL);
    raise(SIGABRT);
}

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>      /* a sanitizer report: its death callback */
#define FZ_ON_DEATH() __sanitizer_set_death_callback(fz_save_current)
#else
#define FZ_ON_DEATH() ((void)0)
#endif

static void fz_add(const uint8_t *d, size_t n)
{
    if (g_fz_n == g_fz_cap) {
        g_fz_cap = g_fz_cap ? 2 * g_fz_cap : 64;
        g_fz_seeds = (fz_input *)realloc(g_fz_seeds, g_fz_cap * sizeof *g_fz_seeds);
        FUZZ_CHECK(g_fz_seeds != NULL, "out of memory");
    }
    g_fz_seeds[g_fz_n].data = (uint8_t *)fuzz_alloc(n);
    if (n)
        memcpy(g_fz_seeds[g_fz_n].data, d, n);
    g_fz_seeds[g_fz_n].size = n;
    g_fz_n++;
}

/* Run the target on an exact-size copy. */
static void fz_run(const uint8_t *d, size_t n)
{
    uint8_t *copy = (uint8_t *)fuzz_alloc(n);
    if (n)
        memcpy(copy, d, n);
    g_fz_cur_data = d;
    g_fz_cur_size = n;
    LLVMFuzzerTestOneInput(copy, n);
    g_fz_cur_data = NULL;
    free(copy);
    g_fz_executed++;
}

static void fz_add_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        struct dirent *e;
        if (!dir)
            return;
        while ((e = readdir(dir)) != NULL) {
            char sub[4096];
            if (e->d_name[0] == '.')
                continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            fz_add_file(sub);
        }
        closedir(dir);
    } else if (S_ISREG(st.st_mode) && st.st_size <= (1 << 20)) {
        FILE *f = fopen(path, "rb");
        size_t n = (size_t)st.st_size;
        uint8_t *buf = (uint8_t *)fuzz_alloc(n);
        if (f && fread(buf, 1, n, f) == n)
            fz_add(buf, n);
        if (f)
            fclose(f);
        free(buf);
    }
}

/* Tokens worth inserting into JSON text. */
static const char *const k_fz_tokens[] = {
    "{", "}", "[", "]", ",", ":", "\"", "\\", "\\\\", "\\u0041", "\\ud800", "null", "true", "false",
    "NaN", "-Infinity", "Infinity", "-0", "0.0", "1e308", "1e-400", "-", ".", "e", "E+",
    "123456789012345678901", "0.30000000000000004", "9007199254740993", "\"bbox\":",
    "\"score\":", "\"image_id\":", "\"category_id\":", "\"area\":", "\"id\":", "\"iscrowd\":",
    "\"segmentation\":", "\"keypoints\":", "\"num_keypoints\":", "\"size\":", "\"counts\":",
    "[1,2,3,4]", "{\"size\":[4,4],\"counts\":\"04\"}", " ", "\n", "\t", "\xc3\xa9", "\xff",
    "\xed\xa0\x80", "\x01", "[[", "]]", "}, {\"", "\"a\\\\b\"",
};

static size_t fz_mutate(uint8_t *buf, size_t n, size_t cap)
{
    const int k = 1 + (int)fz_below(8);
    for (int r = 0; r < k; r++) {
        switch (fz_below(7)) {
        case 0:                                         /* flip a bit */
            if (n) buf[fz_below(n)] ^= (uint8_t)(1u << fz_below(8));
            break;
        case 1:                                         /* set a byte */
            if (n) buf[fz_below(n)] = (uint8_t)fz_next();
            break;
        case 2: {                                       /* insert a token */
            const char *t = k_fz_tokens[fz_below(sizeof k_fz_tokens / sizeof *k_fz_tokens)];
            size_t tl = strlen(t), at = fz_below(n + 1);
            if (n + tl > cap) break;
            memmove(buf + at + tl, buf + at, n - at);
            memcpy(buf + at, t, tl);
            n += tl;
            break;
        }
        case 3: {                                       /* delete a range */
            size_t at = fz_below(n + 1), len = fz_below(n - at + 1);
            if (len > 16 && fz_below(4)) len = fz_below(16);
            memmove(buf + at, buf + at + len, n - at - len);
            n -= len;
            break;
        }
        case 4: {                                       /* duplicate a range */
            size_t at = fz_below(n + 1), len = fz_below(n - at + 1), to;
            if (len > 64) len = fz_below(64);
            if (n + len > cap) break;
            to = fz_below(n + 1);
            {
                uint8_t tmp[64];
                memcpy(tmp, buf + at, len);
                memmove(buf + to + len, buf + to, n - to);
                memcpy(buf + to, tmp, len);
            }
            n += len;
            break;
        }
        case 5:                                         /* truncate */
            n = fz_below(n + 1);
            break;
        default: {                                      /* swap two bytes */
            if (n >= 2) {
                size_t a = fz_below(n), b = fz_below(n);
                uint8_t t = buf[a];
                buf[a] = buf[b];
                buf[b] = t;
            }
            break;
        }
        }
    }
    return n;
}

extern const char *const k_seeds[];
extern const char *const k_fuzz_name;

int main(int argc, char **argv)
{
    long iterations = 20000;
    double seconds = -1;
    time_t t0 = time(NULL);
    size_t maxlen = 0;
    uint8_t *buf;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            iterations = atol(argv[++i]);
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
            g_fz_state ^= (uint64_t)strtoull(argv[++i], NULL, 10) * 0xD1B54A32D192ED03ULL;
            g_fz_state = g_fz_state ? g_fz_state : 1;
        }
        else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
        {
            FUZZ_CHECK((g_fz_current = fopen(argv[++i], "wb")) != NULL, "cannot open %s", argv[i]);
            signal(SIGABRT, fz_on_abort);
            FZ_ON_DEATH();
        }
        else
            fz_add_file(argv[i]);
    }
    for (int i = 0; k_seeds[i]; i++)
        fz_add((const uint8_t *)k_seeds[i], strlen(k_seeds[i]));
    for (size_t i = 0; i < g_fz_n; i++) {
        fz_run(g_fz_seeds[i].data, g_fz_seeds[i].size);
        if (g_fz_seeds[i].size > maxlen)
            maxlen = g_fz_seeds[i].size;
    }
    printf("%s: %zu seeds replayed\n", k_fuzz_name, g_fz_n);
    buf = (uint8_t *)fuzz_alloc(2 * maxlen + 256);
    for (long it = 0; it < iterations && g_fz_n; it++) {
        const fz_input *s = &g_fz_seeds[fz_below(g_fz_n)];
        size_t n;
        memcpy(buf, s->data, s->size);
        n = fz_mutate(buf, s->size, 2 * maxlen + 256);
        fz_run(buf, n);
        if (seconds >= 0 && (it & 63) == 0 &&
            difftime(time(NULL), t0) >= seconds)
            break;
    }
    printf("%s: %ld inputs executed\n", k_fuzz_name, g_fz_executed);
    if (g_fz_current)
        fclose(g_fz_current);
    free(buf);
    for (size_t i = 0; i < g_fz_n; i++)
        free(g_fz_seeds[i].data);
    free(g_fz_seeds);
    return 0;
}
#endif /* FASTAP_FUZZ_STANDALONE */

#endif
