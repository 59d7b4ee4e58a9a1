// Word-bounded literals found by the post's words, not by Hyperscan.
//
// Most literals of the rule packs, and most prefilter atoms of their regexes, must stand at a word
// boundary: a whole word ("idiot"), the start of one ("fuck" in "fucking") or its end ("ass" in
// "dumbass"). Hyperscan finds literals as substrings and cannot check a boundary without turning
// them into regexes, so short ones ("ho", "age", "rat", "men") were reported inside ordinary words
// all the time ("who", "page", "strategy", "comments"): on real prose a match every 15 bytes, which
// cost the main scan more than all its other work together. Here a post is split into words once
// (as core/text.hpp defines them: letters, digits and marks of any script), and each word is looked
// up whole, by its first bytes and by its last bytes, in hash tables of the literals that need
// exactly that: a miss costs a hash and a probe of a small filter.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "rules.hpp"
#include "byte_mask.hpp"
#include "text.hpp"

namespace mf {

// What one scanner remembers of the words it has looked up, so that a word met again costs one
// probe instead of the lookups of WordMatcher::token(). Real posts are mostly a few hundred common
// words ("the", "people", "support"), and a word's hits depend on its bytes alone: a short ASCII
// word that starts with a letter (canonical, up to 16 bytes) is the key, its hits (patterns and
// ends within the word, none for most words) the value. Direct-mapped: a word takes its slot from
// whatever word was there. Owned by one scanner (one thread), tied to one engine's matcher.
class WordCache {
public:
    void clear() {
        slots_.assign(size_t(1) << kBits, Slot{});
        hits_.clear();
        hits_.reserve(kMaxHits + 1024);  // (so that it does not double past its bound: one word's hits more)
    }

private:
    friend class WordMatcher;
    static constexpr unsigned kBits = 14;           // 16,384 words, 384 KB
    static constexpr size_t kMaxBytes = 16;         // longer words are looked up every time
    static constexpr size_t kMaxHits = 1u << 16;    // (512 KB) then the cache starts again
    struct Slot {
        uint64_t k0 = 0, k1 = 0;  // the word's canonical bytes, zero after its end (k0 == 0: empty)
        uint32_t at = 0, n = 0;   // its hits: hits_[at, at + n)
    };
    struct Hit {
        uint32_t pattern, end;  // end: bytes after the word's start
    };
    std::vector<Slot> slots_;
    std::vector<Hit> hits_;
};

class WordMatcher {
public:
    static constexpr size_t kMaxLen = 32;  // longer literals stay in Hyperscan
    // Whether a literal with this boundary can be found here: 1 to kMaxLen bytes, every code point a
    // word character (so a boundary can only fall at its ends), and at least 3 bytes unless it must
    // be a whole word.
    static bool fits(std::string_view bytes, Boundary b);

    // At compile time, before build(): the literal `bytes` (as Hyperscan would find it
    // case-insensitively: ASCII letters in either case) of main-database pattern `pattern`.
    void add(uint32_t pattern, std::string_view bytes, Boundary b);
    // At compile time, before build(): pattern `pattern` is a digit that starts a word (the
    // commitment rules' "#" anchor, `[0-9]` at a word start), reported with the end of that digit.
    void add_digit_start(uint32_t pattern);
    void build();
    size_t size() const { return items_.size(); }
    // Whether pattern `pattern` is found here (and so is not in the main Hyperscan database).
    bool has(uint32_t pattern) const { return pattern < member_.size() && member_[pattern]; }

    // Calls f(pattern, boundary, bytes) for every literal, for the loader's checks; a digit that
    // starts a word as (pattern, Boundary::Prefix, "").
    template <class F>
    void for_each(F &&f) const {
        for (const Item &it : items_) f(it.pattern, boundary_of(it.kind), std::string_view(it.bytes));
        for (uint32_t p : digit_start_) f(p, Boundary::Prefix, std::string_view());
    }

    void encode(std::string &out) const;
    // Loads what encode() wrote, for an engine of npatterns patterns; false when it is malformed.
    bool decode(std::string_view in, size_t npatterns);

