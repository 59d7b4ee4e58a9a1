#include "engine.hpp"

#include <hs/hs.h>
#define XXH_INLINE_ALL  // header-only: no runtime dependency on libxxhash
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "version.hpp"

namespace mf {

namespace {

constexpr unsigned kPatternFlags = HS_FLAG_CASELESS | HS_FLAG_SOM_LEFTMOST | HS_FLAG_UTF8;
constexpr unsigned kLiteralFlags = HS_FLAG_CASELESS | HS_FLAG_UTF8;

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
            static const char hex[] = "0123456789abcdef";
            expr += "\\x";
            expr += hex[c >> 4];
            expr += hex[c & 15];
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

}  // namespace

Engine::~Engine() {
    hs_free_database(db_);
    hs_free_database(som_db_);
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
    // A one-word literal has a known length, so its start is end - length: compiling it without
    // start-of-match tracking makes the database several times faster to build and to scan.
    auto add_literal = [&](std::string e, Pattern p) {
        bool fixed = e.find("\\s+") == std::string::npos;
        if (fixed) p.fixed_len = static_cast<uint32_t>(literal_length(e));
        flags.push_back(fixed ? kLiteralFlags : kPatternFlags);
        exprs.push_back(std::move(e));
        pats_.push_back(p);
    };
    for (uint32_t i = 0; i < rs_.rules.size(); ++i) {
        const Rule &r = rs_.rules[i];
        if (r.is_regex) {
            exprs.push_back(r.regex);
            flags.push_back(kPatternFlags);
            pats_.push_back({i, r.boundary, false, r.roles, 0});
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
        }
    }
    for (uint32_t i = 0; i < rs_.allow.size(); ++i) {
        std::string e = literal_expression(rs_.allow[i].text);
        if (e.empty()) {
            diags.push_back({rs_.allow[i].file, rs_.allow[i].line, "allow: '" + rs_.allow[i].text + "' normalizes to nothing"});
            continue;
        }
        add_literal(std::move(e), {i, Boundary::Word, true, kRoleEveryone, 0});
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
    // Regexes are checked one by one first, so that every bad one is reported with its file:line.
    for (size_t i = 0; i < exprs.size(); ++i) {
        if (e->pats_[i].allow) continue;  // allow entries index rs_.allow, not rs_.rules
        const Rule &r = e->rs_.rules[e->pats_[i].rule];
        if (!r.is_regex) continue;
        hs_database_t *db = nullptr;
        hs_compile_error_t *err = nullptr;
        if (hs_compile(exprs[i].c_str(), flags[i], HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS)
            diags.push_back({r.file, r.line, "rule '" + r.id + "': regex does not compile: " + hs_error_text(err)});
        hs_free_database(db);
    }
    if (!diags.empty()) throw Error(kRulesError, diags.front().str());
    // Two databases. The main one holds every pattern without start-of-match tracking, which keeps
    // the scan of a clean post fast. Regexes and phrases, whose length varies, are also in a second
    // database with start-of-match tracking, scanned only over posts where the main scan saw one of
    // them fire: at most two scans per post, whatever the number of rules.
    std::vector<size_t> all, som;
    for (size_t i = 0; i < exprs.size(); ++i) {
        all.push_back(i);
        if (!e->pats_[i].fixed_len) som.push_back(i);
    }
    e->db_ = e->compile_db(exprs, flags, all, false, diags);
    e->som_db_ = e->compile_db(exprs, flags, som, true, diags);
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
constexpr uint32_t kFormatVersion = 1;

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

std::string Engine::serialize() const {
    Writer payload;
    payload.u32(static_cast<uint32_t>(src_.files.size()));
    for (const auto &f : src_.files) {
        payload.str(f.path);
        payload.str(f.content);
    }
    payload.u32(static_cast<uint32_t>(pats_.size()));
    for (hs_database *db : {db_, som_db_}) {
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
    std::string hsblob = r.str(), somblob = r.str();
    if (!r.ok) throw Error(kBadDatabase, "modfilter database payload is truncated");
    std::vector<Diagnostic> diags;
    parse_rules(e->src_, e->rs_, diags);
    if (!diags.empty()) throw Error(kBadDatabase, "database rules do not parse: " + diags.front().str());
    e->build_tables(opt);
    std::vector<std::string> exprs;
    std::vector<unsigned> flags;
    e->build_patterns(exprs, flags, diags);
    if (!diags.empty() || e->pats_.size() != npats)
        throw Error(kBadDatabase, "database patterns do not match its rules");
    bool any_som = std::any_of(e->pats_.begin(), e->pats_.end(), [](const Pattern &p) { return !p.fixed_len; });
    if ((npats != 0) != !hsblob.empty() || any_som != !somblob.empty())
        throw Error(kBadDatabase, "database patterns do not match its rules");
    if (npats && hs_deserialize_database(hsblob.data(), hsblob.size(), &e->db_) != HS_SUCCESS)
        throw Error(kBadDatabase, "the Hyperscan database inside is corrupt or for another platform");
    if (any_som && hs_deserialize_database(somblob.data(), somblob.size(), &e->som_db_) != HS_SUCCESS)
        throw Error(kBadDatabase, "the Hyperscan database inside is corrupt or for another platform");
    return e;
}

// ---- scanning ---------------------------------------------------------------------------------

Scanner::Scanner(const Engine &e) : e_(e) {
    for (hs_database *db : {e.database(), e.som_database()})
        if (db && hs_alloc_scratch(db, &scratch_) != HS_SUCCESS) {
            hs_free_scratch(scratch_);
            throw Error(kNoMem, "cannot allocate Hyperscan scratch space");
        }
    rule_epoch_.assign(e.rules().size(), 0);
    overflow_seen_.assign(e.rules().size(), 0);
    cat_score_.assign(e.categories().size(), 0.0);
    raw_cap_ = std::max<size_t>(4096, size_t(e.options().max_hits) * 4);
    raw_.reserve(256);
}

Scanner::~Scanner() { hs_free_scratch(scratch_); }

namespace {

// Main database: fixed-length literals are recorded; a variable-length pattern only asks for the
// start-of-match scan.
int on_match(unsigned id, unsigned long long, unsigned long long to, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    const Pattern &p = s->engine().pattern(id);
    if (!(p.roles & s->role_bit_)) return 0;
    if (!p.fixed_len) {
        s->need_som_ = true;
        return 0;
    }
    return on_som_match(id, to - p.fixed_len, to, 0, ctx);
}

int on_som_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx) {
    auto *s = static_cast<Scanner *>(ctx);
    const Pattern &p = s->engine().pattern(id);
    if (!(p.roles & s->role_bit_)) return 0;
    if (!boundary_ok(s->text_, s->text_len_, from, to, p.boundary)) return 0;
    // A prefix rule's hit covers the rest of its word ("fucking", not "fuck"), a suffix rule's the
    // start of its word, so that highlighting and censoring take the whole word.
    if (p.boundary == Boundary::Prefix) to = word_end(s->text_, s->text_len_, to);
    else if (p.boundary == Boundary::Suffix) from = word_start(s->text_, s->text_len_, from);
    if (s->raw_.size() < s->raw_cap_) {
        s->raw_.push_back({id, static_cast<uint32_t>(from), static_cast<uint32_t>(to)});
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
    need_som_ = false;
    if (e_.database() && text_len_) {
        hs_error_t rc = hs_scan(e_.database(), text_, static_cast<unsigned>(text_len_), 0, scratch_, on_match, this);
        if (rc == HS_SUCCESS && need_som_)
            rc = hs_scan(e_.som_database(), text_, static_cast<unsigned>(text_len_), 0, scratch_, on_som_match, this);
        if (rc != HS_SUCCESS) throw Error(kInternal, "hs_scan failed with code " + std::to_string(rc));
    }

    // Split allowlist spans from rule hits.
    allow_.clear();
    size_t k = 0;
    for (const Raw &r : raw_) {
        if (e_.pattern(r.pat).allow) allow_.emplace_back(r.from, r.to);
        else raw_[k++] = r;
    }
    raw_.resize(k);
    auto rule_of = [&](const Raw &r) { return e_.pattern(r.pat).rule; };
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
        HitRecord h{rule, norm_.orig_start(r.from), norm_.orig_end(r.to), norm_.evasion(r.from, r.to)};
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
