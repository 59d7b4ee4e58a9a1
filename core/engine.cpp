#include "engine.hpp"

#include <hs/hs.h>
#define XXH_INLINE_ALL  // header-only: no runtime dependency on libxxhash
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "prefilter.hpp"
#include "version.hpp"

namespace mf {

namespace {

constexpr unsigned kPatternFlags = HS_FLAG_CASELESS | HS_FLAG_SOM_LEFTMOST | HS_FLAG_UTF8;
constexpr unsigned kLiteralFlags = HS_FLAG_CASELESS | HS_FLAG_UTF8;
constexpr unsigned kTriggerFlags = HS_FLAG_CASELESS;
// A regex or phrase match must lie within this many bytes of its trigger (docs/limits.md):
// moderation patterns are sentence-sized, and the window bounds the work per trigger.
constexpr uint32_t kMaxWindow = 160;
// More windows than this (or than one per 64 bytes of a long post) in one post: each variable
// database runs over the whole post instead.
constexpr size_t kMaxWindows = 4096;

// Length in bytes of the text an escaped literal expression matches (each \xHH is one byte).
size_t literal_length(std::string_view e) {
    size_t n = 0;
    for (size_t i = 0; i < e.size(); ++n) i += (e[i] == '\\' && i + 1 < e.size() && e[i + 1] == 'x') ? 4 : 1;
    return n;
}

inline bool ascii_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

// Whether a word code point starts at pos.
inline bool word_at(const char *t, size_t len, size_t pos) {
    if (pos >= len) return false;
    auto b = static_cast<unsigned char>(t[pos]);
    if (b < 0x80) return ascii_alnum(b);
    uint32_t cp;
    bool valid;
    decode_utf8(reinterpret_cast<const unsigned char *>(t) + pos, len - pos, &cp, &valid);
    return valid && is_word_cp(cp);
}

// Whether a word code point ends at pos.
inline bool word_before(const char *t, size_t len, size_t pos) {
    if (pos == 0) return false;
    auto b = static_cast<unsigned char>(t[pos - 1]);
    if (b < 0x80) return ascii_alnum(b);
    size_t i = pos - 1;
    for (int k = 0; k < 3 && i > 0 && (static_cast<unsigned char>(t[i]) & 0xC0) == 0x80; ++k) --i;
    return word_at(t, len, i);
}

// Where the word containing the code point at pos ends / the word ending at pos starts.
size_t word_end(const char *t, size_t len, size_t pos) {
    while (word_at(t, len, pos)) {
        ++pos;
        while (pos < len && (static_cast<unsigned char>(t[pos]) & 0xC0) == 0x80) ++pos;
    }
    return pos;
}
size_t word_start(const char *t, size_t len, size_t pos) {
    while (word_before(t, len, pos)) {
        --pos;
        while (pos > 0 && (static_cast<unsigned char>(t[pos]) & 0xC0) == 0x80) --pos;
    }
    return pos;
}

// The Luhn checksum of the digits in t[0..n) (payment card numbers); other characters are skipped.
bool luhn_ok(const char *t, size_t n) {
    int sum = 0, count = 0;
    for (size_t i = n; i-- > 0;) {
        if (t[i] < '0' || t[i] > '9') continue;
        int d = t[i] - '0';
        if (count++ % 2 == 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return count >= 12 && sum % 10 == 0;
}

inline bool boundary_ok(const char *t, size_t len, size_t from, size_t to, Boundary b) {
    if (b == Boundary::Any || to <= from) return true;
    if (b != Boundary::Suffix && word_at(t, len, from) && word_before(t, len, from)) return false;
    if (b != Boundary::Prefix && word_before(t, len, to) && word_at(t, len, to)) return false;
    return true;
}

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

std::string hs_error_text(hs_compile_error_t *err) {
    std::string m = err && err->message ? err->message : "unknown Hyperscan error";
    hs_free_compile_error(err);
    return m;
}

int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx);
int on_som_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx);
int on_window_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx);
int on_probe_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx);
int on_skeleton_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx);
int add_raw(Scanner *s, const Pattern &p, size_t from, size_t to, uint32_t ev);

}  // namespace

Engine::~Engine() {
    for (hs_database *db : main_dbs_) hs_free_database(db);
    for (hs_database *db : var_dbs_) hs_free_database(db);
    for (hs_database *db : probe_dbs_) hs_free_database(db);
    hs_free_database(skel_db_);
}

void Engine::build_tables(const EngineOptions &opt) {
    opt_ = opt;
    Policy &pol = rs_.policy;
    if (opt.flag >= 0) pol.flag = opt.flag;
    if (opt.hold >= 0) pol.hold = opt.hold;
    if (opt.reject >= 0) pol.reject = opt.reject;
    std::map<std::string, uint32_t> index;
    rule_cat_.clear();
    cats_.clear();
    for (const auto &r : rs_.rules) {
        auto [it, fresh] = index.emplace(r.category, static_cast<uint32_t>(cats_.size()));
        if (fresh) {
            CategoryInfo ci{r.category, "", pol.flag, pol.hold, pol.reject};
            size_t best = 0;
            const CategoryPolicy *bp = nullptr;
            for (const auto &cp : pol.categories) {
                bool match = r.category == cp.prefix ||
                             (r.category.size() > cp.prefix.size() &&
                              r.category.compare(0, cp.prefix.size(), cp.prefix) == 0 &&
                              r.category[cp.prefix.size()] == '.');
                if (match && cp.prefix.size() >= best) {
                    best = cp.prefix.size();
                    bp = &cp;
                }
            }
            if (bp) {
                ci.route = bp->route;
                if (bp->flag >= 0) ci.flag = bp->flag;
                if (bp->hold >= 0) ci.hold = bp->hold;
                if (bp->reject >= 0) ci.reject = bp->reject;
            }
            cats_.push_back(std::move(ci));
        }
        rule_cat_.push_back(it->second);
    }
}

