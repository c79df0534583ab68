/*
 * textfile.c -- the bytes of an input file: a content digest, and reads of a file mapping
 * that cannot end the process.
 *
 * Control bytes. fa_text_find_control finds the first byte that no JSON text holds, so
 * that a file or pipe of zeros (or any binary data) is refused chunk by chunk as it is
 * read, before it is copied whole.
 *
 * Digest. A results file whose dicts are built after loadRes (``dataset``, ``anns``,
 * pickling) is read again then; its digest at loadRes tells whether the bytes read again
 * are the ones evaluated. fa_text_digest is a 64-bit mix of 8-byte words on four
 * independent lanes (no cryptographic claim: it catches a file rewritten by accident,
 * at memory speed); the caller digests large buffers in chunks on many threads and the
 * chunks' digests in order (fastap/_json.pxi, text_digest).
 *
 * Mapping guard. A results file is scanned in place (a read-only shared mapping of the
 * page cache: no copy of a file of hundreds of MB). If another process truncates the
 * file during the scan, touching a page past the new end raises SIGBUS, whose default
 * action ends the interpreter. While a guard is registered for a range, a SIGBUS whose
 * address lies in it maps a page of zeros over the faulting page (MAP_FIXED) and
 * returns: the scan goes on over zeros (NUL bytes, which no valid JSON holds) and the
 * caller, seeing the guard's hit count, reports the file as changed. A SIGBUS anywhere
 * else goes to the handler that was there before (or the default action). POSIX only;
 * elsewhere (Windows) a mapped file cannot be truncated, and the guard does nothing.
 */
#include "fastap.h"

#include <string.h>

#define P1 0x9E3779B97F4A7C15ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v * P1;
    h = rotl64(h, 27);
    return h * P2 + P3;
}

uint64_t fa_text_digest(const char *buf, size_t len, uint64_t seed)
{
    uint64_t h0 = seed ^ P1, h1 = seed ^ P2, h2 = seed ^ P3, h3 = seed + len;
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        uint64_t v[4];
        memcpy(v, buf + i, 32);
        h0 = mix(h0, v[0]);
        h1 = mix(h1, v[1]);
        h2 = mix(h2, v[2]);
        h3 = mix(h3, v[3]);
    }
    if (i < len) {                      /* the tail, zero-padded to a full block */
        uint64_t v[4] = {0, 0, 0, 0};
        memcpy(v, buf + i, len - i);
        h0 = mix(h0, v[0]);
        h1 = mix(h1, v[1]);
        h2 = mix(h2, v[2]);
        h3 = mix(h3, v[3]);
    }
    h0 = mix(mix(mix(mix(h0, h1), h2), h3), (uint64_t)len);
    h0 ^= h0 >> 33;
    h0 *= P2;
    h0 ^= h0 >> 29;
    return h0;
}

/* Bytes no JSON text holds: control characters other than tab, LF and CR (strings must
 * escape them; outside strings only whitespace may stand). Blocks of 64 are tested
 * without a branch per byte (the compiler vectorises the loop), then searched. */
static inline int is_control(unsigned char c) { return c < 0x20 && c != '\t' && c != '\n' && c != '\r'; }

int64_t fa_text_find_control(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t i = 0;
    for (; i + 64 <= len; i += 64) {
        unsigned any = 0;
        for (int j = 0; j < 64; j++)
            any |= (unsigned)is_control(p[i + j]);
        if (any)
            break;
    }
    for (; i < len; i++)
        if (is_control(p[i]))
            return (int64_t)i;
    return -1;
}

/* ---------------------------------------------------------------------------------- */
/* the mapping guard                                                                  */
/* ---------------------------------------------------------------------------------- */

#if defined(__unix__) || defined(__APPLE__)
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

#define GUARD_SLOTS 32

/* Registered ranges. Written only by fa_map_guard_add / _remove, which the caller
 * serialises (the binding holds the GIL); read by the handler, which only needs each
 * slot's fields to be written before `used` is set (the stores below are in that order,
 * and a compiler barrier keeps them so). */
