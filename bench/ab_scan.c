/*
 * ab_scan.c -- the C side of bench/ab_scan.sh: scans the first N lines of a corpus through
 * mf_scan_text, ROUNDS passes, and prints the best pass in thread CPU time (which other processes
 * on a busy machine move less than wall time) with a checksum of the verdicts.
 *
 *   ab_scan FILE ROLE N ROUNDS      (ROLE: 0 member, 1 staff)
 *
 * Which library it scans with is the dynamic loader's choice: bench/ab_scan.sh points
 * LD_LIBRARY_PATH at one build's capi/ directory, then at the other's, turn by turn.
 */
#define _POSIX_C_SOURCE 200809L
#include <modfilter/modfilter.h>

#include "corpus_lines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned long scan_all(mf_scanner *s, mf_verdict *v, char **lines, size_t *lens, size_t n, int role) {
    unsigned long sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (mf_scan_text(s, v, lines[i], lens[i], role)) {
            fprintf(stderr, "ab_scan: post %zu: %s\n", i, mf_last_error());
            exit(1);
        }
        sum += (unsigned long)mf_verdict_action(v) + 16ul * mf_verdict_hit_count(v);
    }
    return sum;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: ab_scan FILE ROLE N ROUNDS\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    const int role = atoi(argv[2]);
    const size_t max = strtoul(argv[3], NULL, 10);
    const int rounds = atoi(argv[4]);
    size_t bytes = 0;
    char **lines;
    size_t *lens;
    const size_t n = read_corpus_lines(f, max, &lines, &lens, &bytes);
    fclose(f);
    mf_engine *e;
    mf_scanner *s;
    mf_verdict *v;
    if (mf_engine_create(&e, NULL) || mf_scanner_create(&s, e) || mf_verdict_create(&v)) {
        fprintf(stderr, "ab_scan: %s\n", mf_last_error());
        return 1;
    }
    unsigned long sum = 0;
    double best = 1e30;
    for (int r = 0; r < rounds; r++) {
        double t0 = cpu();
        sum = scan_all(s, v, lines, lens, n, role);
        double t = cpu() - t0;
        if (t < best) best = t;
    }
    printf("%.1f MB/s %.2f us/post checksum %lu (%s, %zu posts)\n", bytes / best / 1e6, best / (double)n * 1e6, sum,
           mf_version(), n);
    mf_verdict_destroy(v);
    mf_scanner_destroy(s);
    mf_engine_destroy(e);
    return 0;
}