    // Calls f(pattern, end) for every literal found in t[0, n) (the normalized post), in order of
    // end (as Hyperscan reports matches); end is the byte after the literal.
    // With `cache` (the caller's, cleared once before its first use with this matcher), words
    // seen before are not looked up again; the hits are the same.
    template <class F>
    void scan(const char *t, size_t n, F &&f, WordCache *cache = nullptr) const;

private:
    enum Kind : uint8_t { kWhole, kStart, kEnd };
    struct Item {
        uint32_t pattern;
        Kind kind;
        std::string bytes;  // canonical: ASCII letters lower-cased
    };
    struct Group {  // the patterns of one (kind, bytes), items_[first, first + count) after build()
        uint64_t hash;
        uint32_t first, count;
    };
    static Kind kind_of(Boundary b) { return b == Boundary::Word ? kWhole : b == Boundary::Prefix ? kStart : kEnd; }
    static Boundary boundary_of(Kind k) { return k == kWhole ? Boundary::Word : k == kStart ? Boundary::Prefix : Boundary::Suffix; }
    // A byte in canonical form: ASCII letters lower-cased, every other byte as it is.
    static unsigned char canonical(unsigned char c) { return static_cast<unsigned char>(static_cast<unsigned>(c - 'A') < 26u ? c | 0x20 : c); }
    static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
    static constexpr unsigned kFilterBits = 18;  // 32 KB: about one word in fifty gets past it by chance
    struct Slot {
        uint64_t hash;
        uint32_t group;  // index into groups_, or kEmpty
    };
    static size_t filter_word(uint64_t h) { return h >> (70 - kFilterBits); }  // the top bits
    static unsigned filter_bit(uint64_t h) { return (h >> 40) & 63; }
    bool maybe(uint64_t h) const { return (filter_[filter_word(h)] >> filter_bit(h)) & 1; }

    static uint64_t hash(const unsigned char *p, size_t len, Kind k, bool lower, size_t room);
    // A word's first (or last) three canonical bytes, packed (zeros for a shorter word), and their bucket.
    static constexpr unsigned kKeyBits = 12;
    static uint32_t bucket(uint32_t three) { return (three * 0x9E3779B1u) >> (32 - kKeyBits); }
    static uint32_t pack3(const unsigned char *p, size_t len, unsigned char low) {
        uint32_t x = static_cast<uint32_t>(p[0] | low);
        if (len > 1) x |= static_cast<uint32_t>(p[1] | low) << 8;
        if (len > 2) x |= static_cast<uint32_t>(p[2] | low) << 16;
        return x;
    }
    struct Lengths {
        uint32_t start = 0, whole = 0;  // bit l - 1: some literal of length l starts (is) a word so
    };
    const Group *find(uint64_t h, const unsigned char *p, size_t len, Kind k, bool lower) const;
    static size_t token_end(const char *t, size_t n, size_t i, bool &ascii);
    template <class F>
    void token(const char *t, size_t n, size_t s, size_t e, bool ascii, F &f) const;
    template <class F>
    void cached_token(const char *t, size_t n, size_t s, size_t e, F &f, WordCache &c) const;
    template <class F>
    void word_pieces(const char *t, size_t n, size_t s, size_t e, bool ascii, F &f) const;
    template <class F>
    void whole_at(const char *t, size_t a, size_t b, F &f) const;
    static void block_masks(const char *p, uint64_t &alnum, uint64_t &high);

    std::vector<Item> items_;
    std::vector<uint32_t> digit_start_;  // the patterns of a digit that starts a word (sorted)
    std::vector<bool> member_;
    std::vector<Group> groups_;
    std::vector<Slot> slots_;  // open addressing by hash
    size_t mask_ = 0;
    std::vector<uint64_t> filter_;  // a bit per literal's hash (see maybe())
    std::vector<Lengths> head_;  // per bucket of a word's first three bytes
    std::vector<uint32_t> end_lengths_;  // per bucket of a word's last three bytes: bit l - 1 for an end of length l
};

// The hash of canonical bytes p[0, len). `lower`: p holds ASCII letters and digits in either case,
// lower-cased here (OR 0x20). `room`: how many bytes from p on may be read (at least len), so that a
// word is read in whole 64-bit words where the text goes on.
inline uint64_t WordMatcher::hash(const unsigned char *p, size_t len, Kind k, bool lower, size_t room) {
    auto mum = [](uint64_t a, uint64_t b) {
        const __uint128_t r = static_cast<__uint128_t>(a) * b;
        return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
    };
    const uint64_t low = lower ? 0x2020202020202020ull : 0;
    uint64_t h = 0x243F6A8885A308D3ull ^ ((len * 4 + k) * 0x9E3779B97F4A7C15ull);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        std::memcpy(&v, p + i, 8);
        h = mum(h ^ (v | low), 0xA0761D6478BD642Full);
    }
    if (i < len) {
        uint64_t v = 0;
        if (room - i >= 8) std::memcpy(&v, p + i, 8);
        else std::memcpy(&v, p + i, len - i);
        h = mum(h ^ ((v | low) & ((uint64_t(1) << (8 * (len - i))) - 1)), 0xE7037ED1A0B428DBull);
    }
    return mum(h ^ (h >> 32), 0x8EBC6AF09C88C6E3ull);
}

