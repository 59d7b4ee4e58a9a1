/*
 * ab_inproc.c -- two builds of libmodfilter in one process, turn by turn, a chunk of posts at a time.
 *
 *   ab_inproc BEFORE.so AFTER.so FILE ROLE [N] [ROUNDS] [CHUNK]
 *   cc -O2 bench/ab_inproc.c -Icapi/include -ldl -o ab_inproc
 *   ./ab_inproc /tmp/old/build/capi/libmodfilter.so.0.1.0 build/capi/libmodfilter.so.0.1.0 \
 *       build/bench-corpora/prose.txt 1
 *
 * bench/ab_scan.sh runs one build, then the other, each in a process of its own; on a shared machine
 * whose speed drifts by a third from minute to minute, runs seconds apart disagree more than most
 * changes differ. Here both libraries are loaded (dlopen, each with its own copy of everything it
 * holds), and CHUNK posts (default 256) go through one, then the same CHUNK through the other, the
 * order alternating, until the first N lines of FILE (default: all) have been scanned ROUNDS times
 * (default 5) by each. Thread CPU time is summed per build, so drift lands on both alike. Printed:
 * us/post for each, the ratio after/before, the ratio's spread over the rounds, and each build's
 * verdict checksum (actions and hit counts): the same checksum means the same verdicts in outline
 * (bench/verdict_diff.py compares them in full).
 *
 * Each build scans with its default engine, or with the compiled database in the file that
 * AB_DB_BEFORE / AB_DB_AFTER names (`modfilter compile -o FILE`): two databases, one library.
 * With AB_BATCH=K, posts go through mf_scan_batch K at a time (as the CLI and the bindings' batch
 * calls scan), instead of mf_scan_text one by one.
 */
#define _GNU_SOURCE
#include <modfilter/modfilter.h>

#include "corpus_lines.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { kMaxBatch = 1024 };
static size_t batch;   /* AB_BATCH: posts per mf_scan_batch call, 0 for mf_scan_text */
static mf_post *posts; /* AB_BATCH: the posts of a call */

typedef struct {
    const char *path;
    void *lib;
    mf_status (*engine_create)(mf_engine **, const mf_engine_options *);
    mf_status (*engine_deserialize)(mf_engine **, const char *, size_t, const mf_engine_options *);
    mf_status (*scanner_create)(mf_scanner **, const mf_engine *);
    mf_status (*verdict_create)(mf_verdict **);
    mf_status (*scan_text)(mf_scanner *, mf_verdict *, const char *, size_t, int32_t);
    mf_status (*scan_batch)(mf_scanner *, mf_verdict *const *, const mf_post *, size_t, size_t *);
    int32_t (*verdict_action)(const mf_verdict *);
    size_t (*verdict_hit_count)(const mf_verdict *);
    const char *(*last_error)(void);
    mf_engine *e;
    mf_scanner *s;
    mf_verdict *v;
    mf_verdict **vs;  /* AB_BATCH verdicts */
    double cpu;
    unsigned long sum;
} Build;

static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *sym(Build *b, const char *name) {
    void *p = dlsym(b->lib, name);
    if (!p) {
        fprintf(stderr, "ab_inproc: %s: no symbol %s\n", b->path, name);
        exit(2);
    }
    return p;
}

static void open_build(Build *b, const char *path, const char *db) {
    b->path = path;
    b->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!b->lib) {
        fprintf(stderr, "ab_inproc: %s\n", dlerror());
        exit(2);
    }
    *(void **)&b->engine_create = sym(b, "mf_engine_create");
    *(void **)&b->scanner_create = sym(b, "mf_scanner_create");
    *(void **)&b->verdict_create = sym(b, "mf_verdict_create");
    *(void **)&b->scan_text = sym(b, "mf_scan_text");
    *(void **)&b->scan_batch = sym(b, "mf_scan_batch");
    *(void **)&b->verdict_action = sym(b, "mf_verdict_action");
    *(void **)&b->verdict_hit_count = sym(b, "mf_verdict_hit_count");
    *(void **)&b->last_error = sym(b, "mf_last_error");
    *(void **)&b->engine_deserialize = sym(b, "mf_engine_deserialize");
    mf_status st;
    if (db) {
        FILE *f = fopen(db, "rb");
        if (!f) {
            perror(db);
            exit(2);
        }
        fseek(f, 0, SEEK_END);
        const long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *data = malloc(size > 0 ? (size_t)size : 1);
        if (size <= 0 || fread(data, 1, (size_t)size, f) != (size_t)size) {
            fprintf(stderr, "ab_inproc: cannot read %s\n", db);
            exit(2);
        }
        fclose(f);
        st = b->engine_deserialize(&b->e, data, (size_t)size, NULL);
        free(data);
    } else {
        st = b->engine_create(&b->e, NULL);
    }
    if (st || b->scanner_create(&b->s, b->e) || b->verdict_create(&b->v)) {
        fprintf(stderr, "ab_inproc: %s: %s\n", path, b->last_error());
        exit(1);
    }
    b->vs = calloc(batch ? batch : 1, sizeof *b->vs);
    for (size_t i = 0; i < batch; i++)
        if (b->verdict_create(&b->vs[i])) exit(1);
}

