#include "rules.hpp"
#include "model.hpp"
#include "normalize.hpp"
#include "prefilter.hpp"
#include "text.hpp"

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

// toml++ is the TOML 1.0 parser packaged by Debian (libtomlplusplus-dev); it keeps the source line
// of every key and value, which is what file:line diagnostics need.
#include <toml++/toml.h>

namespace fs = std::filesystem;

namespace mf {

std::string Diagnostic::str() const {
    std::string s = file;
    if (line) s += ":" + std::to_string(line);
    return s + ": " + message;
}

const SourceFile *Sources::find(const std::string &path) const {
    for (const auto &f : files)
        if (f.path == path) return &f;
    return nullptr;
}

static bool read_file(const fs::path &p, std::string &out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return false;
    out = ss.str();
    return true;
}

bool read_sources(const std::string &path, Sources &out, std::vector<Diagnostic> &diags) {
    std::error_code ec;
    fs::path root(path);
    if (fs::is_directory(root, ec)) {
        std::vector<fs::path> paths;
        for (fs::recursive_directory_iterator it(root, fs::directory_options::follow_directory_symlink, ec), end;
             !ec && it != end; it.increment(ec)) {
            if (!it->is_regular_file(ec)) continue;
            auto ext = it->path().extension().string();
            if (ext == ".toml" || ext == ".txt") paths.push_back(it->path());
        }
        if (ec) {
            diags.push_back({path, 0, "cannot read directory: " + ec.message()});
            return false;
        }
        std::sort(paths.begin(), paths.end());
        for (const auto &p : paths) {
            SourceFile f{p.lexically_normal().string(), {}};
            if (!read_file(p, f.content)) {
                diags.push_back({f.path, 0, "cannot read file"});
                return false;
            }
            out.files.push_back(std::move(f));
        }
        bool any_toml = std::any_of(paths.begin(), paths.end(),
                                    [](const fs::path &p) { return p.extension() == ".toml"; });
        if (!any_toml) {
            diags.push_back({path, 0, "no rule packs (*.toml) in this directory"});
            return false;
        }
    } else {
        SourceFile f{fs::path(path).lexically_normal().string(), {}};
        if (!fs::exists(root, ec)) {
            diags.push_back({path, 0, "no such file or directory"});
            return false;
        }
        // (a file of another name would be read and then left out as no pack: no rules at all,
        // and every post allowed)
        if (root.extension() != ".toml") {
            diags.push_back({path, 0, "not a rule pack: a pack is a .toml file (or give a directory of them)"});
            return false;
        }
        if (!read_file(root, f.content)) {
            diags.push_back({path, 0, "cannot read file"});
            return false;
        }
        out.files.push_back(std::move(f));
    }
    out.disk_fallback = true;
    return true;
}

bool category_under(std::string_view category, std::string_view prefix) {
    return category.substr(0, prefix.size()) == prefix && (category.size() == prefix.size() || category[prefix.size()] == '.');
}

const CategoryPolicy *category_policy(const Policy &p, std::string_view category) {
    const CategoryPolicy *best = nullptr;
    for (const auto &cp : p.categories)
        if (category_under(category, cp.prefix) && (!best || cp.prefix.size() >= best->prefix.size())) best = &cp;
    return best;
}

std::string threshold_order_mistake(const Policy &p) {
    if (p.flag <= p.hold && p.hold <= p.reject) return {};
    char values[120];
    std::snprintf(values, sizeof values, " (here flag %g, hold %g, reject %g)", p.flag, p.hold, p.reject);
    return std::string("thresholds must satisfy flag <= hold <= reject") + values;
}

const char *severity_name(int s) {
    switch (s) {
    case 1: return "low";
    case 2: return "medium";
    case 3: return "high";
    case 4: return "critical";
    default: return "";
    }
}

int severity_from_name(std::string_view n) {
    for (int s = 1; s <= 4; ++s)
        if (n == severity_name(s)) return s;
    return 0;
}

double default_score(int s) {
    static const double scores[] = {0, 1, 2, 4, 8};
    return (s >= 1 && s <= 4) ? scores[s] : 0;
}

namespace {

struct Ctx {
    const std::string &file;
    std::vector<Diagnostic> &diags;
    bool model_weights = true;  // parse [[model]] weights files (see parse_rules)
    void err(const toml::node &n, std::string msg) {
        diags.push_back({file, n.source().begin.line, std::move(msg)});
    }
    void err(uint32_t line, std::string msg) { diags.push_back({file, line, std::move(msg)}); }
};

uint32_t line_of(const toml::key &k) { return k.source().begin.line; }

// Whether s is well-formed UTF-8, as the normalizer decodes it (decode_utf8: no overlong forms,
// surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s) {
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    for (size_t i = 0; i < s.size();) {
        uint32_t cp;
        bool valid;
        i += decode_utf8(p + i, s.size() - i, &cp, &valid);
        if (!valid) return false;
    }
    return true;
}

bool valid_id(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    return std::isalnum(static_cast<unsigned char>(s[0]));
}

// A category's escalation route: one of the teams an issue goes to, or none.
bool valid_route(std::string_view r) { return r == "legal" || r == "hr" || r == "pr" || r == "support" || r.empty(); }

bool valid_category(std::string_view s) {
    if (s.empty() || s.size() > 64 || s.front() == '.' || s.back() == '.') return false;
    char prev = 0;
    for (char c : s) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_')) return false;
        if (c == '.' && prev == '.') return false;
        prev = c;
    }
    return true;
}

// Levenshtein distance, for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> d(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) d[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t prev = d[0];
        d[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t tmp = d[j];
            d[j] = std::min({d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
            prev = tmp;
        }
    }
    return d[b.size()];
}

// The closest known key, for "did you mean" hints.
// The known name closest to key, within two edits, or "" (the first of the closest).
template <class Names>
std::string closest(std::string_view key, const Names &known) {
    std::string best;
    size_t bd = 3;
    for (std::string_view k : known)
        if (const size_t dd = edit_distance(key, k); dd < bd) {
            bd = dd;
            best = k;
        }
    return best;
}

std::string suggest(std::string_view key, std::initializer_list<std::string_view> known) {
    const std::string best = closest(key, known);
    std::string s = "; known keys: ";
    bool first = true;
    for (auto k : known) {
        s += first ? "" : ", ";
        s += k;
        first = false;
    }
    return best.empty() ? s : " (did you mean '" + best + "'?)";
}

std::optional<std::string> get_string(Ctx &c, const toml::node &n, std::string_view what) {
    if (auto s = n.as_string()) return s->get();
    c.err(n, std::string(what) + " must be a string");
    return std::nullopt;
}

// A string or an array of strings; pushes every string and its line.
bool get_strings(Ctx &c, const toml::node &n, std::string_view what, std::vector<std::string> &out,
                 std::vector<uint32_t> *lines = nullptr) {
    if (auto s = n.as_string()) {
        out.push_back(s->get());
        if (lines) lines->push_back(n.source().begin.line);
        return true;
    }
    auto arr = n.as_array();
    if (!arr) {
        c.err(n, std::string(what) + " must be a string or an array of strings");
        return false;
    }
    bool ok = true;
    for (const auto &e : *arr) {
        if (auto s = e.as_string()) {
            out.push_back(s->get());
            if (lines) lines->push_back(e.source().begin.line);
        } else {
            c.err(e, std::string(what) + " must contain only strings");
            ok = false;
        }
    }
    return ok;
}

