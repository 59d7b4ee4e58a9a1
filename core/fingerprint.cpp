// Fingerprints: exact hash and SimHash over normalized words (algorithm in core/fingerprint.hpp).
#include "fingerprint.hpp"

#include <algorithm>
#include <cstring>

// The word scan reads 16 bytes at a time with SSE2 (every x86-64); elsewhere, or built with
// MF_FINGERPRINT_PORTABLE (a test does), one byte at a time. Both give the same fingerprints.
#if defined(__SSE2__) && !defined(MF_FINGERPRINT_PORTABLE)
#define MF_FINGERPRINT_SSE2 1
#include <emmintrin.h>
#endif

#define XXH_INLINE_ALL  // header-only, as in core/compile.cpp
#include <xxhash.h>

#include "text.hpp"

namespace mf {

namespace {

uint64_t fmix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

// Order-dependent combination of two feature hashes.
uint64_t mix(uint64_t a, uint64_t b) { return fmix64(a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL)); }


char leet(char c) {
    switch (c) {
    case '4': return 'a';
    case '3': return 'e';
    case '1': return 'i';
    case '0': return 'o';
    case '5': return 's';
    case '7': return 't';
    case '8': return 'b';
    case '9': return 'g';
    default: return c;
    }
}

// A word's hash (version 2): XXH3-64 of its bytes zero-padded to 16 when it has at most 16 (a word
// never holds a zero byte, so the padding is unambiguous), XXH3-64 of its bytes when longer. Nearly
// every word so takes XXH3's one fixed-length path, inlined, instead of a call that branches on the
// word's length (version 1 hashed the bytes alone: 15 of the 78 cycles a word took on prose).
// `room`: how many bytes from w on may be read (at least n); with 16, the word is read in one load.
inline uint64_t word_hash(const unsigned char *w, size_t n, size_t room) {
    if (n > 16) return XXH3_64bits(w, n);
    unsigned char pad[16] = {};
    if (room >= 16) {
        // bytes n.. of the load cleared: kKeep + 16 - n is n bytes of 0xFF, then zeros
        static constexpr unsigned char kKeep[32] = {255, 255, 255, 255, 255, 255, 255, 255,
                                                    255, 255, 255, 255, 255, 255, 255, 255};
        std::memcpy(pad, w, 16);
        for (size_t i = 0; i < 16; ++i) pad[i] &= kKeep[16 - n + i];
    } else {
        std::memcpy(pad, w, n);
    }
    return XXH3_64bits(pad, 16);
}
uint64_t word_hash(std::string_view w) { return word_hash(reinterpret_cast<const unsigned char *>(w.data()), w.size(), w.size()); }

// Byte classes for the word scan: one table look-up per byte instead of a chain of tests.
enum : uint8_t {
    kLetter = 1,   // ASCII letter
    kDigit = 2,    // ASCII digit
    kHigh = 4,     // byte >= 0x80: a letter, unless it starts general punctuation
    kPunctLead = 8,  // 0xE2, which may start general punctuation
    kWordByte = kLetter | kDigit | kHigh,
};
struct ByteTable {
    uint8_t cls[256] = {};
    unsigned char lower[256] = {};
    constexpr ByteTable() {
        for (int c = 0; c < 256; ++c) lower[c] = static_cast<unsigned char>(c);
        for (int c = '0'; c <= '9'; ++c) cls[c] = kDigit;
        for (int c = 'a'; c <= 'z'; ++c) {
            cls[c] = cls[c - 32] = kLetter;
            lower[c - 32] = static_cast<unsigned char>(c);
        }
        for (int c = 0x80; c < 256; ++c) cls[c] = kHigh;
        cls[0xE2] = kHigh | kPunctLead;
    }
};
constexpr ByteTable kBytes;

// src[0, n) lowercased, leet digits made letters when `leet_digits` (a word with letters and digits),
// runs of one letter kept once, into dst (which may be src); returns the length.
size_t canonical(const unsigned char *src, size_t n, bool leet_digits, unsigned char *dst) {
    size_t k = 0;
    for (size_t m = 0; m < n; ++m) {
        const unsigned char lc = kBytes.lower[src[m]];
        const auto ch = leet_digits ? static_cast<unsigned char>(leet(static_cast<char>(lc))) : lc;
        if (k && ch == dst[k - 1] && ch >= 'a' && ch <= 'z') continue;
        dst[k++] = ch;
    }
    return k;
}

// The hash of each one-letter word, for spaced-out letters too few to be joined.
struct LetterHashes {
    uint64_t h[26];
    LetterHashes() {
        for (int c = 0; c < 26; ++c) {
            const char ch = static_cast<char>('a' + c);
            h[c] = word_hash(std::string_view(&ch, 1));
        }
    }
};
const LetterHashes &letter_hashes() {
    static const LetterHashes t;
    return t;
}

// The smallest distinct keys seen, at most kAnchors (4) of them, in increasing order. Unused places
// hold ~0, so that one comparison turns most keys away and an insertion is a few min/max.
static_assert(kAnchors == 4);
struct BottomK {
    static constexpr uint64_t kMax = ~uint64_t(0);
    uint64_t low[kAnchors] = {kMax, kMax, kMax, kMax};
    uint32_t n = 0;
    void add(uint64_t k) {
        if (k >= low[3]) {
            if (k == kMax && n < kAnchors && !(n && low[n - 1] == kMax)) ++n;  // ~0 itself, once (already in place)
            return;
        }
        if (k == low[0] || k == low[1] || k == low[2]) return;
        low[3] = std::max(low[2], k);
        low[2] = std::max(low[1], std::min(k, low[2]));
        low[1] = std::max(low[0], std::min(k, low[1]));
        low[0] = std::min(low[0], k);
        n += n < kAnchors;
    }
};

// SimHash bit counts: for each of the 64 bits, how many of the features have it set. Carry-save
// adders (Harley-Seal) add 16 features in 15 adders of 5 bit operations on whole words; only the
// carry of weight 16 is added to per-bit counts, 8 bits at a time: lane k of acc[j] counts bit
// 8k + j, drained into 32-bit counts before a lane can pass 255. A post of at most 255 features
// (most of them) never drains: the majority is then read off the lanes 8 bits at a time.
struct BitCounts {
    uint64_t ones = 0, twos = 0, fours = 0, eights = 0;
    uint64_t acc[8] = {};
    uint32_t in_acc = 0;  // weight added to acc since the last drain
    bool drained = false;
    uint32_t cnt[64];     // set at the first drain

