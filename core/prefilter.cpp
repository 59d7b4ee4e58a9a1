#include "prefilter.hpp"

#include <algorithm>
#include <optional>
#include <set>

namespace mf {

namespace {

thread_local int kMinScore = 4;
using Set = std::set<std::string>;
constexpr size_t kMaxExact = 256;  // largest set of exact strings tracked per node

// Words so common in posts that an atom made of them filters nothing.
bool common_word(const std::string &s) {
    static const Set words = {
        "the", "and", "you", "your", "you're", "for", "are", "was", "were", "will", "'ll", "with", "this",
        "that", "have", "has", "had", "not", "but", "can", "all", "any", "our", "out", "his", "her",
        "she", "him", "they", "them", "their", "there", "then", "than", "what", "when", "who", "how",
        "why", "from", "just", "get", "got", "one", "now", "new", "its", "it's", "i'm", "i'll", "we'll",
        "don't", "can't", "about", "would", "should", "could", "been", "being", "more", "some", "like",
        "into", "also", "only", "very", "here", "over", "after", "before", "going", "want", "know",
        "make", "made", "see", "way", "day", "time", "back", "well", "good", "too", "yes", "let", "may",
        "which", "these", "those", "other", "even", "much", "many", "most", "such", "own", "same",
        "off", "per", "via", "really", "need", "please", "thanks", "thank", "does", "did", "doing",
        "use", "using", "used", "say", "said", "able", "still", "each", "every", "because", "while",
        "where", "again", "take", "give", "look", "think", "work", "let's", "we're", "they're", "i've",
        "we've", "it'll", "going to", "i will", "we will", "you are", "you will",
        "me", "on", "at", "us", "is", "it", "in", "to", "of", "or", "an", "as", "be", "by", "do", "go",
        "he", "if", "my", "no", "so", "up", "we", "am", "ok", "oh", "hi", "ya", "ur", "u",
    };
    return words.count(s) != 0;
}

std::string strip_markers(const std::string &a) {
    std::string s;
    for (char c : a)
        if (c != kBoundaryMarker) s += c;
    return s;
}

// Score of an atom set: the worst atom decides. Below 3 the set is useless as a filter. An atom
// that must stand at a word boundary filters much better than a bare substring.
int score(const Set &s) {
    if (s.empty()) return -1;
    int worst = 1 << 20;
    for (const auto &a : s) {
        if (a.empty()) return -1;  // an empty atom is in every text
        std::string t = strip_markers(a);
        // A word boundary at either end counts like one more letter: "^gbp" filters like "gbps".
        int q = static_cast<int>(t.size()) + (a.front() == kBoundaryMarker) + (a.back() == kBoundaryMarker);
        // Two letters only as a whole word ("ho", not "me" or "on", which are everywhere).
        if (common_word(t) || (t.size() < 3 && q < 4)) q = 1;
        if (t.find('@') != std::string::npos) q = std::max(q, 4);  // e-mail addresses, handles
        worst = std::min(worst, q);
    }
    return worst;
}

struct Info {
    std::optional<Set> exact;  // every string the node can match (when small and known)
    std::optional<Set> req;    // one of these occurs in every match
    std::vector<Set> all;      // every one of these sets has an atom in every match (AND of ORs)
    bool nonword = false;      // matches one or more characters that are never part of a word (\s+)
    bool ends_nonword = false; // every non-empty match ends with a character never part of a word
    // Strings every match ends with, when the node is inexact ("check\s+out\s+my\s+thing" ends with
    // "thing"): a literal or \b after the node extends them ("thing" + \b: a whole word). An exact
    // node's tail is its exact set (tail_of).
    std::optional<Set> tail;
    bool may_empty = false;    // can match the empty string
};

std::optional<Set> best(const std::optional<Set> &a, const std::optional<Set> &b) {
    if (!a || score(*a) < kMinScore) return b && score(*b) >= kMinScore ? b : std::nullopt;
    if (!b || score(*b) < kMinScore) return a;
    int sa = score(*a), sb = score(*b);
    if (sa != sb) return sa > sb ? a : b;
    return a->size() <= b->size() ? a : b;
}

// The atoms a node guarantees: its exact strings if known, else its required set.
std::optional<Set> atoms_of(const Info &i) { return best(i.exact, i.req); }

// The strings every match of a node ends with, when known.
const std::optional<Set> &tail_of(const Info &i) { return i.exact ? i.exact : i.tail; }

struct Parser {
    std::string_view re;
    size_t pos = 0;
    bool failed = false;