std::optional<uint8_t> get_roles(Ctx &c, const toml::node &n) {
    std::vector<std::string> names;
    if (!get_strings(c, n, "applies_to", names)) return std::nullopt;
    uint8_t roles = 0;
    for (const auto &r : names) {
        if (r == "everyone" || r == "all") roles |= kRoleEveryone;
        else if (r == "staff") roles |= kRoleStaff;
        else if (r == "member") roles |= kRoleMember;
        else {
            c.err(n, "applies_to: unknown role '" + r + "' (use \"everyone\", \"staff\" or \"member\")");
            return std::nullopt;
        }
    }
    if (!roles) {
        c.err(n, "applies_to names no role");
        return std::nullopt;
    }
    return roles;
}

// "a string", "an integer", "an array": a value's type as a message names it.
std::string a_type(const toml::node &n) {
    const std::string t(toml::impl::node_type_friendly_names[static_cast<int>(n.type())]);
    return (t.find_first_of("aeiou") == 0 ? "an " : "a ") + t;
}

std::optional<int> get_severity(Ctx &c, const toml::node &n) {
    if (auto s = n.as_string()) {
        if (int v = severity_from_name(s->get())) return v;
    } else if (auto i = n.as_integer()) {
        if (i->get() >= 1 && i->get() <= 4) return static_cast<int>(i->get());
    }
    std::string got = n.as_string() ? "\"" + n.as_string()->get() + "\"" : n.as_integer() ? std::to_string(n.as_integer()->get()) : a_type(n);
    c.err(n, "severity must be \"low\", \"medium\", \"high\" or \"critical\" (or 1 to 4), not " + got);
    return std::nullopt;
}

std::optional<double> get_number(Ctx &c, const toml::node &n, std::string_view what, double lo, double hi) {
    auto v = n.value<double>();
    if (!v || !std::isfinite(*v) || *v < lo || *v > hi) {
        std::ostringstream m;
        m << what << " must be a number from " << lo << " to " << hi;
        c.err(n, m.str());
        return std::nullopt;
    }
    return v;
}

struct PackDefaults {
    uint8_t roles = kRoleEveryone;
    std::string category;
    int severity = 0;
};

// Finds a file named by a pack (relative to the pack file) in the sources, or on disk when allowed.
const SourceFile *pack_relative_file(Sources &src, const std::string &toml_path, const std::string &name,
                                     std::string &resolved) {
    fs::path p = (fs::path(toml_path).parent_path() / name).lexically_normal();
    resolved = p.string();
    const SourceFile *f = src.find(resolved);
    if (!f && src.disk_fallback) {
        SourceFile nf{resolved, {}};
        if (read_file(p, nf.content)) {
            src.files.push_back(std::move(nf));
            f = &src.files.back();
        }
    }
    return f;
}

// A word-list or allow entry's '*' marks (docs/rule-packs.md): one '*' is taken off each end that
// has one (`open`, `close`). Returns what is wrong with the entry, or "" when nothing is: no letter
// left, or a second '*' or a space beside a '*' taken off.
std::string strip_stars(std::string &w, bool &open, bool &close) {
    const std::string written = w;
    open = w.size() > 1 && w.front() == '*';
    close = w.size() > 1 && w.back() == '*';
    if (open) w.erase(0, 1);
    if (close && !w.empty()) w.pop_back();
    if (w.find_first_not_of("* \t") == std::string::npos)
        return "'" + written + "' has no letter: write '*root*' or 'root*' around a word";
    if ((open || close) && (w.front() == '*' || w.back() == '*' || w.front() == ' ' || w.back() == ' '))
        return "'" + written + "': one '*' at most at each end, next to a letter ('*root*', 'root*')";
    return "";
}

void parse_words_file(Ctx &c, Sources &src, const std::string &toml_path, const toml::node &n,
                      Rule &r) {
    auto name = get_string(c, n, "words_file");
    if (!name) return;
    std::string resolved;
    const SourceFile *f = pack_relative_file(src, toml_path, *name, resolved);
    if (!f) {
        c.err(n, "words_file: cannot read '" + resolved + "'");
        return;
    }
    const fs::path p(resolved);
    std::istringstream in(f->content);
    std::string line;
    uint32_t ln = 0;
    size_t before = r.literals.size();
    r.words_path = p.string();
    r.words_from = before;
    while (std::getline(in, line)) {
        ++ln;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto hash = line.find('#');
        if (hash != std::string::npos) line.erase(hash);
        auto b = line.find_first_not_of(" \t");
        if (b == std::string::npos) continue;
        auto e = line.find_last_not_of(" \t");
        r.literals.push_back(line.substr(b, e - b + 1));
        r.literal_lines.push_back(ln);
    }
    if (r.literals.size() == before) c.err(n, "words_file: '" + p.string() + "' lists no words");
}

Rule rule_with_defaults(const std::string &path, uint32_t line, const PackDefaults &d) {
    Rule r;
    r.file = path;
    r.line = line;
    r.roles = d.roles;
    r.category = d.category;
    r.severity = d.severity;
    return r;
}

// Keys that every kind of rule has: id, category, severity, score, description, applies_to, match,
// no_match. Returns false for any other key.
bool parse_common_key(Ctx &c, std::string_view key, const toml::node &v, Rule &r, bool &has_score) {
    if (key == "id") {
        if (auto s = get_string(c, v, "id")) r.id = *s;
    } else if (key == "category") {
        if (auto s = get_string(c, v, "category")) r.category = *s;
    } else if (key == "severity") {
        if (auto s = get_severity(c, v)) r.severity = *s;
        else r.severity = -1;  // reported already; not "no severity" again
    } else if (key == "score") {
        if (auto s = get_number(c, v, "score", 0, 1000)) {
            r.score = *s;
            has_score = true;
        }
    } else if (key == "description") {
        if (auto s = get_string(c, v, "description")) r.description = *s;
    } else if (key == "applies_to") {
        if (auto roles = get_roles(c, v)) r.roles = *roles;
    } else if (key == "match" || key == "no_match") {
        std::vector<std::string> ex;
        std::vector<uint32_t> lines;
        get_strings(c, v, key, ex, &lines);
        for (size_t i = 0; i < ex.size(); ++i) r.examples.push_back({ex[i], key == "match", lines[i]});
    } else {
        return false;
    }
    return true;
}

// The checks every kind of rule shares (id, category, severity); returns how messages name the rule.
std::string check_common(Ctx &c, uint32_t line, Rule &r, const std::string &kind, std::string_view category_example) {
    std::string who = r.id.empty() ? kind : kind + " '" + r.id + "'";
    if (r.id.empty()) c.err(line, kind + " has no id");
    else if (!valid_id(r.id)) c.err(line, kind + " id '" + r.id + "' must be lowercase letters, digits, '.', '_' or '-'");
    if (r.category.empty()) c.err(line, who + " has no category (set it in the " + kind + " or in [pack])");
    else if (!valid_category(r.category))
        c.err(line, who + ": category '" + r.category + "' must be a dotted lowercase name like " + std::string(category_example));
    if (!r.severity) c.err(line, who + " has no severity (set it in the " + kind + " or in [pack])");
    if (r.severity < 0) r.severity = 0;
    return who;
}

// The end every kind of rule shares: its default score; where it was read (for the duplicate-id
// check of parse_rules, kept with its mistakes too); the rule itself when no mistake was reported
// since `errors` diagnostics.
void keep_rule(Ctx &c, Rule &&r, bool has_score, size_t errors, RuleSet &out) {
    if (!has_score && r.severity) r.score = default_score(r.severity);
    if (!r.id.empty()) out.ids.push_back({r.id, r.file, r.line});
    if (c.diags.size() == errors) out.rules.push_back(std::move(r));
}

