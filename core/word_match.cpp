#include "word_match.hpp"

#include <algorithm>

namespace mf {

bool WordMatcher::fits(std::string_view bytes, Boundary b) {
    if (b == Boundary::Any || bytes.empty() || bytes.size() > kMaxLen || (b != Boundary::Word && bytes.size() < 3))
        return false;
    for (size_t i = 0; i < bytes.size();) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c < 0x80) {
            if (!ascii_alnum(c)) return false;
            ++i;
            continue;
        }
        uint32_t cp;
        bool valid;
        const size_t l = decode_utf8(reinterpret_cast<const unsigned char *>(bytes.data()) + i, bytes.size() - i, &cp, &valid);
        // (ICU directly: a loaded database checks every literal, and the table pages of every script
        // in the word lists, CJK among them, would otherwise be built by each process's first load)
        if (!valid || !is_word_cp_uncached(cp)) return false;
        i += l;
    }
    return true;
}

void WordMatcher::add(uint32_t pattern, std::string_view bytes, Boundary b) {
    Item it{pattern, kind_of(b), std::string(bytes)};
    for (char &c : it.bytes) c = static_cast<char>(canonical(static_cast<unsigned char>(c)));
    items_.push_back(std::move(it));
}

void WordMatcher::add_digit_start(uint32_t pattern) { digit_start_.push_back(pattern); }

void WordMatcher::build() {
    std::sort(digit_start_.begin(), digit_start_.end());
    digit_start_.erase(std::unique(digit_start_.begin(), digit_start_.end()), digit_start_.end());
    auto before = [](const Item &a, const Item &b) {
        return a.kind != b.kind ? a.kind < b.kind : a.bytes != b.bytes ? a.bytes < b.bytes : a.pattern < b.pattern;
    };
    // (a database's items come sorted, as encode() wrote them after a build: checked in one pass)
    if (!std::is_sorted(items_.begin(), items_.end(), before)) std::sort(items_.begin(), items_.end(), before);
    items_.erase(std::unique(items_.begin(), items_.end(),
                             [](const Item &a, const Item &b) {
                                 return a.kind == b.kind && a.bytes == b.bytes && a.pattern == b.pattern;
                             }),
                 items_.end());
    groups_.clear();
    member_.clear();
    for (uint32_t p : digit_start_) {
        if (member_.size() <= p) member_.resize(p + 1);
        member_[p] = true;
    }
    filter_.assign((size_t(1) << kFilterBits) / 64, 0);
    head_.assign(size_t(1) << kKeyBits, Lengths{});
    end_lengths_.assign(size_t(1) << kKeyBits, 0);
    for (uint32_t i = 0, j = 0; i < items_.size(); i = j) {
        const Item &it = items_[i];
        for (j = i; j < items_.size() && items_[j].kind == it.kind && items_[j].bytes == it.bytes; ++j) {
            if (member_.size() <= items_[j].pattern) member_.resize(items_[j].pattern + 1);
            member_[items_[j].pattern] = true;
        }
        unsigned char buf[kMaxLen + 8] = {};
        std::copy(it.bytes.begin(), it.bytes.end(), buf);
        const size_t len = it.bytes.size();
        const uint64_t h = hash(buf, len, it.kind, false, sizeof buf);
        groups_.push_back({h, i, j - i});
        filter_[filter_word(h)] |= uint64_t(1) << filter_bit(h);
        if (it.kind == kStart) head_[bucket(pack3(buf, len, 0))].start |= 1u << (len - 1);
        else if (it.kind == kWhole) head_[bucket(pack3(buf, len, 0))].whole |= 1u << (len - 1);
        else end_lengths_[bucket(pack3(buf + len - 3, 3, 0))] |= 1u << (len - 1);
    }
    size_t cap = 16;
    while (cap < 2 * groups_.size()) cap <<= 1;
    mask_ = cap - 1;
    slots_.assign(cap, Slot{0, kEmpty});
    for (uint32_t g = 0; g < groups_.size(); ++g) {
        size_t s = groups_[g].hash & mask_;
        while (slots_[s].group != kEmpty) s = (s + 1) & mask_;
        slots_[s] = {groups_[g].hash, g};
    }
}

void WordMatcher::encode(std::string &out) const {
    auto u32 = [&](uint32_t v) { out.append(reinterpret_cast<const char *>(&v), 4); };
    u32(static_cast<uint32_t>(items_.size()));
    for (const Item &it : items_) {
        u32(it.pattern);
        out += static_cast<char>(it.kind);
        out += static_cast<char>(it.bytes.size());
        out += it.bytes;
    }
    u32(static_cast<uint32_t>(digit_start_.size()));
    for (uint32_t p : digit_start_) u32(p);
}

bool WordMatcher::decode(std::string_view in, size_t npatterns) {
    items_.clear();
    auto u32 = [&](uint32_t &v) {
        if (in.size() < 4) return false;
        std::memcpy(&v, in.data(), 4);
        in.remove_prefix(4);
        return true;
    };
    uint32_t n = 0;
    if (!u32(n) || n > in.size() / 6) return false;
    for (uint32_t i = 0; i < n; ++i) {
        uint32_t pattern = 0;
        if (!u32(pattern) || pattern >= npatterns || in.size() < 2) return false;
        const auto kind = static_cast<uint8_t>(in[0]);
        const auto len = static_cast<uint8_t>(in[1]);
        in.remove_prefix(2);
        if (kind > kEnd || len > in.size()) return false;
        if (!fits(in.substr(0, len), boundary_of(static_cast<Kind>(kind)))) return false;
        for (char c : in.substr(0, len))
            if (canonical(static_cast<unsigned char>(c)) != static_cast<unsigned char>(c)) return false;  // as add() stores it
        items_.push_back({pattern, static_cast<Kind>(kind), std::string(in.substr(0, len))});
        in.remove_prefix(len);
    }
    digit_start_.clear();
    if (!u32(n) || n > in.size() / 4) return false;
    for (uint32_t i = 0; i < n; ++i) {
        uint32_t pattern = 0;
        if (!u32(pattern) || pattern >= npatterns) return false;
        digit_start_.push_back(pattern);
    }
    if (!in.empty()) return false;
    build();
    return true;
}

}  // namespace mf
