// C API tests: only the public header and libmodfilter, as a forum plugin would use them.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <modfilter/modfilter.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

namespace {

const char *kPack = R"(
[category."promise"]
route = "legal"
hold = 1
[[rule]]
id = "obscene.f"
category = "abuse.obscene"
severity = "medium"
word = "fuck"
boundary = "prefix"
[[rule]]
id = "threat.kill"
category = "abuse.threat"
severity = "critical"
phrase = "i will kill you"
[[rule]]
id = "promise.refund"
category = "promise.refund"
severity = "high"
applies_to = "staff"
regex = "(we|i)('ll| will) refund"
)";

struct Fixture {
    mf_engine *engine = nullptr;
    mf_scanner *scanner = nullptr;
    mf_verdict *verdict = nullptr;
    Fixture() {
        mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
        o.rules_text = kPack;
        o.rules_text_len = std::strlen(kPack);
        REQUIRE(mf_engine_create(&engine, &o) == MF_OK);
        REQUIRE(mf_scanner_create(&scanner, engine) == MF_OK);
        REQUIRE(mf_verdict_create(&verdict) == MF_OK);
    }
    ~Fixture() {
        mf_verdict_destroy(verdict);
        mf_scanner_destroy(scanner);
        mf_engine_destroy(engine);
    }
    int32_t scan(const std::string &t, int32_t role = MF_ROLE_MEMBER) {
        REQUIRE(mf_scan_text(scanner, verdict, t.data(), t.size(), role) == MF_OK);
        return mf_verdict_action(verdict);
    }
};

// A post of `text` (which must outlive it).
mf_post post_of(const std::string &text, int32_t role = MF_ROLE_STAFF, uint32_t flags = 0) {
    mf_post p = MF_POST_INIT;
    p.text = text.data();
    p.len = text.size();
    p.author_role = role;
    p.flags = flags;
    return p;
}

}  // namespace

TEST_CASE("Version and status strings", "[capi]") {
    CHECK(std::string(mf_version()) == "0.1.0");
    CHECK(mf_version_number() == MF_VERSION_NUMBER);
    CHECK(std::string(mf_status_str(MF_OK)) == "ok");
    CHECK(std::string(mf_status_str(MF_E_RULES)) == "error in rule packs");
    CHECK(std::string(mf_status_str(12345)) == "unknown status code");
    CHECK(std::string(mf_action_name(MF_ACTION_HOLD)) == "HOLD");
    CHECK(std::string(mf_action_name(99)).empty());
    CHECK(std::string(mf_severity_name(MF_SEVERITY_CRITICAL)) == "critical");
    CHECK(std::string(mf_evasion_name(MF_EVASION_LEET)) == "leet");
    CHECK(mf_last_error() != nullptr);
}

TEST_CASE("The default packs load when no rules are named", "[capi]") {
    mf_engine *e = nullptr;
    REQUIRE(mf_engine_create(&e, nullptr) == MF_OK);
    CHECK(mf_engine_rule_count(e) > 10);
    mf_scanner *s = nullptr;
    mf_verdict *v = nullptr;
    REQUIRE(mf_scanner_create(&s, e) == MF_OK);
    REQUIRE(mf_verdict_create(&v) == MF_OK);
    std::string clean = "Thanks for the quick reply, the update fixed my problem.";
    REQUIRE(mf_scan_text(s, v, clean.data(), clean.size(), MF_ROLE_MEMBER) == MF_OK);
    CHECK(mf_verdict_action(v) == MF_ACTION_ALLOW);
    mf_verdict_destroy(v);
    mf_scanner_destroy(s);
    mf_engine_destroy(e);
}

TEST_CASE("Scan, read the verdict, its hits and categories", "[capi]") {
    Fixture f;
    CHECK(f.scan("hello there") == MF_ACTION_ALLOW);
    CHECK(mf_verdict_hit_count(f.verdict) == 0);
    CHECK(f.scan("well fuck that") == MF_ACTION_FLAG);
    REQUIRE(mf_verdict_hit_count(f.verdict) == 1);
    mf_hit h = MF_HIT_INIT;
    REQUIRE(mf_verdict_hit(f.verdict, 0, &h) == MF_OK);
    CHECK(std::string(h.rule) == "obscene.f");
    CHECK(std::string(h.category) == "abuse.obscene");
    CHECK(h.severity == MF_SEVERITY_MEDIUM);
    CHECK(h.start == 5);
    CHECK(h.end == 9);
    REQUIRE(mf_verdict_category_count(f.verdict) == 1);
    const char *name, *route;
    double score;
    int32_t action;
    REQUIRE(mf_verdict_category(f.verdict, 0, &name, &score, &action, &route) == MF_OK);
    CHECK(std::string(name) == "abuse.obscene");
    CHECK(score == 2.0);
    CHECK(action == MF_ACTION_FLAG);
    CHECK(mf_verdict_hit(f.verdict, 1, &h) == MF_E_NOT_FOUND);
    CHECK(mf_verdict_category(f.verdict, 1, nullptr, nullptr, nullptr, nullptr) == MF_E_NOT_FOUND);
}

