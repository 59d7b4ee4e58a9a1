// The library's version; capi/ checks at compile time that it equals the public header's.
#pragma once
#include <cstdint>

namespace mf {
constexpr uint32_t kVersionNumber = 100;  // major * 10000 + minor * 100 + patch
constexpr const char *kVersionString = "0.1.0";
}  // namespace mf
