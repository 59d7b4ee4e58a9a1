// Fingerprints (core/fingerprint.hpp) against a plain reading of the version-1 algorithm, and the
// memory store's index (core/state.cpp) through long runs of inserts, lookups and evictions.
//
// The Fingerprinter reads words 16 bytes at a time and hashes most of them where they stand; the
// reference below goes one character at a time with a std::string per word, as the algorithm is
// written in the header. Both must give the same hashes for every input: ASCII, UTF-8, leet, runs,
// spaced letters, links, quotes, and words on either side of a 16-byte boundary.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "fingerprint.hpp"
#include "state.hpp"

using namespace mf;

namespace {

struct Expected {
    uint64_t exact = 0, near = 0;
    std::vector<uint64_t> anchors;
    uint32_t words = 0, links = 0;
};

// A word's hash (version 2): XXH3-64 of its bytes zero-padded to 16, or of its bytes when longer.
uint64_t xxh(const std::string &w) {
    if (w.size() > 16) return XXH3_64bits(w.data(), w.size());
    std::string pad = w;
    pad.resize(16, '\0');
    return XXH3_64bits(pad.data(), 16);
}

// Order-dependent combination of two hashes (the MurmurHash3 finalizer of a * golden ^ (b + c)).
uint64_t combine(uint64_t a, uint64_t b) {
    uint64_t x = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL);
    const uint64_t m[2] = {0xff51afd7ed558ccdULL, 0xc4ceb9fe1a85ec53ULL};
    for (uint64_t f : m) {
        x ^= x >> 33;
        x *= f;
    }
    return x ^ (x >> 33);
}

