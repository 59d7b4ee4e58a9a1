// The evasion skeleton: a second view of a post, built from the normalized text, in which the
// tricks people use to get a word past a filter are undone:
//   - leetspeak inside words: 4 @ -> a, 3 -> e, 1 ! | -> i, 0 -> o, 5 $ -> s, 7 + -> t, 8 -> b,
//     9 -> g, ph -> f; only in tokens that also hold letters and no other digit, so numbers and
//     codes ("142,460", "F4G-22", "666") are left alone;
//   - letters spaced out or split by punctuation: "f u c k", "f.u.c.k", "f-u-c-k", "f_u_c_k";
//   - a word split once by a dot or a dash ("fu.ck", "sh-it"), or into pieces of one to three
//     letters at least one of which is no common two-letter word ("fu ck", "bi tc h"), where the
//     letters around the split occur so in a vocabulary word (JoinGrams);
//   - masking with '*' or '#' inside a word ("f*ck", "sh#t"): kept as a wildcard that skeleton
//     patterns accept in place of any inner letter (a word whose masked letter the skeleton would
//     fold into its neighbour, "b*obs", "a*s", gets a pattern of its own: compile.cpp add_skeleton);
//   - repeated letters ("fuuuuck"): every run of a letter becomes one letter, in posts and in
//     patterns alike; 'l' and 'i' are one letter (because '1' and '|' stand for both);
//   - look-alike letters (core/lookalike.hpp) in a word that mixes them: small capitals ("ꜰᴜᴄᴋ"),
//     Greek and symbol look-alikes mixed with Latin ("fυcκ", "¢"), "fancy text" strokes of CJK and
//     other scripts ("千ㄩ匚Ҝ"), upside-down text ("ʞɔnɟ": turned back and read in reverse). A word
//     of a post written wholly in Greek, Cyrillic or CJK is left alone. A few symbols count only
//     between letters ("bi†ch", "£ick"; not "Shi†" or "£5": kLookBetweenLetters) and a few letters
//     of European languages only in a word other look-alikes mark ("f∆gøt"; not "brød": kLookWeak).
// Word-list rules are matched against it in addition to the normalized text. A skeleton hit counts
// only when its span holds one of these tricks, so the folding above ("as" and "ass" have the same
// skeleton) never turns an ordinary word into a hit.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "normalize.hpp"
#include "rules.hpp"

namespace mf {

// Which words an '@' that opens a token may start as an 'a' ("@ss"), from the skeletons of the
// vocabulary: per second letter, the third letters that follow, and per second and third letter,
// the fourth. Most '@'s open a handle ("@user"), which then costs no skeleton at all.
class AtWords {
public:
    // Adds a normalized vocabulary word, matched with boundary b: a word that may go on (Prefix,
    // Any) may start a longer token, one that must end (Word, Suffix) only a token as long.
    void add(std::string_view normalized_word, Boundary b = Boundary::Prefix);
    // Whether "a", x, y (lower-case letters, x != 'a', y != x) may begin a vocabulary skeleton.
    bool may_start(char x, char y) const {
        const uint32_t m = next_[static_cast<unsigned char>(x - 'a')];
        return (m >> kGoesOn & 1) || (m >> (y - 'a') & 1);
    }
    // Whether "a", x, y, z (lower-case letters, each unlike the one before) may begin one: a handle
    // such as "@ShenikaRoberts" reads "ash...", as "asshole" starts, but no word starts "ashe".
    bool may_start(char x, char y, char z) const {
        if (!may_start(x, y)) return false;
        const unsigned i = static_cast<unsigned char>(x - 'a');
        const uint32_t m = third_[i * 26 + static_cast<unsigned char>(y - 'a')];
        return (next_[i] >> kGoesOn & 1) || (m >> kGoesOn & 1) || (m >> (z - 'a') & 1);
    }
    bool any() const { return any_; }  // some word's skeleton is too short or odd to tell: no filter
    // The table as kWords words (26 letters, then any(), then 26 x 26 third letters), for the
    // compiled database, and back.
    static constexpr size_t kWords = 27 + 26 * 26;
    void save(uint32_t out[kWords]) const {
        for (int i = 0; i < 26; ++i) out[i] = next_[i];
        out[26] = any_;
        for (int i = 0; i < 26 * 26; ++i) out[27 + i] = third_[i];
    }
    void load(const uint32_t in[kWords]) {
        for (int i = 0; i < 26; ++i) next_[i] = in[i];
        any_ = in[26] != 0;
        for (int i = 0; i < 26 * 26; ++i) third_[i] = in[27 + i];
    }

private:
    static constexpr unsigned kGoesOn = 26;  // the word may go on with any letter here
    uint32_t next_[26] = {};        // bit y: "a" x y starts a word; bit kGoesOn: "a" x is one that may go on
    uint32_t third_[26 * 26] = {};  // [x * 26 + y] bit z: "a" x y z starts a word; kGoesOn: as for next_
    bool any_ = false;
};

// Which words a split may hide ("fu.ck", "sh-it", "fu ck", "bi tc h"): every four letters in a row of
// the vocabulary's words of four letters or more ('l' read as 'i', '^' and '$' for the word's ends).
// A split is undone only where the two letters before it and the two after it are such a window, so
// "well-known", "e.g." and "is it" stay as they are and cost nothing.
class JoinGrams {
public:
    // Adds a normalized vocabulary word (single words of letters only; others are skipped). A word
    // that may go on past its end (Boundary::Prefix, Any: "bitch" of "bitchy") also gets the windows
    // whose last letter is any letter after its end ("tch?": "bi tc hy"), and one that may start
    // inside a word (Suffix, Any) those whose first letter is any letter before its start.
    void add(std::string_view normalized_word, Boundary b = Boundary::Word);
    // Whether l2 l1 | r1 r2 (letters a-z; 0 for the word's end, l2 and r2 only) is such a window.
    bool has(char l2, char l1, char r1, char r2) const noexcept {
        if (bits_.empty()) return false;
        const uint32_t k = ((code(l2) * 27 + code(l1)) * 27 + code(r1)) * 27 + code(r2);
        return bits_[k >> 6] >> (k & 63) & 1;
    }