TEST_CASE("Staff promises are held and routed, the same words from a member are not", "[capi]") {
    Fixture f;
    CHECK(f.scan("We'll refund everyone by Friday", MF_ROLE_STAFF) == MF_ACTION_HOLD);
    size_t len;
    std::string j = mf_verdict_json(f.verdict, &len);
    CHECK(j.size() == len);
    CHECK(j.find("\"routes\":[\"legal\"]") != std::string::npos);
    CHECK(f.scan("We'll refund everyone by Friday", MF_ROLE_MEMBER) == MF_ACTION_ALLOW);
}

TEST_CASE("Censored copy on request", "[capi]") {
    Fixture f;
    mf_post p = MF_POST_INIT;
    std::string t = "fucking hell";
    p.text = t.data();
    p.len = t.size();
    p.flags = MF_SCAN_CENSOR;
    REQUIRE(mf_scan(f.scanner, f.verdict, &p) == MF_OK);
    size_t n = 0;
    const char *c = mf_verdict_censored(f.verdict, &n);
    REQUIRE(c);
    CHECK(std::string(c, n) == "******* hell");
    p.flags = 0;
    REQUIRE(mf_scan(f.scanner, f.verdict, &p) == MF_OK);
    CHECK(mf_verdict_censored(f.verdict, &n) == nullptr);
}

TEST_CASE("Invalid UTF-8 is scanned and reported, never dropped", "[capi]") {
    Fixture f;
    std::string t = "fuck\xFF\xFE";
    CHECK(f.scan(t) == MF_ACTION_FLAG);
    CHECK((mf_verdict_flags(f.verdict) & MF_VERDICT_INVALID_UTF8));
    CHECK(mf_verdict_invalid_utf8_count(f.verdict) == 2);
}

TEST_CASE("Batch scanning gives the same verdicts as one by one", "[capi]") {
    Fixture f;
    std::vector<std::string> texts = {"hello", "fuck", "I will kill you", "we will refund you", ""};
    std::vector<mf_post> posts(texts.size());
    std::vector<mf_verdict *> vs(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
        posts[i] = post_of(texts[i]);
        REQUIRE(mf_verdict_create(&vs[i]) == MF_OK);
    }
    size_t failed = 99;
    REQUIRE(mf_scan_batch(f.scanner, vs.data(), posts.data(), posts.size(), &failed) == MF_OK);
    CHECK(failed == posts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
        std::string batch = mf_verdict_json(vs[i], nullptr);
        REQUIRE(mf_scan(f.scanner, f.verdict, &posts[i]) == MF_OK);
        CHECK(batch == mf_verdict_json(f.verdict, nullptr));
        mf_verdict_destroy(vs[i]);
    }
}

namespace {

// Posts that wake every stage of the default engine: word lists, regex windows, the skeleton
// (evasions), the commitment rules (staff), the learned scorer, non-ASCII, censoring, empty posts.
std::vector<std::string> stage_texts() {
    return {"Thanks for the quick reply, the update fixed my problem.",
            "you are a f.u.c.k.i.n.g idiot and everyone here knows it",
            "We will refund the full amount by Friday, guaranteed.",
            "",
            "y0u are such an 1d10t, shut up l0ser",
            "WIN a FREE iPhone now!!! Click http://prize.example/claim and reply STOP to opt out",
            "I will kill you if you post that again",
            "Ｆｕｃｋ this, the ѕhіt update broke everything again",
            "The fix ships in the next release, I promise, and you'll get a 20% discount too.",
            "call me on 07700 900123 or mail sales@example.com for cheap watches",
            "Our team is looking into it and will get back to you.",
            "what a lovely day in the park with the kids"};
}

}  // namespace

