/* Compiled as strict C99 (-std=c99 -pedantic-errors -Werror): the public header must stay plain C.
   It also runs: the _INIT macros and _init() functions must agree. */
#include <modfilter/modfilter.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    mf_engine_options a = MF_ENGINE_OPTIONS_INIT, b;
    mf_post p = MF_POST_INIT, q;
    mf_hit h = MF_HIT_INIT;
    mf_state_options so = MF_STATE_OPTIONS_INIT, so2;
    mf_state *state = NULL;
    if (mf_state_options_init(&so2, MF_STATE_OPTIONS_VERSION) != MF_OK) return 1;
    if (so.version != so2.version || so.memory_budget != so2.memory_budget) {
        fprintf(stderr, "MF_STATE_OPTIONS_INIT and mf_state_options_init disagree\n");
        return 1;
    }
    if (mf_state_create(&state, &so) != MF_OK) return 1;
    mf_state_destroy(state);
    if (mf_engine_options_init(&b, MF_ENGINE_OPTIONS_VERSION) != MF_OK) return 1;
    if (mf_post_init(&q, MF_POST_VERSION) != MF_OK) return 1;
    if (a.version != b.version || a.rules_path != b.rules_path || a.flag_threshold != b.flag_threshold ||
        a.max_hits != b.max_hits || a.max_post_bytes != b.max_post_bytes) {
        fprintf(stderr, "MF_ENGINE_OPTIONS_INIT and mf_engine_options_init disagree\n");
        return 1;
    }
    if (p.version != q.version || p.author_role != q.author_role || p.flags != q.flags || p.id != q.id ||
        p.author_id != q.author_id || p.channel_len != q.channel_len || p.ts_ms != q.ts_ms ||
        p.author_age_days != q.author_age_days || p.edit != q.edit || p.author_age_days != MF_AGE_UNKNOWN) {
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
