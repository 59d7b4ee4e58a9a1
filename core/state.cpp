// State: the memory store (fixed budget, LRU, save/load) and the decisions taken from what it saw.
#include "state.hpp"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstring>
#include <type_traits>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "engine.hpp"
#include "verdict.hpp"

namespace mf {

int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

namespace {

constexpr uint32_t kNone = 0xFFFFFFFFu;
constexpr int64_t kDayMs = 24LL * 3600 * 1000;
constexpr char kMagic[8] = {'M', 'F', 'S', 'T', 'A', 'T', 'E', '\0'};
constexpr uint32_t kFormatVersion = 2;  // 2: a text's last copy's SimHash (Cluster::last_near)
constexpr uint32_t kEndianMark = 0x01020304u;

uint64_t hash_str(std::string_view s) { return s.empty() ? 0 : (XXH3_64bits(s.data(), s.size()) | 1u); }

// Adds h to a small set of distinct hashes, and to a 64-bit sketch of all of them. `count` is exact
// while the set has room; past that, the larger of the set's size and the sketch's estimate (linear
// counting: -64 ln(zero bits / 64), within about a tenth up to a hundred distinct hashes; 255 when
// every bit is set). It counted every new-looking hash once the set was full, so that 1,000 copies
// by 50 authors said 255 authors.
template <size_t N>
void add_distinct(uint32_t (&set)[N], uint8_t &count, uint64_t &sketch, uint32_t h) {
    sketch |= uint64_t(1) << ((h * 0x9E3779B1u) >> 26);
    const size_t known = std::min<size_t>(count, N);
    for (size_t i = 0; i < known; ++i)
        if (set[i] == h) return;
    if (count < N) {
        set[count++] = h;
        return;
    }
    const int zeros = 64 - __builtin_popcountll(sketch);
    const double estimate = zeros ? -64.0 * std::log(zeros / 64.0) : 255.0;
    count = static_cast<uint8_t>(std::clamp<double>(std::round(estimate), N, 255));
}

template <class T>
void prefetch_lines(const T &x) {
    for (size_t off = 0; off < sizeof(T); off += 64) __builtin_prefetch(reinterpret_cast<const char *>(&x) + off);
}

}  // namespace

struct MemoryStore::Cluster {
    uint64_t key = 0;  // the exact hash of the first copy
    uint32_t prev = kNone, next = kNone;
    uint64_t near = 0;       // the text's SimHash: the first copy's, then the bitwise majority of
    uint64_t last_near = 0;  // it, the last copy's (this) and each new copy's, which tends to the
                             // text all the copies were made from when each changes a word of its own
    uint64_t anchors[kAnchors] = {};
    uint32_t n_anchors = 0;
    uint32_t copies = 0;
    uint64_t last_anchors[kAnchors] = {};  // the last near copy's lookup keys (indexed too, and saved)
    uint32_t n_last_anchors = 0, reserved = 0;
    int64_t first_ms = 0, last_ms = 0;
    uint8_t n_authors = 0, n_channels = 0, n_ids = 0, id_pos = 0;
    uint32_t author_set[32] = {};
    uint32_t channel_set[16] = {};
    uint64_t author_sketch = 0, channel_sketch = 0;  // past the sets: add_distinct's estimate
    uint64_t ids[8] = {};  // hashes of recorded post ids (a redelivery or edit is not a new copy)
    uint8_t earlier_len[kEarlierIds] = {};
    uint8_t earlier_pos = 0, earlier_n = 0;
    char earlier[kEarlierIds][kIdBytes] = {};
};

struct MemoryStore::Author {
    uint64_t key = 0;
    uint32_t prev = kNone, next = kNone;
    int64_t ts[kFloodRing] = {};
    uint32_t ids[kFloodRing] = {};
    uint32_t pos = 0, n = 0;
};

static_assert(std::is_trivially_copyable_v<MemoryStore::Cluster> && std::is_trivially_copyable_v<MemoryStore::Author>);

// A slab of at most `cap` entries, a hash index, and an LRU list (head: most recent).
template <class T>
struct MemoryStore::Table {
    // What one entry costs besides sizeof(T): its share of the index, counted as 64 bytes (as when the
    // index was a std::unordered_map); the index below is at most 32 bytes per entry of a full slab.
    static constexpr size_t kIndexBytes = 64;
    size_t cap;
    size_t extra;  // more bytes per entry (the cluster's lookup keys)
    std::vector<T> slots;
    // The index: open addressing with linear probing, at most half full, grown with the entries up to
    // the first power of 2 at or above 2 * cap (small while the store is small, so that it stays in
    // cache). A cell holds 32 bits of the key and the slot (kNone: empty); the slot's key decides.
    // One probe is usually one cache line, and an entry costs no allocation.
    struct Cell {
        uint32_t tag, slot;
    };
    std::vector<Cell> index;
    size_t max_cells = 64;
    int shift = 64;
    uint32_t head = kNone, tail = kNone;

