// The scan command's stream reader: JSON lines (or text lines) in, one verdict line per input line out.
// Shared by the modfilter CLI (main.cpp) and its fuzzers (fuzz/fuzz_cli_stream.cpp,
// fuzz/fuzz_differential.cpp), so that what is fuzzed is exactly what the CLI runs. Uses only
// <modfilter/modfilter.h>.
//
// Built to keep up with the engine: input is read in large blocks and split in place, posts are
// scanned with mf_scan_batch, JSON lines are parsed with simdjson's on-demand parser, and output is
// collected in one buffer written in large chunks. Nothing is allocated per line in the steady state.
#pragma once

#include <modfilter/modfilter.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mfcli {

// The handles one scan needs; freed in reverse order.
struct Engine {
    mf_engine *engine = nullptr;
    mf_scanner *scanner = nullptr;
    mf_verdict *verdict = nullptr;
    std::vector<mf_verdict *> batch;  // verdicts for mf_scan_batch, created by scan_stream on first use
    // With ScanOptions::threads > 1: a scanner for each thread besides the caller's, created by
    // scan_stream on first use (for `engine`: whoever swaps the engine swaps these too, and leaves an
    // empty list for scan_stream to fill), each given `state` (not owned) when it is set.
    std::vector<mf_scanner *> helpers;
    mf_state *state = nullptr;
    Engine() = default;
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;
    ~Engine() {
        for (mf_scanner *h : helpers) mf_scanner_destroy(h);
        for (mf_verdict *v : batch) mf_verdict_destroy(v);
        mf_verdict_destroy(verdict);
        mf_scanner_destroy(scanner);
        mf_engine_destroy(engine);
    }
};

// Opens e from a compiled database (db) or rule packs (rules; "" for the built-in packs), with
// max_post_bytes (0: the engine's default), and creates its scanner and verdict. On failure returns
// false with the reason in `error` (e is then left partly filled: destroy it).
bool open_engine(Engine &e, const std::string &rules, const std::string &db, uint64_t max_post_bytes,
                 std::string &error);

// The engine's default max_post_bytes (mf_engine_options), which the CLI's engines use.
inline constexpr size_t kDefaultMaxPostBytes = size_t(16) << 20;

struct ScanOptions {
    std::string rules, db, format = "json", role = "member";
    bool censor = false;
    // Skip a byte order mark that starts the stream (the CLI's input files; not the worker, which
    // joins a batch's entries into one stream).
    bool skip_bom = false;
    std::vector<std::string> inputs;
    std::function<void()> after_batch;   // called after each batch is scanned (the CLI saves state)
    std::function<void()> before_batch;  // called before each batch is scanned (the CLI swaps engines)

    // Tuning (the defaults are what the CLI uses; the fuzzer shrinks them to reach every edge).
    size_t read_block = size_t(1) << 20;  // bytes asked of the source per read
    size_t batch = 64;                    // posts per mf_scan_batch call
    // Threads that scan each batch, each a share of its posts (the caller's thread is one of them);
    // input is parsed and output written on the caller's thread, in input order.
    size_t threads = 1;
    // A line longer than this is not held in memory: it is read through and answered with an error
    // line. JSON escapes can make a line several times longer than the post it carries, hence 4x
    // the engine's post limit; a post over the engine's limit gets the engine's own error.
    size_t max_line_bytes = 4 * kDefaultMaxPostBytes;
};

// Where input comes from: read() returns the number of bytes stored (at most cap), 0 at the end,
// or a negative number on an I/O error.
class Source {
public:
    virtual ~Source() = default;
    virtual ptrdiff_t read(char *buf, size_t cap) = 0;
    // Whether the last 0 from read() was a request to stop (SIGTERM, SIGINT), not the input's end:
    // the lines read whole are answered, a line read only in part is not (its post never arrived).
    virtual bool stopped() const { return false; }
};

// Where output goes: write() writes all n bytes or returns false.
class Sink {
public:
    virtual ~Sink() = default;
    virtual bool write(const char *data, size_t n) = 0;
};

// A file descriptor (read(2)/write(2), retried on EINTR and short writes). Does not close it.
// With a stop descriptor (the read end of a pipe), a read that would wait for input waits for that
// too, and returns 0 (stopped()) once a byte can be read from it.
class FdSource : public Source {
public:
    explicit FdSource(int fd, int stop_fd = -1) : fd_(fd), stop_fd_(stop_fd) {}
    ptrdiff_t read(char *buf, size_t cap) override;
    bool stopped() const override { return stopped_; }

private:
    int fd_, stop_fd_;
    bool stopped_ = false;
};

class FdSink : public Sink {
public:
    explicit FdSink(int fd) : fd_(fd) {}
    bool write(const char *data, size_t n) override;

private:
    int fd_;
};

// Bytes in memory, handed out at most `chunk` bytes per read (0: all at once).
class MemorySource : public Source {
public:
    explicit MemorySource(std::string_view data, size_t chunk = 0) : data_(data), chunk_(chunk) {}
    ptrdiff_t read(char *buf, size_t cap) override;

private:
    std::string_view data_;
    size_t chunk_;
};

// Appends to a string.
class StringSink : public Sink {
public:
    explicit StringSink(std::string &out) : out_(out) {}
    bool write(const char *data, size_t n) override {
        out_.append(data, n);
        return true;
    }

private:
    std::string &out_;
};

// Scans one stream; returns false only on an I/O failure (reading or writing). Output is flushed to
// `out` before each read from `in` and at the end, so a slow producer gets its answers promptly.
// `lines`, when given: how many lines came before this stream (its lines are numbered on from
// there, in error lines and as the ids of --format text, as if the inputs were one), updated to
// count this stream's lines too.
bool scan_stream(Engine &e, Source &in, Sink &out, const ScanOptions &o, size_t *lines = nullptr);

}  // namespace mfcli
