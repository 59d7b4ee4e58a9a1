// The learned scorer: a logistic regression over the word unigrams and bigrams of a post, beside the
// rules (docs/model.md). A [[model]] in a pack names a weights file; the compiler turns its n-grams
// into a table keyed by their 64-bit hash, and the scanner adds up the weights of the post's n-grams.
//
// Words are read from the normalized text (core/normalize.hpp), so the model sees what the rules see:
// case, width, accents and look-alike letters folded. On top of that, for the model alone:
//   - ASCII is lower-cased (the normalizer leaves an all-ASCII post as written);
//   - a word is a run of letters, digits and non-ASCII characters; apostrophes inside a word are
//     dropped ("don't" is "dont"); every other ASCII character separates words; general punctuation
//     (U+2000..U+206F: dashes, curly quotes, ellipsis) separates words, and every character of four
//     UTF-8 bytes (emoji) is a word of its own;
//   - digits are one digit: every run of digits is "0" ("2day" is "0day", "2017" is "0");
//   - a letter repeated three times or more counts twice ("soooo" is "soo");
//   - "@name" is the word "@" (who is mentioned says nothing about how), and a link (http://,
//     https://, www.) up to the next space is the word "<url>".
// Features are every word and every pair of consecutive words, each counted once. A post's score is
//   z = bias + (sum of the weights of its distinct n-grams) / sqrt(number of its distinct n-grams)
// and its probability 1 / (1 + exp(-z)): scripts/train_model.py trains on exactly these features
// (it reads the words from the mf_features tool, so the two never disagree).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mf {

struct Diagnostic;

// A word of the model's tokenizer: its hash and its bytes [start, end) in the normalized text.
struct ModelWord {
    uint64_t hash;
    uint32_t start, end;
};

// Splits normalized text into the model's words (see above). When `text_out` is given, each word's
// canonical form (as the weights file spells it) is appended, words separated by ' '.
void model_words(const char *text, size_t len, std::vector<ModelWord> &out, std::string *text_out = nullptr);

// A model speaks only on a post of at least this many distinct words. On one or two words a linear
// model is a word list of whatever its training posts happened to contain ("Muslim", "act", "Trump"
// alone): the word lists are the judges of lone words, and the model adds the context they lack.
constexpr size_t kModelMinWords = 3;

// Whether `words` holds at least `n` distinct words (compared by hash; n <= 8).
bool model_has_distinct_words(const std::vector<ModelWord> &words, size_t n);

// The hash of a word in canonical form (64-bit multiply-fold over eight bytes at a time, inline: the
// scanner hashes every word of a post), and of a pair of consecutive words.
uint64_t model_word_hash(std::string_view word);
inline uint64_t model_pair_hash(uint64_t a, uint64_t b) {
    uint64_t h = (a << 21 | a >> 43) ^ (b * 0x9E3779B97F4A7C15ull);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h | 1;  // never 0 (an empty slot)
}

// The weights of one model as read from its file: "bias <number>" once, then "<weight> <tab> <n-gram>"
// lines (an n-gram is one word or two, separated by one space). '#' starts a comment line.
struct ModelWeights {
    double bias = 0;
    std::vector<std::pair<std::string, float>> ngrams;
};

// Parses a weights file; on a mistake adds a diagnostic naming path:line and returns nullptr.
std::shared_ptr<const ModelWeights> parse_model_weights(const std::string &path, std::string_view content,
                                                        std::vector<Diagnostic> &diags);

