#include "skeleton.hpp"
#include "lookalike.hpp"
#include "prefilter.hpp"

#include <algorithm>
#include <atomic>
#include <array>
#include <cstring>

namespace mf {

namespace {

inline char lower(unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); }
inline bool letter(char c) { return c >= 'a' && c <= 'z'; }
inline bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
inline bool digit(char c) { return c >= '0' && c <= '9'; }
inline bool mask(char c) { return c == '*' || c == '#'; }
// Leet symbols that stand for a letter only inside a word ("sh!t"), never at its end ("great!", "C++").
inline bool inner_leet(char c) { return c == '!' || c == '|' || c == '+'; }
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

// How far the tests of one leet character look along its token, each way: a word's letters are
// close to its leet characters ("sh1t"), and a bound keeps a token of a megabyte linear.
constexpr size_t kLeetReach = 8;

// 'l' and 'i' are one letter in the skeleton: '1' and '|' stand for either.
inline char fold(char c) { return c == 'l' ? 'i' : c; }

// A token may use leetspeak when it holds a letter (or an '@' and no digit) and every digit in it
// can stand for a letter: "sh1t", "a55" and "@$$" can, "142,460", "F4G-22", "2nd", "666" and "900k"
// cannot.
bool leet_token(const char *t, size_t n) {
    // A quantity with its unit, two digits or more and then a unit ("900k", "90K", "1200kb", "500ms",
    // "41x" faster), is no word: "900k" is not "gook" ("74rd" and "70553r" are still leet).
    // (and with a decimal point: "1.53x" faster, "2.5GHz"; a version's wildcard: "5.3.x", "2.x")
    size_t d = 0;
    while (d < n && digit(t[d])) ++d;
    if (d > 0 && d + 1 < n && (t[d] == '.' || t[d] == ',') && digit(t[d + 1])) {
        for (d += 1; d < n && (digit(t[d]) || ((t[d] == '.' || t[d] == ',') && d + 1 < n && digit(t[d + 1]))); ++d) {
        }
        if (d + 2 == n && t[d] == '.' && lower(static_cast<unsigned char>(t[d + 1])) == 'x') return false;  // "5.3.x"
        if (n - d >= 1 && n - d <= 4) d = std::max<size_t>(d, 2);  // (a unit follows: checked below)
    }
    if (d + 2 == n && d > 0 && t[d] == '.' && lower(static_cast<unsigned char>(t[d + 1])) == 'x') return false;  // "2.x"
    if (d >= 2 && n - d >= 1 && n - d <= 4) {
        static constexpr std::string_view kUnits[] = {
            "b", "bps", "cm", "em", "g", "gb", "ghz", "h", "hr", "hrs", "hz", "k", "kb", "kbps", "kg", "khz", "km", "kw",
            "m", "mb", "mbps", "mhz", "min", "mm", "ms", "mw", "ns", "px", "s", "sec", "t", "tb", "us", "x"};
        char unit[4];
        for (size_t k = d; k < n; ++k) unit[k - d] = lower(static_cast<unsigned char>(t[k]));
        const std::string_view u(unit, n - d);
        for (std::string_view x : kUnits)
            if (u == x) return false;
    }
    // An e-mail address ("jack@suse.cz", "<dev@lists.example.org>") is no word: its '@' stands for
    // no 'a' ("jack@suse" is not "jackasuse"). One pass: from the first '@' after a letter or digit,
    // a '.' before a letter at least two bytes further on.
    size_t at = 0;  // (the first such '@') + 2, or 0
    for (size_t i = 1; i + 1 < n; ++i) {
        if (!at && t[i] == '@' && (letter(lower(static_cast<unsigned char>(t[i - 1]))) || digit(t[i - 1]))) at = i + 2;
        else if (at && i >= at && t[i] == '.' && letter(lower(static_cast<unsigned char>(t[i + 1])))) return false;
    }
    bool has_letter = false, has_digit = false, has_at = false;
    for (size_t i = 0; i < n; ++i) {
        char c = lower(static_cast<unsigned char>(t[i]));
        if (letter(c)) has_letter = true;
        else if (digit(c) && !leet(c)) return false;
        has_digit |= digit(c);
        has_at |= c == '@';
    }
    // "@$$" has no letter but is a word; "$$$" or "455" are not.
    return has_letter || (has_at && !has_digit && n > 1);
}

bool lookalike_char(const char *t, size_t a, size_t b, size_t k);

// Whether byte i of the token t[0, n) lies in a printf conversion with its argument's position
// ("%1$s", "%2$d", as translation catalogues and code write them): its digits and '$' stand for no
// letter ("%4$s" is not "a$s").
bool printf_position(const char *t, size_t n, size_t i) {
    // (at most kLeetReach bytes back and on: it runs for every leet character of a token, and a token
    // of a megabyte of digits was read back to its start for each one)
    size_t s = i;
    while (s > 0 && i - s < kLeetReach && (digit(t[s - 1]) || t[s - 1] == '$')) --s;
    if (s == 0 || t[s - 1] != '%') return false;
    size_t k = s;
    while (k < n && k - s < kLeetReach && digit(t[k])) ++k;
    return k > s && i <= k && k + 1 < n && t[k] == '$' && letter(lower(static_cast<unsigned char>(t[k + 1])));
}

// Whether position i of a token is a character standing for a letter: a leet digit next to a
// letter, another leet character or a look-alike letter ("sh!†"), or a leet symbol inside the token.
bool leet_at(const char *t, size_t n, size_t i) {
    char c = lower(static_cast<unsigned char>(t[i]));
    if (!leet(c)) return false;
    auto wordish = [&](size_t k) {
        const auto u = static_cast<unsigned char>(t[k]);
        if (u >= 0x80) return lookalike_char(t, 0, n, k);
        char d = lower(u);
        return letter(d) || leet(d) != 0;
    };
    bool before = i > 0 && wordish(i - 1), after = i + 1 < n && wordish(i + 1);
    if (digit(c)) {
        // A digit stands for a letter only in a run of letters and leet characters that holds a
        // letter ("sh1t", "a55"): digits alone between separators are a number ("455_userdel.8.xml",
        // "util.c:148"), as a token of digits alone is (leet_token).
        if (!before && !after) return false;
        auto letterish = [&](size_t k) {
            const auto u = static_cast<unsigned char>(t[k]);
            return u >= 0x80 ? lookalike_char(t, 0, n, k) : letter(lower(u));
        };
        // (looked for at most kLeetReach bytes either way: this runs for every digit of a token, and
        // a token of a megabyte of "@4@4..." read the whole of it for each one)
        const size_t lo = i > kLeetReach ? i - kLeetReach : 0, hi = std::min(n, i + 1 + kLeetReach);
        for (size_t k = i; k-- > lo && wordish(k);)
            if (letterish(k)) return true;
        for (size_t k = i + 1; k < hi && wordish(k); ++k)
            if (letterish(k)) return true;
        return false;
    }
    if (c == '@' || c == '$') return before || after;  // "@ss", "a$$", "b@$tard"
    // ! | + only inside a word, a run of them as one: "sh!t", "sh!!t", not "bitches!!!" or "C++"
    // (a run longer than kLeetReach stands for no letter: "a!!!!...!b" is no word)
    size_t a = i, b = i + 1;
    while (a > 0 && i - a < kLeetReach && inner_leet(t[a - 1])) --a;
    while (b < n && b - i < kLeetReach && inner_leet(t[b])) ++b;
    return a > 0 && wordish(a - 1) && b < n && wordish(b) && !inner_leet(t[a - 1]) && !inner_leet(t[b]);
}

// leet_at() for the digits of one long token, each in constant time: a digit of a megabyte of "a4444..."
// looked at the kLeetReach bytes on either side of it, each a test of a look-alike table or two. For
// every byte of the token, the nearest letter before it (and after it) that the run of letters and
// leet characters around it reaches, as leet_at's two loops find it. Same answers (tests compare).
class LeetDigits {
public:
    void build(const char *t, size_t n) {
        n_ = n;
        wordish_.resize(n);
        before_.resize(n + 1);
        after_.resize(n + 1);
        std::vector<uint8_t> letterish(n);
        for (size_t k = 0; k < n; ++k) {
            const auto u = static_cast<unsigned char>(t[k]);
            if (u >= 0x80) {
                wordish_[k] = letterish[k] = lookalike_char(t, 0, n, k);
            } else {
                const char d = lower(u);
                letterish[k] = letter(d);
                wordish_[k] = letter(d) || leet(d) != 0;
            }
        }
        // before_[i]: the letter nearest before i that a run of wordish bytes joins to i (kNone: none)
        before_[0] = kNone;
        for (size_t i = 1; i <= n; ++i)
            before_[i] = !wordish_[i - 1] ? kNone : letterish[i - 1] ? i - 1 : before_[i - 1];
        // after_[i]: the letter nearest after i so joined
        after_[n] = kNone;
        for (size_t i = n; i-- > 0;)
            after_[i] = i + 1 >= n || !wordish_[i + 1] ? kNone : letterish[i + 1] ? i + 1 : after_[i + 1];
    }
    // leet_at(t, n, i) for a digit at i.
    bool digit_at(size_t i) const {
        const bool before = i > 0 && wordish_[i - 1], after = i + 1 < n_ && wordish_[i + 1];
        if (!before && !after) return false;
        return (before_[i] != kNone && i - before_[i] <= kLeetReach) || (after_[i] != kNone && after_[i] - i <= kLeetReach);
    }

private:
    static constexpr size_t kNone = ~size_t(0);
    size_t n_ = 0;
    std::vector<uint8_t> wordish_;
    std::vector<size_t> before_, after_;
};

// "f.u.c.k": single letters joined by one repeated separator, at least three letters.
bool spaced_token(const char *t, size_t n) {
    if (n < 5 || n % 2 == 0) return false;
    char sep = t[1];
    if (!separator(sep)) return false;
    // "1.4.8", "4-5-5": a version or a date, no word spelled out; "5.3.x": a version's wildcard
    bool digits_only = true;
    for (size_t i = 0; i < n; ++i) {
        char c = lower(static_cast<unsigned char>(t[i]));
        if (i % 2 == 1 ? c != sep : !(letter(c) || leet(c))) return false;
        if (i % 2 == 0 && !digit(c) && !(i + 1 == n && c == 'x' && sep == '.')) digits_only = false;
    }
    return !digits_only;
}

// A letter, or a leet character standing for one: the letter, else 0.
inline char plain_letter(char c) {
    c = lower(static_cast<unsigned char>(c));
    return letter(c) ? c : leet(c);
}

// The same, 'l' read as 'i' (as in the skeleton).
inline char join_letter(char c) {
    const char l = plain_letter(c);
    return l == 'l' ? 'i' : l;
}

// Common words of two letters, in English and in the languages most often written in Latin letters
// (Romance, Germanic, Tagalog, Malay, Bantu languages, Esperanto): a split word's piece is not one
// of them ("fu ck", not "is it", "con le", "ga go").
bool common_pair(char a, char b) {
    static constexpr const char *kWords[] = {"ab", "ad", "af", "ah", "ai", "al", "am", "an", "ao", "as", "at",
                                             "au", "ax", "ay", "ba", "be", "by", "ce", "ci", "da", "de", "di",
                                             "do", "du", "ed", "eh", "el", "em", "en", "er", "es", "et", "eu",
                                             "ex", "ga", "go", "ha", "he", "hi", "hm", "ho", "id", "if", "ik",
                                             "il", "im", "in", "is", "it", "ja", "je", "ju", "ka", "ke", "ko",
                                             "ku", "la", "le", "li", "lo", "ma", "me", "mi", "mm", "mo", "mr",
                                             "ms", "mu", "my", "na", "ne", "ng", "ni", "no", "nu", "ob", "of",
                                             "oh", "oi", "ok", "om", "on", "op", "or", "os", "ou", "ow", "ox",
                                             "pa", "pi", "po", "qi", "re", "sa", "se", "si", "so", "su", "ta",
                                             "te", "ti", "to", "tu", "tv", "uh", "um", "un", "up", "ur", "us",
                                             "va", "vi", "vu", "wa", "we", "wo", "ya", "ye", "yo", "za", "zo",
                                             "zu"};
    static const auto table = [] {  // bit b of entry a: "ab" is one of them
        std::array<uint32_t, 26> t{};
        for (const char *w : kWords) t[static_cast<size_t>(w[0] - 'a')] |= 1u << (w[1] - 'a');
        return t;
    }();
    return letter(a) && letter(b) && (table[static_cast<size_t>(a - 'a')] >> (b - 'a') & 1);
}

// Whether the pieces t[la, lb) and t[ra, rb) (one to three letters or leet characters each, at
// least one of them two letters and no common word, unless the left one is already a piece:
// chained) are one word split in two: "fu" "ck".
bool pair_join(const char *t, size_t la, size_t lb, size_t ra, size_t rb, const JoinGrams &g, bool chained = false) {
    const size_t ln = lb - la, rn = rb - ra;
    if (ln < 1 || ln > 3 || rn < 1 || rn > 3) return false;
    for (size_t k = la; k < lb; ++k)
        if (!join_letter(t[k])) return false;
    for (size_t k = ra; k < rb; ++k)
        if (!join_letter(t[k])) return false;
    const bool piece = (ln == 2 && !common_pair(plain_letter(t[la]), plain_letter(t[la + 1]))) ||
                       (rn == 2 && !common_pair(plain_letter(t[ra]), plain_letter(t[ra + 1])));
    if (!chained && (!piece || ln + rn < 4)) return false;  // JoinGrams knows no word shorter than four
    return g.has(ln >= 2 ? join_letter(t[lb - 2]) : 0, join_letter(t[lb - 1]), join_letter(t[ra]),
                 rn >= 2 ? join_letter(t[ra + 1]) : 0);
}

// Whether t[a, b) is a link ("http://", "https://", "www.", in any case): a URL is no word, and its
// digits and symbols are no leetspeak ("t.co/8zE8aqY0").
inline bool url_token(const char *t, size_t a, size_t b) {
    auto starts = [&](std::string_view p) {
        if (b - a < p.size()) return false;
        for (size_t k = 0; k < p.size(); ++k)
            if (lower(static_cast<unsigned char>(t[a + k])) != p[k]) return false;
        return true;
    };
    return starts("http://") || starts("https://") || starts("www.");
}

// Whether t[i] stands in an e-mail address or a link: the run of non-space bytes around it holds an
// '@' or "://", or is a link (url_token: "www.fu.ck" is a domain; "wan.kit@example.com" is no "wank").
bool in_address(const char *t, size_t n, size_t i) {
    auto blank = [](char c) { return space(c) || c == '<' || c == '>' || c == '(' || c == ')'; };
    size_t a = i, b = i;
    while (a > 0 && !blank(t[a - 1])) --a;
    while (b < n && !blank(t[b])) ++b;
    const std::string_view w(t + a, b - a);
    return w.find('@') != std::string_view::npos || w.find("://") != std::string_view::npos || url_token(t, a, b);
}

// Whether the dot or dash at t[i] splits one word ("fu.ck", "sh-it"): letters on both sides, not
// "f.u.c.k" (spaced_token), and JoinGrams windows around it: the two letters on each side, and,
// where a piece goes on past them, the window one letter further that way, or one where the word
// starts (ends) within them ("bullsh-it": "lshi", or "^shi" of "shit"). A word split so holds them, while
// compounds of ordinary words ("well-intentioned", "cross-functional", "end-of-support"), which
// real prose is full of, rarely do and cost no skeleton.
bool dot_join(const char *t, size_t n, size_t i, const JoinGrams &g) {
    if (i == 0 || i + 1 >= n) return false;
    const char l1 = join_letter(t[i - 1]), r1 = join_letter(t[i + 1]);
    if (!l1 || !r1) return false;
    if ((i >= 2 && t[i - 2] == t[i]) || (i + 2 < n && t[i + 2] == t[i])) return false;
    const char l2 = i >= 2 ? join_letter(t[i - 2]) : 0, r2 = i + 2 < n ? join_letter(t[i + 2]) : 0;
    if (!g.has(l2, l1, r1, r2)) return false;
    // where a piece goes on past them, the word goes on too, or starts (ends) within them. A letter
    // stretched there (three times or more: "fuuu.ck", "biiit-ch"), which the skeleton folds into
    // one, is in no window of the vocabulary: that side is let through as before.
    auto stretched = [&](size_t p, size_t lo, size_t hi) {  // the run of t[p] within [lo, hi)
        const char c = join_letter(t[p]);
        size_t a = p, b = p + 1;
        while (a > lo && join_letter(t[a - 1]) == c) --a;
        while (b < hi && join_letter(t[b]) == c) ++b;
        return b - a >= 3;
    };
    const char l3 = l2 && i >= 3 ? join_letter(t[i - 3]) : 0, r3 = r2 && i + 3 < n ? join_letter(t[i + 3]) : 0;
    if (l3 && !stretched(i - 2, 0, i) && !g.has(l3, l2, l1, r1) && !g.has(0, l2, l1, r1) && !g.has(0, l1, r1, r2))
        return false;
    if (r3 && !stretched(i + 2, i + 1, n) && !g.has(l1, r1, r2, r3) && !g.has(l1, r1, r2, 0) &&
        !g.has(l2, l1, r1, 0))
        return false;
    return !in_address(t, n, i);
}

// A 16-byte block at p (p[-3] and p[16..18] readable): whether any test of suspicious_regions()
// may hold at one of its 16 positions (a superset), and whether it holds a non-space byte. Written
// once for vectors of 16 bytes (SSE2, every x86-64) and of 32 (AVX2, chosen at run time): a wide
// vector classifies two blocks at once, with the very same tests.
typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef uint8_t u8x32 __attribute__((vector_size(32)));
// (the helpers below take and return u8x32 only inlined into the AVX2 function, never across a call;
// GCC reports the ABI note at the end of the file, so it is silenced for the whole file)
#pragma GCC diagnostic ignored "-Wpsabi"

struct Block {
    bool maybe, nonspace;
    uint64_t pair_lo, pair_hi;  // 0xFF bytes: a two-letter token starts there
};

template <class V>
__attribute__((always_inline)) inline V load_v(const char *p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Whether any byte of v[16 * half, 16 * half + 16) is set.
template <class V>
__attribute__((always_inline)) inline bool any_half(const V &v, size_t half) {
    uint64_t a, b;
    std::memcpy(&a, reinterpret_cast<const char *>(&v) + 16 * half, 8);
    std::memcpy(&b, reinterpret_cast<const char *>(&v) + 16 * half + 8, 8);
    return (a | b) != 0;
}

template <class V>
__attribute__((always_inline)) inline V spaces_v(V v) {
    return (V)((v == ' ') | ((V)(v - 9) < 5));
}

template <class V>
struct Classes {
    V lower, letter, space, leet, sep, mask;
};

template <class V>
__attribute__((always_inline)) inline Classes<V> classes(V v) {
    Classes<V> c;
    c.lower = v | 0x20;
    c.letter = (V)((V)(c.lower - 'a') < 26);
    c.space = spaces_v(v);
    c.leet = (V)(((V)(v - '0') < 10) | (v == '@') | (v == '$') | (v == '!') | (v == '|') | (v == '+'));
    c.sep = (V)((v == '.') | (v == '-') | (v == '_') | (v == '~') | (v == '*') | (v == '+'));
    c.mask = (V)((v == '*') | (v == '#'));
    return c;
}

// The blocks at p, p + 16, ... (sizeof(V) / 16 of them) into out.
template <class V>
__attribute__((always_inline)) inline void classify_blocks(const char *p, Block *out) {
    const V vp = load_v<V>(p - 1), v = load_v<V>(p), vn = load_v<V>(p + 1), vnn = load_v<V>(p + 2);
    const V sp3 = spaces_v(load_v<V>(p - 3)), sp2 = spaces_v(load_v<V>(p - 2)), sn3 = spaces_v(load_v<V>(p + 3));
    const Classes<V> P = classes(vp), C = classes(v), N = classes(vn), NN = classes(vnn);
    const V letter_or_leet_nn = NN.letter | NN.leet;
    const V triple = C.letter & (V)(C.lower == P.lower) & (V)(C.lower == N.lower);
    const V sep_word = (C.letter | C.leet) & N.sep & letter_or_leet_nn;
    const V ph = (V)(C.lower == 'p') & (V)(N.lower == 'h');
    // ('!', '|' and '+' stand for a letter only inside a word: leet_at)
    const V inner_only = (V)((v == '!') | (v == '|') | (v == '+'));
    const V leet = C.leet & (P.letter | N.letter | (V)(v == '@')) & ~(inner_only & ~(N.letter | N.leet));
    // (and U+FFFD after a letter: an invalid byte that a disguise put inside a word, "fu\xFFck")
    const V masked = (C.mask & P.letter & (N.letter | N.leet | N.mask)) | ((V)(v == static_cast<uint8_t>(0xEF)) & P.letter);
    // a one-character token with another one two bytes before or after it: only a run of them
    // ("f u c k") is a trick, and "a" or "I" alone, in every other sentence, costs nothing
    const V single = ~C.space & P.space & N.space & ((~NN.space & sn3) | (~sp2 & sp3));
    const V pair = P.space & (C.letter | C.leet) & (N.letter | N.leet) & ~(NN.letter | NN.leet);
    const V maybe = triple | sep_word | ph | leet | masked | single, nonspace = ~C.space;
    for (size_t h = 0; h < sizeof(V) / 16; ++h) {
        Block &b = out[h];
        std::memcpy(&b.pair_lo, reinterpret_cast<const char *>(&pair) + 16 * h, 8);
        std::memcpy(&b.pair_hi, reinterpret_cast<const char *>(&pair) + 16 * h + 8, 8);
        b.maybe = any_half(maybe, h);
        b.nonspace = any_half(nonspace, h);
    }
}

Block classify_block(const char *p) {
    Block b;
    classify_blocks<u8x16>(p, &b);
    return b;
}

__attribute__((target("avx2"))) void classify_two_blocks(const char *p, Block *out) { classify_blocks<u8x32>(p, out); }

bool have_avx2() {
    __builtin_cpu_init();  // (static initializers may run before libgcc's)
    return __builtin_cpu_supports("avx2") != 0;
}

std::atomic<bool> g_wide_blocks{have_avx2()};

// Whether t[i..] is U+FFFD (EF BF BD), what the normalizer makes of an invalid byte.
inline bool replacement_at(const char *t, size_t n, size_t i) {
    return i + 2 < n && static_cast<unsigned char>(t[i]) == 0xEF && static_cast<unsigned char>(t[i + 1]) == 0xBF &&
           static_cast<unsigned char>(t[i + 2]) == 0xBD;
}

// Where a run of U+FFFD that starts at t[i] ends (i when none starts there): "fu\xFF\xFFck" is one gap.
inline size_t replacement_run(const char *t, size_t n, size_t i) {
    while (replacement_at(t, n, i)) i += 3;
    return i;
}

// Cheap test for posts that need no skeleton: no leet character touching a letter, no mask inside
// a word, no letter three times in a row, no run of single letters, no "f.u.c.k" token.
// Where a post shows a trick: a leet character touching a letter, a mask inside a word, a letter
// three times in a row, a run of single letters, an "f.u.c.k" token, "ph". Most posts show none.
// Each place found adds itself to `out` (merged with the previous place when at most one byte lies
// between them); Skeleton::build widens each to whole tokens, so a trick costs the skeleton its own
// word, not the text around it.
void suspicious_regions(const char *t, size_t n, std::vector<std::pair<size_t, size_t>> &out, const AtWords *at_words,
                        const JoinGrams *joins) {
    // Byte classes, so that the common case (letters and spaces) costs one lookup per byte.
    enum : uint8_t { L = 1, K = 2, M = 4, S = 8, W = 16 };  // letter, leet, mask, separator, space
    static const auto cls = [] {
        std::array<uint8_t, 256> c{};
        for (int x = 0; x < 256; ++x) {
            char ch = lower(static_cast<unsigned char>(x));
            c[x] = static_cast<uint8_t>((letter(ch) ? L : 0) | (leet(ch) ? K : 0) | (mask(ch) ? M : 0) |
                                        (separator(ch) ? S : 0) | (space(ch) ? W : 0));
        }
        return c;
    }();
    auto add_range = [&](size_t lo, size_t hi) {
        while (!out.empty() && lo <= out.back().second + 1) {
            lo = std::min(lo, out.back().first);
            hi = std::max(hi, out.back().second);
            out.pop_back();
        }
        out.emplace_back(lo, hi);
    };
    auto add = [&](size_t i) { add_range(i, i + 1); };
    size_t run_start = 0;  // where the current run of single letters began
    auto at = [&](size_t i) -> uint8_t { return i < n ? cls[static_cast<unsigned char>(t[i])] : static_cast<uint8_t>(W); };
    size_t singles = 0;
    // An '@' that opens a token before two plain letters that cannot follow an 'a' at the start of
    // any vocabulary word: a handle, not leetspeak.
    auto handle = [&](size_t i, uint8_t p) {
        if (t[i] != '@' || (p & (L | K)) || !at_words || at_words->any() || i + 2 >= n) return false;
        const char x = fold(lower(static_cast<unsigned char>(t[i + 1])));
        size_t k = i + 2;
        while (k < n && fold(lower(static_cast<unsigned char>(t[k]))) == x) ++k;  // runs are one letter
        if (k >= n || !(at(k) & L) || (at(k) & K) || x == 'a' || x == 'p') return false;
        const char y = fold(lower(static_cast<unsigned char>(t[k])));
        if (y == 'p') return false;  // "ph" is 'f'
        if (!at_words->may_start(x, y)) return true;
        // a third letter decides too, where there is a plain one ("@sh" may be "ash...", "@she" not)
        size_t m = k + 1;
        while (m < n && fold(lower(static_cast<unsigned char>(t[m]))) == y) ++m;
        if (m >= n || !(at(m) & L) || (at(m) & K)) return false;
        const char z = fold(lower(static_cast<unsigned char>(t[m])));
        if (z == 'p') return false;  // "ph" is 'f'
        return !at_words->may_start(x, y, z);
    };
    // A two-letter token at i ("fu" of "fu ck"): joined to the token before or after it when they
    // make a split word (pair_join). Common two-letter words end here.
    auto lol = [&](size_t k) { return k < n && join_letter(t[k]) != 0; };
    auto pair_at = [&](size_t i) {
        if (!lol(i) || !lol(i + 1) || lol(i + 2) || (i > 0 && !space(t[i - 1]))) return;
        // a common word ("of", "it") is joined only to a piece that is none: found from that piece
        if (common_pair(plain_letter(t[i]), plain_letter(t[i + 1]))) return;
        size_t le = i;
        while (le > 0 && space(t[le - 1])) --le;
        if (le < i) {
            size_t ls = le;
            while (ls > 0 && le - ls < 4 && lol(ls - 1)) --ls;
            if (ls < le && le - ls <= 3 && (ls == 0 || space(t[ls - 1])) && pair_join(t, ls, le, i, i + 2, *joins))
                add_range(ls, i + 2);
        }
        if (i + 2 < n && !space(t[i + 2])) return;  // "fu," ends the word
        size_t rs = i + 2;
        while (rs < n && space(t[rs])) ++rs;
        size_t re = rs;
        while (re < n && re - rs < 4 && lol(re)) ++re;
        if (re > rs && re - rs <= 3 && !lol(re) && pair_join(t, i, i + 2, rs, re, *joins)) add_range(i, re);
    };
    auto pairs = [&](size_t base, uint64_t m) {
        while (m) {
            const size_t lane = static_cast<size_t>(__builtin_ctzll(m)) >> 3;
            m &= ~(0xFFULL << (lane * 8));
            pair_at(base + lane);
        }
    };
    // "ph" read as 'f' ("phuck"): only where the letters around the 'f' it makes occur so in a
    // vocabulary word (JoinGrams), so that "phone", "graph" and "sphere" cost nothing.
    auto ph_word = [&](size_t i) {
        if (!joins) return true;
        const char a = i > 0 ? join_letter(t[i - 1]) : 0, b = i + 2 < n ? join_letter(t[i + 2]) : 0,
                   c = b && i + 3 < n ? join_letter(t[i + 3]) : 0;
        if (b && joins->has(a, 'f', b, c)) return true;
        for (char x = 'a'; x <= 'z' + 1; ++x)
            if (joins->has(x > 'z' ? 0 : x, a, 'f', b)) return true;
        return false;
    };
    // What a mask run that starts at i is followed by: a letter or a leet character ("f*ck",
    // "a**hole"); not a word's end ("strategy*", "**bold**"), where no pattern has a letter to stand for.
    auto masked_inside = [&](size_t i) {
        while (i < n && mask(t[i])) ++i;
        return (at(i) & (L | K)) != 0;
    };
    // A letter, a separator, a letter, the same separator and a third letter: "f.u.c.k" (spaced_token
    // needs three letters), not "e.g." or "U.S."
    // (not digits alone: "1.4.8" and "4-5-5" are a version or a date, as spaced_token says)
    auto dotted = [&](size_t i, uint8_t q) {
        return (q & S) && (at(i + 2) & (L | K)) && i + 3 < n && t[i + 3] == t[i + 1] && (at(i + 4) & (L | K)) &&
               !(digit(t[i]) && digit(t[i + 2]) && digit(t[i + 4]));
    };
    // A hexadecimal id, a commit hash or a checksum ("f5cdd3b3c275dffaebfc", "2429c69961e2"): a token
    // of 10 to 64 hex digits with digits and letters a-f both in it, whose digits stand for no letter.
    // No vocabulary word is spelled in ten characters of 0-9 and a-f. Each token is looked at once,
    // from its first digit next to a letter, and at most 80 bytes either way: [hex_lo, hex_hi) is the
    // last token looked at, hex_id what it was.
    size_t hex_lo = 0, hex_hi = 0;
    bool hex_id = false;
    auto in_hex_id = [&](size_t i) {
        if (i >= hex_lo && i < hex_hi) return hex_id;
        auto alnum = [&](size_t k) { return (at(k) & L) || digit(t[k]); };
        size_t a = i, b = i + 1;
        while (a > 0 && i - a < 80 && alnum(a - 1)) --a;
        while (b < n && b - i < 80 && alnum(b)) ++b;
        hex_lo = a;
        hex_hi = b;
        hex_id = false;
        if ((a > 0 && alnum(a - 1)) || (b < n && alnum(b)) || b - a < 10 || b - a > 64) return false;
        bool digits = false, letters = false;
        for (size_t k = a; k < b; ++k) {
            const char c = lower(static_cast<unsigned char>(t[k]));
            if (digit(c)) digits = true;
            else if (c >= 'a' && c <= 'f') letters = true;
            else return false;
        }
        return hex_id = digits && letters;
    };
    auto step = [&](size_t i) {
        const uint8_t p = i ? at(i - 1) : static_cast<uint8_t>(W), c = at(i), q = at(i + 1);
        if ((c & (L | K)) && joins && i + 1 < n && (t[i + 1] == '.' || t[i + 1] == '-') && dot_join(t, n, i + 1, *joins))
            add(i);  // "fu.ck"
        if (c & L) {
            // a letter three times in a row; a letter, a separator, a letter, the same separator
            const char lc = lower(static_cast<unsigned char>(t[i]));
            if ((p & L) && (q & L) && lower(static_cast<unsigned char>(t[i - 1])) == lc &&
                lower(static_cast<unsigned char>(t[i + 1])) == lc)
                add(i);
            else if (dotted(i, q))
                add(i);
            else if (lc == 'p' && (q & L) && lower(static_cast<unsigned char>(t[i + 1])) == 'h' && ph_word(i))
                add(i);  // "phuck"
        } else if (c & K) {
            // a leet character touching a letter, "@$", or "5.h.1.7"; an '@' opening a handle
            // ("@user") only when "a" and its next letters may begin a vocabulary word; '!', '|'
            // and '+' only inside a word ("sh!t", "sh!!t", not "great!" or "C++": leet_at)
            auto inside = [&] {  // the run of them that ends at i stands between letters or leet
                size_t a = i;
                while (a > 0 && inner_leet(t[a - 1])) --a;
                const uint8_t before = a > 0 ? at(a - 1) : static_cast<uint8_t>(W);
                return !(i + 1 < n && inner_leet(t[i + 1])) && (before & (L | K)) && (q & (L | K)) && ((before | q) & L);
            };
            if (inner_leet(t[i]) ? inside() || dotted(i, q)
                           : (p & L) || ((q & L) && !handle(i, p)) || (t[i] == '@' && (q & K)) || dotted(i, q))
                if (!digit(t[i]) || !in_hex_id(i)) add(i);
        } else if ((c & M) && (p & L) && masked_inside(i)) {
            add(i);  // "f*ck"
        } else if ((p & L) && replacement_at(t, n, i) && (at(replacement_run(t, n, i)) & L)) {
            add(i);  // "fu\xFFck": an invalid byte (U+FFFD once normalized) between letters, dropped
        }
        // single letters separated by spaces: "f u c k"
        if (!(c & W) && (p & W) && (q & W)) {
            if (singles == 0) run_start = i;
            if (++singles >= 3) add_range(run_start, i + 1);
        } else if (!(c & W)) {
            singles = 0;
        }
    };
    // 16 bytes at a time, a superset of the tests above; a block where one may hold is stepped
    // through byte by byte. Most blocks of real text are letters, spaces and sentence punctuation.
    size_t i = 0;
    if (n >= 22) {
        for (; i < 3; ++i) {  // (a block reads three bytes before its own)
            if (joins) pair_at(i);
            step(i);
        }
        auto block = [&](size_t at, const Block &b) {
            if (joins && (b.pair_lo | b.pair_hi)) {
                pairs(at, b.pair_lo);
                pairs(at + 8, b.pair_hi);
            }
            if (b.maybe) {
                for (size_t k = at; k < at + 16; ++k) step(k);
            } else if (b.nonspace) {
                singles = 0;  // a token longer than one letter: no single-letter run goes on
            }
        };
        if (g_wide_blocks.load(std::memory_order_relaxed)) {
            for (; i + 35 <= n; i += 32) {
                Block b[2];
                classify_two_blocks(t + i, b);
                block(i, b[0]);
                block(i + 16, b[1]);
            }
        }
        for (; i + 19 <= n; i += 16) block(i, classify_block(t + i));
    }
    for (; i < n; ++i) {
        if (joins) pair_at(i);
        step(i);
    }
}

}  // namespace

bool skeleton_wide_blocks(bool on) {
    const bool have = have_avx2();
    g_wide_blocks.store(on && have, std::memory_order_relaxed);
    return have;
}

void Skeleton::emit(char c, uint32_t os, uint32_t oe, uint8_t ev) {
    joined_.push_back(joining_now_);
    out_ += c;
    start_.push_back(os);
    end_.push_back(oe);
    ev_.push_back(ev);
}

void Skeleton::emit_stretch(const Normalizer &n, size_t s, size_t e, char fill) {
    n.for_each_stretch(s, e, [&](size_t a, size_t b, uint32_t os, uint32_t oe, bool linear, uint8_t ev) {
        const size_t m = b - a;
        if (m == 1) return emit(fill ? fill : n.data()[a], os, linear ? os + 1 : oe, ev);  // most gaps: one space
        if (fill) out_.append(m, fill);
        else out_.append(n.data() + a, m);
        joined_.insert(joined_.end(), m, joining_now_);
        ev_.insert(ev_.end(), m, ev);
        if (linear) {
            for (size_t k = 0; k < m; ++k) {
                start_.push_back(static_cast<uint32_t>(os + k));
                end_.push_back(static_cast<uint32_t>(os + k + 1));
            }
        } else {
            start_.insert(start_.end(), m, os);
            end_.insert(end_.end(), m, oe);
        }
    });
}

uint32_t Skeleton::evasion(size_t s, size_t e) const noexcept {
    uint32_t bits = 0;
    for (size_t k = s; k < e && k < ev_.size(); ++k) {
        bits |= ev_[k];
        // a split word's pieces joined inside the span, of four letters or more (JoinGrams knows
        // no shorter word: "al la" and "a 1ª" are no "alla")
        if (k > s && joined_[k] == 4 && e - s >= 4) bits |= kEvSeparators;
    }
    return bits;
}

bool Skeleton::boundary_ok(size_t from, size_t to, Boundary b) const noexcept {
    auto word_byte = [&](size_t k) {
        char c = out_[k];
        return letter(c) || digit(c) || c == '*' || static_cast<unsigned char>(c) >= 0x80;
    };
    // "a b i t c h": a spaced-out word right after the one-letter word "a" or "i" may start at
    // the second letter of the joined run.
    // A split word's pieces joined with their neighbours ("are" "bi" "tc" "h"): each piece may start
    // or end a word.
    bool start_ok = from == 0 || !word_byte(from - 1) || (joined_[from - 1] == 2 && joined_[from] != 0) ||
                    joined_[from] >= 3;
    bool end_ok = to >= out_.size() || !word_byte(to) || joined_[to] >= 3;
    if (b == Boundary::Any) return true;
    if (b == Boundary::Prefix) return start_ok;
    if (b == Boundary::Suffix) return end_ok;
    return start_ok && end_ok;
}

namespace {

// Whether a token can give the skeleton no letter a-z: no ASCII letter, no digit, no leet symbol.
inline bool inert_token(const char *t, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(t[i]);
        if (c < 0x80 && (letter(lower(c)) || digit(static_cast<char>(c)) || leet(static_cast<char>(c)))) return false;
    }
    return true;
}

// Whether two ASCII bytes stand side by side. A token's skeleton has two ASCII bytes side by side
// only where the token has (ASCII bytes come from ASCII bytes, in order, and what the skeleton drops
// between two of them is ASCII too: separators, a repeated letter, the 'h' of "ph").
inline bool ascii_pair(const char *t, size_t n) {
    for (size_t i = 0; i + 1 < n; ++i)
        if (!(static_cast<unsigned char>(t[i]) & 0x80) && !(static_cast<unsigned char>(t[i + 1]) & 0x80)) return true;
    return false;
}

// Punctuation that may close or open a word without belonging to it ("b.i.t.c.h," / "(f.u.c.k").
inline bool edge_punct(char c) {
    return c == ',' || c == '.' || c == '!' || c == '?' || c == ';' || c == ':' || c == ')' || c == '(' ||
           c == '"' || c == '\'' || c == ']' || c == '[';
}

// Decodes the code point at p[0..n) (normalized text: valid UTF-8) and returns its look-alike entry.
const Lookalike *lookalike_at(const char *p, size_t n, size_t *len) {
    uint32_t cp;
    bool valid;
    *len = decode_utf8(reinterpret_cast<const unsigned char *>(p), n, &cp, &valid);
    return valid ? find_lookalike(cp) : nullptr;
}

// Whether the character of t[a, b) that holds byte k (a lead or a continuation byte) is in the
// look-alike table.
bool lookalike_char(const char *t, size_t a, size_t b, size_t k) {
    while (k > a && (static_cast<unsigned char>(t[k]) & 0xC0) == 0x80) --k;
    size_t len;
    return lookalike_at(t + k, b - k, &len) != nullptr;
}

// Whether normalized bytes [k, k + 2) are the "ss" that case folding made of one sharp s (ß, ẞ) of
// the post: in a word that other look-alikes mark ("fu¢k∆ß£€") it stands for the b it is drawn like.
bool sharp_s(const Normalizer &n, size_t k) {
    const char *t = n.data();
    if (k + 1 >= n.size() || t[k] != 's' || t[k + 1] != 's') return false;
    const size_t o = n.orig_start(k);
    if (n.orig_start(k + 1) != o) return false;
    const std::string_view src = n.source().substr(o, n.orig_end(k + 2) - o);
    return src == "\xC3\x9F" || src == "\xE1\xBA\x9E";
}

// Whether the code point of token t[a, b) that ends at t[k] (exclusive) or starts at t[k] is a
// letter or a look-alike (`plain`: an ASCII letter counts; otherwise only a look-alike or a leet
// character): `before` looks at the one ending at k, otherwise at the one starting at k.
bool letterlike(const char *t, size_t a, size_t b, size_t k, bool before, bool plain = true) {
    if (before ? k <= a : k >= b) return false;
    if (before) --k;  // a byte of the character that ends at k
    const auto c = static_cast<unsigned char>(t[k]);
    if (c < 0x80) return plain ? letter(lower(c)) : !letter(lower(c)) && leet(static_cast<char>(c));
    return lookalike_char(t, a, b, k);
}

// The first byte of token t[a, b) after its opening punctuation ("(Shi†)", "\"ßitch\""), and the end of
// what comes before its closing punctuation ("slu†,"): a leet character is a letter, not punctuation.
size_t first_letter(const char *t, size_t a, size_t b) {
    while (a < b && edge_punct(t[a]) && !leet(t[a])) ++a;
    return a;
}
size_t last_letter_end(const char *t, size_t a, size_t b) {
    while (b > a && edge_punct(t[b - 1]) && !leet(t[b - 1])) --b;
    return b;
}

// Whether look-alike e at t[k, k + len) of token t[a, b) stands for its letter there, for the
// entries that count only between letters (kLookBetweenLetters): a letter or a look-alike after it,
// and one before it or the token's start ("bi†ch", "a££", "£ick"; not "£5", "x†"); last in the
// token, after a look-alike or a leet character ("sh!†", "tw∆†"), or after four letters or more of
// a word the post writes in lower case ("dipshi†", "idio†"; not "Shi†", "Jesus†", a name and the
// dagger of its death date, nor a footnote's dagger after a short word: "far†", "gun†", "but†" would
// read "fart", "gunt", "butt"). `lower`: the token's first letter is not a capital in the post.
bool applies(const Lookalike &e, const char *t, size_t a, size_t b, size_t k, size_t len, bool lower) {
    if (e.when != kLookBetweenLetters) return true;
    b = last_letter_end(t, k + len, b);  // "slu†," ends with its dagger
    if (k + len >= b)
        return k > a && (letterlike(t, a, b, k, true, false) ||
                         (lower && k - a >= 4 && static_cast<unsigned char>(t[k - 1]) < 0x80 &&
                          letter(static_cast<char>(t[k - 1]))));
    return letterlike(t, a, b, k + len, false) && (k == a || letterlike(t, a, b, k, true));
}

// Whether normalized byte a was written as a capital ASCII letter in the post.
bool capital(const Normalizer &n, size_t a) {
    const std::string_view src = n.source();
    const size_t o = n.orig_start(a);
    return o < src.size() && src[o] >= 'A' && src[o] <= 'Z';
}

// Whether token t[a, b) starts with the "ss" of one sharp s and a letter follows: no word of any
// language starts with ß, so "ßitch" stands for the b it is drawn like.
bool sharp_s_first(const Normalizer &n, const char *t, size_t a, size_t b) {
    return b - a > 2 && sharp_s(n, a) && letterlike(t, a, b, a + 2, false);
}

// Letters an upside-down word may hold as they are: their own turned form, or each other's.
inline char flip(char c) {
    switch (c) {
    case 'b': return 'q';
    case 'q': return 'b';
    case 'd': return 'p';
    case 'p': return 'd';
    case 'n': return 'u';
    case 'u': return 'n';
    case 'm': return 'w';  // the normalizer reads a turned m ("ɯ") as a w
    case 'w': return 'm';
    case 'l': case 'o': case 's': case 'x': case 'z': return c;
    default: return 0;
    }
}

// Whether normalized byte k came from an upper-case ASCII letter after a lower-case one and a dot:
// a new sentence ("bitch.And"), not the rest of a split word ("fu.ck", "FU.CK").
bool sentence_start(const Normalizer &n, size_t k) {
    const std::string_view src = n.source();
    const size_t o = n.orig_start(k);
    if (k < 2 || o >= src.size() || src[o] < 'A' || src[o] > 'Z') return false;
    const size_t p = n.orig_start(k - 2);
    return p < src.size() && src[p] >= 'a' && src[p] <= 'z';
}

}  // namespace

