// Hot reload for scan and worker: the rules or database loaded again in a thread of its own while
// the caller goes on scanning with the engine it has; the caller takes the new engine between two
// batches (when no scan with the old one is running) and frees the old one.
#pragma once

#include "stream.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace mfcli {

struct Loaded {
    std::unique_ptr<Engine> engine;
    std::string hash;  // mf_engine_hash as 16 hex digits: the database version
};

// open_engine, then the engine's hash.
bool load_engine(const std::string &rules, const std::string &db, uint64_t max_post_bytes, Loaded &out,
                 std::string &error);

class Reloader {
public:
    Reloader(std::string rules, std::string db, uint64_t max_post_bytes)
        : rules_(std::move(rules)), db_(std::move(db)), max_post_bytes_(max_post_bytes) {}
    ~Reloader();
    Reloader(const Reloader &) = delete;
    Reloader &operator=(const Reloader &) = delete;

    // Starts loading; when a load is running already, loads once more when it ends (two requests
    // during one load are one more load: the packs as they are then). `done`, when given, is called in the
    // loading thread when the load ends: (true, the new database's hash) or (false, the reason), so
    // that the outcome is reported when it is known, not when the next post arrives (take() still
    // returns the engine or the reason).
    void start(std::function<void(bool ok, const std::string &hash_or_error)> done = {});
    // After a finished load: true with the new engine in `out`; false with the reason in `error` when
    // it failed, or with an empty `error` when no load has finished since the last take().
    bool take(Loaded &out, std::string &error);

private:
    const std::string rules_, db_;
    const uint64_t max_post_bytes_;
    std::thread thread_;
    std::mutex mu_;
    bool running_ = false;   // a load runs (under mu_)
    bool again_ = false;     // asked for again while it ran: load once more when it ends
    bool stopping_ = false;  // the reloader is being destroyed: no more loads
    bool done_ = false;
    Loaded ready_;
    std::string error_;
};

}  // namespace mfcli