    bool done() const { return pos >= re.size(); }
    char peek() const { return re[pos]; }

    static Info any() { return {}; }
    static Info exact_of(Set e) {
        Info i;
        i.exact = std::move(e);
        return i;
    }
    static Info literal(std::string s) {
        for (char &c : s)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        return exact_of(Set{s});
    }

    bool lead_boundary_ = false;  // the group being parsed directly follows \b

    // lead: the alternation directly follows \b, so each alternative starts at a word boundary.
    Info parse_alt(bool lead = false) {
        std::vector<Info> alts{parse_seq(lead)};
        while (!done() && peek() == '|') {
            ++pos;
            alts.push_back(parse_seq(lead));
        }
        if (alts.size() == 1) return alts[0];
        Info out;
        Set exact, req, tail;
        bool exact_ok = true, req_ok = true, tail_ok = true;
        out.ends_nonword = true;
        for (const auto &a : alts) {
            if (const auto &t = tail_of(a); t && tail_ok) tail.insert(t->begin(), t->end());
            else tail_ok = false;
            out.ends_nonword &= a.ends_nonword || a.nonword;
            out.may_empty |= a.may_empty;
            if (a.exact && exact_ok) exact.insert(a.exact->begin(), a.exact->end());
            else exact_ok = false;
            auto at = atoms_of(a);
            if (!at) {
                // An alternative with exact strings too short to filter still contributes them,
                // so that a parent sequence can extend them ("(we|i)" + "'ll").
                req_ok = false;
            } else if (req_ok) {
                req.insert(at->begin(), at->end());
            }
        }
        if (exact_ok && exact.size() <= kMaxExact) out.exact = exact;
        else if (tail_ok && tail.size() <= kMaxExact) out.tail = tail;
        if (req_ok) {
            out.req = req;
            if (score(req) >= kMinScore) out.all.push_back(req);
        }
        return out;
    }

    Info parse_seq(bool lead) {
        std::vector<Info> items;
        bool at_boundary = lead;  // the next item starts at a word boundary
        while (!done() && peek() != '|' && peek() != ')') {
            lead_boundary_ = at_boundary;
            Info a = parse_atom();
            if (failed) return any();
            a = parse_quant(std::move(a));
            const bool is_boundary = a.exact && a.exact->size() == 1 && *a.exact->begin() == std::string(1, kBoundaryMarker);
            at_boundary = is_boundary || a.nonword || (a.may_empty ? at_boundary && a.ends_nonword : a.ends_nonword);
            items.push_back(std::move(a));
        }
        // Runs of exact items multiply into longer exact strings ("ref" "und" -> "refund"); each
        // run, and each inexact item's own atoms, is a candidate; the best candidate wins.
        std::optional<Set> run = Set{lead ? std::string(1, kBoundaryMarker) : std::string()}, req;
        std::vector<Set> all;
        // Whether what precedes the current item always ends with a non-word character ("\s+",
        // or "(\s+|,\s+)" then an optional group ending the same way): the item then starts at
        // a word boundary, which makes its short exact strings usable ("^ho^" in "...\s+(ho|hoe)\b").
        bool prev_ends = lead;
        bool seq_may_empty = true;
        auto keep = [&](const std::optional<Set> &c) {
            req = best(req, c);
            if (c && score(*c) >= kMinScore) all.push_back(*c);
        };
        bool whole_exact = true;
        bool run_ends = false;  // every match of the items so far ends with a string of run (set by each item)
        const std::string marker(1, kBoundaryMarker);
        for (const auto &it : items) {
            const bool is_boundary = it.exact && it.exact->size() == 1 && *it.exact->begin() == marker;
            prev_ends = it.nonword || is_boundary || (it.may_empty ? prev_ends && it.ends_nonword : it.ends_nonword);
            seq_may_empty &= it.may_empty;
            if (it.nonword) {
                // "gbp" in "\s+gbp\s" stands between non-word characters: at word boundaries.
                Set next;
                for (const auto &x : *run) next.insert(x + marker);
                keep(next);
                run = Set{marker};
                run_ends = false;
                whole_exact = false;
                continue;
            }
            if (it.exact) {
                Set next;
                for (const auto &x : *run)
                    for (const auto &y : *it.exact) next.insert(x + y);
                if (next.size() <= kMaxExact) {
                    run = std::move(next);
                    run_ends = true;
                    continue;
                }
                keep(run);
                run = it.exact;
                run_ends = true;
                whole_exact = false;
                continue;
            }
            keep(run);
            if (it.all.empty()) keep(it.req);
            for (const auto &c : it.all) keep(c);
            // An inexact item that ends with known strings: what follows extends them.
            if (it.tail && !it.may_empty) {
                run = it.tail;
                run_ends = true;
            } else {
                run = Set{prev_ends ? marker : std::string()};
                run_ends = false;
            }
            whole_exact = false;
        }
        keep(run);
        Info out;
        if (!whole_exact && run_ends && !items.empty() && !items.back().may_empty) out.tail = run;
        out.ends_nonword = prev_ends && !items.empty();
        out.may_empty = seq_may_empty;
        if (whole_exact) out.exact = run;
        out.req = req;
        out.all = std::move(all);
        return out;
    }

