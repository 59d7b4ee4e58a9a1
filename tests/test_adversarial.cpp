// Adversarial inputs: hostile and pathological posts never crash, hang or leak, and the engine's
// limits (max_post_bytes, max_hits) are reported instead of failing or running away.
// Uses the public header only (plus ICU to enumerate confusable characters).
// Shared test data (blns, UTF-8 stress test) is read from MF_SHARED_DATA when it is present.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <modfilter/modfilter.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr size_t kMiB = size_t(1) << 20;

struct Handles {
    mf_engine *engine = nullptr;
    mf_scanner *scanner = nullptr;
    mf_verdict *verdict = nullptr;
    explicit Handles(const mf_engine_options *o = nullptr, bool from_db = true) {
        mf_status st;
        if (from_db) st = mf_engine_deserialize(&engine, db().data(), db().size(), o);
        else st = mf_engine_create(&engine, o);
        INFO(mf_last_error());
        REQUIRE(st == MF_OK);
        REQUIRE(mf_scanner_create(&scanner, engine) == MF_OK);
        REQUIRE(mf_verdict_create(&verdict) == MF_OK);
    }
    ~Handles() {
        mf_verdict_destroy(verdict);
        mf_scanner_destroy(scanner);
        mf_engine_destroy(engine);
    }
    // The default packs compiled once; engines with other limits load it instead of recompiling.
    static const std::string &db() {
        static std::string s = [] {
            mf_engine *e = nullptr;
            char *buf = nullptr;
            size_t len = 0;
            if (mf_engine_create(&e, nullptr) != MF_OK || mf_engine_serialize(&buf, &len, e) != MF_OK) return std::string();
            std::string r(buf, len);
            mf_free(buf);
            mf_engine_destroy(e);
            return r;
        }();
        return s;
    }
};

bool valid_utf8(std::string_view s) {
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    for (size_t i = 0, n = s.size(); i < n;) {
        unsigned char b = p[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b < 0x80) {
            ++i;
            continue;
        }
        if (b >= 0xC2 && b <= 0xDF) need = 1;
        else if (b >= 0xE0 && b <= 0xEF) need = 2, lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
        else if (b >= 0xF0 && b <= 0xF4) need = 3, lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
        else return false;
        if (n - i <= need || p[i + 1] < lo || p[i + 1] > hi) return false;
        for (size_t k = 2; k <= need; ++k)
            if ((p[i + k] & 0xC0) != 0x80) return false;
        i += need + 1;
    }
    return true;
}

std::map<std::string, double> scores(const mf_verdict *v) {
    std::map<std::string, double> m;
    for (size_t i = 0; i < mf_verdict_category_count(v); ++i) {
        const char *name;
        double score;
        REQUIRE(mf_verdict_category(v, i, &name, &score, nullptr, nullptr) == MF_OK);
        m[name] = score;
    }
    return m;
}