    static void csa(uint64_t &h, uint64_t &l, uint64_t a, uint64_t b, uint64_t c) {
        const uint64_t u = a ^ b;
        h = (a & b) | (u & c);
        l = u ^ c;
    }
    // Adds `weight` (1..16) times each bit of w to the lanes; drains before a lane could pass 255.
    void lanes(uint64_t w, uint32_t weight) {
        if (in_acc + weight > 255) drain();
        constexpr uint64_t kLanes = 0x0101010101010101ULL;
        for (int j = 0; j < 8; ++j) acc[j] += ((w >> j) & kLanes) * weight;
        in_acc += weight;
    }
    void drain() {
        if (!drained) std::fill(cnt, cnt + 64, 0u);
        drained = true;
        for (int j = 0; j < 8; ++j) {
            for (int k = 0; k < 8; ++k) cnt[8 * k + j] += static_cast<uint32_t>((acc[j] >> (8 * k)) & 0xFF);
            acc[j] = 0;
        }
        in_acc = 0;
    }
    // Adds f[0, 4) to ones and twos; returns their carry of weight 4.
    uint64_t add4(const uint64_t *f) {
        uint64_t twos_a, twos_b, carry;
        csa(twos_a, ones, ones, f[0], f[1]);
        csa(twos_b, ones, ones, f[2], f[3]);
        csa(carry, twos, twos, twos_a, twos_b);
        return carry;
    }
    // Adds f[0, 8) to ones, twos and fours; returns their carry of weight 8.
    uint64_t add8(const uint64_t *f) {
        const uint64_t fours_a = add4(f), fours_b = add4(f + 4);
        uint64_t carry;
        csa(carry, fours, fours, fours_a, fours_b);
        return carry;
    }
    void add(const uint64_t *f, size_t n) {
        size_t i = 0;
        for (; i + 16 <= n; i += 16) {
            const uint64_t eights_a = add8(f + i), eights_b = add8(f + i + 8);
            uint64_t sixteens;
            csa(sixteens, eights, eights, eights_a, eights_b);
            lanes(sixteens, 16);
        }
        for (; i < n; ++i) lanes(f[i], 1);
    }
    // Once every feature is added (`total` of them): the bits set in more than half of them.
    uint64_t majority(uint32_t total) {
        lanes(ones, 1);
        lanes(twos, 2);
        lanes(fours, 4);
        lanes(eights, 8);
        uint64_t near = 0;
        if (!drained) {
            // Each lane holds its count (total <= 255); count > total / 2 when count >= t, t <= 128:
            // (count | 0x80) - t has its high bit set then, when count < 128; a count of 128 or more is.
            constexpr uint64_t kLanes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
            const uint64_t t = (total / 2 + 1) * kLanes;
            for (int j = 0; j < 8; ++j) near |= (((((acc[j] | kHigh) - t) | acc[j]) & kHigh) >> 7) << j;
            return near;
        }
        drain();
        for (int b = 0; b < 64; ++b) near |= uint64_t(2 * cnt[b] > total) << b;
        return near;
    }
};

// What a word holds, found as it is copied: most words have no repeated letter and no leet digit,
// and are hashed as copied (ASCII letters lowercased).
struct WordScan {
    size_t end;     // the word is [start, end)
    uint8_t seen;   // kLetter | kDigit | kHigh of its bytes
    bool runs;      // a letter repeated next to itself (case aside)
    size_t next;    // where the next word may start: the first word byte or '[' after end seen, or end
};

bool punct_at(const unsigned char *p, size_t e, size_t eol) {
    return eol - e >= 3 && (p[e + 1] == 0x80 || p[e + 1] == 0x81);  // p[e] is 0xE2
}

// The word starting at p[j] (a word byte that does not start general punctuation), up to eol, and
// its bytes with ASCII letters lowercased into out (which has 16 bytes of room past the word).
// p has 16 readable bytes before the text and 32 zero bytes after it.
WordScan scan_word(const unsigned char *p, size_t j, size_t eol, unsigned char *out) {
    WordScan w{j, 0, false, j};
#if defined(MF_FINGERPRINT_SSE2)
    const __m128i a_lo = _mm_set1_epi8('a'), n_letters = _mm_set1_epi8(25), zero = _mm_set1_epi8('0');
    const __m128i n_digits = _mm_set1_epi8(9), case_bit = _mm_set1_epi8(0x20), e2 = _mm_set1_epi8(char(0xE2));
    auto in_range = [](__m128i x, __m128i width) { return _mm_cmpeq_epi8(_mm_min_epu8(x, width), x); };
    for (size_t e = j;; e += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + e));
        const __m128i before = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + e - 1));
        const __m128i lower = _mm_or_si128(v, case_bit);
        const __m128i letter = in_range(_mm_sub_epi8(lower, a_lo), n_letters);
        const __m128i digit = in_range(_mm_sub_epi8(v, zero), n_digits);
        const auto high = static_cast<uint32_t>(_mm_movemask_epi8(v));
        const auto letters = static_cast<uint32_t>(_mm_movemask_epi8(letter));
        const auto digits = static_cast<uint32_t>(_mm_movemask_epi8(digit));
        const uint32_t stop = ~(letters | digits | high) & 0xFFFF;  // a '\n' and the padding stop it too
        // The first E2 byte before the first stop byte that starts punctuation ends the word.
        uint32_t t = stop ? static_cast<uint32_t>(__builtin_ctz(stop)) : 16;
        uint32_t lead = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, e2))) & ((uint32_t(1) << t) - 1);
        for (; lead; lead &= lead - 1) {
            const auto at = static_cast<uint32_t>(__builtin_ctz(lead));
            if (punct_at(p, e + at, eol)) {
                t = at;
                break;
            }
        }
        _mm_storeu_si128(reinterpret_cast<__m128i *>(out + (e - j)), _mm_or_si128(v, _mm_and_si128(letter, case_bit)));
        uint32_t in = (uint32_t(1) << t) - 1;
        w.seen |= (letters & in ? kLetter : 0) | (digits & in ? kDigit : 0) | (high & in ? kHigh : 0);
        // A run: a letter equal to the byte before it in the word, both lowercased.
        if (e == j) in &= ~uint32_t(1);
        const auto same = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(lower, _mm_or_si128(before, case_bit))));
        w.runs |= (same & letters & in) != 0;
        if (t < 16) {
            w.end = e + t;
            // (a '[', '<' or '&' may open a quote or a character reference: the loop looks at it)
            const __m128i opens = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('[')), _mm_cmpeq_epi8(v, _mm_set1_epi8('<'))),
                                               _mm_cmpeq_epi8(v, _mm_set1_epi8('&')));
            const uint32_t cand = ((letters | digits | high | static_cast<uint32_t>(_mm_movemask_epi8(opens))) >> t) & 0xFFFF;
            w.next = cand ? w.end + static_cast<uint32_t>(__builtin_ctz(cand)) : e + 16;
            return w;
        }
    }
