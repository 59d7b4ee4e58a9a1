// State: what modfilter remembers between posts, so that spam no single post shows is seen:
// the same or nearly the same text again and again (spam.duplicate), one author posting faster than
// a limit (spam.flood), links from young accounts (spam.new-account-links).
//
//   Fingerprinter (core/fingerprint.hpp) -> StateStore::observe (remember, and report what was seen
//   before, in one atomic step) -> decide (StateRules from policy.toml, per channel) -> Verdict::state.
//
// The store is an interface: MemoryStore (below) keeps everything in this process within a memory
// budget and saves to a file; a store shared by processes (Redis) implements the same observe() as
// one round trip (a Lua script), since observe() is a read and a write that must not be split.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint.hpp"
#include "post.hpp"
#include "state_policy.hpp"

namespace mf {

// The store's lock: held for about a microsecond a post (a few cache misses), so a thread that finds
// it taken spins, with the CPU's pause hint, rather than sleeping in the kernel and being woken a few
// microseconds later; after a while it yields, so that more threads than cores still make progress.
class SpinMutex {
public:
    void lock() noexcept {
        for (unsigned n = 0; flag_.exchange(true, std::memory_order_acquire); ++n) {
            while (flag_.load(std::memory_order_relaxed)) {
                if (++n < 4096) {
#if defined(__x86_64__) || defined(__i386__)
                    __builtin_ia32_pause();
#endif
                } else {
                    std::this_thread::yield();
                }
            }
        }
    }
    bool try_lock() noexcept { return !flag_.load(std::memory_order_relaxed) && !flag_.exchange(true, std::memory_order_acquire); }
    void unlock() noexcept { flag_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> flag_{false};
};

class Verdict;

constexpr size_t kEarlierIds = 5;     // post ids kept per text, as evidence
constexpr size_t kIdBytes = 48;       // longest post id kept (longer ones are cut)

// What observe() reports: the state before this post.
struct Seen {
    // duplicates (0 copies when the post is too short to be one, or has no words)
    uint32_t copies = 0;     // earlier copies in the window
    uint32_t authors = 0;    // distinct authors of those copies and this post (at most 255)
    uint32_t channels = 0;   // distinct channels of those copies and this post (at most 255)
    int64_t dup_since_ms = 0;
    bool near = false;       // found as nearly the same text, not the same words
    int distance = 0;        // SimHash distance to it
    std::vector<std::string> earlier_ids;  // most recent first, at most kEarlierIds
    // flood
    uint32_t author_posts = 0;  // earlier posts by this author in the flood window
    int64_t flood_since_ms = 0;
    bool repeat = false;        // this post id was recorded already (an edit or a redelivery)
};

// A backend for state. Every call is thread-safe.
class StateStore {
public:
    virtual ~StateStore() = default;
    // Records one post (unless it is an edit or its id was recorded before) and reports what was
    // recorded before it, in one atomic step. now_ms is the post's time (see MemoryStore for clocks).
    virtual void observe(const Fingerprint &fp, const PostMeta &m, const StateRules &r, int64_t now_ms, Seen &out) = 0;
    virtual void clear() = 0;
    virtual uint64_t memory_used() const = 0;
    virtual uint64_t memory_budget() const = 0;
    virtual uint64_t entries() const = 0;
};

// Everything in this process, within a memory budget: least recently seen entries go first.
// Timestamps: a post's time is used as given, except that a time more than a day past the latest
// time seen is taken as that latest time plus a day (one far-future post cannot age everything),
// and elapsed times are never negative (a clock that goes back sees its posts as simultaneous).
class MemoryStore final : public StateStore {
public:
    static constexpr uint64_t kDefaultBudget = uint64_t(64) << 20;
    static constexpr uint64_t kMinBudget = uint64_t(64) << 10;
    explicit MemoryStore(uint64_t budget = kDefaultBudget);
    ~MemoryStore() override;

    void observe(const Fingerprint &fp, const PostMeta &m, const StateRules &r, int64_t now_ms, Seen &out) override;
    void clear() override;
    uint64_t memory_used() const override;
    uint64_t memory_budget() const override { return budget_; }
    uint64_t entries() const override;

    // The file format (docs/state.md): magic, format version, fingerprint version, platform, the
    // entries, an XXH64 checksum. load() throws Error(kStateCorrupt / kStateVersion) and leaves the
    // store unchanged on failure; entries beyond this store's budget are dropped, oldest first.
    std::string serialize() const;
    void load(std::string_view data);

    struct Cluster;
    struct Author;

private:
    template <class T>
    struct Table;  // fixed-capacity slab + hash index + LRU list
    int64_t clamp_time(int64_t t);

    uint64_t budget_;
    mutable SpinMutex mu_;
    int64_t high_ms_ = 0;  // latest post time seen
    std::unique_ptr<Table<Cluster>> clusters_;
    std::unique_ptr<Table<Author>> authors_;
    // Lookup keys -> cluster slots: a fixed table of 4-way buckets, allocated once (no allocation per
    // post); a full bucket forgets its oldest entry, and a stale entry is harmless (a candidate is
    // always checked: live, and within the SimHash distance).
    struct AnchorEntry {
        uint32_t tag, slot;
    };
    std::vector<AnchorEntry> anchors_;
    size_t anchor_mask_ = 0;  // number of buckets - 1
    void index_anchor(uint64_t anchor, uint32_t slot);
    template <class F>
    void for_anchor(uint64_t anchor, F &&f) const;
};

// Scratch for the state stage, one per scanner.
struct StateScratch {
    Fingerprinter fingerprinter;
    Fingerprint fp;
    Seen seen;
};

// Fingerprints a post, records it in the store and adds the state's findings to the verdict
// (its categories, evidence and action). `normalized` is the normalizer's output.
// `route` is the route configured for "spam.*" categories (policy.toml), "" for none.
void apply_state(StateStore &store, const StatePolicy &policy, std::string_view normalized, const PostMeta &m,
                 StateScratch &scratch, Verdict &v);

// Milliseconds since 1970 by the system clock.
int64_t wall_clock_ms();

}  // namespace mf