static struct {
    volatile uintptr_t start, end;
    volatile sig_atomic_t hits;
    volatile sig_atomic_t used;
} g_slots[GUARD_SLOTS];
static int g_active;                     /* registered ranges */
static struct sigaction g_prev;          /* the SIGBUS action before the first guard */
static int g_installed;
static uintptr_t g_page;                 /* the page size (sysconf is no call for a handler) */

#define BARRIER() __asm__ __volatile__("" ::: "memory")

static void bus_handler(int sig, siginfo_t *si, void *uc)
{
    uintptr_t a = (uintptr_t)si->si_addr;
    for (int k = 0; k < GUARD_SLOTS; k++) {
        if (g_slots[k].used && a >= g_slots[k].start && a < g_slots[k].end) {
            uintptr_t page = a & ~(g_page - 1);
            void *p = mmap((void *)page, (size_t)g_page, PROT_READ,
                           MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p != MAP_FAILED) {
                g_slots[k].hits++;
                return;                  /* the read restarts and finds zeros */
            }
        }
    }
    /* not ours: what would have happened without the guard */
    if ((g_prev.sa_flags & SA_SIGINFO) && g_prev.sa_sigaction) {
        g_prev.sa_sigaction(sig, si, uc);
        return;
    }
    if (g_prev.sa_handler != SIG_DFL && g_prev.sa_handler != SIG_IGN) {
        g_prev.sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);               /* the fault repeats and takes the default action */
}

int fa_map_guard_add(const void *start, size_t len)
{
    int k;
    if (len == 0)
        return -1;
    for (k = 0; k < GUARD_SLOTS && g_slots[k].used; k++)
        ;
    if (k == GUARD_SLOTS)
        return -1;
    if (!g_page) {
        long ps = sysconf(_SC_PAGESIZE);
        g_page = ps > 0 ? (uintptr_t)ps : 4096;
    }
    if (!g_installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = bus_handler;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGBUS, &sa, &g_prev) != 0)
            return -1;
        g_installed = 1;
    }
    g_slots[k].start = (uintptr_t)start;
    g_slots[k].end = (uintptr_t)start + len;
    g_slots[k].hits = 0;
    BARRIER();
    g_slots[k].used = 1;
    g_active++;
    return k;
}

int64_t fa_map_guard_remove(int slot)
{
    int64_t hits;
    if (slot < 0 || slot >= GUARD_SLOTS || !g_slots[slot].used)
        return 0;
    hits = g_slots[slot].hits;
    g_slots[slot].used = 0;
    BARRIER();
    if (--g_active == 0 && g_installed) {
        struct sigaction now;
        /* hand SIGBUS back, unless someone has set another handler since */
        if (sigaction(SIGBUS, NULL, &now) == 0 && (now.sa_flags & SA_SIGINFO) &&
            now.sa_sigaction == bus_handler)
            sigaction(SIGBUS, &g_prev, NULL);
        g_installed = 0;
    }
    return hits;
}

void fa_text_release_pages(const char *p, size_t len)
{
    uintptr_t page, a, b;
    if (len == 0)
        return;
    if (!g_page) {
        long ps = sysconf(_SC_PAGESIZE);
        g_page = ps > 0 ? (uintptr_t)ps : 4096;
    }
    page = g_page;
    a = ((uintptr_t)p + page - 1) & ~(page - 1);         /* the pages wholly inside */
    b = ((uintptr_t)p + len) & ~(page - 1);
    if (b > a)
        (void)madvise((void *)a, (size_t)(b - a), MADV_DONTNEED);   /* advice: may fail, harmless */
}

#else

void fa_text_release_pages(const char *p, size_t len)
{
    (void)p;
    (void)len;
}

int fa_map_guard_add(const void *start, size_t len)
{
    (void)start;
    (void)len;
    return -1;
}

int64_t fa_map_guard_remove(int slot)
{
    (void)slot;
    return 0;
}

#endif