    Info parse_quant(Info a) {
        if (done()) return a;
        char c = peek();
        int lo = -1;
        bool bounded_one = false;
        if (c == '?') {
            ++pos;
            lo = 0;
        } else if (c == '*') {
            ++pos;
            lo = 0;
        } else if (c == '+') {
            ++pos;
            lo = 1;
        } else if (c == '{') {
            size_t close = re.find('}', pos);
            if (close == std::string_view::npos) return a;  // a literal '{'
            std::string_view body = re.substr(pos + 1, close - pos - 1);
            if (body.empty() || !std::isdigit(static_cast<unsigned char>(body[0]))) return a;
            lo = std::atoi(std::string(body).c_str());
            bounded_one = body == "1" || body == "1,1";
            pos = close + 1;
        } else {
            return a;
        }
        if (!done() && (peek() == '?' || peek() == '+')) ++pos;  // lazy / possessive
        if (bounded_one) return a;
        Info out;
        out.nonword = a.nonword && lo >= 1;
        out.ends_nonword = a.ends_nonword || a.nonword;
        out.may_empty = lo == 0 || a.may_empty;
        if (c == '?' && a.exact && a.exact->size() < kMaxExact) {
            Set e = *a.exact;
            e.insert("");
            out.exact = e;
        }
        if (lo >= 1) {
            out.tail = tail_of(a);  // the last repetition ends the match
            out.req = atoms_of(a);
            out.all = a.all;
            if (a.exact && score(*a.exact) >= kMinScore) out.all.push_back(*a.exact);
        }
        return out;
    }

    Info parse_class() {
        // [...]: a single-character class of one letter (or its two cases) is exact; others are not.
        size_t start = ++pos;
        if (!done() && peek() == '^') ++pos;
        if (!done() && peek() == ']') ++pos;
        while (!done() && peek() != ']') {
            if (peek() == '\\') ++pos;
            if (!done() && peek() == '[' && pos + 1 < re.size() && re[pos + 1] == ':') {
                size_t e = re.find(":]", pos);
                if (e == std::string_view::npos) {
                    failed = true;
                    return any();
                }
                pos = e + 2;
                continue;
            }
            ++pos;
        }
        if (done()) {
            failed = true;
            return any();
        }
        std::string_view body = re.substr(start, pos - start);
        ++pos;
        // [\s,.-] and the like: only characters that never belong to a word (not a range such as
        // [ -~] or [!-@], whose ends are punctuation and whose middle holds letters and digits).
        bool nonword = !body.empty() && body[0] != '^';
        for (size_t k = 0; k < body.size(); ++k) {
            char ch = body[k];
            if (ch == '\\' && k + 1 < body.size()) {
                char e = body[++k];
                if (e != 's' && std::isalnum(static_cast<unsigned char>(e))) nonword = false;
                if (k + 2 < body.size() && body[k + 1] == '-') nonword = false;  // [\x20-~]
            } else if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || static_cast<unsigned char>(ch) >= 0x80) {
                nonword = false;
            } else if (ch == '-' && k > 0 && k + 1 < body.size()) {
                nonword = false;
            }
        }
        if (nonword) {
            Info i;
            i.nonword = true;
            return i;
        }
        std::set<char> chars;
        for (char ch : body) {
            if (!std::isalnum(static_cast<unsigned char>(ch))) return any();
            chars.insert(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
        }
        if (chars.size() == 1) return literal(std::string(1, *chars.begin()));
        return any();
    }