bool ascii_letter(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool ascii_digit_byte(unsigned char c) { return c >= '0' && c <= '9'; }

// Case-insensitive prefix test at line[i] (the prefixes are lowercase).
bool at(const std::string &line, size_t i, const std::string &prefix) {
    if (line.size() - i < prefix.size()) return false;
    for (size_t k = 0; k < prefix.size(); ++k)
        if (std::tolower(static_cast<unsigned char>(line[i + k])) != prefix[k]) return false;
    return true;
}

// U+2000..U+206F: E2 80 xx or E2 81 xx, all three bytes on the line.
bool punctuation(const std::string &line, size_t i) {
    return static_cast<unsigned char>(line[i]) == 0xE2 && line.size() - i >= 3 &&
           (static_cast<unsigned char>(line[i + 1]) == 0x80 || static_cast<unsigned char>(line[i + 1]) == 0x81);
}

bool in_word(const std::string &line, size_t i) {
    const auto c = static_cast<unsigned char>(line[i]);
    return ascii_letter(c) || ascii_digit_byte(c) || (c >= 0x80 && !punctuation(line, i));
}

// Runs of one ASCII letter become one letter.
std::string collapse(const std::string &w) {
    std::string out;
    for (char c : w)
        if (out.empty() || c != out.back() || c < 'a' || c > 'z') out += c;
    return out;
}

// The end of an HTML character reference at line[i] ("&gt;", "&#9733;", "&#x1F600;"), or i.
size_t entity(const std::string &line, size_t i) {
    size_t k = i + 1;
    if (k < line.size() && line[k] == '#') {
        ++k;
        const bool hex = k < line.size() && (line[k] | 0x20) == 'x';
        if (hex) ++k;
        const size_t d = k;
        while (k < line.size() && k - d < 7 && (hex ? std::isxdigit(static_cast<unsigned char>(line[k])) : std::isdigit(static_cast<unsigned char>(line[k])))) ++k;
        if (k == d) return i;
    } else {
        const size_t d = k;
        while (k < line.size() && k - d < 10 && std::isalnum(static_cast<unsigned char>(line[k]))) ++k;
        if (k - d < 2) return i;
    }
    return k < line.size() && line[k] == ';' ? k + 1 : i;
}

Expected reference(const std::string &text, bool keep_quotes = false) {
    Expected r;
    bool saw_quote = false;
    std::vector<std::vector<uint64_t>> lines;
    std::vector<std::string> split;
    for (size_t i = 0; i < text.size();) {
        size_t e = text.find('\n', i);
        if (e == std::string::npos) e = text.size();
        split.push_back(text.substr(i, e - i));
        i = e + 1;
    }
    int depth = 0;
    for (const std::string &line : split) {
        std::vector<uint64_t> &words = lines.emplace_back();
        std::string spaced;  // single letters so far
        auto flush = [&] {
            if (spaced.size() >= 3) {
                words.push_back(xxh(collapse(spaced)));
            } else {
                for (char c : spaced) words.push_back(xxh(std::string(1, c)));
            }
            spaced.clear();
        };
        size_t i = line.find_first_not_of(" \t\r");
        if (i == std::string::npos) continue;
        if ((line[i] == '>' || at(line, i, "&gt;")) && !keep_quotes) {
            saw_quote = true;
            continue;
        }
        while (i < line.size()) {
            if (at(line, i, "[quote")) {
                ++depth;
                saw_quote = true;
                const size_t close = line.find(']', i);
                i = (close == std::string::npos ? line.size() : close) + 1;
            } else if (at(line, i, "[/quote]")) {
                depth = std::max(depth - 1, 0);
                i += 8;
            } else if (at(line, i, "<blockquote") && i + 11 < line.size() && (line[i + 11] == '>' || line[i + 11] == ' ')) {
                ++depth;
                saw_quote = true;
                const size_t close = line.find('>', i);
                i = (close == std::string::npos ? line.size() : close) + 1;
            } else if (at(line, i, "</blockquote>")) {
                depth = std::max(depth - 1, 0);
                i += 13;
            } else if (depth && !keep_quotes) {
                ++i;
            } else if (line[i] == '&' && entity(line, i) > i) {
                i = entity(line, i);
            } else if (at(line, i, "http://") || at(line, i, "https://") || at(line, i, "www.")) {
                flush();
                size_t end = line.find_first_of(" \t\r", i);
                if (end == std::string::npos) end = line.size();
                size_t b = i + (at(line, i, "http://") ? 7 : at(line, i, "https://") ? 8 : 0);
                if (at(line, b, "www.")) b += 4;
                size_t cut = b;
                while (cut < end && line[cut] != '?' && line[cut] != '#') ++cut;
                while (cut > b && std::string_view(".,;:!)]}'\"/\0", 12).find(line[cut - 1]) != std::string_view::npos)
                    --cut;
                std::string w = "link:";
                for (size_t k = b; k < cut; ++k) w += static_cast<char>(std::tolower(static_cast<unsigned char>(line[k])));
                words.push_back(xxh(w));
                ++r.links;
                i = end;
            } else if (!in_word(line, i)) {
                i += static_cast<unsigned char>(line[i]) >= 0x80 ? 3 : 1;
            } else {
                size_t e = i;
                while (e < line.size() && in_word(line, e)) ++e;
                std::string w = line.substr(i, e - i);
                bool letters = false, digits = false;
                for (char &c : w) {
                    const auto u = static_cast<unsigned char>(c);
                    if (u >= 'A' && u <= 'Z') c = static_cast<char>(u + 32);
                    letters |= ascii_letter(u) || u >= 0x80;
                    digits |= ascii_digit_byte(u);
                }
                if (letters && digits) {
                    const std::string from = "43105789", to = "aeiostbg";
                    for (char &c : w)
                        if (from.find(c) != std::string::npos) c = to[from.find(c)];
                }
                w = collapse(w);
                if (w.size() == 1 && w[0] >= 'a' && w[0] <= 'z') {
                    spaced += w;
                } else {
                    flush();
                    words.push_back(xxh(w));
                }
                i = e;
            }
        }
        flush();
    }
    std::vector<uint64_t> all, pairs, triples;
    for (const auto &l : lines) all.insert(all.end(), l.begin(), l.end());
    // a post that is nothing but quotes: its quotes are its own text
    if (all.empty() && saw_quote && !keep_quotes) return reference(text, true);
    r.words = static_cast<uint32_t>(all.size()) - r.links;
    if (all.empty()) return r;
    r.exact = XXH3_64bits(all.data(), all.size() * sizeof(uint64_t));
    std::vector<uint64_t> features = all;
    for (const auto &l : lines)
        for (size_t k = 1; k < l.size(); ++k) {
            pairs.push_back(combine(l[k - 1], l[k]));
            if (k >= 2) triples.push_back(combine(combine(l[k - 2], l[k - 1]), l[k]));
        }
    features.insert(features.end(), pairs.begin(), pairs.end());
    for (int b = 0; b < 64; ++b) {
        size_t set = 0;
        for (uint64_t f : features) set += (f >> b) & 1;
        if (2 * set > features.size()) r.near |= uint64_t(1) << b;
    }
    std::vector<uint64_t> keys = !triples.empty() ? triples : !pairs.empty() ? pairs : all;
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    keys.resize(std::min<size_t>(keys.size(), kAnchors));
    r.anchors = keys;
    return r;
}

void same_as_reference(Fingerprinter &f, const std::string &text) {
    Fingerprint fp;
    f.run(text, fp);
    const Expected r = reference(text);
    INFO("text: " << text);
    CHECK(fp.exact == r.exact);
    CHECK(fp.near == r.near);
    CHECK(fp.words == r.words);
    CHECK(fp.links == r.links);
    REQUIRE(fp.n_anchors == r.anchors.size());
    for (size_t k = 0; k < r.anchors.size(); ++k) CHECK(fp.anchors[k] == r.anchors[k]);
}

}  // namespace

