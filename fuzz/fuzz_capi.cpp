// C API sequence: the input drives a program of create / scan / batch / json / accessors /
// serialize / deserialize / destroy calls on a few slots, with arbitrary options, NULLs, wrong
// versions and out-of-range indexes. Calls the contract allows must not crash or leak; calls it
// forbids must fail with a status code. The contract itself is respected: an engine is destroyed
// only after its scanners, and a verdict filled by an engine is not read after that engine is gone.
#include <vector>

#include "fuzz_common.hpp"
#include "fuzz_engine_db.hpp"

namespace {

constexpr int kSlots = 3;

struct Program {
    mf_engine *engines[kSlots] = {};
    uint32_t max_hits[kSlots] = {};
    mf_scanner *scanners[kSlots] = {};
    int scanner_engine[kSlots] = {};
    mf_verdict *verdicts[kSlots] = {};
    int verdict_engine[kSlots] = {-1, -1, -1};  // engine slot whose scan filled it, -1: none
    size_t verdict_len[kSlots] = {};

    ~Program() {
        for (auto &v : verdicts) mf_verdict_destroy(v);
        for (auto &s : scanners) mf_scanner_destroy(s);
        for (auto &e : engines) mf_engine_destroy(e);
    }

    void options(fuzz::Bytes &b, mf_engine_options &o) {
        uint8_t k = b.u8();
        if (k & 1) o.max_hits = b.u8() % 8;
        if (k & 2) o.max_post_bytes = b.u32() % 4096;
        if (k & 4) o.flag_threshold = static_cast<int8_t>(b.u8()) / 4.0;
        if (k & 8) o.hold_threshold = static_cast<int8_t>(b.u8()) / 4.0;
        if (k & 16) o.reject_threshold = static_cast<int8_t>(b.u8()) / 4.0;
        if (k & 32) o.version = b.u8();  // usually wrong
        if (k & 64) o.max_post_bytes = (uint64_t(1) << 30) + b.u8();  // over the 1 GiB ceiling
        if ((k & 0x80) && (b.u8() & 1)) o.reject_threshold = 0.0 / 0.0;
    }

    void create_engine(fuzz::Bytes &b) {
        int slot = b.u8() % kSlots;
        if (engines[slot]) return;
        mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
        options(b, o);
        uint8_t src = b.u8() % 4;
        mf_engine *e = nullptr;
        mf_status st;
        std::string text;
        if (src == 0) {
            st = mf_engine_deserialize(&e, fuzz::default_db().data(), fuzz::default_db().size(), &o);
        } else if (src == 1) {
            o.rules_text = fuzz::small_pack();
            o.rules_text_len = std::strlen(o.rules_text);
            st = mf_engine_create(&e, &o);
        } else if (src == 2) {
            text = b.str();  // a fuzzed pack
            o.rules_text = text.data();
            o.rules_text_len = text.size();
            st = mf_engine_create(&e, &o);
        } else {
            o.rules_text = nullptr;
            o.rules_text_len = b.u8();  // NULL text with a length: rejected
            o.rules_path = "/nonexistent/modfilter-fuzz";
            st = mf_engine_create(&e, &o);
        }
        FUZZ_CHECK((st == MF_OK) == (e != nullptr), "status %d but engine %p", st, (void *)e);
        if (st != MF_OK) {
            FUZZ_CHECK(*mf_last_error(), "failure %s without a message", mf_status_str(st));
            return;
        }
        engines[slot] = e;
        max_hits[slot] = o.max_hits ? o.max_hits : 1024;
    }

    void destroy_engine(fuzz::Bytes &b) {
        int slot = b.u8() % kSlots;
        for (int i = 0; i < kSlots; ++i) {
            if (scanners[i] && scanner_engine[i] == slot) {
                mf_scanner_destroy(scanners[i]);
                scanners[i] = nullptr;
            }
            if (verdict_engine[i] == slot) verdict_engine[i] = -1;  // stale: scan into it again, never read
        }
        mf_engine_destroy(engines[slot]);
        engines[slot] = nullptr;
    }

