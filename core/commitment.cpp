#include "commitment.hpp"

#include <algorithm>
#include <array>
#include <unordered_map>

#include "normalize.hpp"
#include "text.hpp"

namespace mf {

namespace {

// Words after the deliverable that a hedge can still stand in.
constexpr size_t kAfter = 3;

// Words from a speaker's clause start to an "and" that carries the speaker over to a second verb
// (CommitmentMatcher::confirm).
constexpr size_t kCarry = 10;

// "but" and "however" start a clause of their own: "I can't feed this back, but I can refund you".
inline bool clause_word(const Sentence &t, size_t k) {
    const uint32_t w = t.word(k);
    return w == PhraseWords::kBut || w == PhraseWords::kHowever;
}

// Whether word k starts a clause joined by "and" or "or" with a subject of its own: "... and we
// will update you", "... or I can refund you" (not "you and your family", "check and send").
inline bool joined_clause(const Sentence &t, size_t k) {
    if (k == 0) return false;
    const uint32_t a = t.word(k - 1);
    if (a != PhraseWords::kAnd && a != PhraseWords::kOr) return false;
    const uint32_t w = t.word(k);
    if (w >= PhraseWords::kWe && w <= PhraseWords::kShe) return true;
    if (w != PhraseWords::kIt || k + 1 >= t.size()) return false;
    const uint32_t v = t.word(k + 1);
    return v >= PhraseWords::kItIs && v <= PhraseWords::kItLl;
}

// Whether a word of a [words] list the commitment stage reads by name (join, checking, negation,
// condition) is no word:
// an exception, a number, a wildcard or a list name.
inline bool marker_word(std::string_view w) {
    return w.empty() || w[0] == '!' || w[0] == '#' || w[0] == '*' || w[0] == '@';
}

// Sets bit `id` of a per-word-number bit vector.
inline void mark(std::vector<bool> &bits, uint32_t id) {
    if (bits.size() <= id) bits.resize(id + 1, false);
    bits[id] = true;
}

}  // namespace

namespace {

// A word of up to 8 bytes, ASCII letters lower-cased (OR 0x20), as one number.
uint64_t pack8(const unsigned char *s, size_t n) {
    uint64_t key = 0;
    for (size_t k = 0; k < n; ++k) key |= uint64_t(s[k] | 0x20) << (8 * k);
    return key;
}
uint64_t pack8(std::string_view w) { return pack8(reinterpret_cast<const unsigned char *>(w.data()), w.size()); }

// Token x as pack8() reads it, or 0 when it is longer than 8 bytes.
uint64_t pack8(const char *text, const Token &x) {
    const size_t n = x.end - x.start;
    return n <= 8 ? pack8(reinterpret_cast<const unsigned char *>(text) + x.start, n) : 0;
}

// Whether token x opens a noun phrase: "your", "the", "a", "an", "our", "my", "ur", "someone",
// "somebody" (not "this" or "that": "check the order and that your parcel will arrive").
bool determiner(const char *text, const Token &x) {
    const uint64_t k = pack8(text, x);
    return k && (k == pack8("your") || k == pack8("the") || k == pack8("a") || k == pack8("an") || k == pack8("our") ||
                 k == pack8("my") || k == pack8("ur") || k == pack8("someone") || k == pack8("somebody"));
}

// Whether token x is a word of apology: "sorry", "apologise", "apologize", "apologies".
bool apology(const char *text, const Token &x) {
    const std::string_view w(text + x.start, x.end - x.start);
    auto is = [&](std::string_view a) { return w.size() == a.size() && starts_with_ci(w, 0, a); };
    return is("sorry") || is("apologise") || is("apologize") || is("apologies");
}

// Whether token x says the speaker doubts: "sure", "unsure", "certain", "think", "believe", "know", "doubt".
bool doubt(const char *text, const Token &x) {
    const uint64_t k = pack8(text, x);
    return k && (k == pack8("sure") || k == pack8("unsure") || k == pack8("certain") || k == pack8("think") ||
                 k == pack8("believe") || k == pack8("know") || k == pack8("doubt"));
}

// Whether token x is "me" or "us" ("let me check", "let us look into it").
bool pronoun_me_us(const char *text, const Token &x) {
    const uint64_t k = pack8(text, x);
    return k && (k == pack8("me") || k == pack8("us"));
}

// Whether a condition ("if" ... "whether", or a word of the condition list) stands in t[from, s1).
bool condition_in(const Sentence &t, size_t from, size_t s1) {
    for (size_t q = from; q < s1; ++q)
        if (t.words.condition(t.word(q))) return true;
    return false;
}

}  // namespace

size_t bare_clitic(const unsigned char *s, size_t n, bool opens) {
    if (n < 2 || n > 8) return 0;
    // (the number is where the clitic starts; looked up in a table of 128 slots by a hash of the word)
    static constexpr std::pair<std::string_view, uint8_t> kWords[] = {
        {"aint", 3},    {"arent", 4},   {"cant", 3},     {"couldnt", 6}, {"couldve", 5}, {"didnt", 4},
        {"doesnt", 5},  {"dont", 3},    {"hadnt", 4},    {"hasnt", 4},   {"havent", 5},  {"heres", 4},
        {"im", 1},      {"isnt", 3},    {"itll", 2},     {"ive", 1},     {"mustnt", 5},  {"neednt", 5},
        {"shouldnt", 7}, {"shouldve", 6}, {"thatll", 4}, {"thats", 4},   {"therell", 5}, {"theres", 5},
        {"theyd", 4},   {"theyll", 4},  {"theyre", 4},   {"theyve", 4},  {"wasnt", 4},   {"weve", 2},
        {"werent", 4},  {"whats", 4},   {"wont", 3},     {"wouldnt", 6}, {"wouldve", 5}, {"youd", 3},
        {"youll", 3},   {"youre", 3},   {"youve", 3}};
    struct Slot {
        uint64_t key = 0;
        uint8_t split = 0;
    };
    // Most words are none of these, and their first letter with their length, or their last letter,
    // says so without the table ("the", "that", "this", "with": a bit per length of a first letter).
    static constexpr auto kFirstLen = [] {
        std::array<uint16_t, 32> m{};
        for (const auto &[w, split] : kWords) m[(w[0] | 0x20) & 31] |= uint16_t(1u << w.size());
        m['i' & 31] |= 1u << 3;  // "ill" and "well", below
        m['w' & 31] |= 1u << 4;
        return m;
    }();
    const unsigned char first = s[0] | 0x20, last = s[n - 1] | 0x20;
    if (first < 'a' || first > 'z' || !((kFirstLen[first & 31] >> n) & 1)) return 0;
    if (last != 't' && last != 'e' && last != 's' && last != 'l' && last != 'd' && last != 'm') return 0;
    static constexpr unsigned kBits = 7;
    static const auto slot_of = [](uint64_t key) { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> (64 - kBits)); };
    static const std::array<Slot, size_t(1) << kBits> table = [] {
        std::array<Slot, size_t(1) << kBits> t{};
        for (const auto &[w, split] : kWords) {
            const uint64_t key = pack8(w);
            size_t i = slot_of(key);
            while (t[i].key) i = (i + 1) & (t.size() - 1);
            t[i] = {key, split};
        }
        return t;
    }();
    const uint64_t key = pack8(s, n);
    for (size_t i = slot_of(key); table[i].key; i = (i + 1) & (table.size() - 1))
        if (table[i].key == key) return table[i].split;
    if (opens && (key == pack8("ill") || key == pack8("well"))) return key == pack8("ill") ? 1 : 2;
    return 0;
}