// Whether normalized token t[a, b) is a word written with look-alike letters: every letter in it is
// ASCII or in the look-alike table (other characters count as punctuation), at least one is from
// the table, and it is mixed: a Latin-script or symbol look-alike, look-alikes of two scripts, ASCII
// letters in the post's own bytes of the word ("fυcκ"; not the letters the normalizer made ASCII:
// "Сол" is a Kazakh word), or, for CJK strokes, which Chinese and Japanese write without spaces, a
// word with ASCII letters next to it. A word written wholly in Greek, Cyrillic or CJK is none of
// these. *upside: the word is upside-down text (turned letters, and only ASCII letters that
// read the same or as each other turned), which is written backwards.
bool Skeleton::lookalike_token(const Normalizer &n, const char *t, size_t a, size_t b, bool *upside) {
    const size_t first = first_letter(t, a, b);
    bool found = sharp_s_first(n, t, first, b), mixed = found, turned = false, unflippable = false;
    const bool lower_word = !capital(n, first);
    int script = -1;
    for (size_t k = a; k < b;) {
        const auto c = static_cast<unsigned char>(t[k]);
        if (c < 0x80) {
            if (letter(lower(c)) && !flip(lower(c))) unflippable = true;
            ++k;
            continue;
        }
        size_t len;
        const Lookalike *e = lookalike_at(t + k, b - k, &len);
        if (e && e->when == kLookWeak) {  // neither marks the word nor makes it a real one
            k += len;
            continue;
        }
        if (e && !applies(*e, t, a, b, k, len, lower_word)) e = nullptr;
        if (!e) {
            uint32_t cp;
            bool valid;
            decode_utf8(reinterpret_cast<const unsigned char *>(t + k), b - k, &cp, &valid);
            if (is_word_cp(cp)) return false;  // a letter of its own script: a real word
            k += len;
            continue;
        }
        found = true;
        turned |= e->upside != 0;
        if (e->script == 0) mixed = true;
        else if (script >= 0 && script != e->script) mixed = true;
        else script = e->script;
        k += len;
    }
    if (!found) return false;
    const std::string_view src = n.source();
    auto ascii_letters = [&](size_t s, size_t e) {  // in the post's bytes of normalized [s, e)
        if (e <= s) return false;
        for (size_t k = n.orig_start(s), end = n.orig_end(e); k < end && k < src.size(); ++k)
            if (letter(lower(static_cast<unsigned char>(src[k])))) return true;
        return false;
    };
    if (!mixed) mixed = ascii_letters(a, b);
    if (!mixed && script == kScriptHan) {
        // the words before and after, as far as one token each
        size_t pe = a;
        while (pe > 0 && space(t[pe - 1])) --pe;
        size_t ps = pe;
        while (ps > 0 && !space(t[ps - 1])) --ps;
        size_t ns = b;
        while (ns < n.size() && space(t[ns])) ++ns;
        size_t ne = ns;
        while (ne < n.size() && !space(t[ne])) ++ne;
        mixed = ascii_letters(ps, pe) || ascii_letters(ns, ne);
    }
    if (!mixed) return false;
    *upside = turned && !unflippable;
    return true;
}

