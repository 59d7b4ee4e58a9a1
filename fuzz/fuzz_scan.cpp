// Scan: arbitrary bytes against the default packs through the C API, as a member without censoring
// and as staff with censoring. Every hit lies inside the post, the action is the highest category
// action, scores add up from the hits, and the JSON rendering parses.
#include <nlohmann/json.hpp>

#include "fuzz_common.hpp"

namespace {
struct State {
    mf_engine *engine = nullptr;
    mf_scanner *scanner = nullptr;
    mf_verdict *verdict = nullptr;
    State() {
        if (mf_engine_create(&engine, nullptr) != MF_OK || mf_scanner_create(&scanner, engine) != MF_OK ||
            mf_verdict_create(&verdict) != MF_OK) {
            std::fprintf(stderr, "cannot create the default engine: %s\n", mf_last_error());
            std::abort();
        }
    }
};
State &state() {
    static State st;
    return st;
}
}  // namespace

// Slow one-time set-up (compiling the default packs) happens here, outside libFuzzer's per-input timeout.
extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    (void)state();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    State &st = state();
    const char *text = reinterpret_cast<const char *>(data);
    for (int pass = 0; pass < 2; ++pass) {
        mf_post post = MF_POST_INIT;
        post.text = text;
        post.len = size;
        post.author_role = pass ? MF_ROLE_STAFF : MF_ROLE_MEMBER;
        post.flags = pass ? MF_SCAN_CENSOR : 0;
        mf_status s = mf_scan(st.scanner, st.verdict, &post);
        FUZZ_CHECK(s == MF_OK, "mf_scan: %s: %s", mf_status_str(s), mf_last_error());
        fuzz::check_verdict(st.verdict, size, 1024);
        bool valid = fuzz::valid_utf8(std::string_view(text, size));
        FUZZ_CHECK(((mf_verdict_flags(st.verdict) & MF_VERDICT_INVALID_UTF8) != 0) == !valid,
                   "INVALID_UTF8 flag disagrees with the input");
        size_t clen = 0;
        const char *c = mf_verdict_censored(st.verdict, &clen);
        if (pass) {
            FUZZ_CHECK(c && clen <= size && c[clen] == 0, "censored copy missing or too long");
            if (mf_verdict_hit_count(st.verdict) == 0)
                FUZZ_CHECK(clen == size && std::memcmp(c, text, size) == 0, "censored copy differs without hits");
        } else {
            FUZZ_CHECK(!c, "censored copy without MF_SCAN_CENSOR");
        }
        size_t jlen = 0;
        const char *j = mf_verdict_json(st.verdict, &jlen);
        FUZZ_CHECK(j && std::strlen(j) == jlen, "mf_verdict_json");
        auto doc = nlohmann::json::parse(j, j + jlen, nullptr, false);
        FUZZ_CHECK(!doc.is_discarded(), "verdict JSON does not parse: %s", j);
        FUZZ_CHECK(doc["hits"].size() == mf_verdict_hit_count(st.verdict), "JSON hits differ");
        FUZZ_CHECK(doc["action"] == mf_action_name(mf_verdict_action(st.verdict)), "JSON action differs");
    }
    return 0;
}