inline const WordMatcher::Group *WordMatcher::find(uint64_t h, const unsigned char *p, size_t len, Kind k,
                                                    bool lower) const {
    if (!maybe(h)) return nullptr;
    for (size_t s = h & mask_;; s = (s + 1) & mask_) {
        const Slot &x = slots_[s];
        if (x.group == kEmpty) return nullptr;
        if (x.hash != h) continue;
        const Group &g = groups_[x.group];
        const Item &it = items_[g.first];
        if (it.kind != k || it.bytes.size() != len) continue;
        size_t j = 0;
        while (j < len && static_cast<unsigned char>(it.bytes[j]) == (lower ? p[j] | 0x20 : p[j])) ++j;
        if (j == len) return &g;
    }
}

// Where the word that starts at t[i] ends; clears `ascii` when it holds a byte >= 0x80. ASCII letters
// and digits sixteen at a time.
inline size_t WordMatcher::token_end(const char *t, size_t n, size_t i, bool &ascii) {
    for (;;) {
        i = ascii_alnum_end(t, n, i);
        if (i >= n || static_cast<unsigned char>(t[i]) < 0x80 || !word_at(t, n, i)) return i;
        ascii = false;
        ++i;
        while (i < n && (static_cast<unsigned char>(t[i]) & 0xC0) == 0x80) ++i;
    }
}

template <class F>
void WordMatcher::token(const char *t, size_t n, size_t s, size_t e, bool ascii, F &f) const {
    const size_t len = e - s, hl = len < kMaxLen ? len : kMaxLen;
    // The word's first and last (up to) kMaxLen bytes: in place for an ASCII word (lower-cased as
    // they are read), else copied in canonical form (ASCII letters lower-cased, other bytes as they are).
    const auto *head = reinterpret_cast<const unsigned char *>(t + s), *tail = head + len - hl;
    size_t head_room = n - s, tail_room = n - (e - hl);
    alignas(8) unsigned char hbuf[kMaxLen + 8], tbuf[kMaxLen + 8];  // (filled below, for a word with non-ASCII only)
    if (!ascii) {
        auto canon = [&](const unsigned char *from, unsigned char *to) {
            for (size_t k = 0; k < hl; ++k) to[k] = canonical(from[k]);
        };
        std::memset(hbuf, 0, sizeof hbuf);
        std::memset(tbuf, 0, sizeof tbuf);
        canon(head, hbuf);
        canon(tail, tbuf);
        head = hbuf;
        tail = tbuf;
        head_room = tail_room = hl;
    }
    const unsigned char low = ascii ? 0x20 : 0;
    const uint32_t within = hl >= 32 ? ~0u : (1u << hl) - 1;  // bit l - 1 for every length l <= hl
    // Most words are no literal and start none: one look at the bucket of their first bytes.
    const Lengths &lengths = head_[bucket(pack3(head, len, low))];
    if (len >= 3) {
        for (uint32_t m = lengths.start & within; m; m &= m - 1) {
            const size_t l = static_cast<size_t>(__builtin_ctz(m)) + 1;
            if (const Group *g = find(hash(head, l, kStart, ascii, head_room), head, l, kStart, ascii))
                for (uint32_t k = 0; k < g->count; ++k) f(items_[g->first + k].pattern, s + l);
        }
    }
    if (len <= kMaxLen && ((lengths.whole >> (len - 1)) & 1))
        if (const Group *g = find(hash(head, len, kWhole, ascii, head_room), head, len, kWhole, ascii))
            for (uint32_t k = 0; k < g->count; ++k) f(items_[g->first + k].pattern, e);
    if (len >= 3) {
        for (uint32_t m = end_lengths_[bucket(pack3(tail + hl - 3, 3, low))] & within; m; m &= m - 1) {
            const size_t l = static_cast<size_t>(__builtin_ctz(m)) + 1;
            const unsigned char *p = tail + hl - l;
            if (const Group *g = find(hash(p, l, kEnd, ascii, tail_room - (hl - l)), p, l, kEnd, ascii))
                for (uint32_t k = 0; k < g->count; ++k) f(items_[g->first + k].pattern, e);
        }
    }
}