// Why leaving a token out changes no match: a pattern has no space, so a match lies in one token
// (or in a run of single letters joined, which are never left out), and the token's neighbours in
// the skeleton are the spaces around it either way. What a token gives the skeleton: its bytes >= 0x80
// as they are, and ASCII bytes for its ASCII bytes (letters a-z only from letters, digits and leet
// symbols). A word in another script whose look-alike letters fold to Latin one at a time ("lللo",
// which the ligature U+FDFA becomes in part) matches no pattern, and costs the skeleton nothing.
void TokenFilter::add(std::string_view s) {
    if (ascii_pair(s.data(), s.size())) return;  // a token needs a pair too: may_match checks it
    std::array<uint32_t, 4> m{};
    for (unsigned char c : s)
        if (c >= 0x80) m[(c - 0x80) >> 5] |= 1u << (c & 31);
    if (std::find(loose_.begin(), loose_.end(), m) == loose_.end()) loose_.push_back(m);
}

bool TokenFilter::may_match(const char *t, size_t n) const {
    // inert_token() and ascii_pair() in one pass, with a class per byte: 1 ASCII, 2 a letter a-z's
    static const auto cls = [] {
        std::array<uint8_t, 256> c{};
        for (int x = 0; x < 0x80; ++x)
            c[x] = static_cast<uint8_t>(1 | (letter(lower(static_cast<unsigned char>(x))) || digit(static_cast<char>(x)) ||
                                                     leet(static_cast<char>(x))
                                                 ? 2
                                                 : 0));
        return c;
    }();
    unsigned any = 0, pair = 0, before = 0;
    for (size_t i = 0; i < n; ++i) {
        const unsigned c = cls[static_cast<unsigned char>(t[i])];
        any |= c;
        pair |= before & c;
        before = c;
    }
    if (!(any & 2)) return false;
    if (pair & 1) return true;
    std::array<uint32_t, 4> have{};  // the bytes >= 0x80 it has
    for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(t[i]);
        if (c >= 0x80) have[(c - 0x80) >> 5] |= 1u << (c & 31);
    }
    for (const auto &m : loose_)
        if (!(m[0] & ~have[0]) && !(m[1] & ~have[1]) && !(m[2] & ~have[2]) && !(m[3] & ~have[3])) return true;
    return false;
}

