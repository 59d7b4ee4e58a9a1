// A set of short strings (words and phrases' first words), each numbered in the order it was added,
// looked up by a string_view: one hash and, most of the time, one probe of a flat table. The
// commitment stage looks up every word of a sentence this way, so it is built for the miss.
#pragma once

#define XXH_INLINE_ALL  // header-only: no runtime dependency on libxxhash
#include <xxhash.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mf {

class WordIndex {
public:
    // The number of w, adding it when it is new.
    uint32_t add(std::string_view w) {
        if (int32_t id = find(w); id >= 0) return static_cast<uint32_t>(id);
        const auto id = static_cast<uint32_t>(words_.size());
        words_.emplace_back(w);
        if (2 * words_.size() > slots_.size()) rebuild(slots_.empty() ? 16 : 2 * slots_.size());
        else insert(id);
        return id;
    }
    // The number of w, or -1.
    int32_t find(std::string_view w) const {
        if (slots_.empty()) return -1;
        const uint64_t h = XXH3_64bits(w.data(), w.size());
        const uint32_t tag = static_cast<uint32_t>(h >> 32);
        for (size_t s = h & mask_;; s = (s + 1) & mask_) {
            const Slot &x = slots_[s];
            if (x.id == kEmpty) return -1;
            if (x.tag == tag && words_[x.id] == w) return static_cast<int32_t>(x.id);
        }
    }
    const std::vector<std::string> &words() const { return words_; }
    size_t size() const { return words_.size(); }
    void clear() {
        words_.clear();
        slots_.clear();
        mask_ = 0;
    }

private:
    static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
    struct Slot {
        uint32_t tag = 0, id = kEmpty;
    };
    void insert(uint32_t id) {
        const uint64_t h = XXH3_64bits(words_[id].data(), words_[id].size());
        size_t s = h & mask_;
        while (slots_[s].id != kEmpty) s = (s + 1) & mask_;
        slots_[s] = {static_cast<uint32_t>(h >> 32), id};
    }
    void rebuild(size_t cap) {
        slots_.assign(cap, Slot{});
        mask_ = cap - 1;
        for (uint32_t i = 0; i < words_.size(); ++i) insert(i);
    }
    std::vector<std::string> words_;
    std::vector<Slot> slots_;
    size_t mask_ = 0;
};

}  // namespace mf
