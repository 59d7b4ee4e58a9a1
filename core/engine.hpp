// The engine: rule packs compiled (core/compile.cpp) into immutable tables and Hyperscan databases,
// shared by every thread; serialized and loaded in core/database.cpp. The per-thread stages that
// read it are in core/scanner.hpp, their result in core/verdict.hpp.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "commitment.hpp"
#include "model.hpp"
#include "normalize.hpp"
#include "rules.hpp"
#include "skeleton.hpp"
#include "verdict.hpp"
#include "word_index.hpp"
#include "word_match.hpp"

struct hs_database;
struct hs_scratch;

namespace mf {

// Status codes, identical to MF_OK / MF_E_* in the public header.
enum Status : int32_t {
    kOk = 0,
    kInvalidArg = -1,
    kNoMem = -2,
    kRulesError = -3,
    kIoError = -4,
    kVersionError = -5,
    kBadDatabase = -6,
    kDbMismatch = -7,
    kTooLarge = -8,
    kBusy = -9,
    kNotFound = -10,
    kStateCorrupt = -11,
    kStateVersion = -12,
    kInternal = -99,
};

// An error with a status code and a message, thrown inside the core and caught at the C boundary.
struct Error : std::exception {
    int32_t status;
    std::string message;
    Error(int32_t s, std::string m) : status(s), message(std::move(m)) {}
    const char *what() const noexcept override { return message.c_str(); }
};

struct EngineOptions {
    double flag = -1, hold = -1, reject = -1;  // < 0: from the packs' policy
    uint64_t max_post_bytes = 16u << 20;
    uint32_t max_hits = 1024;
};

struct CategoryInfo {
    std::string name, route;
    double flag, hold, reject;
    Action action_for(double score) const {
        return score >= reject ? kReject : score >= hold ? kHold : score >= flag ? kFlag : kAllow;
    }
};

// A regex or phrase match must lie within this many bytes of its trigger (docs/limits.md):
// moderation patterns are sentence-sized, and the window bounds the work per trigger.
constexpr uint32_t kMaxWindow = 160;

// The most skeleton patterns (disguised forms of list words) an engine compiles: the default packs
// have about 8,300; words past it match only as written, and check-rules warns (docs/limits.md).
// The allow list's disguised forms are always compiled, and so are those of disguised_only rules.
constexpr size_t kMaxSkeletonPatterns = 30000;

struct Pattern {
    uint32_t rule;  // index into rules, or allow entry index when allow is set
    Boundary boundary;
    bool allow;
    uint8_t roles;
    uint32_t fixed_len;  // > 0: a literal of this many bytes, compiled without start-of-match
    // Regexes and phrases (variable length) live in the variable database, run only over windows
    // around their triggers: prefilter atoms, or the pattern itself when it has no atoms.
    // kAnchor: a word that starts a commit or a what phrase of [[commitment]] rules (target: its
    // index in Engine::anchor()); the commitment stage (core/commitment.hpp) confirms the rules.
    enum Kind : uint8_t { kLiteral, kVariable, kTrigger, kAnchor } kind = kLiteral;
    uint32_t target = 0;  // kTrigger: the kVariable pattern it triggers
    uint32_t window = 0;  // kVariable: how far around a trigger a match can reach, in bytes
    // kVariable: how far too when each run of white space counts as one byte (at most window): a
    // trigger's window reaches this far so counted, and no further than window bytes
    uint32_t reach = 0;
    uint32_t group = 0;   // kVariable and kTrigger: which variable database holds the pattern
    uint32_t var = 0;     // kVariable: its index among variable patterns
    uint8_t slot = 0;     // kTrigger: which atom set it belongs to
    uint8_t slots = 0;    // kVariable: how many atom sets must all be seen (0: no triggers, 1 or 2)
    bool luhn = false;    // the hit's digits must pass the Luhn checksum
    bool wide = false;    // kTrigger: a rule's own trigger regex; fixed_len is its longest match
    // Skeleton patterns of a word whose skeleton is two letters once a run is folded ("ass" is
    // "as"): the characters a disguise must have at least, the word's own count ("a55", "@ss" and
    // "a$$" are "ass"; "A5", a paper size, and "iPhone 4s" are not). 0: no such bound.
    uint8_t min_chars = 0;
};

// A Hyperscan database that a loaded engine deserializes when a scan first asks for it: most posts
// need only the main database of their role, and the regex groups' and the skeleton's databases
// (four fifths of the default engine's bytes) wait for a post that triggers them. Only for data that
// outlives the engine (the default packs, precompiled into the library); a compiled engine, and one
// loaded from a caller's buffer, hold every database from the start. Safe to share between threads.
class LazyDatabase {
public:
    explicit LazyDatabase(hs_database *db = nullptr) : db_(db) {}
    explicit LazyDatabase(std::string_view serialized) : blob_(serialized) {}
    LazyDatabase(const LazyDatabase &) = delete;
    LazyDatabase &operator=(const LazyDatabase &) = delete;
    ~LazyDatabase();
    // Whether there is a database at all (a group without patterns has none); loads nothing.
    bool exists() const { return !blob_.empty() || db_.load(std::memory_order_relaxed); }
    // The database, deserialized on the first call (nullptr when there is none). Throws
    // Error(kBadDatabase) when the bytes do not deserialize.
    hs_database *get() const {
        hs_database *d = db_.load(std::memory_order_acquire);
        return d || blob_.empty() ? d : load();
    }
    // The database if it is deserialized already, else nullptr; loads nothing.
    hs_database *loaded() const { return db_.load(std::memory_order_acquire); }
    // The serialized bytes it was made with (empty for a database that was never serialized).
    std::string_view serialized() const { return blob_; }

private:
    hs_database *load() const;
    std::string_view blob_;
    mutable std::atomic<hs_database *> db_{nullptr};
    mutable std::mutex mu_;
};

class Engine {
public:
    // Compiles sources. Throws Error(kRulesError) with every diagnostic in `diags` on a mistake.
    static std::unique_ptr<Engine> compile(Sources src, const EngineOptions &opt,
                                           std::vector<Diagnostic> &diags);
    // Loads a serialized engine. With `data_outlives_engine` (static data, such as the precompiled
    // default packs), the databases that most posts never need are deserialized on first use
    // (LazyDatabase); otherwise every one is deserialized here and data may go away after the call.
    // `verify_checksum` false skips the checksum of the whole payload (but no other check): for the
    // default packs, which are part of the library's own read-only image, where reading every byte
    // of the database at load would fault in pages that most scans never touch.
    static std::unique_ptr<Engine> deserialize(std::string_view data, const EngineOptions &opt,
                                               bool data_outlives_engine = false, bool verify_checksum = true);
    std::string serialize() const;
    // A hash of the database as serialize() writes it, with the pack files' paths taken relative to
    // the directory they all stand in, and of the options that change a verdict (thresholds,
    // limits): engines with the same hash judge every post alike, wherever their packs were read.
    uint64_t content_hash() const;
    ~Engine();

