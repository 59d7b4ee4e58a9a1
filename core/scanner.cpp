// The scanner: one post through the stages, with per-thread state kept between posts.
//   normalize (core/normalize.hpp) -> match (the main database of the post's role: literals are
//   hits, triggers ask for windows) -> confirm (each triggered regex group probed over its merged
//   windows, then scanned with start-of-match tracking where the probe matched; word boundaries,
//   the Luhn check) -> skeleton (core/skeleton.hpp, the words that show an evasion trick) ->
//   score and verdict (core/verdict.hpp).
#include "scanner.hpp"

#include <hs/hs.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <string_view>
#include <cmath>

#include "byte_mask.hpp"
#include "quotes.hpp"
#include "text.hpp"

namespace mf {

namespace {

// More windows than this (or than one per 64 bytes of a long post) in one post: each variable
// database runs over the whole post instead.
constexpr size_t kMaxWindows = 4096;

}  // namespace

Scanner::Scanner(const Engine &e) : e_(e) {
    // Scratch for every database there is now; one that a loaded engine deserializes later gets
    // its share when this scanner first runs it (ready()).
    std::vector<hs_database *> dbs{e.database(0), e.database(1), e.skeleton_database().loaded()};
    // then the groups' databases (slot 1 + g), then the probes' (slot 1 + groups + p)
    for (size_t g = 0; g < e.group_count(); ++g) dbs.push_back(e.group_database(g).loaded());
    for (size_t p = 0; p < e.probe_count(); ++p) dbs.push_back(e.group_probe(p).loaded());
    scratch_ready_.assign(dbs.size() - 2, 0);
    for (size_t i = 0; i < dbs.size(); ++i) {
        if (!dbs[i]) continue;
        if (hs_alloc_scratch(dbs[i], &scratch_) != HS_SUCCESS) {
            hs_free_scratch(scratch_);
            throw Error(kNoMem, "cannot allocate Hyperscan scratch space");
        }
        if (i >= 2) scratch_ready_[i - 2] = 1;
    }
    rule_epoch_.assign(e.rules().size(), 0);
    cat_score_.assign(e.categories().size(), 0.0);
    raw_cap_ = std::max<size_t>(4096, size_t(e.options().max_hits) * 4);
    seen_.resize(e.variable_count() * 2);
    gate_stat_.resize(e.variable_count());
    word_cache_.clear();
    posts_.reserve(kLanes);
    p_ = &new_post_state();
}

Scanner::PostState &Scanner::new_post_state() { return init_post_state(posts_.emplace_back()); }

Scanner::PostState &Scanner::init_post_state(PostState &p) {
    p.overflow_seen.assign(e_.rules().size(), 0);
    p.raw.reserve(256);
    p.group_last.assign(e_.group_count(), 0);
    return p;
}

Scanner::~Scanner() { hs_free_scratch(scratch_); }

namespace {

inline bool letter(unsigned char c) { return ascii_alnum(c) && !ascii_digit(c); }

// tokenize() ends a number where letters start ("5pm" is "5" and "pm"): a word anchor may start
// right after the digits of a number that starts a word ...
inline bool after_number(const char *t, size_t from) {
    if (from == 0 || !letter(static_cast<unsigned char>(t[from])) || !ascii_digit(static_cast<unsigned char>(t[from - 1])))
        return false;
    size_t b = from - 1;
    while (b > 0 && ascii_digit(static_cast<unsigned char>(t[b - 1]))) --b;
    if (b == 0) return true;
    const auto c = static_cast<unsigned char>(t[b - 1]);
    if (c < 0x80) return !ascii_alnum(c);
    // a two-byte letter right before continues the word (tokenize())
    return !(c < 0xC0 && b >= 2 && two_byte_letter(reinterpret_cast<const unsigned char *>(t), b, b - 2));
}

// ... and an anchor that is a number ends before the letters that follow it.
inline bool number_ends(const char *t, size_t from, size_t to, unsigned char next) {
    return letter(next) && to > from && ascii_digit(static_cast<unsigned char>(t[from])) &&
           ascii_digit(static_cast<unsigned char>(t[to - 1]));
}

inline bool space_byte(unsigned char c) { return c == ' ' || (c >= 9 && c <= 13); }  // Hyperscan's \s

// How many bytes of t[a, b) are white space right after white space (a run of white space counts
// its first byte only); t[a - 1] is read when a > 0. Sixteen bytes at a time, then a loop without
// branches: every trigger of a regex reads its reach this way (a post dense with triggers, one
// disguised word after another, read a few hundred bytes a byte at a time for each).
inline size_t extra_spaces(const char *t, size_t a, size_t b) {
    typedef uint8_t u8x16 __attribute__((vector_size(16)));
    size_t n = 0;
    unsigned prev = a > 0 && space_byte(static_cast<unsigned char>(t[a - 1]));
    size_t i = a;
    for (; i + 16 <= b; i += 16) {
        u8x16 v;
        std::memcpy(&v, t + i, 16);
        const u8x16 sp = (u8x16)((v == ' ') | ((u8x16)(v - 9) < 5));
        const uint32_t m = top_bits(sp);
        n += static_cast<size_t>(__builtin_popcount(m & ((m << 1) | prev)));
        prev = (m >> 15) & 1;
    }
    for (; i < b; ++i) {
        const unsigned cur = space_byte(static_cast<unsigned char>(t[i]));
        n += cur & prev;
        prev = cur;
    }
    return n;
}

// How far a match of v can reach from a trigger at `pos`, back (lo) or on (hi): v.reach bytes when
// each run of white space counts as one, and no more than v.window bytes (Pattern::reach).
inline size_t reach_back(const char *t, size_t pos, const Pattern &v) {
    const size_t floor = pos > v.window ? pos - v.window : 0;
    if (v.reach == v.window || pos <= floor + v.reach) return floor;
    // v.reach bytes back, then as many more as there were extra spaces among them, until none
    size_t lo = pos - v.reach, extra = extra_spaces(t, lo, pos);
    while (extra && lo > floor) {
        const size_t next = lo > floor + extra ? lo - extra : floor;
        extra = extra_spaces(t, next, lo);
        lo = next;
    }
    return lo;
}

inline size_t reach_on(const char *t, size_t n, size_t pos, const Pattern &v) {
    const size_t ceil = std::min<size_t>(pos + v.window, n);
    if (v.reach == v.window || pos + v.reach >= ceil) return ceil;
    size_t hi = pos + v.reach, extra = extra_spaces(t, pos, hi);
    while (extra && hi < ceil) {
        const size_t next = std::min(hi + extra, ceil);
        extra = extra_spaces(t, hi, next);
        hi = next;
    }
    return hi;
}

}  // namespace

hs_database *Scanner::ready(const LazyDatabase &db, size_t slot) {
    hs_database *d = db.get();
    if (d && !scratch_ready_[slot]) {
        if (hs_alloc_scratch(d, &scratch_) != HS_SUCCESS) throw Error(kNoMem, "cannot allocate Hyperscan scratch space");
        scratch_ready_[slot] = 1;
    }
    return d;
}

// Main database: literals are recorded; a trigger, or a variable pattern without triggers, asks for
// the variable database to run over a window around it.
int Scanner::on_match(unsigned id, unsigned long long, unsigned long long to, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    const Pattern &p = s->engine().pattern(id);
    if (!(p.roles & s->p_->role_bit) || (p.fixed_len > to && !p.wide)) return 0;
    if (p.kind == Pattern::kLiteral) return on_som_match(id, to - p.fixed_len, to, 0, ctx);
    if (p.kind == Pattern::kAnchor) {
        const size_t from = to - p.fixed_len;
        if (p.boundary == Boundary::Word) {
            // The word goes on after the anchor (ASCII letters and digits, two-byte letters: as
            // tokenize() splits words), so no phrase word is here: "company" for "comp".
            const auto next = to < s->p_->len ? static_cast<unsigned char>(s->p_->text[to]) : 0;
            if ((ascii_alnum(next) ||
                 (to < s->p_->len && two_byte_letter(reinterpret_cast<const unsigned char *>(s->p_->text), s->p_->len, to))) &&
                !number_ends(s->p_->text, from, to, next))
                return 0;
        }
        if (!boundary_ok(s->p_->text, s->p_->len, from, to, p.boundary == Boundary::Word ? Boundary::Prefix : p.boundary) &&
            !after_number(s->p_->text, from))
            return 0;
        s->p_->anchors.emplace_back(static_cast<uint32_t>(from), p.target);
        return 0;
    }
    if (s->p_->whole_text) return 0;
    if (p.kind == Pattern::kTrigger && !p.wide && !boundary_ok(s->p_->text, s->p_->len, to - p.fixed_len, to, p.boundary))
        return 0;
    size_t lo, hi;
    const Pattern &v = p.kind == Pattern::kTrigger ? s->engine().pattern(p.target) : p;
    if (p.kind == Pattern::kTrigger) {
        size_t start = to > p.fixed_len ? to - p.fixed_len : 0, end = to;
        if (v.slots > 1) {
            // Two atom sets: run the pattern only where an atom of the other set is close by.
            Scanner::Seen &mine = s->seen_[v.var * 2 + p.slot];
            const Scanner::Seen &other = s->seen_[v.var * 2 + (1 - p.slot)];
            mine = {s->scan_epoch_, static_cast<uint32_t>(start), static_cast<uint32_t>(end)};
            if (other.epoch != s->scan_epoch_ || end - other.start > v.window) return 0;
            start = std::min<size_t>(start, other.start);
        }
        lo = reach_back(s->p_->text, start, v);
        hi = reach_on(s->p_->text, s->p_->len, end, v);
    } else {
        lo = reach_back(s->p_->text, to, v);
        hi = to;
    }
    // Matches arrive in order of their end, so a group's windows mostly extend its last one.
    uint32_t &last = s->p_->group_last[v.group];
    if (last && s->p_->windows[last - 1].hi >= lo) {
        Window &w = s->p_->windows[last - 1];
        w.lo = std::min<uint32_t>(w.lo, static_cast<uint32_t>(lo));
        w.hi = std::max<uint32_t>(w.hi, static_cast<uint32_t>(hi));
    } else if (s->p_->windows.size() < std::max<size_t>(kMaxWindows, s->p_->len / 64)) {
        // A new window, where the pattern's gates stand (extending one costs no probe of its own)
        if (p.kind == Pattern::kTrigger && s->gate_refuses(v.var, lo, hi)) return 0;
        s->p_->windows.push_back({v.group, static_cast<uint32_t>(lo), static_cast<uint32_t>(hi)});
        last = static_cast<uint32_t>(s->p_->windows.size());
    } else {
        s->p_->whole_text = true;
    }
    return 0;
}

bool Scanner::gate_refuses(uint32_t var, size_t lo, size_t hi) {
    if (!e_.gated(var)) return false;
    GateStat &g = gate_stat_[var];
    // after 32 looks, gates that turn down fewer than three windows in four are looked at one time
    // in 64: a look costs about a third of the probe it may save on short posts (bench/ab_inproc.sh)
    if (g.looks >= 32 && g.refusals * 4 < g.looks * 3 && (++g.skipped & 63) != 0) return false;
    if (p_->gate_budget < hi - lo) return false;  // the post has had its share of looks: windows as before
    p_->gate_budget -= hi - lo;
    const bool refused = !e_.gates_pass(var, p_->text, p_->len, lo, hi);
    g.refusals += refused;
    if (++g.looks == 1024) {  // (the recent looks count for more)
        g.looks /= 2;
        g.refusals /= 2;
    }
    return refused;
}

// Main database: the word matcher's hits that end by then go first, so that on_match sees every
// literal and trigger in order of its end, as Hyperscan reports them (two-set triggers look back).
int Scanner::on_main_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    s->word_hits_until(to);
    return on_match(id, from, to, 0, ctx);
}