    Info parse_atom() {
        char c = peek();
        if (c == '(') {
            const bool lead = lead_boundary_;
            ++pos;
            if (!done() && peek() == '*') {  // a verb, (*UCP) or (*UTF8): give up on atoms
                failed = true;
                return any();
            }
            if (!done() && peek() == '?') {
                ++pos;
                if (done()) {
                    failed = true;
                    return any();
                }
                char k = peek();
                if (k == ':') ++pos;
                else if (k == '<' || k == 'P' || k == '\'') {  // named group
                    size_t e = re.find_first_of(">'", pos + 1);
                    if (e == std::string_view::npos) {
                        failed = true;
                        return any();
                    }
                    pos = e + 1;
                } else {
                    // Flags like (?i) or (?i:...), comments, lookaround: give up on atoms.
                    failed = true;
                    return any();
                }
            }
            Info inner = parse_alt(lead);
            if (done() || peek() != ')') {
                failed = true;
                return any();
            }
            ++pos;
            return inner;
        }
        if (c == '[') return parse_class();
        if (c == '\\') {
            ++pos;
            if (done()) {
                failed = true;
                return any();
            }
            char e = re[pos++];
            switch (e) {
            case 'c':  // \cX, a control character: X is part of the escape
                if (!done()) ++pos;
                return any();
            case '0':
            case '1':
            case '2':
            case '3':
            case '4':
            case '5':
            case '6':
            case '7':
            case '8':
            case '9':  // an octal escape (\012) or a back reference: its digits are part of it
                while (!done() && std::isdigit(static_cast<unsigned char>(peek()))) ++pos;
                return any();
            case 'b':
                return exact_of(Set{std::string(1, kBoundaryMarker)});
            case 'B':
            case 'A':
            case 'z':
            case 'Z':
            case 'G':
                return exact_of(Set{""});  // zero-width
            case 'x': {
                if (pos < re.size() && re[pos] == '{') {
                    failed = true;
                    return any();
                }
                if (pos + 2 > re.size()) {
                    failed = true;
                    return any();
                }
                int v = std::stoi(std::string(re.substr(pos, 2)), nullptr, 16);
                pos += 2;
                if (std::isalnum(v) || v == ' ' || v == '\'' || v == '-' || v == '.')
                    return literal(std::string(1, static_cast<char>(v)));
                return any();
            }
            case 'Q':
            case 'E':
            case 'p':
            case 'P':
            case 'N':
                failed = true;
                return any();
            default:
                if (e == 's' || e == 'W') {  // never part of a word
                    Info i;
                    i.nonword = true;
                    return i;
                }
                if (std::isalnum(static_cast<unsigned char>(e))) return any();  // \w \d, ...
                return literal(std::string(1, e));                             // escaped punctuation
            }
        }
        if (c == '.') {
            ++pos;
            return any();
        }
        if (c == '^' || c == '$') {
            ++pos;
            return exact_of(Set{""});
        }
        ++pos;
        return literal(std::string(1, c));
    }
};

}  // namespace

namespace {

std::vector<std::string> finish(const Set &atoms) {
    // Keep a marker only at either end of an atom; one in the middle says nothing useful.
    Set out;
    for (const auto &a : atoms) {
        std::string t = strip_markers(a);
        if (!a.empty() && a.front() == kBoundaryMarker) t.insert(t.begin(), kBoundaryMarker);
        if (!a.empty() && a.back() == kBoundaryMarker) t += kBoundaryMarker;
        out.insert(t);
    }
    return std::vector<std::string>(out.begin(), out.end());
}

}  // namespace

namespace {
// Whether every atom of `by` holds an atom of s: where one of by's stands, one of s's does.
bool implied_by(const Set &by, const Set &s) {
    for (const auto &x : by) {
        const std::string xs = strip_markers(x);
        bool holds = false;
        for (const auto &y : s) holds = holds || xs.find(strip_markers(y)) != std::string::npos;
        if (!holds) return false;
    }
    return true;
}
}  // namespace

std::vector<std::vector<std::string>> gate_atom_sets(std::string_view regex,
                                                     const std::vector<std::vector<std::string>> &triggers,
                                                     size_t max_sets, size_t max_atoms) {
    if (triggers.empty()) return {};
    kMinScore = 1;
    Parser p{regex};
    Info top = p.parse_alt();
    if (p.failed || !p.done()) return {};
    std::vector<Set> all = top.all;
    if (auto a = atoms_of(top); a && all.empty()) all.push_back(*a);
    std::vector<Set> trig;
    for (const auto &t : triggers) {
        Set x;
        for (const auto &a : t) x.insert(a);
        trig.push_back(std::move(x));
    }
    // Words in nearly every sentence, whose look costs more than it saves, and a lone letter that
    // need only start a word.
    static const Set everywhere = {"the", "a", "an", "to", "of", "in", "on", "and", "is", "it", "for", "that",
                                   "at", "be", "as", "by", "with", "this", "are", "was", "have", "has", "not",
                                   "but", "from", "so", "do", "he", "they", "his", "her", "we're", "i'm", "it's"};
    auto usable = [&](const Set &s) {
        if (s.empty() || s.size() > max_atoms || score(s) < 1) return false;
        for (const auto &a : s) {
            const std::string t = strip_markers(a);
            if (everywhere.count(t)) return false;
            if (t.size() == 1 && !(a.front() == kBoundaryMarker && a.back() == kBoundaryMarker)) return false;
            if (t.empty() || t.size() > 16) return false;
            for (unsigned char c : t)
                if (c >= 0x80 || c < 0x20) return false;
        }
        for (const auto &t : trig)
            if (t == s || implied_by(t, s)) return false;
        return true;
    };
    all.erase(std::remove_if(all.begin(), all.end(), [&](const Set &s) { return !usable(s); }), all.end());
    // the rarest first, by the measure triggers are chosen by; fewer atoms before more
    std::stable_sort(all.begin(), all.end(), [](const Set &a, const Set &b) {
        return score(a) != score(b) ? score(a) > score(b) : a.size() < b.size();
    });
    std::vector<Set> chosen;
    for (const Set &s : all) {
        if (chosen.size() >= max_sets) break;
        bool redundant = false;
        for (const Set &c : chosen) redundant = redundant || c == s || implied_by(c, s);
        if (!redundant) chosen.push_back(s);
    }
    std::vector<std::vector<std::string>> out;
    for (const Set &s : chosen) out.push_back(finish(s));
    return out;
}

std::vector<std::vector<std::string>> required_atom_sets(std::string_view regex, int min_score) {
    kMinScore = min_score;
    Parser p{regex};
    Info top = p.parse_alt();
    if (p.failed || !p.done()) return {};
    std::vector<Set> all = top.all;
    if (auto a = atoms_of(top); a && all.empty()) all.push_back(*a);
    all.erase(std::remove_if(all.begin(), all.end(), [](const Set &s) { return score(s) < kMinScore; }), all.end());
    if (all.empty()) return {};
    std::stable_sort(all.begin(), all.end(), [](const Set &a, const Set &b) {
        return score(a) != score(b) ? score(a) > score(b) : a.size() < b.size();
    });
    std::vector<std::vector<std::string>> out{finish(all[0])};
    // Two sets that must both be near fire far more rarely on ordinary text than either alone: on
    // real prose, an atom occurrence costs the main scan about 1/50 of a window scan, so the second
    // set pays even when its atoms are common. Not a set that the first implies (each of the first's
    // atoms holds one of its atoms: "thing" beside "thing" + \b), which every occurrence of the first
    // satisfies too.
    for (size_t k = 1; k < all.size(); ++k)
        if (!implied_by(all[0], all[k])) {
            out.push_back(finish(all[k]));
            break;
        }
    return out;
}

}  // namespace mf

