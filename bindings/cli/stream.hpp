// The scan command's stream reader: JSON lines (or text lines) in, one verdict line per input line out.
// Shared by the modfilter CLI (main.cpp) and its fuzzer (fuzz/fuzz_cli_stream.cpp), so that what is
// fuzzed is exactly what the CLI runs. Uses only <modfilter/modfilter.h>.
#pragma once

#include <modfilter/modfilter.h>

#include <iosfwd>
#include <string>
#include <vector>

namespace mfcli {

// The handles one scan needs; freed in reverse order.
struct Engine {
    mf_engine *engine = nullptr;
    mf_scanner *scanner = nullptr;
    mf_verdict *verdict = nullptr;
    ~Engine() {
        mf_verdict_destroy(verdict);
        mf_scanner_destroy(scanner);
        mf_engine_destroy(engine);
    }
};

struct ScanOptions {
    std::string rules, db, format = "json", role = "member";
    bool censor = false;
    std::vector<std::string> inputs;
};

// Scans one stream; returns false only on an I/O failure.
bool scan_stream(Engine &e, std::istream &in, std::ostream &out, const ScanOptions &o);

}  // namespace mfcli
