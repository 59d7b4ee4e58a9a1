#include "skeleton.hpp"

namespace mf {

namespace {

inline char lower(unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); }
inline bool letter(char c) { return c >= 'a' && c <= 'z'; }
inline bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
inline bool digit(char c) { return c >= '0' && c <= '9'; }
inline bool mask(char c) { return c == '*' || c == '#'; }
inline bool separator(char c) { return c == '.' || c == '-' || c == '_' || c == '~' || c == '*' || c == '+'; }

// The letter a leetspeak character stands for, or 0.
char leet(char c) {
    switch (c) {
    case '4': case '@': return 'a';
    case '3': return 'e';
    case '1': case '!': case '|': return 'i';
    case '0': return 'o';
    case '5': case '$': return 's';
    case '7': case '+': return 't';
    case '8': return 'b';
    case '9': return 'g';
    default: return 0;
    }
}

// 'l' and 'i' are one letter in the skeleton: '1' and '|' stand for either.
inline char fold(char c) { return c == 'l' ? 'i' : c; }

// A token may use leetspeak when it holds a letter and every digit in it can stand for a letter:
// "sh1t" and "a55" can, "142,460", "F4G-22", "2nd" and "666" cannot.
bool leet_token(const char *t, size_t n) {
    bool has_letter = false;
    for (size_t i = 0; i < n; ++i) {
        char c = lower(static_cast<unsigned char>(t[i]));
        if (letter(c)) has_letter = true;
        else if (digit(c) && !leet(c)) return false;
    }
    return has_letter;
}

// Whether position i of a token is a character standing for a letter: a leet digit next to a
// letter or another leet character, or a leet symbol inside the token.
bool leet_at(const char *t, size_t n, size_t i) {
    char c = lower(static_cast<unsigned char>(t[i]));
    if (!leet(c)) return false;
    auto wordish = [&](size_t k) {
        char d = lower(static_cast<unsigned char>(t[k]));
        return letter(d) || (leet(d) && digit(d));
    };
    bool before = i > 0 && wordish(i - 1), after = i + 1 < n && wordish(i + 1);
    if (digit(c)) return before || after;
    if (c == '@' || c == '$') return after || (before && i + 1 < n && t[i + 1] == c);  // "@ss", "a$$"
    return before && after;  // ! | + only inside a word
}

// "f.u.c.k": single letters joined by one repeated separator, at least three letters.
bool spaced_token(const char *t, size_t n) {
    if (n < 5 || n % 2 == 0) return false;
    char sep = t[1];
    if (!separator(sep)) return false;
    for (size_t i = 0; i < n; ++i) {
        char c = lower(static_cast<unsigned char>(t[i]));
        if (i % 2 == 1 ? c != sep : !(letter(c) || leet(c))) return false;
    }
    return true;
}

// Cheap test for posts that need no skeleton: no leet character touching a letter, no mask inside
// a word, no letter three times in a row, no run of single letters, no "f.u.c.k" token.
bool suspicious(const char *t, size_t n) {
    size_t singles = 0;
    for (size_t i = 0; i < n; ++i) {
        char c = lower(static_cast<unsigned char>(t[i]));
        char p = i ? lower(static_cast<unsigned char>(t[i - 1])) : ' ';
        char q = i + 1 < n ? lower(static_cast<unsigned char>(t[i + 1])) : ' ';
        if (leet(c) && (letter(p) || letter(q))) return true;
        if (c == 'p' && q == 'h') return true;
        if (mask(c) && letter(p)) return true;
        if (letter(c) && c == p && c == q) return true;
        if (letter(c) && separator(q) && i + 2 < n && letter(lower(static_cast<unsigned char>(t[i + 2]))) &&
            i + 3 < n && t[i + 3] == q)
            return true;
        // single letters separated by spaces: "f u c k"
        if (!space(c) && space(p) && space(q)) {
            if (++singles >= 3) return true;
        } else if (!space(c)) {
            singles = 0;
        }
    }
    return false;
}

}  // namespace

void Skeleton::emit(char c, uint32_t os, uint32_t oe, uint8_t ev) {
    out_ += c;
    start_.push_back(os);
    end_.push_back(oe);
    ev_.push_back(ev);
}

uint32_t Skeleton::evasion(size_t s, size_t e) const noexcept {
    uint32_t bits = 0;
    for (size_t k = s; k < e && k < ev_.size(); ++k) bits |= ev_[k];
    return bits;
}