    void create_scanner(fuzz::Bytes &b) {
        int slot = b.u8() % kSlots, es = b.u8() % kSlots;
        if (scanners[slot]) return;
        mf_status st = mf_scanner_create(&scanners[slot], engines[es]);
        FUZZ_CHECK((st == MF_OK) == (engines[es] != nullptr), "scanner_create %d", st);
        scanner_engine[slot] = es;
    }

    void scan(fuzz::Bytes &b, bool batch) {
        int ss = b.u8() % kSlots;
        uint8_t k = b.u8();
        std::string text = b.str();
        mf_post posts[2] = {MF_POST_INIT, MF_POST_INIT};
        int vs[2] = {b.u8() % kSlots, b.u8() % kSlots};
        for (int i = 0; i < 2; ++i) {
            posts[i].text = (k & 0x40) && i == 1 ? nullptr : text.data();
            posts[i].len = i ? text.size() / 2 : text.size();
            posts[i].author_role = (k & 0x10) ? static_cast<int8_t>(b.u8()) : (k & 1);
            posts[i].flags = (k & 0x20) ? b.u8() : (k >> 1) & 1;
            if (k & 0x80) posts[i].version = b.u8();
        }
        mf_scanner *sc = scanners[ss];
        mf_status st;
        if (!batch) {
            mf_verdict *v = verdicts[vs[0]];
            st = (k & 8) ? mf_scan_text(sc, v, posts[0].text, posts[0].len, posts[0].author_role)
                         : mf_scan(sc, v, &posts[0]);
            if (st == MF_OK) {
                FUZZ_CHECK(sc && v, "scan with NULL succeeded");
                verdict_engine[vs[0]] = scanner_engine[ss];
                verdict_len[vs[0]] = posts[0].len;
                fuzz::check_verdict(v, posts[0].len, max_hits[scanner_engine[ss]]);
            } else if (v) {
                verdict_engine[vs[0]] = -1;  // a failed scan leaves the verdict empty
            }
            return;
        }
        mf_verdict *vv[2] = {verdicts[vs[0]], verdicts[vs[1]]};
        size_t n = (k & 4) ? 2 : 1, failed = 99;
        st = mf_scan_batch(sc, vv, posts, n, &failed);
        FUZZ_CHECK(failed <= n, "failed_index %zu of %zu", failed, n);
        FUZZ_CHECK((st == MF_OK) == (failed == n) || !sc, "status %d failed_index %zu", st, failed);
        if (!sc) return;
        for (size_t i = 0; i < n && i <= failed && i < 2; ++i) {
            if (!vv[i]) continue;
            if (i < failed) {
                verdict_engine[vs[i]] = scanner_engine[ss];
                verdict_len[vs[i]] = posts[i].len;
            } else {
                verdict_engine[vs[i]] = -1;
            }
        }
        // With a repeated verdict slot only the last scan survives; check what is readable.
        for (int i = 0; i < kSlots; ++i)
            if (verdicts[i] && verdict_engine[i] >= 0 && engines[verdict_engine[i]])
                fuzz::check_verdict(verdicts[i], verdict_len[i], max_hits[verdict_engine[i]]);
    }

    void read_verdict(fuzz::Bytes &b) {
        int vs = b.u8() % kSlots;
        mf_verdict *v = verdicts[vs];
        if (v && verdict_engine[vs] < 0) {
            // Empty or stale: only calls that do not touch the engine, and they must say "nothing".
            FUZZ_CHECK(mf_verdict_action(v) == -1 || verdict_engine[vs] < 0, "action");
            return;
        }
        size_t idx = b.u8();
        mf_hit h = MF_HIT_INIT;
        if (b.u8() & 1) h.version = b.u8();
        mf_status st = mf_verdict_hit(v, idx, &h);
        FUZZ_CHECK(st == MF_OK || st == MF_E_NOT_FOUND || st == MF_E_INVALID_ARG || st == MF_E_VERSION, "hit %d", st);
        st = mf_verdict_category(v, idx, nullptr, nullptr, nullptr, nullptr);
        FUZZ_CHECK(st == MF_OK || st == MF_E_NOT_FOUND || st == MF_E_INVALID_ARG, "category %d", st);
        size_t len = 1;
        const char *j = mf_verdict_json(v, &len);
        FUZZ_CHECK(j ? std::strlen(j) == len : len == 0, "json length");
        const char *c = mf_verdict_censored(v, &len);
        FUZZ_CHECK(c ? std::strlen(c) <= len : len == 0, "censored length");
        (void)mf_verdict_evasion(v);
        (void)mf_verdict_invalid_utf8_count(v);
    }

