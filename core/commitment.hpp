// The commitment stage: [[commitment]] rules (docs/rule-packs.md) confirmed over the words of a
// sentence. Hyperscan finds the anchors (the first word of each `commit` phrase) in the main pass;
// this stage then checks, on the post's words, that a speaker (`who`) stands right before the
// commitment, that a deliverable (`what`) follows within a few words in the same sentence, and that
// no hedge or negation (`unless`) stands in the clause between them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rules.hpp"
#include "text.hpp"
#include "word_index.hpp"

namespace mf {

// One word of a post, in normalized bytes. Clitics are words of their own ("we'll" -> "we", "'ll";
// "can't" -> "can", "'t"), and a number keeps its inner separators ("24-48", "21/10/2017").
struct Token {
    static constexpr uint32_t kNoWord = 0xFFFFFFFFu, kUnlabelled = 0xFFFFFFFEu;
    uint32_t start, end;
    uint8_t flags;
    // its number among the phrase words, kNoWord when no phrase has it, kUnlabelled until a phrase
    // asks (Sentence::word)
    uint32_t word = kUnlabelled;
    enum : uint8_t {
        kSentence = 1,  // the first word of a sentence
        kClause = 2,    // the first word after a comma, colon, semicolon, bracket or dash (or of a sentence)
        kNumber = 4,    // starts with a digit
        kCurly = 8,     // a clitic written with U+2019 ("we’ll"): compared as if written with '
        kBare = 16,     // a clitic written with no apostrophe ("ll" of "youll"): compared as "'ll"
    };
};

// A token as phrase words are looked up by: its first byte (ASCII lower-cased; the apostrophe of a
// clitic, however written) and its length ("’ll" and the "ll" of "youll" are "'ll": three bytes).
inline unsigned char lookup_first(const char *text, const Token &k) {
    if (k.flags & (Token::kCurly | Token::kBare)) return '\'';
    const auto c = static_cast<unsigned char>(text[k.start]);
    return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c + 32) : c;
}
inline size_t lookup_length(const Token &k) {
    return k.end - k.start - ((k.flags & Token::kCurly) ? 2 : 0) + ((k.flags & Token::kBare) ? 1 : 0);
}

// Where a word written without its apostrophe splits into a word and a clitic, as agents type
// them: "ive" is "i" + "'ve", "youll" "you" + "'ll", "dont" "don" + "'t" (as "don't" tokenizes);
// 0 when it is no such word. Only spellings that are no other English word count ("well", "ill",
// "id", "its", "were", "hell", "shell", "wed" are words of their own); "ill" (I'll) and "well"
// (we'll) count where they open a clause and a word follows (`opens`: "ill send it today", "well
// cover the cost"; not "works well", not "Well, ..."). s[0, n): the word, ASCII letters.
size_t bare_clitic(const unsigned char *s, size_t n, bool opens);