void parse_rule(Ctx &c, Sources &src, const std::string &path, const toml::table &t, uint32_t line,
                const PackDefaults &d, RuleSet &out) {
    static const std::initializer_list<std::string_view> known = {
        "id", "category", "severity", "score", "word", "words", "words_file", "phrase", "phrases",
        "regex", "boundary", "applies_to", "description", "match", "no_match", "validate", "trigger",
        "disguised_only"};
    Rule r = rule_with_defaults(path, line, d);
    bool has_score = false;
    int kinds = 0;
    std::pair<uint32_t, std::string> empty_list{0, {}};  // (line, key) of a words or phrases list with no entry
    size_t errors = c.diags.size();
    for (auto &&[k, v] : t) {
        std::string_view key = k.str();
        if (parse_common_key(c, key, v, r, has_score)) {
        } else if (key == "word" || key == "phrase") {
            ++kinds;
            if (auto s = get_string(c, v, key)) {
                r.literals.push_back(*s);
                r.literal_lines.push_back(v.source().begin.line);
            }
        } else if (key == "words" || key == "phrases") {
            ++kinds;
            if (!v.is_array()) c.err(v, std::string(key) + " must be an array of strings");
            else if (v.as_array()->empty()) empty_list = {v.source().begin.line, std::string(key)};
            else get_strings(c, v, key, r.literals, &r.literal_lines);
        } else if (key == "words_file") {
            ++kinds;
            parse_words_file(c, src, path, v, r);
        } else if (key == "regex") {
            ++kinds;
            r.is_regex = true;
            r.regex_line = v.source().begin.line;
            if (auto s = get_string(c, v, "regex")) r.regex = *s;
        } else if (key == "trigger") {
            r.trigger_line = v.source().begin.line;
            if (auto s = get_string(c, v, "trigger")) {
                r.trigger = *s;
                if (r.trigger.empty()) c.err(v, "trigger is empty");
            }
        } else if (key == "boundary") {
            auto s = get_string(c, v, "boundary");
            if (!s) continue;
            if (*s == "word") r.boundary = Boundary::Word;
            else if (*s == "prefix") r.boundary = Boundary::Prefix;
            else if (*s == "suffix") r.boundary = Boundary::Suffix;
            else if (*s == "any") r.boundary = Boundary::Any;
            else c.err(v, "boundary must be \"word\", \"prefix\", \"suffix\" or \"any\"");
        } else if (key == "disguised_only") {
            if (!v.is_boolean()) c.err(v, "disguised_only must be true or false");
            else r.disguised_only = **v.as_boolean();
        } else if (key == "validate") {
            auto s = get_string(c, v, "validate");
            if (!s) continue;
            if (*s == "luhn") r.luhn = true;
            else c.err(v, "validate must be \"luhn\" (the payment card checksum)");
        } else {
            c.err(line_of(k), "unknown key '" + std::string(key) + "' in [[rule]]" + suggest(key, known));
        }
    }
    const std::string who = check_common(c, line, r, "rule", "abuse.threat");
    if (kinds == 0) c.err(line, who + " has nothing to match: give one of word, words, words_file, phrase, phrases, regex");
    if (kinds > 1) c.err(line, who + " has more than one of word, words, words_file, phrase, phrases, regex");
    if (r.is_regex && r.regex.empty() && kinds == 1) c.err(r.regex_line ? r.regex_line : line, who + ": regex is empty");
    if (empty_list.first) c.err(empty_list.first, who + ": " + empty_list.second + " is empty: the rule could never match");
    if (!r.trigger.empty() && !r.is_regex) c.err(r.trigger_line, who + ": trigger is for regex rules only (words and phrases are their own triggers)");
    if (r.disguised_only && r.is_regex)
        c.err(line, who + ": disguised_only is for word lists (the evasion skeleton matches single words, not regexes)");
    for (size_t i = 0; i < r.literals.size(); ++i) {
        auto &w = r.literals[i];
        const std::string written = w;
        // a mistake in a words_file entry is reported at the word file's line
        auto bad = [&](const std::string &m) {
            c.diags.push_back({r.literal_file(i), r.literal_lines[i], who + ": " + m});
        };
        // '*' opening or closing an entry: the entry may stand inside a longer word on that side
        bool open, close;
        const std::string wrong = strip_stars(w, open, close);
        const bool start_free = open || r.boundary == Boundary::Suffix || r.boundary == Boundary::Any;
        const bool end_free = close || r.boundary == Boundary::Prefix || r.boundary == Boundary::Any;
        r.literal_boundaries.push_back(boundary_of(!start_free, !end_free));
        // (which entry: a list written on one line has all its entries at that line)
        if (written.find_first_not_of(" \t\r\n") == std::string::npos)
            bad(i >= r.words_from ? "empty word or phrase" : "entry " + std::to_string(i + 1) + " is an empty word or phrase");
        else if (!valid_utf8(written)) bad("not valid UTF-8 (save the list as UTF-8)");
        else if (!wrong.empty()) bad(wrong);
    }
    keep_rule(c, std::move(r), has_score, errors, out);
}

// [[model]]: the learned scorer, a weights file written by scripts/train_model.py (docs/model.md).
void parse_model(Ctx &c, Sources &src, const std::string &path, const toml::table &t, uint32_t line,
                 const PackDefaults &d, RuleSet &out) {
    static const std::initializer_list<std::string_view> known = {
        "id", "category", "severity", "score", "description", "applies_to", "weights", "threshold", "match", "no_match"};
    Rule r = rule_with_defaults(path, line, d);
    r.is_model = true;
    r.boundary = Boundary::Any;
    bool has_score = false;
    uint32_t weights_line = 0;
    size_t errors = c.diags.size();
    for (auto &&[k, v] : t) {
        std::string_view key = k.str();
        if (parse_common_key(c, key, v, r, has_score)) {
        } else if (key == "weights") {
            weights_line = v.source().begin.line;
            if (auto s = get_string(c, v, "weights")) r.model_file = *s;
        } else if (key == "threshold") {
            if (auto x = get_number(c, v, "threshold", 0.0, 1.0)) r.threshold = *x;
        } else {
            c.err(line_of(k), "unknown key '" + std::string(key) + "' in [[model]]" + suggest(key, known));
        }
    }
    const std::string who = check_common(c, line, r, "model", "abuse.toxic");
    if (r.model_file.empty()) {
        if (!weights_line) c.err(line, who + " has no weights (the file scripts/train_model.py wrote)");
    } else {
        std::string resolved;
        if (const SourceFile *f = pack_relative_file(src, path, r.model_file, resolved)) {
            r.model_file = resolved;
            if (c.model_weights) r.model = parse_model_weights(resolved, f->content, c.diags);
        } else {
            c.err(weights_line, who + ": weights: cannot read '" + resolved + "'");
        }
    }
    keep_rule(c, std::move(r), has_score, errors, out);
}