std::vector<uint64_t> TokenFilter::save() const {
    std::vector<uint64_t> w;
    for (const auto &m : loose_) {
        w.push_back(m[0] | uint64_t(m[1]) << 32);
        w.push_back(m[2] | uint64_t(m[3]) << 32);
    }
    return w;
}

bool TokenFilter::load(const uint64_t *w, size_t n) {
    loose_.clear();
    if (n % 2) return false;
    for (size_t i = 0; i < n; i += 2)
        loose_.push_back({static_cast<uint32_t>(w[i]), static_cast<uint32_t>(w[i] >> 32), static_cast<uint32_t>(w[i + 1]),
                          static_cast<uint32_t>(w[i + 1] >> 32)});
    return true;
}

bool Skeleton::build(const Normalizer &n, const AtWords *at, const JoinGrams *joins, const TokenFilter *filter) {
    filter_ = filter;
    const char *t = n.data();
    const size_t len = n.size();
    regions_.clear();
    joins_ = joins;
    suspicious_regions(t, len, regions_, at, joins);
    // Look-alike letters or invisibles already seen by the normalizer count as a trick too:
    // "buӏӏshit" (Cyrillic palochka) only matches once 'l' and 'i' are one letter.
    if (!n.identity()) {
        size_t before = regions_.size();
        n.for_each_evasion([&](size_t s, size_t e) { regions_.emplace_back(s, e); });
        // words written with look-alike letters ("ꜰᴜᴄᴋ", "fυcκ", "ʞɔnɟ")
        size_t done = 0;
        for (uint32_t k : n.lookalikes()) {
            if (k < done) continue;
            size_t a = k, b = k;
            while (a > 0 && !space(t[a - 1])) --a;
            while (b < len && !space(t[b])) ++b;
            done = b;
            bool upside;
            if (lookalike_token(n, t, a, b, &upside)) regions_.emplace_back(a, b);
        }
        if (regions_.size() - before > len / 32) {
            // flagged characters all over the post: one stretch is cheaper than many
            regions_.clear();
            regions_.emplace_back(0, len);
        } else if (regions_.size() != before) {
            std::sort(regions_.begin(), regions_.end());  // overlaps are clipped below
        }
    }
    if (regions_.empty()) return false;
    out_.clear();
    joined_.clear();
    start_.clear();
    end_.clear();
    ev_.clear();
    // Each region widened to whole tokens; regions are separated by one space.
    size_t done = 0;
    spans_.clear();
    // A token of one letter, perhaps repeated ("s", "iiii"): a piece of a spaced-out word.
    auto single = [&](size_t a, size_t b) {
        a = first_letter(t, a, b);  // "(f" and "k," as in Tok
        b = last_letter_end(t, a, b);
        if (b <= a || b - a > 16) return false;
        const char c0 = lower(static_cast<unsigned char>(t[a]));
        if (!(letter(c0) || leet(c0))) return false;
        for (size_t k = a; k < b; ++k)
            if (lower(static_cast<unsigned char>(t[k])) != c0) return false;
        return true;
    };
    constexpr size_t kSpacedReach = 64;  // how far a spaced-out word may reach around its trick
    for (auto [lo, hi] : regions_) {
        // (inside what an earlier region was widened to: nothing to add, and looking for the end of
        // its token again would read a post of one long token once per trick in it)
        if (hi <= done) continue;
        while (lo > done && !space(t[lo - 1])) --lo;
        while (hi < len && !space(t[hi])) ++hi;
        // the single letters around, when the trick is inside a spaced-out word ("s h iiiii t")
        for (size_t start = lo; lo > done && start - lo < kSpacedReach;) {
            size_t e = lo;
            while (e > done && space(t[e - 1])) --e;
            size_t a = e;
            while (a > done && !space(t[a - 1])) --a;
            if (a == e || !single(a, e)) break;
            lo = a;
        }
        for (size_t end = hi; hi < len && hi - end < kSpacedReach;) {
            size_t a = hi;
            while (a < len && space(t[a])) ++a;
            size_t e = a;
            while (e < len && !space(t[e])) ++e;
            if (a == e || !single(a, e)) break;
            hi = e;
        }
        if (lo < done) lo = done;
        if (hi <= lo) continue;
        // Stretches with only whitespace between them are one: a spaced-out word may hold several
        // tricks ("a a r s eeeee").
        bool joined = !spans_.empty();
        for (size_t k = done; joined && k < lo; ++k) joined = space(t[k]);
        if (joined) spans_.back().second = hi;
        else spans_.emplace_back(lo, hi);
        done = hi;
    }
    for (auto [lo, hi] : spans_) {
        if (!out_.empty()) emit(' ', static_cast<uint32_t>(n.orig_start(lo)), static_cast<uint32_t>(n.orig_start(lo)), 0);
        build_range(n, lo, hi);
    }
    return true;
}