    // The windows as 64-bit words, for the compiled database, and back (false: not such words).
    const std::vector<uint64_t> &words() const noexcept { return bits_; }
    bool load(std::vector<uint64_t> w) {
        if (!w.empty() && w.size() != kWords) return false;
        bits_ = std::move(w);
        return true;
    }

private:
    static constexpr size_t kWords = (27u * 27 * 27 * 27 + 63) / 64;
    static uint32_t code(char c) noexcept { return c ? static_cast<uint32_t>((c == 'l' ? 'i' : c) - 'a') : 26; }
    std::vector<uint64_t> bits_;
};

// Which tokens of a post no skeleton pattern can match in, from the patterns themselves, so that the
// skeleton leaves them out (see may_match). Built with the skeleton patterns (skeleton_expression)
// and carried by the compiled database.
class TokenFilter {
public:
    // Adds a pattern's skeleton (no space, at least two letters a-z).
    void add(std::string_view skeleton);
    // Whether a match of some pattern may lie in a token: its normalized bytes, without spaces. False
    // only when none can: the token gives the skeleton no letter a-z (every pattern needs two), or it
    // has no two ASCII bytes side by side while each pattern that has no such pair either needs a
    // byte the token does not have.
    bool may_match(const char *t, size_t n) const;
    // The filter as 64-bit words, for the compiled database, and back (false: not a filter's words).
    std::vector<uint64_t> save() const;
    bool load(const uint64_t *w, size_t n);

private:
    // Per pattern without two ASCII bytes side by side: the set of its bytes >= 0x80 (four words of
    // 32 bits, one bit per byte 0x80..0xFF), each of which the post copies into the skeleton as it
    // is, so a token must have them all for the pattern to match in it. Deduplicated.
    std::vector<std::array<uint32_t, 4>> loose_;
};

// For tests: whether Skeleton::build() looks for tricks 32 bytes at a time with AVX2 (the default
// where the processor has it) or 16 at a time; both find the same. Returns whether AVX2 is there.
bool skeleton_wide_blocks(bool on);

class Skeleton {
public:
    // Builds the skeleton of a normalized post when the post shows any of the tricks above;
    // returns false (and builds nothing) when it shows none, which is the case of most posts.
    // at: the vocabulary's words that start with 'a' (nullptr: every '@' that opens a token may).
    // joins: the vocabulary's windows for undoing splits (nullptr: splits are left alone).
    // filter: the skeleton patterns' TokenFilter, so that tokens where none can match are left out
    // (nullptr: only tokens with no letter at all are).
    bool build(const Normalizer &n, const AtWords *at = nullptr, const JoinGrams *joins = nullptr,
               const TokenFilter *filter = nullptr);

    const char *data() const noexcept { return out_.data(); }
    size_t size() const noexcept { return out_.size(); }
    size_t orig_start(size_t s) const noexcept { return start_[s]; }
    size_t orig_end(size_t e) const noexcept { return end_[e - 1]; }
    // Evasion bits (kEvLeet, kEvSeparators, kEvRepeats and the normalizer's) on bytes [s, e).
    uint32_t evasion(size_t s, size_t e) const noexcept;
    // Word-boundary check for a hit [from, to): inside letters joined from "a b i t c h", every
    // letter may start or end a word, since the spacing hid where the words were.
    bool boundary_ok(size_t from, size_t to, Boundary b) const noexcept;

private:
    void emit(char c, uint32_t os, uint32_t oe, uint8_t ev);
    // Normalized bytes [s, e) as they are (fill 0) or each as `fill`, with their offsets and bits.
    void emit_stretch(const Normalizer &n, size_t s, size_t e, char fill);
    void build_range(const Normalizer &n, size_t lo, size_t hi);
    struct Tok {
        size_t a, b;    // the whole token
        size_t ca, cb;  // its core, without edge punctuation
        bool single;    // one letter (or leet character), possibly repeated: "f", "iiii", "5"
        bool after_gap;  // tokens were left out before it (TokenFilter)
    };
    bool lookalike_token(const Normalizer &n, const char *t, size_t a, size_t b, bool *upside);
    void emit_upside_down(const Normalizer &n, const Tok &k);
    std::string letters_;
    // Scratch kept between posts, so that building allocates nothing in the steady state.
    std::vector<std::pair<size_t, size_t>> regions_, spans_;  // tricks found; whole tokens to build
    std::vector<Tok> toks_;
    std::vector<uint8_t> join_, in_run_, split_;  // split_: joined to the previous token by JoinGrams
    const JoinGrams *joins_ = nullptr;
    std::string out_;
    std::vector<uint8_t> joined_;  // 1: from spaced-out single letters; 2: "a" or "i" opening such a run;
                                   // 3: the first letter of a split word's first piece; 4: of a next piece
    uint8_t joining_now_ = 0;
    const TokenFilter *filter_ = nullptr;  // build()'s argument
    std::vector<uint32_t> start_, end_;
    std::vector<uint8_t> ev_;
};

// The skeleton of one normalized word, as a Hyperscan expression of fixed length in which every
// inner letter also accepts a mask character. Empty if the word has no skeleton form (several words,
// or fewer than two letters). A non-empty one is added to `filter` when given.
std::string skeleton_expression(std::string_view normalized_word, size_t *length, TokenFilter *filter = nullptr);

}  // namespace mf