// [[commitment]]: a promise recognised by its structure (speaker, commitment, deliverable, no hedge).
void parse_commitment(Ctx &c, const std::string &path, const toml::table &t, uint32_t line, const PackDefaults &d,
                      RuleSet &out) {
    static const std::initializer_list<std::string_view> known = {
        "id", "category", "severity", "score", "description", "applies_to", "who", "commit", "what", "unless",
        "within", "match", "no_match"};
    Rule r = rule_with_defaults(path, line, d);
    r.is_commitment = true;
    r.boundary = Boundary::Any;
    Commitment &cm = r.commitment;
    bool has_score = false;
    size_t errors = c.diags.size();
    for (auto &&[k, v] : t) {
        std::string_view key = k.str();
        if (parse_common_key(c, key, v, r, has_score)) {
        } else if (key == "who" || key == "commit" || key == "what" || key == "unless") {
            auto &dst = key == "who" ? cm.who : key == "commit" ? cm.commit : key == "what" ? cm.what : cm.unless;
            auto &lines = key == "who" ? cm.who_lines : key == "commit" ? cm.commit_lines
                        : key == "what" ? cm.what_lines : cm.unless_lines;
            if (!v.is_array()) c.err(v, std::string(key) + " must be an array of phrases and @lists");
            else get_strings(c, v, key, dst, &lines);
        } else if (key == "within") {
            if (auto n = get_number(c, v, "within", 0, 30)) cm.within = static_cast<uint32_t>(*n);
        } else {
            c.err(line_of(k), "unknown key '" + std::string(key) + "' in [[commitment]]" + suggest(key, known));
        }
    }
    const std::string who = check_common(c, line, r, "commitment", "promise.money");
    if (cm.commit.empty()) c.err(line, who + " has no commit phrases (what commits: \"will\", \"'ll\", \"can offer\")");
    if (cm.what.empty()) c.err(line, who + " has no what phrases (what is promised: \"refund\", \"tomorrow\")");
    keep_rule(c, std::move(r), has_score, errors, out);
}

bool valid_list_name(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char ch : s)
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) return false;
    return true;
}

// [words]: named lists of phrases for [[commitment]] rules ("@name").
void parse_word_lists(Ctx &c, const toml::table &t, RuleSet &out) {
    for (auto &&[k, v] : t) {
        std::string name(k.str());
        if (!valid_list_name(name)) {
            c.err(line_of(k), "word list name '" + name + "' must be lowercase letters, digits, '_' or '-'");
            continue;
        }
        if (!v.is_array()) {
            c.err(v, "words." + name + " must be an array of phrases");
            continue;
        }
        WordList &wl = out.words[name];
        size_t before = wl.words.size();
        get_strings(c, v, "words." + name, wl.words, &wl.lines);
        wl.files.resize(wl.words.size(), c.file);
        for (size_t i = before; i < wl.words.size(); ++i)
            if (!wl.words[i].empty() && wl.words[i][0] == '@' && !valid_list_name(wl.words[i].substr(1)))
                c.err(wl.lines[i], "words." + name + ": '" + wl.words[i] + "': a list name after '@' must be lowercase "
                                   "letters, digits, '_' or '-'");
    }
}

// A list may name another ("hedge = ["@negation", "may", ...]"): once every file is read (a list
// gets the words of every file that gives it), each "@name" in a list is replaced by that list's
// words, in place. A name that no file gives, lists that come back to themselves, lists nested
// deeper than kMaxListDepth and more than kMaxListPhrases phrases in all once lists are put in are
// mistakes, each reported once at the line that names the list (the lists that name a list gone
// wrong take nothing from it, quietly).
constexpr size_t kMaxListDepth = 16, kMaxListPhrases = 262144;
void resolve_list_names(RuleSet &out, std::vector<Diagnostic> &diags) {
    enum State : uint8_t { kTodo, kDoing, kDone, kFailed };
    std::map<std::string, State> state;
    size_t total = 0;       // phrases in every list resolved so far
    bool too_many = false, too_deep = false;  // (each reported once)
    auto resolve = [&](auto &self, const std::string &name, size_t depth) -> void {
        WordList &wl = out.words[name];
        state[name] = kDoing;
        WordList flat;
        bool ok = true;
        for (size_t i = 0; i < wl.words.size() && ok; ++i) {
            const std::string &w = wl.words[i];
            if (w.empty() || w[0] != '@') {
                flat.words.push_back(w);
                flat.lines.push_back(wl.lines[i]);
                flat.files.push_back(wl.files[i]);
                continue;
            }
            const std::string other = w.substr(1);
            if (!valid_list_name(other)) continue;  // (reported as it was read)
            if (out.words.find(other) == out.words.end()) {
                diags.push_back({wl.files[i], wl.lines[i], "words." + name + ": no word list '" + w + "' (give it in a [words] table)"});
                continue;
            }
            State &st = state[other];
            if (st == kDoing) {
                diags.push_back({wl.files[i], wl.lines[i], "words." + name + ": '" + w + "' leads back to words." + name +
                                                                " (lists that name each other in a circle)"});
                continue;
            }
            if (st == kTodo) {
                if (depth + 1 >= kMaxListDepth) {
                    if (!too_deep)
                        diags.push_back({wl.files[i], wl.lines[i], "words." + name + ": '" + w + "': lists that name lists more than " +
                                                                        std::to_string(kMaxListDepth) + " deep"});
                    too_deep = true;
                    ok = false;
                    break;
                }
                self(self, other, depth + 1);
            }
            if (state[other] == kFailed) {
                ok = false;
                break;
            }
            const WordList &o = out.words[other];
            if (total + flat.words.size() + o.words.size() > kMaxListPhrases) {  // ("a = [@b, @b]", "b = [@c, @c]" ...)
                if (!too_many)
                    diags.push_back({wl.files[i], wl.lines[i], "words." + name + ": more than " + std::to_string(kMaxListPhrases) +
                                                                    " phrases in all once the lists named are put in"});
                too_many = true;
                ok = false;
                break;
            }
            for (size_t k = 0; k < o.words.size(); ++k) {
                flat.words.push_back(o.words[k]);
                flat.lines.push_back(wl.lines[i]);  // (where this list names it)
                flat.files.push_back(wl.files[i]);
            }
        }
        if (!ok) flat = WordList();
        total += flat.words.size();
        out.words[name] = std::move(flat);
        state[name] = ok ? kDone : kFailed;
    };
    std::vector<std::string> names;
    for (const auto &[name, wl] : out.words) names.push_back(name);
    for (const std::string &name : names)
        if (state[name] == kTodo) resolve(resolve, name, 0);
}

}  // namespace

// A literal word or phrase as a Hyperscan expression: normalized, escaped, words joined by \s+.
std::string literal_expression(std::string_view literal) {
    std::string norm = normalize_literal(literal);
    std::string expr;
    bool in_space = true;
    for (unsigned char c : norm) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            in_space = true;
            continue;
        }
        if (in_space && !expr.empty()) expr += "\\s+";
        in_space = false;
        if (ascii_alnum(c) || c >= 0x80) {
            expr += static_cast<char>(c);
        } else {
            append_hex_escape(expr, c);
        }
    }
    return expr;
}