void Skeleton::build_range(const Normalizer &n, size_t lo, size_t hi) {
    const char *t = n.data();
    const size_t len = hi;
    auto os = [&](size_t k) { return static_cast<uint32_t>(n.orig_start(k)); };
    auto oe = [&](size_t k) { return static_cast<uint32_t>(n.orig_end(k + 1)); };
    auto nev = [&](size_t k) { return static_cast<uint8_t>(n.evasion(k, k + 1)); };

    // Token boundaries (whitespace-separated), with edge punctuation trimmed for the tests below.
    // A token in which no pattern can match is left out (see TokenFilter); the next one kept says so.
    std::vector<Tok> &toks = toks_;
    toks.clear();
    bool left_out = false;
    for (size_t i = lo; i < len;) {
        while (i < len && space(t[i])) ++i;
        if (i >= len) break;
        size_t a = i;
        while (i < len && !space(t[i])) ++i;
        Tok k{a, i, a, i, false, false};
        k.ca = first_letter(t, k.ca, k.cb);
        while (k.cb > k.ca && edge_punct(t[k.cb - 1]) && !(leet(t[k.cb - 1]) && k.cb - 1 > k.ca && t[k.cb - 2] == t[k.cb - 1])) --k.cb;
        if (k.cb > k.ca) {
            const char c = lower(static_cast<unsigned char>(t[k.ca]));
            if (letter(c) || (leet(c) && c != '!' && c != '|' && c != '+')) {
                bool same = true;
                for (size_t j = k.ca; j < k.cb && same; ++j) same = lower(static_cast<unsigned char>(t[j])) == c;
                k.single = same;
            }
        }
        // (a word written with look-alike letters gives the skeleton letters the filter does not
        // know of, see lookalike_token: it is never left out)
        bool upside;
        // (nor is one with an invalid byte, which the skeleton drops: "f\xFFu\xFFc\xFFk" has no
        // two ASCII letters side by side until then)
        if ((!k.single && (filter_ ? !filter_->may_match(t + a, i - a) : inert_token(t + a, i - a)) &&
             !lookalike_token(n, t, a, i, &upside) && std::string_view(t + a, i - a).find("\xEF\xBF\xBD") == std::string_view::npos) ||
            url_token(t, k.ca, k.cb)) {
            left_out = true;
            continue;
        }
        k.after_gap = left_out;
        left_out = false;
        toks.push_back(k);
    }
    // Runs of three or more single-letter tokens are one spaced-out word.
    std::vector<uint8_t> &join = join_, &in_run = in_run_;  // joined to the previous token / in a run
    join.assign(toks.size(), 0);
    in_run.assign(toks.size(), 0);
    for (size_t i = 0; i < toks.size();) {
        size_t j = i;
        while (j < toks.size() && toks[j].single && (j == i || !toks[j].after_gap)) ++j;  // a token left out parts runs
        if (j - i >= 3)
            for (size_t k = i; k < j; ++k) {
                in_run[k] = 1;
                join[k] = k > i;
            }
        i = j > i ? j : i + 1;
    }
    // Pieces of a split word ("fu ck", "bi tc h"): joined, the space being the trick.
    // Whether two pieces that would be joined look like parts of a name, as written in the post: the
    // left one in title case, and the right one too ("Lee Wan Ki", "Wan-Ki Kim") or no sentence
    // starting at the left one ("Chan Wan-kit"). Split evasions are written in lower or upper case
    // ("fu ck", "FU-CK", "Fu-ck this" at a sentence's start, "A-Hole"); "ok Fu ck you" is missed.
    const std::string_view src = n.source();
    auto title = [&](size_t k) {
        const size_t o = n.orig_start(k);
        return o + 1 < src.size() && src[o] >= 'A' && src[o] <= 'Z' && src[o + 1] >= 'a' && src[o + 1] <= 'z';
    };
    auto piece_start = [&](size_t k) {  // where the letters before t[k] start
        while (k > lo && letter(lower(static_cast<unsigned char>(t[k - 1])))) --k;
        return k;
    };
    auto upper_at = [&](size_t k) {
        const size_t o = n.orig_start(k);
        return o < src.size() && src[o] >= 'A' && src[o] <= 'Z';
    };
    auto lower_at = [&](size_t k) {
        const size_t o = n.orig_start(k);
        return o < src.size() && src[o] >= 'a' && src[o] <= 'z';
    };
    auto name_split = [&](size_t left, size_t right) {
        // An abbreviation in capitals beside a common word of two letters in lower case is two words
        // ("PR on GitHub", "a CA is found", "the WH or", and "on PR"), not a word split in two
        // pieces: a piece that is no common word ("FU ck", "fu CK", "BI tch") may be written in
        // either case, and a longer word after a split one ("FU CK you") is no such common word.
        {
            size_t l = left, r = right;
            bool l_upper = true, l_lower = true, r_upper = true, r_lower = true;
            for (; l < n.size() && letter(lower(static_cast<unsigned char>(t[l]))); ++l) {
                l_upper &= upper_at(l);
                l_lower &= lower_at(l);
            }
            for (; r < n.size() && letter(lower(static_cast<unsigned char>(t[r]))); ++r) {
                r_upper &= upper_at(r);
                r_lower &= lower_at(r);
            }
            auto common = [&](size_t a, size_t b) {
                return b - a == 2 && common_pair(lower(static_cast<unsigned char>(t[a])), lower(static_cast<unsigned char>(t[a + 1])));
            };
            if ((l - left >= 2 && l_upper && r_lower && common(right, r)) ||
                (r - right >= 2 && r_upper && l_lower && common(left, l)))
                return true;
        }
        // (a one-letter left piece is no name: "A-Hole")
        if (!title(left) || !letter(lower(static_cast<unsigned char>(t[left + 1])))) return false;
        if (title(right)) return true;
        size_t k = left;
        while (k > 0 && (t[k - 1] == ' ' || t[k - 1] == '\t' || t[k - 1] == '"' || t[k - 1] == '\'')) --k;
        return k > 0 && t[k - 1] != '.' && t[k - 1] != '!' && t[k - 1] != '?' && t[k - 1] != '\n' && t[k - 1] != ':';
    };
    split_.assign(toks.size(), 0);
    for (size_t i = 0; joins_ && i + 1 < toks.size(); ++i) {
        const Tok &x = toks[i], &y = toks[i + 1];
        if (in_run[i] || in_run[i + 1] || x.cb != x.b || y.ca != y.a) continue;
        if (pair_join(t, x.ca, x.cb, y.ca, y.cb, *joins_, split_[i] != 0) && !name_split(x.ca, y.ca))
            join[i + 1] = split_[i + 1] = 1;
    }

    size_t prev_end = lo;
    // The whitespace before a token, as spaces; one space where tokens were left out (a pattern has
    // no space, so spaces only part words, and one does as well as several).
    auto gap = [&](size_t end, bool after_gap) {
        if (!after_gap) return emit_stretch(n, prev_end, end, ' ');
        emit(' ', os(prev_end), oe(prev_end), nev(prev_end));
    };
    // After the first letter of a run or a piece: only that letter carries the mark (joining_now_).
    auto piece_mark_done = [&] {
        if (joining_now_ == 2) joining_now_ = 1;
        else if (joining_now_ >= 3) joining_now_ = 0;
    };
    size_t same_len = 0;  // how many times the last character came in a row, as written
    char run_char = 0;
    // A long token's digits: leet_at() in constant time each (LeetDigits), built on its first digit.
    constexpr size_t kLongToken = 4 * kLeetReach;
    // (allocates only for a post that has such a token)
    LeetDigits leet_digits;
    const char *digits_of = nullptr;
    auto long_digits = [&](const char *tok, size_t tn) -> const LeetDigits & {
        if (digits_of != tok) {
            leet_digits.build(tok, tn);
            digits_of = tok;
        }
        return leet_digits;
    };
    for (size_t ti = 0; ti < toks.size(); ++ti) {
        const Tok &k = toks[ti];
        const char *tok = t + k.a;
        const size_t tn = k.b - k.a;
        joining_now_ = 0;
        if (!join[ti]) gap(k.a, k.after_gap);  // (a joined token follows the one before it directly)
        prev_end = k.b;
        const bool run = in_run[ti];
        const bool spaced = spaced_token(t + k.ca, k.cb - k.ca);
        const bool eligible = run || spaced || leet_token(tok, tn);
        joining_now_ = (run || spaced) ? 1 : 0;
        if (run && !join[ti]) {
            char first = lower(static_cast<unsigned char>(t[k.ca]));
            if (first == 'a' || first == 'i') joining_now_ = 2;
        }
        const uint8_t join_bit = joining_now_ ? kEvSeparators : 0;
        // A split word's first piece starts with a 3, each next piece with a 4: the space before it
        // is the trick, which a hit must hold inside (Skeleton::evasion).
        if (split_[ti]) joining_now_ = 4;
        else if (ti + 1 < toks.size() && split_[ti + 1]) joining_now_ = 3;
        uint8_t sep_ev = 0;  // a dot or dash just dropped from "fu.ck": the next letter carries it
        size_t run_begin = out_.size();
        size_t run_len = 0;
        // A letter continuing the previous token's letter in a spaced-out word ("s h iiii t").
        if (join[ti] && !out_.empty()) run_len = 1;
        else same_len = 0;
        // A word written with look-alike letters: they become the letters they imitate.
        bool look = false, upside = false;
        for (size_t j = 0; j < tn; ++j)
            if (static_cast<unsigned char>(tok[j]) >= 0x80) {
                look = lookalike_token(n, t, k.a, k.b, &upside);
                break;
            }
        // (k.ca: the token's first letter, after its opening punctuation)
        if (!look && !upside && sharp_s_first(n, t, k.ca, k.b)) look = lookalike_token(n, t, k.a, k.b, &upside);
        const bool lower_word = !capital(n, k.ca);
        if (upside) {
            emit_upside_down(n, k);
            continue;
        }
        for (size_t j = 0; j < tn; ++j) {
            const size_t at = k.a + j;
            const auto b = static_cast<unsigned char>(tok[j]);
            size_t clen = 1;  // bytes of the character at j
            uint8_t look_ev = 0;
            char c;
            if (const size_t r = b == 0xEF && j > 0 ? replacement_run(tok, tn, j) : j;
                r > j && r < tn && out_.size() > run_begin && letter(lower(static_cast<unsigned char>(tok[r])))) {
                // invalid bytes between letters go, as invisible characters do ("id\xFFiot"): the
                // next letter carries the trick
                sep_ev = kEvInvisible;
                j = r - 1;
                continue;
            }
            if (b >= 0x80) {
                const Lookalike *e = look ? lookalike_at(tok + j, tn - j, &clen) : nullptr;
                if (e && !applies(*e, tok, 0, tn, j, clen, lower_word)) e = nullptr;
                if (!e) {
                    emit(static_cast<char>(b), os(at), oe(at), nev(at));
                    run_len = 0;
                    continue;
                }
                c = e->letter;
                look_ev = kEvConfusable;
                j += clen - 1;
            } else if (look && b == 's' && j + 1 < tn && sharp_s(n, at)) {
                c = 'b';  // both bytes of the "ss" are the one letter
                look_ev = kEvConfusable;
                ++j;
            } else {
                c = lower(b);
            }
            uint8_t ev = static_cast<uint8_t>(nev(at) | join_bit | look_ev | sep_ev);
            sep_ev = 0;
            const bool in_core = at >= k.ca && at < k.cb;
            if (spaced && in_core && (at - k.ca) % 2 == 1) continue;  // the separator of "f.u.c.k"
            char l = 0;
            if (letter(c)) {
                l = c;
                if (c == 'p' && !look_ev && j + 1 < tn && lower(static_cast<unsigned char>(tok[j + 1])) == 'h') {
                    l = 'f';
                    ev |= kEvLeet;
                }
            } else if (eligible && in_core && leet(c) &&
                       ((run || spaced) ? (c != '!' && c != '|' && c != '+') || tn > 1
                        : digit(c) && tn >= kLongToken ? long_digits(tok, tn).digit_at(j) : leet_at(tok, tn, j)) &&
                       !printf_position(tok, tn, j)) {
                l = leet(c);
                ev |= kEvLeet;
            } else if (mask(c) && j > 0 && j + 1 < tn && out_.size() > run_begin) {
                // '*' inside a word: a wildcard for one letter
                emit('*', os(at), oe(at), static_cast<uint8_t>(ev | kEvSeparators));
                run_len = 0;
                continue;
            }
            if (!l && (c == '.' || c == '-') && joins_ && !spaced && in_core && dot_join(tok, tn, j, *joins_) &&
                !(c == '.' && sentence_start(n, at + 1)) && !name_split(piece_start(at), at + 1)) {
                sep_ev = kEvSeparators;  // "fu.ck": the dot goes
                continue;
            }
            if (!l) {
                emit(c, os(at), oe(at), ev);
                run_len = 0;
                continue;
            }
            l = fold(l);
            uint32_t end_orig = oe(at + clen - 1);
            if (l == 'f' && c == 'p') {
                end_orig = oe(at + 1);
                ++j;
            } else if (l == 'h' && run_len && out_.back() == 'p') {
                // "ph" read as 'f' where the two letters come from two pieces of a split word ("p h u k")
                // or are look-alikes ("ᴘʜᴜᴋ"), as the one-token ASCII case above reads it
                out_.back() = 'f';
                end_.back() = end_orig;
                ev_.back() |= ev | kEvLeet;
                run_char = c;
                piece_mark_done();  // (as after an emitted letter)
                continue;
            }
            if (run_len && out_.back() == l) {
                // the same letter again: one letter in the skeleton, covering the whole run; a
                // stretched word when the same character comes three times ("fuuuck"), not when
                // letters that fold together meet ("ill" in "pills" is no stretched "piss")
                end_.back() = end_orig;
                ev_.back() |= ev;
                ++run_len;
                same_len = c == run_char ? same_len + 1 : 1;
                run_char = c;
                if (same_len >= 3) ev_.back() |= kEvRepeats;
                continue;
            }
            emit(l, os(at), end_orig, ev);
            run_len = 1;
            same_len = 1;
            run_char = c;
            piece_mark_done();
        }
    }
    joining_now_ = 0;
    gap(len, left_out);
}