    Table(uint64_t bytes, size_t extra_bytes) : extra(extra_bytes) {
        cap = std::max<size_t>(16, static_cast<size_t>(bytes / entry_bytes()));
        while (max_cells < 2 * cap) max_cells <<= 1;
    }
    size_t entry_bytes() const { return sizeof(T) + kIndexBytes + extra; }
    uint64_t used() const { return uint64_t(slots.size()) * entry_bytes(); }

    static uint32_t tag(uint64_t key) { return static_cast<uint32_t>(key >> 32); }
    size_t home(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift); }
    size_t mask() const { return index.size() - 1; }
    void prefetch(uint64_t key) const {
        if (!index.empty()) __builtin_prefetch(&index[home(key)]);
    }
    uint32_t find(uint64_t key) const {
        if (index.empty()) return kNone;
        const uint32_t t = tag(key);
        for (size_t i = home(key);; i = (i + 1) & mask()) {
            const Cell &c = index[i];
            if (c.slot == kNone) return kNone;
            if (c.tag == t && slots[c.slot].key == key) return c.slot;
        }
    }
    void place(uint64_t key, uint32_t s) {
        size_t i = home(key);
        while (index[i].slot != kNone) i = (i + 1) & mask();
        index[i] = {tag(key), s};
    }
    // Room for one more entry: the index doubles (and is rebuilt from the slots) when it would be
    // more than half full.
    void reserve_one() {
        const size_t want = slots.size() + 1;
        if (!index.empty() && 2 * want <= index.size()) return;
        size_t cells = std::max<size_t>(64, index.size());
        while (cells < 2 * want && cells < max_cells) cells <<= 1;
        if (cells == index.size()) return;  // (full size: the slab cannot outgrow it)
        index.assign(cells, Cell{0, kNone});
        shift = 64 - __builtin_ctzll(cells);
        for (uint32_t s = 0; s < slots.size(); ++s) place(slots[s].key, s);
    }
    void erase(uint64_t key) {  // backward shift: no tombstones
        const uint32_t t = tag(key);
        size_t i = home(key);
        while (index[i].slot != kNone && !(index[i].tag == t && slots[index[i].slot].key == key)) i = (i + 1) & mask();
        if (index[i].slot == kNone) return;
        for (size_t j = (i + 1) & mask(); index[j].slot != kNone; j = (j + 1) & mask()) {
            const size_t h = home(slots[index[j].slot].key);
            // index[j] moves to the hole at i unless its home lies cyclically in (i, j]
            const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
            if (!stays) {
                index[i] = index[j];
                i = j;
            }
        }
        index[i] = Cell{0, kNone};
    }
    void unlink(uint32_t s) {
        T &e = slots[s];
        if (e.prev != kNone) slots[e.prev].next = e.next;
        else head = e.next;
        if (e.next != kNone) slots[e.next].prev = e.prev;
        else tail = e.prev;
        e.prev = e.next = kNone;
    }
    void link_front(uint32_t s) {
        T &e = slots[s];
        e.prev = kNone;
        e.next = head;
        if (head != kNone) slots[head].prev = s;
        head = s;
        if (tail == kNone) tail = s;
    }
    void touch(uint32_t s) {
        if (head == s) return;
        unlink(s);
        link_front(s);
    }
    // A fresh entry for key (absent from the table); `evict(slot)` is called before a least recently
    // seen entry's slot is reused.
    template <class F>
    uint32_t insert(uint64_t key, F &&evict) {
        uint32_t s;
        if (slots.size() < cap) {
            reserve_one();
            if (slots.capacity() == slots.size()) slots.reserve(std::min(cap, std::max<size_t>(64, slots.size() * 2)));
            slots.emplace_back();
            s = static_cast<uint32_t>(slots.size() - 1);
        } else {
            s = tail;
            evict(s);
            erase(slots[s].key);
            unlink(s);
            slots[s] = T{};
        }
        slots[s].key = key;
        place(key, s);
        link_front(s);
        return s;
    }
    void clear() {  // keeps the slab's and the index's memory (within the budget) for what comes next
        slots.clear();
        std::fill(index.begin(), index.end(), Cell{0, kNone});
        head = tail = kNone;
    }
};

