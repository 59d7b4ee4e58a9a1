#include "model.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "byte_mask.hpp"
#include "rules.hpp"

namespace mf {

namespace {

inline bool ascii_alnum(unsigned char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }
inline bool ascii_space(unsigned char c) { return c == ' ' || (c >= 9 && c <= 13); }

// Whether a link starts at t[i] ("http://", "https://", "www."), in any case.
bool link_at(const char *t, size_t n, size_t i) {
    auto starts = [&](const char *p) {
        size_t k = std::strlen(p);
        if (n - i < k) return false;
        for (size_t j = 0; j < k; ++j)
            if ((static_cast<unsigned char>(t[i + j]) | (p[j] >= 'a' ? 0x20 : 0)) != static_cast<unsigned char>(p[j]))
                return false;
        return true;
    };
    return starts("http://") || starts("https://") || starts("www.");
}

// ASCII letters, either case.
constexpr auto kLetter = [] {
    std::array<bool, 256> a{};
    for (int c = 'a'; c <= 'z'; ++c) a[c] = a[c - 'a' + 'A'] = true;
    return a;
}();

// Where the run of ASCII letters (either case) that starts at t[i] ends: sixteen bytes at a time, so
// that a word costs one well-predicted branch instead of one per letter and a mispredicted one at
// its end.
inline size_t letters_end(const char *t, size_t n, size_t i) {
    typedef uint8_t u8x16 __attribute__((vector_size(16)));
    for (; i + 16 <= n; i += 16) {
        u8x16 v;
        std::memcpy(&v, t + i, 16);
        const auto letter = ((v | 0x20) - 'a') < 26;  // 0xFF where a letter is (as kLetter says)
        uint64_t lo, hi;
        std::memcpy(&lo, &letter, 8);
        std::memcpy(&hi, reinterpret_cast<const char *>(&letter) + 8, 8);
        if (~lo) return i + static_cast<size_t>(__builtin_ctzll(~lo)) / 8;
        if (~hi) return i + 8 + static_cast<size_t>(__builtin_ctzll(~hi)) / 8;
    }
    while (i < n && kLetter[static_cast<unsigned char>(t[i])]) ++i;
    return i;
}

// Whether a letter stands three times in a row in w[0, n) (ASCII letters), in any case. `room`: how
// many bytes from w on may be read (at least n). Eight bytes are tested at once: byte j of y is zero
// where letters j, j + 1 and j + 2 are the same, so one 64-bit word answers for the six triples that
// start in it; a longer word takes one such word every six letters (overlapping by two).
inline bool has_triple(const char *w, size_t n, size_t room) {
    if (n < 3) return false;
    if (room >= n + 5) {  // (the last word read ends at most five bytes past w + n)
        for (size_t off = 0; off + 2 < n; off += 6) {
            uint64_t x;
            std::memcpy(&x, w + off, 8);
            x |= 0x2020202020202020ull;
            const uint64_t d = x ^ (x >> 8), y = d | (d >> 8);
            const size_t starts = n - off - 2 < 6 ? n - off - 2 : 6;  // triples that start in this word
            const uint64_t first = (uint64_t(1) << (8 * starts)) - 1;
            // (a borrow only sets bits above a zero byte, so "any zero byte among the first" is exact)
            if ((y - 0x0101010101010101ull) & ~y & 0x8080808080808080ull & first) return true;
        }
        return false;
    }
    for (size_t k = 2; k < n; ++k) {
        const char c = static_cast<char>(w[k] | 0x20);
        if (c == (w[k - 1] | 0x20) && c == (w[k - 2] | 0x20)) return true;
    }
    return false;
}

// Whether a link may start at t[i]: its first four bytes are "http" or "www." in any case (one load
// and two compares, where link_at() is a call per word that starts with 'h' or 'w').
inline bool maybe_link(const char *t, size_t n, size_t i) {
    if (n - i < 4) return false;
    uint32_t x;
    std::memcpy(&x, t + i, 4);
    x |= 0x20202020u;  // ('.' has 0x20 set already)
    uint32_t http, www;
    std::memcpy(&http, "http", 4);
    std::memcpy(&www, "www.", 4);
    return x == http || x == www;
}

// For the block path of model_words(), 64 bytes at p: a bit per ASCII letter, and a bit per byte
// the block path stops at (a digit, an apostrophe, an '@', any byte of a non-ASCII character);
// the rest of ASCII only separates words. Sixteen bytes at a time (top_bits).
inline void block_masks(const char *p, uint64_t &letters, uint64_t &stops) {
    typedef uint8_t u8x16 __attribute__((vector_size(16)));
    letters = stops = 0;
    for (unsigned k = 0; k < 4; ++k) {
        u8x16 v;
        std::memcpy(&v, p + 16 * k, 16);
        const u8x16 letter = (u8x16)(((v | 0x20) - 'a') < 26);
        const u8x16 stop = (u8x16)((v >= 0x80) | ((u8x16)(v - '0') < 10) | (v == '\'') | (v == '@'));
        letters |= static_cast<uint64_t>(top_bits(letter)) << (16 * k);
        stops |= static_cast<uint64_t>(top_bits(stop)) << (16 * k);
    }
}

inline uint64_t mum(uint64_t a, uint64_t b) {
    const __uint128_t r = static_cast<__uint128_t>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// The hash of a word's canonical bytes p[0, len), eight bytes at a time (little-endian, zeros after
// the end). `lower`: the bytes are ASCII letters, lower-cased here (OR 0x20). `room`: how many bytes
// from p on may be read (at least len), so that a word inside a longer text is read in whole words.
inline uint64_t hash_bytes(const char *p, size_t len, bool lower, size_t room) {
    constexpr uint64_t kLow = 0x2020202020202020ull;
    uint64_t h = 0x243F6A8885A308D3ull ^ (len * 0x9E3779B97F4A7C15ull);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        std::memcpy(&v, p + i, 8);
        h = mum(h ^ (lower ? v | kLow : v), 0xA0761D6478BD642Full);
    }
    if (i < len) {
        const size_t r = len - i;
        uint64_t v = 0;
        if (room - i >= 8) std::memcpy(&v, p + i, 8);
        else std::memcpy(&v, p + i, r);
        const uint64_t keep = (uint64_t(1) << (8 * r)) - 1;  // r < 8
        h = mum(h ^ ((lower ? v | kLow : v) & keep), 0xE7037ED1A0B428DBull);
    }
    return mum(h ^ (h >> 32), 0x8EBC6AF09C88C6E3ull);
}

}  // namespace

uint64_t model_word_hash(std::string_view word) { return hash_bytes(word.data(), word.size(), false, word.size()); }

void model_words(const char *t, size_t n, std::vector<ModelWord> &out, std::string *text_out) {
    out.clear();
    char buf[64];
    size_t bl = 0;
    uint32_t ws = 0, we = 0;
    bool in = false, last_digit = false;
    auto emit_hash = [&](uint64_t h, const char *w, size_t len, size_t s, size_t e) __attribute__((always_inline)) {
        out.push_back({h, static_cast<uint32_t>(s), static_cast<uint32_t>(e)});
        if (text_out) {
            if (!text_out->empty() && text_out->back() != '\n') *text_out += ' ';
            if (w) {
                text_out->append(w, len);
            } else {
                for (size_t k = s; k < e; ++k) *text_out += static_cast<char>(t[k] | 0x20);
            }
        }
    };
    auto emit = [&](const char *w, size_t len, size_t s, size_t e) { emit_hash(model_word_hash({w, len}), w, len, s, e); };
    auto flush = [&] {
        if (in && bl) emit(buf, bl, ws, we);
        bl = 0;
        in = last_digit = false;
    };
    auto push = [&](char ch) {
        if (bl >= 2 && buf[bl - 1] == ch && buf[bl - 2] == ch && !(ch & 0x80)) return;  // "soooo": "soo"
        if (bl < sizeof buf) buf[bl++] = ch;
    };
    size_t i = 0;
    while (i < n) {
        const auto c = static_cast<unsigned char>(t[i]);
        if (c < 0x80) {
            if (ascii_alnum(c)) {
                if (!in && kLetter[c] && i + 64 <= n) {
                    // The next 64 bytes at once: the words of letters that end at a separator before
                    // the first byte that needs the loops below (a digit, an apostrophe, an '@', a
                    // non-ASCII character), each hashed where it stands as below; the separators
                    // between them cost nothing. A word that touches that byte or the block's end,
                    // a link and a letter three times in a row are left to the code below.
                    uint64_t letters, stops;
                    block_masks(t + i, letters, stops);
                    const unsigned p = stops ? static_cast<unsigned>(__builtin_ctzll(stops)) : 64;
                    uint64_t m = p == 64 ? letters : letters & ((uint64_t(1) << p) - 1);
                    size_t next = i + p;
                    while (m) {
                        const unsigned s = static_cast<unsigned>(__builtin_ctzll(m));
                        const uint64_t run = ~(m >> s);
                        const unsigned e = run ? s + static_cast<unsigned>(__builtin_ctzll(run)) : 64;
                        const size_t a = i + s;
                        if (e >= p || (maybe_link(t, n, a) && link_at(t, n, a)) ||
                            has_triple(t + a, e - s, n - a)) {
                            next = a;
                            break;
                        }
                        emit_hash(hash_bytes(t + a, e - s, true, n - a), nullptr, 0, a, i + e);
                        m &= ~((uint64_t(1) << e) - 1);  // (e < p <= 64)
                    }
                    if (next > i) {
                        i = next;
                        continue;
                    }
                }
                if (!in) {
                    if ((c | 0x20) == 'h' || (c | 0x20) == 'w') {
                        if (link_at(t, n, i)) {
                            size_t j = i;
                            while (j < n && !ascii_space(static_cast<unsigned char>(t[j]))) ++j;
                            emit("<url>", 5, i, j);
                            i = j;
                            continue;
                        }
                    }
                    // Most words are ASCII letters with no letter three times in a row, ending at
                    // ASCII punctuation or a space: hashed where they stand (lower-cased as they
                    // are read), with no copy and no per-letter tests. Any other word takes the
                    // loop below.
                    const size_t e = letters_end(t, n, i);
                    const auto after = e < n ? static_cast<unsigned char>(t[e]) : 0;
                    if (e - i <= sizeof buf && after < 0x80 && !ascii_alnum(after) && after != '@' &&
                        !(after == '\'' && e + 1 < n && ascii_alnum(static_cast<unsigned char>(t[e + 1]))) &&
                        !has_triple(t + i, e - i, n - i)) {
                        emit_hash(hash_bytes(t + i, e - i, true, n - i), nullptr, 0, i, e);
                        i = e;
                        continue;
                    }
                    in = true;
                    ws = static_cast<uint32_t>(i);
                }
                // the rest of an ASCII word in one tight loop
                for (; i < n; ++i) {
                    const auto d = static_cast<unsigned char>(t[i]);
                    if (d >= '0' && d <= '9') {
                        if (!last_digit) push('0');
                        last_digit = true;
                    } else if ((d | 0x20) >= 'a' && (d | 0x20) <= 'z') {
                        push(static_cast<char>(d | 0x20));
                        last_digit = false;
                    } else {
                        break;
                    }
                }
                we = static_cast<uint32_t>(i);
                continue;
            }
            if (c == '\'' && in && i + 1 < n && ascii_alnum(static_cast<unsigned char>(t[i + 1]))) {
                ++i;  // "don't"
                continue;
            }
            if (c == '@' && i + 1 < n && (ascii_alnum(static_cast<unsigned char>(t[i + 1])) || t[i + 1] == '_') &&
                !in) {
                size_t j = i + 1;
                while (j < n && (ascii_alnum(static_cast<unsigned char>(t[j])) || t[j] == '_')) ++j;
                emit("@", 1, i, j);
                i = j;
                continue;
            }
            flush();
            ++i;
            continue;
        }
        size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        if (len > n - i) len = n - i;
        if (c == 0xE2 && len == 3 && (static_cast<unsigned char>(t[i + 1]) & 0xFE) == 0x80) {
            // U+2000..U+207F, general punctuation; a right single quote inside a word is an apostrophe
            if (static_cast<unsigned char>(t[i + 1]) == 0x80 && static_cast<unsigned char>(t[i + 2]) == 0x99 && in &&
                i + 3 < n && ascii_alnum(static_cast<unsigned char>(t[i + 3]))) {
                i += 3;
                continue;
            }
            flush();
            i += len;
            continue;
        }
        if (len == 4) {
            flush();
            emit(t + i, 4, i, i + 4);
            i += 4;
            continue;
        }
        if (!in) {
            in = true;
            ws = static_cast<uint32_t>(i);
        }
        last_digit = false;
        if (bl + len <= sizeof buf)
            for (size_t k = 0; k < len; ++k) buf[bl++] = t[i + k];
        i += len;
        we = static_cast<uint32_t>(i);
    }
    flush();
}

bool model_has_distinct_words(const std::vector<ModelWord> &words, size_t n) {
    if (n == 0) return true;
    uint64_t seen[8];
    size_t k = 0;
    n = std::min<size_t>(n, 8);
    for (const ModelWord &w : words) {
        if (std::find(seen, seen + k, w.hash) != seen + k) continue;
        seen[k++] = w.hash;
        if (k >= n) return true;
    }
    return false;
}

std::shared_ptr<const ModelWeights> parse_model_weights(const std::string &path, std::string_view content,
                                                        std::vector<Diagnostic> &diags) {
    auto w = std::make_shared<ModelWeights>();
    size_t before = diags.size();
    bool has_bias = false;
    uint32_t ln = 0;
    for (size_t pos = 0; pos < content.size();) {
        size_t eol = content.find('\n', pos);
        if (eol == std::string_view::npos) eol = content.size();
        std::string_view line = content.substr(pos, eol - pos);
        pos = eol + 1;
        ++ln;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line[0] == '#') continue;
        auto err = [&](const std::string &m) {
            if (diags.size() - before < 20) diags.push_back({path, ln, m});
        };
        if (line.substr(0, 5) == "bias ") {
            double b = 0;
            auto v = line.substr(5);
            auto r = std::from_chars(v.data(), v.data() + v.size(), b);
            if (r.ec != std::errc() || r.ptr != v.data() + v.size() || !std::isfinite(b)) err("bias: not a number");
            else if (has_bias) err("bias given twice");
            w->bias = b;
            has_bias = true;
            continue;
        }
        size_t tab = line.find('\t');
        if (tab == std::string_view::npos) {
            err("expected \"<weight><TAB><word or two words>\" or \"bias <number>\"");
            continue;
        }
        double x = 0;
        auto r = std::from_chars(line.data(), line.data() + tab, x);
        if (r.ec != std::errc() || r.ptr != line.data() + tab || !std::isfinite(x) || std::fabs(x) > 1e4) {
            err("weight '" + std::string(line.substr(0, tab)) + "' is not a number (|weight| <= 10000)");
            continue;
        }
        std::string_view g = line.substr(tab + 1);
        size_t sp = g.find(' ');
        if (g.empty() || g.size() > 130 || g.front() == ' ' || g.back() == ' ' ||
            (sp != std::string_view::npos && g.find(' ', sp + 1) != std::string_view::npos)) {
            err("n-gram '" + std::string(g) + "' must be one word or two separated by one space");
            continue;
        }
        w->ngrams.emplace_back(std::string(g), static_cast<float>(x));
    }
    if (!has_bias && diags.size() == before) diags.push_back({path, 0, "no \"bias <number>\" line"});
    if (diags.size() != before) return nullptr;
    return w;
}