// An upside-down word: its letters turned back and in reverse order. Every letter covers the whole
// word in the post, since the order is reversed.
void Skeleton::emit_upside_down(const Normalizer &n, const Tok &k) {
    const char *t = n.data();
    for (size_t s = k.a; s < k.ca; ++s) emit(t[s], static_cast<uint32_t>(n.orig_start(s)), static_cast<uint32_t>(n.orig_end(s + 1)), 0);
    const auto os = static_cast<uint32_t>(n.orig_start(k.ca)), oe = static_cast<uint32_t>(n.orig_end(k.cb));
    const uint8_t ev = static_cast<uint8_t>(n.evasion(k.ca, k.cb) | kEvConfusable);
    letters_.clear();
    for (size_t j = k.ca; j < k.cb;) {
        const auto b = static_cast<unsigned char>(t[j]);
        if (b < 0x80) {
            const char f = flip(lower(b));
            if (f) letters_.push_back(f);
            ++j;
            continue;
        }
        size_t len;
        const Lookalike *e = lookalike_at(t + j, k.cb - j, &len);
        if (e) letters_.push_back(e->letter);
        j += len;
    }
    const size_t first = out_.size();
    for (size_t i = letters_.size(); i-- > 0;) {
        char l = fold(letters_[i]);
        if (l == 'p' && i > 0 && letters_[i - 1] == 'h') {  // "ph" is 'f', as everywhere
            l = 'f';
            --i;
        }
        if (out_.size() > first && out_.back() == l) continue;  // runs are one letter
        emit(l, os, oe, ev);
    }
    for (size_t s = k.cb; s < k.b; ++s) emit(t[s], static_cast<uint32_t>(n.orig_start(s)), static_cast<uint32_t>(n.orig_end(s + 1)), 0);
}