TEST_CASE("Batches longer than the scanner's lanes give the same verdicts as one by one", "[capi][batch]") {
    mf_engine *e = nullptr;
    mf_scanner *s = nullptr;
    REQUIRE(mf_engine_create(&e, nullptr) == MF_OK);
    REQUIRE(mf_scanner_create(&s, e) == MF_OK);
    const std::vector<std::string> base = stage_texts();
    std::vector<std::string> texts;
    for (size_t i = 0; i < 71; ++i) texts.push_back(base[(i * 5) % base.size()] + (i % 3 ? "" : " again and again"));
    std::string large;  // a post over 64 KiB: its lane gives its buffers back after the batch
    while (large.size() < 70000) large += base[large.size() % base.size()] + " ";
    texts[40] = large;
    std::vector<mf_post> posts(texts.size());
    std::vector<mf_verdict *> vs(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
        posts[i] = post_of(texts[i], i % 2 ? MF_ROLE_STAFF : MF_ROLE_MEMBER, i % 4 == 1 ? MF_SCAN_CENSOR : 0);
        REQUIRE(mf_verdict_create(&vs[i]) == MF_OK);
    }
    size_t failed = 0;
    // twice: the second time through lanes that have held other posts (and one a large post)
    for (int round = 0; round < 2; ++round) {
        REQUIRE(mf_scan_batch(s, vs.data(), posts.data(), posts.size(), &failed) == MF_OK);
        CHECK(failed == posts.size());
    }
    mf_verdict *one = nullptr;
    REQUIRE(mf_verdict_create(&one) == MF_OK);
    size_t held = 0, rejected = 0, censored = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
        REQUIRE(mf_scan(s, one, &posts[i]) == MF_OK);
        INFO("post " << i << ": " << texts[i].substr(0, 80));
        CHECK(std::string(mf_verdict_json(vs[i], nullptr)) == mf_verdict_json(one, nullptr));
        size_t n = 0;
        const char *c = mf_verdict_censored(vs[i], &n);
        const char *c1 = mf_verdict_censored(one, &n);
        CHECK((c == nullptr) == (c1 == nullptr));
        if (c && c1) CHECK(std::string(c) == c1);
        censored += c != nullptr && std::string(c) != texts[i];
        held += mf_verdict_action(vs[i]) == MF_ACTION_HOLD;
        rejected += mf_verdict_action(vs[i]) == MF_ACTION_REJECT;
    }
    // the posts did reach the stages: something was held, something rejected, something censored
    CHECK(held > 0);
    CHECK(rejected > 0);
    CHECK(censored > 0);
    mf_verdict_destroy(one);
    for (auto *v : vs) mf_verdict_destroy(v);
    mf_scanner_destroy(s);
    mf_engine_destroy(e);
}

TEST_CASE("A post that fails in the middle of a batch: the posts before it are done, those after untouched",
          "[capi][batch]") {
    mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
    o.max_post_bytes = 120;
    mf_engine *e = nullptr;
    mf_scanner *s = nullptr;
    REQUIRE(mf_engine_create(&e, &o) == MF_OK);
    REQUIRE(mf_scanner_create(&s, e) == MF_OK);
    const std::vector<std::string> base = stage_texts();
    const std::string big(300, 'a');
    for (size_t bad : {size_t(0), size_t(5), size_t(16), size_t(21), size_t(39)}) {
        std::vector<std::string> texts;
        for (size_t i = 0; i < 40; ++i) texts.push_back(i == bad ? big : base[i % base.size()]);
        std::vector<mf_post> posts(texts.size());
        std::vector<mf_verdict *> vs(texts.size());
        const std::string marker = "fuck";
        for (size_t i = 0; i < texts.size(); ++i) {
            posts[i] = post_of(texts[i]);
            REQUIRE(mf_verdict_create(&vs[i]) == MF_OK);
            REQUIRE(mf_scan_text(s, vs[i], marker.data(), marker.size(), MF_ROLE_MEMBER) == MF_OK);
        }
        const std::string untouched = mf_verdict_json(vs[0], nullptr);
        size_t failed = 0;
        INFO("the post of 300 bytes is at " << bad);
        CHECK(mf_scan_batch(s, vs.data(), posts.data(), posts.size(), &failed) == MF_E_TOO_LARGE);
        CHECK(failed == bad);
        CHECK(std::string(mf_last_error()).find("max_post_bytes") != std::string::npos);
        CHECK(mf_verdict_action(vs[bad]) == -1);
        mf_verdict *one = nullptr;
        REQUIRE(mf_verdict_create(&one) == MF_OK);
        for (size_t i = 0; i < bad; ++i) {
            REQUIRE(mf_scan(s, one, &posts[i]) == MF_OK);
            CHECK(std::string(mf_verdict_json(vs[i], nullptr)) == mf_verdict_json(one, nullptr));
        }
        for (size_t i = bad + 1; i < texts.size(); ++i) CHECK(mf_verdict_json(vs[i], nullptr) == untouched);
        mf_verdict_destroy(one);
        for (auto *v : vs) mf_verdict_destroy(v);
    }
    mf_scanner_destroy(s);
    mf_engine_destroy(e);
}