    void engine_info(fuzz::Bytes &b) {
        mf_engine *e = engines[b.u8() % kSlots];
        size_t n = mf_engine_rule_count(e), idx = b.u8();
        const char *id = nullptr;
        mf_status st = mf_engine_rule(e, idx, &id, nullptr, nullptr, nullptr);
        FUZZ_CHECK(st == (e ? (idx < n ? MF_OK : MF_E_NOT_FOUND) : MF_E_INVALID_ARG), "engine_rule %d", st);
    }

    void roundtrip(fuzz::Bytes &b) {
        int from = b.u8() % kSlots, to = b.u8() % kSlots;
        char *buf = nullptr;
        size_t len = 0;
        mf_status st = mf_engine_serialize(&buf, &len, engines[from]);
        if (!engines[from]) {
            FUZZ_CHECK(st == MF_E_INVALID_ARG && !buf, "serialize NULL");
            return;
        }
        FUZZ_CHECK(st == MF_OK, "serialize %s", mf_last_error());
        if (!engines[to]) {
            mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
            options(b, o);
            st = mf_engine_deserialize(&engines[to], buf, len, &o);
            FUZZ_CHECK(st == MF_OK || st == MF_E_VERSION || st == MF_E_INVALID_ARG, "deserialize %s", mf_last_error());
            if (st == MF_OK) max_hits[to] = o.max_hits ? o.max_hits : 1024;
        }
        mf_free(buf);
    }

    void run(fuzz::Bytes &b) {
        for (int steps = 0; !b.empty() && steps < 64; ++steps) {
            switch (b.u8() % 12) {
            case 0: create_engine(b); break;
            case 1: destroy_engine(b); break;
            case 2: create_scanner(b); break;
            case 3: {
                int s = b.u8() % kSlots;
                mf_scanner_destroy(scanners[s]);
                scanners[s] = nullptr;
                break;
            }
            case 4: {
                int v = b.u8() % kSlots;
                if (!verdicts[v]) FUZZ_CHECK(mf_verdict_create(&verdicts[v]) == MF_OK, "verdict_create");
                verdict_engine[v] = -1;
                break;
            }
            case 5: {
                int v = b.u8() % kSlots;
                mf_verdict_destroy(verdicts[v]);
                verdicts[v] = nullptr;
                verdict_engine[v] = -1;
                break;
            }
            case 6: scan(b, false); break;
            case 7: scan(b, true); break;
            case 8: read_verdict(b); break;
            case 9: engine_info(b); break;
            case 10: roundtrip(b); break;
            default: {
                // Argument checks on entry points that take out-parameters and versions.
                mf_engine_options o;
                FUZZ_CHECK(mf_engine_options_init(&o, b.u8()) != MF_OK || o.version == MF_ENGINE_OPTIONS_VERSION, "init");
                mf_post p;
                // version 1 is the old layout, which mf_post_init fills as such; any other is MF_POST_VERSION
                const uint32_t pv = b.u8();
                FUZZ_CHECK(mf_post_init(&p, pv) != MF_OK || p.version == (pv == 1 ? 1u : MF_POST_VERSION), "post_init");
                FUZZ_CHECK(mf_engine_create(nullptr, nullptr) == MF_E_INVALID_ARG, "create NULL");
                FUZZ_CHECK(mf_scan_batch(nullptr, nullptr, nullptr, 1, nullptr) == MF_E_INVALID_ARG, "batch NULL");
                (void)mf_action_name(static_cast<int8_t>(b.u8()));
                (void)mf_severity_name(static_cast<int8_t>(b.u8()));
                (void)mf_evasion_name(b.u8());
                (void)mf_status_str(-static_cast<int32_t>(b.u8()));
                break;
            }
            }
        }
    }
};

}  // namespace

// Slow one-time set-up (compiling the default packs) happens here, outside libFuzzer's per-input timeout.
extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    (void)fuzz::default_db();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)fuzz::default_db();
    fuzz::Bytes b(data, size);
    Program p;
    p.run(b);
    return 0;
}