namespace {
// Lookup keys: the anchor table holds kAnchors entries per cluster.
constexpr size_t kAnchorBytes = kAnchors * 8;
constexpr uint32_t kWays = 4;
uint32_t anchor_tag(uint64_t a) { return static_cast<uint32_t>(a >> 32) | 1u; }
}  // namespace

MemoryStore::MemoryStore(uint64_t budget) : budget_(std::max(budget, kMinBudget)) {
    // The texts' share of the budget holds their entries and the anchors' lookup table, which is
    // allocated whole at the first text: a power of two of buckets with room for kAnchors anchors a
    // text, so up to twice the kAnchorBytes a text it is sized from. The table is sized first and
    // the texts get the rest, so that the state stays within its budget (memory_used counts both).
    const uint64_t share = budget_ * 6 / 10;
    const size_t texts = Table<Cluster>(share, kAnchorBytes).cap;
    size_t buckets = 1;
    while (buckets * kWays < texts * kAnchors) buckets <<= 1;
    anchor_mask_ = buckets - 1;
    const uint64_t table = uint64_t(buckets) * kWays * sizeof(AnchorEntry);
    clusters_ = std::make_unique<Table<Cluster>>(share > 2 * table ? share - table : share / 2, 0);
    authors_ = std::make_unique<Table<Author>>(budget_ * 4 / 10, 0);
}

void MemoryStore::index_anchor(uint64_t anchor, uint32_t slot) {
    if (anchors_.empty()) anchors_.assign((anchor_mask_ + 1) * kWays, AnchorEntry{0, 0});
    AnchorEntry *b = &anchors_[(anchor & anchor_mask_) * kWays];
    const uint32_t tag = anchor_tag(anchor);
    for (uint32_t w = 0; w < kWays; ++w)
        if (b[w].tag == tag && b[w].slot == slot) return;
    for (uint32_t w = kWays - 1; w > 0; --w) b[w] = b[w - 1];  // newest first; the oldest goes
    b[0] = {tag, slot};
}

template <class F>
void MemoryStore::for_anchor(uint64_t anchor, F &&f) const {
    if (anchors_.empty()) return;
    const AnchorEntry *b = &anchors_[(anchor & anchor_mask_) * kWays];
    const uint32_t tag = anchor_tag(anchor);
    for (uint32_t w = 0; w < kWays; ++w)
        if (b[w].tag == tag && b[w].slot < clusters_->slots.size()) f(b[w].slot);
}

MemoryStore::~MemoryStore() = default;

uint64_t MemoryStore::memory_used() const {
    std::lock_guard<SpinMutex> lk(mu_);
    // (the anchors' lookup table as allocated: whole, at the first text)
    return clusters_->used() + authors_->used() + anchors_.size() * sizeof(AnchorEntry);
}

uint64_t MemoryStore::entries() const {
    std::lock_guard<SpinMutex> lk(mu_);
    return clusters_->slots.size() + authors_->slots.size();
}

void MemoryStore::clear() {
    std::lock_guard<SpinMutex> lk(mu_);
    clusters_->clear();
    authors_->clear();
    std::fill(anchors_.begin(), anchors_.end(), AnchorEntry{0, 0});
    high_ms_ = 0;
}