ModelTable::ModelTable(const std::vector<const ModelWeights *> &models) {
    const size_t k = models.size();
    stride_ = 2 + k;
    // (hash, model, weight) for every n-gram of every model; one listed twice gets the sum
    struct Entry {
        uint64_t h;
        uint32_t m;
        float w;
    };
    std::vector<Entry> all;
    for (uint32_t m = 0; m < k; ++m) {
        bias_.push_back(models[m]->bias);
        for (const auto &[g, x] : models[m]->ngrams) {
            size_t sp = g.find(' ');
            uint64_t h = sp == std::string::npos
                             ? model_word_hash(g)
                             : model_pair_hash(model_word_hash(std::string_view(g).substr(0, sp)),
                                               model_word_hash(std::string_view(g).substr(sp + 1)));
            all.push_back({h, m, x});
        }
    }
    std::sort(all.begin(), all.end(), [](const Entry &a, const Entry &b) { return a.h != b.h ? a.h < b.h : a.m < b.m; });
    std::vector<float> top(k, 0.0f);
    size_t distinct = 0;
    for (size_t i = 0, j = 0; i < all.size(); i = j) {
        std::vector<float> sum(k, 0.0f);
        for (j = i; j < all.size() && all[j].h == all[i].h; ++j) sum[all[j].m] += all[j].w;
        for (size_t m = 0; m < k; ++m) top[m] = std::max(top[m], std::fabs(sum[m]));
        ++distinct;
    }
    for (size_t m = 0; m < k; ++m) scale_.push_back(top[m] > 0 ? top[m] / 32767.0f : 1.0f);
    size_t cap = 16;
    while (cap < distinct * 2 + 2) cap <<= 1;  // at most half full: short probes
    mask_ = cap - 1;
    // The quantized weights of each distinct n-gram that some model weighs.
    std::vector<uint64_t> keys;
    std::vector<int16_t> weights;
    for (size_t i = 0, j = 0; i < all.size(); i = j) {
        std::vector<float> sum(k, 0.0f);
        for (j = i; j < all.size() && all[j].h == all[i].h; ++j) sum[all[j].m] += all[j].w;
        std::vector<int16_t> q(k);
        bool any = false;
        for (size_t m = 0; m < k; ++m) {
            const long v = std::lround(sum[m] / scale_[m]);
            q[m] = static_cast<int16_t>(std::clamp(v, -32767L, 32767L));
            any |= q[m] != 0;
        }
        if (!any) continue;  // below the resolution of every model's largest weight
        keys.push_back(all[i].h);
        weights.insert(weights.end(), q.begin(), q.end());
    }
    // A slot is known by its tag: an n-gram whose probe passes another one's slot with the same tag
    // would read that one's weights. The salt that mixes the hashes is chosen so that no n-gram of
    // the table is shadowed so (with 32-bit tags the first salt all but always does; with 16-bit
    // tags about one of the default models' 56,000 n-grams met such a slot).
    std::vector<size_t> at(keys.size());
    for (salt_ = 0; salt_ < 64; ++salt_) {
        slots_.assign(cap * stride_, 0);
        filter_.assign((size_t(1) << kFilterBits) / 64, 0);
        for (size_t e = 0; e < keys.size(); ++e) {
            const uint64_t h = mix(keys[e]);
            size_t s = h & mask_;
            while (slots_[s * stride_] != 0) s = (s + 1) & mask_;
            slots_[s * stride_] = tag_lo(h);
            slots_[s * stride_ + 1] = tag_hi(h);
            filter_[filter_index(h) >> 6] |= uint64_t(1) << (filter_index(h) & 63);
            for (size_t m = 0; m < k; ++m) slots_[s * stride_ + 2 + m] = weights[e * k + m];
            at[e] = s;
        }
        bool clean = true;
        for (size_t e = 0; e < keys.size() && clean; ++e) clean = find(mix(keys[e])) == &slots_[at[e] * stride_];
        if (clean) break;
    }
    if (salt_ == 64) salt_ = 63;  // (never seen: the last table stands, nearly exact)
    n_ = keys.size();
}

