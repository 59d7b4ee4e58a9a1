// Small text tests shared by the stages that look at words: ASCII classes, word boundaries as the
// rule packs define them (letters, digits and marks of any script; '_' is not part of a word), and
// the Luhn checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "normalize.hpp"
#include "rules.hpp"

namespace mf {

inline bool ascii_digit(unsigned char c) { return c >= '0' && c <= '9'; }
// Whether s holds `prefix` (lower-case ASCII) at byte i, ASCII letters of s compared without case.
inline bool starts_with_ci(std::string_view s, size_t i, std::string_view prefix) {
    if (i > s.size() || s.size() - i < prefix.size()) return false;
    for (size_t k = 0; k < prefix.size(); ++k) {
        char c = s[i + k];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        if (c != prefix[k]) return false;
    }
    return true;
}
inline bool ascii_letter(unsigned char c) { return static_cast<unsigned>((c | 0x20) - 'a') < 26u; }
inline bool ascii_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

// Where the run of ASCII letters and digits that starts at t[i] ends (n when it runs to the end):
// sixteen bytes at a time, so that a word costs one well-predicted branch, not one per byte.
inline size_t ascii_alnum_end(const char *t, size_t n, size_t i) {
    typedef uint8_t u8x16 __attribute__((vector_size(16)));
    for (; i + 16 <= n; i += 16) {
        u8x16 v;
        std::memcpy(&v, t + i, 16);
        const auto alnum = (((v | 0x20) - 'a') < 26) | ((v - '0') < 10);  // 0xFF where a letter or digit is
        uint64_t lo, hi;
        std::memcpy(&lo, &alnum, 8);
        std::memcpy(&hi, reinterpret_cast<const char *>(&alnum) + 8, 8);
        if (~lo) return i + static_cast<size_t>(__builtin_ctzll(~lo)) / 8;
        if (~hi) return i + 8 + static_cast<size_t>(__builtin_ctzll(~hi)) / 8;
    }
    while (i < n && ascii_alnum(static_cast<unsigned char>(t[i]))) ++i;
    return i;
}

// Whether a word code point starts at pos.
inline bool word_at(const char *t, size_t len, size_t pos) {
    if (pos >= len) return false;
    auto b = static_cast<unsigned char>(t[pos]);
    if (b < 0x80) return ascii_alnum(b);
    uint32_t cp;
    bool valid;
    decode_utf8(reinterpret_cast<const unsigned char *>(t) + pos, len - pos, &cp, &valid);
    return valid && is_word_cp(cp);
}

// Whether a word code point ends at pos.
inline bool word_before(const char *t, size_t len, size_t pos) {
    if (pos == 0) return false;
    auto b = static_cast<unsigned char>(t[pos - 1]);
    if (b < 0x80) return ascii_alnum(b);
    size_t i = pos - 1;
    for (int k = 0; k < 3 && i > 0 && (static_cast<unsigned char>(t[i]) & 0xC0) == 0x80; ++k) --i;
    return word_at(t, len, i);
}

// Where the word containing the code point at pos ends / the word ending at pos starts.
inline size_t word_end(const char *t, size_t len, size_t pos) {
    while (word_at(t, len, pos)) {
        ++pos;
        while (pos < len && (static_cast<unsigned char>(t[pos]) & 0xC0) == 0x80) ++pos;
    }
    return pos;
}
inline size_t word_start(const char *t, size_t len, size_t pos) {
    while (word_before(t, len, pos)) {
        --pos;
        while (pos > 0 && (static_cast<unsigned char>(t[pos]) & 0xC0) == 0x80) --pos;
    }
    return pos;
}

// A root matched anywhere inside a word ("fuck" in "motherfucker"; boundary any) widened to the run of
// ASCII letters around it, on each side where the root itself ends in an ASCII letter: a root of
// another script (CJK, written without spaces) keeps its own span. At most kWidenMax bytes each way,
// so that a post of one long word costs no more per hit.
constexpr size_t kWidenMax = 48;
inline void widen_to_letters(const char *t, size_t len, size_t &from, size_t &to) {
    if (from < to && ascii_letter(static_cast<unsigned char>(t[from]))) {
        const size_t stop = from > kWidenMax ? from - kWidenMax : 0;
        while (from > stop && ascii_letter(static_cast<unsigned char>(t[from - 1]))) --from;
    }
    if (from < to && ascii_letter(static_cast<unsigned char>(t[to - 1]))) {
        const size_t stop = len - to > kWidenMax ? to + kWidenMax : len;
        while (to < stop && ascii_letter(static_cast<unsigned char>(t[to]))) ++to;
    }
}

// The Luhn checksum of the digits in t[0..n) (payment card numbers); other characters are skipped.
inline bool luhn_ok(const char *t, size_t n) {
    int sum = 0, count = 0;
    for (size_t i = n; i-- > 0;) {
        if (t[i] < '0' || t[i] > '9') continue;
        int d = t[i] - '0';
        if (count++ % 2 == 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return count >= 12 && sum % 10 == 0;
}

inline bool boundary_ok(const char *t, size_t len, size_t from, size_t to, Boundary b) {
    if (b == Boundary::Any || to <= from) return true;
    if (b != Boundary::Suffix && word_at(t, len, from) && word_before(t, len, from)) return false;
    if (b != Boundary::Prefix && word_before(t, len, to) && word_at(t, len, to)) return false;
    return true;
}


}  // namespace mf
