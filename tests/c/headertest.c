/* Compiled as strict C99 (-std=c99 -pedantic-errors -Werror): the public header must stay plain C.
   It also runs: the _INIT macros and _init() functions must agree. */
#include <modfilter/modfilter.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    mf_engine_options a = MF_ENGINE_OPTIONS_INIT, b;
    mf_post p = MF_POST_INIT, q;
    mf_hit h = MF_HIT_INIT;
    if (mf_engine_options_init(&b, MF_ENGINE_OPTIONS_VERSION) != MF_OK) return 1;
    if (mf_post_init(&q, MF_POST_VERSION) != MF_OK) return 1;
    if (a.version != b.version || a.rules_path != b.rules_path || a.flag_threshold != b.flag_threshold ||
        a.max_hits != b.max_hits || a.max_post_bytes != b.max_post_bytes) {
        fprintf(stderr, "MF_ENGINE_OPTIONS_INIT and mf_engine_options_init disagree\n");
        return 1;
    }
    if (p.version != q.version || p.author_role != q.author_role || p.flags != q.flags) {
        fprintf(stderr, "MF_POST_INIT and mf_post_init disagree\n");
        return 1;
    }
    if (h.version != MF_HIT_VERSION) return 1;
    if (strcmp(mf_version(), "0.1.0") != 0 || mf_version_number() != MF_VERSION_NUMBER) {
        fprintf(stderr, "header %d and library %s differ\n", MF_VERSION_NUMBER, mf_version());
        return 1;
    }
    puts("header ok");
    return 0;
}