void Engine::build_patterns(std::vector<std::string> &exprs, std::vector<unsigned> &flags,
                            std::vector<Diagnostic> &diags) {
    pats_.clear();
    skel_pats_.clear();
    skel_exprs_.clear();
    n_var_ = 0;
    // Single words of word lists also get a skeleton pattern (core/skeleton.hpp).
    auto add_skeleton = [&](std::string_view word, Pattern p) {
        size_t len = 0;
        std::string e = skeleton_expression(normalize_literal(word), &len);
        if (e.empty()) return;
        p.fixed_len = static_cast<uint32_t>(len);
        skel_exprs_.push_back(std::move(e));
        skel_pats_.push_back(p);
    };
    uint32_t next_group = 1;
    auto add_variable = [&](std::string e, Pattern p, const Rule *trigger_of = nullptr) {
        p.kind = Pattern::kVariable;
        uint32_t self = static_cast<uint32_t>(pats_.size());
        hs_expr_info_t *info = nullptr;
        hs_compile_error_t *err = nullptr;
        uint32_t w = kMaxWindow;
        if (hs_expression_info(e.c_str(), kPatternFlags, &info, &err) == HS_SUCCESS && info) {
            if (info->max_width < kMaxWindow) w = info->max_width;
            free(info);
        } else {
            hs_free_compile_error(err);  // reported when the database is compiled
        }
        p.window = w;
        // (no fallback to weaker atoms: substrings like "eat" fire on ordinary text all the time)
        auto sets = required_atom_sets(e, 4);
        // The rule's own trigger serves the alternatives that have no atoms of their own.
        if (trigger_of && (!sets.empty() || trigger_of->trigger.empty())) trigger_of = nullptr;
        p.var = static_cast<uint32_t>(n_var_++);
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
        if (trigger_of) {
            // The rule's own trigger: a regex every match contains, in the main database.
            Pattern t = p;
            t.kind = Pattern::kTrigger;
            t.target = self;
            t.boundary = Boundary::Any;
            t.wide = true;
            t.fixed_len = kMaxWindow;
            hs_expr_info_t *ti = nullptr;
            hs_compile_error_t *terr = nullptr;
            if (hs_expression_info(trigger_of->trigger.c_str(), kLiteralFlags, &ti, &terr) == HS_SUCCESS && ti) {
                if (ti->max_width < kMaxWindow) t.fixed_len = ti->max_width;
                free(ti);
            } else {
                hs_free_compile_error(terr);  // reported with the rule's file:line below
            }
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
            bool at_start = a.front() == kBoundaryMarker, at_end = a.back() == kBoundaryMarker;
            if (at_start) a.erase(0, 1);
            if (at_end) a.pop_back();
            t.boundary = at_start && at_end ? Boundary::Word : at_start ? Boundary::Prefix
                       : at_end ? Boundary::Suffix : Boundary::Any;
            t.fixed_len = static_cast<uint32_t>(a.size());
            // A word boundary the atom needs is checked inside Hyperscan too, as "not a letter or
            // digit" on that side: short atoms ("al" of "fek al vi") occur inside words all the
            // time, and a match that reaches the callback costs far more than one Hyperscan
            // rejects. The callback still applies the exact boundary rule (non-ASCII letters).
            const bool lead = at_start && ascii_alnum(static_cast<unsigned char>(a.front()));
            t.trail = at_end && ascii_alnum(static_cast<unsigned char>(a.back()));
            std::string lit = lead ? "(?:^|[^a-z0-9])" : "";
            for (unsigned char c : a) append_hex_escape(lit, c);
            if (t.trail) lit += "(?:[^a-z0-9]|$)";
            flags.push_back(kTriggerFlags);
            exprs.push_back(std::move(lit));
            pats_.push_back(t);
        }
    };
    // A one-word literal has a known length, so its start is end - length: compiled without
    // start-of-match tracking into the main database, it costs almost nothing to scan for.
    auto add_literal = [&](std::string e, Pattern p) {
        if (e.find("\\s+") != std::string::npos) return add_variable(std::move(e), p);
        p.fixed_len = static_cast<uint32_t>(literal_length(e));
        flags.push_back(kLiteralFlags);
        exprs.push_back(std::move(e));
        pats_.push_back(p);
    };
    for (uint32_t i = 0; i < rs_.rules.size(); ++i) {
        const Rule &r = rs_.rules[i];
        if (r.is_regex) {
            // Group 0 holds every phrase; each regex gets a group of its own, and each of its
            // top-level alternatives is a pattern of its own there, with atoms of its own.
            Pattern p{i, r.boundary, false, r.roles, 0};
            p.group = next_group++;
            p.luhn = r.luhn;
            for (auto &alt : split_alternatives(r.regex)) add_variable(std::move(alt), p, &r);
            continue;
        }
        for (size_t k = 0; k < r.literals.size(); ++k) {
            std::string e = literal_expression(r.literals[k]);
            if (e.empty()) {
                diags.push_back({r.file, r.literal_lines[k],
                                 "rule '" + r.id + "': '" + r.literals[k] + "' normalizes to nothing"});
                continue;
            }
            add_literal(std::move(e), {i, r.boundary, false, r.roles, 0});
            add_skeleton(r.literals[k], {i, r.boundary, false, r.roles, 0});
        }
    }
    for (uint32_t i = 0; i < rs_.allow.size(); ++i) {
        std::string e = literal_expression(rs_.allow[i].text);
        if (e.empty()) {
            diags.push_back({rs_.allow[i].file, rs_.allow[i].line, "allow: '" + rs_.allow[i].text + "' normalizes to nothing"});
            continue;
        }
        add_literal(std::move(e), {i, Boundary::Word, true, kRoleEveryone, 0});
        add_skeleton(rs_.allow[i].text, {i, Boundary::Word, true, kRoleEveryone, 0});
    }
    // What the databases were compiled from, so that a serialized database is only loaded by a
    // library that derives exactly the same patterns from the same packs.
    XXH64_state_t *st = XXH64_createState();
    XXH64_reset(st, 0);
    for (size_t i = 0; i < exprs.size(); ++i) {
        const Pattern &p = pats_[i];
        XXH64_update(st, exprs[i].data(), exprs[i].size() + 1);
        uint32_t f[10] = {flags[i], p.rule, static_cast<uint32_t>(p.kind), p.target, p.group, p.slot, p.fixed_len, p.window, p.trail, p.wide};
        XXH64_update(st, f, sizeof f);
    }
    for (const auto &e : skel_exprs_) XXH64_update(st, e.data(), e.size() + 1);
    exprs_ = exprs;
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

void Engine::build_groups(std::vector<size_t> (&main)[2], std::vector<std::vector<size_t>> &groups) const {
    std::vector<bool> has_trigger(pats_.size(), false);
    for (const Pattern &p : pats_)
        if (p.kind == Pattern::kTrigger) has_trigger[p.target] = true;
    for (size_t i = 0; i < pats_.size(); ++i) {
        const Pattern &p = pats_[i];
        if (p.kind != Pattern::kVariable || !has_trigger[i]) {
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

std::unique_ptr<Engine> Engine::compile(Sources src, const EngineOptions &opt,
                                        std::vector<Diagnostic> &diags) {
    std::unique_ptr<Engine> e(new Engine);
    e->src_ = std::move(src);
    parse_rules(e->src_, e->rs_, diags);
    if (!diags.empty()) throw Error(kRulesError, diags.front().str());
    e->build_tables(opt);
    std::vector<std::string> exprs;
    std::vector<unsigned> flags;
    e->build_patterns(exprs, flags, diags);
    // Regexes (and triggers) are checked one by one first, so that every bad one is reported with
    // its file:line.
    auto check = [&](const std::string &expr, unsigned f, const Rule &r, uint32_t line, const char *what) {
        hs_database_t *db = nullptr;
        hs_compile_error_t *err = nullptr;
        if (hs_compile(expr.c_str(), f, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS)
            diags.push_back({r.file, line ? line : r.line,
                             "rule '" + r.id + "': " + what + " does not compile: " + hs_error_text(err)});
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
    std::vector<size_t> main[2];
    std::vector<std::vector<size_t>> groups;
    e->build_groups(main, groups);
    for (int r = 0; r < 2; ++r) e->main_dbs_[r] = e->compile_db(exprs, flags, main[r], false, diags);
    for (const auto &g : groups) {
        e->var_dbs_.push_back(e->compile_db(exprs, flags, g, true, diags));
        e->probe_dbs_.push_back(e->compile_db(exprs, flags, g, false, diags));
    }
    e->skel_db_ = e->compile_skeleton_db();
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

// ---- serialization ------------------------------------------------------------------------

namespace {

constexpr char kMagic[8] = {'M', 'F', 'D', 'B', '\r', '\n', 0x1a, '\n'};
// 2: pattern fingerprint; 3: a main database per role, probe databases, and the pattern tables
// themselves, so that loading a database derives nothing from its rules but names, scores and policy
constexpr uint32_t kFormatVersion = 3;

std::string platform_string() {
    std::string p;
#if defined(__x86_64__)
    p = "x86_64";
#elif defined(__aarch64__)
    p = "aarch64";
#else
    p = "unknown-arch";
#endif
#if defined(__linux__)
    p += "-linux";
#elif defined(__APPLE__)
    p += "-darwin";
#endif
    return p;
}

struct Writer {
    std::string s;
    void u32(uint32_t v) { s.append(reinterpret_cast<const char *>(&v), 4); }
    void u64(uint64_t v) { s.append(reinterpret_cast<const char *>(&v), 8); }
    void str(std::string_view v) {
        u64(v.size());
        s.append(v);
    }
};

struct Reader {
    std::string_view d;
    size_t pos = 0;
    bool ok = true;
    bool take(void *out, size_t n) {
        if (!ok || d.size() - pos < n) return ok = false;
        std::memcpy(out, d.data() + pos, n);
        pos += n;
        return true;
    }
    uint32_t u32() {
        uint32_t v = 0;
        take(&v, 4);
        return v;
    }
    uint64_t u64() {
        uint64_t v = 0;
        take(&v, 8);
        return v;
    }
    std::string str() {
        uint64_t n = u64();
        if (!ok || d.size() - pos < n) {
            ok = false;
            return {};
        }
        std::string s(d.substr(pos, n));
        pos += n;
        return s;
    }
};

}  // namespace

namespace {

// Patterns field by field, 11 little-endian 32-bit words each (no padding bytes in the file).
constexpr size_t kPatternWords = 11;

std::string encode_patterns(const std::vector<Pattern> &pats) {
    Writer w;
    for (const Pattern &p : pats) {
        const uint32_t f[kPatternWords] = {p.rule, static_cast<uint32_t>(p.boundary), p.allow, p.roles, p.fixed_len,
                                           static_cast<uint32_t>(p.kind), p.target, p.window, p.group, p.var,
                                           uint32_t(p.slot) | uint32_t(p.slots) << 8 | uint32_t(p.luhn) << 16 |
                                               uint32_t(p.trail) << 24 | uint32_t(p.wide) << 25};
        for (uint32_t x : f) w.u32(x);
    }
    return w.s;
}

bool decode_patterns(std::string_view bytes, std::vector<Pattern> &out) {
    if (bytes.size() % (4 * kPatternWords)) return false;
    out.resize(bytes.size() / (4 * kPatternWords));
    Reader r{bytes};
    for (Pattern &p : out) {
        uint32_t f[kPatternWords];
        for (uint32_t &x : f) x = r.u32();
        if (f[1] > 3 || f[2] > 1 || f[3] > 0xFF || f[5] > 2 || (f[10] & 0xFCFE0000u)) return false;
        p = Pattern{f[0], static_cast<Boundary>(f[1]), f[2] != 0, static_cast<uint8_t>(f[3]), f[4]};
        p.kind = static_cast<Pattern::Kind>(f[5]);
        p.target = f[6];
        p.window = f[7];
        p.group = f[8];
        p.var = f[9];
        p.slot = static_cast<uint8_t>(f[10]);
        p.slots = static_cast<uint8_t>(f[10] >> 8);
        p.luhn = (f[10] >> 16) & 1;
        p.trail = (f[10] >> 24) & 1;
        p.wide = (f[10] >> 25) & 1;
    }
    return r.ok;
}

}  // namespace

bool Engine::check_patterns() const {
    // A checksum guards against accidents only: every index is checked before the scanner uses it.
    auto valid = [&](const Pattern &p) {
        if (static_cast<unsigned>(p.boundary) > static_cast<unsigned>(Boundary::Any)) return false;
        if (p.allow ? p.rule >= rs_.allow.size() : p.rule >= rs_.rules.size()) return false;
        return p.fixed_len <= (1u << 20) && p.window <= kMaxWindow && p.slot < 2 && p.slots <= 2;
    };
    for (const Pattern &p : skel_pats_)
        if (!valid(p) || p.kind != Pattern::kLiteral) return false;
    for (const Pattern &p : pats_) {
        if (!valid(p) || p.kind > Pattern::kTrigger) return false;
        if (p.kind == Pattern::kTrigger && (p.target >= pats_.size() || pats_[p.target].kind != Pattern::kVariable))
            return false;
        if (p.kind == Pattern::kVariable && (p.var >= n_var_ || p.group >= pats_.size())) return false;
    }
    return true;
}

std::string Engine::serialize() const {
    Writer payload;
    payload.u32(static_cast<uint32_t>(src_.files.size()));
    for (const auto &f : src_.files) {
        payload.str(f.path);
        payload.str(f.content);
    }
    payload.u32(static_cast<uint32_t>(pats_.size()));
    payload.u64(fingerprint_);
    payload.str(encode_patterns(pats_));
    payload.str(encode_patterns(skel_pats_));
    payload.u64(n_var_);
    std::vector<hs_database *> dbs{main_dbs_[0], main_dbs_[1], skel_db_};
    dbs.insert(dbs.end(), var_dbs_.begin(), var_dbs_.end());
    dbs.insert(dbs.end(), probe_dbs_.begin(), probe_dbs_.end());
    payload.u32(static_cast<uint32_t>(dbs.size()));
    for (hs_database *db : dbs) {
        if (!db) {
            payload.str("");
            continue;
        }
        char *bytes = nullptr;
        size_t len = 0;
        if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS) throw Error(kNoMem, "cannot serialize database");
        payload.str(std::string_view(bytes, len));
        free(bytes);
    }
    Writer w;
    w.s.append(kMagic, 8);
    w.u32(kFormatVersion);
    w.u32(kVersionNumber);
    w.str(hs_version());
    w.str(platform_string());
    w.str(unicode_version());
    w.u64(payload.s.size());
    w.u64(XXH64(payload.s.data(), payload.s.size(), 0));
    w.s += payload.s;
    return w.s;
}

std::unique_ptr<Engine> Engine::deserialize(std::string_view data, const EngineOptions &opt) {
    Reader r{data};
    char magic[8];
    if (!r.take(magic, 8) || std::memcmp(magic, kMagic, 8) != 0)
        throw Error(kBadDatabase, "not a modfilter database (bad magic)");
    uint32_t format = r.u32(), lib = r.u32();
    std::string hsv = r.str(), plat = r.str(), uni = r.str();
    uint64_t plen = r.u64(), sum = r.u64();
    if (!r.ok) throw Error(kBadDatabase, "modfilter database header is truncated");
    if (format != kFormatVersion)
        throw Error(kDbMismatch, "database format " + std::to_string(format) + ", this library reads format " +
                                     std::to_string(kFormatVersion));
    if (lib != kVersionNumber)
        throw Error(kDbMismatch, "database built by modfilter " + std::to_string(lib) + ", this is " +
                                     std::to_string(kVersionNumber) + ": recompile the rules");
    if (hsv != hs_version()) throw Error(kDbMismatch, "database built with Hyperscan " + hsv + ", this is " + hs_version());
    if (plat != platform_string()) throw Error(kDbMismatch, "database built for " + plat + ", this is " + platform_string());
    if (uni != unicode_version()) throw Error(kDbMismatch, "database built with " + uni + ", this is " + unicode_version());
    if (data.size() - r.pos != plen) throw Error(kBadDatabase, "modfilter database has the wrong length (truncated?)");
    if (XXH64(data.data() + r.pos, plen, 0) != sum) throw Error(kBadDatabase, "modfilter database checksum mismatch (corrupted)");

    std::unique_ptr<Engine> e(new Engine);
    uint32_t nfiles = r.u32();
    for (uint32_t i = 0; i < nfiles && r.ok; ++i) {
        SourceFile f;
        f.path = r.str();
        f.content = r.str();
        e->src_.files.push_back(std::move(f));
    }
    uint32_t npats = r.u32();
    e->fingerprint_ = r.u64();
    std::string pat_bytes = r.str(), skel_bytes = r.str();
    e->n_var_ = r.u64();
    uint32_t ndbs = r.u32();
    std::vector<std::string> blobs;
    if (ndbs > 2 * npats + 3) throw Error(kBadDatabase, "database holds more pattern databases than patterns");
    for (uint32_t i = 0; i < ndbs && r.ok; ++i) blobs.push_back(r.str());
    if (!r.ok) throw Error(kBadDatabase, "modfilter database payload is truncated");
    std::vector<Diagnostic> diags;
    parse_rules(e->src_, e->rs_, diags);
    if (!diags.empty()) throw Error(kBadDatabase, "database rules do not parse: " + diags.front().str());
    e->build_tables(opt);
    if (!decode_patterns(pat_bytes, e->pats_) || e->pats_.size() != npats || !decode_patterns(skel_bytes, e->skel_pats_) ||
        !e->check_patterns())
        throw Error(kBadDatabase, "database patterns do not match its rules");
    std::vector<size_t> main[2];
    std::vector<std::vector<size_t>> groups;
    e->build_groups(main, groups);
    if (blobs.size() != 2 * groups.size() + 3) throw Error(kBadDatabase, "database patterns do not match its rules");
    for (size_t i = 0; i < blobs.size(); ++i) {
        bool expected = i < 2 ? !main[i].empty() : i == 2 ? !e->skel_pats_.empty() : !groups[(i - 3) % groups.size()].empty();
        if (expected != !blobs[i].empty()) throw Error(kBadDatabase, "database patterns do not match its rules");
        hs_database *db = nullptr;
        if (expected && hs_deserialize_database(blobs[i].data(), blobs[i].size(), &db) != HS_SUCCESS)
            throw Error(kBadDatabase, "the Hyperscan database inside is corrupt or for another platform");
        if (i < 2) e->main_dbs_[i] = db;
        else if (i == 2) e->skel_db_ = db;
        else if (i < 3 + groups.size()) e->var_dbs_.push_back(db);
        else e->probe_dbs_.push_back(db);
    }
    return e;
}

// ---- scanning ---------------------------------------------------------------------------------

Scanner::Scanner(const Engine &e) : e_(e) {
    std::vector<hs_database *> dbs{e.database(0), e.database(1), e.skeleton_database()};
    for (size_t g = 0; g < e.group_count(); ++g) {
        dbs.push_back(e.group_database(g));
        dbs.push_back(e.group_probe(g));
    }
    for (hs_database *db : dbs)
        if (db && hs_alloc_scratch(db, &scratch_) != HS_SUCCESS) {
            hs_free_scratch(scratch_);
            throw Error(kNoMem, "cannot allocate Hyperscan scratch space");
        }
    rule_epoch_.assign(e.rules().size(), 0);
    overflow_seen_.assign(e.rules().size(), 0);
    cat_score_.assign(e.categories().size(), 0.0);
    raw_cap_ = std::max<size_t>(4096, size_t(e.options().max_hits) * 4);
    raw_.reserve(256);
    seen_.resize(e.variable_count() * 2);
    group_last_.assign(e.group_count(), 0);
}

Scanner::~Scanner() { hs_free_scratch(scratch_); }

namespace {

// Main database: literals are recorded; a trigger, or a variable pattern without triggers, asks for
// the variable database to run over a window around it.
int on_match(unsigned id, unsigned long long, unsigned long long to, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    const Pattern &p = s->engine().pattern(id);
    if (!(p.roles & s->role_bit_) || (p.fixed_len > to && !p.wide)) return 0;
    if (p.kind == Pattern::kLiteral) return on_som_match(id, to - p.fixed_len, to, 0, ctx);
    if (s->whole_text_) return 0;
    if (p.kind == Pattern::kTrigger && !p.wide) {
        // A trailing-boundary trigger's match ends one byte after its atom unless at the end of text.
        if (p.trail && to > 0 && !ascii_alnum(static_cast<unsigned char>(s->text_[to - 1]))) --to;
        if (!boundary_ok(s->text_, s->text_len_, to - p.fixed_len, to, p.boundary)) return 0;
    }
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
        lo = start > v.window ? start - v.window : 0;
        hi = std::min<size_t>(end + v.window, s->text_len_);
    } else {
        lo = to > v.window ? to - v.window : 0;
        hi = to;
    }
    // Matches arrive in order of their end, so a group's windows mostly extend its last one.
    uint32_t &last = s->group_last_[v.group];
    if (last && s->windows_[last - 1].hi >= lo) {
        Window &w = s->windows_[last - 1];
        w.lo = std::min<uint32_t>(w.lo, static_cast<uint32_t>(lo));
        w.hi = std::max<uint32_t>(w.hi, static_cast<uint32_t>(hi));
    } else if (s->windows_.size() < std::max<size_t>(kMaxWindows, s->text_len_ / 64)) {
        s->windows_.push_back({v.group, static_cast<uint32_t>(lo), static_cast<uint32_t>(hi)});
        last = static_cast<uint32_t>(s->windows_.size());
    } else {
        s->whole_text_ = true;
    }
    return 0;
}

// Probe database, over one window: stops at the first match of a pattern for this post's role.
int on_probe_match(unsigned id, unsigned long long, unsigned long long, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    return (s->engine().pattern(id).roles & s->role_bit_) ? 1 : 0;
}

// Variable database, over one window: offsets are relative to the window.
int on_window_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    return on_som_match(id, from + s->win_off_, to + s->win_off_, 0, ctx);
}

int on_som_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    const Pattern &p = s->engine().pattern(id);
    if (!(p.roles & s->role_bit_)) return 0;
    if (!boundary_ok(s->text_, s->text_len_, from, to, p.boundary)) return 0;
    if (p.luhn && !luhn_ok(s->text_ + from, to - from)) return 0;
    // A prefix rule's hit covers the rest of its word ("fucking", not "fuck"), a suffix rule's the
    // start of its word, so that highlighting and censoring take the whole word.
    if (p.boundary == Boundary::Prefix) to = word_end(s->text_, s->text_len_, to);
    else if (p.boundary == Boundary::Suffix) from = word_start(s->text_, s->text_len_, from);
    const Normalizer &n = s->norm();
    return add_raw(s, p, n.orig_start(from), n.orig_end(to), n.evasion(from, to));
}

// Skeleton database: fixed-length patterns; a hit counts only where the post used a trick.
int on_skeleton_match(unsigned id, unsigned long long, unsigned long long to, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    const Pattern &p = s->engine().skeleton_pattern(id);
    if (!(p.roles & s->role_bit_) || p.fixed_len > to) return 0;
    size_t from = to - p.fixed_len;
    const Skeleton &k = s->skeleton();
    if (!k.boundary_ok(from, to, p.boundary)) return 0;
    if (p.boundary == Boundary::Prefix) to = word_end(k.data(), k.size(), to);
    else if (p.boundary == Boundary::Suffix) from = word_start(k.data(), k.size(), from);
    uint32_t ev = k.evasion(from, to);
    if (!p.allow && !ev) return 0;  // no trick in the span: the normalized view decides alone
    return add_raw(s, p, k.orig_start(from), k.orig_end(to), ev);
}

int add_raw(Scanner *s, const Pattern &p, size_t from, size_t to, uint32_t ev) {
    if (s->raw_.size() < s->raw_cap_) {
        s->raw_.push_back({p.rule, p.allow, ev, from, to});
    } else if (!p.allow) {
        s->overflow_ = true;
        // Keep scoring every rule even when there is no room to list its hits: each rule once, so a
        // rule first seen after a flood of another one is still counted.
        if (!s->overflow_seen_[p.rule]) {
            s->overflow_seen_[p.rule] = 1;
            s->overflow_rules_.push_back(p.rule);
        }
    }
    return 0;
}

}  // namespace

void Verdict::reset(const Engine *e) {
    engine = e;
    action = kAllow;
    flags = 0;
    evasion = 0;
    invalid_utf8 = 0;
    hits.clear();
    categories.clear();
    has_censored = false;
    censored.clear();
    json.clear();
}

void Scanner::scan(std::string_view text, int role, uint32_t flags, Verdict &v) {
    if (text.size() > e_.options().max_post_bytes)
        throw Error(kTooLarge, "post of " + std::to_string(text.size()) + " bytes exceeds max_post_bytes (" +
                                   std::to_string(e_.options().max_post_bytes) + ")");
    v.reset(&e_);
    norm_.run(text);
    text_ = norm_.data();
    text_len_ = norm_.size();
    role_bit_ = role == 1 ? kRoleStaff : kRoleMember;
    raw_.clear();
    overflow_ = false;
    for (uint32_t r : overflow_rules_) overflow_seen_[r] = 0;
    overflow_rules_.clear();
    if (++epoch_ == 0) {
        std::fill(rule_epoch_.begin(), rule_epoch_.end(), 0);
        epoch_ = 1;
    }
    for (const Window &w : windows_) group_last_[w.group] = 0;
    windows_.clear();
    whole_text_ = false;
    if (++scan_epoch_ == 0) {
        for (auto &x : seen_) x.epoch = 0;
        scan_epoch_ = 1;
    }
    if (text_len_) {
        hs_error_t rc = HS_SUCCESS;
        if (hs_database *main = e_.database(role))
            rc = hs_scan(main, text_, static_cast<unsigned>(text_len_), 0, scratch_, on_match, this);
        if (rc == HS_SUCCESS && whole_text_) {
            windows_.clear();
            for (uint32_t g = 0; g < e_.group_count(); ++g)
                if (e_.group_database(g)) windows_.push_back({g, 0u, static_cast<uint32_t>(text_len_)});
        }
        // Merge each group's overlapping windows, widen each to word boundaries (so that \b means
        // what it means in the whole post), and run the group's database over each once.
        std::sort(windows_.begin(), windows_.end());
        for (size_t i = 0; i < windows_.size() && rc == HS_SUCCESS; ++i) {
            const uint32_t g = windows_[i].group;
            size_t lo = windows_[i].lo, hi = windows_[i].hi;
            while (i + 1 < windows_.size() && windows_[i + 1].group == g && windows_[i + 1].lo <= hi)
                hi = std::max<size_t>(hi, windows_[++i].hi);
            lo = word_start(text_, text_len_, lo);
            hi = word_end(text_, text_len_, hi);
            while (lo > 0 && (static_cast<unsigned char>(text_[lo]) & 0xC0) == 0x80) --lo;
            if (hi <= lo || !e_.group_database(g)) continue;
            rc = hs_scan(e_.group_probe(g), text_ + lo, static_cast<unsigned>(hi - lo), 0, scratch_, on_probe_match, this);
            if (rc == HS_SUCCESS) continue;  // nothing in this window
            if (rc != HS_SCAN_TERMINATED) break;
            win_off_ = lo;
            rc = hs_scan(e_.group_database(g), text_ + lo, static_cast<unsigned>(hi - lo), 0, scratch_, on_window_match, this);
        }
        // Word lists once more over the skeleton, for the few posts that show evasion tricks.
        if (rc == HS_SUCCESS && e_.skeleton_database() && skel_.build(norm_) && skel_.size())
            rc = hs_scan(e_.skeleton_database(), skel_.data(), static_cast<unsigned>(skel_.size()), 0, scratch_,
                         on_skeleton_match, this);
        if (rc != HS_SUCCESS) throw Error(kInternal, "hs_scan failed with code " + std::to_string(rc));
    }

    // Split allowlist spans from rule hits.
    allow_.clear();
    size_t k = 0;
    for (const Raw &r : raw_) {
        if (r.allow) allow_.emplace_back(r.from, r.to);
        else raw_[k++] = r;
    }
    raw_.resize(k);
    auto rule_of = [&](const Raw &r) { return r.rule; };
    // Drop hits inside an allowlisted span.
    if (!allow_.empty()) {
        raw_.erase(std::remove_if(raw_.begin(), raw_.end(),
                                  [&](const Raw &r) {
                                      for (auto [a, b] : allow_)
                                          if (a <= r.from && r.to <= b) return true;
                                      return false;
                                  }),
                   raw_.end());
    }
    // Merge overlapping hits of the same rule.
    std::sort(raw_.begin(), raw_.end(), [&](const Raw &a, const Raw &b) {
        uint32_t ra = rule_of(a), rb = rule_of(b);
        return ra != rb ? ra < rb : a.from != b.from ? a.from < b.from : a.to > b.to;
    });
    k = 0;
    for (size_t i = 0; i < raw_.size(); ++i) {
        if (k && rule_of(raw_[k - 1]) == rule_of(raw_[i]) && raw_[i].from < raw_[k - 1].to) {
            raw_[k - 1].to = std::max(raw_[k - 1].to, raw_[i].to);
            raw_[k - 1].evasion |= raw_[i].evasion;
            continue;
        }
        raw_[k++] = raw_[i];
    }
    raw_.resize(k);
    std::sort(raw_.begin(), raw_.end(), [&](const Raw &a, const Raw &b) {
        return a.from != b.from ? a.from < b.from : a.to != b.to ? a.to > b.to : rule_of(a) < rule_of(b);
    });

    // Scores: each distinct rule adds its score once to its category.
    touched_.clear();
    auto count_rule = [&](uint32_t rule) {
        if (rule_epoch_[rule] == epoch_) return;
        rule_epoch_[rule] = epoch_;
        uint32_t c = e_.rule_category(rule);
        if (cat_score_[c] == 0.0) touched_.push_back(c);
        cat_score_[c] += e_.rules()[rule].score;
        if (cat_score_[c] == 0.0) cat_score_[c] = 1e-300;  // zero-score rules still mark the category
    };
    const uint32_t max_hits = e_.options().max_hits;
    for (const Raw &r : raw_) {
        uint32_t rule = rule_of(r);
        count_rule(rule);
        if (v.hits.size() >= max_hits) {
            v.flags |= 0x2u;
            continue;
        }
        HitRecord h{rule, r.from, r.to, r.evasion};
        v.evasion |= h.evasion;
        v.hits.push_back(h);
    }
    for (uint32_t rule : overflow_rules_) count_rule(rule);
    if (overflow_) v.flags |= 0x2u;

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
    v.invalid_utf8 = norm_.invalid_utf8();
    if (v.invalid_utf8) v.flags |= 0x1u;

    if (flags & 0x1u) {
        v.has_censored = true;
        mask_.assign(text.size(), 0);
        for (const auto &h : v.hits) std::fill(mask_.begin() + h.start, mask_.begin() + h.end, 1);
        v.censored.reserve(text.size());
        for (size_t i = 0; i < text.size(); ++i) {
            auto b = static_cast<unsigned char>(text[i]);
            if (!mask_[i]) v.censored += static_cast<char>(b);
            else if ((b & 0xC0) != 0x80) v.censored += '*';
        }
    }
}

// ---- names and JSON ---------------------------------------------------------------------------

const char *action_name(int32_t a) {
    switch (a) {
    case kAllow: return "ALLOW";
    case kFlag: return "FLAG";
    case kHold: return "HOLD";
    case kReject: return "REJECT";
    default: return "";
    }
}

const char *evasion_name(uint32_t bit) {
    switch (bit) {
    case kEvCompat: return "compat";
    case kEvConfusable: return "confusable";
    case kEvInvisible: return "invisible";
    case kEvCombining: return "combining";
    case kEvLeet: return "leet";
    case kEvSeparators: return "separators";
    case kEvRepeats: return "repeats";
    case kEvMixedScript: return "mixed_script";
    default: return "";
    }
}

namespace {

// Appends s as a JSON string; invalid UTF-8 becomes U+FFFD so the output is always valid JSON.
void json_string(std::string &out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    for (size_t i = 0; i < s.size();) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            uint32_t cp;
            bool valid;
            size_t n = decode_utf8(p + i, s.size() - i, &cp, &valid);
            if (valid) out.append(s.data() + i, n);
            else out += "\xEF\xBF\xBD";
            i += n;
            continue;
        }
        ++i;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

void json_number(std::string &out, double d) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%.15g", d);
    out.append(buf, static_cast<size_t>(n));
}

void json_evasion(std::string &out, uint32_t bits) {
    out += '[';
    bool first = true;
    for (uint32_t b = 1; b <= 0x80; b <<= 1) {
        if (!(bits & b)) continue;
        if (!first) out += ',';
        first = false;
        json_string(out, evasion_name(b));
    }
    out += ']';
}

}  // namespace

const std::string &Verdict::render_json() {
    std::string &o = json;
    o.clear();
    o += "{\"action\":";
    json_string(o, action_name(action));
    o += ",\"categories\":{";
    for (size_t i = 0; i < categories.size(); ++i) {
        if (i) o += ',';
        json_string(o, engine->categories()[categories[i].category].name);
        o += ':';
        json_number(o, categories[i].score);
    }
    o += "},\"routes\":[";
    {
        // Routes of categories that reached at least FLAG, each once.
        bool first = true;
        for (size_t i = 0; i < categories.size(); ++i) {
            const std::string &route = engine->categories()[categories[i].category].route;
            if (route.empty() || categories[i].action < kFlag) continue;
            bool dup = false;
            for (size_t j = 0; j < i; ++j)
                dup |= categories[j].action >= kFlag && engine->categories()[categories[j].category].route == route;
            if (dup) continue;
            if (!first) o += ',';
            first = false;
            json_string(o, route);
        }
    }
    o += "],\"hits\":[";
    for (size_t i = 0; i < hits.size(); ++i) {
        const HitRecord &h = hits[i];
        const Rule &r = engine->rules()[h.rule];
        if (i) o += ',';
        o += "{\"rule\":";
        json_string(o, r.id);
        o += ",\"category\":";
        json_string(o, r.category);
        o += ",\"severity\":";
        json_string(o, severity_name(r.severity));
        o += ",\"score\":";
        json_number(o, r.score);
        o += ",\"start\":" + std::to_string(h.start) + ",\"end\":" + std::to_string(h.end);
        if (h.evasion) {
            o += ",\"evasion\":";
            json_evasion(o, h.evasion);
        }
        o += '}';
    }
    o += "],\"evasion\":";
    json_evasion(o, evasion);
    o += ",\"invalid_utf8\":" + std::to_string(invalid_utf8);
    o += ",\"hits_truncated\":";
    o += (flags & 0x2u) ? "true" : "false";
    if (has_censored) {
        o += ",\"censored\":";
        json_string(o, censored);
    }
    o += '}';
    return o;
}

}  // namespace mf