    const std::vector<Rule> &rules() const { return rs_.rules; }
    const std::vector<AllowEntry> &allow_entries() const { return rs_.allow; }
    const std::vector<CategoryInfo> &categories() const { return cats_; }
    // [state] in policy.toml: thresholds and windows of the state stage (core/state.hpp).
    const StatePolicy &state_policy() const { return rs_.state; }
    // [policy] quoted_weight: the share of its score a rule counts for when all its hits are quoted.
    double quoted_weight() const { return rs_.policy.quoted_weight; }
    uint32_t rule_category(size_t rule) const { return rule_cat_[rule]; }
    const EngineOptions &options() const { return opt_; }
    const Pattern &pattern(unsigned id) const { return pats_[id]; }
    size_t pattern_count() const { return pats_.size(); }
    size_t variable_count() const { return n_var_; }
    // The main database for a role (0 member, 1 staff): the literals and triggers of the rules that
    // apply to it, so that a member's post is not searched for staff-only promise words.
    hs_database *database(int role) const { return main_dbs_[role == 1 ? 1 : 0]; }
    // The main database's word-bounded literals, found by the post's words (core/word_match.hpp)
    // instead: the patterns here are in neither main database.
    const WordMatcher &word_matcher() const { return words_; }
    // Word lists again, in skeleton form (core/skeleton.hpp), for posts that show evasion tricks.
    const LazyDatabase &skeleton_database() const { return *skel_db_; }
    const AtWords &at_words() const { return at_words_; }
    const JoinGrams &join_grams() const { return join_grams_; }
    // Which tokens of a post the skeleton can leave out (built with the skeleton patterns).
    const TokenFilter &skeleton_filter() const { return skel_filter_; }
    const Pattern &skeleton_pattern(unsigned id) const { return skel_pats_[id]; }
    // Variable databases: one per regex (each one alone is fast; together they are not), plus
    // one for all phrases.
    size_t group_count() const { return var_dbs_.size(); }
    const LazyDatabase &group_database(size_t g) const { return *var_dbs_[g]; }
    // The same patterns without start-of-match tracking, which scans about 2.5 times faster: a
    // window is scanned with it first, and again with the group database only when something matches
    // (most windows hold no match).
    const LazyDatabase &group_probe(size_t p) const { return *probe_dbs_[p]; }
    // Which probe database group g's windows are probed with (groups that wait for the same words
    // share one), and how many there are.
    uint32_t probe_of(size_t g) const { return probe_of_[g]; }
    // Whether a window of variable pattern `var` over text[lo, hi) (normalized, n bytes) may hold a
    // match as far as its gates tell (core/prefilter.hpp gate_atom_sets): an atom of each of its
    // gate sets stands in it. True for a pattern without gates.
    bool gates_pass(uint32_t var, const char *text, size_t n, size_t lo, size_t hi) const {
        return !gated(var) || gates_hold(gates_[var], text, n, lo, hi);
    }
    bool gated(uint32_t var) const { return var < gates_.size() && !gates_[var].empty(); }
    size_t probe_count() const { return probe_dbs_.size(); }

