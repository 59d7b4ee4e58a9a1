// The compiled form: an Engine serialized with everything a loader checks (magic, format,
// library, Hyperscan, platform and Unicode versions, a checksum) and everything it needs without
// deriving anything from the packs again (the pattern tables).
#include "engine.hpp"

#include <hs/hs.h>
#define XXH_INLINE_ALL  // header-only: no runtime dependency on libxxhash
#include <xxhash.h>

#include <cstdio>
#include <cstring>

#include "version.hpp"

namespace mf {

namespace {

constexpr char kMagic[8] = {'M', 'F', 'D', 'B', '\r', '\n', 0x1a, '\n'};
// 2: pattern fingerprint; 3: a main database per role, probe databases, and the pattern tables
// themselves, so that loading a database derives nothing from its rules but names, scores and policy
// 4: anchor patterns of [[commitment]] rules (kind 3)
// 5: atoms and anchors are plain literals, their word boundaries checked at match time (no trail bit)
// 7: the tables that were derived at load (the learned scorer's n-gram table, the '@' words) are
// carried built, with the skeleton's token filter; [[model]] weights files are not parsed at load
// 8: the learned scorer's table has 32-bit tags and a salt, and its words another hash
// 9: the word-bounded literals and atoms found by words (core/word_match.hpp), not in the main databases
// 10: regex groups that wait for the same words share a probe database; the '@' words' third letters
// 11: the alternatives of a regex that its own trigger serves are in its group's database only, not
// also in the main databases
// 12: a variable pattern's reach (Pattern::reach), in the high half of its window word
// 13: the commitment rules' number anchor ("#") found by the word matcher, not by Hyperscan
// 14: a commitment rule whose deliverable may be any number is found by its commit phrases, and a
// rule found by its commit phrases has no deliverable anchors: the anchor words (numbered in the
// anchor patterns) are not those of 13
// 15: a skeleton pattern's fewest visible characters (Pattern::min_chars, bits 17-24 of f[10])
// 16: a [words] list may name another, and the speaker's negations come from the list `negation`,
// not from the code: the packs a database carries are read so, and a database of 15, whose packs
// hold no such list, would lose them
// 17: a regex may name a [words] list ("{@groups}"), which a library of 16 would hand to Hyperscan
// as it is
// 18: a word-list entry may open or close with '*' ("*fuck*", "shit*"), which loosens the rule's
// boundary on that side: a library of 17 would read the star as a character of the word
// 19: the parsed rules (encode_rules), which the loader reads instead of parsing the packs again
// 20: the commitment stage's words leave out Latin-1 signs ("£10" is "£" and "10"): a phrase of a
// library of 19 that held one ("£5 voucher") was stored as words this one never reads
// 21: the tables carry the variable patterns' gates (Engine::gates_) before the model table
// 22: normalization reads Cyrillic к in a mixed word as k and keeps ™ and ℠ as signs: literals a
// library of 21 stored normalized its way ("мудак" with its к) would no longer meet the text
// 23: a word rule may be disguised_only (a rule flag), which a library of 22 would match as written too
constexpr uint32_t kFormatVersion = 23;

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

// While Engine::content_hash serializes: the directory that every pack file's path starts with,
// written without it ("packs/a.toml" and "/srv/packs/a.toml" are both "a.toml"), so that the hash
// names the packs, not where they were read from.
thread_local std::string_view t_path_root;

struct Writer {
    std::string s;
    void u32(uint32_t v) { s.append(reinterpret_cast<const char *>(&v), 4); }
    void u64(uint64_t v) { s.append(reinterpret_cast<const char *>(&v), 8); }
    void str(std::string_view v) {
        u64(v.size());
        s.append(v);
    }
    // A pack file's path (see t_path_root).
    void path(std::string_view v) { str(v.starts_with(t_path_root) ? v.substr(t_path_root.size()) : v); }
    // A count, then that many 64-bit words.
    void words(const std::vector<uint64_t> &v) {
        u32(static_cast<uint32_t>(v.size()));
        for (uint64_t x : v) u64(x);
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
    // What Writer::words wrote (a count larger than the data left is refused before allocating).
    std::vector<uint64_t> words() {
        const uint32_t n = u32();
        if (!ok || n > (d.size() - pos) / 8) {
            ok = false;
            return {};
        }
        std::vector<uint64_t> v(n);
        for (uint64_t &x : v) x = u64();
        return v;
    }
    // A view into the data: valid as long as the data is.
    std::string_view view() {
        uint64_t n = u64();
        if (!ok || d.size() - pos < n) {
            ok = false;
            return {};
        }
        std::string_view s = d.substr(pos, n);
        pos += n;
        return s;
    }
    std::string str() { return std::string(view()); }
};

}  // namespace

namespace {

// Patterns field by field, 11 little-endian 32-bit words each (no padding bytes in the file).
constexpr size_t kPatternWords = 11;

std::string encode_patterns(const std::vector<Pattern> &pats) {
    Writer w;
    for (const Pattern &p : pats) {
        const uint32_t f[kPatternWords] = {p.rule, static_cast<uint32_t>(p.boundary), p.allow, p.roles, p.fixed_len,
                                           static_cast<uint32_t>(p.kind), p.target, p.window | p.reach << 16, p.group, p.var,
                                           uint32_t(p.slot) | uint32_t(p.slots) << 8 | uint32_t(p.luhn) << 16 |
                                               uint32_t(p.min_chars) << 17 | uint32_t(p.wide) << 25};
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
        if (f[1] > 3 || f[2] > 1 || f[3] > 0xFF || f[5] > 3 || (f[10] & 0xFC000000u)) return false;
        p = Pattern{f[0], static_cast<Boundary>(f[1]), f[2] != 0, static_cast<uint8_t>(f[3]), f[4]};
        p.kind = static_cast<Pattern::Kind>(f[5]);
        p.target = f[6];
        p.window = f[7] & 0xFFFFu;
        p.reach = f[7] >> 16;
        p.group = f[8];
        p.var = f[9];
        p.slot = static_cast<uint8_t>(f[10]);
        p.slots = static_cast<uint8_t>(f[10] >> 8);
        p.luhn = (f[10] >> 16) & 1;
        p.min_chars = static_cast<uint8_t>(f[10] >> 17);
        p.wide = (f[10] >> 25) & 1;
    }
    return r.ok;
}

}  // namespace

// The parsed rule set (RuleSet, core/rules.hpp) as bytes, so that loading a database does not parse
// its packs again (TOML, word files, the [words] lists put into every commitment phrase): that was a
// third of the time to load the default engine. The packs' text is still carried (Engine::serialize),
// as what the database was built from; the loader reads the rules from here. Every count is checked
// against the bytes left before anything is allocated, every enum against its range, and parallel
// lists against each other, so that malformed bytes are refused, never read past.
namespace {

// A field added to one of these structs must be added to the codec below (and the format bumped):
// these sizes are the reminder, on the platform the project is built and tested on.
#if defined(__x86_64__) && defined(__GLIBCXX__) && !defined(_GLIBCXX_DEBUG)
static_assert(sizeof(Rule) == 640, "Rule changed: encode the new field in encode_rules/decode_rules");
static_assert(sizeof(Commitment) == 200, "Commitment changed: encode the new field");
static_assert(sizeof(AllowEntry) == 72, "AllowEntry changed: encode the new field");
static_assert(sizeof(CategoryPolicy) == 128, "CategoryPolicy changed: encode the new field");
static_assert(sizeof(StateRules) == 64, "StateRules changed: encode the new field");
static_assert(sizeof(RuleSet) == 472, "RuleSet changed: encode the new field");  // (ids, warnings: parse only, not encoded)
static_assert(sizeof(Policy) == 96, "Policy changed: encode the new field");
#endif

// The seed of the rules section's own checksum (fuzz/fuzz_deserialize.cpp forges it with the same).
constexpr uint64_t kRulesSeed = 0x6D66;

void put_f64(Writer &w, double d) {
    uint64_t b;
    std::memcpy(&b, &d, 8);
    w.u64(b);
}
void put_strs(Writer &w, const std::vector<std::string> &v) {
    w.u32(static_cast<uint32_t>(v.size()));
    for (const auto &s : v) w.str(s);
}
void put_u32s(Writer &w, const std::vector<uint32_t> &v) {
    w.u32(static_cast<uint32_t>(v.size()));
    for (uint32_t x : v) w.u32(x);
}
void put_state_rules(Writer &w, const StateRules &s) {
    w.u64(static_cast<uint64_t>(s.duplicate_window_ms));
    for (uint32_t x : {s.duplicate_min_words, s.duplicate_near_bits, s.duplicate_flag, s.duplicate_hold,
                       s.duplicate_reject})
        w.u32(x);
    w.u64(static_cast<uint64_t>(s.flood_window_ms));
    for (uint32_t x : {s.flood_flag, s.flood_hold, s.flood_reject, static_cast<uint32_t>(s.new_account_days),
                       s.new_account_flag, s.new_account_hold})
        w.u32(x);
}
void put_word_lists(Writer &w, const std::map<std::string, WordList> &m) {
    w.u32(static_cast<uint32_t>(m.size()));
    for (const auto &[name, wl] : m) {
        w.str(name);
        put_strs(w, wl.words);
        put_u32s(w, wl.lines);
        w.u32(static_cast<uint32_t>(wl.files.size()));
        for (const auto &f : wl.files) w.path(f);
    }
}

struct RuleReader : Reader {
    // A count of items of at least `min_bytes` each: more than the bytes left could hold is malformed.
    uint32_t count(size_t min_bytes) {
        const uint32_t n = u32();
        if (ok && n > (d.size() - pos) / min_bytes) ok = false;
        return ok ? n : 0;
    }
    double f64() {
        const uint64_t b = u64();
        double v;
        std::memcpy(&v, &b, 8);
        return v;
    }
    std::vector<std::string> strs() {
        std::vector<std::string> v(count(8));
        for (auto &s : v) s = str();
        return v;
    }
    std::vector<uint32_t> u32s() {
        std::vector<uint32_t> v(count(4));
        for (auto &x : v) x = u32();
        return v;
    }
    Boundary boundary() {
        const uint32_t b = u32();
        if (b > static_cast<uint32_t>(Boundary::Any)) ok = false;
        return static_cast<Boundary>(b & 3);
    }
    StateRules state_rules() {
        StateRules s;
        s.duplicate_window_ms = static_cast<int64_t>(u64());
        for (uint32_t *x : {&s.duplicate_min_words, &s.duplicate_near_bits, &s.duplicate_flag, &s.duplicate_hold,
                            &s.duplicate_reject})
            *x = u32();
        s.flood_window_ms = static_cast<int64_t>(u64());
        for (uint32_t *x : {&s.flood_flag, &s.flood_hold, &s.flood_reject})
            *x = u32();
        s.new_account_days = static_cast<int32_t>(u32());
        s.new_account_flag = u32();
        s.new_account_hold = u32();
        return s;
    }
    void word_lists(std::map<std::string, WordList> &m) {
        for (uint32_t n = count(20); n-- && ok;) {
            std::string name = str();
            WordList wl;
            wl.words = strs();
            wl.lines = u32s();
            wl.files = strs();
            if (wl.lines.size() != wl.words.size() || wl.files.size() != wl.words.size()) ok = false;
            m.emplace(std::move(name), std::move(wl));
        }
    }
};

std::string encode_rules(const RuleSet &rs) {
    Writer w;
    w.u32(static_cast<uint32_t>(rs.rules.size()));
    for (const Rule &r : rs.rules) {
        for (const std::string *s : {&r.id, &r.category, &r.description}) w.str(*s);
        w.path(r.file);
        w.u32(r.line);
        w.u32(static_cast<uint32_t>(r.severity));
        put_f64(w, r.score);
        w.u32(r.roles);
        w.u32(static_cast<uint32_t>(r.boundary));
        w.u32(uint32_t(r.is_regex) | uint32_t(r.luhn) << 1 | uint32_t(r.regex_lists) << 2 |
              uint32_t(r.is_commitment) << 3 | uint32_t(r.is_model) << 4 | uint32_t(r.disguised_only) << 5);
        put_strs(w, r.literals);
        put_u32s(w, r.literal_lines);
        w.u32(static_cast<uint32_t>(r.literal_boundaries.size()));
        for (Boundary b : r.literal_boundaries) w.u32(static_cast<uint32_t>(b));
        w.path(r.words_path);
        w.u64(r.words_from);
        w.str(r.regex);
        w.u32(r.regex_line);
        w.str(r.trigger);
        w.u32(r.trigger_line);
        w.u32(static_cast<uint32_t>(r.examples.size()));
        for (const Example &x : r.examples) {
            w.str(x.text);
            w.u32(x.should_match);
            w.u32(x.line);
        }
        const Commitment &c = r.commitment;
        for (const auto *v : {&c.who, &c.commit, &c.what, &c.unless}) put_strs(w, *v);
        for (const auto *v : {&c.who_lines, &c.commit_lines, &c.what_lines, &c.unless_lines}) put_u32s(w, *v);
        w.u32(c.within);
        w.path(r.model_file);
        put_f64(w, r.threshold);
    }
    put_word_lists(w, rs.words);
    put_word_lists(w, rs.spellings);
    w.u32(static_cast<uint32_t>(rs.allow.size()));
    for (const AllowEntry &a : rs.allow) {
        w.str(a.text);
        w.path(a.file);
        w.u32(a.line);
        w.u32(a.as_written);
        w.u32(static_cast<uint32_t>(a.boundary));
    }
    const Policy &p = rs.policy;
    for (double x : {p.flag, p.hold, p.reject, p.quoted_weight}) put_f64(w, x);
    w.path(p.file);
    w.u32(p.line);
    w.u32(static_cast<uint32_t>(p.categories.size()));
    for (const CategoryPolicy &c : p.categories) {
        for (const std::string *s : {&c.prefix, &c.route}) w.str(*s);
        w.path(c.file);
        w.u32(c.line);
        for (double x : {c.flag, c.hold, c.reject}) put_f64(w, x);
    }
    put_state_rules(w, rs.state.defaults);
    w.str(rs.state.route);
    w.u32(static_cast<uint32_t>(rs.state.channels.size()));
    for (const auto &[name, s] : rs.state.channels) {
        w.str(name);
        put_state_rules(w, s);
    }
    w.u32(static_cast<uint32_t>(rs.state_overrides.size()));
    for (const auto &o : rs.state_overrides) {
        w.str(o.channel);
        w.str(o.key);
        put_f64(w, o.value);
    }
    w.path(rs.state_file);
    w.u32(rs.state_line);
    // A checksum of its own: the loader builds the commitment tables from these lists without the
    // checks that parsing the packs makes, so damaged lists are refused here even when the file's
    // checksum is not verified (the built-in engine) or was forged.
    const uint64_t sum = XXH64(w.s.data(), w.s.size(), kRulesSeed);
    w.u64(sum);
    return w.s;
}

bool decode_rules(std::string_view bytes, RuleSet &rs) {
    if (bytes.size() < 8) return false;
    uint64_t sum;
    std::memcpy(&sum, bytes.data() + bytes.size() - 8, 8);
    bytes.remove_suffix(8);
    if (XXH64(bytes.data(), bytes.size(), kRulesSeed) != sum) return false;
    RuleReader r;
    r.d = bytes;
    rs = RuleSet();
    rs.rules.resize(r.count(64));
    for (Rule &x : rs.rules) {
        if (!r.ok) return false;
        for (std::string *s : {&x.id, &x.category, &x.description, &x.file}) *s = r.str();
        x.line = r.u32();
        x.severity = static_cast<int>(r.u32());
        x.score = r.f64();
        const uint32_t roles = r.u32();
        x.roles = static_cast<uint8_t>(roles);
        x.boundary = r.boundary();
        const uint32_t flags = r.u32();
        x.is_regex = flags & 1;
        x.luhn = flags & 2;
        x.regex_lists = flags & 4;
        x.is_commitment = flags & 8;
        x.is_model = flags & 16;
        x.disguised_only = flags & 32;
        x.literals = r.strs();
        x.literal_lines = r.u32s();
        x.literal_boundaries.resize(r.count(4));
        for (Boundary &b : x.literal_boundaries) b = r.boundary();
        x.words_path = r.str();
        x.words_from = r.u64();
        x.regex = r.str();
        x.regex_line = r.u32();
        x.trigger = r.str();
        x.trigger_line = r.u32();
        x.examples.resize(r.count(16));
        for (Example &e : x.examples) {
            e.text = r.str();
            e.should_match = r.u32() != 0;
            e.line = r.u32();
        }
        Commitment &c = x.commitment;
        for (auto *v : {&c.who, &c.commit, &c.what, &c.unless}) *v = r.strs();
        for (auto *v : {&c.who_lines, &c.commit_lines, &c.what_lines, &c.unless_lines}) *v = r.u32s();
        c.within = r.u32();
        x.model_file = r.str();
        x.threshold = r.f64();
        // (the structure here; the values' ranges, roles and severity among them, are within_parsed_ranges')
        if (roles > 0xFF || flags > 63 || x.literal_lines.size() != x.literals.size() ||
            x.literal_boundaries.size() != x.literals.size() ||
            (x.words_from != SIZE_MAX && x.words_from > x.literals.size()) || c.who_lines.size() != c.who.size() ||
            c.commit_lines.size() != c.commit.size() || c.what_lines.size() != c.what.size() ||
            c.unless_lines.size() != c.unless.size())
            return false;
    }
    r.word_lists(rs.words);
    r.word_lists(rs.spellings);
    rs.allow.resize(r.count(28));
    for (AllowEntry &a : rs.allow) {
        a.text = r.str();
        a.file = r.str();
        a.line = r.u32();
        a.as_written = r.u32() != 0;
        a.boundary = r.boundary();
    }
    Policy &p = rs.policy;
    for (double *x : {&p.flag, &p.hold, &p.reject, &p.quoted_weight}) *x = r.f64();
    p.file = r.str();
    p.line = r.u32();
    p.categories.resize(r.count(52));
    for (CategoryPolicy &c : p.categories) {
        for (std::string *s : {&c.prefix, &c.route, &c.file}) *s = r.str();
        c.line = r.u32();
        for (double *x : {&c.flag, &c.hold, &c.reject}) *x = r.f64();
    }
    rs.state.defaults = r.state_rules();
    rs.state.route = r.str();
    rs.state.channels.resize(r.count(8));
    for (auto &[name, s] : rs.state.channels) {
        name = r.str();
        s = r.state_rules();
    }
    rs.state_overrides.resize(r.count(24));
    for (auto &o : rs.state_overrides) {
        o.channel = r.str();
        o.key = r.str();
        o.value = r.f64();
    }
    rs.state_file = r.str();
    rs.state_line = r.u32();
    return r.ok && r.pos == bytes.size() && within_parsed_ranges(rs);
}

}  // namespace

// The tables the compiler derives from the rules' words (core/compile.cpp): the '@' words (AtWords::kWords words),
// the skeleton's token filter (a count, then that many 64-bit words), the split-word windows (the
// same), each regex group's probe (a count, then one 32-bit word per group), then the learned
// scorer's n-gram table (ModelTable::encode).
std::string Engine::encode_tables() const {
    Writer w;
    uint32_t at[AtWords::kWords];
    at_words_.save(at);
    for (uint32_t x : at) w.u32(x);
    w.words(skel_filter_.save());
    w.words(join_grams_.words());
    w.u32(static_cast<uint32_t>(probe_of_.size()));
    for (uint32_t p : probe_of_) w.u32(p);
    encode_gates(w.s);
    model_table_.encode(w.s);
    return w.s;
}

bool Engine::decode_tables(std::string_view bytes) {
    Reader r{bytes};
    uint32_t at[AtWords::kWords];
    for (uint32_t &x : at) x = r.u32();
    const std::vector<uint64_t> filter = r.words();
    if (!r.ok || !skel_filter_.load(filter.data(), filter.size())) return false;
    std::vector<uint64_t> grams = r.words();
    if (!r.ok || !join_grams_.load(std::move(grams))) return false;
    const uint32_t ngroups = r.u32();
    if (!r.ok || ngroups > bytes.size() / 4) return false;
    probe_of_.resize(ngroups);
    for (uint32_t &p : probe_of_) p = r.u32();
    if (!r.ok) return false;
    std::string_view rest = bytes.substr(r.pos);
    if (!decode_gates(rest)) return false;
    at_words_.load(at);
    return model_table_.decode(rest) && model_table_.models() == model_rules_.size();
}

// The gates (Engine::gates_): how many variable patterns have any; for each, its number, how many
// sets, and per set how many atoms; per atom a byte of flags (1: a boundary before it, 2: after),
// its length and its bytes.
void Engine::encode_gates(std::string &out) const {
    Writer w;
    uint32_t n = 0;
    for (const auto &g : gates_) n += !g.empty();
    w.u32(n);
    for (uint32_t v = 0; v < gates_.size(); ++v) {
        if (gates_[v].empty()) continue;
        w.u32(v);
        w.s += static_cast<char>(gates_[v].size());
        for (const GateSet &g : gates_[v]) {
            w.s += static_cast<char>(g.atoms.size());
            for (const GateAtom &a : g.atoms) {
                w.s += static_cast<char>((a.start ? 1 : 0) | (a.end ? 2 : 0));
                w.s += static_cast<char>(a.bytes.size());
                w.s += a.bytes;
            }
        }
    }
    out += w.s;
}

bool Engine::decode_gates(std::string_view &in) {
    Reader r{in};
    const uint32_t n = r.u32();
    // (n_var_ was checked against the pattern count before: Engine::deserialize)
    if (!r.ok || n > n_var_ || n > in.size() / 8) return false;
    gates_.assign(n ? n_var_ : 0, {});
    auto byte = [&](uint8_t &b) {
        if (r.pos >= in.size()) return false;
        b = static_cast<uint8_t>(in[r.pos++]);
        return true;
    };
    for (uint32_t i = 0; i < n; ++i) {
        const uint32_t v = r.u32();
        uint8_t nsets = 0;
        if (!r.ok || v >= n_var_ || !gates_[v].empty() || !byte(nsets) || nsets == 0 || nsets > 2) return false;
        for (uint8_t k = 0; k < nsets; ++k) {
            uint8_t natoms = 0;
            if (!byte(natoms) || natoms == 0 || natoms > 8) return false;
            GateSet &set = gates_[v].emplace_back();
            for (uint8_t a = 0; a < natoms; ++a) {
                uint8_t flags = 0, len = 0;
                if (!byte(flags) || !byte(len) || flags > 3 || len == 0 || len > 16 || in.size() - r.pos < len) return false;
                std::string x(in.substr(r.pos, len));
                r.pos += len;
                for (unsigned char c : x)
                    if (c < 0x20 || c >= 0x80 || (c >= 'A' && c <= 'Z')) return false;  // as gate_set() stores them
                add_gate_atom(set, {std::move(x), (flags & 1) != 0, (flags & 2) != 0});
            }
        }
    }
    in.remove_prefix(r.pos);
    return true;
}

bool Engine::check_patterns() const {
    // A checksum guards against accidents only: every index is checked before the scanner uses it.
    auto valid = [&](const Pattern &p) {
        if (static_cast<unsigned>(p.boundary) > static_cast<unsigned>(Boundary::Any)) return false;
        if (p.allow ? p.rule >= rs_.allow.size() : p.rule >= rs_.rules.size()) return false;
        return p.fixed_len <= (1u << 20) && p.window <= kMaxWindow && p.reach <= p.window && p.slot < 2 && p.slots <= 2;
    };
    for (const Pattern &p : skel_pats_)
        if (!valid(p) || p.kind != Pattern::kLiteral) return false;
    for (const Pattern &p : pats_) {
        if (!valid(p) || p.kind > Pattern::kAnchor) return false;
        if (p.kind == Pattern::kAnchor && (p.allow || !rs_.rules[p.rule].is_commitment || p.target >= anchors_.size()))
            return false;
        if (p.kind == Pattern::kTrigger && (p.target >= pats_.size() || pats_[p.target].kind != Pattern::kVariable))
            return false;
        // (group 0 holds the phrases, each regex a group of its own or shares one: at most one group
        // per pattern besides group 0, which may be empty)
        if (p.kind == Pattern::kVariable && (p.var >= n_var_ || p.group > pats_.size())) return false;
    }
    return true;
}

std::string Engine::serialize() const {
    Writer payload;
    payload.u32(static_cast<uint32_t>(src_.files.size()));
    for (const auto &f : src_.files) {
        payload.path(f.path);
        payload.str(f.content);
    }
    payload.str(encode_rules(rs_));
    payload.u32(static_cast<uint32_t>(pats_.size()));
    payload.u64(fingerprint_);
    payload.str(encode_patterns(pats_));
    payload.str(encode_patterns(skel_pats_));
    payload.u64(n_var_);
    payload.str(encode_tables());
    std::string words;
    words_.encode(words);
    payload.str(words);
    auto put = [&](hs_database *db) {
        if (!db) return payload.str("");
        char *bytes = nullptr;
        size_t len = 0;
        if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS) throw Error(kNoMem, "cannot serialize database");
        payload.str(std::string_view(bytes, len));
        free(bytes);
    };
    // A database not deserialized yet is written as the bytes it would be serialized to (the ones it
    // was loaded from), so that mf_engine_hash deserializes nothing.
    auto put_lazy = [&](const LazyDatabase &db) {
        if (db.exists() && !db.loaded()) payload.str(db.serialized());
        else put(db.loaded());
    };
    payload.u32(static_cast<uint32_t>(3 + var_dbs_.size() + probe_dbs_.size()));
    put(main_dbs_[0]);
    put(main_dbs_[1]);
    put_lazy(*skel_db_);
    for (const auto &db : var_dbs_) put_lazy(*db);
    for (const auto &db : probe_dbs_) put_lazy(*db);
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

uint64_t Engine::content_hash() const {
    // The directory every file's path starts with (up to its last '/'), left out of the paths.
    std::string root;
    for (size_t i = 0; i < src_.files.size(); ++i) {
        const std::string &f = src_.files[i].path;
        const size_t slash = f.rfind('/');
        const std::string_view dir = slash == std::string::npos ? std::string_view() : std::string_view(f).substr(0, slash + 1);
        if (i == 0) {
            root = dir;
            continue;
        }
        size_t k = 0;
        while (k < root.size() && k < dir.size() && root[k] == dir[k]) ++k;
        // (back to the last '/' of the common part: "packs/a/" and "packs/ab/" share "packs/")
        const size_t slash_in = k ? root.rfind('/', k - 1) : std::string::npos;
        root.resize(slash_in == std::string::npos ? 0 : slash_in + 1);
    }
    struct Reset {  // (also when serialize() throws)
        ~Reset() { t_path_root = {}; }
    } reset;
    t_path_root = root;
    const std::string s = serialize();
    // and what the engine was given beside the packs that changes a verdict
    Writer w;
    for (double x : {opt_.flag, opt_.hold, opt_.reject}) put_f64(w, x);
    w.u64(opt_.max_post_bytes);
    w.u32(opt_.max_hits);
    return XXH3_64bits_withSeed(s.data(), s.size(), XXH3_64bits(w.s.data(), w.s.size()));
}

LazyDatabase::~LazyDatabase() { hs_free_database(db_.load()); }

hs_database *LazyDatabase::load() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (hs_database *d = db_.load(std::memory_order_acquire)) return d;  // another thread was first
    hs_database *d = nullptr;
    if (hs_deserialize_database(blob_.data(), blob_.size(), &d) != HS_SUCCESS)
        throw Error(kBadDatabase, "a Hyperscan database inside the modfilter database is corrupt or for another platform");
    db_.store(d, std::memory_order_release);
    return d;
}

namespace {
// A header string as a message may quote it: a damaged header holds any bytes, and an error message
// goes to terminals and logs. Printable ASCII as it is, anything else as \xNN, at most 64 bytes.
std::string quoted_field(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size() && i < 64; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7F) {
            out += static_cast<char>(c);
        } else {
            char b[5];
            std::snprintf(b, sizeof b, "\\x%02X", c);
            out += b;
        }
    }
    if (s.size() > 64) out += "...";
    return out;
}
}  // namespace

