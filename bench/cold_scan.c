/* What an idle gap between posts costs a scan: posts of a corpus scanned one at a time through
 * mf_scan_text, with a sleep of GAP_US microseconds before each, and the scanning thread's CPU time
 * per post (the sleep not counted). On the 2-core virtual machines this project is measured on, a
 * gap of 0.5 ms makes each 1 KB post cost about twice its CPU time back to back (caches and branch
 * predictors go cold while the thread sleeps, and huge pages did not change it), which is what a
 * worker at moderate load meets: bench/worker.py's latency part.
 *
 *   cc -O2 -Icapi/include bench/cold_scan.c -Lbuild/capi -lmodfilter -Wl,-rpath,$PWD/build/capi -o cold_scan
 *   ./cold_scan build/bench-corpora/prose.txt 0 4000; ./cold_scan build/bench-corpora/prose.txt 500 4000
 *   (CORPUS: one post a line, from bench/corpora.py; ROLE 1 scans as staff, the default; 0 as member)
 */
#define _POSIX_C_SOURCE 200809L
#include <modfilter/modfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: cold_scan CORPUS GAP_US POSTS [ROLE]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) { perror(argv[1]); return 2; }
    const long gap_us = atol(argv[2]);
    int n = atoi(argv[3]);
    const int32_t role = argc > 4 ? atoi(argv[4]) : MF_ROLE_STAFF;
    if (n <= 0 || gap_us < 0) { fprintf(stderr, "cold_scan: POSTS > 0 and GAP_US >= 0\n"); return 2; }
    char **posts = malloc(sizeof(char *) * (size_t)n);
    size_t *lens = malloc(sizeof(size_t) * (size_t)n);
    char *line = NULL;
    size_t cap = 0;
    ssize_t r;
    int have = 0;
    while (have < n && (r = getline(&line, &cap, f)) > 0) {
        while (r > 0 && (line[r - 1] == '\n' || line[r - 1] == '\r')) line[--r] = 0;
        if (!r) continue;
        posts[have] = strdup(line);
        lens[have++] = (size_t)r;
    }
    fclose(f);
    free(line);
    if (!have) { fprintf(stderr, "cold_scan: no posts in %s\n", argv[1]); return 2; }
    mf_engine *e = NULL;
    mf_scanner *s = NULL;
    mf_verdict *v = NULL;
    if (mf_engine_create(&e, NULL) != MF_OK || mf_scanner_create(&s, e) != MF_OK || mf_verdict_create(&v) != MF_OK) {
        fprintf(stderr, "cold_scan: %s\n", mf_last_error());
        return 1;
    }
    /* one scan first, untimed: the scanner's one-time setup (scratch space, buffers) */
    if (mf_scan_text(s, v, posts[0], lens[0], role) != MF_OK) {
        fprintf(stderr, "cold_scan: post 1: %s\n", mf_last_error());
        return 1;
    }
    const struct timespec gap = {gap_us / 1000000, (gap_us % 1000000) * 1000};
    double total = 0, bytes = 0;
    for (int i = 0; i < have; ++i) {
        if (gap_us) nanosleep(&gap, NULL);
        const double c0 = cpu_seconds();
        if (mf_scan_text(s, v, posts[i], lens[i], role) != MF_OK) {
            fprintf(stderr, "cold_scan: post %d: %s\n", i + 1, mf_last_error());
            return 1;
        }
        total += cpu_seconds() - c0;
        bytes += (double)lens[i];
    }
    printf("gap %ld us: %.1f us of CPU per post (%d posts, %.0f bytes each on average)\n", gap_us, total / have * 1e6,
           have, bytes / have);
    mf_verdict_destroy(v);
    mf_scanner_destroy(s);
    mf_engine_destroy(e);
    for (int i = 0; i < have; ++i) free(posts[i]);
    free(posts);
    free(lens);
    return 0;
}