namespace {

// The same folding as posts: letters once per run, l -> i, ph -> f, leet characters mapped. Empty
// for several words.
std::string skeleton_string(std::string_view w) {
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
    return s;
}

}  // namespace

void JoinGrams::add(std::string_view w, Boundary b) {
    if (w.size() < 4) return;
    for (char c : w)
        if (!letter(lower(static_cast<unsigned char>(c)))) return;  // phrases, digits: no split form
    if (bits_.empty()) bits_.assign(kWords, 0);
    std::string s(1, '\0');
    for (char c : w) s += lower(static_cast<unsigned char>(c));
    s += '\0';
    auto set = [&](char a, char b2, char c, char d) {
        const uint32_t i = ((code(a) * 27 + code(b2)) * 27 + code(c)) * 27 + code(d);
        bits_[i >> 6] |= 1ULL << (i & 63);
    };
    for (size_t k = 0; k + 4 <= s.size(); ++k) set(s[k], s[k + 1], s[k + 2], s[k + 3]);
    const size_t n = s.size();
    for (char x = 'a'; x <= 'z'; ++x) {
        if (b == Boundary::Prefix || b == Boundary::Any) set(s[n - 4], s[n - 3], s[n - 2], x);
        if (b == Boundary::Suffix || b == Boundary::Any) set(x, s[1], s[2], s[3]);
    }
}