TEST_CASE("Verdict summaries read many verdicts in one call, as the single accessors do", "[capi]") {
    Fixture f;
    const std::string texts[3] = {"hello", "fuck this, fuck that", "fuck\xFF"};
    mf_verdict *vs[4] = {};
    for (int i = 0; i < 3; ++i) {
        REQUIRE(mf_verdict_create(&vs[i]) == MF_OK);
        REQUIRE(mf_scan_text(f.scanner, vs[i], texts[i].data(), texts[i].size(), MF_ROLE_MEMBER) == MF_OK);
    }
    REQUIRE(mf_verdict_create(&vs[3]) == MF_OK);  // never scanned into
    mf_verdict_summary out[4] = {};
    out[0].version = MF_VERDICT_SUMMARY_VERSION;
    REQUIRE(mf_verdict_summaries(vs, 4, out) == MF_OK);
    for (int i = 0; i < 4; ++i) {
        CHECK(out[i].version == MF_VERDICT_SUMMARY_VERSION);
        CHECK(out[i].action == mf_verdict_action(vs[i]));
        CHECK(out[i].flags == mf_verdict_flags(vs[i]));
        CHECK(out[i].evasion == mf_verdict_evasion(vs[i]));
        CHECK(out[i].hit_count == mf_verdict_hit_count(vs[i]));
        CHECK(out[i].category_count == mf_verdict_category_count(vs[i]));
        CHECK(out[i].invalid_utf8_count == mf_verdict_invalid_utf8_count(vs[i]));
    }
    CHECK(out[0].action == MF_ACTION_ALLOW);
    CHECK(out[0].hit_count == 0);
    CHECK(out[1].action > MF_ACTION_ALLOW);
    CHECK(out[1].hit_count >= 2);
    CHECK(out[2].invalid_utf8_count == 1);
    CHECK(out[3].action == -1);
    mf_verdict_summary bad[1] = {};
    bad[0].version = 7;
    CHECK(mf_verdict_summaries(vs, 1, bad) == MF_E_VERSION);
    CHECK(mf_verdict_summaries(nullptr, 1, out) == MF_E_INVALID_ARG);
    CHECK(mf_verdict_summaries(nullptr, 0, nullptr) == MF_OK);
    for (auto *v : vs) mf_verdict_destroy(v);
}

TEST_CASE("Batch stops at the first bad post and says which", "[capi]") {
    Fixture f;
    mf_post posts[3] = {MF_POST_INIT, MF_POST_INIT, MF_POST_INIT};
    posts[0].text = "ok";
    posts[0].len = 2;
    posts[1].author_role = 7;  // nonsense role
    mf_verdict *v[3];
    for (auto &x : v) REQUIRE(mf_verdict_create(&x) == MF_OK);
    size_t failed = 0;
    CHECK(mf_scan_batch(f.scanner, v, posts, 3, &failed) == MF_E_INVALID_ARG);
    CHECK(failed == 1);
    CHECK(mf_verdict_action(v[0]) == MF_ACTION_ALLOW);
    for (auto &x : v) mf_verdict_destroy(x);
}