void Scanner::word_hits_until(size_t to) {
    PostState &p = *p_;
    for (; p.next_word_hit < p.word_hits.size() && p.word_hits[p.next_word_hit].second <= to; ++p.next_word_hit)
        on_match(p.word_hits[p.next_word_hit].first, 0, p.word_hits[p.next_word_hit].second, 0, this);
}

// Probe database, over one window: stops at the first match of a pattern for this post's role.
int Scanner::on_probe_match(unsigned id, unsigned long long, unsigned long long, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    return (s->engine().pattern(id).roles & s->p_->role_bit) ? 1 : 0;
}

// Variable database, over one window: offsets are relative to the window.
int Scanner::on_window_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    return on_som_match(id, from + s->win_off_, to + s->win_off_, 0, ctx);
}

int Scanner::on_som_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    const Pattern &p = s->engine().pattern(id);
    if (!(p.roles & s->p_->role_bit)) return 0;
    if (!boundary_ok(s->p_->text, s->p_->len, from, to, p.boundary)) return 0;
    if (p.luhn && !luhn_ok(s->p_->text + from, to - from)) return 0;
    // A prefix rule's hit covers the rest of its word ("fucking", not "fuck"), a suffix rule's the
    // start of its word, so that highlighting and censoring take the whole word.
    if (p.boundary == Boundary::Prefix) to = word_end(s->p_->text, s->p_->len, to);
    else if (p.boundary == Boundary::Suffix) from = word_start(s->p_->text, s->p_->len, from);
    const Normalizer &n = s->p_->norm;
    if (p.boundary == Boundary::Any && p.kind == Pattern::kLiteral && !p.allow) {
        // A word list's root matched anywhere covers the letters around it ("motherfucker", not
        // "fuck"; core/text.hpp); an allowed word must still hold the root itself (Raw::core_from).
        size_t a = from, b = to;
        widen_to_letters(s->p_->text, s->p_->len, a, b);
        return add_raw(s, p, n.orig_start(a), n.orig_end(b), n.evasion(from, to), n.orig_start(from), n.orig_end(to));
    }
    return add_raw(s, p, n.orig_start(from), n.orig_end(to), n.evasion(from, to));
}

// Skeleton database: fixed-length patterns; a hit counts only where the post used a trick.
namespace {

// Whether c is a combining mark (nonspacing, spacing or enclosing).
bool is_mark(UChar32 c) {
    const int8_t type = u_charType(c);
    return type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK || type == U_COMBINING_SPACING_MARK;
}

// The characters of text[a, b) (UTF-8) that a reader sees as letters or signs: code points, less the
// default-ignorable ones (zero-width characters, bidi marks, variation selectors, tags, the soft
// hyphen) and the combining marks, which a disguise adds without adding a letter ("A\u034F5").
size_t visible_chars(std::string_view text, size_t a, size_t b) {
    size_t n = 0;
    b = std::min(b, text.size());
    const auto *p = reinterpret_cast<const unsigned char *>(text.data());
    for (size_t i = a; i < b;) {
        uint32_t cp;
        bool valid;
        i += decode_utf8(p + i, b - i, &cp, &valid);
        if (!valid) {
            ++n;  // (an invalid sequence is one U+FFFD, as the normalizer reads it)
            continue;
        }
        if (cp < 0x80) {
            ++n;
            continue;
        }
        const auto c = static_cast<UChar32>(cp);
        n += !is_mark(c) && !u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
    }
    return n;
}

// Whether the combining marks of text[a, b) are only accents written apart from their letters, as
// macOS and some keyboards write them ("a\u0308" for "ä"): composed (NFC), no mark is left over. A
// stack of marks that no letter composes with ("zalgo") leaves marks.
bool marks_compose(std::string_view text, size_t a, size_t b) {
    b = std::min(b, text.size());
    if (a >= b) return true;
    UErrorCode err = U_ZERO_ERROR;
    const icu::Normalizer2 *nfc = icu::Normalizer2::getNFCInstance(err);
    if (U_FAILURE(err)) return false;
    const icu::UnicodeString composed =
        nfc->normalize(icu::UnicodeString::fromUTF8(icu::StringPiece(text.data() + a, static_cast<int32_t>(b - a))), err);
    if (U_FAILURE(err)) return false;
    for (int32_t i = 0; i < composed.length();) {
        const UChar32 c = composed.char32At(i);
        if (is_mark(c)) return false;
        i += U16_LENGTH(c);
    }
    return true;
}

}  // namespace