void AtWords::add(std::string_view w, Boundary b) {
    const std::string s = skeleton_string(w);
    if (s.empty() || s[0] != 'a') return;
    if (s.size() < 2 || !letter(s[1])) {
        any_ = true;  // "a" alone, "a*"...: no filter is safe
        return;
    }
    // After the letters a table keeps, the word ends or goes on with a character that is no plain
    // letter ('*', a digit): a word that must end there ("as", the skeleton of "ass", a whole word)
    // starts no longer token; one that may go on ("as" of a prefix rule, "as*") starts any.
    const bool goes_on = b == Boundary::Prefix || b == Boundary::Any;
    auto after = [&](size_t k) -> uint32_t {
        if (k < s.size() && letter(s[k])) return 1u << (s[k] - 'a');
        return k < s.size() || goes_on ? 1u << kGoesOn : 0u;
    };
    next_[s[1] - 'a'] |= after(2);
    if (s.size() > 2 && letter(s[2])) third_[(s[1] - 'a') * 26 + (s[2] - 'a')] |= after(3);
}

std::string skeleton_expression(std::string_view w, size_t *length, TokenFilter *filter) {
    std::string s = skeleton_string(w);
    if (s.empty()) return {};
    size_t letters = 0;
    for (char c : s) letters += letter(c);
    if (letters < 2) return {};
    if (filter) filter->add(s);
    std::string e;
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
            append_hex_escape(e, c);
        }
    }
    *length = s.size();
    return e;
}

}  // namespace mf
