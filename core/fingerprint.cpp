// Fingerprints: exact hash and SimHash over normalized words (algorithm in core/fingerprint.hpp).
#include "fingerprint.hpp"

#include <algorithm>
#include <cstring>

#define XXH_INLINE_ALL  // header-only, as in core/compile.cpp
#include <xxhash.h>

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

struct AlnumTable {
    bool t[256] = {};
    constexpr AlnumTable() {
        for (int c = '0'; c <= '9'; ++c) t[c] = true;
        for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 32] = true;
    }
};
constexpr AlnumTable kAlnum;
inline bool ascii_alnum(unsigned char c) { return kAlnum.t[c]; }

// U+2000..U+206F (general punctuation: curly quotes, dashes, ellipsis), 3 bytes E2 80|81 xx.
bool general_punct(const unsigned char *p, size_t n) { return n >= 3 && p[0] == 0xE2 && (p[1] == 0x80 || p[1] == 0x81); }

bool starts_with_ci(std::string_view s, size_t i, std::string_view prefix) {
    if (s.size() - i < prefix.size()) return false;
    for (size_t k = 0; k < prefix.size(); ++k) {
        char c = s[i + k];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        if (c != prefix[k]) return false;
    }
    return true;
}

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

// Lowercase; leet digits to letters in a word with letters; runs of one letter to one letter.
void canonical(std::string &w) {
    bool letters = false, digits = false;
    for (char &c : w) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        letters |= (c >= 'a' && c <= 'z') || static_cast<unsigned char>(c) >= 0x80;
        digits |= c >= '0' && c <= '9';
    }
    if (letters && digits)
        for (char &c : w) c = leet(c);
    size_t k = 0;
    for (size_t i = 0; i < w.size(); ++i) {
        char c = w[i];
        if (k && c == w[k - 1] && c >= 'a' && c <= 'z') continue;
        w[k++] = c;
    }
    w.resize(k);
}

uint64_t word_hash(std::string_view w) { return XXH3_64bits(w.data(), w.size()); }

}  // namespace

