// Rule packs: TOML files parsed into rules, an allowlist and a policy. See docs/rule-packs.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "state_policy.hpp"

namespace mf {

struct ModelWeights;  // core/model.hpp

enum class Boundary : uint8_t { Word, Prefix, Suffix, Any };

// The boundary of a match that must (or need not) start, and end, at a word boundary.
inline Boundary boundary_of(bool bounded_start, bool bounded_end) {
    return bounded_start && bounded_end ? Boundary::Word
           : bounded_start             ? Boundary::Prefix
           : bounded_end               ? Boundary::Suffix
                                       : Boundary::Any;
}

enum : uint8_t { kRoleMember = 1, kRoleStaff = 2, kRoleEveryone = 3 };

struct Diagnostic {
    std::string file;
    uint32_t line = 0;
    std::string message;
    std::string str() const;  // "file:line: message"
};

struct Example {
    std::string text;
    bool should_match = true;
    uint32_t line = 0;
};

// The parts of a [[commitment]] rule (docs/rule-packs.md): phrases, with "@name" references to
// [words] lists already expanded, and the line each came from.
struct Commitment {
    std::vector<std::string> who, commit, what, unless;
    std::vector<uint32_t> who_lines, commit_lines, what_lines, unless_lines;
    uint32_t within = 8;  // words allowed between the commitment and the deliverable
};

// The [words] list whose words are the negations of the commitment stage (PhraseWords::add_negation).
constexpr const char *kNegationList = "negation";

// A named word list ([words] in any pack), shared by every pack of the set; a name given in several
// files gets all their words, and a list may name another ("@name", put in place once every file is read).
struct WordList {
    std::vector<std::string> words;
    std::vector<uint32_t> lines;
    std::vector<std::string> files;  // parallel to words
};

struct Rule {
    std::string id, category, description, file;
    uint32_t line = 0;
    int severity = 2;
    double score = 2.0;
    uint8_t roles = kRoleEveryone;
    Boundary boundary = Boundary::Word;
    bool is_regex = false;
    bool luhn = false;  // validate = "luhn": the digits of a hit must pass the Luhn checksum
    // disguised_only = true: the words are matched only where the post disguises them (in the
    // evasion skeleton, core/skeleton.hpp, on a span that shows a trick): "l0s3r", "s.t.u.p.i.d",
    // not "loser" or "stupid", which clean prose uses and other rules judge in context.
    bool disguised_only = false;
    std::vector<std::string> literals;  // words and phrases, as written (an opening or closing '*' taken off)
    std::vector<uint32_t> literal_lines;
    // Per literal: the rule's boundary, loosened where the entry opens or closes with '*' ("*fuck*"
    // anywhere inside a word, "shit*" at the start of one; docs/rule-packs.md).
    std::vector<Boundary> literal_boundaries;
    // The literals [words_from, literals.size()) come from words_path (a words_file), for diagnostics
    // at the word file's own line.
    std::string words_path;
    size_t words_from = SIZE_MAX;
    // The file literal k was read from (the pack, or its words_file), where its literal_lines[k] is.
    const std::string &literal_file(size_t k) const { return k >= words_from ? words_path : file; }
    std::string regex;
    uint32_t regex_line = 0;
    bool regex_lists = false;  // regex or trigger named a [words] list ("{@name}"), put in by parse_rules
    // A regex that every match of `regex` contains (a digit run, an '@'): the rule's regex runs only
    // around its matches. For regexes without a literal of their own; see docs/rule-packs.md.
    std::string trigger;
    uint32_t trigger_line = 0;
    std::vector<Example> examples;
    bool is_commitment = false;  // a [[commitment]] rule: see Commitment
    Commitment commitment;
    // A [[model]]: the learned scorer (core/model.hpp). It hits when the post's probability reaches
    // `threshold`; its hits are the words that weighed most.
    bool is_model = false;
    std::shared_ptr<const ModelWeights> model;
    std::string model_file;
    double threshold = 0.5;
};

struct AllowEntry {
    std::string text, file;
    uint32_t line = 0;
    // Allowed only as written ([allow] as_written): not also in the evasion skeleton, where the
    // entry's skeleton would allow disguised spellings of the word it contains ("slutt", Norwegian
    // for "end", must not allow "slutttt" or "s1utt"), nor where the text shows a trick that the
    // normalizer undid ("ｓｌｕｔｔ", "s\u200Blutt").
    bool as_written = false;
    // Word (the entry is a whole word), or Any when it opens and closes with '*' ("*scunthorpe*":
    // matched anywhere, it drops a hit whose own match lies inside it, Scanner::Raw::core_from).
    Boundary boundary = Boundary::Word;
};

struct CategoryPolicy {
    std::string prefix, route, file;
    uint32_t line = 0;
    double flag = -1, hold = -1, reject = -1;  // < 0: inherit
};

struct Policy {
    double flag = 2.0, hold = 4.0, reject = 8.0;
    // What a rule counts for when every hit of it lies in quoted text (a reply's quote of another
    // post: a "> " line, [quote]...[/quote], <blockquote>...</blockquote>): this share of its score.
    // Critical rules, and every rule of a post with fewer than two words of its own outside its
    // quotes, count whole (core/quotes.hpp, docs/rule-packs.md).
    double quoted_weight = 0.5;
    std::string file;  // where [policy] was found ("" if nowhere)
    uint32_t line = 0;
    std::vector<CategoryPolicy> categories;
};

// A set of source files: rule packs and the word lists they name. Kept whole so that a compiled
// database can carry the exact text it was built from.
struct SourceFile {
    std::string path, content;
};
struct Sources {
    std::vector<SourceFile> files;
    bool disk_fallback = false;  // resolve words_file paths on disk when not in `files`
    const SourceFile *find(const std::string &path) const;
};

// Reads a pack file or a directory of them (recursively: *.toml and word lists *.txt).
// Returns false and adds a diagnostic when the path cannot be read.
bool read_sources(const std::string &path, Sources &out, std::vector<Diagnostic> &diags);

// The packs built into the library (patterns/ at build time).
Sources default_sources();

struct RuleSet {
    std::vector<Rule> rules;
    // Where each rule was read, in the order read, rules with mistakes (not in `rules`) too: for the
    // duplicate-id check. Empty in a RuleSet decoded from a database.
    struct RuleAt {
        std::string id, file;
        uint32_t line;
    };
    std::vector<RuleAt> ids;
    std::map<std::string, WordList> words;
    // [spellings]: per word of a commitment phrase (normalized), the other ways posts spell it
    // ("your": "ur", "yr"); every phrase is also matched with them (expand_lists).
    std::map<std::string, WordList> spellings;
    std::vector<AllowEntry> allow;
    Policy policy;
    StatePolicy state;  // [state] and [state.channel."name"]
    // [state.channel."name"] keys as found, applied over [state] once every file is read.
    struct StateOverride {
        std::string channel, key;
        double value;
        std::string file;  // where the key was found, for diagnostics
        uint32_t line = 0;
    };
    std::vector<StateOverride> state_overrides;
    std::string state_file;  // where [state] was found, for diagnostics
    uint32_t state_line = 0;
    // What is no mistake but likely one (a [words] list that nothing names, a [category."..."] that no
    // category falls under): "warning: ..." lines that check-rules prints and that stop nothing.
    std::vector<Diagnostic> warnings;
};

// Parses every *.toml in `src`. Every mistake is added to diags; the result is only usable when
// no diagnostic was added. With model_weights false, a [[model]] rule's weights file must be there
// but is not read (Rule::model stays null): a compiled database carries the table built from it.
void parse_rules(Sources &src, RuleSet &out, std::vector<Diagnostic> &diags, bool model_weights = true);

// Whether every value of `rs` is one that parse_rules lets through (ids and category names, routes,
// severities, scores, thresholds, `within`, roles, the policy's and [state]'s ranges, distinct rule
// ids, one kind per rule): for rules read back from a compiled database (core/database.cpp), which
// are not parsed again.
bool within_parsed_ranges(const RuleSet &rs);

// A literal word or phrase as a Hyperscan expression: normalized as posts are, escaped, words joined
// by \s+ (what a word, phrase or word-list literal matches; a list named in a regex, "{@name}").
std::string literal_expression(std::string_view literal);

// The [category."prefix"] entry that configures a category: the longest prefix of it, on a dot
// boundary ("abuse" configures "abuse.threat"); nullptr when none does.
const CategoryPolicy *category_policy(const Policy &p, std::string_view category);
// Whether category is prefix or lies below it ("abuse.threat" under "abuse", not "abusefoo").
bool category_under(std::string_view category, std::string_view prefix);
// "" when p's global thresholds keep flag <= hold <= reject; else what is wrong, with the values.
std::string threshold_order_mistake(const Policy &p);

const char *severity_name(int severity);
int severity_from_name(std::string_view name);  // 0 if unknown
double default_score(int severity);

}  // namespace mf
