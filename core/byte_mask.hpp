// Sixteen bytes as sixteen bits. The word scan, the model's word split and the regex reach classify
// text sixteen bytes at a time with GCC's vector extensions, and read each class as a mask here.
#pragma once

#include <cstdint>
#include <cstring>

namespace mf {

typedef uint8_t ByteVec16 __attribute__((vector_size(16)));

// Bit j: the top bit of byte j of v (a comparison's 0xFF or 0x00, or a byte of a non-ASCII
// character). One multiplication per 64-bit half gathers the eight top bits.
inline uint32_t top_bits(const ByteVec16 &v) {
    uint64_t lo, hi;
    std::memcpy(&lo, &v, 8);
    std::memcpy(&hi, reinterpret_cast<const char *>(&v) + 8, 8);
    constexpr uint64_t kGather = 0x0002040810204081ull;  // byte j's top bit to bit 56 + j
    return static_cast<uint32_t>(((lo & 0x8080808080808080ull) * kGather >> 56) |
                                 ((hi & 0x8080808080808080ull) * kGather >> 56) << 8);
}

}  // namespace mf
