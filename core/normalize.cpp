#include "normalize.hpp"
#include "lookalike.hpp"
#include "text.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/uversion.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace mf {

namespace {

// Per-code-point flags in the character table, above the 8 evasion bits.
constexpr uint16_t kCpMark = 0x100;        // a combining mark: dropped after a Latin/Greek/Cyrillic letter
constexpr uint16_t kCpLatin = 0x200;       // a Latin letter (after mapping)
constexpr uint16_t kCpConfusable = 0x400;  // a letter of another script mapped to a Latin look-alike
constexpr uint16_t kCpOtherLetter = 0x800; // a letter of another script kept as it is
constexpr uint16_t kCpStripBase = 0x1000;  // a base letter whose following combining marks are dropped
constexpr uint16_t kCpWord = 0x2000;       // is_word_cp(): letters, digits, marks
constexpr uint16_t kCpLookalike = 0x4000;  // becomes one code point of the skeleton's look-alike table

constexpr uint32_t kTableSize = 0x20000;  // planes 0 and 1 precomputed; the rest on demand
constexpr int32_t kMaxExpansion = 8;      // code points a compatibility character may become (see map_cp)

struct CpMap {
    std::string bytes;  // UTF-8 replacement (empty: dropped)
    uint16_t flags = 0;
};

struct Icu {
    const icu::Normalizer2 *nfkc_cf = nullptr;
    const icu::Normalizer2 *nfd = nullptr;
    const icu::Normalizer2 *nfc = nullptr;
    USpoofChecker *spoof = nullptr;
};

const Icu &icu_instances() {
    static Icu icu = [] {
        Icu r;
        UErrorCode st = U_ZERO_ERROR;
        r.nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(st);
        r.nfd = icu::Normalizer2::getNFDInstance(st);
        r.nfc = icu::Normalizer2::getNFCInstance(st);
        r.spoof = uspoof_open(&st);
        if (U_FAILURE(st)) throw std::runtime_error(std::string("ICU initialisation failed: ") + u_errorName(st));
        return r;
    }();
    return icu;
}

void append_utf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Cyrillic к (U+043A), which imitates a Latin k as small capitals do and is written for it in mixed
// words ("кill"), though its UTS #39 skeleton is U+0138 kra. The evasion skeleton already folds it
// for word lists (core/lookalikes.inc); this lets regex rules see it too. Only к: a word all of whose
// letters fold is read as Latin, and the other small-capital look-alikes (н, т, м, в) made real
// Belarusian and Russian words ("Тарн") read as English slurs on the mixed-script corpus.
char cyrillic_small_capital(UChar32 c) { return c == 0x043A ? 'k' : 0; }

// The single ASCII letter a non-ASCII letter imitates, per UTS #39 skeletons (and the few above), or 0.
char confusable_letter(const Icu &icu, UChar32 c) {
    if (char a = cyrillic_small_capital(c)) return a;
    icu::UnicodeString s(c);
    UChar buf[16];
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = uspoof_getSkeleton(icu.spoof, 0, s.getBuffer(), s.length(), buf, 16, &st);
    if (U_FAILURE(st) || n != 1 || buf[0] >= 0x80) return 0;
    char a = static_cast<char>(buf[0]);
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    return (a >= 'a' && a <= 'z') ? a : 0;
}

CpMap map_cp(const Icu &icu, uint32_t cp) {
    CpMap m;
    // Letters that NFKC leaves alone but that are used as letters.
    if (cp >= 0x1F1E6 && cp <= 0x1F1FF) {  // regional indicators
        m.bytes = static_cast<char>('a' + (cp - 0x1F1E6));
        m.flags = kEvCompat | kCpLatin | kCpStripBase;
        return m;
    }
    if ((cp >= 0x1F130 && cp <= 0x1F149) || (cp >= 0x1F150 && cp <= 0x1F169) ||
        (cp >= 0x1F170 && cp <= 0x1F189)) {  // squared / negative circled / negative squared
        m.bytes = static_cast<char>('a' + ((cp - 0x1F130) % 0x20));
        m.flags = kEvCompat | kCpLatin | kCpStripBase;
        return m;
    }
    if ((cp >= 0x249C && cp <= 0x24B5) || (cp >= 0x1F110 && cp <= 0x1F129)) {
        // parenthesized letters: a letter, not NFKC's "(a)", which would split the word
        m.bytes = static_cast<char>('a' + (cp >= 0x1F110 ? cp - 0x1F110 : cp - 0x249C));
        m.flags = kEvCompat | kCpLatin | kCpStripBase;
        return m;
    }
    if (cp >= 0xE0000 && cp <= 0xE0FFF) {  // tags and variation selectors supplement
        m.flags = kEvInvisible;
        return m;
    }
    if (cp == 0x2122 || cp == 0x2120 || cp == 0x1F16A || cp == 0x1F16B || cp == 0x1F16C) {
        // trade mark, service mark and the raised MC, MD, MR signs stay signs, not NFKC's letters,
        // which would join the word before them: staff write "Widget Pro™", and "protm" is no word
        append_utf8(m.bytes, cp);
        return m;
    }
    if (cp == 0x00B7 || cp == 0x0387 || cp == 0x2022 || cp == 0x2027 || cp == 0x2219 || cp == 0x22C5 ||
        cp == 0x30FB || cp == 0xFF65) {
        // middle dots and bullets are dots: "f·u·c·k" and "fu•ck" are "f.u.c.k" and "fu.ck", which
        // the evasion skeleton joins (and a dot between words splits them as the middle dot did)
        m.bytes = ".";
        return m;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {  // never produced by the decoder; map defensively
        m.bytes = "\xEF\xBF\xBD";
        return m;
    }
    const auto uc = static_cast<UChar32>(cp);
    int8_t gc = u_charType(uc);
    if (gc == U_NON_SPACING_MARK || gc == U_ENCLOSING_MARK) {
        if (u_hasBinaryProperty(uc, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) {
            m.flags = kEvInvisible;  // e.g. U+034F COMBINING GRAPHEME JOINER
            return m;
        }
        append_utf8(m.bytes, cp);
        m.flags = kCpMark | kEvCombining;
        return m;
    }
    if (u_isUWhiteSpace(uc)) {
        m.bytes = " ";
        return m;
    }
    UErrorCode st = U_ZERO_ERROR;
    icu::UnicodeString src(uc);
    icu::UnicodeString folded = icu.nfkc_cf->normalize(src, st);
    if (U_FAILURE(st)) folded = src;
    if (folded.isEmpty()) {
        m.flags = kEvInvisible;
        return m;
    }
    // A compatibility character that stands for a whole phrase stays as it is: U+FDFA, an Arabic
    // blessing, is 18 code points (33 bytes from 3) under NFKC, four words of which look-alike
    // letters fold in part to Latin, and a post of them cost 24 times what prose does per byte. No
    // word list has such a phrase and no evasion writes one; every other code point expands to at
    // most 8 (U+FDFB, the next, is 8; squared katakana words 6).
    if (folded.countChar32() > kMaxExpansion) {
        append_utf8(m.bytes, cp);
        m.flags = u_isalpha(uc) ? kCpOtherLetter : 0;
        return m;
    }
    icu::UnicodeString simple(src);
    simple.foldCase();
    uint16_t flags = 0;
    if (folded != simple) flags |= kEvCompat;
    st = U_ZERO_ERROR;
    icu::UnicodeString dec = icu.nfd->normalize(folded, st);
    if (U_FAILURE(st)) dec = folded;
    icu::UnicodeString res;
    bool strip_marks = false;
    for (int32_t i = 0; i < dec.length();) {
        UChar32 c = dec.char32At(i);
        i += U16_LENGTH(c);
        int8_t t = u_charType(c);
        if (t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK) {
            if (!strip_marks) res.append(c);
            continue;
        }
        if (u_isUWhiteSpace(c)) {
            res.append(static_cast<UChar32>(' '));
            continue;
        }
        UErrorCode sst = U_ZERO_ERROR;
        UScriptCode script = uscript_getScript(c, &sst);
        strip_marks = c < 0x80 || script == USCRIPT_LATIN || script == USCRIPT_GREEK ||
                      script == USCRIPT_CYRILLIC;
        if (c >= 0x80 && u_isalpha(c)) {
            char a = confusable_letter(icu, c);
            if (a) {
                res.append(static_cast<UChar32>(a));
                flags |= script == USCRIPT_LATIN ? kCpLatin : kCpConfusable;
                // It is a Latin letter now: marks on it are dropped as on any Latin letter, or
                // normalizing the output again would drop them (U+0625 -> l + U+0655 -> l).
                strip_marks = true;
            } else {
                res.append(c);
                flags |= script == USCRIPT_LATIN ? kCpLatin : kCpOtherLetter;
            }
        } else {
            if (c < 0x80 && ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) flags |= kCpLatin;
            res.append(c);
        }
    }
    if (strip_marks) flags |= kCpStripBase;
    st = U_ZERO_ERROR;
    icu::UnicodeString composed = icu.nfc->normalize(res, st);
    if (U_FAILURE(st)) composed = res;
    composed.toUTF8String(m.bytes);
    m.flags = flags;
    return m;
}

// kCpLookalike when a code point's replacement is one code point of the look-alike table.
uint16_t lookalike_flag(const std::string &bytes) {
    if (bytes.empty() || static_cast<unsigned char>(bytes[0]) < 0x80) return 0;
    uint32_t c;
    bool valid;
    const size_t n = decode_utf8(reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size(), &c, &valid);
    return valid && n == bytes.size() && find_lookalike(c) ? kCpLookalike : 0;
}

bool is_word_cp_icu(uint32_t cp) noexcept {
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
    if (cp == 0xFFFD) return false;
    auto c = static_cast<UChar32>(cp);
    if (u_isalnum(c)) return true;
    int8_t t = u_charType(c);
    return t == U_NON_SPACING_MARK || t == U_COMBINING_SPACING_MARK || t == U_ENCLOSING_MARK;
}

// The character table: what each code point of planes 0 and 1 becomes, computed with ICU a page of
// 256 code points at a time, the first time a post holds one of them. A process that sees English
// and a few scripts builds a handful of pages (about 40 us each) instead of the whole table (tens of
// milliseconds at start-up).
struct Page {
    uint32_t off[256];  // offset into pool
    uint8_t len[256];
    uint16_t flags[256];
    std::string pool;
};

constexpr uint32_t kPages = kTableSize / 256;
std::atomic<const Page *> g_pages[kPages];
std::unique_ptr<Page> g_owned[kPages];
std::mutex g_page_mutex;

const Page &build_page(uint32_t index) {
    std::lock_guard<std::mutex> lock(g_page_mutex);
    if (const Page *p = g_pages[index].load(std::memory_order_acquire)) return *p;
    const Icu &icu = icu_instances();
    auto r = std::make_unique<Page>();
    for (uint32_t k = 0; k < 256; ++k) {
        const uint32_t cp = index * 256 + k;
        CpMap m;
        if (cp >= 0x80) m = map_cp(icu, cp);
        if (m.bytes.size() > 255) m.bytes.resize(255);  // never happens with Unicode data
        r->off[k] = static_cast<uint32_t>(r->pool.size());
        r->len[k] = static_cast<uint8_t>(m.bytes.size());
        // (a sharp s folds to "ss", no look-alike; the skeleton still reads one that starts a word
        // as the b it is drawn like: "ßitch")
        r->flags[k] = static_cast<uint16_t>(m.flags | (is_word_cp_icu(cp) ? kCpWord : 0) | lookalike_flag(m.bytes) |
                                            (cp == 0xDF || cp == 0x1E9E ? kCpLookalike : 0));
        r->pool += m.bytes;
    }
    g_owned[index] = std::move(r);
    g_pages[index].store(g_owned[index].get(), std::memory_order_release);
    return *g_owned[index];
}

inline const Page &page(uint32_t cp) {
    const Page *p = g_pages[cp >> 8].load(std::memory_order_acquire);
    return p ? *p : build_page(cp >> 8);
}

}  // namespace

bool is_ascii(const char *p, size_t n) noexcept {
    size_t i = 0;
    uint64_t acc = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t a, b, c, d;
        std::memcpy(&a, p + i, 8);
        std::memcpy(&b, p + i + 8, 8);
        std::memcpy(&c, p + i + 16, 8);
        std::memcpy(&d, p + i + 24, 8);
        if ((a | b | c | d) & 0x8080808080808080ULL) return false;
    }
    for (; i < n; ++i) acc |= static_cast<unsigned char>(p[i]);
    return (acc & 0x80) == 0;
}

std::string unicode_version() {
    UVersionInfo v;
    u_getUnicodeVersion(v);
    char buf[U_MAX_VERSION_STRING_LENGTH];
    u_versionToString(v, buf);
    return std::string("unicode ") + buf + " icu " + U_ICU_VERSION;
}

void normalize_init() {
    (void)icu_instances();
    (void)page(0x2019);  // general punctuation: in most real posts
}

size_t decode_utf8(const unsigned char *p, size_t n, uint32_t *cp, bool *valid) noexcept {
    unsigned char b0 = p[0];
    *valid = false;
    *cp = 0xFFFD;
    if (b0 < 0x80) {
        *cp = b0;
        *valid = true;
        return 1;
    }
    size_t need;
    uint32_t c;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        c = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        c = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        c = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return 1;
    }
    size_t i = 1;
    for (; i <= need; ++i) {
        if (i >= n) return i;  // truncated: the maximal subpart so far
        unsigned char b = p[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return i;
        c = (c << 6) | (b & 0x3F);
    }
    *cp = c;
    *valid = true;
    return need + 1;
}

bool is_word_cp(uint32_t cp) noexcept {
    if (cp < 0x80) return ascii_alnum(static_cast<unsigned char>(cp));
    if (cp < kTableSize) return (page(cp).flags[cp & 0xFF] & kCpWord) != 0;
    return is_word_cp_icu(cp);
}

bool is_word_cp_uncached(uint32_t cp) noexcept { return is_word_cp_icu(cp); }

namespace {

constexpr uint64_t kHigh = 0x8080808080808080ULL;

// Lowercases ASCII bytes p[0..n) into out (8 bytes at a time: 0x20 is added to each byte in A..Z).
void append_lower(std::string &out, const char *p, size_t n) {
    const size_t at = out.size();
    out.resize(at + n);
    char *d = out.data() + at;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        std::memcpy(&x, p + i, 8);
        const uint64_t h = x & ~kHigh;
        const uint64_t upper = ((h + 0x3F3F3F3F3F3F3F3FULL) ^ (h + 0x2525252525252525ULL)) & ~x & kHigh;
        x |= upper >> 2;
        std::memcpy(d + i, &x, 8);
    }
    for (; i < n; ++i) {
        auto c = static_cast<unsigned char>(p[i]);
        d[i] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
}

// Where the first byte >= 0x80 at or after i is (n if none).
size_t next_non_ascii(const unsigned char *p, size_t i, size_t n) {
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        std::memcpy(&x, p + i, 8);
        if (x & kHigh) return i + static_cast<size_t>(__builtin_ctzll(x & kHigh) >> 3);
    }
    while (i < n && p[i] < 0x80) ++i;
    return i;
}

}  // namespace