// Scans `text` (as member, then as staff with censoring) and checks what a caller relies on:
// MF_OK, spans inside the post and in order, the action is the highest category action, the
// invalid-UTF-8 flag matches the input, the censored copy and the JSON are valid UTF-8.
void scan_and_check(Handles &h, std::string_view text, uint32_t max_hits = 1024) {
    for (int pass = 0; pass < 2; ++pass) {
        mf_post post = MF_POST_INIT;
        post.text = text.data();
        post.len = text.size();
        post.author_role = pass ? MF_ROLE_STAFF : MF_ROLE_MEMBER;
        post.flags = pass ? MF_SCAN_CENSOR : 0;
        mf_status st = mf_scan(h.scanner, h.verdict, &post);
        INFO(mf_last_error());
        REQUIRE(st == MF_OK);
        size_t nh = mf_verdict_hit_count(h.verdict);
        REQUIRE(nh <= max_hits);
        size_t prev = 0;
        for (size_t i = 0; i < nh; ++i) {
            mf_hit hit = MF_HIT_INIT;
            REQUIRE(mf_verdict_hit(h.verdict, i, &hit) == MF_OK);
            REQUIRE(hit.start < hit.end);
            REQUIRE(hit.end <= text.size());
            REQUIRE(hit.start >= prev);
            prev = hit.start;
        }
        int32_t top = MF_ACTION_ALLOW;
        for (size_t i = 0; i < mf_verdict_category_count(h.verdict); ++i) {
            int32_t a;
            REQUIRE(mf_verdict_category(h.verdict, i, nullptr, nullptr, &a, nullptr) == MF_OK);
            top = std::max(top, a);
        }
        REQUIRE(mf_verdict_action(h.verdict) == top);
        bool valid = valid_utf8(text);
        REQUIRE(((mf_verdict_flags(h.verdict) & MF_VERDICT_INVALID_UTF8) == 0) == valid);
        REQUIRE((mf_verdict_invalid_utf8_count(h.verdict) == 0) == valid);
        size_t len = 0;
        const char *j = mf_verdict_json(h.verdict, &len);
        REQUIRE(j != nullptr);
        REQUIRE(valid_utf8(std::string_view(j, len)));
        if (pass) {
            const char *c = mf_verdict_censored(h.verdict, &len);
            REQUIRE(c != nullptr);
            REQUIRE(len <= text.size());
            if (valid) REQUIRE(valid_utf8(std::string_view(c, len)));
        }
    }
}

std::string repeat_to(const std::string &unit, size_t bytes) {
    std::string s;
    s.reserve(bytes + unit.size());
    while (s.size() + unit.size() <= bytes) s += unit;
    return s;
}

std::filesystem::path shared_data() { return std::filesystem::path(MF_SHARED_DATA); }

std::vector<std::string> lines_of(const std::filesystem::path &p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<std::string> v;
    for (std::string line; std::getline(in, line);) v.push_back(line);
    return v;
}

}  // namespace

TEST_CASE("every string of the Big List of Naughty Strings scans cleanly") {
    auto path = shared_data() / "blns" / "blns.txt";
    if (!std::filesystem::exists(path)) {
        WARN("skipped: " << path << " is absent");
        return;
    }
    Handles h;
    size_t n = 0;
    for (const auto &line : lines_of(path)) {
        if (line.empty() || line[0] == '#') continue;
        INFO("blns line: " << line);
        scan_and_check(h, line);
        ++n;
    }
    REQUIRE(n > 500);  // the list has about 500 strings: the file was really read
}

TEST_CASE("every line of the UTF-8 decoder stress test scans cleanly") {
    auto path = shared_data() / "utf8-stress" / "UTF-8-test.txt";
    if (!std::filesystem::exists(path)) {
        WARN("skipped: " << path << " is absent");
        return;
    }
    Handles h;
    size_t n = 0, invalid = 0, expected_invalid = 0;
    for (const auto &line : lines_of(path)) {
        INFO("line " << n + 1);
        scan_and_check(h, line);
        invalid += (mf_verdict_flags(h.verdict) & MF_VERDICT_INVALID_UTF8) != 0;
        expected_invalid += !valid_utf8(line);
        ++n;
    }
    REQUIRE(n > 200);
    // Some copies of the file carry the malformed bytes, others U+FFFD in their place: either way
    // the engine must flag exactly the lines that are not valid UTF-8.
    REQUIRE(invalid == expected_invalid);
}

TEST_CASE("posts of 0 bytes, of every single byte, and of 1 MiB") {
    Handles h;
    scan_and_check(h, std::string_view());
    REQUIRE(mf_verdict_action(h.verdict) == MF_ACTION_ALLOW);
    REQUIRE(mf_scan_text(h.scanner, h.verdict, nullptr, 0, MF_ROLE_MEMBER) == MF_OK);
    for (int b = 0; b < 256; ++b) {
        char c = static_cast<char>(b);
        INFO("byte " << b);
        scan_and_check(h, std::string_view(&c, 1));
    }
    std::string mib = repeat_to("Thanks for the update, the new release works well on my machine. ", kMiB);
    scan_and_check(h, mib);
    REQUIRE(mf_verdict_action(h.verdict) == MF_ACTION_ALLOW);
}

