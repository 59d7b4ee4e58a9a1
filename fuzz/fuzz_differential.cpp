// Differential: one post scanned by mf_scan, by mf_scan_batch (among other posts, into verdicts
// that held other results, at both ends of the scanner's chunks of lanes), by the CLI's JSON-line reader and, when the post is one
// line, by its text-line reader, gives the same verdict JSON.
//
// Input: the first byte picks the role (bit 0: staff) and censoring (bit 1); the rest is the post.
#include <cstring>
#include <string>

#include "../bindings/cli/stream.hpp"
#include "fuzz_common.hpp"
#include "fuzz_engine_db.hpp"

namespace {

struct State {
    mfcli::Engine cli;  // the CLI's own handles
    mf_scanner *scanner = nullptr;
    static constexpr size_t kBatch = 35;  // the scanner's 32 lanes, and 3 more
    mf_verdict *v[kBatch + 1] = {};
    State() {
        const std::string &db = fuzz::default_db();
        bool ok = mf_engine_deserialize(&cli.engine, db.data(), db.size(), nullptr) == MF_OK &&
                  mf_scanner_create(&cli.scanner, cli.engine) == MF_OK && mf_verdict_create(&cli.verdict) == MF_OK &&
                  mf_scanner_create(&scanner, cli.engine) == MF_OK;
        for (auto &x : v) ok = ok && mf_verdict_create(&x) == MF_OK;
        if (!ok) std::abort();
    }
};

// A JSON string holding exactly the post's bytes: only '"', '\\' and control characters escaped,
// everything else (invalid UTF-8 included) raw, as a forum would hand it to the CLI.
std::string json_line(const std::string &text, bool staff) {
    static const char hex[] = "0123456789abcdef";
    std::string s = "{\"id\":7,\"text\":\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            s += '\\';
            s += static_cast<char>(c);
        } else if (c < 0x20) {
            s += "\\u00";
            s += hex[c >> 4];
            s += hex[c & 15];
        } else {
            s += static_cast<char>(c);
        }
    }
    s += "\",\"author\":{\"role\":\"";
    s += staff ? "staff" : "member";
    s += "\"}}\n";
    return s;
}

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
    fuzz::Bytes b(data, size);
    uint8_t opt = b.u8();
    const bool staff = opt & 1, censor = opt & 2;
    const std::string text = b.rest();

    mf_post post = MF_POST_INIT;
    post.text = text.data();
    post.len = text.size();
    post.author_role = staff ? MF_ROLE_STAFF : MF_ROLE_MEMBER;
    post.flags = censor ? MF_SCAN_CENSOR : 0;
    FUZZ_CHECK(mf_scan(st.scanner, st.v[0], &post) == MF_OK, "mf_scan: %s", mf_last_error());
    const std::string one = mf_verdict_json(st.v[0], nullptr);

    // In a batch, among other posts: first and last of the scanner's first chunk of lanes, first of
    // the next, and last of the batch.
    static const char *const kOthers[] = {"you idiot, I will kill you", "hello", "", "We will refund you by Friday.",
                                          "f.u.c.k off y0u l0ser", "Ｆｒｅｅ iPhone!!! click http://x.example now"};
    constexpr size_t n = State::kBatch;
    mf_post posts[n];
    bool mine[n] = {};
    for (size_t i : {size_t(1), size_t(31), size_t(32), n - 1}) mine[i] = true;
    for (size_t i = 0; i < n; ++i) {
        if (mine[i]) {
            posts[i] = post;
            continue;
        }
        posts[i] = MF_POST_INIT;
        posts[i].text = kOthers[i % 6];
        posts[i].len = std::strlen(posts[i].text);
        posts[i].author_role = i % 2 ? MF_ROLE_STAFF : MF_ROLE_MEMBER;
        posts[i].flags = i % 3 ? 0 : MF_SCAN_CENSOR;
    }
    size_t failed = 0;
    FUZZ_CHECK(mf_scan_batch(st.scanner, st.v + 1, posts, n, &failed) == MF_OK && failed == n, "batch: %s", mf_last_error());
    for (size_t i = 0; i < n; ++i) {
        if (!mine[i]) continue;
        const std::string batch = mf_verdict_json(st.v[1 + i], nullptr);
        FUZZ_CHECK(one == batch, "mf_scan and mf_scan_batch (post %zu of %zu) differ:\n%s\n%s", i, n, one.c_str(),
                   batch.c_str());
    }

    // The CLI, JSON lines: {"id":7,<the verdict's fields>}
    const std::string expect = "{\"id\":7," + one.substr(1) + "\n";
    mfcli::ScanOptions o;
    o.censor = censor;
    const std::string line = json_line(text, staff);
    mfcli::MemorySource in(line);
    std::string out;
    mfcli::StringSink sink(out);
    FUZZ_CHECK(mfcli::scan_stream(st.cli, in, sink, o), "scan_stream");
    FUZZ_CHECK(out == expect, "mf_scan and the CLI differ:\n%s\n%s", expect.c_str(), out.c_str());

    // The CLI, text lines: {"id":1,...} when the post is a single line.
    if (text.find('\n') == std::string::npos && (text.empty() || text.back() != '\r')) {
        o.format = "text";
        o.role = staff ? "staff" : "member";
        const std::string tline = text + "\n";
        mfcli::MemorySource tin(tline);
        std::string tout;
        mfcli::StringSink tsink(tout);
        FUZZ_CHECK(mfcli::scan_stream(st.cli, tin, tsink, o), "scan_stream text");
        const std::string texpect = "{\"id\":1," + one.substr(1) + "\n";
        FUZZ_CHECK(tout == texpect, "mf_scan and the CLI text reader differ:\n%s\n%s", texpect.c_str(),
                   tout.c_str());
    }
    return 0;
}