#else
    unsigned char prev = 0;
    size_t e = j;
    for (; e < eol; ++e) {
        const unsigned char b = p[e];
        const uint8_t bc = kBytes.cls[b];
        if (!(bc & kWordByte)) break;
        if ((bc & kPunctLead) && punct_at(p, e, eol)) break;
        w.seen |= bc;
        const unsigned char lc = kBytes.lower[b];
        out[e - j] = lc;
        w.runs |= lc == prev && (bc & kLetter);
        prev = lc;
    }
    w.end = e;
    w.next = e;
    return w;
#endif
}

}  // namespace

void Fingerprinter::emit_letters() {
    if (letters_run_ >= 3) {
        auto *w = reinterpret_cast<unsigned char *>(word_.data());
        word_.resize(canonical(w, word_.size(), false, w));
        words_.push_back(word_hash(word_));
    } else {
        const LetterHashes &t = letter_hashes();
        for (char c : word_) words_.push_back(t.h[c - 'a']);
    }
    word_.clear();
    letters_run_ = 0;
}

// A link at p[j] (http://, https:// or www.): one word, its host and path; returns where it ends.
size_t Fingerprinter::link(std::string_view s, size_t j, size_t eol) {
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    if (letters_run_) emit_letters();
    size_t e = j;
    while (e < eol && p[e] != ' ' && p[e] != '\t' && p[e] != '\r') ++e;
    size_t b = j;
    if (starts_with_ci(s, b, "http://")) b += 7;
    else if (starts_with_ci(s, b, "https://")) b += 8;
    if (starts_with_ci(s, b, "www.")) b += 4;
    size_t cut = b;
    while (cut < e && p[cut] != '?' && p[cut] != '#') ++cut;
    while (cut > b && std::strchr(".,;:!)]}'\"/", p[cut - 1])) --cut;  // (a NUL byte too, as strchr finds it)
    std::string &w = w_;
    w.assign("link:");
    for (size_t k = b; k < cut; ++k) w += static_cast<char>(kBytes.lower[p[k]]);
    words_.push_back(word_hash(w));
    return e;
}