TEST_CASE("version 3 values are pinned (those of version 2 for a text with no HTML)") {
    Fingerprinter f;
    Fingerprint fp;
    f.run("Free entry to WIN a cruise!! see http://x.example/win?id=1\nCall 0800 now, f r e e g1ft", fp);
    CHECK(fp.exact == 0x209f1b41d3a4346aULL);
    CHECK(fp.near == 0xd801ed910890ad94ULL);
    CHECK(fp.words == 12);
    CHECK(fp.links == 1);
    REQUIRE(fp.n_anchors == 4);
    CHECK(fp.anchors[0] == 0x19a4fb7ee888f77cULL);
    CHECK(fp.anchors[3] == 0x7ae27e6b6d597d60ULL);
    f.run("> quoted\n[quote=a]x y z[/quote] the dog needs a walk tonight \xE2\x80\x94 caf\xC3\xA9 ok", fp);
    CHECK(fp.exact == 0x2ee832e2d22c0bfcULL);
    CHECK(fp.near == 0x81f4f6991ecd892dULL);
    CHECK(fp.words == 8);
    CHECK(fp.anchors[0] == 0x1b25514e941bb150ULL);
    CHECK(fp.anchors[3] == 0xac1577db61772c97ULL);
    // version 3: HTML character references are no words, "&gt;" quotes a line
    Fingerprint plain;
    f.run("Big news for everyone here today, come and see", plain);
    f.run("&gt; an old post\nBig news &#9733; for everyone &amp; here today, come and see &#x1F600;", fp);
    CHECK(fp.exact == plain.exact);
    CHECK(fp.near == plain.near);
    CHECK(fp.words == 9);
    CHECK(kFingerprintVersion == 3);
}

TEST_CASE("the word scan gives the reference's hashes on chosen inputs") {
    Fingerprinter f;
    const char *texts[] = {
        "",
        "   ",
        "!!! ... ???",
        "a",
        "4",
        "Hello",
        "HELLO hello HeLLo",
        "the cat sat on the mat",
        "Cheap watches and designer bags at half price this week, visit our shop today",
        "fr33 m0n3y 4 u, w1nn3r!!! c4ll n0w 0800 123456",
        "Seeeeee youuuu sooooon, it was goooood",
        "f r e e   f.r.e.e   a b   x y z w   I am A B",
        "aaaa bbbb Aa aA 1111 a1a1",
        "visit http://Example.COM/Path/To?utm=1#top, https://x.example/a/b/. or www.Shop.example!",
        "http:// https://www. www. HTTP://UPPER.example/X) (see https://y.example/z\"",
        "link with a NUL http://z.example/a\0 after",
        "> quoted line\n  > indented quote\nnot quoted",
        "before [quote]hidden words here[/quote] after [QUOTE=bob]more\nstill hidden[/Quote] shown",
        "[quote unterminated words\nnext line [/quote] back",
        "[/quote] stray close and [quo] not a quote",
        "&gt; escaped quote\nwords &amp; more &#9733; &#x1F600; &bogus &a; & ; &#; &#x; &toolongnamehere;",
        "<blockquote>hidden words</blockquote> shown <blockquotex> seen <blockquote cite=x>in\nstill</blockquote> out",
        "&gt; only quoted\n<blockquote>and this</blockquote>",
        "don\xE2\x80\x99t \xE2\x80\x9cquoted\xE2\x80\x9d \xE2\x80\x94 dash\xE2\x80\xA6 ellipsis",
        "caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9 \xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xE4\xB8\xAD\xE6\x96\x87",
        "end of line E2 80\xE2\x80\nE2 alone \xE2 x\n\xE2\x80",
        "tabs\tand\rcarriage\r\nreturns\r\n\r\n",
        "one\ntwo words\nthree words here\n\n\nfour words on this",
        "one\ntwo\nthree",
        "x y\nw z",
        "abcdefghijklmno pqrstuvwxyzabcdef ghijklmnopqrstuvw 0123456789abcdefg",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz",
    };
    for (const char *t : texts) same_as_reference(f, t);
    same_as_reference(f, std::string("nul\0inside words\0", 18));
    // Words around every 16-byte boundary, a long word, a very long one with runs and leet digits.
    for (int lead = 0; lead < 20; ++lead) {
        same_as_reference(f, std::string(lead, ' ') + "boundary wordss at every offset");
        same_as_reference(f, std::string(lead, 'x') + "Mississippi");
    }
    // One repeated letter (in either case), one digit, one punctuation mark or one capital at each
    // place of a 41-letter word, so at each place of its 16-byte blocks.
    for (size_t r = 1; r < 41; ++r) {
        std::string w;
        for (size_t k = 0; k < 41; ++k) w += static_cast<char>('a' + k % 26);
        for (size_t lead = 0; lead < 3; ++lead) {
            const std::string pad(lead, ' ');
            std::string run = w, upper_run = w, digit = w, punct = w, capital = w;
            run[r] = run[r - 1];
            upper_run[r] = static_cast<char>(upper_run[r - 1] - 32);
            digit[r] = '3';
            punct.replace(r, 1, "\xE2\x80\x99");
            capital[r] = static_cast<char>(capital[r] - 32);
            for (const std::string &t : {run, upper_run, digit, punct, capital}) same_as_reference(f, pad + t + " end");
        }
    }
    same_as_reference(f, std::string(300, 'q') + " tail words after it");
    // Around 255 features (words and pairs), where the SimHash counts leave their 8-bit lanes.
    for (int words : {120, 127, 128, 129, 200, 700}) {
        std::string t;
        for (int i = 0; i < words; ++i) t += std::string(1, static_cast<char>('a' + i % 26)) + static_cast<char>('a' + i / 26 % 26) + "zq ";
        same_as_reference(f, t);
    }
    std::string longw;
    for (int i = 0; i < 40; ++i) longw += "Abc0dd3ee";
    same_as_reference(f, longw + " x " + longw);
}