namespace {

template <class T>
void append_pod(std::string &out, const T *p, size_t n) {
    if (n) out.append(reinterpret_cast<const char *>(p), n * sizeof(T));  // (p is null for no models)
}

template <class T>
bool take_pod(std::string_view &in, T *p, size_t n) {
    if (n > in.size() / sizeof(T)) return false;
    if (n) std::memcpy(p, in.data(), n * sizeof(T));
    in.remove_prefix(n * sizeof(T));
    return true;
}

}  // namespace

// Layout: u64 models, u64 slots, u64 n, u64 salt, then per model the bias (f64) and the scale (f32), the
// slots (int16 each, 2 + models per slot), the filter (u64 words).
void ModelTable::encode(std::string &out) const {
    const uint64_t head[4] = {bias_.size(), mask_ + 1, n_, salt_};
    append_pod(out, head, 4);
    append_pod(out, bias_.data(), bias_.size());
    append_pod(out, scale_.data(), scale_.size());
    append_pod(out, slots_.data(), slots_.size());
    append_pod(out, filter_.data(), filter_.size());
}

bool ModelTable::decode(std::string_view in) {
    *this = ModelTable();
    uint64_t head[4];
    if (!take_pod(in, head, 4)) return false;
    const uint64_t k = head[0], cap = head[1], n = head[2];
    if (head[3] >= 64) return false;
    if (k > 1024 || cap < 16 || cap > (uint64_t(1) << 30) || (cap & (cap - 1)) || n >= cap) return false;
    const size_t filter_words = (size_t(1) << kFilterBits) / 64;
    if (in.size() != k * (sizeof(double) + sizeof(float)) + cap * (2 + k) * sizeof(int16_t) + filter_words * 8)
        return false;  // checked before allocating anything
    bias_.resize(k);
    scale_.resize(k);
    slots_.resize(cap * (2 + k));
    filter_.resize(filter_words);
    if (!take_pod(in, bias_.data(), k) || !take_pod(in, scale_.data(), k) ||
        !take_pod(in, slots_.data(), slots_.size()) || !take_pod(in, filter_.data(), filter_.size()) || !in.empty())
        return *this = ModelTable(), false;
    stride_ = 2 + k;
    mask_ = cap - 1;
    n_ = n;
    salt_ = head[3];
    bool ok = true;
    for (size_t m = 0; m < k; ++m) ok = ok && std::isfinite(bias_[m]) && std::isfinite(scale_[m]) && scale_[m] > 0;
    // Every probe ends at an empty slot: exactly n slots are taken, and n < cap.
    size_t taken = 0;
    for (size_t i = 0; i < cap; ++i) taken += slots_[i * stride_] != 0;
    if (!ok || taken != n) return *this = ModelTable(), false;
    return true;
}

