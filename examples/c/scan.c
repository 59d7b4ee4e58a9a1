/* The smallest complete use of modfilter from C:
 *   cc scan.c $(pkg-config --cflags --libs modfilter) -o scan && ./scan "We'll refund you by Friday" staff
 * Creates an engine from the default packs, scans one post, prints the verdict, frees everything. */
#include <modfilter/modfilter.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *text = argc > 1 ? argv[1] : "You are an idiot";
    int32_t role = (argc > 2 && strcmp(argv[2], "staff") == 0) ? MF_ROLE_STAFF : MF_ROLE_MEMBER;
    mf_engine *engine = NULL;
    mf_scanner *scanner = NULL;
    mf_verdict *verdict = NULL;
    mf_status st = mf_engine_create(&engine, NULL); /* NULL: the default packs */
    if (st == MF_OK) st = mf_scanner_create(&scanner, engine);
    if (st == MF_OK) st = mf_verdict_create(&verdict);
    if (st == MF_OK) st = mf_scan_text(scanner, verdict, text, strlen(text), role);
    if (st != MF_OK) {
        fprintf(stderr, "modfilter: %s: %s\n", mf_status_str(st), mf_last_error());
    } else {
        size_t i, n = mf_verdict_hit_count(verdict);
        printf("action: %s\n", mf_action_name(mf_verdict_action(verdict)));
        for (i = 0; i < n; ++i) {
            mf_hit hit = MF_HIT_INIT;
            mf_verdict_hit(verdict, i, &hit);
            printf("hit: %s (%s, %s) bytes [%zu, %zu): \"%.*s\"\n", hit.rule, hit.category,
                   mf_severity_name(hit.severity), hit.start, hit.end, (int)(hit.end - hit.start),
                   text + hit.start);
        }
    }
    mf_verdict_destroy(verdict);
    mf_scanner_destroy(scanner);
    mf_engine_destroy(engine);
    return st == MF_OK ? 0 : 1;
}
