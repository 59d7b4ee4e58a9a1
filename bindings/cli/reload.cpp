#include "reload.hpp"

#include <cinttypes>
#include <cstdio>

namespace mfcli {

bool load_engine(const std::string &rules, const std::string &db, uint64_t max_post_bytes, Loaded &out,
                 std::string &error) {
    auto e = std::make_unique<Engine>();
    if (!open_engine(*e, rules, db, max_post_bytes, error)) return false;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016" PRIx64, mf_engine_hash(e->engine));
    out.hash = hex;
    out.engine = std::move(e);
    return true;
}

Reloader::~Reloader() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;  // (a load asked for after the running one is not started)
    }
    if (thread_.joinable()) thread_.join();
}

void Reloader::start(std::function<void(bool, const std::string &)> done) {
    {
        // A load asked for while one runs is run after it (it was dropped: a pack fixed while the
        // broken one compiled stayed unloaded, though the request had been heard and logged).
        std::lock_guard<std::mutex> lock(mu_);
        if (running_) {
            again_ = true;
            return;
        }
        running_ = true;
    }
    if (thread_.joinable()) thread_.join();
    thread_ = std::thread([this, done = std::move(done)] {
        for (;;) {
            Loaded l;
            std::string error;
            bool ok = load_engine(rules_, db_, max_post_bytes_, l, error);
            const std::string what = ok ? l.hash : error;
            bool more;
            {
                std::lock_guard<std::mutex> lock(mu_);
                // (a success clears an older failure; a failure keeps an older success not yet
                // taken, which take() hands over with this failure's reason)
                if (ok) ready_ = std::move(l), error_.clear();
                else error_ = std::move(error);
                done_ = true;
                more = again_ && !stopping_;
                again_ = false;
                running_ = more;
            }
            // (after the result is stored: whoever hears of it and then takes it finds it there)
            if (done) done(ok, what);
            if (!more) return;
        }
    });
}

bool Reloader::take(Loaded &out, std::string &error) {
    error.clear();
    std::lock_guard<std::mutex> lock(mu_);
    if (!done_) return false;
    done_ = false;
    error = std::move(error_);
    error_.clear();
    if (!ready_.engine) return false;
    out = std::move(ready_);
    ready_ = Loaded{};
    return true;
}

}  // namespace mfcli