const Normalizer::Seg &Normalizer::seg_at(size_t k) const noexcept {
    size_t h = hint_ < segs_.size() ? hint_ : 0;
    auto inside = [&](size_t i) {
        return segs_[i].norm <= k && (i + 1 == segs_.size() || k < segs_[i + 1].norm);
    };
    if (!inside(h)) {
        if (h + 1 < segs_.size() && inside(h + 1)) {
            ++h;
        } else {
            // the last segment starting at or before k, galloping from the hint: lookups come in
            // pairs (a hit's start, then its end) and mostly move forward, a little at a time
            size_t lo, hi;  // segs_[lo].norm <= k < segs_[hi].norm (hi == size: past the end)
            if (segs_[h].norm <= k) {
                size_t step = 1;
                lo = h;
                hi = h + 1;
                while (hi < segs_.size() && segs_[hi].norm <= k) {
                    lo = hi;
                    hi = std::min(segs_.size(), hi + (step *= 2));
                }
            } else {
                size_t step = 1;
                hi = h;
                lo = h > 0 ? h - 1 : 0;
                while (lo > 0 && segs_[lo].norm > k) {
                    hi = lo;
                    lo = lo > (step *= 2) ? lo - step : 0;
                }
            }
            while (hi - lo > 1) {
                size_t mid = (lo + hi) / 2;
                if (segs_[mid].norm <= k) lo = mid;
                else hi = mid;
            }
            h = lo;
        }
    }
    hint_ = h;
    return segs_[h];
}