int64_t MemoryStore::clamp_time(int64_t t) {
    if (high_ms_ && t > high_ms_ + kDayMs) t = high_ms_ + kDayMs;
    // (older than the latest post seen: simultaneous with it, as docs/state.md says; a copy of a raid
    // replayed out of order must not start a text whose window has already closed)
    high_ms_ = std::max(high_ms_, t);
    return high_ms_;
}

void MemoryStore::observe(const Fingerprint &fp, const PostMeta &m, const StateRules &r, int64_t now_in, Seen &out) {
    out.copies = out.authors = out.channels = out.author_posts = 0;
    out.dup_since_ms = out.flood_since_ms = 0;
    out.near = out.repeat = false;
    out.distance = 0;
    out.earlier_ids.clear();
    const uint64_t id = hash_str(m.id);
    const uint64_t author = hash_str(m.author);
    const auto channel = static_cast<uint32_t>(hash_str(m.channel));
    const auto author32 = static_cast<uint32_t>(author);

    std::lock_guard<SpinMutex> lk(mu_);
    // The cache lines this post needs, asked for at once rather than one miss after another.
    const bool dup = fp.exact && fp.words >= r.duplicate_min_words;
    if (dup) {
        clusters_->prefetch(fp.exact);
        if (!anchors_.empty())
            for (uint32_t k = 0; k < fp.n_anchors; ++k) __builtin_prefetch(&anchors_[(fp.anchors[k] & anchor_mask_) * kWays]);
    }
    if (author) authors_->prefetch(author);
    // The author's entry, looked up now so that its lines load while the duplicates are looked up.
    const uint32_t author_slot = author ? authors_->find(author) : kNone;
    if (author_slot != kNone) prefetch_lines(authors_->slots[author_slot]);
    const int64_t now = clamp_time(now_in);
    auto elapsed = [&](int64_t then) { return std::max<int64_t>(0, now - then); };

    // ---- duplicates
    if (dup) {
        Table<Cluster> &t = *clusters_;
        auto live = [&](uint32_t s) { return elapsed(t.slots[s].last_ms) <= r.duplicate_window_ms; };
        auto start = [&](uint32_t slot) {  // a new text in slot: copies 0, lookup keys indexed
            Cluster &c = t.slots[slot];
            c.near = c.last_near = fp.near;
            c.n_anchors = fp.n_anchors;
            std::copy(fp.anchors, fp.anchors + kAnchors, c.anchors);
            c.first_ms = c.last_ms = now;
            for (uint32_t k = 0; k < c.n_anchors; ++k) index_anchor(c.anchors[k], slot);
        };
        uint32_t slot = t.find(fp.exact);
        if (slot != kNone && !live(slot)) {  // forgotten: start again in place
            Cluster &c = t.slots[slot];
            const uint32_t prev = c.prev, next = c.next;
            c = Cluster{};
            c.key = fp.exact;
            c.prev = prev;
            c.next = next;
            start(slot);
        }
        if (slot == kNone) {  // nearly the same text?
            // Of the texts within duplicate_near_bits (of their SimHash, or of their last copy's),
            // the one with the most copies, then the nearest: a raid whose copies each change a
            // word joins its own large text, not a pair of copies that happened to start a text.
            const int within = static_cast<int>(r.duplicate_near_bits);
            int best = within + 1;
            uint32_t most = 0;
            for (uint32_t k = 0; k < fp.n_anchors; ++k)
                for_anchor(fp.anchors[k], [&](uint32_t s) {
                    if (!live(s)) return;
                    const Cluster &c = t.slots[s];
                    const int d = std::min(hamming(c.near, fp.near), hamming(c.last_near, fp.near));
                    if (d > within) return;
                    if (slot == kNone || c.copies > most || (c.copies == most && d < best))
                        best = d, slot = s, most = c.copies;
                });
            if (slot != kNone) {
                out.near = true;
                out.distance = best;
            }
        }
        if (slot == kNone && !m.edit) {
            slot = t.insert(fp.exact, [](uint32_t) {});
            start(slot);
        }
        if (slot != kNone) {
            Cluster &c = t.slots[slot];
            t.touch(slot);
            bool mine = false;  // this post id is one of the recorded copies
            for (uint32_t k = 0; k < std::min<uint32_t>(c.n_ids, 8); ++k) mine |= id && c.ids[k] == id;
            // ... or one of its author's last kFloodRing posts (a redelivery after a crash: a text
            // remembers only its last 8 ids, and a raid has more copies than that)
            if (id && !mine && c.copies && author_slot != kNone) {  // (a text just (re)started has none of it)
                const Author &a = authors_->slots[author_slot];
                for (uint32_t k = 0; k < a.n; ++k) mine |= a.ids[k] == static_cast<uint32_t>(id);
            }
            out.copies = c.copies - (mine ? 1 : 0);
            out.dup_since_ms = c.first_ms;
            for (size_t k = 0; k < c.earlier_n; ++k) {
                size_t at = (c.earlier_pos + kEarlierIds - 1 - k) % kEarlierIds;
                std::string_view e(c.earlier[at], c.earlier_len[at]);
                if (!mine || e != m.id.substr(0, kIdBytes)) out.earlier_ids.emplace_back(e);
            }
            if (!m.edit && !mine) {
                ++c.copies;
                c.last_ms = std::max(c.last_ms, now);
                if (out.near) {
                    c.near = (c.near & c.last_near) | (c.near & fp.near) | (c.last_near & fp.near);
                    c.last_near = fp.near;
                    // its own lookup keys too: the next copy may share its triples with it alone
                    for (uint32_t k = 0; k < fp.n_anchors; ++k) index_anchor(fp.anchors[k], slot);
                    c.n_last_anchors = fp.n_anchors;
                    std::copy(fp.anchors, fp.anchors + kAnchors, c.last_anchors);
                }
                if (author) add_distinct(c.author_set, c.n_authors, c.author_sketch, author32);
                if (channel) add_distinct(c.channel_set, c.n_channels, c.channel_sketch, channel);  // (none: no channel)
                if (id) {
                    c.ids[c.id_pos] = id;
                    c.id_pos = static_cast<uint8_t>((c.id_pos + 1) % 8);
                    if (c.n_ids < 8) ++c.n_ids;
                    const size_t len = std::min(m.id.size(), kIdBytes);
                    std::memcpy(c.earlier[c.earlier_pos], m.id.data(), len);
                    c.earlier_len[c.earlier_pos] = static_cast<uint8_t>(len);
                    c.earlier_pos = static_cast<uint8_t>((c.earlier_pos + 1) % kEarlierIds);
                    if (c.earlier_n < kEarlierIds) ++c.earlier_n;
                }
            }
            out.repeat = mine;
            out.authors = c.n_authors;
            out.channels = c.n_channels;
        }
    }

    // ---- flood
    if (author) {
        Table<Author> &t = *authors_;
        uint32_t slot = author_slot;
        if (slot == kNone) slot = t.insert(author, [](uint32_t) {});
        else t.touch(slot);
        Author &a = t.slots[slot];
        const auto id32 = static_cast<uint32_t>(id);
        bool seen_id = false;
        int64_t since = 0;
        for (uint32_t k = 0; k < a.n; ++k) {
            if (id && a.ids[k] == id32) seen_id = true;
            if (elapsed(a.ts[k]) <= r.flood_window_ms) {
                ++out.author_posts;
                since = since ? std::min(since, a.ts[k]) : a.ts[k];
            }
        }
        if (seen_id && out.author_posts) --out.author_posts;  // itself, delivered again
        out.flood_since_ms = since;
        out.repeat |= seen_id;
        if (!m.edit && !seen_id) {
            a.ts[a.pos] = now;
            a.ids[a.pos] = id32;
            a.pos = (a.pos + 1) % kFloodRing;
            if (a.n < kFloodRing) ++a.n;
        }
    }
}

