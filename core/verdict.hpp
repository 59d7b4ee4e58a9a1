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
};

struct CategoryScore {
    uint32_t category;
    double score;
    Action action;
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

    void reset(const Engine *e);
    const std::string &render_json();
};

const char *action_name(int32_t a);
const char *evasion_name(uint32_t bit);


}  // namespace mf
