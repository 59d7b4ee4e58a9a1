/*
 * c_baseline.c -- the C side of bench/python/bench_python.py: scans the same posts through the
 * C API, the way a C caller would, and prints per-post timings as one JSON object.
 *
 *   c_baseline POSTS_FILE RULES_PATH|- ROUNDS BATCH
 *
 * POSTS_FILE holds one post per line (UTF-8, no newline inside a post). RULES_PATH is a rule-pack
 * file or directory, "-" for the default packs. Each mode reads back what the Python binding reads
 * (action, flags, every category and hit) so the two do the same work; the best of ROUNDS is kept.
 * "checksum" (actions and hits summed over all posts) lets the caller check both sides agree
 * before comparing times. Last, the same posts are scanned by 1 and then 2 threads sharing the
 * engine (a scanner each), as a reference for the Python thread-pool figures: on a machine whose
 * other processes take a core, C will not scale either.
 */
#define _POSIX_C_SOURCE 200809L
#include <modfilter/modfilter.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, mf_status st) {
    fprintf(stderr, "c_baseline: %s: %s (%s)\n", what, mf_status_str(st), mf_last_error());
    exit(1);
}

/* Reads what the binding reads: returns action + 16 * hits, for the checksum. */
static unsigned long read_verdict(const mf_verdict *v) {
    int32_t action = mf_verdict_action(v);
    uint32_t flags = mf_verdict_flags(v);
    size_t nhits = mf_verdict_hit_count(v);
    unsigned long sum = (unsigned long)action + 16ul * nhits;
    if (!flags && !nhits) return sum;
    (void)mf_verdict_evasion(v);
    size_t ncat = mf_verdict_category_count(v);
    for (size_t i = 0; i < ncat; i++) {
        const char *name, *route;
        double score;
        int32_t cat_action;
        mf_verdict_category(v, i, &name, &score, &cat_action, &route);
    }
    mf_hit hit = MF_HIT_INIT;
    for (size_t i = 0; i < nhits; i++) mf_verdict_hit(v, i, &hit);
    return sum;
}

typedef struct {
    const mf_engine *engine;
    const mf_post *posts;
    size_t n, first, step;
} thread_job;

static void *thread_scan(void *arg) {
    const thread_job *job = arg;
    mf_scanner *scanner;
    mf_verdict *verdict;
    if (mf_scanner_create(&scanner, job->engine) || mf_verdict_create(&verdict)) return (void *)1;
    for (size_t i = job->first; i < job->n; i += job->step) {
        if (mf_scan_text(scanner, verdict, job->posts[i].text, job->posts[i].len, MF_ROLE_MEMBER))
            return (void *)1;
        (void)read_verdict(verdict);
    }
    mf_verdict_destroy(verdict);
    mf_scanner_destroy(scanner);
    return NULL;
}

