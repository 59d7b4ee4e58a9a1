#include "lookalike.hpp"

#include <algorithm>
#include <iterator>

namespace mf {

namespace {

constexpr Lookalike kTable[] = {
#include "lookalikes.inc"
};

}  // namespace

const Lookalike *find_lookalike(uint32_t cp) noexcept {
    const Lookalike *e = std::lower_bound(std::begin(kTable), std::end(kTable), cp,
                                          [](const Lookalike &l, uint32_t c) { return l.cp < c; });
    return e != std::end(kTable) && e->cp == cp ? e : nullptr;
}

}  // namespace mf
