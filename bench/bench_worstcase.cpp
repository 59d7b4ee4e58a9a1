// Worst-case scanning cost: adversarial posts next to ordinary English prose, at two sizes each,
// through the public C API with the full default packs. Reports bytes/s per input; the time per KB of
// the worst input must stay within a constant factor of the typical one, and grow linearly with size
// (compare the 64 KiB and 1 MiB rows of one input: equal bytes/s means linear).
//
//   build/bench/bench_worstcase --benchmark_counters_tabular=true
//
// Before timing, every input is scanned once and must give MF_OK (and hits where expected).
#include <modfilter/modfilter.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Engine {
    mf_engine *engine = nullptr;
    mf_scanner *scanner = nullptr;
    mf_verdict *verdict = nullptr;
    Engine() {
        if (mf_engine_create(&engine, nullptr) != MF_OK || mf_scanner_create(&scanner, engine) != MF_OK ||
            mf_verdict_create(&verdict) != MF_OK) {
            std::fprintf(stderr, "bench_worstcase: %s\n", mf_last_error());
            std::exit(1);
        }
    }
    ~Engine() {
        mf_verdict_destroy(verdict);
        mf_scanner_destroy(scanner);
        mf_engine_destroy(engine);
    }
};

Engine &engine() {
    static Engine e;
    return e;
}

std::string repeat_to(const std::string &unit, size_t bytes) {
    std::string s;
    s.reserve(bytes + unit.size());
    while (s.size() + unit.size() <= bytes) s += unit;
    return s;
}

const char *kProse =
    "Thanks for the detailed answer, the workaround fixed the sync problem on my laptop. "
    "Has anyone tried the new export feature with very large spreadsheets? "
    "I upgraded last night and the dashboard loads much faster now. "
    "Could you share the exact error message and the version you are running? "
    "My classic assessment of the situation: the cache was stale after the migration. "
    "Here is a minimal reproduction: create a board, add two columns, then drag a card quickly. "
    "This is really annoying, the update broke my workflow again. ";

struct Input {
    const char *name;
    std::string unit;  // repeated to the post's size
    int32_t role = MF_ROLE_MEMBER;
    std::string prefix = "";  // before the repeated unit
};

// (a name with "matches" must have hits; "_staff" is posted as staff, where the commitment stage runs)
const std::vector<Input> &inputs() {
    static const std::vector<Input> v = {
        {"typical_english", kProse},
        {"typical_english_staff", kProse, MF_ROLE_STAFF},
        // one endless sentence of deliverable words, and of whole promises joined by commas: every
        // word wakes the commitment stage, which reads the sentence around it (a budget per post)
        {"deliverable_words_staff", "refund ", MF_ROLE_STAFF},
        {"run_on_promises_staff", "We will refund you and will send a replacement and will credit your account by Friday, ",
         MF_ROLE_STAFF},
        {"dotted_letters", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.0.1.2.3.4.5.6.7.8.9."},
        {"one_ascii_letter", "a"},
        {"every_word_matches", "fuck shit "},
        {"zero_width_joiners", "\xE2\x80\x8D"},
        {"zwj_inside_words", "f\xE2\x80\x8Du\xE2\x80\x8D" "c\xE2\x80\x8Dk "},
        {"combining_marks", "a\xCC\x81\xCC\x82\xCC\xA3"},
        {"one_emoji", "\xF0\x9F\x91\x8D"},
        {"confusables", "\xD0\xB0\xD0\xB5\xD0\xBE\xD1\x80\xD1\x81\xCE\xBF\xCE\xBD\xEF\xBD\x86\xF0\x9D\x90\x9A \xE1\x8E\xAA\xE1\x8F\x9F "},
        {"nfkc_expansion_fdfa", "\xEF\xB7\xBA"},
        {"invalid_utf8", "\xFF\xFE\xC3"},
        // one token of a megabyte of leet characters after one letter: each digit looked along the
        // token for a letter, and back for a printf position (quadratic until 2026-12-08)
        {"leet_run", "@4", MF_ROLE_MEMBER, "hey a"},
        {"digit_run", "4", MF_ROLE_MEMBER, "a"},
    };
    return v;
}

void BM_Worstcase(benchmark::State &state) {
    Engine &e = engine();
    const auto &[name, unit, role, prefix] = inputs()[static_cast<size_t>(state.range(0))];
    const std::string post = prefix + repeat_to(unit, static_cast<size_t>(state.range(1)) - prefix.size());
    state.SetLabel(name);
    if (mf_scan_text(e.scanner, e.verdict, post.data(), post.size(), role) != MF_OK) {
        state.SkipWithError(mf_last_error());
        return;
    }
    if (std::string(name).find("matches") != std::string::npos && mf_verdict_hit_count(e.verdict) == 0) {
        state.SkipWithError("expected hits");
        return;
    }
    for (auto _ : state) {
        mf_status st = mf_scan_text(e.scanner, e.verdict, post.data(), post.size(), role);
        benchmark::DoNotOptimize(st);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(post.size()));
    // Inverted rate of (KB / 1e6) per second = microseconds per KB.
    state.counters["us_per_KB"] = benchmark::Counter(
        static_cast<double>(post.size()) / 1024.0 * static_cast<double>(state.iterations()) / 1e6,
        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void Args(benchmark::internal::Benchmark *b) {
    for (int64_t i = 0; i < static_cast<int64_t>(inputs().size()); ++i)
        for (int64_t size : {64 << 10, 1 << 20}) b->Args({i, size});
}

}  // namespace

BENCHMARK(BM_Worstcase)->Apply(Args)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