void Normalizer::split_at(size_t k) {
    if (k >= out_.size()) return;
    const Seg &g = seg_at(k);
    if (g.norm == k) return;
    Seg tail = g;
    tail.norm = static_cast<uint32_t>(k);
    if (g.linear) tail.orig = static_cast<uint32_t>(g.orig + (k - g.norm));
    segs_.insert(segs_.begin() + static_cast<std::ptrdiff_t>(hint_ + 1), tail);
}

void Normalizer::emit_ascii(const char *p, size_t n, uint32_t os, uint8_t ev) {
    if (!n) return;
    const auto at = static_cast<uint32_t>(out_.size());
    if (ev) {
        // the bits of dropped code points go to the first byte alone
        segs_.push_back({at, os, os + 1, ev, true});
        if (n > 1) segs_.push_back({at + 1, os + 1, os + 1, 0, true});
    } else if (segs_.empty() || !segs_.back().linear || segs_.back().ev ||
               segs_.back().orig + (at - segs_.back().norm) != os) {
        segs_.push_back({at, os, os, 0, true});
    }
    append_lower(out_, p, n);
}

void Normalizer::emit_block(const char *bytes, size_t n, uint32_t os, uint32_t oe, uint8_t ev) {
    segs_.push_back({static_cast<uint32_t>(out_.size()), os, oe, ev, false});
    out_.append(bytes, n);
}

