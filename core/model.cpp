#include "model.hpp"

#define XXH_INLINE_ALL  // header-only: no runtime dependency on libxxhash
#include <xxhash.h>

#include <charconv>
#include <cmath>
#include <cstring>

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

}  // namespace

uint64_t model_word_hash(std::string_view word) { return XXH3_64bits(word.data(), word.size()); }

void model_words(const char *t, size_t n, std::vector<ModelWord> &out, std::string *text_out) {
    out.clear();
    char buf[64];
    size_t bl = 0;
    uint32_t ws = 0, we = 0;
    bool in = false, last_digit = false;
    auto emit = [&](const char *w, size_t len, size_t s, size_t e) {
        out.push_back({model_word_hash({w, len}), static_cast<uint32_t>(s), static_cast<uint32_t>(e)});
        if (text_out) {
            if (!text_out->empty() && text_out->back() != '\n') *text_out += ' ';
            text_out->append(w, len);
        }
    };
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
                    in = true;
                    ws = static_cast<uint32_t>(i);
                }
                if (c >= '0' && c <= '9') {
                    if (!last_digit) push('0');
                    last_digit = true;
                } else {
                    push(static_cast<char>(c | 0x20));
                    last_digit = false;
                }
                we = static_cast<uint32_t>(++i);
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

LinearModel::LinearModel(const ModelWeights &w) : bias_(w.bias) {
    size_t cap = 16;
    while (cap < 2 * w.ngrams.size() + 2) cap <<= 1;
    slots_.assign(cap, Slot{0, 0.0f});
    mask_ = cap - 1;
    for (const auto &[g, x] : w.ngrams) {
        size_t sp = g.find(' ');
        uint64_t h = sp == std::string::npos
                         ? model_word_hash(g)
                         : model_pair_hash(model_word_hash(std::string_view(g).substr(0, sp)),
                                           model_word_hash(std::string_view(g).substr(sp + 1)));
        const uint32_t tag = static_cast<uint32_t>(h >> 32) | 1u;
        for (size_t i = h & mask_;; i = (i + 1) & mask_) {
            if (slots_[i].tag == tag) {
                slots_[i].w += x;  // the same n-gram listed twice: the weights add up
                break;
            }
            if (slots_[i].tag == 0) {
                slots_[i] = Slot{tag, x};
                ++n_;
                break;
            }
        }
    }
}

void NgramSet::build(const std::vector<ModelWord> &words) {
    list_.clear();
    size_t cap = 16;
    while (cap < 4 * words.size()) cap <<= 1;
    table_.assign(cap, 0);
    const size_t mask = cap - 1;
    auto add = [&](uint64_t h) {
        h |= h == 0;  // 0 marks an empty slot
        for (size_t i = (h ^ h >> 29) & mask;; i = (i + 1) & mask) {
            if (table_[i] == h) return;
            if (table_[i] == 0) {
                table_[i] = h;
                list_.push_back(h);
                return;
            }
        }
    };
    for (size_t i = 0; i < words.size(); ++i) {
        add(words[i].hash);
        if (i + 1 < words.size()) add(model_pair_hash(words[i].hash, words[i + 1].hash));
    }
}

double model_probability(const LinearModel &m, const NgramSet &g) {
    const size_t n = g.hashes().size();
    const double sum = m.sum(g.hashes().data(), n);
    const double z = m.bias() + (n ? sum / std::sqrt(static_cast<double>(n)) : 0.0);
    return 1.0 / (1.0 + std::exp(-z));
}

void model_carried(const LinearModel &m, const std::vector<ModelWord> &words, std::vector<float> &carried) {
    carried.assign(words.size(), 0.0f);
    for (size_t i = 0; i < words.size(); ++i) {
        carried[i] += m.weight(words[i].hash);
        if (i + 1 < words.size()) {
            const float y = m.weight(model_pair_hash(words[i].hash, words[i + 1].hash));
            carried[i] += y / 2;
            carried[i + 1] += y / 2;
        }
    }
}

}  // namespace mf
