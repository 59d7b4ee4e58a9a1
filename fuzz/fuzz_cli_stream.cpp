// CLI JSON-line reader (bindings/cli/stream.cpp, the code the modfilter CLI runs): arbitrary bytes as
// the input stream. Exactly one output line per input line, in order; each is a JSON object that is
// either a verdict or {"line": N, "error": ...} for input line N; the output is valid UTF-8.
//
// With tiny buffers (lines crossing reads, short batches) the output is the same as with the CLI's.
//
// Input: the first byte picks the options (bit 0 --format text, bit 1 --censor, bit 2 --role staff;
// bit 3: reads of at most 1 + (byte >> 5) bytes and batches of 3 posts, compared with the defaults;
// bit 4: lines of at most 300 bytes), the rest is the stream.
#include <nlohmann/json.hpp>

#include <memory>
#include <sstream>

#include "../bindings/cli/stream.hpp"
#include "fuzz_common.hpp"
#include "fuzz_engine_db.hpp"

namespace {
mfcli::Engine &engine() {
    static const std::unique_ptr<mfcli::Engine> e = [] {
        auto r = std::make_unique<mfcli::Engine>();
        const std::string &db = fuzz::default_db();
        if (mf_engine_deserialize(&r->engine, db.data(), db.size(), nullptr) != MF_OK ||
            mf_scanner_create(&r->scanner, r->engine) != MF_OK || mf_verdict_create(&r->verdict) != MF_OK)
            std::abort();
        return r;
    }();
    return *e;
}
}  // namespace

// Slow one-time set-up (compiling the default packs) happens here, outside libFuzzer's per-input timeout.
extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    (void)engine();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mfcli::Engine &e = engine();
    fuzz::Bytes b(data, size);
    uint8_t opt = b.u8();
    mfcli::ScanOptions o;
    o.format = (opt & 1) ? "text" : "json";
    o.censor = (opt & 2) != 0;
    o.role = (opt & 4) ? "staff" : "member";
    if (opt & 16) o.max_line_bytes = 300;
    std::string input = b.rest();
    // as the CLI reads its files: a byte order mark that starts the input is skipped (the tiny reads
    // below then check that where it is decided does not depend on how the input arrives)
    o.skip_bom = true;
    mfcli::MemorySource in(input);
    std::string output;
    mfcli::StringSink out(output);
    FUZZ_CHECK(mfcli::scan_stream(e, in, out, o), "scan_stream reported an I/O error");
    if (opt & 8) {
        size_t chunk = 1 + (opt >> 5);
        mfcli::ScanOptions tiny = o;
        tiny.read_block = chunk;
        tiny.batch = 3;
        mfcli::MemorySource tin(input, chunk);
        std::string toutput;
        mfcli::StringSink tout(toutput);
        FUZZ_CHECK(mfcli::scan_stream(e, tin, tout, tiny), "scan_stream reported an I/O error");
        FUZZ_CHECK(toutput == output, "reads of %zu bytes and batches of 3 change the output:\n%s\n%s", chunk,
                   output.c_str(), toutput.c_str());
    }

    size_t lines = 0;
    for (char c : input) lines += c == '\n';
    if (!input.empty() && input.back() != '\n') ++lines;
    FUZZ_CHECK(fuzz::valid_utf8(output), "output is not valid UTF-8");
    std::istringstream res(output);
    std::string line;
    size_t n = 0;
    while (std::getline(res, line)) {
        ++n;
        auto j = nlohmann::json::parse(line, nullptr, false);
        FUZZ_CHECK(!j.is_discarded() && j.is_object(), "output line %zu is not a JSON object: %s", n, line.c_str());
        if (j.contains("error")) {
            FUZZ_CHECK(j["line"] == n, "error line %zu says line %s", n, j["line"].dump().c_str());
            FUZZ_CHECK(j["error"].is_string(), "error line %zu: error is not a string", n);
        } else {
            FUZZ_CHECK(j.contains("action") && j["hits"].is_array(), "line %zu has no verdict: %s", n, line.c_str());
            if (opt & 1) FUZZ_CHECK(j["id"] == n, "text line %zu has id %s", n, j["id"].dump().c_str());
            if (o.censor) FUZZ_CHECK(j["censored"].is_string(), "no censored text with --censor");
        }
    }
    FUZZ_CHECK(n == lines, "%zu input lines, %zu output lines", lines, n);
    FUZZ_CHECK(output.empty() || output.back() == '\n', "last output line not terminated");
    return 0;
}
