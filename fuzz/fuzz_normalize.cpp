// Normalizer: arbitrary bytes. No crash; every normalized byte maps to an original range that lies
// inside the input, ranges never go backwards, the output is valid UTF-8, invalid input is counted,
// and normalizing the normalized text again changes nothing.
#include <string>

#include "fuzz_common.hpp"
#include "normalize.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static mf::Normalizer n;  // reused across inputs, as a scanner reuses its own
    std::string_view in(reinterpret_cast<const char *>(data), size);
    n.run(in);
    const size_t m = n.size();
    if (n.identity()) {
        FUZZ_CHECK(m == size && n.data() == in.data(), "identity output is not the input");
    }
    size_t prev_s = 0, prev_e = 0;
    for (size_t i = 0; i < m; ++i) {
        size_t s = n.orig_start(i), e = n.orig_end(i + 1);
        FUZZ_CHECK(s < e && e <= size, "byte %zu maps to [%zu, %zu) in %zu bytes", i, s, e, size);
        FUZZ_CHECK(s >= prev_s && e >= prev_e, "byte %zu maps to [%zu, %zu) after [%zu, %zu)", i, s, e, prev_s, prev_e);
        prev_s = s;
        prev_e = e;
    }
    (void)n.evasion(0, m);
    std::string_view out(n.data(), m);
    FUZZ_CHECK(fuzz::valid_utf8(out), "normalized text is not valid UTF-8");
    FUZZ_CHECK((n.invalid_utf8() > 0) == !fuzz::valid_utf8(in), "invalid_utf8 %zu disagrees with the input",
               n.invalid_utf8());
    // Idempotence on the folded form (normalize_literal also lowercases ASCII-only text).
    std::string once = mf::normalize_literal(in);
    std::string twice = mf::normalize_literal(once);
    FUZZ_CHECK(once == twice, "normalizing twice differs: once %zu bytes, twice %zu bytes", once.size(), twice.size());
    return 0;
}