namespace {

// A regex (or trigger) may name a [words] list: "{@groups}" stands for the list's phrases as one
// group, "(?:jews|muslims|trans\s+people)", so that a list that several rules share is written once
// and a community extends it without touching a regex. Each phrase is normalized as posts are
// (case, accents, look-alikes folded), its words separated by any white space, every other character
// but a letter, a digit or a byte beyond ASCII escaped; a word "*" is any one word and "#" a number,
// as in commitment phrases. Inside [...] and \Q...\E, "{@" is left as it is. A name that no file
// gives, an empty list and a regex that grows past kMaxRegexBytes are mistakes at the regex's line,
// a phrase with '^' or '!' (commitment-only marks) at the phrase's. `what` names the key ("regex").
// Returns whether the text named a list.
constexpr size_t kMaxRegexBytes = 1 << 20;
bool expand_regex_lists(std::string &re, const std::string &who, const std::string &what, const std::string &file,
                        uint32_t line, const RuleSet &rs, std::vector<Diagnostic> &diags) {
    if (re.find("{@") == std::string::npos) return false;
    std::string out;
    size_t i = 0;
    bool in_class = false;  // inside [...], where "{@" is two characters of the class
    while (i < re.size()) {
        if (re[i] == '\\' && i + 1 < re.size()) {  // an escaped '{' is a '{'; \Q...\E is quoted whole
            const size_t q = re[i + 1] == 'Q' ? re.find("\\E", i + 2) : std::string::npos;
            const size_t to = re[i + 1] != 'Q' ? i + 2 : q == std::string::npos ? re.size() : q + 2;
            out.append(re, i, to - i);
            i = to;
            continue;
        }
        if (in_class || re[i] == '[') {
            if (!in_class) {  // "[]...]" and "[^]...]": a ']' first is a member
                in_class = true;
                out += re[i++];
                if (i < re.size() && re[i] == '^') out += re[i++];
                if (i < re.size() && re[i] == ']') out += re[i++];
                continue;
            }
            if (re[i] == ']') in_class = false;
            out += re[i++];
            continue;
        }
        if (re.compare(i, 2, "{@") != 0) {
            out += re[i++];
            continue;
        }
        const size_t close = re.find('}', i);
        const std::string name = close == std::string::npos ? std::string() : re.substr(i + 2, close - i - 2);
        if (close == std::string::npos || !valid_list_name(name)) {
            diags.push_back({file, line, who + ": " + what + ": '{@' must be followed by a list name and '}' (\"{@groups}\"); "
                                                  "write \\{ for a '{'"});
            return true;
        }
        auto it = rs.words.find(name);
        if (it == rs.words.end()) {
            diags.push_back({file, line, who + ": " + what + ": no word list '@" + name + "' (give it in a [words] table)"});
            return true;
        }
        std::string alt;
        std::set<std::string> seen;
        for (size_t k = 0; k < it->second.words.size(); ++k) {
            const std::string &phrase = it->second.words[k];
            // each word as a word-list literal matches it (literal_expression: normalized, escaped),
            // "*" and "#" as in commitment phrases
            std::string one;
            for (size_t a = 0; a < phrase.size();) {
                if (phrase[a] == ' ' || phrase[a] == '\t') {
                    ++a;
                    continue;
                }
                size_t b = a;
                while (b < phrase.size() && phrase[b] != ' ' && phrase[b] != '\t') ++b;
                const std::string_view w(phrase.data() + a, b - a);
                a = b;
                if (w.front() == '^' || w.front() == '!') {
                    diags.push_back({it->second.files[k], it->second.lines[k],
                                     "words." + name + ": '" + phrase + "': '" + w.front() +
                                         "' is for commitment phrases, not a regex (" + who + " names it in its " + what + ")"});
                    return true;
                }
                const std::string e = w == "*" ? "\\S+" : w == "#" ? "\\d[\\d,.]*" : literal_expression(w);
                if (e.empty()) continue;
                if (!one.empty()) one += "\\s+";
                one += e;
            }
            if (one.empty() || !seen.insert(one).second) continue;
            if (!alt.empty()) alt += '|';
            alt += one;
        }
        if (alt.empty()) {
            diags.push_back({file, line, who + ": " + what + ": word list '@" + name + "' has no phrases"});
            return true;
        }
        out += "(?:" + alt + ")";
        if (out.size() > kMaxRegexBytes) {
            diags.push_back({file, line, who + ": " + what + ": more than " + std::to_string(kMaxRegexBytes) +
                                             " bytes once its word lists are put in"});
            return true;
        }
        i = close + 1;
    }
    re = std::move(out);
    return true;
}

// [spellings]: other spellings of a phrase word, as posts write it ("your" = ["ur"]). The key is
// one word, each spelling one word or several; neither may hold a list name, an exception, a
// wildcard or the sentence-start marker ('@', '!', '#', '*', '^'). A key given in several files
// gets the spellings of all of them, at most kMaxSpellings in all.
constexpr size_t kMaxSpellings = 16;
void parse_spellings(Ctx &c, const toml::table &t, RuleSet &out) {
    // the words of s, separated by one space ("" when there are none)
    auto words_of = [](std::string_view s) {
        std::string w;
        for (size_t i = 0; i < s.size();) {
            while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
            size_t e = i;
            while (e < s.size() && s[e] != ' ' && s[e] != '\t') ++e;
            if (e > i) w += (w.empty() ? "" : " ") + std::string(s.substr(i, e - i));
            i = e;
        }
        return w;
    };
    auto plain = [](const std::string &w) { return !w.empty() && w.find_first_of("@!#*^") == std::string::npos; };
    for (auto &&[k, v] : t) {
        const std::string key = words_of(normalize_literal(k.str()));
        if (!plain(key) || key.find(' ') != std::string::npos) {
            c.err(line_of(k), "spellings: '" + std::string(k.str()) +
                                  "' must be one word (no spaces, '@', '!', '#', '*' or '^'), as phrases write it");
            continue;
        }
        if (!v.is_array()) {
            c.err(v, "spellings." + key + " must be an array of the other ways to write it");
            continue;
        }
        WordList &wl = out.spellings[key];
        const size_t before = wl.words.size();
        get_strings(c, v, "spellings." + key, wl.words, &wl.lines);
        wl.files.resize(wl.words.size(), c.file);
        size_t kept = before;
        for (size_t i = before; i < wl.words.size(); ++i) {
            const std::string w = words_of(normalize_literal(wl.words[i]));
            if (!plain(w)) {
                c.err(wl.lines[i], "spellings." + key + ": '" + wl.words[i] +
                                       "' must be plain words (no '@', '!', '#', '*' or '^')");
            } else if (w == key) {
                c.err(wl.lines[i], "spellings." + key + ": '" + wl.words[i] + "' is the word itself");
            } else if (std::find(wl.words.begin(), wl.words.begin() + static_cast<std::ptrdiff_t>(kept), w) ==
                       wl.words.begin() + static_cast<std::ptrdiff_t>(kept)) {  // (a repeat is dropped)
                if (kept == kMaxSpellings)
                    c.err(wl.lines[i], "spellings." + key + ": more than " + std::to_string(kMaxSpellings) +
                                           " spellings of one word");
                wl.words[kept] = w;
                wl.lines[kept] = wl.lines[i];
                wl.files[kept] = wl.files[i];
                ++kept;
            }
        }
        wl.words.resize(kept);
        wl.lines.resize(kept);
        wl.files.resize(kept);
    }
}

// The phrase with each of its words that [spellings] lists also written the other ways: "your
// refund" and "ur refund". The phrase as written comes first; a phrase of several listed words gets
// their combinations, the first kMaxSpelt of them (so that one community's slang cannot make
// another pack's phrases fail).
constexpr size_t kMaxSpelt = 64;
void spell_phrase(const std::string &phrase, const RuleSet &rs, std::vector<std::string> &out) {
    out.push_back(phrase);
    // the pieces between spaces, after a leading "!" or white space, which the variants keep
    size_t lead = phrase.find_first_not_of(" \t");
    if (lead == std::string::npos) return;
    if (phrase[lead] == '!') ++lead;
    std::vector<std::vector<const std::string *>> ways;
    std::vector<std::string> pieces;
    for (size_t i = lead; i < phrase.size();) {
        size_t e = phrase.find(' ', i);
        if (e == std::string::npos) e = phrase.size();
        if (e > i) pieces.emplace_back(phrase.substr(i, e - i));
        i = e + 1;
    }
    bool any = false;
    for (const std::string &p : pieces) {
        ways.push_back({&p});
        if (p == "#" || p == "*") continue;
        auto it = rs.spellings.find(normalize_literal(p));
        if (it == rs.spellings.end()) continue;
        for (const std::string &w : it->second.words) ways.back().push_back(&w);
        any = true;
    }
    if (!any) return;
    // every combination but the first (the phrase as written), counting in mixed radix
    std::vector<size_t> pick(ways.size(), 0);
    for (size_t made = 1; made < kMaxSpelt;) {
        size_t k = ways.size();
        while (k > 0 && ++pick[k - 1] == ways[k - 1].size()) pick[--k] = 0;
        if (k == 0) break;  // all made
        std::string v = phrase.substr(0, lead);
        for (size_t j = 0; j < ways.size(); ++j) v += (j ? " " : "") + *ways[j][pick[j]];
        out.push_back(std::move(v));
        ++made;
    }
}

// Replaces "@name" in a commitment's phrases with the words of that list, and adds every phrase's
// other spellings ([spellings]).
// `spelt`: spell_phrase's answers so far, by phrase (a word list that several rules name is spelt once).
using SpeltPhrases = std::unordered_map<std::string, std::vector<std::string>>;
void expand_lists(Rule &r, const RuleSet &rs, std::vector<Diagnostic> &diags, SpeltPhrases &spelt) {
    Commitment &cm = r.commitment;
    auto expand = [&](std::vector<std::string> &v, std::vector<uint32_t> &lines, const char *key) {
        std::vector<std::string> out;
        std::vector<uint32_t> out_lines;
        for (size_t i = 0; i < v.size(); ++i) {
            if (v[i].empty() || v[i][0] != '@') {
                out.push_back(v[i]);
                out_lines.push_back(lines[i]);
                continue;
            }
            auto it = rs.words.find(v[i].substr(1));
            if (it == rs.words.end()) {
                std::string known;
                for (const auto &[name, wl] : rs.words) known += (known.empty() ? "" : ", ") + ("@" + name);
                diags.push_back({r.file, lines[i], "commitment '" + r.id + "': " + key + ": no word list '" + v[i] +
                                                       "' (give it in a [words] table" +
                                                       (known.empty() ? "" : "; known: " + known) + ")"});
                continue;
            }
            for (const auto &w : it->second.words) {
                out.push_back(w);
                out_lines.push_back(lines[i]);
            }
        }
        v.swap(out);
        lines.swap(out_lines);
        if (rs.spellings.empty()) return;
        out.clear();
        out_lines.clear();
        std::unordered_set<std::string_view> seen;  // (views of spelt's strings, which stay where they are)
        for (size_t i = 0; i < v.size(); ++i) {
            auto it = spelt.find(v[i]);
            if (it == spelt.end()) {
                std::vector<std::string> ways;
                spell_phrase(v[i], rs, ways);
                it = spelt.emplace(v[i], std::move(ways)).first;
            }
            for (const std::string &w : it->second)
                if (seen.insert(w).second) {
                    out.push_back(w);
                    out_lines.push_back(lines[i]);
                }
        }
        v.swap(out);
        lines.swap(out_lines);
    };
    expand(cm.who, cm.who_lines, "who");
    expand(cm.commit, cm.commit_lines, "commit");
    expand(cm.what, cm.what_lines, "what");
    expand(cm.unless, cm.unless_lines, "unless");
}

void parse_policy(Ctx &c, const toml::table &t, uint32_t line, RuleSet &out) {
    if (!out.policy.file.empty()) {
        c.err(line, "[policy] already given at " + out.policy.file + ":" + std::to_string(out.policy.line));
        return;
    }
    out.policy.file = c.file;
    out.policy.line = line;
    uint32_t last_threshold = line;  // the line of the last threshold given, where an order mistake shows
    for (auto &&[k, v] : t) {
        std::string_view key = k.str();
        if (key == "flag" || key == "hold" || key == "reject") last_threshold = std::max(last_threshold, line_of(k));
        if (key == "quoted_weight") {
            if (auto n = get_number(c, v, key, 0.0, 1.0)) out.policy.quoted_weight = *n;
            continue;
        }
        double *dst = key == "flag" ? &out.policy.flag : key == "hold" ? &out.policy.hold
                    : key == "reject" ? &out.policy.reject : nullptr;
        if (!dst) {
            c.err(line_of(k), "unknown key '" + std::string(key) + "' in [policy]" +
                                  suggest(key, {"flag", "hold", "reject", "quoted_weight"}));
            continue;
        }
        if (auto n = get_number(c, v, key, 0.001, 1e6)) *dst = *n;
    }
    if (const std::string m = threshold_order_mistake(out.policy); !m.empty()) c.err(last_threshold, "[policy] " + m);
}

void parse_categories(Ctx &c, const toml::table &t, RuleSet &out) {
    for (auto &&[k, v] : t) {
        std::string name(k.str());
        auto tbl = v.as_table();
        if (!tbl) {
            c.err(v, "category \"" + name + "\" must be a table: [category.\"" + name + "\"]");
            continue;
        }
        if (!valid_category(name)) {
            c.err(line_of(k), "category name '" + name + "' must be a dotted lowercase name");
            continue;
        }
        CategoryPolicy cp;
        cp.prefix = name;
        cp.file = c.file;
        cp.line = line_of(k);
        for (auto &&[ck, cv] : *tbl) {
            std::string_view key = ck.str();
            if (key == "route") {
                if (auto s = get_string(c, cv, "route")) {
                    if (!valid_route(*s))
                        c.err(cv, "route must be \"legal\", \"hr\", \"pr\" or \"support\"");
                    else cp.route = *s;
                }
            } else if (key == "flag" || key == "hold" || key == "reject") {
                double *dst = key == "flag" ? &cp.flag : key == "hold" ? &cp.hold : &cp.reject;
                if (auto n = get_number(c, cv, key, 0.001, 1e6)) *dst = *n;
            } else {
                c.err(line_of(ck), "unknown key '" + std::string(key) + "' in [category.\"" + name + "\"]" +
                                       suggest(key, {"route", "flag", "hold", "reject"}));
            }
        }
        for (const auto &other : out.policy.categories)
            if (other.prefix == name)
                c.err(cp.line, "category \"" + name + "\" already configured at " + other.file + ":" +
                                   std::to_string(other.line));
        out.policy.categories.push_back(std::move(cp));
    }
}

// ---- [state]: thresholds and windows of the state stage (core/state_policy.hpp) ----------------

const std::initializer_list<std::string_view> kStateKeys = {
    "duplicate_window", "duplicate_min_words", "duplicate_near_bits", "duplicate_flag", "duplicate_hold",
    "duplicate_reject", "flood_window", "flood_flag", "flood_hold", "flood_reject", "new_account_days",
    "new_account_flag", "new_account_hold"};

// The range of a [state] key's value; false for an unknown key.
bool state_key_range(std::string_view key, double &lo, double &hi) {
    lo = 0;
    if (key == "duplicate_window" || key == "flood_window") lo = 1, hi = 30 * 86400.0;
    else if (key == "duplicate_min_words") lo = 1, hi = 1000;
    else if (key == "duplicate_near_bits") hi = 24;
    else if (key == "duplicate_flag" || key == "duplicate_hold" || key == "duplicate_reject") hi = 1e6;
    else if (key == "flood_flag" || key == "flood_hold" || key == "flood_reject") hi = kFloodRing;
    else if (key == "new_account_days") hi = 36500;
    else if (key == "new_account_flag" || key == "new_account_hold") hi = 1000;
    else return false;
    return true;
}

void set_state_key(StateRules &r, std::string_view key, double v) {
    auto u = static_cast<uint32_t>(v);
    if (key == "duplicate_window") r.duplicate_window_ms = static_cast<int64_t>(v * 1000);
    else if (key == "duplicate_min_words") r.duplicate_min_words = u;
    else if (key == "duplicate_near_bits") r.duplicate_near_bits = u;
    else if (key == "duplicate_flag") r.duplicate_flag = u;
    else if (key == "duplicate_hold") r.duplicate_hold = u;
    else if (key == "duplicate_reject") r.duplicate_reject = u;
    else if (key == "flood_window") r.flood_window_ms = static_cast<int64_t>(v * 1000);
    else if (key == "flood_flag") r.flood_flag = u;
    else if (key == "flood_hold") r.flood_hold = u;
    else if (key == "flood_reject") r.flood_reject = u;
    else if (key == "new_account_days") r.new_account_days = static_cast<int32_t>(v);
    else if (key == "new_account_flag") r.new_account_flag = u;
    else if (key == "new_account_hold") r.new_account_hold = u;
}

// A [state] key's number, checked; nullopt (with a diagnostic) when wrong.
std::optional<double> state_value(Ctx &c, const toml::key &k, const toml::node &v, const std::string &where) {
    std::string_view key = k.str();
    double lo, hi;
    if (!state_key_range(key, lo, hi)) {
        c.err(line_of(k), "unknown key '" + std::string(key) + "' in " + where + suggest(key, kStateKeys));
        return std::nullopt;
    }
    return get_number(c, v, key, lo, hi);
}

void parse_state(Ctx &c, const toml::table &t, uint32_t line, RuleSet &out) {
    if (out.state_file.empty()) {
        out.state_file = c.file;
        out.state_line = line;
    }
    for (auto &&[k, v] : t) {
        if (k.str() == "channel") {
            auto channels = v.as_table();
            if (!channels) {
                c.err(v, "state.channel must be a table: [state.channel.\"name\"]");
                continue;
            }
            for (auto &&[ck, cv] : *channels) {
                auto ct = cv.as_table();
                std::string name(ck.str());
                if (!ct) {
                    c.err(cv, "channel \"" + name + "\" must be a table: [state.channel.\"" + name + "\"]");
                    continue;
                }
                for (auto &&[kk, kv] : *ct)
                    if (auto n = state_value(c, kk, kv, "[state.channel.\"" + name + "\"]"))
                        out.state_overrides.push_back({name, std::string(kk.str()), *n, c.file, line_of(kk)});
            }
            continue;
        }
        if (auto n = state_value(c, k, v, "[state]")) set_state_key(out.state.defaults, k.str(), *n);
    }
}

void finish_state(RuleSet &out, std::vector<Diagnostic> &diags) {
    StatePolicy &sp = out.state;
    sp.channels.clear();
    for (const auto &o : out.state_overrides) {
        auto it = std::find_if(sp.channels.begin(), sp.channels.end(), [&](const auto &ch) { return ch.first == o.channel; });
        if (it == sp.channels.end()) it = sp.channels.insert(sp.channels.end(), {o.channel, sp.defaults});
        set_state_key(it->second, o.key, o.value);
    }
    auto check = [&](const StateRules &r, const std::string &where, const std::string &file, uint32_t line) {
        auto ordered = [](uint32_t a, uint32_t b) { return !a || !b || a <= b; };
        if (!ordered(r.duplicate_flag, r.duplicate_hold) || !ordered(r.duplicate_hold, r.duplicate_reject) ||
            !ordered(r.flood_flag, r.flood_hold) || !ordered(r.flood_hold, r.flood_reject) ||
            !ordered(r.new_account_flag, r.new_account_hold))
            diags.push_back({file, line, where + ": thresholds must satisfy flag <= hold <= reject (0 turns one off)"});
    };
    check(sp.defaults, "[state]", out.state_file, out.state_line);
    for (const auto &[name, r] : sp.channels) {
        // (at the channel's last key: the one that left its thresholds out of order, or after it)
        const RuleSet::StateOverride *last = nullptr;
        for (const auto &o : out.state_overrides)
            if (o.channel == name) last = &o;
        check(r, "[state.channel.\"" + name + "\"]", last ? last->file : out.state_file, last ? last->line : out.state_line);
    }
    // spam.* categories take the route of the longest configured category prefix of "spam.duplicate".
    if (const CategoryPolicy *cp = category_policy(out.policy, kCatDuplicate)) sp.route = cp->route;
}

void parse_file(Sources &src, const std::string &path, const std::string &content, RuleSet &out,
                std::vector<Diagnostic> &diags, bool model_weights) {
    Ctx c{path, diags, model_weights};
    toml::table doc;
    try {
        doc = toml::parse(content, path);
    } catch (const toml::parse_error &e) {
        diags.push_back({path, e.source().begin.line, std::string(e.description())});
        return;
    }
    PackDefaults d;
    if (auto pack = doc["pack"].as_table()) {
        for (auto &&[k, v] : *pack) {
            std::string_view key = k.str();
            if (key == "name" || key == "description") {
                get_string(c, v, key);
            } else if (key == "applies_to") {
                if (auto r = get_roles(c, v)) d.roles = *r;
            } else if (key == "category") {
                if (auto s = get_string(c, v, "category")) {
                    if (!valid_category(*s)) c.err(v, "category '" + *s + "' must be a dotted lowercase name");
                    d.category = *s;
                }
            } else if (key == "severity") {
                if (auto s = get_severity(c, v)) d.severity = *s;
            } else {
                c.err(line_of(k), "unknown key '" + std::string(key) + "' in [pack]" +
                                      suggest(key, {"name", "description", "applies_to", "category", "severity"}));
            }
        }
    }
    for (auto &&[k, v] : doc) {
        std::string_view key = k.str();
        uint32_t line = line_of(k);
        // [[rule]], [[commitment]], [[model]]: each table of the array, or one mistake when it is not one
        auto each_table = [&](const toml::node &n, auto &&parse) {
            auto arr = n.as_array();
            if (!arr || !arr->is_array_of_tables()) {
                c.err(line, std::string(key) + " must be an array of tables: [[" + std::string(key) + "]]");
                return;
            }
            for (const auto &e : *arr) parse(*e.as_table(), static_cast<uint32_t>(e.source().begin.line));
        };
        if (key == "pack") {
            if (!v.is_table()) c.err(line, "pack must be a table: [pack]");
        } else if (key == "rule") {
            each_table(v, [&](const toml::table &t, uint32_t l) { parse_rule(c, src, path, t, l, d, out); });
        } else if (key == "commitment") {
            each_table(v, [&](const toml::table &t, uint32_t l) { parse_commitment(c, path, t, l, d, out); });
        } else if (key == "model") {
            each_table(v, [&](const toml::table &t, uint32_t l) { parse_model(c, src, path, t, l, d, out); });
        } else if (key == "words") {
            if (auto t = v.as_table()) parse_word_lists(c, *t, out);
            else c.err(line, "words must be a table: [words]");
        } else if (key == "spellings") {
            if (auto t = v.as_table()) parse_spellings(c, *t, out);
            else c.err(line, "spellings must be a table: [spellings]");
        } else if (key == "allow") {
            auto t = v.as_table();
            if (!t) {
                c.err(line, "allow must be a table: [allow]");
                continue;
            }
            for (auto &&[ak, av] : *t) {
                const std::string_view akey = ak.str();
                if (akey != "words" && akey != "as_written") {
                    c.err(line_of(ak), "unknown key '" + std::string(akey) + "' in [allow] (expected 'words' or 'as_written')" +
                                           suggest(akey, {"words", "as_written"}));
                    continue;
                }
                std::vector<std::string> words;
                std::vector<uint32_t> lines;
                get_strings(c, av, akey == "words" ? "allow.words" : "allow.as_written", words, &lines);
                for (size_t i = 0; i < words.size(); ++i) {
                    AllowEntry a{words[i], path, lines[i], akey == "as_written"};
                    // "*stem*": matched anywhere; it drops a hit whose own match lies inside it
                    bool open, close;
                    const bool wrong = !strip_stars(a.text, open, close).empty() || open != close ||
                                       a.text.front() == ' ' || a.text.back() == ' ';
                    if (open) a.boundary = Boundary::Any;
                    if (wrong) c.err(lines[i], "allow: '" + words[i] + "': a word, or '*stem*' for every word that holds the stem");
                    out.allow.push_back(std::move(a));
                }
            }
        } else if (key == "policy") {
            if (auto t = v.as_table()) parse_policy(c, *t, line, out);
            else c.err(line, "policy must be a table: [policy]");
        } else if (key == "category") {
            if (auto t = v.as_table()) parse_categories(c, *t, out);
            else c.err(line, "category must be a table: [category.\"name\"]");
        } else if (key == "state") {
            if (auto t = v.as_table()) parse_state(c, *t, line, out);
            else c.err(line, "state must be a table: [state]");
        } else {
            c.err(line, "unknown table '" + std::string(key) + "'" +
                            suggest(key, {"pack", "rule", "commitment", "model", "words", "spellings", "allow", "policy", "category", "state"}));
        }
    }
}

}  // namespace