// Byte-level rules of the tokenizer, shared with the scanner's first look from the bytes
// (core/scanner.cpp), which must read words exactly as tokenize() splits them.
// U+2019 RIGHT SINGLE QUOTATION MARK, the apostrophe of most phones, at s[i].
inline bool curly_at(const unsigned char *s, size_t n, size_t i) {
    return i + 2 < n && s[i] == 0xE2 && s[i + 1] == 0x80 && s[i + 2] == 0x99;
}
// Whether s[i] starts a letter of two bytes (U+0080 to U+07FF) as tokenize() reads words: not the
// Latin-1 signs and symbols (U+0080 to U+00BF but ª, µ and º; × and ÷), so that "£10" is "£" and
// the number "10", as "$10" is. A lead byte at the end of the text counts as a letter.
inline bool two_byte_letter(const unsigned char *s, size_t len, size_t i) {
    const unsigned char c = s[i];
    if (c < 0xC2 || c >= 0xE0) return false;
    if (i + 1 >= len) return true;
    const unsigned char d = s[i + 1];
    if (c == 0xC2) return d == 0xAA || d == 0xB5 || d == 0xBA;
    return !(c == 0xC3 && (d == 0x97 || d == 0xB7));
}
// Whether byte i of s ends a sentence (tokenize() sets kSentence after it): '.', '!', '?', a line
// break or the last byte of '…'; not a '.' between two digits, nor the '.' of the rupee's "Rs." before
// its sum ("a credit of Rs. 500", "Rs.500").
inline bool ends_sentence(const unsigned char *s, size_t len, size_t i) {
    const unsigned char c = s[i];
    if (c == '!' || c == '?' || c == '\n' || c == '\r') return true;
    if (c == '.' && i >= 2 && (s[i - 1] | 0x20) == 's' && (s[i - 2] | 0x20) == 'r' &&
        (i == 2 || !ascii_alnum(s[i - 3])) &&
        ((i + 1 < len && ascii_digit(s[i + 1])) || (i + 2 < len && s[i + 1] == ' ' && ascii_digit(s[i + 2]))))
        return false;
    if (c == '.') return !(i > 0 && i + 1 < len && ascii_digit(s[i - 1]) && ascii_digit(s[i + 1]));
    return c == 0xA6 && i >= 2 && s[i - 1] == 0x80 && s[i - 2] == 0xE2;
}
// Whether s[i], inside a number, joins it to the digits after it: "24-48", "21/10/2017", "11:59",
// "1,000", "3.5" (s[i - 1] must exist).
inline bool number_joins(const unsigned char *s, size_t len, size_t i) {
    const unsigned char d = s[i];
    return (d == '-' || d == '/' || d == ':' || d == '.' || d == ',') && i + 1 < len && ascii_digit(s[i + 1]) &&
           ascii_digit(s[i - 1]);
}

// Splits normalized text into tokens. Linear, allocation-free once `out` has grown.
void tokenize(const char *text, size_t len, std::vector<Token> &out);

// The text of a token as a phrase word, in buf: ASCII lowercased (the normalizer leaves an all-ASCII
// post as it was written), "’ll" as "'ll". Empty when the token is too long to be a phrase word.
std::string_view token_text(const char *text, const Token &k, char (&buf)[64]);

// Where the sentence holding byte pos starts, by the same rule as tokenize (ends_sentence): '.', '!',
// '?', '…' and line breaks end a sentence, except a '.' between two digits and the '.' of "Rs." before
// its sum.
size_t sentence_start(const char *text, size_t len, size_t pos);

// Tokenizes the sentence that starts at byte `from` of text (offsets in text), giving the words that
// tokenizing the whole text gives there, and returns where the sentence ends (the byte that ends it,
// or len).
size_t tokenize_sentence(const char *text, size_t len, size_t from, std::vector<Token> &out);

// Tokenizes text[from, to) as tokenize() splits the whole text there, when byte from - 1 and byte to
// (where they exist) are white space: no token spans white space. (Flags may differ: the first token
// is marked as opening a sentence.)
void tokenize_range(const char *text, size_t from, size_t to, std::vector<Token> &out);