namespace {
// The end of an HTML character reference at p[j] ("&gt;", "&amp;", "&#9733;", "&#x1F600;"), or j
// when none starts there.
size_t entity_end(const unsigned char *p, size_t j, size_t eol) {
    size_t k = j + 1;
    auto digit = [](unsigned char c) { return c >= '0' && c <= '9'; };
    auto xdigit = [&](unsigned char c) { return digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); };
    auto alnum = [&](unsigned char c) { return digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); };
    if (k < eol && p[k] == '#') {
        ++k;
        const bool hex = k < eol && (p[k] | 0x20) == 'x';
        if (hex) ++k;
        const size_t d = k;
        while (k < eol && k - d < 7 && (hex ? xdigit(p[k]) : digit(p[k]))) ++k;
        if (k == d) return j;
    } else {
        const size_t d = k;
        while (k < eol && k - d < 10 && alnum(p[k])) ++k;
        if (k - d < 2) return j;
    }
    return k < eol && p[k] == ';' ? k + 1 : j;
}
}  // namespace

void Fingerprinter::run(std::string_view s, Fingerprint &out) {
    // Quoted text is someone else's words; but a post that is nothing but a quote ("> Cheap watches
    // ... https://shop.example/deal" from thirty new accounts) is its author's post all the same:
    // it is fingerprinted on what it quotes.
    pass(s, out, false);
    if (saw_quote_ && !out.words && !out.links) pass(s, out, true);
}

