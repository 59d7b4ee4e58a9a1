// Fingerprints of a post, for the state stage (core/state.hpp): an exact hash and a near-duplicate
// SimHash, both built with xxHash over the post's normalized words.
//
// Algorithm version 3 (kFingerprintVersion; a state file records it and is refused by another):
//   1. the text is the normalizer's output (core/normalize.hpp: NFKC case folding, look-alike
//      letters, invisible characters, diacritics), so those tricks are undone before anything else;
//   2. quoted text is left out: lines starting with '>' (or "&gt;"), [quote]...[/quote] and
//      <blockquote>...</blockquote> blocks, unless the post is nothing but quotes, which then count
//      as its own text (a raid pasted as a quote); an HTML character reference ("&gt;", "&#9733;")
//      is no word (version 3; version 2 read "gt" and "9733" as words, and grouped unrelated posts
//      that were full of them);
//   3. each line is split into words (runs of letters and digits; ASCII is lowercased here since the
//      normalizer leaves an ASCII post as it is); in a word that holds letters, leet digits become
//      letters (4 a, 3 e, 1 i, 0 o, 5 s, 7 t, 8 b, 9 g) and runs of one letter become one letter,
//      and single letters spaced out ("f r e e", "f.r.e.e") are joined into one word, as the
//      skeleton view does for matching (core/skeleton.hpp);
//   4. a link (http://, https://, www.) is one word: its host and path, without query string or
//      fragment, so a tracking parameter changes nothing;
//   5. a word's hash is XXH3-64 of its bytes zero-padded to 16 bytes, or of its bytes alone when it
//      has more than 16 (version 1 hashed the bytes alone: version 2 gives other values, nothing else
//      changed); exact = XXH3-64 of the words' hashes in order; near = the 64-bit SimHash of the set
//      of features {each word, each pair of neighbouring words on one line}; the lookup
//      keys are the 4 smallest hashes of the word triples on one line (pairs for shorter lines).
// Punctuation, case, spacing, evasion tricks and a query string change neither hash; reordered lines
// change only `exact` (features never span lines); a changed word moves `near` by a few bits.
//
// SimHash rather than MinHash: one 64-bit word per post compared with one popcount, computed in one
// pass over the features, where MinHash needs k hashes per feature and k words per post. Finding
// near neighbours of a SimHash by splitting it into bands needs a distance of 3 bits or less, too
// tight for a 20-word post in which one changed word moves about 7 bits; the 4 smallest triple
// hashes (a bottom-k sketch, free once the features are hashed) find the candidates instead, and
// the SimHash distance decides.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mf {

constexpr uint32_t kFingerprintVersion = 3;
constexpr int kAnchors = 4;

struct Fingerprint {
    uint64_t exact = 0;   // 0 for a post with no words
    uint64_t near = 0;    // SimHash
    uint64_t anchors[kAnchors] = {};
    uint32_t n_anchors = 0;
    uint32_t words = 0;   // words outside quotes
    uint32_t links = 0;   // links outside quotes
};

// Computes fingerprints; keeps its buffers between posts (one per thread).
class Fingerprinter {
public:
    // `normalized`: the normalizer's output for the post (Normalizer::data(), size()).
    void run(std::string_view normalized, Fingerprint &out);

private:
    // One pass over the text; keep_quotes: quoted lines and [quote] blocks count as the post's own.
    void pass(std::string_view s, Fingerprint &out, bool keep_quotes);
    void emit_letters();
    size_t link(std::string_view s, size_t j, size_t eol);

    bool saw_quote_ = false;          // the last pass left quoted text out
    std::string word_;                // single letters waiting to be joined ("f r e e")
    uint32_t letters_run_ = 0;        // how many
    std::string w_;                   // a link's word
    static constexpr size_t kPadBefore = 16, kPadAfter = 32;
    std::vector<unsigned char> text_;  // the text, with kPadBefore bytes before it and kPadAfter zeros after
    std::vector<unsigned char> buf_;   // the word being read, lowercased (kPadBefore bytes before it, room after it)
    std::vector<uint64_t> words_;     // hashes of the post's words, in order
    std::vector<size_t> line_start_;  // index into words_ where each line begins
    std::vector<uint64_t> pairs_;     // hashes of neighbouring pairs
    std::vector<uint64_t> triples_;   // hashes of neighbouring triples
};

inline int hamming(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }

}  // namespace mf