static void run(Build *b, char **lines, size_t *lens, size_t from, size_t to, int role, int timed) {
    const double t0 = cpu();
    for (size_t i = from; batch && i < to; i += batch) {
        const size_t m = i + batch < to ? batch : to - i;
        for (size_t k = 0; k < m; k++) {
            posts[k].text = lines[i + k];
            posts[k].len = lens[i + k];
            posts[k].author_role = role;
        }
        size_t failed = 0;
        if (b->scan_batch(b->s, b->vs, posts, m, &failed)) {
            fprintf(stderr, "ab_inproc: %s: post %zu: %s\n", b->path, i + failed, b->last_error());
            exit(1);
        }
        if (timed)
            for (size_t k = 0; k < m; k++)
                b->sum += (unsigned long)b->verdict_action(b->vs[k]) + 16ul * b->verdict_hit_count(b->vs[k]);
    }
    for (size_t i = from; !batch && i < to; i++) {
        if (b->scan_text(b->s, b->v, lines[i], lens[i], role)) {
            fprintf(stderr, "ab_inproc: %s: post %zu: %s\n", b->path, i, b->last_error());
            exit(1);
        }
        if (timed) b->sum += (unsigned long)b->verdict_action(b->v) + 16ul * b->verdict_hit_count(b->v);
    }
    if (timed) b->cpu += cpu() - t0;
}

static int cmp(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 5 || argc > 8) {
        fprintf(stderr, "usage: ab_inproc BEFORE.so AFTER.so FILE ROLE [N] [ROUNDS] [CHUNK]\n");
        return 2;
    }
    const int role = atoi(argv[4]);
    const size_t max = argc > 5 ? strtoul(argv[5], NULL, 10) : (size_t)-1;
    const int rounds = argc > 6 ? atoi(argv[6]) : 5;
    const size_t chunk = argc > 7 ? strtoul(argv[7], NULL, 10) : 256;
    if (rounds < 1 || rounds > 1000 || chunk < 1) {
        fprintf(stderr, "ab_inproc: ROUNDS 1..1000, CHUNK >= 1\n");
        return 2;
    }
    FILE *f = fopen(argv[3], "r");
    if (!f) {
        perror(argv[3]);
        return 2;
    }
    size_t bytes = 0;
    char **lines;
    size_t *lens;
    const size_t n = read_corpus_lines(f, max, &lines, &lens, &bytes);
    fclose(f);
    if (n == 0) {
        fprintf(stderr, "ab_inproc: %s: no posts\n", argv[3]);
        return 2;
    }
    if (getenv("AB_BATCH")) {
        batch = strtoul(getenv("AB_BATCH"), NULL, 10);
        if (batch > kMaxBatch) {
            fprintf(stderr, "ab_inproc: AB_BATCH is at most %d\n", kMaxBatch);
            return 2;
        }
        const mf_post init = MF_POST_INIT;
        posts = malloc((batch ? batch : 1) * sizeof *posts);
        for (size_t k = 0; k < batch; k++) posts[k] = init;
    }
    Build b[2];
    memset(b, 0, sizeof b);
    open_build(&b[0], argv[1], getenv("AB_DB_BEFORE"));
    open_build(&b[1], argv[2], getenv("AB_DB_AFTER"));
    // A pass each first, untimed: databases that load on first use, pages of tables, the caches.
    run(&b[0], lines, lens, 0, n, role, 0);
    run(&b[1], lines, lens, 0, n, role, 0);
    double *ratio = malloc((size_t)rounds * sizeof *ratio);
    for (int r = 0; r < rounds; r++) {
        const double c0 = b[0].cpu, c1 = b[1].cpu;
        for (size_t from = 0, k = 0; from < n; from += chunk, k++) {
            const size_t to = from + chunk < n ? from + chunk : n;
            const int first = (int)((k + (size_t)r) & 1);
            run(&b[first], lines, lens, from, to, role, 1);
            run(&b[!first], lines, lens, from, to, role, 1);
        }
        ratio[r] = (b[1].cpu - c1) / (b[0].cpu - c0);
    }
    qsort(ratio, (size_t)rounds, sizeof *ratio, cmp);
    const double posts = (double)n * rounds;
    printf("%zu posts (%.1f MB) x %d rounds, chunks of %zu, role %d, %s\n", n, bytes / 1e6, rounds, chunk, role,
           batch ? "mf_scan_batch" : "mf_scan_text");
    if (batch) printf("mf_scan_batch: %zu posts a call\n", batch);
    for (int i = 0; i < 2; i++)
        printf("%-6s %8.2f us/post %7.1f MB/s  checksum %lu  %s%s%s\n", i ? "after" : "before", b[i].cpu / posts * 1e6,
               bytes * (double)rounds / b[i].cpu / 1e6, b[i].sum / (unsigned long)rounds, b[i].path,
               getenv(i ? "AB_DB_AFTER" : "AB_DB_BEFORE") ? " with " : "",
               getenv(i ? "AB_DB_AFTER" : "AB_DB_BEFORE") ? getenv(i ? "AB_DB_AFTER" : "AB_DB_BEFORE") : "");
    printf("after/before time %.3f (rounds: min %.3f, median %.3f, max %.3f)\n", b[1].cpu / b[0].cpu, ratio[0],
           ratio[rounds / 2], ratio[rounds - 1]);
    return 0;
}