void Fingerprinter::pass(std::string_view s, Fingerprint &out, bool keep_quotes) {
    out = Fingerprint{};
    saw_quote_ = false;
    std::vector<uint64_t> &all = words_;
    all.clear();
    line_start_.clear();
    word_.clear();
    letters_run_ = 0;
    // A copy of the text with room around it, so that the word scan reads 16 bytes at a time.
    const size_t n = s.size();
    if (text_.size() < n + kPadBefore + kPadAfter) text_.resize(n + kPadBefore + kPadAfter);
    if (buf_.size() < n + kPadBefore + kPadAfter) buf_.resize(n + kPadBefore + kPadAfter);  // a word is never longer than the post
    unsigned char *const buf = buf_.data() + kPadBefore;
    unsigned char *const p = text_.data() + kPadBefore;
    if (n) std::memcpy(p, s.data(), n);
    std::memset(p + n, 0, kPadAfter);
    int quote_depth = 0;
    size_t i = 0;
    while (i < n) {
        // One line: [i, eol).
        const void *nl = std::memchr(p + i, '\n', n - i);
        const size_t eol = nl ? static_cast<size_t>(static_cast<const unsigned char *>(nl) - p) : n;
        size_t j = i;
        while (j < eol && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r')) ++j;
        // (a '>' escaped as HTML, as forums that store posts escaped send them, quotes a line too)
        const bool quoted_line = !keep_quotes && j < eol && (p[j] == '>' || starts_with_ci(s, j, "&gt;"));
        saw_quote_ |= quoted_line;
        line_start_.push_back(all.size());
        while (!quoted_line && j < eol) {
            if (quote_depth && !keep_quotes) {  // inside a quote: only a '[' or a '<' can change anything
                while (j < eol && p[j] != '[' && p[j] != '<') ++j;
                if (j >= eol) break;
            }
            const unsigned char c = p[j];
            const uint8_t cl = kBytes.cls[c];
            if (!(cl & kWordByte)) {
                // A quote's opening tag, up to its closing byte, and its closing tag.
                auto open = [&](char close) {
                    ++quote_depth;
                    saw_quote_ = true;
                    while (j < eol && p[j] != close) ++j;
                    ++j;
                };
                auto shut = [&](size_t tag_len) {
                    if (quote_depth) --quote_depth;
                    j += tag_len;
                };
                if (c == '[') {
                    if (starts_with_ci(s, j, "[quote")) {
                        open(']');
                        continue;
                    }
                    if (starts_with_ci(s, j, "[/quote]")) {
                        shut(8);
                        continue;
                    }
                } else if (c == '<') {  // an HTML quote, <blockquote ...> ... </blockquote>
                    if (starts_with_ci(s, j, "<blockquote") && j + 11 < eol && (p[j + 11] == '>' || p[j + 11] == ' ')) {
                        open('>');
                        continue;
                    }
                    if (starts_with_ci(s, j, "</blockquote>")) {
                        shut(13);
                        continue;
                    }
                } else if (c == '&') {  // an HTML character reference ("&gt;", "&#9733;") is no word
                    if (const size_t e = entity_end(p, j, eol); e > j) {
                        j = e;
                        continue;
                    }
                }
                ++j;
                continue;
            }
            if ((cl & kPunctLead) && punct_at(p, j, eol)) {
                j += 3;  // general punctuation (U+2000..U+206F: curly quotes, dashes, ellipsis)
                continue;
            }
            const unsigned char c2 = p[j + 1] | 0x20;  // (the padding makes p[j + 1] readable)
            if (((c | 0x20) == 'h' && c2 == 't') || ((c | 0x20) == 'w' && c2 == 'w')) {
                if (starts_with_ci(s, j, "http://") || starts_with_ci(s, j, "https://") || starts_with_ci(s, j, "www.")) {
                    j = link(s, j, eol);
                    ++out.links;
                    continue;
                }
            }
            // The word [j, e), lowercased into buf as it is read; then, in a word that holds letters
            // and digits, leet digits made letters; runs of one letter kept once.
            const WordScan ws = scan_word(p, j, eol, buf);
            const size_t e = ws.end;
            size_t k = e - j;
            const bool leet_digits = (ws.seen & kDigit) && (ws.seen & (kLetter | kHigh));
            if (leet_digits || ws.runs) k = canonical(p + j, k, leet_digits, buf);
            const unsigned char *word = buf;
            if (k == 1 && word[0] >= 'a' && word[0] <= 'z') {
                word_ += static_cast<char>(word[0]);
                ++letters_run_;
            } else {
                if (letters_run_) emit_letters();
                all.push_back(word_hash(word, k, 16));
            }
            j = std::min(ws.next, eol);
        }
        if (letters_run_) emit_letters();
        i = eol + 1;
    }
    line_start_.push_back(all.size());

    out.words = static_cast<uint32_t>(all.size() - out.links);
    if (all.empty()) return;
    out.exact = XXH3_64bits(all.data(), all.size() * sizeof(uint64_t));
    // Features per line: words and neighbouring pairs (SimHash); triples (lookup keys). A triple is
    // mix(pair, next word), so each pair is mixed once and reused.
    // Each loop's mixes are independent of one another, so that they overlap.
    pairs_.resize(all.size());
    triples_.resize(all.size());
    size_t np = 0, nt = 0;
    for (size_t l = 0; l + 1 < line_start_.size(); ++l)
        for (size_t k = line_start_[l] + 1; k < line_start_[l + 1]; ++k) pairs_[np++] = mix(all[k - 1], all[k]);
    for (size_t l = 0, first_pair = 0; l + 1 < line_start_.size(); ++l) {
        const size_t a = line_start_[l], b = line_start_[l + 1];
        for (size_t k = a + 2; k < b; ++k) triples_[nt++] = mix(pairs_[first_pair + (k - a - 2)], all[k]);
        if (b > a) first_pair += b - a - 1;
    }
    // SimHash: a bit is set when more than half of the features (words and pairs) have it set.
    BitCounts counts;
    counts.add(all.data(), all.size());
    counts.add(pairs_.data(), np);
    out.near = counts.majority(static_cast<uint32_t>(all.size() + np));
    // The 4 smallest distinct lookup keys: triples, or pairs when no line has three words, or words.
    BottomK keys;
    for (size_t k = 0; k < nt; ++k) keys.add(triples_[k]);
    if (!nt) {
        const uint64_t *some = np ? pairs_.data() : all.data();
        const size_t n_some = np ? np : all.size();
        for (size_t k = 0; k < n_some; ++k) keys.add(some[k]);
    }
    out.n_anchors = keys.n;
    for (uint32_t k = 0; k < keys.n; ++k) out.anchors[k] = keys.low[k];
}

}  // namespace mf
