#include "quotes.hpp"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstring>

#include "text.hpp"

namespace mf {

namespace {

constexpr size_t kOwnWords = 2;

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
        if (starts_with_ci(s, i, open) && i + open.size() < s.size() && after.find(s[i + open.size()]) != std::string_view::npos) {
            if (depth++ == 0) start = i;
            i += open.size();
        } else if (depth && starts_with_ci(s, i, close)) {
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
    // (memchr reads a vector at a time; find_first_of compares each byte with each of the three)
    if (!std::memchr(s.data(), '>', s.size()) && !std::memchr(s.data(), '[', s.size()) && !std::memchr(s.data(), '<', s.size()))
        return true;  // (no span: what it returns matters not)
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
    // Words of the post's own outside every span: runs of letters and digits (of any script; not
    // marks, symbols, emoji or invisible characters), two or more of them long. Two such words make
    // a reply ("not ok", "Reported to the mods"); one does not.
    size_t words = 0, run = 0;
    auto read = [&](size_t from, size_t to) {
        for (size_t i = from; i < to && words < kOwnWords;) {
            UChar32 c;
            U8_NEXT(s.data(), i, to, c);  // (an invalid byte comes back as a negative c)
            if (c >= 0 && u_isalnum(c)) {
                ++run;
            } else {
                words += run >= 2;
                run = 0;
            }
        }
        words += run >= 2;  // (a span's edge ends a word)
        run = 0;
    };
    size_t at = 0;
    for (const auto &[a, b] : out) {
        read(at, a);
        at = b;
    }
    read(at, s.size());
    return words >= kOwnWords;
}

}  // namespace mf
