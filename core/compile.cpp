// The compiler: rule packs (core/rules.hpp) -> an Engine, the immutable tables and Hyperscan
// databases that every scan reads. Each word, phrase and regex alternative becomes one Pattern: a
// literal in the main database, or a regex in a group database with its triggers (prefilter atoms,
// core/prefilter.hpp, or the rule's own trigger) in the main database.
#include "engine.hpp"

#include <hs/hs.h>
#define XXH_INLINE_ALL  // header-only: no runtime dependency on libxxhash
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include "prefilter.hpp"
#include "scanner.hpp"
#include "text.hpp"

namespace mf {

namespace {

constexpr unsigned kPatternFlags = HS_FLAG_CASELESS | HS_FLAG_SOM_LEFTMOST | HS_FLAG_UTF8;
constexpr unsigned kLiteralFlags = HS_FLAG_CASELESS | HS_FLAG_UTF8;
constexpr unsigned kTriggerFlags = HS_FLAG_CASELESS;
// Words whose skeleton is at most this long and shorter than the word (a run folded) get
// Pattern::min_chars: the two-letter skeletons that ordinary tokens reach with one trick ("A5",
// "4s", "@S" for "as", which is "ass"). Three-letter ones ("jiz" of "jizz") keep matching "j1z".
constexpr size_t kMinCharsSkeleton = 2;

// Length in bytes of the text an escaped literal expression matches (each \xHH is one byte).
size_t literal_length(std::string_view e) {
    size_t n = 0;
    for (size_t i = 0; i < e.size(); ++n) i += (e[i] == '\\' && i + 1 < e.size() && e[i + 1] == 'x') ? 4 : 1;
    return n;
}

// The regex with every "\\s+" read as "\\s" and every "\\s*" as "\\s?" (outside classes): its longest
// match is how far a match of the regex reaches when each run of white space counts one byte
// (Pattern::reach). Real text has one space between words, and "\\s+" alone makes a regex's
// longest match unbounded.
std::string one_space(std::string_view e) {
    // Quoted text (\Q...\E), a control character (\c\ is one), and UCP's wider \s are read as
    // they are: the regex keeps its own longest match.
    if (e.find("\\Q") != std::string_view::npos || e.find("\\c") != std::string_view::npos ||
        e.find("(*UCP") != std::string_view::npos)
        return std::string(e);
    std::string out;
    bool in_class = false;
    for (size_t i = 0; i < e.size(); ++i) {
        const char c = e[i];
        if (c == '\\' && i + 1 < e.size()) {
            out += c;
            out += e[++i];
            if (!in_class && e[i] == 's' && i + 1 < e.size() && (e[i + 1] == '+' || e[i + 1] == '*')) {
                if (e[++i] == '*') out += '?';
            }
            continue;
        }
        if (in_class) {
            in_class = c != ']';
        } else if (c == '[') {
            in_class = true;
            out += c;
            // a ']' first in a class (after an optional '^') is a member, not its end
            if (i + 1 < e.size() && e[i + 1] == '^') out += e[++i];
            if (i + 1 < e.size() && e[i + 1] == ']') out += e[++i];
            continue;
        }
        out += c;
    }
    return out;
}

// The longest match of a regex under `flags`, in bytes, at most kMaxWindow (also when it is unbounded,
// or when the regex does not compile: its error is reported where it is compiled).
uint32_t longest_match(const std::string &e, unsigned flags) {
    hs_expr_info_t *info = nullptr;
    hs_compile_error_t *err = nullptr;
    uint32_t w = kMaxWindow;
    if (hs_expression_info(e.c_str(), flags, &info, &err) == HS_SUCCESS && info) {
        if (info->max_width < kMaxWindow) w = info->max_width;
        free(info);
    } else {
        hs_free_compile_error(err);
    }
    return w;
}

// A phrase of short words only ("f off", "shut your face": no word of 5 bytes or more) as one literal,
// its words joined by a single space; nullopt for any other expression. The general form of a phrase
// is a regex run around a word it needs (core/prefilter.hpp), and every word of such a phrase is all
// over ordinary prose ("you", "this", "off"): as a literal of the main scan it costs next to nothing.
// What it gives up: the same words split by a line break or by two spaces.
std::optional<std::string> short_phrase_literal(std::string_view e) {
    static constexpr std::string_view kSpace = "\\s+";
    if (e.find(kSpace) == std::string_view::npos) return std::nullopt;
    std::string out;
    for (size_t from = 0;;) {
        const size_t at = e.find(kSpace, from);
        const std::string_view word = e.substr(from, at == std::string_view::npos ? e.size() - from : at - from);
        if (literal_length(word) > 4) return std::nullopt;
        out += word;
        if (at == std::string_view::npos) return out;
        out += "\\x20";
        from = at + kSpace.size();
    }
}

std::string hs_error_text(hs_compile_error_t *err) {
    std::string m = err && err->message ? err->message : "unknown Hyperscan error";
    hs_free_compile_error(err);
    // Hyperscan's advice names a compile flag that a pack cannot set: say what to change instead
    if (m.starts_with("Pattern matches empty buffer"))
        m = "it can match the empty string (as 'a?' or 'x*' can): a pattern must match at least one character";
    return m;
}

}  // namespace

Engine::~Engine() {
    for (hs_database *db : main_dbs_) hs_free_database(db);
}

void Engine::build_tables(const EngineOptions &opt) {
    opt_ = opt;
    // (the options override the packs' thresholds for this engine only: rs_.policy stays as the
    // packs give it, since a serialized database carries it to engines loaded with other options)
    Policy pol = rs_.policy;
    if (opt.flag >= 0) pol.flag = opt.flag;
    if (opt.hold >= 0) pol.hold = opt.hold;
    if (opt.reject >= 0) pol.reject = opt.reject;
    // the rule policy.toml's [policy] keeps (core/rules.cpp), for the thresholds the options give
    if (const std::string m = threshold_order_mistake(pol); !m.empty()) throw Error(kInvalidArg, m + ", after the options");
    std::map<std::string, uint32_t> index;
    rule_cat_.clear();
    cats_.clear();
    for (const auto &r : rs_.rules) {
        auto [it, fresh] = index.emplace(r.category, static_cast<uint32_t>(cats_.size()));
        if (fresh) {
            CategoryInfo ci{r.category, "", pol.flag, pol.hold, pol.reject};
            if (const CategoryPolicy *bp = category_policy(pol, r.category)) {
                ci.route = bp->route;
                if (bp->flag >= 0) ci.flag = bp->flag;
                if (bp->hold >= 0) ci.hold = bp->hold;
                if (bp->reject >= 0) ci.reject = bp->reject;
            }
            cats_.push_back(std::move(ci));
        }
        rule_cat_.push_back(it->second);
    }
    model_rules_.clear();
    for (uint32_t i = 0; i < rs_.rules.size(); ++i)
        if (rs_.rules[i].is_model) model_rules_.push_back(i);
    commits_.clear();
    anchored_ = PhraseSet();  // (the sets refer to the phrases that phrase_words_ keeps)
    phrase_words_ = PhraseWords();
    // the [words] lists the commitment stage reads by name
    auto read_list = [&](const char *name, void (PhraseWords::*add)(std::string_view)) {
        if (auto j = rs_.words.find(name); j != rs_.words.end())
            for (const std::string &w : j->second.words) (phrase_words_.*add)(w);
    };
    read_list(PhraseWords::kJoinList, &PhraseWords::add_join);
    read_list(PhraseWords::kCheckingList, &PhraseWords::add_checking);
    read_list(PhraseWords::kConditionList, &PhraseWords::add_condition);
    read_list(PhraseWords::kNegationList, &PhraseWords::add_negation);
    rule_commit_.assign(rs_.rules.size(), -1);
    PhraseSetCache sets;
    for (size_t i = 0; i < rs_.rules.size(); ++i)
        if (rs_.rules[i].is_commitment) {
            rule_commit_[i] = static_cast<int32_t>(commits_.size());
            commits_.push_back(build_commitment(rs_.rules[i], phrase_words_, nullptr, &sets));
        }
    commit_start_.assign(phrase_words_.size(), false);
    std::fill(std::begin(commit_lengths_), std::end(commit_lengths_), 0u);
    std::vector<std::vector<uint32_t>> start_ids(commits_.size());  // commit_starts' set bits, for the anchors below
    for (size_t c = 0; c < commits_.size(); ++c) {
        CommitmentMatcher &m = commits_[c];
        m.commit_starts.assign(phrase_words_.size(), false);
        for (const std::string &w : m.commit->first_tokens())
            if (!w.empty()) {
                const uint32_t id = phrase_words_.find(w);
                start_ids[c].push_back(id);
                m.commit_starts[id] = true;
                commit_start_[id] = true;
                commit_lengths_[static_cast<unsigned char>(w[0])] |= 1u << std::min<size_t>(w.size(), 31);
            }
    }
    std::map<std::string, AnchorWord> words;
    what_always_.assign(rs_.rules.size(), false);
    for (size_t i = 0; i < rs_.rules.size(); ++i) {
        if (rule_commit_[i] < 0) continue;
        const CommitmentMatcher &m = commits_[rule_commit_[i]];
        // A rule is found by its deliverables (rarer words than "will" or "can"), or by its commit
        // words when a deliverable is only wildcards ("*") or any number ("#": "the expected date is #").
        for (uint32_t p = 0; p < m.what->size(); ++p) {
            const auto [w, at] = m.what->anchor_point(p);
            if (!m.what->exception(p) && (w.empty() || (m.what->length(p) == 1 && w == "#"))) what_always_[i] = true;
        }
        if (!what_always_[i])
            for (const auto &[w, at] : m.what->anchor_points())
                if (words[w].what_rules.empty() || words[w].what_rules.back() != i)
                    words[w].what_rules.push_back(static_cast<uint32_t>(i));
        if (what_always_[i])
            for (const auto &[w, at] : m.commit->anchor_points())
                if (!w.empty()) words[w].commit_rules.emplace_back(static_cast<uint32_t>(i), at);
    }
    // The phrases that anchor words stand for: the deliverables of the rules found by them, and the
    // commit phrases of the rules found by those. (Every word of these phrases is numbered already:
    // the rules' own sets hold them. A phrase of wildcards only has no anchor word; a word list that
    // several rules name gives its phrases once.)
    anchored_ = PhraseSet();
    std::unordered_set<std::string_view> seen;  // (membership only)
    auto add = [&](const std::string &w) {
        if (!w.empty() && w[0] != '!' && seen.insert(w).second) anchored_.add(w, phrase_words_);
    };
    for (size_t i = 0; i < rs_.rules.size(); ++i)
        if (rs_.rules[i].is_commitment)
            for (const std::string &w : what_always_[i] ? rs_.rules[i].commitment.commit : rs_.rules[i].commitment.what)
                add(w);
    for (uint32_t p = 0; p < anchored_.size(); ++p) {
        auto [w, at] = anchored_.anchor_point(p);
        if (auto it = words.find(w); !w.empty() && it != words.end()) {
            AnchorWord &a = it->second;
            a.phrases.emplace_back(p, at);
            a.back = std::max<uint32_t>(a.back, at);
            a.ahead = std::max<uint32_t>(a.ahead, static_cast<uint32_t>(anchored_.length(p)) - at - 1);
        }
    }
    // How far back from a deliverable's anchor word its commit phrase may start (CommitmentMatcher::lead).
    for (auto &m : commits_) {
        size_t commit_len = 0, place = 0;
        for (uint32_t p = 0; p < m.commit->size(); ++p) commit_len = std::max(commit_len, m.commit->length(p));
        for (uint32_t p = 0; p < m.what->size(); ++p) place = std::max<size_t>(place, m.what->anchor_point(p).second);
        m.lead = static_cast<uint32_t>(std::max<size_t>(8, commit_len + place));
        m.lead_exact = static_cast<uint32_t>(commit_len + place);
    }
    anchors_.clear();
    for (auto &[w, a] : words) {
        a.word = w;
        // (a word that is a phrase by itself, "refund", is one wherever it stands)
        a.needs_cover = !a.phrases.empty();
        for (auto [p, at] : a.phrases) a.needs_cover &= anchored_.length(p) > 1;
        a.neighbours.clear();
        a.quick = a.needs_cover;
        for (auto [p, at] : a.phrases) {
            const std::vector<std::string> &pw = anchored_.words(p);
            AnchorWord::Neighbours nb;
            auto side = [&](size_t k, AnchorWord::Neighbours::Kind &kind, std::string &word) {
                if (k >= pw.size()) return;
                if (pw[k] == "#" || pw[k] == "*") {
                    kind = pw[k] == "#" ? AnchorWord::Neighbours::kNumber : AnchorWord::Neighbours::kAny;
                } else {
                    kind = AnchorWord::Neighbours::kWord;
                    word = pw[k];
                }
            };
            if (at > 0) side(at - 1, nb.prev, nb.prev_word);
            side(at + 1, nb.next, nb.next_word);
            a.quick &= nb.prev >= AnchorWord::Neighbours::kNumber || nb.next >= AnchorWord::Neighbours::kNumber;
            a.neighbours.push_back(std::move(nb));
        }
        a.commits.clear();
        a.commit_back = 0;
        if (a.commit_rules.empty())
            for (uint32_t rule : a.what_rules) {
                const CommitmentMatcher &m = commits_[rule_commit_[rule]];
                a.commits.resize(std::max(a.commits.size(), m.commit_starts.size()));
                for (uint32_t w : start_ids[rule_commit_[rule]]) a.commits[w] = true;
                a.commit_back = std::max<uint32_t>(a.commit_back, static_cast<uint32_t>(m.reach() + m.lead_exact));
            }
        anchors_.push_back(std::move(a));
    }
}

// The tables that cost a load most to derive (every word-list word normalized, every n-gram of the
// weights files hashed and sorted): built here at compile time only, and carried by the compiled
// database (core/database.cpp), which a load copies.
void Engine::build_word_tables() {
    // The word-list words that start with an 'a' (an '@' opening a token may stand for it), and the
    // windows of letters around which a split word may be undone
    at_words_ = AtWords();
    join_grams_ = JoinGrams();
    for (const Rule &r : rs_.rules)
        if (!r.is_regex && !r.is_commitment && !r.is_model)
            for (size_t k = 0; k < r.literals.size(); ++k) {
                const std::string nw = normalize_literal(r.literals[k]);
                at_words_.add(nw, r.literal_boundaries[k]);
                join_grams_.add(nw, r.literal_boundaries[k]);
            }
    std::vector<const ModelWeights *> weights;
    for (uint32_t i : model_rules_) {
        if (!rs_.rules[i].model) throw Error(kInternal, "model '" + rs_.rules[i].id + "' has no weights");
        weights.push_back(rs_.rules[i].model.get());
    }
    model_table_ = ModelTable(weights);
}

void Engine::build_patterns(std::vector<std::string> &exprs, std::vector<unsigned> &flags,
                            std::vector<Diagnostic> &diags) {
    gates_.clear();
    pats_.clear();
    skel_pats_.clear();
    skel_exprs_.clear();
    skel_filter_ = TokenFilter();
    n_var_ = 0;
    // Single words of word lists also get a skeleton pattern (core/skeleton.hpp).
    auto add_skeleton = [&](std::string_view word, Pattern p) {
        const std::string w = normalize_literal(word);
        size_t len = 0;
        std::string e = skeleton_expression(w, &len, &skel_filter_);
        if (e.empty()) return false;
        p.fixed_len = static_cast<uint32_t>(len);
        // A word whose skeleton is two letters once a run is folded ("ass" is "as", "ffs" "fs"): a
        // disguise has at least the word's own number of characters (Pattern::min_chars).
        size_t chars = 0;
        for (unsigned char c : w) chars += (c & 0xC0) != 0x80;
        if (len <= kMinCharsSkeleton && len < w.size() && chars < 256) p.min_chars = static_cast<uint8_t>(chars);
        skel_exprs_.push_back(std::move(e));
        skel_pats_.push_back(p);
        // A mask over a letter that the skeleton folds into the one beside it ("b*obs" for boobs,
        // "a*s", "assl*ck": repeated letters are one, and so are 'l' and 'i') leaves the post's
        // skeleton a letter longer than the word's, where [x*] cannot stand in: such a masked
        // spelling gets a pattern of its own.
        std::set<std::string> masked;
        for (size_t k = 1; k + 1 < w.size(); ++k) {
            const auto c = static_cast<unsigned char>(w[k]);
            if (!ascii_alnum(c) || ascii_digit(c)) continue;
            std::string m = w;
            m[k] = '*';
            size_t mlen = 0;
            std::string me = skeleton_expression(m, &mlen, &skel_filter_);
            if (me.empty() || mlen == len || !masked.insert(me).second) continue;
            p.fixed_len = static_cast<uint32_t>(mlen);
            skel_exprs_.push_back(std::move(me));
            skel_pats_.push_back(p);
        }
        return true;
    };
    uint32_t next_group = 1;
    bool skeleton_full = false;  // kMaxSkeletonPatterns reached: later words get no disguised form
    std::map<uint32_t, uint32_t> own_trigger;  // rule -> the pattern of its own trigger
    auto add_variable = [&](std::string e, Pattern p, const Rule *trigger_of = nullptr) {
        p.kind = Pattern::kVariable;
        uint32_t self = static_cast<uint32_t>(pats_.size());
        const uint32_t w = longest_match(e, kPatternFlags);
        p.window = w;
        // how far it reaches when each run of white space counts one byte (at most the window)
        const std::string one = one_space(e);
        p.reach = one == e ? w : std::min(w, longest_match(one, kPatternFlags));
        // (no fallback to weaker atoms: substrings like "eat" fire on ordinary text all the time)
        auto sets = required_atom_sets(e, 4);
        // The rule's own trigger serves the alternatives that have no atoms of their own, or only
        // atoms of one or two bytes (the "@" of an e-mail address, which every @mention has too).
        bool weak = true;
        for (const auto &set : sets)
            for (const std::string &a : set)
                weak = weak && a.size() - (a.front() == kBoundaryMarker) - (a.back() == kBoundaryMarker) < 3;
        if (trigger_of && ((!sets.empty() && !weak) || trigger_of->trigger.empty())) trigger_of = nullptr;
        if (trigger_of) sets.clear();
        p.var = static_cast<uint32_t>(n_var_++);
        if (!sets.empty())
            if (auto g = gate_atom_sets(e, sets); !g.empty()) {
                if (gates_.size() <= p.var) gates_.resize(p.var + 1);
                for (const auto &atoms : g) gates_[p.var].push_back(gate_set(atoms));
            }
        p.slots = static_cast<uint8_t>(trigger_of ? 1 : sets.size());
        if (!trigger_of && sets.empty() && !p.allow && rs_.rules[p.rule].is_regex) {
            const Rule &r = rs_.rules[p.rule];
            warnings_.push_back({r.file, r.regex_line ? r.regex_line : r.line,
                                 "warning: rule '" + r.id + "' has no literal of 3+ bytes" +
                                     (e.size() < r.regex.size() ? " in '" + e.substr(0, 60) + (e.size() > 60 ? "...'" : "'") : "") +
                                     ": it runs on every post (give it a trigger, see docs/rule-packs.md)"});
        }
        flags.push_back(kPatternFlags);
        exprs.push_back(std::move(e));
        pats_.push_back(p);
        if (trigger_of && own_trigger.count(p.rule)) {
            // One trigger for all the rule's alternatives that use it (they share the group's
            // database): the window it opens is the widest of theirs, and reaches as far as the
            // furthest-reaching of them (a narrow window may reach further than a wide one).
            Pattern &target = pats_[pats_[own_trigger[p.rule]].target];
            target.window = std::max(target.window, w);
            target.reach = std::max(target.reach, pats_[self].reach);
        } else if (trigger_of) {
            // The rule's own trigger: a regex every match contains, in the main database.
            own_trigger[p.rule] = static_cast<uint32_t>(pats_.size());
            Pattern t = p;
            t.kind = Pattern::kTrigger;
            t.target = self;
            t.boundary = Boundary::Any;
            t.wide = true;
            t.fixed_len = longest_match(trigger_of->trigger, kLiteralFlags);  // (an error: reported below)
            flags.push_back(kLiteralFlags);
            exprs.push_back(trigger_of->trigger);
            pats_.push_back(t);
        }
        for (size_t slot = 0; slot < sets.size(); ++slot)
        for (std::string a : sets[slot]) {
            Pattern t = p;
            t.kind = Pattern::kTrigger;
            t.target = self;
            t.slot = static_cast<uint8_t>(slot);
            const auto [at_start, at_end] = strip_boundary_markers(a);
            t.boundary = boundary_of(at_start, at_end);
            t.fixed_len = static_cast<uint32_t>(a.size());
            // A plain literal: the word boundary the atom needs is checked in the callback. Asking
            // Hyperscan to check it ("not a letter or digit" before or after) turns thousands of
            // literals into regexes, which halves the speed of the main scan on real posts, while
            // the extra matches inside words cost the callback a few nanoseconds each.
            std::string lit;
            for (unsigned char c : a) append_hex_escape(lit, c);
            flags.push_back(kTriggerFlags);
            exprs.push_back(std::move(lit));
            pats_.push_back(t);
        }
    };
    // A one-word literal has a known length, so its start is end - length: compiled without
    // start-of-match tracking into the main database, it costs almost nothing to scan for.
    auto add_literal = [&](std::string e, Pattern p) {
        if (auto one = short_phrase_literal(e)) e = std::move(*one);
        if (e.find("\\s+") != std::string::npos) return add_variable(std::move(e), p);
        p.fixed_len = static_cast<uint32_t>(literal_length(e));
        flags.push_back(kLiteralFlags);
        exprs.push_back(std::move(e));
        pats_.push_back(p);
    };
    // The anchors of commitment rules (Engine::anchor, built in build_tables): each word a rule is
    // found by, once, as a literal that must start a word; the commitment stage checks the rest on
    // the post's words. A clitic gets both apostrophes ("'ll" and "’ll"), a number any digit.
    for (uint32_t i = 0; i < rs_.rules.size(); ++i) {
        const Rule &r = rs_.rules[i];
        if (!r.is_commitment) continue;
        PhraseWords scratch;
        build_commitment(r, scratch, &diags);  // reports phrases without a word
        const CommitmentMatcher &m = commits_[rule_commit_[i]];
        for (const std::string &w : m.commit->first_tokens())
            if (w.empty())
                diags.push_back({r.file, r.commitment.commit_lines.empty() ? r.line : r.commitment.commit_lines[0],
                                 "commitment '" + r.id + "': a commit phrase must start with a word, not # or *"});
    }
    for (uint32_t a = 0; a < anchors_.size(); ++a) {
        const AnchorWord &aw = anchors_[a];
        const std::string &w = aw.word;
        const uint32_t rule = aw.commit_rules.empty() ? aw.what_rules[0] : aw.commit_rules[0].first;
        for (int curly = 0; curly < (w[0] == '\'' ? 2 : 1); ++curly) {
            std::string e;
            std::string_view word = w;
            if (curly) {
                e = "\xE2\x80\x99";  // raw UTF-8: the database is compiled in UTF-8 mode
                word.remove_prefix(1);
            }
            size_t len = 1;
            if (w == "#") {
                e += "[0-9]";  // a deliverable found by its number
            } else {
                std::string lit;
                for (unsigned char c : word) {
                    if (ascii_alnum(c) || c >= 0x80) lit += static_cast<char>(c);
                    else append_hex_escape(lit, c);
                }
                len = literal_length(lit) + (curly ? 3 : 0);
                e += lit;
            }
            // An anchor starts a word (checked in the callback, as for triggers); a clitic starts
            // with its apostrophe, inside the word ("we'll"). A word anchor also ends its word as
            // the commitment stage splits words, so "comp" is not found in "company" (Boundary::Word
            // means that here, see Scanner::on_match); a number ("#") is found by its first digit.
            const bool starts_word = !curly && (ascii_alnum(static_cast<unsigned char>(w[0])) || w == "#");
            Pattern p{rule, !starts_word ? Boundary::Any : w == "#" ? Boundary::Prefix : Boundary::Word, false,
                      rs_.rules[rule].roles, static_cast<uint32_t>(len)};
            for (auto [r, at] : aw.commit_rules) p.roles |= rs_.rules[r].roles;
            for (uint32_t r : aw.what_rules) p.roles |= rs_.rules[r].roles;
            p.kind = Pattern::kAnchor;
            p.target = a;
            flags.push_back(kLiteralFlags);
            exprs.push_back(std::move(e));
            pats_.push_back(p);
        }
    }
    for (uint32_t i = 0; i < rs_.rules.size(); ++i) {
        const Rule &r = rs_.rules[i];
        if (r.is_commitment || r.is_model) continue;  // confirmed by their own stages, not by patterns
        if (r.is_regex) {
            // Group 0 holds every phrase; each regex gets a group of its own (groups that wait for
            // the same words share a probe: merge_groups()), and each of its top-level
            // alternatives is a pattern of its own there, with atoms of its own.
            Pattern p{i, r.boundary, false, r.roles, 0};
            p.group = next_group++;
            p.luhn = r.luhn;
            for (auto &alt : split_alternatives(r.regex)) add_variable(std::move(alt), p, &r);
            continue;
        }
        for (size_t k = 0; k < r.literals.size(); ++k) {
            std::string e = literal_expression(r.literals[k]);
            if (e.empty()) {
                diags.push_back({r.literal_file(k), r.literal_lines[k],
                                 "rule '" + r.id + "': '" + r.literals[k] + "' normalizes to nothing"});
                continue;
            }
            if (!r.disguised_only) add_literal(std::move(e), {i, r.literal_boundaries[k], false, r.roles, 0});
            if (skel_exprs_.size() >= kMaxSkeletonPatterns && !r.disguised_only) {  // (those have no other form)
                // (Hyperscan compiles the skeleton patterns in one database, in time that grows
                // faster than their number: 25 s for 30,000, minutes for 100,000)
                if (!skeleton_full) {
                    skeleton_full = true;
                    warnings_.push_back({r.literal_file(k), r.literal_lines[k],
                                         "warning: rule '" + r.id + "': the packs' words have " +
                                             std::to_string(kMaxSkeletonPatterns) +
                                             " disguised forms already, the most an engine compiles: from '" +
                                             r.literals[k] + "' on, the words of lists match only as written, but "
                                             "those of disguised_only rules (docs/limits.md)"});
                }
                continue;
            }
            if (!add_skeleton(r.literals[k], {i, r.literal_boundaries[k], false, r.roles, 0}) && r.disguised_only)
                diags.push_back({r.literal_file(k), r.literal_lines[k],
                                 "rule '" + r.id + "': '" + r.literals[k] +
                                     "' has no disguised form to match (disguised_only needs one word of at least two letters a-z)"});
        }
    }
    for (uint32_t i = 0; i < rs_.allow.size(); ++i) {
        std::string e = literal_expression(rs_.allow[i].text);
        if (e.empty()) {
            diags.push_back({rs_.allow[i].file, rs_.allow[i].line, "allow: '" + rs_.allow[i].text + "' normalizes to nothing"});
            continue;
        }
        const Boundary b = rs_.allow[i].boundary;
        add_literal(std::move(e), {i, b, true, kRoleEveryone, 0});
        if (!rs_.allow[i].as_written) add_skeleton(rs_.allow[i].text, {i, b, true, kRoleEveryone, 0});
    }
    merge_groups(exprs);
    // What the databases were compiled from, so that a serialized database is only loaded by a
    // library that derives exactly the same patterns from the same packs.
    XXH64_state_t *st = XXH64_createState();
    XXH64_reset(st, 0);
    for (size_t i = 0; i < exprs.size(); ++i) {
        const Pattern &p = pats_[i];
        XXH64_update(st, exprs[i].data(), exprs[i].size() + 1);
        uint32_t f[10] = {flags[i], p.rule, static_cast<uint32_t>(p.kind), p.target, p.group, p.slot, p.fixed_len, p.window, p.wide, p.reach};
        XXH64_update(st, f, sizeof f);
    }
    for (const auto &e : skel_exprs_) XXH64_update(st, e.data(), e.size() + 1);
    fingerprint_ = XXH64_digest(st);
    XXH64_freeState(st);
}

hs_database *Engine::compile_skeleton_db() const {
    if (skel_exprs_.empty()) return nullptr;
    std::vector<const char *> c;
    std::vector<unsigned> f, ids;
    for (size_t i = 0; i < skel_exprs_.size(); ++i) {
        c.push_back(skel_exprs_[i].c_str());
        f.push_back(HS_FLAG_CASELESS);
        ids.push_back(static_cast<unsigned>(i));
    }
    hs_database_t *db = nullptr;
    hs_compile_error_t *err = nullptr;
    if (hs_compile_multi(c.data(), f.data(), ids.data(), static_cast<unsigned>(c.size()), HS_MODE_BLOCK, nullptr, &db,
                         &err) != HS_SUCCESS)
        throw Error(kInternal, "skeleton database does not compile: " + hs_error_text(err));
    return db;
}

Engine::GateSet Engine::gate_set(const std::vector<std::string> &atoms) {
    GateSet g;
    for (std::string a : atoms) {
        const auto [start, end] = strip_boundary_markers(a);
        if (!a.empty()) add_gate_atom(g, {std::move(a), start, end});
    }
    return g;
}

void Engine::add_gate_atom(GateSet &g, GateAtom a) {
    // (the first byte in either case, by ASCII arithmetic: a locale's toupper may map 'i' elsewhere)
    const auto f = static_cast<unsigned char>(a.bytes[0]);
    g.first[f >> 6] |= uint64_t(1) << (f & 63);
    const auto u = static_cast<unsigned char>(f >= 'a' && f <= 'z' ? f - 32 : f);
    g.first[u >> 6] |= uint64_t(1) << (u & 63);
    g.atoms.push_back(std::move(a));
}

bool Engine::gates_hold(const std::vector<GateSet> &sets, const char *text, size_t n, size_t lo, size_t hi) {
    // (looser than the regex, never stricter: ASCII letters compare in either case as Hyperscan's
    // caseless flag has them, and a boundary fails only between two ASCII word characters, which are
    // word characters however \b reads the rest)
    typedef uint8_t u8x16 __attribute__((vector_size(16)));
    auto word = [](unsigned char c) { return ascii_alnum(c) || c == '_'; };
    const auto *t = reinterpret_cast<const unsigned char *>(text);
    auto atom_at = [&](const GateSet &g, size_t i) {
        for (const GateAtom &a : g.atoms) {
            const size_t len = a.bytes.size();
            if (len > hi - i) continue;
            size_t k = 0;
            while (k < len && (t[i + k] | 0x20) == (static_cast<unsigned char>(a.bytes[k]) | 0x20)) ++k;
            if (k < len) continue;
            if (a.start && i > 0 && word(t[i - 1]) && word(t[i])) continue;
            if (a.end && i + len < n && word(t[i + len]) && word(t[i + len - 1])) continue;
            return true;
        }
        return false;
    };
    for (const GateSet &g : sets) {
        bool found = false;
        size_t i = lo;
        // 16 bytes at a time: where no atom's first byte (in either case) stands, nothing to look at
        for (; i + 17 <= hi && !found; i += 16) {
            u8x16 v, w;
            std::memcpy(&v, t + i, 16);
            std::memcpy(&w, t + i + 1, 16);
            v |= 0x20;
            w |= 0x20;
            u8x16 any = {};
            for (const GateAtom &a : g.atoms) {  // the first two bytes, or the first of an atom of one
                const u8x16 first = v == static_cast<uint8_t>(a.bytes[0] | 0x20);
                any |= a.bytes.size() < 2 ? first : first & (w == static_cast<uint8_t>(a.bytes[1] | 0x20));
            }
            uint64_t x, y;
            std::memcpy(&x, &any, 8);
            std::memcpy(&y, reinterpret_cast<const char *>(&any) + 8, 8);
            if (!(x | y)) continue;
            for (size_t k = i; k < i + 16 && !found; ++k)
                if ((g.first[t[k] >> 6] >> (t[k] & 63)) & 1) found = atom_at(g, k);
        }
        for (; i < hi && !found; ++i)
            if ((g.first[t[i] >> 6] >> (t[i] & 63)) & 1) found = atom_at(g, i);
        if (!found) return false;
    }
    return true;
}

// Regex groups whose windows open on the same words share a probe database. Each window costs a
// Hyperscan call on its group's probe, about a microsecond before its first byte, and regexes of
// one kind open theirs on the same words: "you <noun>", "you are <noun>" and "<noun>!" wait for the
// same insults, and a tweet that held one paid three probes where one does. So a group most of
// whose triggers (four in five) are triggers of another group shares that group's probe: the
// windows of all the groups of one probe are merged where they meet and probed once, and where the
// probe finds nothing, none of them can match. Where it finds something, each group's database
// runs over that group's own windows, as before, so every hit and its span stay what they were.
void Engine::merge_groups(const std::vector<std::string> &exprs) {
    uint32_t ngroups = 0;
    for (const Pattern &p : pats_)
        if (p.kind == Pattern::kVariable) ngroups = std::max(ngroups, p.group + 1);
    std::vector<std::set<std::pair<std::string, Boundary>>> triggers(ngroups);
    for (size_t i = 0; i < pats_.size(); ++i)
        if (pats_[i].kind == Pattern::kTrigger) triggers[pats_[pats_[i].target].group].emplace(exprs[i], pats_[i].boundary);
    std::vector<uint32_t> parent(ngroups);
    for (uint32_t g = 0; g < ngroups; ++g) parent[g] = g;
    auto root = [&](uint32_t g) {
        while (parent[g] != g) g = parent[g] = parent[parent[g]];
        return g;
    };
    for (uint32_t a = 1; a < ngroups; ++a) {  // (group 0, the phrases, stays apart)
        uint32_t best = 0;
        size_t most = 0;
        for (uint32_t b = 1; b < ngroups; ++b) {
            if (b == a) continue;
            size_t common = 0;
            for (const auto &t : triggers[a]) common += triggers[b].count(t);
            if (common > most) most = common, best = b;
        }
        if (best && most * 5 >= triggers[a].size() * 4) parent[root(a)] = root(best);
    }
    // The probes, numbered 0, 1, 2, ... in order of their first group.
    std::vector<uint32_t> number(ngroups, UINT32_MAX);
    uint32_t next = 0;
    probe_of_.assign(ngroups, 0);
    for (uint32_t g = 0; g < ngroups; ++g) {
        const uint32_t r = root(g);
        if (number[r] == UINT32_MAX) number[r] = next++;
        probe_of_[g] = number[r];
    }
}

// The patterns of each probe database: those of its groups.
std::vector<std::vector<size_t>> Engine::probe_members(const std::vector<std::vector<size_t>> &groups) const {
    uint32_t n = 0;
    for (uint32_t p : probe_of_) n = std::max(n, p + 1);
    std::vector<std::vector<size_t>> out(n);
    for (size_t g = 0; g < groups.size(); ++g) out[probe_of_[g]].insert(out[probe_of_[g]].end(), groups[g].begin(), groups[g].end());
    for (auto &m : out) std::sort(m.begin(), m.end());
    return out;
}

// The main database's literals and prefilter atoms that must stand at a word boundary, and are one
// word: found by the post's words (core/word_match.hpp), not by Hyperscan.
void Engine::build_word_matcher(const std::vector<std::string> &exprs) {
    words_ = WordMatcher();
    for (size_t i = 0; i < pats_.size(); ++i) {
        const Pattern &p = pats_[i];
        if (p.kind == Pattern::kAnchor) {
            // A word anchor (see Scanner::on_match), found by the word matcher's whole words and
            // pieces of words; one that starts with a digit or holds non-ASCII stays in Hyperscan.
            const std::string &w = anchors_[p.target].word;
            if (digit_anchor(p)) {
                words_.add_digit_start(static_cast<uint32_t>(i));  // `[0-9]`, where it starts a word
                continue;
            }
            if (p.boundary != Boundary::Word || w.size() != p.fixed_len || w.size() > WordMatcher::kMaxLen ||
                !std::all_of(w.begin(), w.end(), [](char c) { return ascii_alnum(static_cast<unsigned char>(c)); }) ||
                ascii_digit(static_cast<unsigned char>(w[0])))
                continue;
            words_.add(static_cast<uint32_t>(i), w, Boundary::Word);
            continue;
        }
        if ((p.kind != Pattern::kLiteral && p.kind != Pattern::kTrigger) || p.wide || p.boundary == Boundary::Any) continue;
        // The expression's bytes: literal_expression() and the atoms write raw letters, digits and
        // UTF-8, and \xHH for anything else; any other escape is not a plain literal.
        std::string bytes;
        const std::string &e = exprs[i];
        bool plain = true;
        for (size_t k = 0; k < e.size() && plain; ++k) {
            if (e[k] != '\\') {
                bytes += e[k];
            } else if (k + 3 < e.size() && e[k + 1] == 'x') {
                bytes += static_cast<char>(std::stoi(e.substr(k + 2, 2), nullptr, 16));
                k += 3;
            } else {
                plain = false;
            }
        }
        if (plain && bytes.size() == p.fixed_len && WordMatcher::fits(bytes, p.boundary))
            words_.add(static_cast<uint32_t>(i), bytes, p.boundary);
    }
    words_.build();
}

void Engine::build_groups(std::vector<size_t> (&main)[2], std::vector<std::vector<size_t>> &groups) const {
    std::vector<bool> has_trigger(pats_.size(), false);
    std::vector<bool> own_trigger(rs_.rules.size(), false);  // per rule: it has a trigger regex of its own
    for (const Pattern &p : pats_) {
        if (p.kind != Pattern::kTrigger) continue;
        has_trigger[p.target] = true;
        if (p.wide && !p.allow) own_trigger[p.rule] = true;
    }
    // A rule's own trigger names one alternative, the widest, but opens windows for the rule's
    // group, whose database holds all of them: an alternative with no atoms of its own is found
    // there, and needs no place in the main database, where it would run over every post.
    for (size_t i = 0; i < pats_.size(); ++i) {
        const Pattern &p = pats_[i];
        if (p.kind == Pattern::kVariable && !p.allow && own_trigger[p.rule]) has_trigger[i] = true;
    }
    for (size_t i = 0; i < pats_.size(); ++i) {
        const Pattern &p = pats_[i];
        if ((p.kind != Pattern::kVariable || !has_trigger[i]) && !words_.has(static_cast<uint32_t>(i))) {
            if (p.roles & kRoleMember) main[0].push_back(i);
            if (p.roles & kRoleStaff) main[1].push_back(i);
        }
        if (p.kind != Pattern::kVariable) continue;
        if (groups.size() <= p.group) groups.resize(p.group + 1);
        groups[p.group].push_back(i);
    }
}

hs_database *Engine::compile_db(const std::vector<std::string> &exprs, const std::vector<unsigned> &flags,
                                const std::vector<size_t> &subset, bool som, std::vector<Diagnostic> &diags) const {
    if (subset.empty()) return nullptr;
    std::vector<const char *> cexprs;
    std::vector<unsigned> f, ids;
    for (size_t i : subset) {
        cexprs.push_back(exprs[i].c_str());
        f.push_back(som ? flags[i] : (flags[i] & ~unsigned(HS_FLAG_SOM_LEFTMOST)));
        ids.push_back(static_cast<unsigned>(i));
    }
    hs_database_t *db = nullptr;
    hs_compile_error_t *err = nullptr;
    if (hs_compile_multi(cexprs.data(), f.data(), ids.data(), static_cast<unsigned>(cexprs.size()), HS_MODE_BLOCK,
                         nullptr, &db, &err) == HS_SUCCESS)
        return db;
    int at = err ? err->expression : -1;
    std::string msg = hs_error_text(err);
    if (at >= 0 && static_cast<size_t>(at) < subset.size()) {
        const Pattern &p = pats_[subset[at]];
        if (p.allow) diags.push_back({rs_.allow[p.rule].file, rs_.allow[p.rule].line, "allow: " + msg});
        else diags.push_back({rs_.rules[p.rule].file, rs_.rules[p.rule].line, "rule '" + rs_.rules[p.rule].id + "': " + msg});
    } else {
        diags.push_back({"<packs>", 0, "pattern database does not compile: " + msg});
    }
    throw Error(kRulesError, diags.front().str());
}

namespace {

// The negations and the conditions are single words as phrases are split (PhraseWords::add_negation
// and add_condition ignore others): checked as soon as the packs are read, so that they are reported
// with the packs' other mistakes.
void check_one_word_lists(const RuleSet &rs, std::vector<Diagnostic> &diags) {
    PhraseWords scratch;
    for (const auto &[list, what] : {std::pair{kNegationList, "a negation"}, {PhraseWords::kConditionList, "a condition"}}) {
        auto j = rs.words.find(list);
        if (j == rs.words.end()) continue;
        const WordList &wl = j->second;
        for (size_t k = 0; k < wl.words.size(); ++k)
            if (!scratch.one_word(wl.words[k]))
                diags.push_back({wl.files[k], wl.lines[k], std::string("words.") + list + ": '" + wl.words[k] + "': " +
                                                               what + " is one word (letters and digits, or a clitic such as 't)"});
    }
}

}  // namespace

std::unique_ptr<Engine> Engine::compile(Sources src, const EngineOptions &opt,
                                        std::vector<Diagnostic> &diags) {
    std::unique_ptr<Engine> e(new Engine);
    e->src_ = std::move(src);
    parse_rules(e->src_, e->rs_, diags);
    check_one_word_lists(e->rs_, diags);
    if (!diags.empty()) throw Error(kRulesError, diags.front().str());
    e->build_tables(opt);
    e->build_word_tables();
    std::vector<std::string> exprs;
    std::vector<unsigned> flags;
    e->build_patterns(exprs, flags, diags);
    e->warnings_.insert(e->warnings_.end(), e->rs_.warnings.begin(), e->rs_.warnings.end());
    // Regexes (and triggers) are checked one by one first, so that every bad one is reported with
    // its file:line.
    auto check = [&](const std::string &expr, unsigned f, const Rule &r, uint32_t line, const char *what) {
        hs_database_t *db = nullptr;
        hs_compile_error_t *err = nullptr;
        if (hs_compile(expr.c_str(), f, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS)
            diags.push_back({r.file, line ? line : r.line,
                             "rule '" + r.id + "': " + what + " does not compile: " + hs_error_text(err) +
                                 (r.regex_lists ? " (at a position in the regex with its {@lists} put in)" : "")});
        hs_free_database(db);
    };
    for (size_t i = 0; i < exprs.size(); ++i) {
        const Pattern &p = e->pats_[i];
        if (p.allow || p.kind != Pattern::kVariable) continue;  // allow entries index rs_.allow
        const Rule &r = e->rs_.rules[p.rule];
        if (r.is_regex) check(exprs[i], flags[i], r, r.regex_line, "regex");
    }
    for (const Rule &r : e->rs_.rules)
        if (!r.trigger.empty()) check(r.trigger, kLiteralFlags, r, r.trigger_line, "trigger");
    if (!diags.empty()) throw Error(kRulesError, diags.front().str());
    // The main databases (one per role) hold literals and triggers (prefilter atoms of regexes and
    // phrases, a rule's own trigger, or the regex itself when it has neither), without
    // start-of-match tracking: the scan of a clean post runs at literal speed. Regexes and phrases
    // are in the group databases, run only over the windows around triggers the main scan found:
    // first a probe without start-of-match tracking, then, where it matched, the tracked scan.
    e->build_word_matcher(exprs);
    std::vector<size_t> main[2];
    std::vector<std::vector<size_t>> groups;
    e->build_groups(main, groups);
    for (int r = 0; r < 2; ++r) e->main_dbs_[r] = e->compile_db(exprs, flags, main[r], false, diags);
    for (const auto &g : groups)
        e->var_dbs_.push_back(std::make_unique<LazyDatabase>(e->compile_db(exprs, flags, g, true, diags)));
    for (const auto &members : e->probe_members(groups))
        e->probe_dbs_.push_back(std::make_unique<LazyDatabase>(e->compile_db(exprs, flags, members, false, diags)));
    e->skel_db_ = std::make_unique<LazyDatabase>(e->compile_skeleton_db());
    return e;
}

void Engine::check_examples(std::vector<Diagnostic> &diags) const {
    Scanner s(*this);
    Verdict v;
    for (uint32_t i = 0; i < rs_.rules.size(); ++i) {
        const Rule &r = rs_.rules[i];
        int role = (r.roles & kRoleStaff) ? 1 : 0;
        for (const auto &ex : r.examples) {
            s.scan(ex.text, role, 0, v);
            bool hit = std::any_of(v.hits.begin(), v.hits.end(), [&](const HitRecord &h) { return h.rule == i; });
            if (hit == ex.should_match) continue;
            std::string others;
            for (const auto &h : v.hits)
                if (h.rule != i && others.size() < 200) others += (others.empty() ? "" : ", ") + rs_.rules[h.rule].id;
            diags.push_back({r.file, ex.line,
                             "rule '" + r.id + "': example \"" + ex.text + "\" " +
                                 (ex.should_match ? "should match but does not" : "should not match but does") +
                                 (others.empty() ? "" : " (other hits: " + others + ")")});
        }
    }
}

}  // namespace mf