// Whole-word literals equal to t[a, b), a piece of a word (see word_pieces()).
template <class F>
void WordMatcher::whole_at(const char *t, size_t a, size_t b, F &f) const {
    const size_t len = b - a;
    if (len == 0 || len > kMaxLen) return;
    alignas(8) unsigned char buf[kMaxLen + 8] = {};
    for (size_t k = 0; k < len; ++k) buf[k] = canonical(static_cast<unsigned char>(t[a + k]));
    if (!((head_[bucket(pack3(buf, len, 0))].whole >> (len - 1)) & 1)) return;
    if (const Group *g = find(hash(buf, len, kWhole, false, sizeof buf), buf, len, kWhole, false))
        for (uint32_t k = 0; k < g->count; ++k) f(items_[g->first + k].pattern, b);
}

// A word that starts with digits, or holds a character of three or more bytes, is also looked up by
// pieces, for the anchors of commitment rules, whose words end as the commitment stage splits words
// (runs of ASCII letters and digits and two-byte characters) and may follow a number ("24hrs"): each
// such run of the word, and the rest of a run after its leading digits. Other literals found so are
// turned down by on_match's boundary checks. The word's hits are handed on in order of their end.
template <class F>
void WordMatcher::word_pieces(const char *t, size_t n, size_t s, size_t e, bool ascii, F &f) const {
    std::pair<uint32_t, size_t> hits[64];
    std::vector<std::pair<uint32_t, size_t>> more;  // (a word with more than 64 hits: never seen)
    size_t k = 0;
    auto keep = [&](uint32_t pattern, size_t end) {
        if (k < 64) hits[k++] = {pattern, end};
        else more.emplace_back(pattern, end);
    };
    token(t, n, s, e, ascii, keep);
    for (size_t a = s; a < e;) {
        if (static_cast<unsigned char>(t[a]) >= 0xE0) {  // a character of three or four bytes
            ++a;
            while (a < e && (static_cast<unsigned char>(t[a]) & 0xC0) == 0x80) ++a;
            continue;
        }
        size_t b = a;  // the run [a, b)
        while (b < e && static_cast<unsigned char>(t[b]) < 0xE0) ++b;
        if (a > s || b < e) whole_at(t, a, b, keep);
        size_t d = a;
        while (d < b && ascii_digit(static_cast<unsigned char>(t[d]))) ++d;
        if (d > a && d < b && ascii_alnum(static_cast<unsigned char>(t[d]))) whole_at(t, d, b, keep);
        a = b;
    }
    if (!more.empty()) {
        more.insert(more.begin(), hits, hits + k);
        std::stable_sort(more.begin(), more.end(), [](const auto &x, const auto &y) { return x.second < y.second; });
        for (const auto &h : more) f(h.first, h.second);
        return;
    }
    for (size_t i = 1; i < k; ++i)  // insertion sort by end, stable: the hits are few and nearly in order
        for (size_t j = i; j > 0 && hits[j - 1].second > hits[j].second; --j) std::swap(hits[j - 1], hits[j]);
    for (size_t i = 0; i < k; ++i) f(hits[i].first, hits[i].second);
}

// An ASCII word of letters and digits, t[s, e), that starts with a letter and is at most
// WordCache::kMaxBytes long: its hits from the cache, or from token() into the cache.
template <class F>
void WordMatcher::cached_token(const char *t, size_t n, size_t s, size_t e, F &f, WordCache &c) const {
    const size_t len = e - s;
    uint64_t k0 = 0, k1 = 0;
    if (__builtin_expect(n - s >= 16, 1)) {
        std::memcpy(&k0, t + s, 8);
        std::memcpy(&k1, t + s + 8, 8);
    } else {
        unsigned char buf[16] = {};
        std::memcpy(buf, t + s, len);
        std::memcpy(&k0, buf, 8);
        std::memcpy(&k1, buf + 8, 8);
    }
    // lower-cased as token() reads an ASCII word (| 0x20 leaves digits as they are), then only the
    // word's bytes (masks by length, with no branch that word lengths would make hard to predict)
    static constexpr auto kKeep = [] {
        std::array<std::array<uint64_t, 2>, WordCache::kMaxBytes + 1> m{};
        for (size_t l = 0; l <= WordCache::kMaxBytes; ++l) {
            m[l][0] = l >= 8 ? ~uint64_t(0) : (uint64_t(1) << (8 * l)) - 1;
            m[l][1] = l >= 16 ? ~uint64_t(0) : l <= 8 ? 0 : (uint64_t(1) << (8 * (l - 8))) - 1;
        }
        return m;
    }();
    k0 = (k0 | 0x2020202020202020ull) & kKeep[len][0];
    k1 = (k1 | 0x2020202020202020ull) & kKeep[len][1];
    const uint64_t h = (k0 * 0x9E3779B97F4A7C15ull + k1) * 0xD6E8FEB86659FD93ull;
    WordCache::Slot &slot = c.slots_[h >> (64 - WordCache::kBits)];
    if (slot.k0 == k0 && slot.k1 == k1) {
        for (uint32_t j = slot.at, end = slot.at + slot.n; j < end; ++j) f(c.hits_[j].pattern, s + c.hits_[j].end);
        return;
    }
    if (c.hits_.size() >= WordCache::kMaxHits) c.clear();
    const auto at = static_cast<uint32_t>(c.hits_.size());
    auto keep = [&](uint32_t pattern, size_t end) {
        c.hits_.push_back({pattern, static_cast<uint32_t>(end - s)});
        f(pattern, end);
    };
    token(t, n, s, e, true, keep);
    slot = {k0, k1, at, static_cast<uint32_t>(c.hits_.size() - at)};
}