// ---- save and load ---------------------------------------------------------------------------------

namespace {

struct FileHeader {
    char magic[8];
    uint32_t format, fingerprint, cluster_size, author_size, endian, reserved;
    int64_t high_ms;
    uint64_t n_clusters, n_authors;
};

}  // namespace

std::string MemoryStore::serialize() const {
    std::lock_guard<SpinMutex> lk(mu_);
    FileHeader h{};
    std::memcpy(h.magic, kMagic, 8);
    h.format = kFormatVersion;
    h.fingerprint = kFingerprintVersion;
    h.cluster_size = sizeof(Cluster);
    h.author_size = sizeof(Author);
    h.endian = kEndianMark;
    h.high_ms = high_ms_;
    h.n_clusters = clusters_->slots.size();
    h.n_authors = authors_->slots.size();
    std::string out;
    out.reserve(sizeof h + h.n_clusters * sizeof(Cluster) + h.n_authors * sizeof(Author) + 8);
    out.append(reinterpret_cast<const char *>(&h), sizeof h);
    // Oldest first, so that loading in order leaves the LRU order as it was.
    for (uint32_t s = clusters_->tail; s != kNone; s = clusters_->slots[s].prev)
        out.append(reinterpret_cast<const char *>(&clusters_->slots[s]), sizeof(Cluster));
    for (uint32_t s = authors_->tail; s != kNone; s = authors_->slots[s].prev)
        out.append(reinterpret_cast<const char *>(&authors_->slots[s]), sizeof(Author));
    const uint64_t sum = XXH64(out.data(), out.size(), 0);
    out.append(reinterpret_cast<const char *>(&sum), sizeof sum);
    return out;
}