bool Skeleton::build(const Normalizer &n) {
    const char *t = n.data();
    const size_t len = n.size();
    if (!suspicious(t, len)) return false;
    out_.clear();
    start_.clear();
    end_.clear();
    ev_.clear();
    auto os = [&](size_t k) { return static_cast<uint32_t>(n.orig_start(k)); };
    auto oe = [&](size_t k) { return static_cast<uint32_t>(n.orig_end(k + 1)); };
    auto nev = [&](size_t k) { return static_cast<uint8_t>(n.evasion(k, k + 1)); };

    // Tokens, and which runs of single-character tokens are one spaced-out word.
    size_t i = 0;
    bool joining = false;  // inside a run of single letters being joined
    while (i < len) {
        if (space(t[i])) {
            size_t s = i;
            while (i < len && space(t[i])) ++i;
            // Look ahead: does a run of >= 3 single-letter tokens continue or start here?
            auto single_at = [&](size_t a) {
                if (a >= len || space(t[a])) return false;
                size_t b = a;
                while (b < len && !space(t[b])) ++b;
                if (b - a != 1) return false;
                char c = lower(static_cast<unsigned char>(t[a]));
                return letter(c) || (leet(c) != 0 && c != '!' && c != '|');
            };
            if (joining && single_at(i)) continue;  // drop the space between spaced-out letters
            joining = false;
            for (size_t k = s; k < i; ++k) emit(' ', os(k), oe(k), nev(k));
            // Start joining when three single letters follow.
            size_t a = i, count = 0;
            while (single_at(a) && count < 3) {
                ++count;
                a += 1;
                while (a < len && space(t[a])) ++a;
            }
            joining = count >= 3;
            continue;
        }
        size_t a = i;
        while (i < len && !space(t[i])) ++i;
        const char *tok = t + a;
        const size_t tn = i - a;
        const bool eligible = leet_token(tok, tn);
        const bool spaced = spaced_token(tok, tn);
        const uint8_t join_bit = joining ? kEvSeparators : 0;
        size_t run_begin = out_.size();  // repeats never cross a token
        size_t run_len = 0;
        for (size_t k = 0; k < tn; ++k) {
            const size_t at = a + k;
            const auto b = static_cast<unsigned char>(tok[k]);
            if (b >= 0x80) {
                emit(static_cast<char>(b), os(at), oe(at), nev(at));
                run_len = 0;
                continue;
            }
            char c = lower(b);
            uint8_t ev = static_cast<uint8_t>(nev(at) | join_bit);
            if (spaced && k % 2 == 1) continue;  // the separator of "f.u.c.k"
            if (spaced) ev |= kEvSeparators;
            char l = 0;
            if (letter(c)) {
                l = c;
                if (c == 'p' && k + 1 < tn && lower(static_cast<unsigned char>(tok[k + 1])) == 'h') {
                    l = 'f';
                    ev |= kEvLeet;
                    // the 'h' is consumed below
                }
            } else if (eligible && leet_at(tok, tn, k)) {
                l = leet(c);
                ev |= kEvLeet;
            } else if (mask(c) && k > 0 && k + 1 < tn && out_.size() > run_begin) {
                // '*' inside a word: a wildcard for one letter
                emit('*', os(at), oe(at), static_cast<uint8_t>(ev | kEvSeparators));
                run_len = 0;
                continue;
            }
            if (!l) {
                emit(c, os(at), oe(at), ev);
                run_len = 0;
                continue;
            }
            l = fold(l);
            uint32_t end_orig = oe(at);
            if (l == 'f' && c == 'p') {
                end_orig = oe(at + 1);
                ++k;
            }
            if (run_len && out_.back() == l) {
                // the same letter again: one letter in the skeleton, covering the whole run
                end_.back() = end_orig;
                ev_.back() |= ev;
                if (++run_len >= 3) ev_.back() |= kEvRepeats;
                continue;
            }
            emit(l, os(at), end_orig, ev);
            run_len = 1;
        }
    }
    return true;
}

std::string skeleton_expression(std::string_view w, size_t *length) {
    // The same folding as posts: letters once per run, l -> i, ph -> f, leet characters mapped.
    std::string s;
    for (size_t k = 0; k < w.size(); ++k) {
        char c = lower(static_cast<unsigned char>(w[k]));
        if (space(c)) return {};
        char l = letter(c) ? c : leet(c);
        if (c == 'p' && k + 1 < w.size() && lower(static_cast<unsigned char>(w[k + 1])) == 'h') {
            l = 'f';
            ++k;
        }
        if (!l) {
            s += c;
            continue;
        }
        l = fold(l);
        if (!s.empty() && s.back() == l) continue;
        s += l;
    }
    size_t letters = 0;
    for (char c : s) letters += letter(c);
    if (letters < 2) return {};
    std::string e;
    static const char hex[] = "0123456789abcdef";
    for (size_t k = 0; k < s.size(); ++k) {
        auto c = static_cast<unsigned char>(s[k]);
        bool inner = k > 0 && k + 1 < s.size();
        if (letter(static_cast<char>(c)) && inner) {
            e += '[';
            e += static_cast<char>(c);
            e += "*]";
        } else if (letter(static_cast<char>(c)) || digit(static_cast<char>(c))) {
            e += static_cast<char>(c);
        } else {
            e += "\\x";
            e += hex[c >> 4];
            e += hex[c & 15];
        }
    }
    *length = s.size();
    return e;
}

}  // namespace mf