TEST_CASE("NULL and nonsense for every entry point", "[capi][args]") {
    Fixture f;
    mf_engine *e = reinterpret_cast<mf_engine *>(0x1);
    CHECK(mf_engine_create(nullptr, nullptr) == MF_E_INVALID_ARG);
    mf_engine_options bad = MF_ENGINE_OPTIONS_INIT;
    bad.version = 999;
    CHECK(mf_engine_create(&e, &bad) == MF_E_VERSION);
    CHECK(e == nullptr);
    CHECK(std::string(mf_last_error()).find("999") != std::string::npos);
    mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
    o.rules_text_len = 5;  // text NULL with a length
    CHECK(mf_engine_create(&e, &o) == MF_E_INVALID_ARG);
    o = MF_ENGINE_OPTIONS_INIT;
    o.max_post_bytes = uint64_t(1) << 40;
    CHECK(mf_engine_create(&e, &o) == MF_E_INVALID_ARG);
    // thresholds out of order, alone or with the packs' values they leave (defaults 2, 4, 8)
    o = MF_ENGINE_OPTIONS_INIT;
    o.flag_threshold = 5;
    o.hold_threshold = 1;
    o.reject_threshold = 0.5;
    CHECK(mf_engine_create(&e, &o) == MF_E_INVALID_ARG);
    CHECK(std::string(mf_last_error()).find("flag <= hold <= reject") != std::string::npos);
    o = MF_ENGINE_OPTIONS_INIT;
    o.flag_threshold = 5;  // above the packs' hold of 4
    CHECK(mf_engine_create(&e, &o) == MF_E_INVALID_ARG);
    o = MF_ENGINE_OPTIONS_INIT;
    o.flag_threshold = 5;
    o.hold_threshold = 5;
    REQUIRE(mf_engine_create(&e, &o) == MF_OK);  // flag = hold <= reject is in order
    mf_engine_destroy(e);
    e = nullptr;
    o = MF_ENGINE_OPTIONS_INIT;
    o.rules_path = "/nonexistent/rules";
    CHECK(mf_engine_create(&e, &o) == MF_E_IO);
    CHECK(std::string(mf_last_error()).find("/nonexistent/rules") != std::string::npos);
    o = MF_ENGINE_OPTIONS_INIT;
    o.rules_text = "[[rule]]\nid = \"x\"\n";
    o.rules_text_len = std::strlen(o.rules_text);
    CHECK(mf_engine_create(&e, &o) == MF_E_RULES);
    CHECK(std::string(mf_last_error()).find("<memory>.toml:1:") == 0);

    CHECK(mf_engine_options_init(nullptr, MF_ENGINE_OPTIONS_VERSION) == MF_E_INVALID_ARG);
    CHECK(mf_engine_options_init(&o, 0) == MF_E_VERSION);
    REQUIRE(mf_engine_options_init(&o, MF_ENGINE_OPTIONS_VERSION) == MF_OK);
    CHECK(o.flag_threshold < 0);
    mf_post p;
    CHECK(mf_post_init(nullptr, MF_POST_VERSION) == MF_E_INVALID_ARG);
    CHECK(mf_post_init(&p, 42) == MF_E_VERSION);
    REQUIRE(mf_post_init(&p, MF_POST_VERSION) == MF_OK);
    CHECK(p.author_role == MF_ROLE_MEMBER);

    mf_engine_destroy(nullptr);
    mf_scanner_destroy(nullptr);
    mf_verdict_destroy(nullptr);
    mf_free(nullptr);
    CHECK(mf_engine_rule_count(nullptr) == 0);
    CHECK(mf_engine_rule(nullptr, 0, nullptr, nullptr, nullptr, nullptr) == MF_E_INVALID_ARG);
    CHECK(mf_engine_rule(f.engine, 999, nullptr, nullptr, nullptr, nullptr) == MF_E_NOT_FOUND);
    const char *id = nullptr;
    CHECK(mf_engine_rule(f.engine, 0, &id, nullptr, nullptr, nullptr) == MF_OK);
    CHECK(std::string(id) == "obscene.f");

    mf_scanner *s = reinterpret_cast<mf_scanner *>(0x1);
    CHECK(mf_scanner_create(nullptr, f.engine) == MF_E_INVALID_ARG);
    CHECK(mf_scanner_create(&s, nullptr) == MF_E_INVALID_ARG);
    CHECK(s == nullptr);
    CHECK(mf_verdict_create(nullptr) == MF_E_INVALID_ARG);

    CHECK(mf_scan_text(nullptr, f.verdict, "x", 1, 0) == MF_E_INVALID_ARG);
    CHECK(mf_scan_text(f.scanner, nullptr, "x", 1, 0) == MF_E_INVALID_ARG);
    CHECK(mf_scan_text(f.scanner, f.verdict, nullptr, 5, 0) == MF_E_INVALID_ARG);
    CHECK(mf_scan_text(f.scanner, f.verdict, nullptr, 0, 0) == MF_OK);  // empty post
    CHECK(mf_scan_text(f.scanner, f.verdict, "x", 1, -3) == MF_E_INVALID_ARG);
    CHECK(mf_scan(f.scanner, f.verdict, nullptr) == MF_E_INVALID_ARG);
    p = MF_POST_INIT;
    p.version = 0;
    CHECK(mf_scan(f.scanner, f.verdict, &p) == MF_E_VERSION);
    p = MF_POST_INIT;
    p.flags = 0x80;
    CHECK(mf_scan(f.scanner, f.verdict, &p) == MF_E_INVALID_ARG);
    CHECK(mf_verdict_action(f.verdict) == -1);  // a failed scan leaves no stale verdict
    CHECK(mf_scan_batch(nullptr, nullptr, nullptr, 0, nullptr) == MF_E_INVALID_ARG);
    CHECK(mf_scan_batch(f.scanner, nullptr, nullptr, 0, nullptr) == MF_OK);
    CHECK(mf_scan_batch(f.scanner, nullptr, &p, 1, nullptr) == MF_E_INVALID_ARG);
    mf_verdict *null_v = nullptr;
    p = MF_POST_INIT;
    size_t failed = 9;
    CHECK(mf_scan_batch(f.scanner, &null_v, &p, 1, &failed) == MF_E_INVALID_ARG);
    CHECK(failed == 0);

    CHECK(mf_verdict_action(nullptr) == -1);
    CHECK(mf_verdict_flags(nullptr) == 0);
    CHECK(mf_verdict_evasion(nullptr) == 0);
    CHECK(mf_verdict_invalid_utf8_count(nullptr) == 0);
    CHECK(mf_verdict_hit_count(nullptr) == 0);
    CHECK(mf_verdict_category_count(nullptr) == 0);
    CHECK(mf_verdict_category(nullptr, 0, nullptr, nullptr, nullptr, nullptr) == MF_E_INVALID_ARG);
    mf_hit h = MF_HIT_INIT;
    CHECK(mf_verdict_hit(nullptr, 0, &h) == MF_E_INVALID_ARG);
    CHECK(mf_verdict_hit(f.verdict, 0, nullptr) == MF_E_INVALID_ARG);
    h.version = 77;
    CHECK(mf_verdict_hit(f.verdict, 0, &h) == MF_E_VERSION);
    size_t len = 5;
    CHECK(mf_verdict_censored(nullptr, &len) == nullptr);
    CHECK(len == 0);
    CHECK(mf_verdict_json(nullptr, &len) == nullptr);
    mf_verdict *fresh;
    REQUIRE(mf_verdict_create(&fresh) == MF_OK);
    CHECK(mf_verdict_action(fresh) == -1);
    CHECK(mf_verdict_json(fresh, &len) == nullptr);
    mf_verdict_destroy(fresh);

    char *buf = nullptr;
    CHECK(mf_engine_serialize(nullptr, &len, f.engine) == MF_E_INVALID_ARG);
    CHECK(mf_engine_serialize(&buf, nullptr, f.engine) == MF_E_INVALID_ARG);
    CHECK(mf_engine_serialize(&buf, &len, nullptr) == MF_E_INVALID_ARG);
    CHECK(mf_engine_deserialize(nullptr, "x", 1, nullptr) == MF_E_INVALID_ARG);
    CHECK(mf_engine_deserialize(&e, nullptr, 3, nullptr) == MF_E_INVALID_ARG);
    CHECK(mf_engine_deserialize(&e, "garbage", 7, nullptr) == MF_E_BAD_DATABASE);
    CHECK(e == nullptr);
    CHECK(mf_engine_deserialize(&e, "", 0, nullptr) == MF_E_BAD_DATABASE);
    size_t nerr = 7;
    CHECK(mf_rules_check(&nerr, "/nonexistent", nullptr, nullptr) == MF_E_IO);
}