std::string_view token_text(const char *text, const Token &k, char (&buf)[64]) {
    size_t a = k.start, n = 0;
    if (k.flags & Token::kCurly) {
        buf[n++] = '\'';
        a += 3;
    } else if (k.flags & Token::kBare) {
        buf[n++] = '\'';
    }
    if (k.end - a + n > sizeof buf) return {};
    for (size_t i = a; i < k.end; ++i) {
        char c = text[i];
        buf[n++] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    return {buf, n};
}

size_t sentence_start(const char *text, size_t len, size_t pos) {
    // Most bytes cannot end a sentence: one table lookup each.
    static const auto may_end = [] {
        std::array<bool, 256> m{};
        for (unsigned char c : {'!', '?', '\n', '\r', '.', '\xA6'}) m[c] = true;
        return m;
    }();
    const auto *s = reinterpret_cast<const unsigned char *>(text);
    while (pos > 0 && !(may_end[s[pos - 1]] && ends_sentence(s, len, pos - 1))) --pos;
    return pos;
}

namespace {

// The tokenizer, from byte `from` of text; with one_sentence, it stops where the sentence ends and
// returns that place (the byte that ends it, or len). Offsets are in text.
template <bool one_sentence>
size_t tokenize_from(const char *text, size_t len, size_t from, std::vector<Token> &out) {
    out.clear();
    const auto *s = reinterpret_cast<const unsigned char *>(text);
    uint8_t pending = Token::kSentence | Token::kClause;
    size_t i = from;
    auto push = [&](size_t a, size_t b, uint8_t f) {
        out.push_back({static_cast<uint32_t>(a), static_cast<uint32_t>(b), static_cast<uint8_t>(f | pending)});
        pending = 0;
    };
    while (i < len) {
        unsigned char c = s[i];
        if (ascii_alnum(c) || two_byte_letter(s, len, i)) {
            // A word: ASCII letters and digits, and letters of other scripts (two-byte sequences).
            size_t a = i;
            const bool number = ascii_digit(c);
            while (i < len) {
                unsigned char d = s[i];
                if (ascii_alnum(d)) {
                    // a number ends where letters start: "5pm" is "5" and "pm", "24hrs" "24" and "hrs"
                    if (number && !ascii_digit(d)) break;
                    i = number ? i + 1 : ascii_alnum_end(text, len, i);  // a word: its letters and digits at once
                } else if (two_byte_letter(s, len, i)) {
                    i += 2;
                } else if (number && number_joins(s, len, i)) {
                    ++i;  // 24-48, 21/10/2017, 11:59, 1,000
                } else {
                    break;
                }
            }
            i = std::min(i, len);
            bool straight = i < len && s[i] == '\'', curly = curly_at(s, len, i);
            // A contraction typed without its apostrophe ("ive", "youll", "dont"): two tokens, as
            // if it had one. "ill" and "well" only where they open a clause and a word follows.
            // (bare_clitic's words are ASCII: a word with a letter of two bytes is none of them)
            size_t bare = 0;
            if (!number && !straight && !curly && (i == len || s[i] < 0x80)) {
                const bool opens = (pending & Token::kClause) && i + 1 < len && s[i] == ' ' && ascii_alnum(s[i + 1]);
                bare = bare_clitic(s + a, i - a, opens);
            }
            if (bare) {
                push(a, a + bare, 0);
                push(a + bare, i, Token::kBare);
                continue;
            }
            push(a, i, number ? Token::kNumber : 0);
            // A clitic: an apostrophe between a word and letters.
            size_t b = i + (straight ? 1 : curly ? 3 : 0);
            if ((straight || curly) && b < len && ascii_alnum(s[b]) && !ascii_digit(s[b])) {
                size_t e = b;
                while (e < len && ascii_alnum(s[e])) ++e;
                push(i, e, curly ? Token::kCurly : 0);
                i = e;
            }
            continue;
        }
        if (c < 0x80) {
            if (ends_sentence(s, len, i)) {
                if (one_sentence) return i;
                pending |= Token::kSentence | Token::kClause;
            }
            else if (c == ',' || c == ';' || c == ':' || c == '(' || c == ')' || c == '[' || c == ']')
                pending |= Token::kClause;
            else if (c == '-' && i > 0 && i + 1 < len && s[i - 1] == ' ' && s[i + 1] == ' ')
                pending |= Token::kClause;  // " - " as a dash
            ++i;
            continue;
        }
        // Other non-ASCII: punctuation, symbols, emoji and letters of three- and four-byte scripts.
        size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 1;
        if (c == 0xE2 && i + 2 < len && s[i + 1] == 0x80) {
            unsigned char d = s[i + 2];
            if (d == 0xA6) {  // … ellipsis
                if (one_sentence) return i + 2;
                pending |= Token::kSentence | Token::kClause;
            } else if (d == 0x93 || d == 0x94) {
                pending |= Token::kClause;  // – — dashes
            }
        }
        i += n;
    }
    return len;
}

}  // namespace

void tokenize(const char *text, size_t len, std::vector<Token> &out) { tokenize_from<false>(text, len, 0, out); }

size_t tokenize_sentence(const char *text, size_t len, size_t from, std::vector<Token> &out) {
    return tokenize_from<true>(text, len, from, out);
}

void tokenize_range(const char *text, size_t from, size_t to, std::vector<Token> &out) {
    tokenize_from<false>(text, to, from, out);
}

PhraseWords::PhraseWords() {
    add("but");
    add("however");
    add("and");
    add("or");
    add("also");
    add("then");
    add("we");
    add("i");
    add("they");
    add("he");
    add("she");
    add("if");
    add("unless");
    add("once");
    add("when");
    add("whether");
    add("it");
    add("is");
    add("will");
    add("should");
    add("has");
    add("'s");
    add("'ll");
    add("either");
}

bool PhraseWords::one_word(std::string_view w) {
    if (marker_word(w)) return false;
    const Spelt &sp = spell(w);  // normalized as every phrase word is ("’t" is "'t")
    return sp.ids.size() == 1 && sp.ids[0] != kNumberId && sp.ids[0] != kAnyId;
}

void PhraseWords::add_negation(std::string_view w) {
    if (one_word(w)) mark(negation_, spell(w).ids[0]);
}

namespace {
// A phrase's first word, or nothing for a marker ("@list", "#", "*").
std::string_view first_word(std::string_view w) {
    const size_t sp = w.find(' ');
    if (sp != std::string_view::npos) w = w.substr(0, sp);
    return marker_word(w) ? std::string_view() : w;
}
}  // namespace

void PhraseWords::add_join(std::string_view w) {
    if (!(w = first_word(w)).empty()) mark(join_, add(w));
}

void PhraseWords::add_checking(std::string_view w) {
    if (!(w = first_word(w)).empty()) mark(checking_, add(w));
}

void PhraseWords::add_condition(std::string_view w) {
    if (one_word(w)) mark(condition_, spell(w).ids[0]);
}

uint32_t PhraseWords::add(std::string_view w) {
    lengths_[static_cast<unsigned char>(w[0])] |= 1u << std::min<size_t>(w.size(), 31);
    return index_.add(w);
}

uint32_t PhraseWords::find(std::string_view w) const {
    if (w.empty() || !may_be(static_cast<unsigned char>(w[0]), w.size())) return Token::kNoWord;
    const int32_t id = index_.find(w);
    return id < 0 ? Token::kNoWord : static_cast<uint32_t>(id);
}

uint32_t PhraseWords::find(const char *text, const Token &k) const {
    // Most words of a sentence have a first byte (lower case) and a length that no phrase word has:
    // no copy and no hash for them.
    if (!may_be(lookup_first(text, k), lookup_length(k))) return Token::kNoWord;
    char buf[64];
    const std::string_view w = token_text(text, k, buf);
    const int32_t id = w.empty() ? -1 : index_.find(w);
    return id < 0 ? Token::kNoWord : static_cast<uint32_t>(id);
}

namespace {

// The place of the word a phrase (not an exception) is found by, -1 when it has none (wildcards
// only): PhraseSet::anchor_point.
int32_t anchor_of(const std::vector<std::string> &words) {
    // Words too common in any text to find a phrase by, when the phrase has another (sorted).
    static const std::string_view kCommon[] = {
        "a", "all", "an", "and", "any", "are", "at", "back", "be", "business", "by", "can", "day", "end",
        "for", "from", "get", "got", "has", "have", "i", "in", "is", "it", "me", "more", "my", "no", "not",
        "of", "off", "on", "or", "our", "out", "that", "the", "this", "time", "to", "up", "us", "way", "we",
        "will", "with", "working", "you", "your"};
    // Function words that every text is full of, and that no phrase should be found by while it has
    // any other word (sorted): possessives, quantifiers, prepositions ("their" of "on their way" is
    // four times as frequent as "way"; "some" of "some pts", "into" of "paid into your").
    static const std::string_view kFunction[] = {
        "about", "his", "into", "its", "many", "more", "most", "much", "onto", "over", "some", "than",
        "their", "them", "then", "there", "these", "those", "through", "under"};
    // (looked up in a hash map built once: every new phrase of every load asks for each of its words)
    static const std::unordered_map<std::string_view, int> kTier = [] {
        std::unordered_map<std::string_view, int> m;
        for (std::string_view w : kCommon) m.emplace(w, 1);
        for (std::string_view w : kFunction) m[w] = 2;
        return m;
    }();
    auto tier = [](std::string_view x) {
        const auto it = kTier.find(x);
        return it == kTier.end() ? 0 : it->second;
    };
    // The word of the lowest tier (kFunction, kCommon, any other), of those the longest: the longest
    // word is likely the rarest ("days" of "in # days", "going" of "is going to"). A phrase of short
    // words and a number is found by its number ("#": a digit that starts a word).
    std::string w;
    uint32_t at = 0, number_at = 0;
    bool number = false;
    int w_tier = 3;
    for (uint32_t k = 0; k < words.size(); ++k) {
        if (words[k] == "#") {
            if (!number) number_at = k;
            number = true;
            continue;
        }
        if (words[k] == "*") continue;
        const int t = tier(words[k]);
        if (w.empty() || t < w_tier || (t == w_tier && words[k].size() >= w.size())) {
            w = words[k];
            at = k;
            w_tier = t;
        }
    }
    const bool w_common = w_tier > 0;
    if (number && (w.size() < 4 || w_common)) {
        w = "#";
        at = number_at;
    }
    return w.empty() ? -1 : static_cast<int32_t>(at);
}

}  // namespace

const PhraseWords::Spelt &PhraseWords::spell(std::string_view phrase) {
    if (auto it = spelt_.find(phrase); it != spelt_.end()) return it->second;
    Spelt out;
    std::vector<std::string> &words = out.words;
    std::string norm = normalize_literal(phrase);
    size_t i = 0;
    while (i < norm.size()) {
        while (i < norm.size() && norm[i] == ' ') ++i;
        size_t e = norm.find(' ', i);
        if (e == std::string::npos) e = norm.size();
        std::string_view piece(norm.data() + i, e - i);
        if (piece == "#" || piece == "*") {
            words.emplace_back(piece);
        } else if (!piece.empty() && (piece[0] == '\'' || piece.substr(0, 3) == "\xE2\x80\x99")) {
            // A clitic on its own ("'ll", "’ve"): the apostrophe is part of the word.
            words.push_back("'" + std::string(piece.substr(piece[0] == '\'' ? 1 : 3)));
        } else if (!piece.empty()) {
            std::vector<Token> &toks = spell_tokens_;  // (tokenize() clears it)
            tokenize(piece.data(), piece.size(), toks);
            for (const Token &k : toks)
                words.push_back((k.flags & Token::kCurly)  ? "'" + std::string(piece.substr(k.start + 3, k.end - k.start - 3))
                                : (k.flags & Token::kBare) ? "'" + std::string(piece.substr(k.start, k.end - k.start))
                                                           : std::string(piece.substr(k.start, k.end - k.start)));
        }
        i = e;
    }
    for (const std::string &w : words) out.ids.push_back(w == "#" ? kNumberId : w == "*" ? kAnyId : add(w));
    out.anchor = anchor_of(out.words);
    return spelt_.emplace(std::string(phrase), std::move(out)).first->second;
}

bool PhraseSet::add(std::string_view phrase, PhraseWords &vocab) {
    const bool veto = !phrase.empty() && phrase[0] == '!';
    if (veto) phrase.remove_prefix(1);
    // (most phrases come from word lists that several rules name: each is read once, PhraseWords::spell)
    const PhraseWords::Spelt &spelt = vocab.spell(phrase);
    if (spelt.words.empty()) return false;
    uint32_t id = static_cast<uint32_t>(spelt_.size());
    const std::vector<uint32_t> &ids = spelt.ids;
    uint32_t n = 0;
    for (uint32_t w : ids) {
        int32_t next = -1;
        if (w == kAny || w == kNumber) {
            next = w == kAny ? nodes_[n].any : nodes_[n].number;
        } else {
            auto &kids = nodes_[n].kids;
            auto at = std::lower_bound(kids.begin(), kids.end(), std::make_pair(w, 0u));
            if (at != kids.end() && at->first == w) next = static_cast<int32_t>(at->second);
        }
        if (next < 0) {
            next = static_cast<int32_t>(nodes_.size());
            if (w == kAny) nodes_[n].any = next;
            else if (w == kNumber) nodes_[n].number = next;
            else {
                auto &kids = nodes_[n].kids;
                kids.insert(std::lower_bound(kids.begin(), kids.end(), std::make_pair(w, 0u)), {w, static_cast<uint32_t>(next)});
            }
            nodes_.emplace_back();  // (after the last use of a reference into nodes_)
        }
        n = static_cast<uint32_t>(next);
    }
    nodes_[n].ends.push_back(id);
    if (ids[0] < kNumber) {
        if (first_bits_.size() <= ids[0] / 64) first_bits_.resize(ids[0] / 64 + 1, 0);
        first_bits_[ids[0] / 64] |= uint64_t(1) << (ids[0] % 64);
    }
    spelt_.push_back(&spelt);
    veto_.push_back(veto);
    return true;
}

std::vector<std::string> PhraseSet::first_tokens() const {
    // (the same word has the same number in every phrase)
    std::vector<std::string> out;
    bool wild = false;
    for (size_t p = 0; p < spelt_.size(); ++p) {
        if (spelt_[p]->ids[0] >= kNumber) wild = true;
        else if (!veto_[p]) out.push_back(spelt_[p]->words[0]);
    }
    if (wild) out.emplace_back();
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::pair<std::string, uint32_t> PhraseSet::anchor_point(uint32_t p) const {
    const int32_t a = spelt_[p]->anchor;
    if (veto_[p] || a < 0) return {};
    return {spelt_[p]->words[a], static_cast<uint32_t>(a)};
}

std::vector<std::pair<std::string, uint32_t>> PhraseSet::anchor_points() const {
    std::vector<std::pair<std::string, uint32_t>> out;
    for (uint32_t p = 0; p < spelt_.size(); ++p)
        if (!veto_[p]) out.push_back(anchor_point(p));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

bool PhraseSet::matches(const Sentence &t, uint32_t p, size_t i, size_t lim) const {
    const std::vector<uint32_t> &ids = spelt_[p]->ids;
    if (i + ids.size() > lim) return false;
    for (size_t k = 0; k < ids.size(); ++k) {
        if (ids[k] == kAny) continue;
        if (ids[k] == kNumber ? !(t[i + k].flags & Token::kNumber) : t.word(i + k) != ids[k]) return false;
    }
    return true;
}

template <class F>
void PhraseSet::walk(const Sentence &t, size_t pos, size_t lim, uint32_t n, F &f) const {
    const Node &node = nodes_[n];
    for (uint32_t p : node.ends) f(p);
    if (pos >= lim) return;
    if (!node.kids.empty()) {
        const uint32_t w = t.word(pos);
        // most words start no phrase: one bit says so, before a search of the root's children
        if (w != Token::kNoWord && (n || (w / 64 < first_bits_.size() && ((first_bits_[w / 64] >> (w % 64)) & 1)))) {
            const auto &kids = node.kids;
            auto at = kids.size() <= 8 ? std::find_if(kids.begin(), kids.end(), [w](const auto &x) { return x.first >= w; })
                                       : std::lower_bound(kids.begin(), kids.end(), std::make_pair(w, 0u));
            if (at != kids.end() && at->first == w) walk(t, pos + 1, lim, at->second, f);
        }
    }
    if (node.number >= 0 && (t[pos].flags & Token::kNumber)) walk(t, pos + 1, lim, static_cast<uint32_t>(node.number), f);
    if (node.any >= 0) walk(t, pos + 1, lim, static_cast<uint32_t>(node.any), f);
}

size_t PhraseSet::longest(const Sentence &t, size_t i, size_t lim, uint32_t *phrase, size_t *vetoed_len) const {
    if (vetoed_len) *vetoed_len = 0;
    if (i >= lim) return 0;
    // The longest phrase; of those as long, an exception; of those, the first added, a phrase that
    // starts with a word before one that starts with "*" or "#".
    size_t best = 0;
    bool vetoed = false;
    uint64_t best_rank = ~uint64_t(0);
    auto consider = [&](uint32_t p) {
        const std::vector<uint32_t> &ids = spelt_[p]->ids;
        const size_t len = ids.size();
        const uint64_t rank = (ids[0] >= kNumber ? uint64_t(1) << 32 : 0) | p;
        if (len > best || (len == best && (veto_[p] ? !vetoed || rank < best_rank : !vetoed && rank < best_rank))) {
            best = len;
            vetoed = veto_[p];
            best_rank = rank;
            if (phrase) *phrase = p;
        }
    };
    walk(t, i, lim, 0, consider);
    if (vetoed && vetoed_len) *vetoed_len = best;
    return vetoed ? 0 : best;
}

bool PhraseSet::exact(const Sentence &t, size_t i, size_t end, uint32_t *phrase) const {
    bool found = false;
    size_t best_literal = 0;
    auto consider = [&](uint32_t p) {
        const std::vector<uint32_t> &ids = spelt_[p]->ids;
        if (veto_[p] || ids.size() != end - i) return;
        size_t literal = 0;
        for (uint32_t w : ids) literal += w < kNumber;
        if (!found || literal > best_literal) {
            if (phrase) *phrase = p;
            best_literal = literal;
        }
        found = true;
    };
    walk(t, i, end, 0, consider);
    return found;
}

namespace {

// Whether the sentence whose last token is t[end - 1] ends with a question mark.
bool question(const char *text, size_t len, const std::vector<Token> &t, size_t end) {
    if (!end) return false;
    size_t k = t[end - 1].end;
    while (k < len && (text[k] == ' ' || text[k] == '\t' || text[k] == ')' || text[k] == '"' || text[k] == '\'')) ++k;
    return k < len && text[k] == '?';
}

// Whether token i opens its sentence (which starts at token s0), or the clause after a first one of
// at most three words: "Hi John, will refund you now", "Thanks, have added the miles"; not "Tony
// Moor, will be busking" after "Well ex-Iron Maiden member,".
bool opens(const std::vector<Token> &t, size_t s0, size_t i) {
    if (i == s0) return true;
    if (!(t[i].flags & Token::kClause) || i - s0 > 3) return false;
    for (size_t k = s0 + 1; k < i; ++k)
        if (t[k].flags & Token::kClause) return false;
    return true;
}

}  // namespace

bool joins_verb(const Sentence &t, size_t k, size_t s1) {
    if (k + 1 >= s1 || (t[k + 1].flags & Token::kClause)) return false;
    const uint32_t w = t.word(k);
    if (w != PhraseWords::kAnd && w != PhraseWords::kOr) return false;
    size_t v = k + 1;
    if (v + 1 < s1 && (t.word(v) == PhraseWords::kAlso || t.word(v) == PhraseWords::kThen || t.word(v) == PhraseWords::kEither))
        ++v;
    return t.words.join_verb(t.word(v));
}

bool CommitmentMatcher::confirm(const Sentence &t, size_t i, size_t &from, size_t &to) const {
    // The sentence around the commit word, read at most kReadAround words either side of it: every
    // walk below (to the sentence's or the clause's start, to its end) stays within, so that a
    // sentence of thousands of words with a commit word in every few ("refund refund ...", a run-on
    // reply with no full stop) costs linear time, not the square of its length.
    const size_t n = t.size();
    const size_t floor = i > kReadAround ? i - kReadAround : 0, ceil = std::min(n, i + 1 + kReadAround);
    size_t s0 = i;
    while (s0 > floor && !(t[s0].flags & Token::kSentence)) --s0;
    const bool whole_start = s0 == 0 || (t[s0].flags & Token::kSentence);  // s0 opens the sentence
    size_t s1 = i + 1;
    while (s1 < ceil && !(t[s1].flags & Token::kSentence)) ++s1;
    const bool whole_end = s1 == n || (t[s1].flags & Token::kSentence);  // s1 ends it
    // (where the sentence goes on past what is read, it is read as no question and as not opened
    // by the commit phrase)
    auto question = [&](const char *text, size_t len, const std::vector<Token> &tok, size_t end) {
        return whole_end && mf::question(text, len, tok, end);
    };
    auto opens = [&](const std::vector<Token> &tok, size_t a, size_t b) { return whole_start && mf::opens(tok, a, b); };
    const size_t clen = commit->longest(t, i, s1);
    if (!clen) return false;
    const size_t c1 = i + clen;
    // The speaker ends right before the commitment, or one word before it ("we also will").
    size_t who_start = i, who_end = i;  // the speaker's tokens [who_start, who_end)
    uint32_t who_phrase = 0;
    size_t carried_to = 0;  // (a speaker of a first verb) the "and" that joins the commitment to it
    if (!who->empty() || who_opens) {
        bool found = who_opens && opens(t.t, s0, i) && !question(t.text, t.len, t.t, s1);
        for (size_t gap = 0; gap <= 1 && !found; ++gap) {
            if (i < s0 + 1 + gap) break;
            const size_t e = i - gap;
            if (gap && (t[e].flags & Token::kClause)) break;
            for (size_t k = e; k-- > s0 && e - k <= who_words && !found;) {
                if (who->exact(t, k, e, &who_phrase)) {
                    found = true;
                    who_start = k;
                    who_end = e;
                }
                if (t[k].flags & Token::kClause) break;
            }
        }
        // The speaker of a first verb that "and" joins this one to, where it opens the clause: "I
        // have checked and will send you a replacement tomorrow", "we apologise and will refund the
        // charge", "your parcel was delayed and will arrive on Monday". The first verb's words
        // (at most kCarry) hedge nothing but with a condition (below): the second verb has a modal of
        // its own.
        if (!found && i >= s0 + 3 && !(t[i].flags & Token::kClause) && !question(t.text, t.len, t.t, s1)) {
            size_t a = i - 1;
            const uint32_t w = t.word(a);
            if ((w == PhraseWords::kAlso || w == PhraseWords::kThen) && a > s0 + 2) --a;
            size_t k0 = a;
            while (k0 > s0 && !(t[k0].flags & Token::kClause) && !clause_word(t, k0 - 1)) --k0;
            // not where the first verb's words hold a condition ("we check when it arrives and will
            // refund you"), a doubt ("I'm not sure the team has approved it and will...") or a
            // subject of their own ("... we have checked and will ...")
            // (looked at only where the first verb's words are few enough to carry: a clause of
            // hundreds of words before the "and" was read word by word for every commit word in it)
            bool other = !(t.word(a) == PhraseWords::kAnd && a > k0 && a - k0 <= kCarry);
            for (size_t k = k0; k < a && !other; ++k) {
                const uint32_t x = t.word(k);
                other = t.words.condition(x) || doubt(t.text, t[k]) ||
                        (k > k0 && x >= PhraseWords::kWe && x <= PhraseWords::kShe);
            }
            if (!other && !joined_clause(t, i))
                for (size_t e = k0 + 1; e < a && e - k0 <= who_words && !found; ++e)
                    if (who->exact(t, k0, e, &who_phrase)) {
                        found = true;
                        who_start = k0;
                        who_end = e;
                        carried_to = a;
                    }
        }
        if (!found) return false;
    }
    // The deliverable: within `within` words after the commitment, in the same sentence. The
    // modal carries over one "and" or "or" that joins a second verb to the first ("I will check the
    // stock and send you a replacement", "and then provide you with an update", "we can either ship
    // it or issue a refund"): the deliverable may then stand within `within` words after the "and".
    // Only a verb of the `join` list counts: "and" also joins nouns, and clauses with a subject of
    // their own, which commit by themselves.
    size_t wk = 0, wlen = 0, lim = c1 + within;
    uint32_t wp = 0;
    bool joined = false;
    size_t jk = 0;  // (joined) the "and" or "or"
    for (size_t k = c1; k < s1 && k <= lim; ++k) {
        if (k > c1 && clause_word(t, k)) break;
        size_t skip = 0;
        if ((wlen = what->longest(t, k, s1, &wp, &skip))) {
            wk = k;
            break;
        }
        if (skip) {  // an exception covers its words: "!as soon as" keeps "soon" from matching there
            k += skip - 1;
            continue;
        }
        if (!joined && k > c1 && joins_verb(t, k, s1)) {
            lim = std::max(lim, k + 1 + within);
            joined = true;
            jk = k;
        }
    }
    if (!wlen) return false;
    // No hedge or negation in the clause, from its start to the end of the deliverable (the
    // commitment's own words excepted: "won't" commits, "can't" does not).
    // A clause joined by "and" or "or" with a subject of its own starts there ("let me check with
    // the team and we will update you within the hour").
    size_t cs = who_start;
    bool joined_to = false;
    while (cs > s0 && !(t[cs].flags & Token::kClause) && !clause_word(t, cs - 1)) {
        if ((joined_to = joined_clause(t, cs))) break;
        --cs;
    }
    // A subject of another kind after "and": "your", "the", "a", "an", "our", "my", "ur", "someone"
    // or "somebody", with the speaker's phrase starting at most two words later ("I've chased the
    // courier and your parcel will be redelivered on Saturday"). The clause before is not cut off
    // (its hedges still hold: "I can't promise your parcel and the refund will be sorted"), except
    // the speaker's own check, below, as for a verb joined by "and". Not in a question, not a
    // speaker's phrase that is a verb ("... held by your bank and will be credited back").
    size_t js = 0;  // the "and" of such a subject, or 0
    if (!joined_to && who_start < i && who_start > s0 + 1 && !question(t.text, t.len, t.t, s1))
        for (size_t k = who_start; k + 2 >= who_start && k > s0 + 1 && k > cs; --k)
            if (t.word(k - 1) == PhraseWords::kAnd && determiner(t.text, t[k])) {
                js = k - 1;
                break;
            }
    // The clause goes on for a few words after the deliverable: "we can refund you if eligible".
    size_t ce = wk + wlen;
    for (size_t k = 0; k < kAfter && ce < s1 && !(t[ce].flags & Token::kClause); ++k) ++ce;
    // A hedge of the clause it is joined to that starts with a condition holds for it too ("if it
    // doesn't arrive tomorrow and we can refund you", "not sure whether it will arrive or we will
    // refund you").
    if (joined_to) {
        size_t k = cs - 1;
        while (k > s0 && !(t[k].flags & Token::kClause) && !clause_word(t, k - 1)) --k;
        for (; k < cs; ++k) {
            const uint32_t w = t.word(k);
            size_t skip = 0;
            if (w >= PhraseWords::kIf && w <= PhraseWords::kWhether && unless->longest(t, k, ce, nullptr, &skip)) return false;
        }
    }
    for (size_t k = cs; k < ce; ++k) {
        // nor the deliverable's own words: "no" is a hedge, "at no charge" is money (a "*" of
        // the deliverable is any word, and a hedge there still cancels)
        if ((k >= i && k < c1) || (k >= wk && k < wk + wlen && what->literal_word(wp, k - wk))) continue;
        // nor the speaker's own words: "your request will be processed within 3 days" ("request"
        // hedges "we'll request a refund", but here it is what the promise is about), except a
        // negation ("no charge added to your account yet" promises nothing)
        if (k >= who_start && k < who_end && who->literal_word(who_phrase, k - who_start) && !t.words.negation(t.word(k)))
            continue;
        // nor, where the speaker is carried over, a one-word hedge of the first verb's that is a
        // negation, a verb of checking or an apology: "we can't repair it and will refund you", "I
        // have checked and will send...", "we apologise and will refund..." (a doubt still hedges:
        // "I'm not sure we have checked and will refund you")
        if (carried_to && k >= who_end && k < carried_to) {
            size_t skip1 = 0;
            const size_t hl = unless->longest(t, k, carried_to, nullptr, &skip1);
            bool first_verbs = hl && (t.words.negation(t.word(k)) || apology(t.text, t[k]));
            for (size_t q = k; q < k + hl && !first_verbs; ++q) first_verbs = t.words.checking_verb(t.word(q));
            if (first_verbs) {
                k += hl - 1;
                continue;
            }
        }
        // an exception among the hedges covers its words: "!as soon as possible" keeps "possible"
        // from hedging "we'll reply as soon as possible, within 24 hours"
        // (an exception may run past the clause's end: "a new one at no extra cost")
        size_t skip = 0;
        const size_t len = unless->longest(t, k, s1, nullptr, &skip);
        if (skip) {
            k += skip - 1;
            continue;
        }
        if (!len) continue;                  // no phrase starts here, within the clause or past it
        // a check of the first verb, where the deliverable is the joined verb's ("I'll investigate
        // this and get back to you within 24 hours"), unless a condition follows it in the sentence
        // ("check if", "... and send a replacement if it is lost")
        // ... and the same for the speaker's own check that ends at an "and" a subject of another
        // kind follows: "I've chased the courier and your parcel will be redelivered on Saturday"
        // (a word of the hedge: "'ve checked", "checked and"; not the customer's check, with no
        // "we", "I", "me" or "us" before it: "check your spam folder and the email should arrive")
        auto own_check = [&] {
            bool check = false, speaker = false;
            for (size_t q = k; q < k + len && !check; ++q) check = t.words.checking_verb(t.word(q));
            for (size_t q = cs; q < k && check && !speaker; ++q) {
                const uint32_t w = t.word(q);
                speaker = w == PhraseWords::kWe || w == PhraseWords::kI || pronoun_me_us(t.text, t[q]);
            }
            return speaker;
        };
        if (((joined && k >= c1 && k + len <= jk && t.words.checking_verb(t.word(k))) || (js && k < js && own_check())) &&
            !condition_in(t, k + 1, s1)) {
            k += len - 1;
            continue;
        }
        if (k + len <= ce) return false;     // the longest is a hedge within the clause
        // the longest hedge runs past the clause: a shorter hedge or exception within it decides
        if (unless->longest(t, k, ce, nullptr, &skip)) return false;
        if (skip) k += skip - 1;
    }
    from = t[who_start].start;
    to = t[wk + wlen - 1].end;
    return true;
}

CommitmentMatcher build_commitment(const Rule &r, PhraseWords &words, std::vector<Diagnostic> *diags,
                                   PhraseSetCache *cache) {
    CommitmentMatcher m;
    const Commitment &c = r.commitment;
    m.within = c.within;
    auto fill = [&](std::shared_ptr<const PhraseSet> &out, const std::vector<std::string> &phrases,
                    const std::vector<uint32_t> &lines, const char *key) {
        if (cache)
            if (auto it = cache->find(phrases); it != cache->end()) {
                out = it->second;
                return;
            }
        auto set = std::make_shared<PhraseSet>();
        for (size_t k = 0; k < phrases.size(); ++k)
            if (!set->add(phrases[k], words) && diags)
                diags->push_back({r.file, k < lines.size() ? lines[k] : r.line,
                                  "rule '" + r.id + "': " + key + " phrase '" + phrases[k] + "' has no word"});
        out = set;
        if (cache) cache->emplace(phrases, out);
    };
    // "^" is no phrase but where the commit phrase stands (a list named twice may bring it twice);
    // the other phrases keep their lines for diagnostics
    std::vector<std::string> who;
    std::vector<uint32_t> who_lines;
    for (size_t k = 0; k < c.who.size(); ++k) {
        if (c.who[k] == "^") {
            m.who_opens = true;
            continue;
        }
        who.push_back(c.who[k]);
        if (k < c.who_lines.size()) who_lines.push_back(c.who_lines[k]);
    }
    fill(m.who, who, who_lines, "who");
    for (uint32_t p = 0; p < m.who->size(); ++p)
        m.who_words = std::max(m.who_words, static_cast<uint32_t>(m.who->length(p)));
    fill(m.commit, c.commit, c.commit_lines, "commit");
    fill(m.what, c.what, c.what_lines, "what");
    fill(m.unless, c.unless, c.unless_lines, "unless");
    return m;
}

}  // namespace mf
