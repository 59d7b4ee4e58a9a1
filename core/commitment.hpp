// The commitment stage: [[commitment]] rules (docs/rule-packs.md) confirmed over the words of a
// sentence. Hyperscan finds the anchors (the first word of each `commit` phrase) in the main pass;
// this stage then checks, on the post's words, that a speaker (`who`) stands right before the
// commitment, that a deliverable (`what`) follows within a few words in the same sentence, and that
// no hedge or negation (`unless`) stands in the clause between them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules.hpp"
#include "word_index.hpp"

namespace mf {

// One word of a post, in normalized bytes. Clitics are words of their own ("we'll" -> "we", "'ll";
// "can't" -> "can", "'t"), and a number keeps its inner separators ("24-48", "21/10/2017").
struct Token {
    uint32_t start, end;
    uint8_t flags;
    enum : uint8_t {
        kSentence = 1,  // the first word of a sentence
        kClause = 2,    // the first word after a comma, colon, semicolon, bracket or dash (or of a sentence)
        kNumber = 4,    // starts with a digit
        kCurly = 8,     // a clitic written with U+2019 ("we’ll"): compared as if written with '
    };
};

// Splits normalized text into tokens. Linear, allocation-free once `out` has grown.
void tokenize(const char *text, size_t len, std::vector<Token> &out);

// The text of a token as a phrase word, in buf: ASCII lowercased (the normalizer leaves an all-ASCII
// post as it was written), "’ll" as "'ll". Empty when the token is too long to be a phrase word.
std::string_view token_text(const char *text, const Token &k, char (&buf)[64]);

// Where the sentence holding byte pos starts, by the same rule as tokenize: '.', '!', '?', '…' and
// line breaks end a sentence, except a '.' between two digits.
size_t sentence_start(const char *text, size_t len, size_t pos);

// Tokenizes the sentence that starts at byte `from` of text (offsets in text), giving the words that
// tokenizing the whole text gives there, and returns where the sentence ends (the byte that ends it,
// or len).
size_t tokenize_sentence(const char *text, size_t len, size_t from, std::vector<Token> &out);

// Phrases as token sequences, looked up by their first token. In a phrase, "#" stands for any
// number and "*" for any one word. A phrase written with a leading "!" is an exception: where it
// matches, it wins over every phrase as long or shorter ("credit" and "!credit card").
class PhraseSet {
public:
    // Adds a phrase; returns false when it has no word at all.
    bool add(std::string_view phrase);
    bool empty() const { return phrases_.empty(); }
    // The first tokens of the phrases, for Hyperscan ("" for a phrase starting with # or *).
    std::vector<std::string> first_tokens() const;
    // The word each phrase is found by, and its place in the phrase: its longest word (the last
    // of the longest), or "#" (a number) for a phrase of short words and a number ("" for a phrase
    // of wildcards only). Distinct pairs, sorted.
    std::vector<std::pair<std::string, uint32_t>> anchor_points() const;
    // The number of tokens of the longest phrase that starts at token i and ends before token lim;
    // 0 if none.
    size_t longest(const char *text, const std::vector<Token> &t, size_t i, size_t lim,
                   uint32_t *phrase = nullptr) const;
    // Whether word k of phrase p is a word of its own (not "#" or "*").
    bool literal_word(uint32_t p, size_t k) const {
        const std::string &w = phrases_[p][k];
        return w != "#" && w != "*";
    }
    // Whether a phrase covers exactly tokens [i, end).
    bool exact(const char *text, const std::vector<Token> &t, size_t i, size_t end) const;

private:
    bool matches(const char *text, const std::vector<Token> &t, size_t i, size_t lim, uint32_t p) const;
    std::vector<std::vector<std::string>> phrases_;
    std::vector<bool> veto_;
    WordIndex first_words_;                     // the first words of the phrases
    std::vector<std::vector<uint32_t>> by_first_;  // per first word: its phrases
    std::vector<uint32_t> wild_first_;
};

// A compiled [[commitment]] rule.
struct CommitmentMatcher {
    PhraseSet who, commit, what, unless;
    // `who` holds "^": the commit phrase may open its sentence or clause with the speaker left out,
    // as agents write ("Will refund the difference now", "Thanks, have added the miles"), unless
    // the sentence is a question ("Will you be home tomorrow?").
    bool who_opens = false;
    // Which words (by their number in the engine's table of words that start a commit phrase) start
    // one of this rule's commit phrases: one hash per word of a sentence, not one per rule.
    std::vector<bool> commit_starts;
    uint32_t within = 8;
    // Checks the commitment whose `commit` phrase starts at token i; on success sets the span (in
    // normalized bytes) from the speaker to the end of the deliverable.
    bool confirm(const char *text, size_t len, const std::vector<Token> &t, size_t i, size_t &from, size_t &to) const;
};

// Builds the matcher of a commitment rule; a phrase that has no word is reported in diags.
CommitmentMatcher build_commitment(const Rule &r, std::vector<Diagnostic> *diags);

}  // namespace mf