std::unique_ptr<Engine> Engine::deserialize(std::string_view data, const EngineOptions &opt, bool data_outlives_engine,
                                            bool verify_checksum) {
    Reader r{data};
    char magic[8];
    if (!r.take(magic, 8) || std::memcmp(magic, kMagic, 8) != 0)
        throw Error(kBadDatabase, "not a modfilter database (bad magic)");
    uint32_t format = r.u32(), lib = r.u32();
    std::string hsv = r.str(), plat = r.str(), uni = r.str();
    uint64_t plen = r.u64(), sum = r.u64();
    if (!r.ok) throw Error(kBadDatabase, "modfilter database header is damaged or truncated");
    if (format != kFormatVersion)
        throw Error(kDbMismatch, "database format " + std::to_string(format) + ", this library reads format " +
                                     std::to_string(kFormatVersion));
    if (lib != kVersionNumber)
        throw Error(kDbMismatch, "database built by modfilter " + std::to_string(lib) + ", this is " +
                                     std::to_string(kVersionNumber) + ": recompile the rules");
    if (hsv != hs_version()) throw Error(kDbMismatch, "database built with Hyperscan " + quoted_field(hsv) + ", this is " + hs_version());
    if (plat != platform_string()) throw Error(kDbMismatch, "database built for " + quoted_field(plat) + ", this is " + platform_string());
    if (uni != unicode_version()) throw Error(kDbMismatch, "database built with " + quoted_field(uni) + ", this is " + unicode_version());
    if (data.size() - r.pos != plen) throw Error(kBadDatabase, "modfilter database has the wrong length (truncated?)");
    if (verify_checksum && XXH64(data.data() + r.pos, plen, 0) != sum) throw Error(kBadDatabase, "modfilter database checksum mismatch (corrupted)");

    std::unique_ptr<Engine> e(new Engine);
    uint32_t nfiles = r.u32();
    for (uint32_t i = 0; i < nfiles && r.ok; ++i) {
        SourceFile f;
        f.path = r.str();
        f.content = r.str();
        e->src_.files.push_back(std::move(f));
    }
    std::string_view rule_bytes = r.view();
    uint32_t npats = r.u32();
    e->fingerprint_ = r.u64();
    std::string_view pat_bytes = r.view(), skel_bytes = r.view();
    e->n_var_ = r.u64();
    // (each variable is a pattern, and each pattern takes kPatternWords words of the data: bounds for
    // what the tables below allocate per pattern)
    if (e->n_var_ > npats || npats > data.size() / (4 * kPatternWords))
        throw Error(kBadDatabase, "database patterns do not match its rules");
    std::string_view tables = r.view(), words = r.view();
    uint32_t ndbs = r.u32();
    std::vector<std::string_view> blobs;  // into data: Hyperscan copies each into a database of its own
    // three, and two per group: group 0 (the phrases, maybe none) and at most one group per pattern
    if (ndbs > 2 * (uint64_t(npats) + 1) + 3)
        throw Error(kBadDatabase, "database holds more pattern databases than patterns");
    for (uint32_t i = 0; i < ndbs && r.ok; ++i) blobs.push_back(r.view());
    if (!r.ok) throw Error(kBadDatabase, "modfilter database payload is truncated");
    if (!decode_rules(rule_bytes, e->rs_)) throw Error(kBadDatabase, "the rules inside the database are damaged");
    e->build_tables(opt);
    if (!e->decode_tables(tables)) throw Error(kBadDatabase, "database tables do not match its rules");
    if (!decode_patterns(pat_bytes, e->pats_) || e->pats_.size() != npats || !decode_patterns(skel_bytes, e->skel_pats_) ||
        !e->check_patterns())
        throw Error(kBadDatabase, "database patterns do not match its rules");
    if (!e->words_.decode(words, e->pats_.size()))
        throw Error(kBadDatabase, "database word literals do not match its patterns");
    bool words_ok = true;
    e->words_.for_each([&](uint32_t i, Boundary b, std::string_view bytes) {
        const Pattern &p = e->pats_[i];  // (i < pats_.size(): decode checked it)
        if (bytes.empty()) {  // a digit that starts a word: the "#" anchor
            words_ok = words_ok && e->digit_anchor(p);
            return;
        }
        const bool kind_ok = p.kind == Pattern::kLiteral || (p.kind == Pattern::kTrigger && !p.wide) ||
                             (p.kind == Pattern::kAnchor && b == Boundary::Word);
        words_ok = words_ok && kind_ok && p.boundary == b && bytes.size() == p.fixed_len;
    });
    if (!words_ok) throw Error(kBadDatabase, "database word literals do not match its patterns");
    std::vector<size_t> main[2];
    std::vector<std::vector<size_t>> groups;
    e->build_groups(main, groups);
    // Each group's probe: numbered 0, 1, ... in order of their first group, as merge_groups() does.
    bool probes_ok = e->probe_of_.size() == groups.size();
    for (size_t g = 0, next = 0; g < groups.size() && probes_ok; ++g) {
        probes_ok = e->probe_of_[g] <= next;
        if (e->probe_of_[g] == next) ++next;
    }
    if (!probes_ok) throw Error(kBadDatabase, "database probes do not match its rules");
    const std::vector<std::vector<size_t>> probes = e->probe_members(groups);
    if (blobs.size() != 3 + groups.size() + probes.size()) throw Error(kBadDatabase, "database patterns do not match its rules");
    for (size_t i = 0; i < blobs.size(); ++i) {
        bool expected = i < 2                     ? !main[i].empty()
                        : i == 2                  ? !e->skel_pats_.empty()
                        : i < 3 + groups.size()   ? !groups[i - 3].empty()
                                                  : !probes[i - 3 - groups.size()].empty();
        if (expected != !blobs[i].empty()) throw Error(kBadDatabase, "database patterns do not match its rules");
        // The main databases are deserialized here, so that a database for another platform is
        // refused at load (every database of the file is built for the same one); the others wait
        // for their first scan when the data stays (their headers are checked now).
        const bool lazy = data_outlives_engine && i >= 2;
        hs_database *db = nullptr;
        size_t size = 0;
        if (expected && (lazy ? hs_serialized_database_size(blobs[i].data(), blobs[i].size(), &size)
                              : hs_deserialize_database(blobs[i].data(), blobs[i].size(), &db)) != HS_SUCCESS)
            throw Error(kBadDatabase, "the Hyperscan database inside is corrupt or for another platform");
        if (i < 2) {
            e->main_dbs_[i] = db;
            continue;
        }
        auto held = lazy && expected ? std::make_unique<LazyDatabase>(blobs[i]) : std::make_unique<LazyDatabase>(db);
        if (i == 2) e->skel_db_ = std::move(held);
        else if (i < 3 + groups.size()) e->var_dbs_.push_back(std::move(held));
        else e->probe_dbs_.push_back(std::move(held));
    }
    return e;
}

}  // namespace mf