bool within_parsed_ranges(const RuleSet &rs) {
    auto in = [](double x, double lo, double hi) { return x >= lo && x <= hi; };  // (false for NaN)
    std::set<std::string_view> ids;
    for (const Rule &r : rs.rules)
        if (!valid_id(r.id) || !valid_category(r.category) || !severity_name(r.severity)[0] || !in(r.score, 0, 1000) || !in(r.threshold, 0, 1) || r.commitment.within > 30 ||
            r.roles == 0 || r.roles > kRoleEveryone || !ids.insert(r.id).second ||
            int(r.is_regex) + int(r.is_commitment) + int(r.is_model) > 1)
            return false;
    const Policy &p = rs.policy;
    if (!in(p.flag, 0.001, 1e6) || !in(p.hold, 0.001, 1e6) || !in(p.reject, 0.001, 1e6) || !(p.flag <= p.hold && p.hold <= p.reject) ||
        !in(p.quoted_weight, 0, 1))
        return false;
    for (const CategoryPolicy &c : p.categories) {
        if (!valid_category(c.prefix) || !valid_route(c.route))
            return false;
        for (double x : {c.flag, c.hold, c.reject})
            if (x != -1 && !in(x, 0.001, 1e6)) return false;
    }
    auto state_ok = [&](const StateRules &r) {
        double lo, hi;
        auto key_ok = [&](std::string_view key, double v) { return state_key_range(key, lo, hi) && in(v, lo, hi); };
        return key_ok("duplicate_window", r.duplicate_window_ms / 1000.0) && key_ok("flood_window", r.flood_window_ms / 1000.0) &&
               key_ok("duplicate_min_words", r.duplicate_min_words) && key_ok("duplicate_near_bits", r.duplicate_near_bits) &&
               key_ok("duplicate_flag", r.duplicate_flag) && key_ok("duplicate_hold", r.duplicate_hold) &&
               key_ok("duplicate_reject", r.duplicate_reject) && key_ok("flood_flag", r.flood_flag) &&
               key_ok("flood_hold", r.flood_hold) && key_ok("flood_reject", r.flood_reject) &&
               key_ok("new_account_days", r.new_account_days) && key_ok("new_account_flag", r.new_account_flag) &&
               key_ok("new_account_hold", r.new_account_hold);
    };
    if (!state_ok(rs.state.defaults) || !valid_route(rs.state.route)) return false;
    for (const auto &[name, r] : rs.state.channels)
        if (!state_ok(r)) return false;
    return true;
}