TEST_CASE("Serialize and deserialize through the C API, a corrupted database is refused", "[capi]") {
    Fixture f;
    char *buf = nullptr;
    size_t len = 0;
    REQUIRE(mf_engine_serialize(&buf, &len, f.engine) == MF_OK);
    mf_engine *e2 = nullptr;
    REQUIRE(mf_engine_deserialize(&e2, buf, len, nullptr) == MF_OK);
    CHECK(mf_engine_rule_count(e2) == mf_engine_rule_count(f.engine));
    buf[len - 10] ^= 1;
    mf_engine *e3 = nullptr;
    CHECK(mf_engine_deserialize(&e3, buf, len, nullptr) == MF_E_BAD_DATABASE);
    CHECK(std::string(mf_last_error()).find("checksum") != std::string::npos);
    buf[len - 10] ^= 1;
    const char format = buf[8];
    buf[8] = 99;  // format version
    CHECK(mf_engine_deserialize(&e3, buf, len, nullptr) == MF_E_DB_MISMATCH);
    buf[8] = format;
    // a damaged header string is quoted, not echoed: no raw control or non-ASCII bytes in the message
    REQUIRE(std::string(buf + 24, 5) == "5.4.0");  // (magic, format, version, the length of the Hyperscan version)
    const char junk[5] = {'\xFF', '\xFE', '\x01', '\x1B', '['};
    std::memcpy(buf + 24, junk, 5);
    CHECK(mf_engine_deserialize(&e3, buf, len, nullptr) == MF_E_DB_MISMATCH);
    const std::string msg = mf_last_error();
    CHECK(msg.find("\\xFF\\xFE\\x01\\x1B[") != std::string::npos);
    CHECK(std::none_of(msg.begin(), msg.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F; }));
    mf_free(buf);
    mf_engine_destroy(e2);
}

TEST_CASE("mf_engine_hash names the database: same packs, same hash, other packs, another", "[capi]") {
    Fixture f;
    const uint64_t h = mf_engine_hash(f.engine);
    CHECK(h != 0);
    CHECK(mf_engine_hash(f.engine) == h);  // cached
    CHECK(mf_engine_hash(nullptr) == 0);
    char *buf = nullptr;
    size_t len = 0;
    REQUIRE(mf_engine_serialize(&buf, &len, f.engine) == MF_OK);
    mf_engine *loaded = nullptr;
    REQUIRE(mf_engine_deserialize(&loaded, buf, len, nullptr) == MF_OK);
    mf_free(buf);
    CHECK(mf_engine_hash(loaded) == h);  // compiled or loaded: the same database
    mf_engine_destroy(loaded);
    Fixture again;
    CHECK(mf_engine_hash(again.engine) == h);  // compiled twice
    std::string other = std::string(kPack) + "\n[[rule]]\nid = \"x\"\ncategory = \"abuse.x\"\nseverity = \"low\"\nword = \"zebra\"\n";
    mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
    o.rules_text = other.c_str();
    o.rules_text_len = other.size();
    mf_engine *e2 = nullptr;
    REQUIRE(mf_engine_create(&e2, &o) == MF_OK);
    CHECK(mf_engine_hash(e2) != h);
    mf_engine_destroy(e2);
}

