// The default packs as a compiled database, built once per process (deserializing it again is much
// faster than compiling the packs), for fuzz targets that need many engines or a quick start.
#pragma once

#include <string>

#include "fuzz_common.hpp"

namespace fuzz {

inline const std::string &default_db() {
    static std::string db = [] {
        mf_engine *e = nullptr;
        char *buf = nullptr;
        size_t len = 0;
        if (mf_engine_create(&e, nullptr) != MF_OK || mf_engine_serialize(&buf, &len, e) != MF_OK) {
            std::fprintf(stderr, "cannot build the default packs: %s\n", mf_last_error());
            std::abort();
        }
        std::string s(buf, len);
        mf_free(buf);
        mf_engine_destroy(e);
        return s;
    }();
    return db;
}

}  // namespace fuzz