void ModelTable::sums(const uint64_t *h, size_t n, double *out) const {
    constexpr size_t kAhead = 16, kMaxModels = 16;
    int64_t acc[kMaxModels] = {};
    const size_t k = std::min(models(), kMaxModels);
    // The hashes the filter lets through, a chunk at a time; their slots prefetched a few ahead.
    constexpr size_t kChunk = 256;
    uint64_t pass[kChunk];
    for (size_t first = 0; first < n; first += kChunk) {
        const size_t count = std::min(n - first, kChunk);
        // the filter's words first, all at once, so that their cache misses overlap; then the
        // hashes it lets through, kept in place
        for (size_t i = 0; i < count; ++i) {
            pass[i] = mix(h[first + i]);
            __builtin_prefetch(&filter_[filter_index(pass[i]) >> 6]);
        }
        size_t np = 0;
        for (size_t i = 0; i < count; ++i) {
            pass[np] = pass[i];
            np += maybe(pass[i]);
        }
        for (size_t i = 0; i < np && i < kAhead; ++i) __builtin_prefetch(&slots_[(pass[i] & mask_) * stride_]);
        for (size_t i = 0; i < np; ++i) {
            if (i + kAhead < np) __builtin_prefetch(&slots_[(pass[i + kAhead] & mask_) * stride_]);
            if (const int16_t *s = find(pass[i]))
                for (size_t m = 0; m < k; ++m) acc[m] += s[2 + m];
        }
    }
    for (size_t m = 0; m < k; ++m) out[m] += static_cast<double>(acc[m]) * scale_[m];
    for (size_t m = k; m < models(); ++m)  // more models than one pass keeps: the slow way
        for (size_t i = 0; i < n; ++i) out[m] += weight(h[i], m);  // (weight() mixes)
}