TEST_CASE("mf_engine_create names the first mistake in file and line order, as check-rules lists them", "[capi]") {
    // (a commitment's mistake is found after the rules' duplicate id, which stands earlier in the file)
    const std::string pack =
        "[pack]\nname = \"bad\"\n\n[[rule]]\nid = \"x.one\"\ncategory = \"abuse.x\"\nseverity = \"low\"\nword = \"gronk\"\n\n"
        "[[rule]]\nid = \"x.one\"\ncategory = \"abuse.x\"\nseverity = \"low\"\nword = \"blah\"\n\n"
        "[[commitment]]\nid = \"x.promise\"\ncategory = \"promise.money\"\napplies_to = \"staff\"\ncommit = [\"will\"]\n"
        "what = [\"refund\"]\n";
    mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
    o.rules_text = pack.c_str();
    o.rules_text_len = pack.size();
    mf_engine *e = nullptr;
    REQUIRE(mf_engine_create(&e, &o) == MF_E_RULES);
    const std::string msg = mf_last_error();
    INFO(msg);
    CHECK(msg.find(":10: duplicate rule id 'x.one'") != std::string::npos);
    CHECK(msg.find("(and 1 more") != std::string::npos);
}

TEST_CASE("mf_engine_hash: the same packs read from two places agree, other thresholds differ", "[capi]") {
    // Two workers with the packs checked out in different directories, or one on a relative and one
    // on an absolute path, must name the same database version.
    const auto base = std::filesystem::temp_directory_path() / ("mf_hash_" + std::to_string(::getpid()));
    for (const char *d : {"one/packs", "two/deeper/packs"}) {
        std::filesystem::create_directories(base / d);
        std::ofstream(base / d / "local.toml") << kPack;
    }
    auto hash_of = [](const std::string &path, double flag) {
        mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
        o.rules_path = path.c_str();
        if (flag > 0) {
            o.flag_threshold = flag;
            o.hold_threshold = 50;
            o.reject_threshold = 100;
        }
        mf_engine *e = nullptr;
        REQUIRE(mf_engine_create(&e, &o) == MF_OK);
        const uint64_t h = mf_engine_hash(e);
        mf_engine_destroy(e);
        return h;
    };
    const uint64_t a = hash_of((base / "one/packs").string(), 0);
    CHECK(a != 0);
    CHECK(hash_of((base / "two/deeper/packs").string(), 0) == a);
    CHECK(hash_of((base / "two/deeper/packs/").string(), 0) == a);
    CHECK(hash_of((base / "one/packs/local.toml").string(), 0) == a);  // the one file of the directory
    CHECK(hash_of((base / "one/packs").string(), 40) != a);            // thresholds change verdicts
    std::filesystem::remove_all(base);
}