/* Seconds for `threads` threads to scan all posts once between them. */
static double threaded(const mf_engine *engine, const mf_post *posts, size_t n, int threads) {
    pthread_t tid[2];
    thread_job jobs[2];
    double t0 = now();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (thread_job){engine, posts, n, (size_t)t, (size_t)threads};
        pthread_create(&tid[t], NULL, thread_scan, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) {
        void *ret;
        pthread_join(tid[t], &ret);
        if (ret) die("thread scan", MF_E_INTERNAL);
    }
    return now() - t0;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s POSTS_FILE RULES_PATH|- ROUNDS BATCH\n", argv[0]);
        return 2;
    }
    int rounds = atoi(argv[3]);
    size_t batch = (size_t)atol(argv[4]);
    if (rounds < 1 || batch < 1) return 2;

    /* posts */
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) { perror("read"); return 1; }
    fclose(f);
    size_t n = 0, cap = 1024;
    mf_post *posts = malloc(cap * sizeof *posts);
    size_t bytes = 0;
    for (char *p = buf, *end = buf + size; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        if (n == cap) posts = realloc(posts, (cap *= 2) * sizeof *posts);
        mf_post post = MF_POST_INIT;
        post.text = p;
        post.len = (size_t)(nl - p);
        posts[n++] = post;
        bytes += post.len;
        p = nl + 1;
    }

    /* engine, scanner, verdicts */
    mf_engine_options opts = MF_ENGINE_OPTIONS_INIT;
    if (strcmp(argv[2], "-") != 0) opts.rules_path = argv[2];
    mf_engine *engine;
    mf_status st = mf_engine_create(&engine, &opts);
    if (st) die("mf_engine_create", st);
    mf_scanner *scanner;
    if ((st = mf_scanner_create(&scanner, engine))) die("mf_scanner_create", st);
    mf_verdict *one;
    if ((st = mf_verdict_create(&one))) die("mf_verdict_create", st);
    mf_verdict **verdicts = malloc(batch * sizeof *verdicts);
    for (size_t i = 0; i < batch; i++)
        if ((st = mf_verdict_create(&verdicts[i]))) die("mf_verdict_create", st);

    double best_single = 1e30, best_batch = 1e30, best_scan_only = 1e30;
    unsigned long sum_single = 0, sum_batch = 0;
    for (int r = 0; r < rounds; r++) {
        /* scan only: mf_scan_text + action, nothing else read */
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            if ((st = mf_scan_text(scanner, one, posts[i].text, posts[i].len, MF_ROLE_MEMBER)))
                die("mf_scan_text", st);
            (void)mf_verdict_action(one);
        }
        double t = now() - t0;
        if (t < best_scan_only) best_scan_only = t;

        /* one post at a time, everything read back (what modfilter.Engine.scan does) */
        unsigned long sum = 0;
        t0 = now();
        for (size_t i = 0; i < n; i++) {
            if ((st = mf_scan_text(scanner, one, posts[i].text, posts[i].len, MF_ROLE_MEMBER)))
                die("mf_scan_text", st);
            sum += read_verdict(one);
        }
        t = now() - t0;
        if (t < best_single) best_single = t;
        sum_single = sum;

        /* batches, everything read back (what Engine.scan_many does) */
        sum = 0;
        t0 = now();
        for (size_t i = 0; i < n; i += batch) {
            size_t k = n - i < batch ? n - i : batch;
            size_t failed;
            if ((st = mf_scan_batch(scanner, verdicts, posts + i, k, &failed))) die("mf_scan_batch", st);
            for (size_t j = 0; j < k; j++) sum += read_verdict(verdicts[j]);
        }
        t = now() - t0;
        if (t < best_batch) best_batch = t;
        sum_batch = sum;
    }
    double best_t1 = 1e30, best_t2 = 1e30;
    for (int r = 0; r < rounds; r++) { /* alternate, so both see the same machine */
        double t = threaded(engine, posts, n, 1);
        if (t < best_t1) best_t1 = t;
        t = threaded(engine, posts, n, 2);
        if (t < best_t2) best_t2 = t;
    }
    printf("{\"library\":\"%s\",\"posts\":%zu,\"bytes\":%zu,\"rounds\":%d,\"batch\":%zu,"
           "\"scan_only_us\":%.4f,\"single_us\":%.4f,\"batch_us\":%.4f,"
           "\"checksum_single\":%lu,\"checksum_batch\":%lu,"
           "\"threads1_posts_per_s\":%.0f,\"threads2_posts_per_s\":%.0f}\n",
           mf_version(), n, bytes, rounds, batch, best_scan_only * 1e6 / (double)n,
           best_single * 1e6 / (double)n, best_batch * 1e6 / (double)n, sum_single, sum_batch,
           (double)n / best_t1, (double)n / best_t2);

    for (size_t i = 0; i < batch; i++) mf_verdict_destroy(verdicts[i]);
    free(verdicts);
    mf_verdict_destroy(one);
    mf_scanner_destroy(scanner);
    mf_engine_destroy(engine);
    free(posts);
    free(buf);
    return 0;
}