TEST_CASE("a 64 MiB post is refused by default with a clear message, and scanned when allowed") {
    std::string big = repeat_to("This is a long but ordinary post about gardening and tomatoes. ", 64 * kMiB);
    big.replace(big.size() / 2, 4, "fuck");  // one hit in the middle
    REQUIRE(big.size() > 16 * kMiB);
    {
        Handles h;
        mf_status st = mf_scan_text(h.scanner, h.verdict, big.data(), big.size(), MF_ROLE_MEMBER);
        REQUIRE(st == MF_E_TOO_LARGE);
        std::string msg = mf_last_error();
        CHECK(msg.find(std::to_string(big.size())) != std::string::npos);
        CHECK(msg.find("max_post_bytes") != std::string::npos);
        CHECK(msg.find(std::to_string(16 * kMiB)) != std::string::npos);
        REQUIRE(mf_verdict_action(h.verdict) == -1);  // nothing half-written
    }
    mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
    o.max_post_bytes = 128 * kMiB;
    Handles h(&o);
    REQUIRE(mf_scan_text(h.scanner, h.verdict, big.data(), big.size(), MF_ROLE_MEMBER) == MF_OK);
    REQUIRE(mf_verdict_hit_count(h.verdict) >= 1);
    mf_hit hit = MF_HIT_INIT;
    REQUIRE(mf_verdict_hit(h.verdict, 0, &hit) == MF_OK);
    REQUIRE(hit.start == big.size() / 2);
    REQUIRE(hit.end > hit.start);
}

TEST_CASE("a megabyte of one repeated character, of invisibles, of marks, of one emoji") {
    Handles h;
    SECTION("one ASCII letter") { scan_and_check(h, std::string(kMiB, 'a')); }
    SECTION("one non-ASCII letter") { scan_and_check(h, repeat_to("\xC3\xA9", kMiB)); }
    SECTION("zero-width joiners") { scan_and_check(h, repeat_to("\xE2\x80\x8D", kMiB)); }
    SECTION("zero-width joiners between the letters of a word") {
        scan_and_check(h, repeat_to("f\xE2\x80\x8Du\xE2\x80\x8D" "c\xE2\x80\x8Dk ", kMiB));
        REQUIRE(mf_verdict_hit_count(h.verdict) > 0);
    }
    SECTION("combining marks alone") { scan_and_check(h, repeat_to("\xCC\x81", kMiB)); }
    SECTION("combining marks stacked on one letter") {
        std::string s = "a" + repeat_to("\xCC\x81\xCC\x82\xCC\xA3", kMiB);
        scan_and_check(h, s);
    }
    SECTION("one emoji") { scan_and_check(h, repeat_to("\xF0\x9F\x91\x8D", kMiB)); }
    SECTION("one emoji ZWJ sequence") {
        scan_and_check(h, repeat_to("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7", kMiB));
    }
    SECTION("one character that expands under NFKC (U+FDFA)") { scan_and_check(h, repeat_to("\xEF\xB7\xBA", kMiB)); }
    SECTION("invalid bytes") { scan_and_check(h, std::string(kMiB, '\xFF')); }
}

TEST_CASE("a megabyte of every confusable character") {
    // Every code point whose UTS #39 skeleton differs from itself, from ICU's own data.
    UErrorCode st = U_ZERO_ERROR;
    USpoofChecker *sc = uspoof_open(&st);
    REQUIRE(U_SUCCESS(st));
    std::string unit;
    size_t count = 0;
    for (UChar32 c = 0x80; c <= 0x10FFFF; ++c) {
        if (!u_isdefined(c) || (c >= 0xD800 && c <= 0xDFFF)) continue;
        icu::UnicodeString s(c);
        UChar buf[32];
        st = U_ZERO_ERROR;
        int32_t n = uspoof_getSkeleton(sc, 0, s.getBuffer(), s.length(), buf, 32, &st);
        if (U_FAILURE(st) || icu::UnicodeString(buf, n) == s) continue;
        s.toUTF8String(unit);
        ++count;
    }
    uspoof_close(sc);
    REQUIRE(count > 5000);
    Handles h;
    scan_and_check(h, unit);
    std::string mib = repeat_to(unit, kMiB);
    scan_and_check(h, mib);
}