void MemoryStore::load(std::string_view d) {
    FileHeader h{};
    if (d.size() < 8 || std::memcmp(d.data(), kMagic, 8) != 0)
        throw Error(kStateCorrupt, "not a modfilter state file (no MFSTATE magic)");
    if (d.size() < sizeof h + 8) throw Error(kStateCorrupt, "state file is truncated (" + std::to_string(d.size()) + " bytes)");
    std::memcpy(&h, d.data(), sizeof h);
    if (h.format != kFormatVersion || h.fingerprint != kFingerprintVersion || h.endian != kEndianMark ||
        h.cluster_size != sizeof(Cluster) || h.author_size != sizeof(Author))
        throw Error(kStateVersion, "state file has format " + std::to_string(h.format) + ", fingerprint version " +
                                       std::to_string(h.fingerprint) + " (this library: format " +
                                       std::to_string(kFormatVersion) + ", fingerprint version " +
                                       std::to_string(kFingerprintVersion) + ", or another platform)");
    const uint64_t body = h.n_clusters * sizeof(Cluster) + h.n_authors * sizeof(Author);
    if (h.n_clusters > d.size() || h.n_authors > d.size() || d.size() != sizeof h + body + 8)
        throw Error(kStateCorrupt, "state file is truncated or has extra bytes (" + std::to_string(d.size()) +
                                       " bytes, header says " + std::to_string(sizeof h + body + 8) + ")");
    uint64_t sum;
    std::memcpy(&sum, d.data() + d.size() - 8, 8);
    if (XXH64(d.data(), d.size() - 8, 0) != sum) throw Error(kStateCorrupt, "state file is corrupt (checksum mismatch)");

    MemoryStore fresh(budget_);
    const char *p = d.data() + sizeof h;
    for (uint64_t i = 0; i < h.n_clusters; ++i, p += sizeof(Cluster)) {
        Cluster c;
        std::memcpy(&c, p, sizeof c);
        if (c.n_anchors > kAnchors || c.n_last_anchors > kAnchors || c.earlier_n > kEarlierIds || c.earlier_pos >= kEarlierIds || c.n_ids > 8 ||
            c.id_pos >= 8 || fresh.clusters_->find(c.key) != kNone)
            throw Error(kStateCorrupt, "state file is corrupt (entry " + std::to_string(i) + ")");
        for (auto len : c.earlier_len)
            if (len > kIdBytes) throw Error(kStateCorrupt, "state file is corrupt (entry " + std::to_string(i) + ")");
        uint32_t s = fresh.clusters_->insert(c.key, [](uint32_t) {});
        c.prev = fresh.clusters_->slots[s].prev;
        c.next = fresh.clusters_->slots[s].next;
        fresh.clusters_->slots[s] = c;
        for (uint32_t k = 0; k < c.n_anchors; ++k) fresh.index_anchor(c.anchors[k], s);
        for (uint32_t k = 0; k < c.n_last_anchors; ++k) fresh.index_anchor(c.last_anchors[k], s);
    }
    for (uint64_t i = 0; i < h.n_authors; ++i, p += sizeof(Author)) {
        Author a;
        std::memcpy(&a, p, sizeof a);
        if (a.n > kFloodRing || a.pos >= kFloodRing || fresh.authors_->find(a.key) != kNone)
            throw Error(kStateCorrupt, "state file is corrupt (author entry " + std::to_string(i) + ")");
        uint32_t s = fresh.authors_->insert(a.key, [](uint32_t) {});
        a.prev = fresh.authors_->slots[s].prev;
        a.next = fresh.authors_->slots[s].next;
        fresh.authors_->slots[s] = a;
    }
    std::lock_guard<SpinMutex> lk(mu_);
    std::swap(clusters_, fresh.clusters_);
    std::swap(authors_, fresh.authors_);
    std::swap(anchors_, fresh.anchors_);
    std::swap(anchor_mask_, fresh.anchor_mask_);
    high_ms_ = h.high_ms;
}