    // The matcher of a [[commitment]] rule (nullptr for other rules).
    const CommitmentMatcher *commitment(size_t rule) const {
        return rule_commit_[rule] < 0 ? nullptr : &commits_[rule_commit_[rule]];
    }

    // An anchor word: the commitment rules that have it in a commit phrase (with its place in the
    // phrase: the phrase starts that many words earlier), and those that have it in a deliverable
    // (what). Derived from the rules, in the same order at compile and load.
    struct AnchorWord {
        std::string word;
        std::vector<std::pair<uint32_t, uint32_t>> commit_rules;  // (rule, place in the phrase)
        std::vector<uint32_t> what_rules;
        // The phrases found by this word (of anchored(), and the word's place in each), and how many
        // words they reach before and after it. The anchor counts only where one of them matches
        // around it (needs_cover), unless one is the word by itself.
        std::vector<std::pair<uint32_t, uint32_t>> phrases;
        uint32_t back = 0, ahead = 0;
        bool needs_cover = false;
        // The words right before and after the anchor word in each of those phrases (same order), for
        // a first look at the post's bytes around it (Scanner::anchor_covered): most anchors of common
        // words stand between words that none of their phrases has there.
        struct Neighbours {
            enum Kind : uint8_t { kNone, kAny, kNumber, kWord };  // no word there; any word ("*"); a number ("#"); this word
            Kind prev = kNone, next = kNone;
            std::string prev_word, next_word;
        };
        std::vector<Neighbours> neighbours;
        bool quick = false;  // every phrase names a word beside the anchor word: the first look may say no
        // For an anchor of deliverables only (no commit_rules): the words (by number) that start a
        // commit phrase of one of its rules, and how many words before the anchor word such a phrase
        // may start (the largest reach() + lead_exact of them). Without one there, its sentence is not read.
        std::vector<bool> commits;
        uint32_t commit_back = 0;
    };
    const AnchorWord &anchor(size_t i) const { return anchors_[i]; }
    // Whether pattern p is the number anchor ("#": `[0-9]` where it starts a word), which the word
    // matcher finds (compile and load ask the same).
    bool digit_anchor(const Pattern &p) const {
        return p.kind == Pattern::kAnchor && p.boundary == Boundary::Prefix && p.fixed_len == 1 &&
               anchors_[p.target].word == "#";
    }
    size_t anchor_count() const { return anchors_.size(); }
    // The phrases that anchor words stand for, exceptions left out: the deliverables (what phrases)
    // of every commitment rule, and the commit phrases of the rules found by them (what = ["*"]). A
    // phrase is found by its anchor word (PhraseSet::anchor_point), and where none of the phrases
    // that an anchor word finds matches around it ("more" of "any more" in "more than", "into" of
    // "paid into your" in "look into it"), its sentence is not read for it.
    const PhraseSet &anchored() const { return anchored_; }
    // Every word of the commitment rules' phrases, numbered (tokens are labelled with it).
    const PhraseWords &phrase_words() const { return phrase_words_; }
    // Whether the word numbered w starts some commit phrase (see CommitmentMatcher::commit_starts).
    bool commit_start(uint32_t w) const { return w < commit_start_.size() && commit_start_[w]; }
    // Most words of a sentence have a first byte (lower case) and a length that no commit word has.
    bool may_be_commit_word(unsigned char first, size_t len) const {
        return (commit_lengths_[first] >> std::min<size_t>(len, 31)) & 1;
    }

    // Whether a commitment rule has a deliverable of wildcards only ("*") or a number alone ("#"), so
    // that it is found by its commit words instead.
    bool what_always(size_t rule) const { return what_always_[rule]; }