void Fingerprinter::run(std::string_view s, Fingerprint &out) {
    out = Fingerprint{};
    features_.clear();
    triples_.clear();
    std::vector<uint64_t> &all = words_;
    all.clear();
    std::vector<size_t> &line_start = line_start_;
    line_start.clear();
    pairs_.clear();
    size_t letters_run = 0;          // single letters waiting to be joined ("f r e e")
    std::string &joined = word_;
    std::string &w = w_;
    auto emit = [&](std::string_view word) { all.push_back(word_hash(word)); };
    auto flush_letters = [&] {
        if (letters_run >= 3) {
            canonical(joined);
            emit(joined);
        } else {
            for (char c : joined) emit(std::string_view(&c, 1));
        }
        joined.clear();
        letters_run = 0;
    };

    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    const size_t n = s.size();
    int quote_depth = 0;
    size_t i = 0;
    while (i < n) {
        // One line: [i, eol).
        size_t eol = i;
        while (eol < n && p[eol] != '\n') ++eol;
        size_t j = i;
        while (j < eol && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r')) ++j;
        const bool quoted_line = j < eol && p[j] == '>';
        line_start.push_back(all.size());
        while (!quoted_line && j < eol) {
            const unsigned char c = p[j];
            if (c == '[') {
                if (starts_with_ci(s, j, "[quote")) {
                    ++quote_depth;
                    while (j < eol && p[j] != ']') ++j;
                    ++j;
                    continue;
                }
                if (starts_with_ci(s, j, "[/quote]")) {
                    if (quote_depth) --quote_depth;
                    j += 8;
                    continue;
                }
            }
            if (quote_depth) {
                ++j;
                continue;
            }
            if ((c == 'h' || c == 'H' || c == 'w' || c == 'W') &&
                (starts_with_ci(s, j, "http://") || starts_with_ci(s, j, "https://") || starts_with_ci(s, j, "www."))) {
                if (letters_run) flush_letters();
                size_t e = j;
                while (e < eol && p[e] != ' ' && p[e] != '\t' && p[e] != '\r') ++e;
                size_t b = j;
                if (starts_with_ci(s, b, "http://")) b += 7;
                else if (starts_with_ci(s, b, "https://")) b += 8;
                if (starts_with_ci(s, b, "www.")) b += 4;
                size_t cut = b;
                while (cut < e && p[cut] != '?' && p[cut] != '#') ++cut;
                while (cut > b && std::strchr(".,;:!)]}'\"/", p[cut - 1])) --cut;
                w.assign(s.substr(b, cut - b));
                for (char &ch : w)
                    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
                w.insert(0, "link:");
                emit(w);
                ++out.links;
                j = e;
                continue;
            }
            const bool word_byte = ascii_alnum(c) || (c >= 0x80 && !general_punct(p + j, eol - j));
            if (!word_byte) {
                j += c >= 0x80 ? 3 : 1;  // general punctuation is 3 bytes
                continue;
            }
            // The word, lowercased into a small buffer as it is read; then canonical() in place
            // (the same steps, without a string per word).
            size_t e = j;
            char buf[128];
            size_t bl = 0;
            bool letters = false, digits = false;
            for (; e < eol; ++e) {
                unsigned char b = p[e];
                if (ascii_alnum(b)) {
                    if (b <= '9') digits = true;
                    else letters = true, b |= 0x20;
                } else if (b >= 0x80 && !general_punct(p + e, eol - e)) {
                    letters = true;
                } else {
                    break;
                }
                if (bl < sizeof buf) buf[bl] = static_cast<char>(b);
                ++bl;
            }
            std::string_view word;
            if (bl <= sizeof buf) {
                if (letters && digits)
                    for (size_t k = 0; k < bl; ++k) buf[k] = leet(buf[k]);
                size_t k = 0;
                for (size_t m = 0; m < bl; ++m) {
                    const char ch = buf[m];
                    if (k && ch == buf[k - 1] && ch >= 'a' && ch <= 'z') continue;
                    buf[k++] = ch;
                }
                word = std::string_view(buf, k);
            } else {  // a very long word
                w.assign(s.substr(j, e - j));
                canonical(w);
                word = w;
            }
            if (word.size() == 1 && word[0] >= 'a' && word[0] <= 'z') {
                joined += word[0];
                ++letters_run;
            } else {
                if (letters_run) flush_letters();
                emit(word);
            }
            j = e;
        }
        if (letters_run) flush_letters();
        i = eol + 1;
    }
    line_start.push_back(all.size());

    out.words = static_cast<uint32_t>(all.size() - out.links);
    if (all.empty()) return;
    out.exact = XXH3_64bits(all.data(), all.size() * sizeof(uint64_t));
    // Features per line: words and neighbouring pairs (SimHash); triples (lookup keys).
    std::vector<uint64_t> &pairs = pairs_;
    for (size_t l = 0; l + 1 < line_start.size(); ++l) {
        const size_t a = line_start[l], b = line_start[l + 1];
        for (size_t k = a; k < b; ++k) {
            features_.push_back(all[k]);
            if (k > a) {
                features_.push_back(mix(all[k - 1], all[k]));
                pairs.push_back(features_.back());
            }
            if (k > a + 1) triples_.push_back(mix(mix(all[k - 2], all[k - 1]), all[k]));
        }
    }
    // SimHash: for each of the 64 bits, how many features have it set. Counted 8 bits at a time:
    // lane k of acc[j] counts bit 8k + j, up to 255 features before the lanes are added up.
    uint32_t cnt[64] = {};
    uint64_t acc[8] = {};
    size_t in_acc = 0;
    auto drain = [&] {
        for (int j = 0; j < 8; ++j) {
            for (int k = 0; k < 8; ++k) cnt[8 * k + j] += static_cast<uint32_t>((acc[j] >> (8 * k)) & 0xFF);
            acc[j] = 0;
        }
        in_acc = 0;
    };
    constexpr uint64_t kLanes = 0x0101010101010101ULL;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;  // registers, not memory
    for (uint64_t f : features_) {
        a0 += f & kLanes;
        a1 += (f >> 1) & kLanes;
        a2 += (f >> 2) & kLanes;
        a3 += (f >> 3) & kLanes;
        a4 += (f >> 4) & kLanes;
        a5 += (f >> 5) & kLanes;
        a6 += (f >> 6) & kLanes;
        a7 += (f >> 7) & kLanes;
        if (++in_acc == 255) {
            acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3, acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
            drain();
            a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0;
        }
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3, acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
    drain();
    const auto total = static_cast<uint32_t>(features_.size());
    uint64_t near = 0;
    for (int b = 0; b < 64; ++b)
        if (2 * cnt[b] > total) near |= uint64_t(1) << b;
    out.near = near;
    // The 4 smallest distinct lookup keys, in one pass.
    const std::vector<uint64_t> &keys = !triples_.empty() ? triples_ : !pairs.empty() ? pairs : features_;
    uint64_t low[kAnchors];
    uint32_t nl = 0;
    for (uint64_t k : keys) {
        if (nl == kAnchors && k >= low[kAnchors - 1]) continue;
        uint32_t at = 0;
        while (at < nl && low[at] < k) ++at;
        if (at < nl && low[at] == k) continue;
        if (nl < kAnchors) ++nl;
        for (uint32_t m = nl - 1; m > at; --m) low[m] = low[m - 1];
        low[at] = k;
    }
    out.n_anchors = nl;
    for (uint32_t k = 0; k < nl; ++k) out.anchors[k] = low[k];
}

}  // namespace mf