// ---- decisions -------------------------------------------------------------------------------------

namespace {

Action by_count(uint32_t n, uint32_t flag, uint32_t hold, uint32_t reject) {
    auto at = [&](uint32_t t) { return t && n >= t; };
    return at(reject) ? kReject : at(hold) ? kHold : at(flag) ? kFlag : kAllow;
}

}  // namespace

void apply_state(StateStore &store, const StatePolicy &policy, std::string_view normalized, const PostMeta &m,
                 StateScratch &x, Verdict &v) {
    const StateRules &r = policy.for_channel(m.channel);
    x.fingerprinter.run(normalized, x.fp);
    const int64_t now = m.ts_ms > 0 ? m.ts_ms : wall_clock_ms();
    store.observe(x.fp, m, r, now, x.seen);
    const Seen &s = x.seen;
    v.state_attached = true;
    v.state_route = &policy.route;
    v.state_notes = 0;
    if (m.author.empty()) v.state_notes |= kStateNoteNoAuthor;
    if (m.edit) v.state_notes |= kStateNoteEdit;
    if (s.repeat && !m.edit) v.state_notes |= kStateNoteRepeat;
    if (x.fp.exact && x.fp.words < r.duplicate_min_words) v.state_notes |= kStateNoteShort;

    auto add = [&](const char *name, uint32_t count, Action a) -> StateFinding & {
        StateFinding &f = v.state.emplace_back();
        f.category = name;
        f.count = count;
        f.score = count;
        f.action = a;
        v.action = std::max<int32_t>(v.action, a);
        return f;
    };
    if (x.fp.exact && x.fp.words >= r.duplicate_min_words) {
        const uint32_t copies = s.copies + 1;
        Action a = by_count(copies, r.duplicate_flag, r.duplicate_hold, r.duplicate_reject);
        if (copies >= 2 && a >= kFlag) {
            StateFinding &f = add(kCatDuplicate, copies, a);
            f.authors = s.authors;
            f.channels = s.channels;
            f.since_ms = s.dup_since_ms;
            f.window_ms = r.duplicate_window_ms;
            f.near = s.near;
            f.distance = s.distance;
            f.earlier = s.earlier_ids;
        }
    }
    if (!m.author.empty() && !m.edit) {
        const uint32_t posts = s.author_posts + 1;
        Action a = by_count(posts, r.flood_flag, r.flood_hold, r.flood_reject);
        if (a >= kFlag) {
            StateFinding &f = add(kCatFlood, posts, a);
            f.since_ms = s.flood_since_ms;
            f.window_ms = r.flood_window_ms;
        }
    }
    if (!m.author.empty() && m.age_days >= 0 && m.age_days < r.new_account_days && x.fp.links) {
        Action a = by_count(x.fp.links, r.new_account_flag, r.new_account_hold, 0);
        if (a >= kFlag) {
            StateFinding &f = add(kCatNewAccountLinks, x.fp.links, a);
            f.age_days = m.age_days;
        }
    }
}

}  // namespace mf