// Over the 64 bytes at p: a bit per ASCII letter or digit, and per byte of a non-ASCII character.
// Sixteen bytes at a time (top_bits).
inline void WordMatcher::block_masks(const char *p, uint64_t &alnum, uint64_t &high) {
    typedef uint8_t u8x16 __attribute__((vector_size(16)));
    alnum = high = 0;
    for (unsigned k = 0; k < 4; ++k) {
        u8x16 v;
        std::memcpy(&v, p + 16 * k, 16);
        const u8x16 an = (u8x16)(((u8x16)((v | 0x20) - 'a') < 26)) | (u8x16)((u8x16)(v - '0') < 10);
        alnum |= static_cast<uint64_t>(top_bits(an)) << (16 * k);
        high |= static_cast<uint64_t>(top_bits(v)) << (16 * k);
    }
}

template <class F>
void WordMatcher::scan(const char *t, size_t n, F &&f, WordCache *cache) const {
    if (items_.empty() && digit_start_.empty()) return;
    // (after a block that stopped at a non-ASCII character, the words up to that block's end take
    // the word-by-word path: text that mixes scripts would otherwise read each block's masks again
    // for every word, to stop again)
    size_t no_block_before = 0;
    // One word t[a, b): a word that starts with a digit or holds a non-ASCII character by pieces,
    // one that the cache keeps from it.
    auto word = [&](size_t a, size_t b, bool ascii) {
        const bool number = ascii_digit(static_cast<unsigned char>(t[a]));
        if (number)  // (its end comes before any other hit's in this word)
            for (uint32_t p : digit_start_) f(p, a + 1);
        if (number || !ascii) word_pieces(t, n, a, b, ascii, f);
        else if (cache && b - a <= WordCache::kMaxBytes) cached_token(t, n, a, b, f, *cache);
        else token(t, n, a, b, ascii, f);
    };
    for (size_t i = 0; i < n;) {
        const auto c = static_cast<unsigned char>(t[i]);
        if (c < 0x80 ? !ascii_alnum(c) : !word_at(t, n, i)) {
            ++i;
            continue;
        }
        if (cache && c < 0x80 && i >= no_block_before) {
            // The words of the next 64 bytes at once, from their bit masks: each word of ASCII
            // letters and digits that a separator of ASCII ends on both sides, as below; the
            // separators between them cost nothing. A word that touches a non-ASCII character
            // (which may be a letter of the same word) or the block's end is left to the code below.
            // (The last bytes of a post are read from a copy padded with zeros, which end words.)
            uint64_t alnum, high;
            if (__builtin_expect(n - i >= 64, 1)) {
                block_masks(t + i, alnum, high);
            } else {
                char pad[64] = {};
                std::memcpy(pad, t + i, n - i);
                block_masks(pad, alnum, high);
            }
            size_t next = i;
            unsigned last = 0;  // where the last word found here ended
            for (uint64_t m = alnum; m;) {
                const unsigned s = static_cast<unsigned>(__builtin_ctzll(m));
                const uint64_t rest = ~(m >> s);
                if (!rest) break;  // (runs to the block's end)
                const unsigned e = s + static_cast<unsigned>(__builtin_ctzll(rest));
                // (a non-ASCII character since the last word may be a word of its own: "l'été a")
                if (e == 64 || ((high >> e) & 1) || (high & ((uint64_t(1) << s) - 1) & ~((uint64_t(1) << last) - 1))) {
                    if (e < 64) no_block_before = i + 64;
                    break;
                }
                const size_t b = i + e;
                word(i + s, b, true);
                next = b;
                last = e;
                m &= ~((uint64_t(1) << e) - 1);  // (e < 64)
            }
            if (next > i) {
                i = next;
                continue;
            }
        }
        bool ascii = true;
        const size_t e = token_end(t, n, i, ascii);
        word(i, e, ascii);
        i = e;
    }
}

}  // namespace mf