// Every word of every phrase of an engine's commitment rules, numbered. A token is looked up here
// at most once (Sentence::word); phrases then compare numbers, not text.
class PhraseWords {
public:
    static constexpr uint32_t kBut = 0, kHowever = 1;  // the words that open a clause of their own
    // "and" and "or", and the words they are followed by ("also", "then") before a verb of the
    // [words] list `join` (words.toml), which carries a commitment over: "I will check the stock
    // and send you a replacement", "we can either ship the missing item or issue a partial refund".
    static constexpr uint32_t kAnd = 2, kOr = 3, kAlso = 4, kThen = 5;
    // The pronouns that, after "and" or "or", start a clause with a subject of its own ("let us
    // check with the team and we will update you within the hour"): a hedge before them hedges the
    // first clause, not this one; a hedge of the rule that starts with a condition ("if", "unless",
    // "once", "when", "whether") before them holds for both.
    static constexpr uint32_t kWe = 6, kI = 7, kThey = 8, kHe = 9, kShe = 10;
    static constexpr uint32_t kIf = 11, kUnless = 12, kOnce = 13, kWhen = 14, kWhether = 15;
    // "it" too, where a verb of its own follows it ("I've chased this up and it's going out today"):
    // "'s", "is", "'ll", "will", "should", "has" (not "check it and it alone").
    static constexpr uint32_t kIt = 16, kItIs = 17, kItWill = 18, kItShould = 19, kItHas = 20, kItS = 21, kItLl = 22;
    // "either" after "and" or "or", as "also" and "then": "we'll look into the order and either send a
    // replacement or refund you".
    static constexpr uint32_t kEither = 23;
    // The name of the [words] list of negations ("no", "not", "never", "'t", "cannot" ...:
    // patterns/promise/words.toml, where @hedge names it): a speaker's phrase that holds one still
    // hedges with it (CommitmentMatcher::confirm: "no charge added to your account" is no promise,
    // where "your request will be processed" is one although "request" hedges). Without the list,
    // no word of a speaker's phrase hedges.
    static constexpr const char *kNegationList = mf::kNegationList;
    // Marks a word of that list (one word: a phrase of several is ignored, check-rules reports it).
    void add_negation(std::string_view w);
    // Whether w is one word as phrases are split into words (letters and digits, or a clitic such
    // as "'t"; not a list mark, a number or a wildcard): what a negation must be.
    bool one_word(std::string_view w);
    bool negation(uint32_t w) const { return w < negation_.size() && negation_[w]; }
    // The name of the [words] list of those verbs; without it, no commitment carries over.
    static constexpr const char *kJoinList = "join";
    // Marks a word (its first word, for a phrase) as a verb of the join list.
    void add_join(std::string_view w);
    bool join_verb(uint32_t w) const { return w < join_.size() && join_[w]; }
    // The name of the [words] list of verbs of checking ("investigate", "check", "look" of "look
    // into"): a hedge that starts with one hedges its own verb, not a verb of the join list that an
    // "and" or "or" joins to it ("I'll investigate your order and get back to you within 24 hours"
    // commits to the callback), unless a condition stands after the check in its sentence: "if",
    // "unless", "once", "when", "whether" or a word of the list `condition` ("I'll check the tracking
    // and send a replacement if it is lost", "... in case it doesn't turn up"). Without the list,
    // every hedge holds for the joined verb too.
    static constexpr const char *kCheckingList = "checking";
    static constexpr const char *kConditionList = "condition";
    // Mark a word (its first word, for a phrase) as a verb of the checking list; a word (one word)
    // of the condition list.
    void add_checking(std::string_view w);
    void add_condition(std::string_view w);
    bool checking_verb(uint32_t w) const { return w < checking_.size() && checking_[w]; }
    // Whether w makes what stands around it conditional: "if" ... "whether", or the condition list.
    bool condition(uint32_t w) const {
        return (w >= kIf && w <= kWhether) || (w < condition_.size() && condition_[w]);
    }
    PhraseWords();
    // (not copied: the sets built with it refer to the phrases it keeps)
    PhraseWords(const PhraseWords &) = delete;
    PhraseWords &operator=(const PhraseWords &) = delete;
    PhraseWords(PhraseWords &&) = default;
    PhraseWords &operator=(PhraseWords &&) = default;
    uint32_t add(std::string_view w);
    // The number of the word, or Token::kNoWord.
    uint32_t find(std::string_view w) const;
    // The number of a token's text (token_text), or Token::kNoWord.
    uint32_t find(const char *text, const Token &k) const;
    size_t size() const { return index_.size(); }

    // A phrase as PhraseSet::add reads it (without its leading "!"): its words (normalized; "#",
    // "*" and clitics as such) and their numbers (kNumberId and kAnyId for "#" and "*"),
    // numbering new words. Kept here, once per distinct phrase (most phrases come from word lists
    // that several rules name), where it stays as long as this object: the sets built with it
    // refer to it.
    static constexpr uint32_t kNumberId = 0xFFFFFFF0u, kAnyId = 0xFFFFFFF1u;
    struct Spelt {
        std::vector<std::string> words;
        std::vector<uint32_t> ids;
        int32_t anchor = -1;  // PhraseSet::anchor_point's place, -1 for none
    };
    const Spelt &spell(std::string_view phrase);

private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, Spelt, Hash, std::equal_to<>> spelt_;
    std::vector<Token> spell_tokens_;  // spell()'s scratch
    bool may_be(unsigned char first, size_t len) const { return (lengths_[first] >> std::min<size_t>(len, 31)) & 1; }
    WordIndex index_;
    uint32_t lengths_[256] = {};  // per first byte: bit n set when a word of n bytes (31: 31 or more) starts so
    std::vector<bool> join_;      // per word number: a verb of the join list
    std::vector<bool> checking_;  // per word number: a verb of the checking list
    std::vector<bool> condition_;  // per word number: a word of the condition list
    std::vector<bool> negation_;  // per word number: a word of the negation list
};