void Normalizer::run(std::string_view text) {
    src_ = text;
    invalid_ = 0;
    hint_ = 0;
    const auto *p = reinterpret_cast<const unsigned char *>(text.data());
    const size_t n = text.size();
    size_t i = next_non_ascii(p, 0, n);
    if (i == n) {
        identity_ = true;
        looks_.clear();
        return;
    }
    identity_ = false;
    out_.clear();
    segs_.clear();
    looks_.clear();
    const Icu &icu = icu_instances();
    uint8_t pending = 0;       // evasion bits of dropped code points, given to the next byte
    bool strip_marks = false;  // the last emitted letter takes no combining marks
    // Per-word script bookkeeping, for confusable and mixed-script detection.
    size_t word_begin = 0;
    bool w_latin = false, w_conf = false, w_other = false;
    // A word [word_begin, end) that mixed look-alikes in: every byte of it carries the bits.
    auto end_word = [&](size_t end) {
        if (w_conf && !w_other && end > word_begin) {
            const uint8_t bits = kEvConfusable | (w_latin ? kEvMixedScript : 0);
            split_at(word_begin);
            split_at(end);
            for (size_t k = seg_index(word_begin); k < segs_.size() && segs_[k].norm < end; ++k) segs_[k].ev |= bits;
        }
        word_begin = end;
        w_latin = w_conf = w_other = false;
    };
    size_t a = 0;  // start of the pending ASCII run
    while (true) {
        // ASCII run [a, i): copied (lowercased) in one go; the word bookkeeping only looks at its
        // first and last non-word bytes.
        if (i > a) {
            const size_t base = out_.size();
            emit_ascii(text.data() + a, i - a, static_cast<uint32_t>(a), pending);
            pending = 0;
            size_t first = a;
            while (first < i && ascii_alnum(p[first])) ++first;
            if (first < i) {
                for (size_t k = a; k < first; ++k) w_latin |= ascii_letter(p[k]);
                end_word(base + (first - a));
                size_t last = i;  // just past the run's last non-word byte
                while (ascii_alnum(p[last - 1])) --last;
                word_begin = base + (last - a);
                for (size_t k = last; k < i; ++k) w_latin |= ascii_letter(p[k]);
            } else {
                for (size_t k = a; k < i; ++k) w_latin |= ascii_letter(p[k]);
            }
            strip_marks = ascii_alnum(p[i - 1]);
        }
        if (i >= n) break;
        uint32_t cp;
        bool valid;
        size_t len = decode_utf8(p + i, n - i, &cp, &valid);
        const auto os = static_cast<uint32_t>(i), oe = static_cast<uint32_t>(i + len);
        i += len;
        a = i;
        i = next_non_ascii(p, i, n);
        if (!valid) {
            ++invalid_;
            end_word(out_.size());
            emit_block("\xEF\xBF\xBD", 3, os, oe, pending);
            word_begin = out_.size();
            pending = 0;
            strip_marks = false;
            continue;
        }
        const char *bytes;
        size_t blen;
        uint16_t flags;
        CpMap dyn;
        if (cp < kTableSize) {
            const Page &pg = page(cp);
            const uint32_t k = cp & 0xFF;
            bytes = pg.pool.data() + pg.off[k];
            blen = pg.len[k];
            flags = pg.flags[k];
        } else {
            dyn = map_cp(icu, cp);
            bytes = dyn.bytes.data();
            blen = dyn.bytes.size();
            flags = dyn.flags;
            if (is_word_cp_icu(cp)) flags |= kCpWord;
            flags |= lookalike_flag(dyn.bytes);
        }
        if (flags & kCpMark) {
            if (strip_marks) {
                // A mark stacked on the letter just emitted belongs to it: a hit ending with that
                // letter covers its marks too.
                if (!out_.empty()) {
                    split_at(out_.size() - 1);
                    Seg &g = segs_.back();
                    g.linear = false;  // the letter (one byte after split_at) and its marks
                    g.oend = oe;
                    g.ev |= kEvCombining;
                } else {
                    pending |= kEvCombining;
                }
                continue;
            }
            flags &= static_cast<uint16_t>(~kEvCombining);
        }
        if (blen == 0) {
            pending |= static_cast<uint8_t>(flags & 0xFF);
            continue;
        }
        if (flags & kCpLookalike) looks_.push_back(static_cast<uint32_t>(out_.size()));
        const bool word = (flags & (kCpLatin | kCpConfusable | kCpOtherLetter | kCpMark | kCpWord)) != 0;
        if (!word) end_word(out_.size());
        // Confusable bits are decided per word in end_word(), not per code point.
        emit_block(bytes, blen, os, oe,
                   static_cast<uint8_t>((flags & 0xFF & ~(kEvConfusable | kEvMixedScript)) | pending));
        pending = 0;
        if (!word) {
            word_begin = out_.size();
            // A character that folds to an ASCII digit or letter without being one ("₁", "①") takes
            // no marks either, as that digit will when the output is normalized again.
            strip_marks = ascii_alnum(static_cast<unsigned char>(bytes[blen - 1]));
            continue;
        }
        if (flags & kCpLatin) w_latin = true;
        if (flags & kCpConfusable) w_conf = true;
        if (flags & kCpOtherLetter) w_other = true;
        if (!(flags & kCpMark)) strip_marks = (flags & kCpStripBase) != 0;
    }
    end_word(out_.size());
}

size_t Normalizer::seg_index(size_t k) const noexcept {
    (void)seg_at(k);
    return hint_;
}

uint32_t Normalizer::evasion(size_t s, size_t e) const noexcept {
    if (identity_ || e <= s || segs_.empty()) return 0;
    uint32_t bits = 0;
    for (size_t k = seg_index(s); k < segs_.size() && segs_[k].norm < e; ++k) bits |= segs_[k].ev;
    return bits;
}

std::string normalize_literal(std::string_view text) {
    Normalizer n;
    n.run(text);
    std::string s(n.data(), n.size());
    if (n.identity())
        for (char &c : s)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return s;
}

}  // namespace mf
