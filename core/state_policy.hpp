// Thresholds and windows of the state stage (core/state.hpp), as policy.toml gives them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mf {

// The categories the state stage adds (no rule has them): their names in verdicts and policy.toml.
inline constexpr const char *kCatDuplicate = "spam.duplicate";
inline constexpr const char *kCatFlood = "spam.flood";
inline constexpr const char *kCatNewAccountLinks = "spam.new-account-links";

// The most flood posts an author entry remembers: flood thresholds are at most this.
constexpr uint32_t kFloodRing = 32;

// Thresholds and windows ([state] in policy.toml, [state.channel."name"] per channel). Times are in
// seconds in the file and milliseconds here.
struct StateRules {
    // spam.duplicate: copies of one text (this post included) from anyone, anywhere, remembered until
    // `duplicate_window` passes without a copy.
    int64_t duplicate_window_ms = 2 * 3600 * 1000;
    uint32_t duplicate_min_words = 6;  // shorter posts ("thanks!", "+1") are never duplicates
    uint32_t duplicate_near_bits = 10; // SimHash distance up to which two texts are "nearly the same"
    uint32_t duplicate_flag = 3, duplicate_hold = 5, duplicate_reject = 20;
    // spam.flood: posts by one author (this one included) within `flood_window`; edits do not count.
    int64_t flood_window_ms = 60 * 1000;
    uint32_t flood_flag = 6, flood_hold = 10, flood_reject = 30;
    // spam.new-account-links: links in a post by an account younger than `new_account_days`.
    int32_t new_account_days = 3;
    uint32_t new_account_flag = 1, new_account_hold = 3;  // links; 0 disables the action
};

struct StatePolicy {
    StateRules defaults;
    std::string route;  // the route configured for spam.* categories ([category."spam"]), "" for none
    std::vector<std::pair<std::string, StateRules>> channels;  // exact channel names
    const StateRules &for_channel(std::string_view channel) const {
        for (const auto &[name, r] : channels)
            if (name == channel) return r;
        return defaults;
    }
};

}  // namespace mf