// The tokens of a sentence (or a post) as phrases read them: a token's word is looked up the first
// time a phrase asks for it, and most tokens are never asked for.
struct Sentence {
    const char *text;
    size_t len;
    std::vector<Token> &t;
    const PhraseWords &words;
    size_t size() const { return t.size(); }
    const Token &operator[](size_t k) const { return t[k]; }
    uint32_t word(size_t k) const {
        Token &x = t[k];
        if (x.word == Token::kUnlabelled) x.word = words.find(text, x);
        return x.word;
    }
};

// Phrases as token sequences, looked up by their first token. In a phrase, "#" stands for any
// number and "*" for any one word. A phrase written with a leading "!" is an exception: where it
// matches, it wins over every phrase as long or shorter ("credit" and "!credit card").
// A set refers to the phrases as the PhraseWords it was built with keeps them (PhraseWords::spell):
// that object must outlive it (an engine holds both).
class PhraseSet {
public:
    // Adds a phrase, numbering its words in `words`; returns false when it has no word at all.
    bool add(std::string_view phrase, PhraseWords &words);
    bool empty() const { return spelt_.empty(); }
    // The first tokens of the phrases, for Hyperscan ("" for a phrase starting with # or *).
    std::vector<std::string> first_tokens() const;
    // The word each phrase is found by, and its place in the phrase: its longest word (the last
    // of the longest), or "#" (a number) for a phrase of short words and a number ("" for a phrase
    // of wildcards only). Distinct pairs, sorted.
    std::vector<std::pair<std::string, uint32_t>> anchor_points() const;
    // The same for phrase p (an exception has none: ""; as for a phrase of wildcards only).
    std::pair<std::string, uint32_t> anchor_point(uint32_t p) const;
    size_t size() const { return spelt_.size(); }
    size_t length(uint32_t p) const { return spelt_[p]->ids.size(); }
    // The words of phrase p as written (normalized: ASCII lower case; "#" and "*" as such).
    const std::vector<std::string> &words(uint32_t p) const { return spelt_[p]->words; }
    bool exception(uint32_t p) const { return veto_[p]; }
    // Whether phrase p matches tokens [i, i + its length), all before lim (exceptions not considered).
    bool matches(const Sentence &t, uint32_t p, size_t i, size_t lim) const;
    // The number of tokens of the longest phrase that starts at token i and ends before token lim;
    // 0 if none. The sentence's words are those this set was built with.
    // When an exception wins there, 0, and *vetoed_len (if given) is set to the exception's length.
    size_t longest(const Sentence &t, size_t i, size_t lim, uint32_t *phrase = nullptr, size_t *vetoed_len = nullptr) const;
    // Whether word k of phrase p is a word of its own (not "#" or "*").
    bool literal_word(uint32_t p, size_t k) const { return spelt_[p]->ids[k] < kNumber; }
    // Whether a phrase covers exactly tokens [i, end); *phrase (if given) is then the one of those
    // with the most words of its own (not "#" or "*").
    bool exact(const Sentence &t, size_t i, size_t end, uint32_t *phrase = nullptr) const;

private:
    static constexpr uint32_t kNumber = PhraseWords::kNumberId, kAny = PhraseWords::kAnyId;  // "#" and "*" among a phrase's ids
    // The phrases as a tree of their words, so that finding every phrase that starts at a token
    // reads each following token once, however many phrases share their first words. A node's
    // children: one per word (sorted by number), one for "*" and one for "#"; `ends`: the phrases
    // that end there.
    struct Node {
        std::vector<std::pair<uint32_t, uint32_t>> kids;  // (word number, node)
        int32_t any = -1, number = -1;
        std::vector<uint32_t> ends;
    };
    std::vector<Node> nodes_{1};  // nodes_[0]: the root
    std::vector<uint64_t> first_bits_;  // a bit per word number: some phrase starts with that word
    // Calls f(p) for every phrase p that matches tokens [i, i + its length), its end at most lim,
    // below node n, which tokens [i, pos) led to.
    template <class F>
    void walk(const Sentence &t, size_t pos, size_t lim, uint32_t n, F &f) const;
    // The phrases (for first_tokens and anchor_points), and what matching compares: their words'
    // numbers.
    std::vector<const PhraseWords::Spelt *> spelt_;
    std::vector<bool> veto_;
};

