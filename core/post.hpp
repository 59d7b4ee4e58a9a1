// Who wrote a post, where and when: what the C API's mf_post (version 2) carries besides the text.
// Read only by the state stage (core/state.hpp); a scan without state never looks at it.
#pragma once

#include <cstdint>
#include <string_view>

namespace mf {

struct PostMeta {
    std::string_view id;         // the caller's post id ("" when none)
    std::string_view author;     // the author's id ("" when anonymous)
    std::string_view channel;    // forum, thread or category ("" when none)
    int64_t ts_ms = 0;           // milliseconds since 1970 UTC; 0: now
    int32_t age_days = -1;       // account age in days, -1 unknown
    bool edit = false;           // a new version of an earlier post with the same id
};

}  // namespace mf