int Scanner::on_skeleton_match(unsigned id, unsigned long long, unsigned long long end, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    const Pattern &p = s->engine().skeleton_pattern(id);
    if (!(p.roles & s->p_->role_bit) || p.fixed_len > end) return 0;
    size_t to = static_cast<size_t>(end), from = to - p.fixed_len;
    const Skeleton &k = s->skel_;
    if (!k.boundary_ok(from, to, p.boundary)) return 0;
    // (a root found anywhere: its own span decides whether the post used a trick there, then the hit
    // covers the word around it, as on_som_match does)
    size_t core_from = from, core_to = to;
    const bool widen = p.boundary == Boundary::Any && !p.allow;
    const uint32_t core_ev = widen ? k.evasion(from, to) : 0;
    if (p.boundary == Boundary::Prefix) to = word_end(k.data(), k.size(), to);
    else if (p.boundary == Boundary::Suffix) from = word_start(k.data(), k.size(), from);
    else if (widen) widen_to_letters(k.data(), k.size(), from, to);
    const uint32_t ev = widen ? core_ev : k.evasion(from, to);
    if (!p.allow && !ev) return 0;  // no trick in the span: the normalized view decides alone
    // A word matched only disguised needs a trick that hides it: letters run out ("stuuupid") are
    // emphasis, as a plain "stupid" is no hit of such a rule.
    if (!p.allow && !(ev & ~uint32_t(kEvRepeats)) && s->engine().rules()[p.rule].disguised_only) return 0;
    const size_t a = k.orig_start(from), b = k.orig_end(to);
    if (p.min_chars && visible_chars(s->p_->post->text, a, b) < p.min_chars) return 0;  // "A5" is no "ass"
    if (widen) return add_raw(s, p, a, b, ev, k.orig_start(core_from), k.orig_end(core_to));
    return add_raw(s, p, a, b, ev);
}


namespace {

// A word beside an anchor word, read from the bytes as tokenize() splits them (core/commitment.cpp),
// where that is plain: ASCII words and numbers, a clitic ("'ll"). kUnknown where it is not (a byte
// of another script nearby, a word of letters and digits), and then anything may stand there. The
// reads rely on the normalizer's output being valid UTF-8 (invalid bytes are U+FFFD there): after a
// stray lead byte the tokenizer would split differently.
struct NearWord {
    enum State : uint8_t { kUnknown, kNone, kWord } state = kUnknown;  // kNone: no word at all
    bool number = false;
    uint8_t len = 0;  // kLong: longer than any phrase word (token_text's 64 bytes)
    char text[64];
    static constexpr uint8_t kLong = 0xFF;
    // The token p[0, n), as token_text() gives it: ASCII lower-cased; a clitic written with U+2019
    // (`curly`: p starts with its three bytes) with a straight apostrophe.
    void set(const unsigned char *p, size_t n, bool curly = false) {
        if (curly) {
            p += 2;
            n -= 2;
        }
        state = kWord;
        number = ascii_digit(p[0]);
        if (n > sizeof text) {
            len = kLong;
            return;
        }
        len = static_cast<uint8_t>(n);
        for (size_t k = 0; k < n; ++k) text[k] = static_cast<char>(p[k] >= 'A' && p[k] <= 'Z' ? p[k] + 32 : p[k]);
        if (curly) text[0] = '\'';
    }
    bool is(std::string_view w) const { return len != kLong && w.size() == len && std::memcmp(text, w.data(), len) == 0; }
};

// Where the token that starts at s[i] (an ASCII letter or digit) ends, as tokenize() reads it: a
// number keeps its inner separators ("24-48") and ends where letters start ("5pm"). False when a
// byte >= 0x80 touches it.
bool plain_token_end(const unsigned char *s, size_t n, size_t i, size_t &e) {
    const bool number = ascii_digit(s[i]);
    size_t j = i;
    while (j < n) {
        const unsigned char d = s[j];
        if (d >= 0x80) return false;
        if (ascii_alnum(d)) {
            if (number && !ascii_digit(d)) break;
            ++j;
        } else if (number && j > i && number_joins(s, n, j)) {
            ++j;
        } else {
            break;
        }
    }
    e = j;
    return true;
}

// Whether s[i, i + 3) is general punctuation U+2000..U+203F, which tokenize() skips (U+2019 after a
// word makes a clitic; U+2026, the ellipsis, ends a sentence).
inline bool punct3(const unsigned char *s, size_t n, size_t i) {
    return i + 2 < n && s[i] == 0xE2 && s[i + 1] == 0x80 && s[i + 2] >= 0x80 && s[i + 2] <= 0xBF;
}

// The token after the one that starts at s[start].
NearWord word_after(const unsigned char *s, size_t n, size_t start) {
    NearWord w;
    size_t e;
    const bool anchor_clitic = s[start] == '\'' || curly_at(s, n, start);
    if (anchor_clitic) {  // the anchor is a clitic: "'s"
        e = start + (s[start] == '\'' ? 1 : 3);
        if (e >= n || !ascii_alnum(s[e])) return w;
        while (e < n && ascii_alnum(s[e])) ++e;
    } else if (!ascii_alnum(s[start]) || !plain_token_end(s, n, start, e) || bare_clitic(s + start, e - start, true)) {
        return w;  // (a contraction typed without its apostrophe is two tokens: the sentence decides)
    }
    // a clitic after a word ("'ll", "’ll"); after a clitic, the apostrophe is skipped as punctuation
    const size_t q = anchor_clitic ? 0 : e < n && s[e] == '\'' ? 1 : curly_at(s, n, e) ? 3 : 0;
    if (q && e + q < n && ascii_alnum(s[e + q]) && !ascii_digit(s[e + q])) {
        size_t j = e + q;
        while (j < n && ascii_alnum(s[j])) ++j;
        w.set(s + e, j - e, q == 3);
        return w;
    }
    size_t i = e;
    while (i < n && (s[i] < 0x80 ? !ascii_alnum(s[i]) : punct3(s, n, i))) i += s[i] < 0x80 ? 1 : 3;
    if (i == n) {
        w.state = NearWord::kNone;
        return w;
    }
    if (s[i] >= 0x80 || !plain_token_end(s, n, i, e) || bare_clitic(s + i, e - i, true)) return w;
    w.set(s + i, e - i);
    return w;
}

// The token before byte `start` (where a token starts): [from, to), `curly` when it is a clitic
// written with U+2019 (three bytes for the apostrophe). With `in_sentence`, kNone when the sentence
// starts in between, as sentence_start() says.
NearWord::State token_before(const unsigned char *s, size_t n, size_t start, bool in_sentence, size_t &from,
                             size_t &to, bool &curly_clitic) {
    size_t j = start;
    for (;;) {
        if (j == 0) return NearWord::kNone;
        const unsigned char c = s[j - 1];
        if (c < 0x80) {
            if (ascii_alnum(c)) break;
            if (in_sentence && ends_sentence(s, n, j - 1)) return NearWord::kNone;
            --j;
        } else if (j >= 3 && j < start && punct3(s, n, j - 3)) {  // (not right before the anchor: a clitic's)
            if (in_sentence && ends_sentence(s, n, j - 1)) return NearWord::kNone;  // the ellipsis
            j -= 3;
        } else {
            return NearWord::kUnknown;
        }
    }
    size_t r = j;
    while (r > 0 && ascii_alnum(s[r - 1]))
        if (ascii_digit(s[--r])) return NearWord::kUnknown;  // a number, or letters after one ("24hrs")
    curly_clitic = false;
    // An apostrophe right after a word makes a clitic of the letters after it ("'ll" of "we'll"),
    // unless that word is a clitic itself ("we'll'have": "have" is a word): then, or after a letter
    // of two bytes, the tokenizer decides.
    enum { kNo, kYes, kAsk };
    auto clitic_of = [&](size_t q) {  // the apostrophe ends at q, the letters after it are s[q', r)
        size_t p = q;
        while (p > 0 && ascii_alnum(s[p - 1])) --p;
        if (p == q) return kNo;
        return p > 0 && (s[p - 1] == '\'' || s[p - 1] >= 0x80) ? kAsk : kYes;
    };
    if (r >= 2 && s[r - 1] == '\'') {
        if (s[r - 2] >= 0x80) return NearWord::kUnknown;
        const int c = clitic_of(r - 1);
        if (c == kAsk) return NearWord::kUnknown;
        if (c == kYes) --r;
    } else if (r >= 4 && curly_at(s, n, r - 3) && s[r - 4] < 0x80) {
        const int c = clitic_of(r - 3);
        if (c == kAsk) return NearWord::kUnknown;
        if (c == kYes) {
            curly_clitic = true;
            r -= 3;
        }
    } else if (r > 0 && s[r - 1] >= 0x80) {
        return NearWord::kUnknown;
    }
    // a contraction typed without its apostrophe ("youll") is two tokens: the sentence decides
    if (!curly_clitic && bare_clitic(s + r, j - r, true)) return NearWord::kUnknown;
    from = r;
    to = j;
    return NearWord::kWord;
}

NearWord word_before(const unsigned char *s, size_t n, size_t start) {
    NearWord w;
    size_t from = 0, to = 0;
    bool c = false;
    w.state = token_before(s, n, start, false, from, to, c);
    if (w.state == NearWord::kWord) w.set(s + from, to - from, c);
    return w;
}

bool neighbour_fits(Engine::AnchorWord::Neighbours::Kind kind, const std::string &word, const NearWord &w) {
    using K = Engine::AnchorWord::Neighbours;
    if (kind == K::kNone || w.state == NearWord::kUnknown) return true;
    if (w.state == NearWord::kNone) return false;
    if (kind == K::kAny) return true;
    if (kind == K::kNumber) return w.number;
    return w.is(word);
}

}  // namespace