// Whether token k is an "and" or "or" that joins a verb of the join list ("and send",
// "or then issue") in the sentence that ends before token s1: the word a commit word carries over.
bool joins_verb(const Sentence &t, size_t k, size_t s1);

// A compiled [[commitment]] rule.
// How many words before and after a commit word CommitmentMatcher::confirm reads of its sentence:
// a real sentence is shorter, and a run-on one of thousands of words (no full stop) must not cost
// the square of its length (docs/limits.md).
constexpr size_t kReadAround = 96;

struct CommitmentMatcher {
    // (Rules that name the same lists share their sets: see PhraseSetCache.)
    std::shared_ptr<const PhraseSet> who, commit, what, unless;
    // `who` holds "^": the commit phrase may open its sentence or clause with the speaker left out,
    // as agents write ("Will refund the difference now", "Thanks, have added the miles"), unless
    // the sentence is a question ("Will you be home tomorrow?").
    bool who_opens = false;
    // The longest `who` phrase, in words: the speaker's phrase is looked for this far back from the
    // commit phrase (at least 5), so that a phrase as long as "the annual fee of Rs 499" can match.
    uint32_t who_words = 5;
    // Which words (by their number among the engine's phrase words) start one of this rule's commit
    // phrases: one hash per word of a sentence, not one per rule.
    std::vector<bool> commit_starts;
    uint32_t within = 8;
    // How many words after the commit phrase the deliverable may start: `within`, or, across one
    // coordinated verb ("I will check the stock and send you a replacement tomorrow"), `within`
    // words after that "and" (so the scanner looks back this far for a commit word).
    size_t reach() const { return 2 * size_t(within) + 1; }
    // How many words before a deliverable's anchor word, besides `within` (or reach()), its commit
    // phrase may start: the longest commit phrase and the furthest place of an anchor word in a
    // deliverable, and at least 8 (Engine::build_tables).
    uint32_t lead = 8;
    // The longest commit phrase and the furthest place of an anchor word in a deliverable, without
    // lead's floor of 8: a commit phrase that confirms a deliverable starts at most reach() + this
    // many words before the deliverable's anchor word (Scanner::commit_before).
    uint32_t lead_exact = 0;
    // Checks the commitment whose `commit` phrase starts at token i; on success sets the span (in
    // normalized bytes) from the speaker to the end of the deliverable.
    bool confirm(const Sentence &t, size_t i, size_t &from, size_t &to) const;
};

// Builds the matcher of a commitment rule, numbering its phrases' words in `words`; a phrase that has
// no word is reported in diags.
// The phrase sets built so far, by their phrases: most commitment rules name the same lists of
// speakers and hedges, and each distinct list is built once (and held once) for an engine.
struct PhraseListHash {  // (the length and a few phrases at each end: equality compares the rest)
    size_t operator()(const std::vector<std::string> &v) const noexcept {
        size_t h = v.size();
        for (size_t k = 0; k < v.size(); k = k + 1 == 4 && v.size() > 8 ? v.size() - 4 : k + 1)
            h = h * 0x9E3779B97F4A7C15ull ^ std::hash<std::string>{}(v[k]);
        return h;
    }
};
using PhraseSetCache = std::unordered_map<std::vector<std::string>, std::shared_ptr<const PhraseSet>, PhraseListHash>;
// `cache` (when given) must be used with the same `words` every time.
CommitmentMatcher build_commitment(const Rule &r, PhraseWords &words, std::vector<Diagnostic> *diags,
                                   PhraseSetCache *cache = nullptr);

}  // namespace mf