TEST_CASE("a megabyte where every word matches: hits stop at max_hits, scores stay complete") {
    Handles h;
    // Two rules repeated, then a third rule once at the very end, past every limit.
    std::string post = repeat_to("fuck shit ", kMiB) + "mofo";
    REQUIRE(mf_scan_text(h.scanner, h.verdict, "fuck shit mofo", 14, MF_ROLE_MEMBER) == MF_OK);
    auto expected = scores(h.verdict);
    REQUIRE(mf_verdict_hit_count(h.verdict) >= 3);  // three rules, and the words the abuse model weighed
    scan_and_check(h, post);
    REQUIRE(mf_scan_text(h.scanner, h.verdict, post.data(), post.size(), MF_ROLE_MEMBER) == MF_OK);
    REQUIRE((mf_verdict_flags(h.verdict) & MF_VERDICT_HITS_TRUNCATED) != 0);
    REQUIRE(mf_verdict_hit_count(h.verdict) == 1024);
    CHECK(scores(h.verdict) == expected);

    mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
    o.max_hits = 3;
    Handles small(&o);
    REQUIRE(mf_scan_text(small.scanner, small.verdict, post.data(), post.size(), MF_ROLE_MEMBER) == MF_OK);
    REQUIRE(mf_verdict_hit_count(small.verdict) == 3);
    REQUIRE((mf_verdict_flags(small.verdict) & MF_VERDICT_HITS_TRUNCATED) != 0);
    CHECK(scores(small.verdict) == expected);
    // A short post under the limit is not marked truncated.
    REQUIRE(mf_scan_text(small.scanner, small.verdict, "shit", 4, MF_ROLE_MEMBER) == MF_OK);
    REQUIRE(mf_verdict_hit_count(small.verdict) >= 1);
    REQUIRE(mf_verdict_hit_count(small.verdict) <= 3);
    REQUIRE((mf_verdict_flags(small.verdict) & MF_VERDICT_HITS_TRUNCATED) == 0);
}

TEST_CASE("create, scan and destroy cycles release everything (LeakSanitizer checks under MF_SANITIZE)") {
    const std::string hostile = "you idiot \xFF\xFE \xE2\x80\x8D f\xCC\x81uck \xEF\xBD\x86\xEF\xBD\x95 http://x.example";
    for (int i = 0; i < 20; ++i) {
        Handles h;
        scan_and_check(h, hostile);
        REQUIRE(mf_verdict_json(h.verdict, nullptr) != nullptr);
        char *buf = nullptr;
        size_t len = 0;
        REQUIRE(mf_engine_serialize(&buf, &len, h.engine) == MF_OK);
        mf_free(buf);
        mf_verdict *vs[2] = {h.verdict, h.verdict};
        mf_post posts[2] = {MF_POST_INIT, MF_POST_INIT};
        posts[0].text = posts[1].text = hostile.data();
        posts[0].len = posts[1].len = hostile.size();
        REQUIRE(mf_scan_batch(h.scanner, vs, posts, 2, nullptr) == MF_OK);
        // Failures free what they built, too.
        mf_engine_options bad = MF_ENGINE_OPTIONS_INIT;
        bad.rules_text = "[[rule]]\nid = \"x\"\nregex = \"((\"\ncategory = \"spam.link\"\n";
        bad.rules_text_len = std::strlen(bad.rules_text);
        mf_engine *e = nullptr;
        REQUIRE(mf_engine_create(&e, &bad) == MF_E_RULES);
        REQUIRE(e == nullptr);
        REQUIRE(mf_engine_deserialize(&e, "MFDB", 4, nullptr) == MF_E_BAD_DATABASE);
    }
}
