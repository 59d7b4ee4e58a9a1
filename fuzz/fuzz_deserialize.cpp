// Deserialize: arbitrary bytes, and mutations of a valid database, into mf_engine_deserialize.
// Always a clean status (MF_OK, MF_E_BAD_DATABASE or MF_E_DB_MISMATCH) with a message, never a crash.
//
// Input: the first byte picks a mode.
//   0..127   the rest of the input is the database, as is;
//   128..255 a valid database of a small pack, mutated by the rest of the input (overwrite, insert,
//            truncate), then, when the mode byte is odd, with its length and checksum recomputed so
//            that the mutation reaches the parser behind the checksum. Those mutations stay in the
//            modfilter part of the file: the embedded Hyperscan bytecode is trusted once the
//            checksum matches (as a compiled program is), so forging it is out of scope.
#include <algorithm>
#include <string>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "fuzz_common.hpp"

namespace {

const std::string &small_db() {
    static std::string db = [] {
        mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
        o.rules_text = fuzz::small_pack();
        o.rules_text_len = std::strlen(o.rules_text);
        mf_engine *e = nullptr;
        char *buf = nullptr;
        size_t len = 0;
        if (mf_engine_create(&e, &o) != MF_OK || mf_engine_serialize(&buf, &len, e) != MF_OK) std::abort();
        std::string s(buf, len);
        mf_free(buf);
        mf_engine_destroy(e);
        return s;
    }();
    return db;
}

// Header layout (core/engine.cpp): magic[8] u32 format u32 lib str hs str platform str unicode
// u64 payload_len u64 xxh64(payload) payload; str = u64 length + bytes; payload = u32 nfiles,
// nfiles x (str path, str content), str rules (with a checksum of their own in its last 8 bytes,
// which mode "fix" recomputes too), u32 npatterns, then the pattern tables and the Hyperscan databases.
struct Layout {
    size_t len_at = 0, sum_at = 0, payload_at = 0, hs_blob_at = 0;
    size_t rules_at = 0, rules_len = 0;  // the rules section's bytes (its own checksum in the last 8)
    bool ok = false;
};

// The seed of the rules section's own checksum (encode_rules, core/database.cpp).
constexpr uint64_t kRulesSeed = 0x6D66;

Layout layout(const std::string &d) {
    Layout l;
    size_t p = 16;
    auto u64 = [&](size_t at, uint64_t &v) {
        if (at + 8 > d.size()) return false;
        std::memcpy(&v, d.data() + at, 8);
        return true;
    };
    auto skip_str = [&](size_t &at) {
        uint64_t n;
        if (!u64(at, n) || n > d.size() - at - 8) return false;
        at += 8 + n;
        return true;
    };
    if (!skip_str(p) || !skip_str(p) || !skip_str(p)) return l;
    l.len_at = p;
    l.sum_at = p + 8;
    l.payload_at = p + 16;
    if (l.payload_at + 4 > d.size()) return l;
    uint32_t nfiles;
    std::memcpy(&nfiles, d.data() + l.payload_at, 4);
    size_t q = l.payload_at + 4;
    for (uint32_t i = 0; i < nfiles; ++i)
        if (!skip_str(q) || !skip_str(q)) return l;
    l.rules_at = q + 8;
    if (!skip_str(q)) return l;
    l.rules_len = q - l.rules_at;
    l.hs_blob_at = q + 4;
    l.ok = l.hs_blob_at <= d.size();
    return l;
}

}  // namespace

// Slow one-time set-up (compiling the default packs) happens here, outside libFuzzer's per-input timeout.
extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    (void)small_db();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz::Bytes b(data, size);
    uint8_t mode = b.u8();
    std::string db;
    if (mode < 128) {
        db = b.rest();
    } else {
        db = small_db();
        const Layout orig = layout(db);
        const bool fix = mode & 1;
        for (int n = 0; !b.empty() && n < 16 && !db.empty(); ++n) {
            // Mutations land before the Hyperscan blob when the checksum is to be recomputed.
            const size_t limit = fix ? std::min(orig.hs_blob_at, db.size()) : db.size();
            uint8_t op = b.u8();
            size_t at = (size_t(b.u8()) << 8 | b.u8()) % (limit ? limit : 1);
            switch (op % 4) {
            case 0: db[at] = static_cast<char>(b.u8()); break;
            case 1: db.insert(at, b.str(16)); break;
            case 2: db.erase(at, b.u8() % 16 + 1); break;
            default: if (!fix) db.resize(at); break;
            }
        }
        if (fix) {
            Layout l = layout(db);
            // The rules' own checksum too, so that mutated rules reach decode_rules and its checks.
            if (l.ok && l.rules_len >= 8) {
                uint64_t sum = XXH64(db.data() + l.rules_at, l.rules_len - 8, kRulesSeed);
                std::memcpy(&db[l.rules_at + l.rules_len - 8], &sum, 8);
            }
            if (l.ok && l.payload_at <= db.size()) {
                uint64_t plen = db.size() - l.payload_at;
                uint64_t sum = XXH64(db.data() + l.payload_at, plen, 0);
                std::memcpy(&db[l.len_at], &plen, 8);
                std::memcpy(&db[l.sum_at], &sum, 8);
            }
        }
    }
    mf_engine *e = nullptr;
    mf_status st = mf_engine_deserialize(&e, db.data(), db.size(), nullptr);
    FUZZ_CHECK(st == MF_OK || st == MF_E_BAD_DATABASE || st == MF_E_DB_MISMATCH, "status %s: %s", mf_status_str(st),
               mf_last_error());
    FUZZ_CHECK((st == MF_OK) == (e != nullptr), "engine and status disagree");
    if (st != MF_OK) {
        FUZZ_CHECK(*mf_last_error(), "no message for %s", mf_status_str(st));
        return 0;
    }
    // A database that loads must scan.
    mf_scanner *sc = nullptr;
    mf_verdict *v = nullptr;
    FUZZ_CHECK(mf_scanner_create(&sc, e) == MF_OK && mf_verdict_create(&v) == MF_OK, "scanner");
    static const char *probes[] = {"darn it", "I will find you", "full refund http://x.example", "heckler crap"};
    for (const char *p : probes) {
        FUZZ_CHECK(mf_scan_text(sc, v, p, std::strlen(p), MF_ROLE_STAFF) == MF_OK, "scan: %s", mf_last_error());
        fuzz::check_verdict(v, std::strlen(p), 1024);
    }
    mf_verdict_destroy(v);
    mf_scanner_destroy(sc);
    mf_engine_destroy(e);
    return 0;
}
