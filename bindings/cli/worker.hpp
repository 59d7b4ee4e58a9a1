// The worker command: posts from a Redis stream (consumer group) in, one verdict per post out to
// another stream, each input entry acknowledged in the same Lua script that writes its verdict.
// See docs/worker.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mfcli {

struct WorkerOptions {
    std::string redis = "redis://127.0.0.1:6379";
    std::string stream = "modfilter:posts", group = "modfilter", consumer;  // consumer "": host:pid
    std::string group_start = "0";  // where a group this worker creates starts (XGROUP CREATE's id)
    double forget_after = 3600;     // seconds idle, nothing pending: a consumer is removed (0: never)
    std::string out_stream = "modfilter:verdicts";
    std::string dead_stream;  // "": <out_stream>:dead
    std::string control_key;  // "": <stream>:reload
    std::string field = "post";  // the input entry's field that holds the post (one JSON object)
    uint64_t out_maxlen = 1000000;  // approximate trimming of the output streams (0: none)
    size_t batch = 100;
    double claim_after = 30;  // seconds an entry stays pending before another consumer claims it
    unsigned max_deliveries = 5;  // after this many failed deliveries an entry is dead-lettered
    double log_every = 10;   // seconds between summary lines (0: none)
    unsigned metrics_port = 0;  // > 0: Prometheus text format on http://127.0.0.1:<port>/metrics
    bool verbose = false;    // one line per batch
    std::string rules, db;
    bool censor = false;
    uint64_t max_post_bytes = 0;  // 0: the engine's default

    // Per-author flood counters shared by every worker through Redis (off: verdicts as scan's).
    bool shared_flood = false;
    std::string flood_prefix;  // "": <stream>:flood
    double flood_window = 60;  // seconds; the thresholds are posts in the window, 0 turns one off
    unsigned flood_flag = 6, flood_hold = 10, flood_reject = 30;

    // Duplicates (the same or nearly the same text) shared by every worker through Redis.
    bool shared_duplicates = false;
    std::string dup_prefix;      // "": <stream>:dup
    double dup_window = 7200;    // seconds a text is remembered after its last copy
    unsigned dup_min_words = 6;  // shorter posts are never duplicates
    unsigned dup_near_bits = 10; // SimHash distance up to which two texts are nearly the same
    unsigned dup_flag = 3, dup_hold = 5, dup_reject = 20;  // copies (this one included); 0: never

    // Links from young accounts (spam.new-account-links, as a local state applies it): needs no
    // shared state, only the post's author.age_days.
    bool new_account_links = false;
    unsigned new_account_days = 3;                        // younger than this many days
    unsigned new_account_flag = 1, new_account_hold = 3;  // links for FLAG and HOLD; 0: never
};

// Runs until SIGTERM or SIGINT (then finishes the batch in hand and returns 0), or returns 1 when
// the rules cannot be loaded or an option is invalid.
int run_worker(const WorkerOptions &o);

}  // namespace mfcli