TEST_CASE("the word scan gives the reference's hashes on random texts") {
    const std::vector<std::string> pieces = {
        "a", "B", "c", "Zz", "e", "oo", "LL", "free", "Win", "m0ney", "4", "3", "0", "12", "9x",
        " ", " ", " ", "  ", "\t", "\r", "\n", "\n", ".", ",", "!", "?", "#", "/", "'", "\"", ")", "]",
        "[quote]", "[/quote]", "[QUOTE=x]", "[", ">", "http://", "https://", "www.", "Example.com/P",
        "\xE2\x80\x99", "\xE2\x80\x94", "\xE2\x81\x80", "\xE2\x82\xAC", "\xE2", "\x80", "\xC3\xA9", "\xC3\x89",
        "\xD0\xB5", "\xF0\x9F\x98\x80", std::string(1, '\0'), "abcdefghijklmnopq", "RRRRRRRR",
    };
    std::mt19937_64 rng(12);
    Fingerprinter f;
    for (int n = 0; n < 3000; ++n) {
        std::string t;
        const size_t parts = rng() % (n % 10 == 0 ? 400 : 40);
        for (size_t k = 0; k < parts; ++k) t += pieces[rng() % pieces.size()];
        same_as_reference(f, t);
    }
}

namespace {

Fingerprint text_fp(uint64_t exact) {
    Fingerprint fp;
    fp.exact = exact;
    fp.near = exact;
    fp.words = 10;
    return fp;
}

// The copies the store reports for this text, as an edit (which records nothing new).
uint32_t copies_of(MemoryStore &s, uint64_t exact) {
    PostMeta m;
    m.id = "probe";
    m.edit = true;
    Seen seen;
    s.observe(text_fp(exact), m, StateRules{}, 1000, seen);
    return seen.copies;
}

}  // namespace

TEST_CASE("the store's index finds what it holds through growth, collisions and evictions") {
    // Keys that the index places at one home (multiples of the inverse of its multiplier), and
    // random ones, in a store that fills and then evicts the least recently seen.
    uint64_t inv = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 6; ++i) inv *= 2 - 0x9E3779B97F4A7C15ULL * inv;
    REQUIRE(inv * 0x9E3779B97F4A7C15ULL == 1);
    std::mt19937_64 rng(7);
    std::vector<uint64_t> keys;
    for (uint64_t i = 1; keys.size() < 6000; ++i) {
        keys.push_back(i * inv);
        keys.push_back(rng() | 1);
    }
    MemoryStore s(uint64_t(1) << 20);
    StateRules r;
    size_t cap = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
        PostMeta m;  // no author: only clusters are entries
        const std::string id = std::to_string(i);
        m.id = id;
        Seen seen;
        s.observe(text_fp(keys[i]), m, r, 1000, seen);
        REQUIRE(seen.copies == 0);
        cap = std::max<size_t>(cap, s.entries());
    }
    REQUIRE(cap > 500);
    REQUIRE(cap < keys.size());
    REQUIRE(s.entries() == cap);
    // The newest `cap` texts are there, the older ones were evicted.
    for (size_t i = 0; i < keys.size(); ++i) {
        INFO("key " << i << " of " << keys.size() << ", capacity " << cap);
        CHECK(copies_of(s, keys[i]) == (i + cap >= keys.size() ? 1u : 0u));
    }
    s.clear();
    CHECK(s.entries() == 0);
    CHECK(copies_of(s, keys.back()) == 0);
}