void NgramSet::build(const std::vector<ModelWord> &words) {
    // The n-grams' hashes first (their pair mixes do not wait on the table), then one pass over the
    // table. The table has at least eight slots per word (four past 8,192 words, so that a huge
    // post's table stays as large as it was), so at most a quarter of them are taken (a post of
    // prose takes about one in eight) and nearly every n-gram meets an empty slot or itself at once:
    // the branch that says so is the one the processor predicts.
    const size_t n = words.size();
    list_.resize(2 * n + 1);
    uint64_t *h = list_.data();
    size_t m = 0;
    for (size_t i = 0; i < n; ++i) {
        h[m++] = words[i].hash | (words[i].hash == 0);  // 0 marks an empty slot
        if (i + 1 < n) h[m++] = model_pair_hash(words[i].hash, words[i + 1].hash);  // (never 0)
    }
    size_t cap = 16;
    while (cap < (n <= 8192 ? 8 : 4) * n) cap <<= 1;
    // The table stays all zero between builds: the slots the last build filled are cleared, not the
    // whole table (a post of prose fills one slot in eight), and it grows only for a longer post.
    if (table_.size() < cap) table_.assign(cap, 0);
    else for (uint32_t i : used_) table_[i] = 0;
    used_.resize(m);
    uint32_t *used = used_.data();
    const size_t mask = cap - 1;
    uint64_t *t = table_.data();
    size_t kept = 0;  // the distinct hashes, in order of first sight, over h[0, kept)
    for (size_t k = 0; k < m; ++k) {
        const uint64_t x = h[k];
        size_t i = (x ^ x >> 29) & mask;
        // (a repeated n-gram, a quarter of prose's, takes the same predicted branch as a new one)
        if (const uint64_t at = t[i]; __builtin_expect(at == 0 || at == x, 1)) {
            t[i] = x;
            used[kept] = static_cast<uint32_t>(i);
            h[kept] = x;
            kept += at == 0;
            continue;
        }
        for (;; i = (i + 1) & mask) {
            if (t[i] == x) break;
            if (t[i] == 0) {
                t[i] = x;
                used[kept] = static_cast<uint32_t>(i);
                h[kept++] = x;
                break;
            }
        }
    }
    used_.resize(kept);
    list_.resize(kept);
}

void model_probabilities(const ModelTable &t, const NgramSet &g, double *p) {
    const size_t k = t.models(), n = g.hashes().size();
    for (size_t m = 0; m < k; ++m) p[m] = 0;
    t.sums(g.hashes().data(), n, p);
    const double norm = n ? 1.0 / std::sqrt(static_cast<double>(n)) : 0.0;
    for (size_t m = 0; m < k; ++m) p[m] = 1.0 / (1.0 + std::exp(-(t.bias(m) + p[m] * norm)));
}

void model_carried(const ModelTable &t, size_t m, const std::vector<ModelWord> &words, std::vector<float> &carried) {
    carried.assign(words.size(), 0.0f);
    for (size_t i = 0; i < words.size(); ++i) {
        carried[i] += t.weight(words[i].hash, m);
        if (i + 1 < words.size()) {
            const float y = t.weight(model_pair_hash(words[i].hash, words[i + 1].hash), m);
            carried[i] += y / 2;
            carried[i + 1] += y / 2;
        }
    }
}

}  // namespace mf
