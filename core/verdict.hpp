// The verdict of one scan: every hit with its rule and original byte span, the score per category,
// the action; rendered as JSON on demand. Reused across posts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mf {

class Engine;
enum Action : int32_t { kAllow = 0, kFlag = 1, kHold = 2, kReject = 3 };

struct HitRecord {
    uint32_t rule;
    size_t start, end;  // original bytes
    uint32_t evasion;
    bool quoted = false;  // inside quoted text (Policy::quoted_weight)
};

struct CategoryScore {
    uint32_t category;
    double score;
    Action action;
};

// What the state stage (core/state.hpp) found: a category that no single post shows, with its evidence.
struct StateFinding {
    const char *category = "";  // "spam.duplicate", "spam.flood", "spam.new-account-links"
    double score = 0;           // the count below
    Action action = kAllow;
    uint32_t count = 0;         // copies, posts in the window, or links
    uint32_t authors = 0, channels = 0;  // spam.duplicate: distinct authors and channels
    int64_t since_ms = 0, window_ms = 0;
    bool near = false;          // spam.duplicate: nearly the same text, `distance` bits apart
    int distance = 0;
    int32_t age_days = -1;      // spam.new-account-links
    std::vector<std::string> earlier;  // earlier post ids, most recent first
};

enum : uint32_t {
    kStateNoteNoAuthor = 1,  // no author id: per-author rules not applied
    kStateNoteEdit = 2,      // an edit: not counted as a new post
    kStateNoteRepeat = 4,    // this post id was seen before: not counted again
    kStateNoteShort = 8,     // too few words to be a duplicate
};

class Verdict {
public:
    const Engine *engine = nullptr;
    int32_t action = -1;
    uint32_t flags = 0;
    uint32_t evasion = 0;
    size_t invalid_utf8 = 0;
    std::vector<HitRecord> hits;
    std::vector<CategoryScore> categories;
    bool has_censored = false;
    std::string censored;
    std::string json;
    // The state stage (empty without a state): findings after the rule categories.
    bool state_attached = false;
    uint32_t state_notes = 0;
    const std::string *state_route = nullptr;  // route of spam.* categories, owned by the engine
    std::vector<StateFinding> state;

    void reset(const Engine *e);
    const std::string &render_json();

private:
    void render_state(std::string &o) const;
};

const char *action_name(int32_t a);
const char *evasion_name(uint32_t bit);


}  // namespace mf