// A [words] list that no rule, no other list and not the commitment stage names ("mony" for "money":
// its words would never be used), and a [category."..."] under which no rule's category falls
// ("spma"): warnings, read before the lists' names are put in place.
void unused_names(RuleSet &out) {
    // (the lists the commitment stage reads by name: PhraseWords::kJoinList, kCheckingList, kConditionList)
    std::set<std::string> named = {"join", "checking", "condition", kNegationList};
    auto take = [&](const std::vector<std::string> &v) {
        for (const auto &w : v)
            if (w.size() > 1 && w[0] == '@') named.insert(w.substr(1));
    };
    auto take_regex = [&](const std::string &re) {
        for (size_t i = re.find("{@"); i != std::string::npos; i = re.find("{@", i + 2))
            if (const size_t close = re.find('}', i); close != std::string::npos) named.insert(re.substr(i + 2, close - i - 2));
    };
    for (const auto &[name, wl] : out.words) take(wl.words);
    for (const auto &r : out.rules) {
        if (r.is_commitment) {
            const Commitment &c = r.commitment;
            for (const auto *v : {&c.who, &c.commit, &c.what, &c.unless}) take(*v);
        }
        if (r.is_regex) {
            take_regex(r.regex);
            take_regex(r.trigger);
        }
    }
    std::vector<std::string_view> lists;
    for (const auto &[name, wl] : out.words)
        if (named.count(name)) lists.push_back(name);
    for (const auto &[name, wl] : out.words) {
        if (named.count(name) || wl.files.empty()) continue;
        const std::string other = closest(name, lists);
        const std::string hint = other.empty() ? "" : " (did you mean '" + other + "'?)";
        out.warnings.push_back({wl.files[0], wl.lines[0], "warning: words." + name +
                                                               " is named by no rule or list (as \"@" + name +
                                                               "\"): its words are not used" + hint});
    }
    // the categories the state stage adds (core/state.cpp), which no rule has
    std::vector<std::string> cats = {kCatDuplicate, kCatFlood, kCatNewAccountLinks};
    for (const auto &r : out.rules) cats.push_back(r.category);
    for (const CategoryPolicy &cp : out.policy.categories) {
        const bool used = std::any_of(cats.begin(), cats.end(), [&](const std::string &c) { return category_under(c, cp.prefix); });
        if (!used)
            out.warnings.push_back({cp.file, cp.line, "warning: [category.\"" + cp.prefix +
                                                          "\"] matches no rule's category: its settings are not used"});
    }
}

