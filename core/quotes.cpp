#include "quotes.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace mf {

namespace {

bool starts_ci(std::string_view s, size_t i, std::string_view tag) {
    if (s.size() - i < tag.size()) return false;
    for (size_t k = 0; k < tag.size(); ++k) {
        unsigned char c = static_cast<unsigned char>(s[i + k]);
        if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c + 32);
        if (c != static_cast<unsigned char>(tag[k])) return false;
    }
    return true;
}

// The spans of one kind of paired tag: `open` (a prefix: "[quote", "<blockquote") followed by
// one of `after` ("]= " or "> "), up to the `close` that ends the outermost one.
void paired(std::string_view s, std::string_view open, std::string_view after, std::string_view close,
            std::vector<std::pair<size_t, size_t>> &out) {
    const char first = open[0];
    size_t depth = 0, start = 0;
    for (size_t i = 0; i < s.size();) {
        const void *q = std::memchr(s.data() + i, first, s.size() - i);
        if (!q) break;
        i = static_cast<size_t>(static_cast<const char *>(q) - s.data());
        if (starts_ci(s, i, open) && i + open.size() < s.size() && after.find(s[i + open.size()]) != std::string_view::npos) {
            if (depth++ == 0) start = i;
            i += open.size();
        } else if (depth && starts_ci(s, i, close)) {
            i += close.size();
            if (--depth == 0) out.emplace_back(start, i);
        } else {
            ++i;
        }
    }
}

}  // namespace

bool quoted_spans(std::string_view s, std::vector<std::pair<size_t, size_t>> &out) {
    out.clear();
    if (s.find_first_of(">[<") == std::string_view::npos) return true;  // (no span: what it returns matters not)
    // '>' lines
    for (size_t i = 0; i < s.size();) {
        size_t eol = s.find('\n', i);
        if (eol == std::string_view::npos) eol = s.size();
        size_t j = i;
        while (j < eol && (s[j] == ' ' || s[j] == '\t')) ++j;
        if (j < eol && s[j] == '>') {
            size_t end = eol;
            if (end > i && s[end - 1] == '\r') --end;
            out.emplace_back(i, end);
        }
        i = eol + 1;
    }
    paired(s, "[quote", "]= ", "[/quote]", out);
    paired(s, "<blockquote", "> \t\n", "</blockquote>", out);
    // in order, overlaps merged (a '>' line inside a [quote] block)
    std::sort(out.begin(), out.end());
    size_t k = 0;
    for (size_t i = 0; i < out.size(); ++i) {
        if (k && out[i].first <= out[k - 1].second) out[k - 1].second = std::max(out[k - 1].second, out[i].second);
        else out[k++] = out[i];
    }
    out.resize(k);
    // a word of the post's own: a letter or digit outside every span
    size_t at = 0;
    auto own_word = [&](size_t from, size_t to) {
        for (size_t i = from; i < to; ++i)
            if (static_cast<unsigned char>(s[i]) >= 0x80 || std::isalnum(static_cast<unsigned char>(s[i]))) return true;
        return false;
    };
    for (const auto &[a, b] : out) {
        if (own_word(at, a)) return true;
        at = b;
    }
    return own_word(at, s.size());
}

}  // namespace mf