    // The [[model]] rules (the learned scorer, core/model.hpp), in the order of the table's models.
    const std::vector<uint32_t> &model_rules() const { return model_rules_; }
    const ModelTable &model_table() const { return model_table_; }

    // What compiling found worth a word but not wrong (a regex that runs on every post), as
    // diagnostics whose message starts with "warning: ". Empty for a loaded database.
    const std::vector<Diagnostic> &warnings() const { return warnings_; }

    // Runs every rule's examples; adds a diagnostic for each that fails.
    void check_examples(std::vector<Diagnostic> &diags) const;

private:
    Engine() = default;
    void build_tables(const EngineOptions &opt);  // at compile and at load: cheap, derived from the rules
    void build_word_tables();                     // at compile only: carried by the compiled database
    bool check_patterns() const;  // after loading: every index in range
    std::string encode_tables() const;  // what build_word_tables() built, for the database
    bool decode_tables(std::string_view bytes);
    void merge_groups(const std::vector<std::string> &exprs);  // at the end of build_patterns: probe_of_
    std::vector<std::vector<size_t>> probe_members(const std::vector<std::vector<size_t>> &groups) const;
    void build_patterns(std::vector<std::string> &exprs, std::vector<unsigned> &flags,
                        std::vector<Diagnostic> &diags);

    Sources src_;
    RuleSet rs_;
    EngineOptions opt_;
    std::vector<CategoryInfo> cats_;
    std::vector<uint32_t> rule_cat_;
    std::vector<CommitmentMatcher> commits_;  // built from the rules' phrase lists, at compile and at load
    std::vector<int32_t> rule_commit_;
    std::vector<AnchorWord> anchors_;
    PhraseSet anchored_;
    PhraseWords phrase_words_;
    std::vector<bool> commit_start_;
    uint32_t commit_lengths_[256] = {};  // per first byte: bit n set when a commit word of n bytes (31: 31 or more) starts so
    std::vector<bool> what_always_;
    std::vector<uint32_t> model_rules_;
    ModelTable model_table_;
    std::vector<Pattern> pats_;
    std::vector<Diagnostic> warnings_;
    WordMatcher words_;
    void build_word_matcher(const std::vector<std::string> &exprs);  // at compile, after build_patterns
    void build_groups(std::vector<size_t> (&main)[2], std::vector<std::vector<size_t>> &groups) const;
    hs_database *compile_db(const std::vector<std::string> &exprs, const std::vector<unsigned> &flags,
                            const std::vector<size_t> &subset, bool som, std::vector<Diagnostic> &diags) const;

    hs_database *main_dbs_[2] = {nullptr, nullptr};  // member, staff: literals and triggers, no start-of-match
    size_t n_var_ = 0;
    uint64_t fingerprint_ = 0;  // of the compiled patterns: carried by a serialized database
    std::vector<Pattern> skel_pats_;
    AtWords at_words_;
    JoinGrams join_grams_;  // where a split word may be undone (core/skeleton.hpp), carried by the tables
    TokenFilter skel_filter_;  // built with the skeleton patterns, carried by the database's tables
    std::vector<std::string> skel_exprs_;
    hs_database *compile_skeleton_db() const;
    std::unique_ptr<LazyDatabase> skel_db_ = std::make_unique<LazyDatabase>();
    std::vector<std::unique_ptr<LazyDatabase>> var_dbs_;    // variable-length patterns, with start-of-match
    std::vector<std::unique_ptr<LazyDatabase>> probe_dbs_;  // the same without, per probe (probe_of_)
    std::vector<uint32_t> probe_of_;                         // per group: its probe
    // A variable pattern's gates: atom sets too common to be its triggers, each of which has an atom
    // in every match ("my" of "details on my profile"): a window opens only where they all stand.
    struct GateAtom {
        std::string bytes;       // lowercase ASCII, 1 to 16 bytes
        bool start = false, end = false;  // a word boundary must stand before it, after it
    };
    struct GateSet {
        std::vector<GateAtom> atoms;  // 1 to 8
        uint64_t first[4] = {};       // bit per byte: some atom starts with it (either case)
    };
    std::vector<std::vector<GateSet>> gates_;  // per variable pattern (Pattern::var), mostly none
    static bool gates_hold(const std::vector<GateSet> &sets, const char *text, size_t n, size_t lo, size_t hi);
    static GateSet gate_set(const std::vector<std::string> &atoms);  // atoms as gate_atom_sets() writes them
    static void add_gate_atom(GateSet &g, GateAtom a);               // a: 1 to 16 lowercase bytes
    void encode_gates(std::string &out) const;
    bool decode_gates(std::string_view &in);
};

}  // namespace mf