// Whether a deliverable that anchor word aw finds (Engine::AnchorWord::phrases) matches around its
// word at byte `start`. The deliverables reach at most aw.back words before it and aw.ahead after it,
// so only the white-space separated pieces that hold a word (each is at least one token) that far
// around it are split into words, as the sentence would be (no token spans white space). Most anchors
// of common words ("more", "way", "right") are in none of their deliverables where they stand, and
// their sentence is then never read for them. Where the words around cannot be read cheaply, the
// answer is yes and the sentence decides, as before.
bool Scanner::anchor_covered(const Engine::AnchorWord &aw, size_t start) {
    constexpr size_t kMaxBytes = 256;
    const auto *s = reinterpret_cast<const unsigned char *>(p_->text);
    // First the words right beside the anchor word, from the bytes: where no phrase of the anchor's
    // has them there (most anchors of common words: "their" without "on ... way"), the answer is no
    // without splitting anything into words.
    if (aw.quick && first_look_) {
        const NearWord before = word_before(s, p_->len, start), after = word_after(s, p_->len, start);
        bool fits = false;
        for (const auto &nb : aw.neighbours)
            if (neighbour_fits(nb.prev, nb.prev_word, before) && neighbour_fits(nb.next, nb.next_word, after)) {
                fits = true;
                break;
            }
        if (!fits) return false;
    }
    auto space = [](unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    auto wordy = [&](size_t i) { return ascii_alnum(s[i]) || two_byte_letter(s, p_->len, i); };  // (as tokenize reads words)
    size_t a = start, pieces = 0;
    bool word = false;
    if (aw.back)
        for (; a > 0; --a) {
            const unsigned char c = s[a - 1];
            if (space(c)) {
                if (word && ++pieces == aw.back) break;
                word = false;
            } else if (wordy(a - 1)) {
                word = true;
            }
            if (start - a > kMaxBytes) return true;
        }
    else
        while (a > 0 && !space(s[a - 1])) {  // (the anchor's own piece)
            if (start - --a > kMaxBytes) return true;
        }
    size_t b = start;
    pieces = 0;
    word = false;
    for (; b < p_->len; ++b) {
        const unsigned char c = s[b];
        if (space(c)) {
            if (word && ++pieces == aw.ahead + 1) break;  // (the anchor's own piece, then aw.ahead more)
            word = false;
        } else if (wordy(b)) {
            word = true;
        }
        if (b - start > kMaxBytes) return true;
    }
    tokenize_range(p_->text, a, b, near_);
    size_t ti = 0;
    while (ti < near_.size() && near_[ti].start < start) ++ti;
    if (ti == near_.size() || near_[ti].start != start) return true;
    const Sentence near{p_->text, p_->len, near_, e_.phrase_words()};
    for (auto [p, at] : aw.phrases)
        if (ti >= at && e_.anchored().matches(near, p, ti - at, near_.size())) return true;
    return false;
}

// Whether a word that starts a commit phrase of one of aw's rules stands within aw.commit_back words
// before its anchor word at byte `start`, in its sentence: no deliverable counts without one
// (confirm_commitments looks no further back). Read from the bytes; where they are not plain
// (core/scanner.cpp word_before), the answer is yes and the sentence decides.
bool Scanner::commit_before(const Engine::AnchorWord &aw, size_t start) const {
    const auto *s = reinterpret_cast<const unsigned char *>(p_->text);
    size_t pos = start;
    for (uint32_t k = 0; k < aw.commit_back; ++k) {
        size_t from = 0, to = 0;
        bool c = false;
        const NearWord::State st = token_before(s, p_->len, pos, true, from, to, c);
        if (st != NearWord::kWord) return st == NearWord::kUnknown;
        const size_t len = to - from - (c ? 2 : 0);
        const auto first = static_cast<unsigned char>(c ? '\'' : s[from] | (s[from] >= 'A' && s[from] <= 'Z' ? 0x20 : 0));
        if (e_.may_be_commit_word(first, len)) {
            NearWord w;
            w.set(s + from, to - from, c);
            const uint32_t id = w.len == NearWord::kLong ? Token::kNoWord : e_.phrase_words().find(std::string_view(w.text, w.len));
            if (id < aw.commits.size() && aw.commits[id]) return true;
        }
        pos = from;
    }
    return false;
}

void Scanner::confirm_commitments() {
    // Anchors are deliverable words ("refund", "tomorrow", a number), or commit words of rules whose
    // deliverable is any word. Only the sentences that hold one are split into words: a sentence is
    // all a commitment looks at.
    std::sort(p_->anchors.begin(), p_->anchors.end());
    p_->anchors.erase(std::unique(p_->anchors.begin(), p_->anchors.end()), p_->anchors.end());
    size_t lo = 0, hi = 0, ti = 0;  // the sentence split into tokens_, the anchor's token in it
    size_t read = 0;                // tokens_[0, read) have their token_commit_ and prev_commit_
    int32_t last = -1;              // the last of them with a commit word
    int32_t last_join = -1;         // the last of them that is an "and"/"or" joining a verb
    const Sentence sentence{p_->text, p_->len, tokens_, e_.phrase_words()};
    // What a confirmation may read (CommitmentMatcher::confirm), charged to the post's budget.
    auto affordable = [&] {
        const size_t cost = std::min(tokens_.size(), 2 * kReadAround + 1);
        if (p_->confirm_budget < cost) return false;
        p_->confirm_budget -= cost;
        return true;
    };
    for (const auto &[start, a] : p_->anchors) {
        const Engine::AnchorWord &aw = e_.anchor(a);
        // An anchor word counts where a deliverable it finds matches around it: read from the words
        // around it (anchor_covered) before its sentence is split into words, or from the sentence's
        // words when another anchor had them split already.
        const bool split = start < hi;
        if (aw.needs_cover && !split && !anchor_covered(aw, start)) continue;
        if (!split && first_look_ && aw.commit_rules.empty() && !commit_before(aw, start)) continue;
        if (!split) {
            lo = sentence_start(p_->text, p_->len, start);
            hi = tokenize_sentence(p_->text, p_->len, lo, tokens_);
            token_commit_.resize(tokens_.size());
            prev_commit_.resize(tokens_.size());
            prev_join_.resize(tokens_.size());
            ti = 0;
            read = 0;
            last = -1;
            last_join = -1;
        }
        while (ti < tokens_.size() && tokens_[ti].start < start) ++ti;
        if (ti == tokens_.size() || tokens_[ti].start != start) continue;  // inside a word
        if (aw.needs_cover && split) {
            bool covered = false;
            for (auto [p, at] : aw.phrases)
                if (ti >= at && (covered = e_.anchored().matches(sentence, p, ti - at, tokens_.size()))) break;
            if (!covered) continue;
        }
        // The commit words of the sentence, up to the anchor's word: no further yet (the words
        // after the sentence's last anchor are never asked for).
        for (; read <= ti; ++read) {
            const Token &t = tokens_[read];
            const unsigned char first = lookup_first(p_->text, t);
            token_commit_[read] = -1;
            if (e_.may_be_commit_word(first, lookup_length(t))) {
                const uint32_t w = sentence.word(read);
                if (e_.commit_start(w)) {
                    token_commit_[read] = static_cast<int32_t>(w);
                    last = static_cast<int32_t>(read);
                }
            }
            prev_commit_[read] = last;
            // "and" or "or" (two or three bytes starting with a or o) before a verb of delivery:
            // only then may a commit word stand further back than a rule's `within` (reach())
            const size_t len = t.end - t.start;
            if ((len == 3 && first == 'a') || (len == 2 && first == 'o'))
                if (joins_verb(sentence, read, tokens_.size())) last_join = static_cast<int32_t>(read);
            prev_join_[read] = last_join;
        }
        size_t from, to;
        auto hit = [&](uint32_t rule) {
            Pattern p{rule, Boundary::Any, false, kRoleEveryone, 0};
            add_raw(this, p, p_->norm.orig_start(from), p_->norm.orig_end(to), p_->norm.evasion(from, to));
        };
        // A deliverable: the nearest commit phrase before it that confirms.
        const bool commit_before = ti && prev_commit_[ti - 1] >= 0;
        for (uint32_t rule : aw.what_rules) {
            if (!commit_before) break;
            if (!(e_.rules()[rule].roles & p_->role_bit)) continue;
            const CommitmentMatcher &m = *e_.commitment(rule);
            // a commit word further back than `within` only across an "and" or "or" that joins a verb
            // and stands within `within` words before the deliverable
            const size_t near = m.within + m.lead + 1;
            const bool joined = ti && prev_join_[ti - 1] >= 0 && ti - static_cast<size_t>(prev_join_[ti - 1]) <= near;
            const size_t reach = (joined ? m.reach() : m.within) + m.lead, lowest = ti > reach ? ti - reach : 0;
            // from one commit word back to the one before (prev_commit_), not word by word
            for (int32_t j = ti ? prev_commit_[ti - 1] : -1; j >= 0 && static_cast<size_t>(j) >= lowest;
                 j = j ? prev_commit_[j - 1] : -1) {
                const int32_t w = token_commit_[j];
                if (!m.commit_starts[w]) continue;
                if (!affordable()) return;
                if (m.confirm(sentence, j, from, to)) {
                    hit(rule);
                    break;
                }
            }
        }
        // A commit word of a rule whose deliverable is any word.
        for (auto [rule, at] : aw.commit_rules) {
            if (!(e_.rules()[rule].roles & p_->role_bit) || ti < at) continue;
            if (!affordable()) return;
            if (e_.commitment(rule)->confirm(sentence, ti - at, from, to)) hit(rule);
        }
    }
}

int Scanner::add_raw(Scanner *s, const Pattern &p, size_t from, size_t to, uint32_t ev, size_t core_from,
                     size_t core_to) {
    if (core_from == SIZE_MAX) core_from = from, core_to = to;
    if (s->p_->raw.size() < s->raw_cap_) {
        s->p_->raw.push_back({p.rule, p.allow, ev, from, to, core_from, core_to});
    } else if (!p.allow) {
        s->p_->overflow = true;
        // Keep scoring every rule even when there is no room to list its hits: each rule once, so a
        // rule first seen after a flood of another one is still counted.
        if (!s->p_->overflow_seen[p.rule]) {
            s->p_->overflow_seen[p.rule] = 1;
            s->p_->overflow_rules.push_back(p.rule);
        }
    }
    return 0;
}


bool Scanner::begin(std::string_view text, int role) {
    if (text.size() > e_.options().max_post_bytes)
        throw Error(kTooLarge, "post of " + std::to_string(text.size()) + " bytes exceeds max_post_bytes (" +
                                   std::to_string(e_.options().max_post_bytes) + ")");
    PostState &p = *p_;
    p.norm.run(text);
    p.text = p.norm.data();
    p.len = p.norm.size();
    p.role_bit = role == 1 ? kRoleStaff : kRoleMember;
    p.raw.clear();
    p.overflow = false;
    for (uint32_t r : p.overflow_rules) p.overflow_seen[r] = 0;
    p.overflow_rules.clear();
    for (const Window &w : p.windows) p.group_last[w.group] = 0;
    p.windows.clear();
    p.anchors.clear();
    p.whole_text = false;
    // (twice the post and a kilobyte: a prose post's gates read about half of it, and a post made to
    // wake every rule costs them no more than two more passes)
    p.gate_budget = 2 * p.len + 1024;
    // (a kilobyte of prose reads about 60 words for its commitments, and the densest reply to a
    // customer of the real corpora 3,000; a post past this has its last commit words left unread)
    p.confirm_budget = 4096 + 8 * p.len;
    p.error = nullptr;
    return p.len != 0;
}

// One post is a batch of one: the stages are listed once, in scan_batch_impl.
void Scanner::scan(std::string_view text, int role, uint32_t flags, Verdict &v) {
    const BatchPost post{text, role, flags, &v};
    std::exception_ptr error;
    if (scan_batch_impl(&post, 1, nullptr, nullptr, &error) != 1) std::rethrow_exception(error);
}

size_t Scanner::scan_batch_impl(const BatchPost *posts, size_t n, void (*done)(void *, size_t), void *ctx,
                                std::exception_ptr *error) {
    while (posts_.size() < std::min(kLanes, n)) new_post_state();
    for (size_t base = 0; base < n; base += kLanes) {
        const size_t m = std::min(kLanes, n - base);
        // One stage for every post of the chunk, then the next stage: a post whose stage throws
        // keeps its exception and skips the stages after it.
        // (with stage_times_: the clock read before and after each stage, for all m posts at once)
        std::chrono::steady_clock::time_point clock;
        auto tick = [&](size_t s) {
            if (__builtin_expect(stage_times_ != nullptr, 0)) {
                const auto now = std::chrono::steady_clock::now();
                if (s) stage_times_->seconds[s - 1] += std::chrono::duration<double>(now - clock).count();
                clock = now;
            }
        };
        auto stage = [&](auto &&run) {
            for (size_t k = 0; k < m; ++k) {
                p_ = &posts_[k];
                if (p_->error || !p_->len) continue;
                try {
                    run();
                } catch (...) {
                    p_->error = std::current_exception();
                }
            }
        };
        tick(0);
        for (size_t k = 0; k < m; ++k) {
            p_ = &posts_[k];
            p_->post = &posts[base + k];
            try {
                begin(p_->post->text, p_->post->role);
            } catch (...) {
                p_->len = 0;
                p_->error = std::current_exception();
            }
        }
        tick(1);
        stage([&] { match_words(); });
        tick(2);
        stage([&] { match(); });
        tick(3);
        stage([&] { confirm_windows(); });
        tick(4);
        stage([&] {
            if (!p_->anchors.empty()) confirm_commitments();
        });
        tick(5);
        stage([&] { match_skeleton(); });
        tick(6);
        stage([&] { apply_models(); });
        tick(7);
        for (size_t k = 0; k < m; ++k) {
            p_ = &posts_[k];
            const BatchPost &bp = *p_->post;
            try {
                if (p_->error) std::rethrow_exception(p_->error);
                bp.verdict->reset(&e_);
                score(bp.text, bp.flags, *bp.verdict);
                if (done) done(ctx, base + k);
            } catch (...) {
                if (error) *error = std::current_exception();
                bp.verdict->reset(nullptr);
                p_ = &posts_[0];
                return base + k;
            }
        }
        tick(8);
        // A lane that took a large post gives its buffers back (the first lane keeps them, as a
        // scanner of one post at a time does), so that a batch of large posts does not leave
        // kLanes times their size behind.
        for (size_t k = 1; k < m; ++k)
            if (posts[base + k].text.size() > kLaneKeepBytes) {
                posts_[k] = PostState();
                init_post_state(posts_[k]);
            }
    }
    p_ = &posts_[0];
    return n;
}

namespace {
// Whether t[0, n) (normalized text) is an English function word: a pronoun (with its contracted
// verb), an article or determiner, an auxiliary, a preposition or conjunction. A closed class,
// written out here rather than learned.
bool function_word(const char *t, size_t n) {
    static constexpr std::string_view kWords[] = {
        "a", "about", "after", "all", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by",
        "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "he's", "her", "here",
        "him", "his", "how", "i", "i'm", "if", "in", "into", "is", "it", "it's", "its", "just", "like", "me",
        "my", "no", "not", "of", "on", "or", "our", "over", "she", "she's", "should", "so", "some", "than",
        "that", "that's", "the", "their", "them", "then", "there", "these", "they", "they're", "this", "those",
        "to", "u", "up", "ur", "us", "very", "was", "we", "we're", "were", "what", "when", "which", "who",
        "will", "with", "would", "you", "you're", "your", "youre"};
    // lower-cased, with ’ (U+2019, which the normalizer keeps and phones type) read as '
    char buf[8];
    size_t m = 0;
    for (size_t k = 0; k < n; ++k) {
        if (m == sizeof buf) return false;  // longer than every word of the list
        const auto c = static_cast<unsigned char>(t[k]);
        if (curly_at(reinterpret_cast<const unsigned char *>(t), n, k)) {
            buf[m++] = '\'';
            k += 2;
            continue;
        }
        buf[m++] = static_cast<char>(static_cast<unsigned>(c - 'A') < 26u ? c | 0x20 : c);
    }
    const std::string_view w(buf, m);
    return m > 0 && std::binary_search(std::begin(kWords), std::end(kWords), w);
}
}  // namespace

// A model's hits are the words that carried the most weight toward its verdict, so that a moderator
// sees why: every word that carried at least 40% of what the heaviest one did, at most eight.
void Scanner::apply_models() {
    const std::vector<uint32_t> &rules = e_.model_rules();
    bool any = false;
    for (uint32_t rule : rules) any |= (e_.rules()[rule].roles & p_->role_bit) != 0;
    if (!any) return;
    model_words(p_->text, p_->len, model_words_);
    if (!model_has_distinct_words(model_words_, kModelMinWords)) return;  // lone words: the word lists' job
    ngrams_.build(model_words_);
    model_p_.resize(rules.size());
    model_probabilities(e_.model_table(), ngrams_, model_p_.data());
    for (size_t m = 0; m < rules.size(); ++m) {
        const Rule &r = e_.rules()[rules[m]];
        if (!(r.roles & p_->role_bit) || model_p_[m] < r.threshold) continue;
        const Pattern p{rules[m], Boundary::Any, false, r.roles, 0};
        model_carried(e_.model_table(), m, model_words_, carried_);
        const size_t heaviest = static_cast<size_t>(std::max_element(carried_.begin(), carried_.end()) - carried_.begin());
        const float top = carried_.empty() ? 0.0f : carried_[heaviest];
        if (top <= 0) {  // the bias alone: the whole post
            add_raw(this, p, p_->norm.orig_start(0), p_->norm.orig_end(p_->len), 0);
            continue;
        }
        if (rests_on_a_mentioned_word(m, heaviest, model_p_[m], r.threshold)) continue;
        // A function word is not shown ("is" of "is stupid" carries half of the pair's weight,
        // and the model learned weights for "like" and "you're"): a moderator does not want it
        // highlighted or censored. When only function words weigh enough, the heaviest is shown
        // (the verdict needs a word).
        auto show = [&](size_t i) {
            add_raw(this, p, p_->norm.orig_start(model_words_[i].start), p_->norm.orig_end(model_words_[i].end), 0);
        };
        size_t n = 0;
        for (size_t i = 0; i < model_words_.size() && n < 8; ++i)
            if (carried_[i] >= 0.4f * top &&
                !function_word(p_->text + model_words_[i].start, model_words_[i].end - model_words_[i].start)) {
                show(i);
                ++n;
            }
        if (n == 0) show(heaviest);
    }
}

namespace {
// Whether t[s, e) stands in quotation marks: '"', '\'', or the curly ones, right before and right after.
bool in_quotes(const char *t, size_t n, size_t s, size_t e) {
    auto open = [&] {
        if (s >= 1 && (t[s - 1] == '"' || t[s - 1] == '\'')) return true;
        return s >= 3 && static_cast<unsigned char>(t[s - 3]) == 0xE2 && static_cast<unsigned char>(t[s - 2]) == 0x80 &&
               (static_cast<unsigned char>(t[s - 1]) == 0x9C || static_cast<unsigned char>(t[s - 1]) == 0x98);
    };
    auto close = [&] {
        if (e < n && (t[e] == '"' || t[e] == '\'')) return true;
        const auto *u = reinterpret_cast<const unsigned char *>(t);
        return curly_at(u, n, e) ||  // U+2019, or U+201D below
               (e + 2 < n && u[e] == 0xE2 && u[e + 1] == 0x80 && u[e + 2] == 0x9D);
    };
    return open() && close();
}

// Whether t[s, e) is a name in code: joined to a word before it by '.', '_', '=' or '->'
// ("subprocess.kill", "PTRACE_KILL", "TERM=dumb"), or to what follows by '.', '_' or '(' before a
// letter, a digit or ')' ("kill()", "kill_child", "dumb.c"), or in backticks ("`kill`").
bool in_code(const char *t, size_t n, size_t s, size_t e) {
    auto word = [](char c) { return ascii_alnum(static_cast<unsigned char>(c)); };
    auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
    if (s >= 1 && e < n && t[s - 1] == '`' && t[e] == '`') return true;
    if (s >= 1 && t[s - 1] == '_') return true;
    // (a dot before a capital is a sentence's end typed without its space: "losers.Looks like")
    if (s >= 2 && word(t[s - 2]) && ((t[s - 1] == '.' && !upper(t[s])) || t[s - 1] == '=')) return true;
    if (s >= 3 && t[s - 2] == '-' && t[s - 1] == '>' && word(t[s - 3])) return true;
    if (e + 1 < n && ((t[e] == '.' && !upper(t[e + 1])) || t[e] == '_' || t[e] == '(') &&
        (word(t[e + 1]) || t[e + 1] == ')'))
        return true;
    return false;
}
}  // namespace

// Whether model m's verdict (probability p, at least `threshold`) rests on its heaviest word,
// model_words_[top] (by carried_), standing in quotation marks or as a name in code, and no abuse
// list names it: someone "can make a \"stupid\" promise" mentions the word, and does not call
// anyone it; "subprocess.kill()", "PTRACE_KILL" and "TERM=dumb" name a function, a constant, a value
// (for a model of an abuse category). Without that
// word's weight and the weights of the distinct pairs it is in, the post would fall below the
// threshold. Only a quoted word: on real tweets the model's verdicts rest on one word most of the
// time, and taking that word away from every verdict lost a sixth of what it catches on OLID.
bool Scanner::rests_on_a_mentioned_word(size_t m, size_t top, double p, double threshold) const {
    const size_t n = ngrams_.hashes().size();
    if (p >= 1.0 || n == 0) return false;
    // (names in code for abuse models only: a spam model's heaviest words are often in the links
    // and addresses that spam is made of)
    const bool abuse = e_.rules()[e_.model_rules()[m]].category.starts_with("abuse.");
    if (!in_quotes(p_->text, p_->len, model_words_[top].start, model_words_[top].end) &&
        !(abuse && in_code(p_->text, p_->len, model_words_[top].start, model_words_[top].end)))
        return false;
    // A word the abuse lists name ("idiots", "bitch") is theirs to judge, quoted or not: in real
    // comments, scare quotes around an insult still insult ("Progressive \"idiots\" are everywhere").
    // The lists leave everyday words ("stupid", "silly") out on purpose.
    const size_t from = p_->norm.orig_start(model_words_[top].start), to = p_->norm.orig_end(model_words_[top].end);
    for (const Raw &h : p_->raw)
        if (!h.allow && h.from < to && from < h.to && e_.rules()[h.rule].category.starts_with("abuse.")) return false;
    const ModelTable &t = e_.model_table();
    const uint64_t w = model_words_[top].hash;
    double removed = t.weight(w, m);
    std::vector<uint64_t> pairs;  // (distinct: the model counts each n-gram of a post once)
    for (size_t i = 0; i + 1 < model_words_.size(); ++i) {
        if (model_words_[i].hash != w && model_words_[i + 1].hash != w) continue;
        const uint64_t h = model_pair_hash(model_words_[i].hash, model_words_[i + 1].hash);
        if (std::find(pairs.begin(), pairs.end(), h) != pairs.end()) continue;
        pairs.push_back(h);
        removed += t.weight(h, m);
    }
    const double z = std::log(p / (1.0 - p)) - removed / std::sqrt(static_cast<double>(n));
    return 1.0 / (1.0 + std::exp(-z)) < threshold;
}

void Scanner::match_words() {
    PostState &p = *p_;
    p.word_hits.clear();
    p.next_word_hit = 0;
    // (a literal of rules for the other role, the commitment anchors of staff rules in a member's
    // post, is dropped here rather than by on_match: a number is such an anchor, and a post of
    // numbers held one per number)
    const Engine &e = e_;
    e_.word_matcher().scan(p.text, p.len, [&p, &e](uint32_t id, size_t end) {
        if (e.pattern(id).roles & p.role_bit) p.word_hits.emplace_back(id, static_cast<uint32_t>(end));
    }, &word_cache_);
}

void Scanner::match() {
    PostState &p = *p_;
    if (++scan_epoch_ == 0) {
        for (auto &x : seen_) x.epoch = 0;
        scan_epoch_ = 1;
    }
    hs_error_t rc = HS_SUCCESS;
    if (hs_database *main = e_.database(p.role_bit == kRoleStaff ? 1 : 0))
        rc = hs_scan(main, p.text, static_cast<unsigned>(p.len), 0, scratch_, on_main_match, this);
    if (rc != HS_SUCCESS) throw Error(kInternal, "hs_scan failed with code " + std::to_string(rc));
    word_hits_until(p.len);
}

void Scanner::confirm_windows() {
    PostState &p = *p_;
    const char *text = p.text;
    const size_t len = p.len;
    if (p.whole_text) {
        p.windows.clear();
        for (uint32_t g = 0; g < e_.group_count(); ++g)
            if (e_.group_database(g).exists()) p.windows.push_back({g, 0u, static_cast<uint32_t>(len)});
    }
    // Merge each group's overlapping windows and widen each to word boundaries (so that \b
    // means what it means in the whole post) ...
    std::sort(p.windows.begin(), p.windows.end());
    group_windows_.clear();
    for (size_t i = 0; i < p.windows.size(); ++i) {
        const uint32_t g = p.windows[i].group;
        size_t lo = p.windows[i].lo, hi = p.windows[i].hi;
        while (i + 1 < p.windows.size() && p.windows[i + 1].group == g && p.windows[i + 1].lo <= hi)
            hi = std::max<size_t>(hi, p.windows[++i].hi);
        // (an underscore too: a word character to Hyperscan's \b and \w, so that a window never
        // starts or ends between two of them, where the regex would see an edge the post has not)
        for (;;) {
            lo = word_start(text, len, lo);
            if (lo == 0 || text[lo - 1] != '_') break;
            --lo;
        }
        for (;;) {
            hi = word_end(text, len, hi);
            if (hi >= len || text[hi] != '_') break;
            ++hi;
        }
        while (lo > 0 && (static_cast<unsigned char>(text[lo]) & 0xC0) == 0x80) --lo;
        if (hi <= lo || !e_.group_database(g).exists()) continue;
        group_windows_.push_back({g, static_cast<uint32_t>(lo), static_cast<uint32_t>(hi)});
    }
    // ... then probe the windows of the groups that share a probe (Engine::probe_of) where they
    // meet, once: where the probe finds nothing, no window there can match; where it finds
    // something, each group's own windows there are scanned with start-of-match tracking.
    const size_t ngroups = e_.group_count();
    std::sort(group_windows_.begin(), group_windows_.end(), [&](const Window &a, const Window &b) {
        const uint32_t pa = e_.probe_of(a.group), pb = e_.probe_of(b.group);
        return pa != pb ? pa < pb : a.lo != b.lo ? a.lo < b.lo : a.group < b.group;
    });
    hs_error_t rc = HS_SUCCESS;
    for (size_t i = 0; i < group_windows_.size() && rc == HS_SUCCESS;) {
        const uint32_t pr = e_.probe_of(group_windows_[i].group);
        size_t lo = group_windows_[i].lo, hi = group_windows_[i].hi, j = i + 1;
        while (j < group_windows_.size() && e_.probe_of(group_windows_[j].group) == pr && group_windows_[j].lo <= hi)
            hi = std::max<size_t>(hi, group_windows_[j++].hi);
        // (ready() may move scratch_: called before the scan reads it)
        hs_database *probe = ready(e_.group_probe(pr), 1 + ngroups + pr);
        rc = hs_scan(probe, text + lo, static_cast<unsigned>(hi - lo), 0, scratch_, on_probe_match, this);
        if (rc == HS_SCAN_TERMINATED) {
            rc = HS_SUCCESS;
            for (size_t k = i; k < j && rc == HS_SUCCESS; ++k) {
                const Window &w = group_windows_[k];
                hs_database *group = ready(e_.group_database(w.group), 1 + w.group);
                win_off_ = w.lo;
                rc = hs_scan(group, text + w.lo, w.hi - w.lo, 0, scratch_, on_window_match, this);
            }
        }
        i = j;
    }
    if (rc != HS_SUCCESS) throw Error(kInternal, "hs_scan failed with code " + std::to_string(rc));
}

// Word lists once more over the skeleton, for the few posts that show evasion tricks.
void Scanner::match_skeleton() {
    if (!e_.skeleton_database().exists() ||
        !skel_.build(p_->norm, &e_.at_words(), &e_.join_grams(), &e_.skeleton_filter()) || !skel_.size())
        return;
    hs_database *skeleton = ready(e_.skeleton_database(), 0);
    const hs_error_t rc = hs_scan(skeleton, skel_.data(), static_cast<unsigned>(skel_.size()), 0, scratch_, on_skeleton_match, this);
    if (rc != HS_SUCCESS) throw Error(kInternal, "hs_scan failed with code " + std::to_string(rc));
}

void Scanner::score(std::string_view text, uint32_t flags, Verdict &v) {
    if (++epoch_ == 0) {
        std::fill(rule_epoch_.begin(), rule_epoch_.end(), 0);
        epoch_ = 1;
    }
    // Split allowlist spans from rule hits.
    allow_.clear();
    size_t k = 0;
    for (const Raw &r : p_->raw) {
        // (an entry allowed as written allows nothing where the text shows a trick: "ｓｌｕｔｔ"; accents
        // written apart from their letters are no trick: "slutanva\u0308ndare")
        if (r.allow) {
            const bool plain = !r.evasion || (r.evasion == kEvCombining && marks_compose(text, r.from, r.to));
            if (plain || !e_.allow_entries()[r.rule].as_written) allow_.emplace_back(r.from, r.to);
        } else {
            p_->raw[k++] = r;
        }
    }
    p_->raw.resize(k);
    auto rule_of = [&](const Raw &r) { return r.rule; };
    // Drop hits inside an allowlisted span.
    if (!allow_.empty()) {
        p_->raw.erase(std::remove_if(p_->raw.begin(), p_->raw.end(),
                                  [&](const Raw &r) {
                                      for (auto [a, b] : allow_)
                                          if (a <= r.core_from && r.core_to <= b) return true;
                                      return false;
                                  }),
                   p_->raw.end());
    }
    // Merge overlapping hits of the same rule.
    std::sort(p_->raw.begin(), p_->raw.end(), [&](const Raw &a, const Raw &b) {
        uint32_t ra = rule_of(a), rb = rule_of(b);
        return ra != rb ? ra < rb : a.from != b.from ? a.from < b.from : a.to > b.to;
    });
    k = 0;
    for (size_t i = 0; i < p_->raw.size(); ++i) {
        if (k && rule_of(p_->raw[k - 1]) == rule_of(p_->raw[i]) && p_->raw[i].from < p_->raw[k - 1].to) {
            p_->raw[k - 1].to = std::max(p_->raw[k - 1].to, p_->raw[i].to);
            p_->raw[k - 1].evasion |= p_->raw[i].evasion;
            // (the merged hit's core covers both: a hit that runs out of a quote is not quoted)
            p_->raw[k - 1].core_from = std::min(p_->raw[k - 1].core_from, p_->raw[i].core_from);
            p_->raw[k - 1].core_to = std::max(p_->raw[k - 1].core_to, p_->raw[i].core_to);
            continue;
        }
        p_->raw[k++] = p_->raw[i];
    }
    p_->raw.resize(k);
    std::sort(p_->raw.begin(), p_->raw.end(), [&](const Raw &a, const Raw &b) {
        return a.from != b.from ? a.from < b.from : a.to != b.to ? a.to > b.to : rule_of(a) < rule_of(b);
    });
    // An evasive spelling that several rules of one category match on the same span is one word:
    // a mask stands for any letter ("f*ck" is fuck, feck and fock to the skeleton), and a word does
    // not score as three. Only its highest-scoring rule counts there (the first of equals).
    k = 0;
    for (size_t i = 0; i < p_->raw.size();) {
        size_t j = i;
        while (j < p_->raw.size() && p_->raw[j].from == p_->raw[i].from && p_->raw[j].to == p_->raw[i].to) ++j;
        for (size_t a = i; a < j; ++a) {
            bool keep = true;
            if (p_->raw[a].evasion && j - i > 1) {
                const uint32_t cat = e_.rule_category(p_->raw[a].rule);
                const double sa = e_.rules()[p_->raw[a].rule].score;
                for (size_t b = i; b < j && keep; ++b) {
                    if (b == a || !p_->raw[b].evasion || e_.rule_category(p_->raw[b].rule) != cat) continue;
                    const double sb = e_.rules()[p_->raw[b].rule].score;
                    keep = sb < sa || (sb == sa && b > a);
                }
            }
            if (keep) p_->raw[k++] = p_->raw[a];
        }
        i = j;
    }
    p_->raw.resize(k);

    // Quoted text (core/quotes.hpp): a rule whose every hit lies in what the post quotes counts
    // for quoted_weight of its score, unless the post has fewer than two words of its own outside
    // its quotes (then the quote is what it says) or the rule is critical. Its hits are listed all
    // the same, marked quoted.
    quotes_.clear();
    unquoted_.clear();
    bool own_words = true;
    if (!p_->raw.empty()) own_words = quoted_spans(text, quotes_);
    auto in_quote = [&](const Raw &r) {  // (the spans are in order and apart: the last one starting at or before it)
        auto it = std::upper_bound(quotes_.begin(), quotes_.end(), r.core_from,
                                   [](size_t x, const std::pair<size_t, size_t> &q) { return x < q.first; });
        return it != quotes_.begin() && r.core_to <= std::prev(it)->second;
    };
    const bool discount = !quotes_.empty() && own_words && e_.quoted_weight() < 1.0;
    if (discount) {
        for (const Raw &r : p_->raw)
            if (!in_quote(r)) unquoted_.push_back(rule_of(r));
        unquoted_.insert(unquoted_.end(), p_->overflow_rules.begin(), p_->overflow_rules.end());
        std::sort(unquoted_.begin(), unquoted_.end());
    }

    // Scores: each distinct rule adds its score once to its category.
    touched_.clear();
    auto count_rule = [&](uint32_t rule) {
        if (rule_epoch_[rule] == epoch_) return;
        rule_epoch_[rule] = epoch_;
        uint32_t c = e_.rule_category(rule);
        if (cat_score_[c] == 0.0) touched_.push_back(c);
        double score = e_.rules()[rule].score;
        if (discount && e_.rules()[rule].severity < 4 && !std::binary_search(unquoted_.begin(), unquoted_.end(), rule))
            score *= e_.quoted_weight();
        cat_score_[c] += score;
        if (cat_score_[c] == 0.0) cat_score_[c] = 1e-300;  // zero-score rules still mark the category
    };
    const uint32_t max_hits = e_.options().max_hits;
    for (const Raw &r : p_->raw) {
        uint32_t rule = rule_of(r);
        count_rule(rule);
        if (v.hits.size() >= max_hits) {
            v.flags |= 0x2u;
            continue;
        }
        HitRecord h{rule, r.from, r.to, r.evasion, !quotes_.empty() && in_quote(r)};
        v.evasion |= h.evasion;
        v.hits.push_back(h);
    }
    for (uint32_t rule : p_->overflow_rules) count_rule(rule);
    if (p_->overflow) v.flags |= 0x2u;

    std::sort(touched_.begin(), touched_.end());
    int32_t action = kAllow;
    for (uint32_t c : touched_) {
        double score = cat_score_[c] < 1e-200 ? 0.0 : cat_score_[c];
        Action a = e_.categories()[c].action_for(score);
        v.categories.push_back({c, score, a});
        action = std::max<int32_t>(action, a);
        cat_score_[c] = 0.0;
    }
    v.action = action;
    v.invalid_utf8 = p_->norm.invalid_utf8();
    if (v.invalid_utf8) v.flags |= 0x1u;

    if (flags & 0x1u) {
        v.has_censored = true;
        mask_.assign(text.size(), 0);
        for (const auto &h : v.hits) std::fill(mask_.begin() + h.start, mask_.begin() + h.end, 1);
        v.censored.reserve(text.size());
        for (size_t i = 0; i < text.size(); ++i) {
            auto b = static_cast<unsigned char>(text[i]);
            // (a line break inside a hit stays: "s\r\nh\r\ni\r\nt" is one hit over four lines, and
            // starring its breaks would join the post's lines)
            if (!mask_[i] || b == '\n' || b == '\r') v.censored += static_cast<char>(b);
            else if ((b & 0xC0) != 0x80) v.censored += '*';
        }
    }
}

}  // namespace mf