TEST_CASE("mf_rules_check reports every mistake with file and line", "[capi]") {
    struct Seen {
        std::vector<std::string> lines;
    } seen;
    auto cb = [](const char *file, uint32_t line, const char *msg, void *payload) {
        static_cast<Seen *>(payload)->lines.push_back(std::string(file) + ":" + std::to_string(line) + ": " + msg);
    };
    size_t n = 0;
    CHECK(mf_rules_check(&n, nullptr, cb, &seen) == MF_OK);  // the default packs have no mistake
    CHECK(n == 0);
    // ... only warnings, uncounted: the regexes that still run on every post
    for (const auto &l : seen.lines) CHECK(l.find(": warning: rule '") != std::string::npos);

    // Mistakes come in the order of their files and lines; a regex that can match nothing at all is
    // told in words a pack author can act on (not as Hyperscan's flag to set)
    const auto dir = std::filesystem::temp_directory_path() / ("mf_check_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "b.toml") << "[pack]\ncategory = \"spam.x\"\nseverity = \"low\"\n\n[[rule]]\nid = \"b1\"\nregex = \"x*\"\n\n[[rule]]\nid = \"b2\"\nregex = \"a?\"\n";
    std::ofstream(dir / "a.toml") << "[pack]\ncategory = \"spam.y\"\nseverity = \"low\"\n\n[[rule]]\nid = \"a1\"\nregex = \"(\"\n";
    seen.lines.clear();
    CHECK(mf_rules_check(&n, dir.string().c_str(), cb, &seen) == MF_E_RULES);
    CHECK(n == 3);
    REQUIRE(seen.lines.size() == 3);
    CHECK(seen.lines[0].find("a.toml:7:") != std::string::npos);
    CHECK(seen.lines[1].find("b.toml:7:") != std::string::npos);
    CHECK(seen.lines[2].find("b.toml:11:") != std::string::npos);
    CHECK(seen.lines[1].find("can match the empty string") != std::string::npos);
    CHECK(seen.lines[1].find("ALLOWEMPTY") == std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("Several threads share one engine, one scanner each", "[capi][threads]") {
    Fixture f;
    std::atomic<int> wrong{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
        ts.emplace_back([&, t] {
            mf_scanner *s;
            mf_verdict *v;
            if (mf_scanner_create(&s, f.engine) != MF_OK || mf_verdict_create(&v) != MF_OK) {
                ++wrong;
                return;
            }
            for (int i = 0; i < 2000; ++i) {
                std::string post = (i + t) % 2 ? "I will kill you " + std::to_string(i) : "hello " + std::to_string(i);
                int32_t expect = (i + t) % 2 ? MF_ACTION_REJECT : MF_ACTION_ALLOW;
                if (mf_scan_text(s, v, post.data(), post.size(), MF_ROLE_MEMBER) != MF_OK ||
                    mf_verdict_action(v) != expect)
                    ++wrong;
            }
            mf_verdict_destroy(v);
            mf_scanner_destroy(s);
        });
    }
    for (auto &t : ts) t.join();
    CHECK(wrong == 0);
}

TEST_CASE("A scanner used by two threads at once refuses the second with MF_E_BUSY", "[capi][threads]") {
    Fixture f;
    std::string big(4 << 20, 'a');
    std::atomic<int> busy{0}, ok{0}, other{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; ++t)
        ts.emplace_back([&] {
            mf_verdict *v;
            mf_verdict_create(&v);
            for (int i = 0; i < 20; ++i) {
                mf_status st = mf_scan_text(f.scanner, v, big.data(), big.size(), MF_ROLE_MEMBER);
                (st == MF_OK ? ok : st == MF_E_BUSY ? busy : other)++;
            }
            mf_verdict_destroy(v);
        });
    for (auto &t : ts) t.join();
    CHECK(other == 0);
    CHECK(ok + busy == 40);
    CHECK(ok > 0);
}

TEST_CASE("A hit in quoted text is marked (mf_hit version 2) and counts for part of its score, a version 1 caller gets what it got", "[capi]") {
    Fixture f;
    CHECK(f.scan("well fuck that") == MF_ACTION_FLAG);
    // the same words quoted, with a reply of the post's own: listed, marked, half the score (ALLOW)
    CHECK(f.scan("> well fuck that\nI don't agree with this.") == MF_ACTION_ALLOW);
    REQUIRE(mf_verdict_hit_count(f.verdict) == 1);
    mf_hit h = MF_HIT_INIT;
    REQUIRE(mf_verdict_hit(f.verdict, 0, &h) == MF_OK);
    CHECK(std::string(h.rule) == "obscene.f");
    CHECK(h.start == 7);
    CHECK(h.flags == MF_HIT_QUOTED);
    double score = 0;
    REQUIRE(mf_verdict_category(f.verdict, 0, nullptr, &score, nullptr, nullptr) == MF_OK);
    CHECK(score == 1.0);
    CHECK(std::string(mf_verdict_json(f.verdict, nullptr)).find("\"quoted\":true") != std::string::npos);
    // a caller built against version 1: the fields it knows, nothing written past them
    mf_hit old = MF_HIT_INIT;
    old.version = 1;
    old.flags = 0xDEADBEEFu;  // (where version 2 keeps its flags: the tail of a version 1 struct)
    REQUIRE(mf_verdict_hit(f.verdict, 0, &old) == MF_OK);
    CHECK(std::string(old.rule) == "obscene.f");
    CHECK(old.flags == 0xDEADBEEFu);
    mf_hit bad = MF_HIT_INIT;
    bad.version = 3;
    CHECK(mf_verdict_hit(f.verdict, 0, &bad) == MF_E_VERSION);
    // outside a quote the flag is clear
    CHECK(f.scan("well fuck that") == MF_ACTION_FLAG);
    REQUIRE(mf_verdict_hit(f.verdict, 0, &h) == MF_OK);
    CHECK(h.flags == 0u);
    CHECK(std::string(mf_verdict_json(f.verdict, nullptr)).find("quoted") == std::string::npos);
}