void parse_rules(Sources &src, RuleSet &out, std::vector<Diagnostic> &diags, bool model_weights) {
    // Index-based: parse_words_file may append to src.files.
    size_t n = src.files.size();
    for (size_t i = 0; i < n; ++i) {
        if (fs::path(src.files[i].path).extension() != ".toml") continue;
        std::string path = src.files[i].path, content = src.files[i].content;
        parse_file(src, path, content, out, diags, model_weights);
    }
    unused_names(out);
    resolve_list_names(out, diags);
    for (auto &r : out.rules) {
        if (!r.is_regex) continue;
        const std::string who = "rule '" + r.id + "'";
        r.regex_lists = expand_regex_lists(r.regex, who, "regex", r.file, r.regex_line ? r.regex_line : r.line, out, diags);
        r.regex_lists |= expand_regex_lists(r.trigger, who, "trigger", r.file, r.trigger_line ? r.trigger_line : r.line, out, diags);
    }
    SpeltPhrases spelt;
    for (auto &r : out.rules)
        if (r.is_commitment) expand_lists(r, out, diags, spelt);
    finish_state(out, diags);
    // Every rule read, those with mistakes too, so that one run reports a duplicate id beside them.
    std::map<std::string, const RuleSet::RuleAt *> seen;
    for (const auto &r : out.ids) {
        auto [it, fresh] = seen.emplace(r.id, &r);
        if (!fresh)
            diags.push_back({r.file, r.line, "duplicate rule id '" + r.id + "' (first defined at " +
                                                 it->second->file + ":" + std::to_string(it->second->line) + ")"});
    }
}

}  // namespace mf