// The weights of every model of an engine in one hash table, built once per engine, so that a post
// costs one lookup per distinct n-gram however many models there are. A slot holds a 32-bit tag from
// the top of the hash and a 16-bit weight per model (scaled to that model's largest), so that the
// default models (about 55,000 n-grams) fit in a megabyte. An n-gram that no model knows meets a slot
// with its tag about once in 4 billion lookups (with 16-bit tags it was once in 70,000, and a common
// bigram that did, "experience 0", read a weight of 2.9 in every post that held it); the table is
// built with a salt under which no n-gram it holds meets another one's tag on its way to its own
// slot. A bit filter in front of the table answers most lookups of unknown n-grams without touching it.
class ModelTable {
public:
    ModelTable() = default;
    explicit ModelTable(const std::vector<const ModelWeights *> &models);
    size_t models() const { return bias_.size(); }
    double bias(size_t m) const { return bias_[m]; }
    size_t size() const { return n_; }  // distinct n-grams with a weight in some model
    // The weight of an n-gram hash (model_word_hash or model_pair_hash) in model m, 0 when unknown.
    float weight(uint64_t h, size_t m) const {
        const int16_t *s = find(mix(h));
        return s ? static_cast<float>(s[2 + m]) * scale_[m] : 0.0f;
    }
    // Adds, for every model m, the sum of the weights of n hashes to out[m]. Lookups are prefetched
    // a few hashes ahead, so that cache misses overlap instead of following one another.
    void sums(const uint64_t *h, size_t n, double *out) const;

    // The built table as bytes (little-endian, for the compiled database), and back: a loaded
    // engine copies the table instead of hashing and sorting every n-gram of the weights files
    // again. decode() checks the shape (sizes, a free slot to end every probe, finite scales) and
    // returns false on bytes that cannot be a table.
    void encode(std::string &out) const;
    bool decode(std::string_view bytes);

private:
    // An n-gram's hash as the table reads it (slot from the low bits, tag from the top ones).
    uint64_t mix(uint64_t h) const { return (h ^ salt_) * 0xD6E8FEB86659FD93ull; }
    // A slot's tag: 32 bits from the top of the hash, as two int16 (the first odd, so never 0).
    static int16_t tag_lo(uint64_t h) { return static_cast<int16_t>(static_cast<uint16_t>(h >> 32) | 1u); }
    static int16_t tag_hi(uint64_t h) { return static_cast<int16_t>(static_cast<uint16_t>(h >> 48)); }
    // A bit per 2^-20 of the hash space (hash bits 24..43, apart from the slot's low bits and the
    // tag's high ones): clear when no n-gram of any model has that value. 128 KiB, so it stays in
    // cache where the table would not, and most of a post's pairs are known to no model.
    static constexpr unsigned kFilterBits = 20;
    static size_t filter_index(uint64_t h) { return (h >> 24) & ((size_t(1) << kFilterBits) - 1); }
    bool maybe(uint64_t h) const {
        const size_t i = filter_index(h);
        return (filter_[i >> 6] >> (i & 63)) & 1;
    }
    const int16_t *find(uint64_t h) const {
        if (!maybe(h)) return nullptr;
        const int16_t lo = tag_lo(h), hi = tag_hi(h);
        for (size_t i = h & mask_;; i = (i + 1) & mask_) {
            const int16_t *s = &slots_[i * stride_];
            if (s[0] == lo && s[1] == hi) return s;
            if (s[0] == 0) return nullptr;
        }
    }
    std::vector<int16_t> slots_;  // per slot: tag (two int16), then one weight per model
    std::vector<uint64_t> filter_;
    size_t stride_ = 2, mask_ = 0, n_ = 0;
    uint64_t salt_ = 0;
    std::vector<float> scale_;
    std::vector<double> bias_;
};

// The distinct n-grams (words and pairs of consecutive words) of a post, as hashes: a model sums its
// weights over them, each once, so that a post repeating itself does not score higher for it.
class NgramSet {
public:
    void build(const std::vector<ModelWord> &words);
    const std::vector<uint64_t> &hashes() const { return list_; }

private:
    std::vector<uint64_t> table_, list_;  // table_: all zero between builds
    std::vector<uint32_t> used_;          // the slots of table_ the last build filled
};

// The probability of each model of the table for a post: 1 / (1 + exp(-(bias + sum of weights /
// sqrt(distinct n-grams)))), into p[0..models).
void model_probabilities(const ModelTable &t, const NgramSet &g, double *p);

// For every word, the weight it carried toward model m's verdict: its own, and half of each pair's
// it belongs to (every occurrence, so that each place a heavy word appears is shown).
void model_carried(const ModelTable &t, size_t m, const std::vector<ModelWord> &words, std::vector<float> &carried);

}  // namespace mf
