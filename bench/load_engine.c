/*
 * load_engine.c -- the C side of bench/load_time.py: one process, the default engine from
 * mf_engine_create (the packs precompiled into the library), a scanner, and the first verdict on a
 * short post; prints the wall time of each step in milliseconds, from the start of main.
 *
 *   load_engine [ROLE]      (ROLE: 0 member, default; 1 staff)
 *
 * Which library it loads is the dynamic loader's choice (LD_LIBRARY_PATH), as for bench/ab_scan.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <modfilter/modfilter.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

int main(int argc, char **argv) {
    const int role = argc > 1 ? atoi(argv[1]) : 0;
    const double t0 = now_ms();
    mf_engine *e = NULL;
    mf_scanner *s = NULL;
    mf_verdict *v = NULL;
    if (mf_engine_create(&e, NULL) != MF_OK) {
        fprintf(stderr, "load_engine: %s\n", mf_last_error());
        return 1;
    }
    const double t1 = now_ms();
    if (mf_scanner_create(&s, e) != MF_OK || mf_verdict_create(&v) != MF_OK) {
        fprintf(stderr, "load_engine: %s\n", mf_last_error());
        return 1;
    }
    const double t2 = now_ms();
    static const char post[] = "hi, thanks for the quick answer";
    if (mf_scan_text(s, v, post, sizeof post - 1, role) != MF_OK) {
        fprintf(stderr, "load_engine: %s\n", mf_last_error());
        return 1;
    }
    const double t3 = now_ms();
    printf("engine %.3f scanner %.3f first_verdict %.3f total %.3f action %d\n", t1 - t0, t2 - t1, t3 - t2, t3 - t0,
           (int)mf_verdict_action(v));
    mf_verdict_destroy(v);
    mf_scanner_destroy(s);
    mf_engine_destroy(e);
    return 0;
}
