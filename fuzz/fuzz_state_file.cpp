// State files: arbitrary bytes, and mutations of a valid state file, into mf_state_load. Always
// MF_OK, MF_E_STATE_CORRUPT or MF_E_STATE_VERSION, never a crash; a state that failed to load is left
// as it was, and one that loaded still scans, saves and loads its own file again.
//
// Input: the first byte picks a mode.
//   0..127   the rest of the input is the file, as is;
//   128..255 a valid state file (a few posts scanned with a small pack), mutated by the rest of the
//            input (overwrite, insert, truncate), then, when the mode byte is odd, with its trailing
//            checksum recomputed so that the mutation reaches the parser behind it.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "fuzz_common.hpp"

namespace {

struct Fixture {
    mf_engine *engine = nullptr;
    mf_scanner *scanner = nullptr;
    mf_verdict *verdict = nullptr;
    std::string path, valid;
};

mf_status scan(Fixture &f, const char *text, const char *author, const char *channel, int64_t ts) {
    mf_post p = MF_POST_INIT;
    p.text = text;
    p.len = std::strlen(text);
    p.author_id = author;
    p.author_id_len = std::strlen(author);
    p.channel = channel;
    p.channel_len = std::strlen(channel);
    p.ts_ms = ts;
    return mf_scan(f.scanner, f.verdict, &p);
}

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Fixture &fixture() {
    static Fixture f = [] {
        Fixture x;
        mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
        o.rules_text = fuzz::small_pack();
        o.rules_text_len = std::strlen(o.rules_text);
        FUZZ_CHECK(mf_engine_create(&x.engine, &o) == MF_OK, "engine: %s", mf_last_error());
        FUZZ_CHECK(mf_scanner_create(&x.scanner, x.engine) == MF_OK, "scanner");
        FUZZ_CHECK(mf_verdict_create(&x.verdict) == MF_OK, "verdict");
        char tmpl[] = "/tmp/mf-fuzz-state-XXXXXX";
        int fd = mkstemp(tmpl);
        FUZZ_CHECK(fd >= 0, "mkstemp");
        close(fd);
        x.path = tmpl;
        // A valid file: the same promotion from three authors in two channels, and a flood.
        mf_state *s = nullptr;
        FUZZ_CHECK(mf_state_create(&s, nullptr) == MF_OK, "state");
        FUZZ_CHECK(mf_scanner_set_state(x.scanner, s) == MF_OK, "attach");
        const char *promo = "Cheap watches and bags at our shop, visit today for half price deals";
        for (int i = 0; i < 6; ++i)
            FUZZ_CHECK(scan(x, promo, i % 3 == 0 ? "u1" : i % 3 == 1 ? "u2" : "u3", i % 2 ? "c1" : "c2",
                            1767225600000 + i * 1000) == MF_OK, "scan");
        FUZZ_CHECK(mf_state_save(s, x.path.c_str()) == MF_OK, "save: %s", mf_last_error());
        FUZZ_CHECK(mf_scanner_set_state(x.scanner, nullptr) == MF_OK, "detach");
        mf_state_destroy(s);
        x.valid = read_file(x.path);
        static struct Cleanup {
            std::string path;
            ~Cleanup() {
                std::remove(path.c_str());
                std::remove((path + ".tmp").c_str());
            }
        } cleanup{x.path};
        FUZZ_CHECK(x.valid.size() > 16, "saved file of %zu bytes", x.valid.size());
        return x;
    }();
    return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size) return 0;
    Fixture &f = fixture();
    fuzz::Bytes in(data + 1, size - 1);
    std::string file;
    if (data[0] < 128) {
        file = in.rest();
    } else {
        file = f.valid;
        while (!in.empty() && !file.empty()) {
            const uint8_t op = in.u8() % 3;
            const size_t at = in.u32() % file.size();
            if (op == 0) file[at] = static_cast<char>(in.u8());
            else if (op == 1) file.insert(at, 1, static_cast<char>(in.u8()));
            else file.resize(at);
        }
        if ((data[0] & 1) && file.size() >= 8) {
            const uint64_t sum = XXH64(file.data(), file.size() - 8, 0);
            std::memcpy(file.data() + file.size() - 8, &sum, 8);
        }
    }
    {
        std::ofstream out(f.path, std::ios::binary | std::ios::trunc);
        out.write(file.data(), static_cast<std::streamsize>(file.size()));
    }
    mf_state_options so = MF_STATE_OPTIONS_INIT;
    so.memory_budget = 1u << 20;  // small, so that loading also drops entries over the budget
    mf_state *s = nullptr;
    FUZZ_CHECK(mf_state_create(&s, &so) == MF_OK, "state");
    uint64_t entries_before = 0, entries = 0;
    FUZZ_CHECK(mf_state_stats(s, nullptr, nullptr, &entries_before) == MF_OK, "stats");
    const mf_status rc = mf_state_load(s, f.path.c_str());
    FUZZ_CHECK(rc == MF_OK || rc == MF_E_STATE_CORRUPT || rc == MF_E_STATE_VERSION, "load returned %d", rc);
    FUZZ_CHECK(mf_state_stats(s, nullptr, nullptr, &entries) == MF_OK, "stats");
    if (rc != MF_OK) {
        FUZZ_CHECK(mf_last_error() && *mf_last_error(), "no message for status %d", rc);
        FUZZ_CHECK(entries == entries_before, "a failed load changed the state (%llu entries)",
                   static_cast<unsigned long long>(entries));
    } else {
        // What loaded works: a scan with it, then its own file loads again.
        FUZZ_CHECK(mf_scanner_set_state(f.scanner, s) == MF_OK, "attach");
        FUZZ_CHECK(scan(f, "Cheap watches and bags at our shop, visit today for half price deals", "u9", "c1",
                        1767225700000) == MF_OK, "scan after load: %s", mf_last_error());
        FUZZ_CHECK(mf_scanner_set_state(f.scanner, nullptr) == MF_OK, "detach");
        FUZZ_CHECK(mf_state_save(s, f.path.c_str()) == MF_OK, "save after load: %s", mf_last_error());
        mf_state *again = nullptr;
        FUZZ_CHECK(mf_state_create(&again, &so) == MF_OK, "state");
        FUZZ_CHECK(mf_state_load(again, f.path.c_str()) == MF_OK, "own file does not load: %s", mf_last_error());
        mf_state_destroy(again);
    }
    mf_state_destroy(s);
    return 0;
}
