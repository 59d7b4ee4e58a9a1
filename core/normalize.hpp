// Normalization: turns a post into the text the matcher scans, and keeps, for every byte of that
// text, the byte range of the original post it came from.
//
// What it does, per code point (the same mapping is applied to rule patterns at compile time, so a
// pattern and a post always meet in the same form):
//   - invalid UTF-8: each maximal invalid subsequence becomes U+FFFD and is counted;
//   - NFKC case folding (ICU): fullwidth, mathematical, circled letters, ligatures, case;
//   - default-ignorable code points (zero-width characters, soft hyphen, bidi controls, variation
//     selectors, tags) are dropped;
//   - diacritics on Latin, Greek and Cyrillic letters are dropped, and so are combining marks stacked
//     on such letters ("zalgo");
//   - look-alike letters from other scripts (Cyrillic, Greek, Cherokee, ...) become the Latin letter
//     they imitate, from the Unicode confusables data carried by ICU's spoof checker;
//   - regional-indicator, negative squared/circled and parenthesized letters become plain letters;
//   - middle dots and bullets (U+00B7, U+2022, U+2027, U+2219, U+22C5, U+30FB ...) become '.'.
// An all-ASCII post needs none of this: the matcher scans it in place, case-insensitively, and the
// offset map is the identity (no copy, no ICU).
//
// The offset map gives, for every normalized byte i, the original byte range [start, end) that
// produced it (stored as runs, see Normalizer::Seg). A hit [s, e) in normalized text maps to
// [start[s], end[e - 1]). Dropped code
// points belong to no normalized byte, so a hit spanning them covers them. Expansions (one code
// point to several bytes) repeat the same range, so any later stage that deletes or rewrites bytes
// keeps working by copying ranges along.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mf {

// Evasion technique bits, identical to MF_EVASION_* in the public header.
enum : uint8_t {
    kEvCompat = 0x01,
    kEvConfusable = 0x02,
    kEvInvisible = 0x04,
    kEvCombining = 0x08,
    kEvLeet = 0x10,
    kEvSeparators = 0x20,
    kEvRepeats = 0x40,
    kEvMixedScript = 0x80,
};

// True when every byte is < 0x80.
bool is_ascii(const char *p, size_t n) noexcept;

// Unicode and ICU versions the character tables were built from (for database headers).
std::string unicode_version();

// Opens ICU now (it is otherwise opened on first use); the character table is built a page of 256
// code points at a time, the first time a post needs one.
// Throws std::runtime_error when ICU is unusable.
void normalize_init();

class Normalizer {
public:
    // Normalizes `text`. When the result is the identity (an ASCII post), identity() is true and
    // data() points at `text` itself. Buffers are kept between calls.
    void run(std::string_view text);

    bool identity() const noexcept { return identity_; }
    const char *data() const noexcept { return identity_ ? src_.data() : out_.data(); }
    size_t size() const noexcept { return identity_ ? src_.size() : out_.size(); }

    // Original byte range of the normalized span [s, e) (e > s).
    size_t orig_start(size_t s) const noexcept {
        if (identity_) return s;
        const Seg &g = seg_at(s);
        return g.linear ? g.orig + (s - g.norm) : g.orig;
    }
    size_t orig_end(size_t e) const noexcept {
        if (identity_) return e;
        const Seg &g = seg_at(e - 1);
        return g.linear ? g.orig + (e - g.norm) : g.oend;
    }
    // Evasion bits recorded on normalized bytes [s, e).
    uint32_t evasion(size_t s, size_t e) const noexcept;
    // Calls f(s, e) for each stretch [s, e) of normalized bytes that carries evasion bits, in order.
    template <class F>
    void for_each_evasion(F &&f) const {
        if (identity_) return;
        for (size_t k = 0; k < segs_.size(); ++k)
            if (segs_[k].ev) f(size_t(segs_[k].norm), k + 1 < segs_.size() ? size_t(segs_[k + 1].norm) : out_.size());
    }

    // Calls f(a, b, orig, oend, linear, ev) for each stretch [a, b) of normalized bytes [s, e) that
    // one run of the offset map covers, in order: byte k of a linear stretch comes from original
    // byte orig + (k - a), each byte of a block from [orig, oend); ev is what evasion(k, k + 1) gives
    // for its bytes. One lookup per run instead of one per byte, for stages that copy text along.
    template <class F>
    void for_each_stretch(size_t s, size_t e, F &&f) const {
        if (identity_) {
            if (s < e) f(s, e, static_cast<uint32_t>(s), static_cast<uint32_t>(e), true, uint8_t(0));
            return;
        }
        for (size_t a = s; a < e;) {
            const Seg &g = seg_at(a);  // sets hint_ to its index
            const size_t next = hint_ + 1 < segs_.size() ? size_t(segs_[hint_ + 1].norm) : out_.size();
            const size_t b = next < e ? (next > a ? next : a + 1) : e;
            const auto o = static_cast<uint32_t>(g.linear ? g.orig + (a - g.norm) : g.orig);
            f(a, b, o, g.linear ? static_cast<uint32_t>(o + (b - a)) : g.oend, g.linear, g.ev);
            a = b;
        }
    }

    size_t invalid_utf8() const noexcept { return invalid_; }

    // Where the code points of the look-alike table (core/lookalike.hpp) are in the normalized text,
    // in order (empty for an identity post).
    const std::vector<uint32_t> &lookalikes() const noexcept { return looks_; }
    // The post as given.
    std::string_view source() const noexcept { return src_; }

private:
    // The offset map, as runs: segment i covers normalized bytes [norm, next segment's norm). A
    // linear segment is text that maps to itself (ASCII, perhaps lowercased): byte k comes from
    // original byte orig + (k - norm). A block segment is one code point's replacement: each of its
    // bytes comes from the whole original range [orig, oend). Prose is mostly one linear segment
    // per stretch between non-ASCII characters, so the map costs almost nothing to build.
    struct Seg {
        uint32_t norm, orig, oend;
        uint8_t ev;
        bool linear;
    };
    const Seg &seg_at(size_t k) const noexcept;
    size_t seg_index(size_t k) const noexcept;  // index of seg_at(k)
    void emit_ascii(const char *p, size_t n, uint32_t os, uint8_t ev);
    void emit_block(const char *bytes, size_t n, uint32_t os, uint32_t oe, uint8_t ev);
    void split_at(size_t k);  // starts a segment at normalized byte k

    std::string_view src_;
    bool identity_ = true;
    size_t invalid_ = 0;
    std::string out_;
    std::vector<Seg> segs_;
    std::vector<uint32_t> looks_;
    mutable size_t hint_ = 0;  // the segment found last: lookups mostly go forward, a byte at a time
};

// Normalizes a rule's literal text (a word or phrase) exactly as posts are normalized.
std::string normalize_literal(std::string_view text);

// Decodes one UTF-8 code point at p[0..n). Returns its length (1..4) and stores the code point in
// *cp, or returns the length of the maximal invalid subsequence (>= 1) and stores U+FFFD with
// *valid = false.
size_t decode_utf8(const unsigned char *p, size_t n, uint32_t *cp, bool *valid) noexcept;

// Whether code point cp counts as part of a word (letters, digits, marks; '_' does not).
// A table lookup for planes 0 and 1.
bool is_word_cp(uint32_t cp) noexcept;
// The same answer asked of ICU directly, for checks of code points that posts may never hold (a
// loaded database's literals): is_word_cp() builds the table page of a code point (256 code points
// normalized, about 40 us) the first time the process asks for one of them.
bool is_word_cp_uncached(uint32_t cp) noexcept;

}  // namespace mf
