// Shared helpers for the fuzz targets: a check that aborts (so libFuzzer and the replay driver both
// report it), a byte reader for the sequence fuzzers, and a UTF-8 validity check that does not use
// the code under test.
#pragma once

#include <modfilter/modfilter.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond, ...)                                                                  \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);      \
            std::fprintf(stderr, __VA_ARGS__);                                                 \
            std::fprintf(stderr, "\n");                                                        \
            std::abort();                                                                      \
        }                                                                                      \
    } while (0)

namespace fuzz {

// Consumes the fuzzer's bytes as small integers and strings; returns zeros once exhausted.
class Bytes {
public:
    Bytes(const uint8_t *d, size_t n) : d_(d), n_(n) {}
    bool empty() const { return n_ == 0; }
    size_t left() const { return n_; }
    uint8_t u8() {
        if (!n_) return 0;
        --n_;
        return *d_++;
    }
    uint32_t u32() {
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v = (v << 8) | u8();
        return v;
    }
    // A string whose length is given by one byte (capped by what is left).
    std::string str(size_t max = 255) {
        size_t len = u8();
        if (len > max) len = max;
        if (len > n_) len = n_;
        std::string s(reinterpret_cast<const char *>(d_), len);
        d_ += len;
        n_ -= len;
        return s;
    }
    std::string rest() {
        std::string s(reinterpret_cast<const char *>(d_), n_);
        d_ += n_;
        n_ = 0;
        return s;
    }

private:
    const uint8_t *d_;
    size_t n_;
};

// Strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
inline bool valid_utf8(std::string_view s) {
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    size_t n = s.size(), i = 0;
    while (i < n) {
        unsigned char b = p[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b < 0x80) {
            ++i;
            continue;
        } else if (b >= 0xC2 && b <= 0xDF) need = 1;
        else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            if (b == 0xE0) lo = 0xA0;
            if (b == 0xED) hi = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            if (b == 0xF0) lo = 0x90;
            if (b == 0xF4) hi = 0x8F;
        } else return false;
        if (n - i < need + 1) return false;
        if (p[i + 1] < lo || p[i + 1] > hi) return false;
        for (size_t k = 2; k <= need; ++k)
            if ((p[i + k] & 0xC0) != 0x80) return false;
        i += need + 1;
    }
    return true;
}

// A small rule pack that exercises every match kind, boundaries, roles, the allowlist and policy.
inline const char *small_pack() {
    return R"TOML([pack]
name = "fuzz"
[policy]
flag = 2.0
hold = 4.0
reject = 8.0
[category."promise"]
route = "legal"
hold = 1.0
[[rule]]
id = "t.word"
category = "abuse.obscene"
severity = "medium"
words = ["darn", "heck", "fudge"]
[[rule]]
id = "t.prefix"
category = "abuse.obscene"
severity = "high"
word = "crap"
boundary = "prefix"
[[rule]]
id = "t.phrase"
category = "abuse.threat"
severity = "critical"
phrase = "i will find you"
[[rule]]
id = "t.regex"
category = "spam.link"
severity = "low"
regex = "https?://[a-z0-9.-]+"
boundary = "any"
[[rule]]
id = "t.gated"
category = "spam.link"
severity = "low"
regex = '(details|info)\s+on\s+my\s+(profile|page)'
[[rule]]
id = "t.staff"
category = "promise.refund"
severity = "medium"
phrase = "full refund"
applies_to = "staff"
[allow]
words = ["heckler"]
)TOML";
}

// Checks that a verdict is consistent with itself and with a post of `len` bytes.
inline void check_verdict(const mf_verdict *v, size_t len, uint32_t max_hits) {
    int32_t action = mf_verdict_action(v);
    FUZZ_CHECK(action >= MF_ACTION_ALLOW && action <= MF_ACTION_REJECT, "action %d", action);
    uint32_t flags = mf_verdict_flags(v);
    FUZZ_CHECK((flags & ~uint32_t(MF_VERDICT_INVALID_UTF8 | MF_VERDICT_HITS_TRUNCATED)) == 0, "flags %x", flags);
    size_t nh = mf_verdict_hit_count(v), nc = mf_verdict_category_count(v);
    FUZZ_CHECK(nh <= max_hits, "%zu hits > max_hits %u", nh, max_hits);
    int32_t max_action = MF_ACTION_ALLOW;
    for (size_t i = 0; i < nc; ++i) {
        const char *name = nullptr, *route = nullptr;
        double score = -1;
        int32_t a = -1;
        FUZZ_CHECK(mf_verdict_category(v, i, &name, &score, &a, &route) == MF_OK, "category %zu", i);
        FUZZ_CHECK(name && *name && route, "category %zu has no name", i);
        FUZZ_CHECK(a >= MF_ACTION_ALLOW && a <= MF_ACTION_REJECT, "category action %d", a);
        FUZZ_CHECK(score >= 0, "negative score %g", score);
        if (a > max_action) max_action = a;
    }
    FUZZ_CHECK(action == max_action, "verdict action %d but highest category action %d", action, max_action);
    size_t prev_start = 0;
    uint32_t ev = 0;
    for (size_t i = 0; i < nh; ++i) {
        mf_hit h = MF_HIT_INIT;
        FUZZ_CHECK(mf_verdict_hit(v, i, &h) == MF_OK, "hit %zu", i);
        FUZZ_CHECK(h.start < h.end && h.end <= len, "hit %zu [%zu, %zu) outside a post of %zu bytes", i, h.start,
                   h.end, len);
        FUZZ_CHECK(h.start >= prev_start, "hits not in order of start");
        prev_start = h.start;
        FUZZ_CHECK(h.severity >= MF_SEVERITY_LOW && h.severity <= MF_SEVERITY_CRITICAL, "severity %d", h.severity);
        FUZZ_CHECK(h.rule && h.category, "hit without rule");
        bool found = false;
        for (size_t c = 0; c < nc && !found; ++c) {
            const char *name = nullptr;
            mf_verdict_category(v, c, &name, nullptr, nullptr, nullptr);
            found = std::strcmp(name, h.category) == 0;
        }
        FUZZ_CHECK(found, "hit of category %s but the category has no score", h.category);
        ev |= h.evasion;
    }
    FUZZ_CHECK(ev == mf_verdict_evasion(v), "verdict evasion %x is not the union of its hits' %x",
               mf_verdict_evasion(v), ev);
    if (!(flags & MF_VERDICT_HITS_TRUNCATED)) {
        // Every scored category has a listed hit, and its score is the sum of its distinct rules.
        for (size_t c = 0; c < nc; ++c) {
            const char *name = nullptr;
            double score = 0;
            mf_verdict_category(v, c, &name, &score, nullptr, nullptr);
            double sum = 0;
            bool any = false;
            for (size_t i = 0; i < nh; ++i) {
                mf_hit h = MF_HIT_INIT;
                mf_verdict_hit(v, i, &h);
                if (std::strcmp(h.category, name) != 0) continue;
                any = true;
                bool dup = false;
                for (size_t k = 0; k < i && !dup; ++k) {
                    mf_hit g = MF_HIT_INIT;
                    mf_verdict_hit(v, k, &g);
                    dup = std::strcmp(g.rule, h.rule) == 0;
                }
                if (!dup) sum += h.score;
            }
            FUZZ_CHECK(any, "category %s scored without a hit", name);
            FUZZ_CHECK(sum - score < 1e-9 && score - sum < 1e-9, "category %s score %g, its hits add to %g", name,
                       score, sum);
        }
    }
}

}  // namespace fuzz