namespace mf {

namespace {

// Positions of the '|' at depth 0 of re, or of the group [open, close] when the whole regex is
// prefix + ( ... ) + suffix with a single depth-0 group. Returns false on a syntax it doesn't follow.
bool top_level(std::string_view re, std::vector<size_t> &bars, std::vector<std::pair<size_t, size_t>> &groups) {
    int depth = 0;
    size_t open = 0;
    for (size_t i = 0; i < re.size(); ++i) {
        char c = re[i];
        if (c == '\\') {
            ++i;
            continue;
        }
        if (c == '[') {  // skip a class, with ']' first and escapes inside
            size_t j = i + 1;
            if (j < re.size() && re[j] == '^') ++j;
            if (j < re.size() && re[j] == ']') ++j;
            while (j < re.size() && re[j] != ']') j += re[j] == '\\' ? 2 : 1;
            if (j >= re.size()) return false;
            i = j;
            continue;
        }
        if (c == '(') {
            if (depth++ == 0) open = i;
        } else if (c == ')') {
            if (--depth < 0) return false;
            if (depth == 0) groups.emplace_back(open, i);
        } else if (c == '|' && depth == 0) {
            bars.push_back(i);
        }
    }
    return depth == 0;
}

void split_into(std::string_view re, int budget, std::vector<std::string> &out) {
    std::vector<size_t> bars;
    std::vector<std::pair<size_t, size_t>> groups;
    if (budget > 0 && top_level(re, bars, groups)) {
        if (!bars.empty()) {
            size_t from = 0;
            bars.push_back(re.size());
            for (size_t b : bars) {
                split_into(re.substr(from, b - from), budget - 1, out);
                from = b + 1;
            }
            return;
        }
        if (groups.size() == 1) {
            auto [open, close] = groups[0];
            std::string_view body = re.substr(open + 1, close - open - 1);
            bool plain = !(body.size() && body[0] == '?' && !(body.size() > 1 && body[1] == ':'));
            bool quantified = close + 1 < re.size() && std::string_view("?*+{").find(re[close + 1]) != std::string_view::npos;
            if (body.size() > 1 && body[0] == '?' && body[1] == ':') body.remove_prefix(2);
            std::vector<size_t> inner_bars;
            std::vector<std::pair<size_t, size_t>> inner_groups;
            if (plain && !quantified && top_level(body, inner_bars, inner_groups) && !inner_bars.empty()) {
                std::string_view prefix = re.substr(0, open), suffix = re.substr(close + 1);
                size_t from = 0;
                inner_bars.push_back(body.size());
                for (size_t b : inner_bars) {
                    std::string alt = std::string(prefix) + "(?:" + std::string(body.substr(from, b - from)) + ")" +
                                      std::string(suffix);
                    split_into(alt, budget - 1, out);
                    from = b + 1;
                }
                return;
            }
        }
    }
    out.emplace_back(re);
}

}  // namespace

std::vector<std::string> split_alternatives(std::string_view regex) {
    std::vector<std::string> out;
    split_into(regex, 3, out);
    // Up to 128 alternatives: a rule of 45 alternatives (self-promotion) left whole had one atom set of
    // 60 words, "people" and "help" among them, and its regex ran around each; split, every alternative
    // waits for two atoms of its own (staff posts of real prose 1-2% faster to scan). Past 128, one
    // database pattern instead of hundreds.
    if (out.size() > 128 || std::any_of(out.begin(), out.end(), [](const std::string &s) { return s.empty(); }))
        return {std::string(regex)};
    return out;
}

}  // namespace mf
