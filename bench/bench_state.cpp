// The cost of the state stage (fingerprints + state lookup, core/state.hpp) next to the scan itself,
// through the public C API, on real English posts: the SMS Spam Collection, read at run time from
// ../shared/data (never copied into the repository); synthetic sentences when it is absent.
//
//   build/bench/bench_state --benchmark_counters_tabular=true
//       scan/state_off        the default packs, mf_scan_batch of 64 version-2 posts, no state
//       scan/state_on         the same with a state attached (each post a new id, 2,000 authors; the
//                             state is emptied before each pass over the corpus)
//       scan/state_on/threads:2  two threads, one scanner each, one shared state
//     The state's cost per post is state_on minus state_off (us_per_post), its share of scan time
//     (state_on - state_off) / state_off.
//   build/bench/bench_state --ratio 9
//   MF_BENCH_POSTS=build/bench-corpora/prose.txt build/bench/bench_state --ratio 9   (bench/corpora.py)
//       the figure to quote: passes over the corpus without and with a (fresh) state, interleaved,
//       thread CPU time per post, and the state's share of scan time (median of 9 rounds; then the
//       same from the best pass of each, steadier when other processes share the CPUs).
//   build/bench/bench_state --memory 10000000
//       feeds 10 million distinct posts (a one-rule engine, so that the run is about the state)
//       into a state with the default 64 MiB budget, then prints the state's own estimate and the
//       process's resident memory (VmRSS) before and after.
//
// Before timing, a post repeated three times must come out as spam.duplicate.
#include <modfilter/modfilter.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> load_posts() {
    std::vector<std::string> out;
    if (const char *file = std::getenv("MF_BENCH_POSTS")) {  // one post per line, e.g. bench/corpora.py's *.txt
        std::ifstream in(file);
        std::string line;
        while (out.size() < 5000 && std::getline(in, line))
            if (!line.empty()) out.push_back(line);
        std::fprintf(stderr, "bench_state: %zu posts from %s\n", out.size(), file);
        if (!out.empty()) return out;
    }
    const char *dirs[] = {"../shared/data", "../../shared/data", "../../../shared/data", "/work/shared/data"};
    for (const char *d : dirs) {
        std::ifstream in(std::string(d) + "/sms-spam-collection/SMSSpamCollection");
        if (!in) continue;
        std::string line;
        while (std::getline(in, line)) {
            size_t tab = line.find('\t');
            if (tab != std::string::npos) out.push_back(line.substr(tab + 1));
        }
        std::fprintf(stderr, "bench_state: %zu SMS posts from %s\n", out.size(), d);
        return out;
    }
    std::fprintf(stderr, "bench_state: no SMS Spam Collection found; synthetic posts\n");
    for (int i = 0; i < 5000; ++i)
        out.push_back("Has anyone tried the new export feature with spreadsheet number " + std::to_string(i) +
                      "? The dashboard loads much faster now that the cache is warm.");
    return out;
}

const std::vector<std::string> &posts() {
    static const std::vector<std::string> p = load_posts();
    return p;
}

mf_engine *engine() {
    static mf_engine *e = [] {
        mf_engine *x = nullptr;
        if (mf_engine_create(&x, nullptr) != MF_OK) {
            std::fprintf(stderr, "engine: %s\n", mf_last_error());
            std::exit(1);
        }
        return x;
    }();
    return e;
}

mf_state *shared_state() {
    static mf_state *s = [] {
        mf_state *x = nullptr;
        if (mf_state_create(&x, nullptr) != MF_OK) std::exit(1);
        return x;
    }();
    return s;
}

// The check before timing: three copies of one post make a spam.duplicate.
void check() {
    mf_scanner *sc = nullptr;
    mf_verdict *v = nullptr;
    mf_state *st = nullptr;
    mf_scanner_create(&sc, engine());
    mf_verdict_create(&v);
    mf_state_create(&st, nullptr);
    mf_scanner_set_state(sc, st);
    const std::string t = "Cheap watches and designer bags at half price this week, visit our shop today";
    for (int i = 0; i < 3; ++i) {
        std::string a = "a" + std::to_string(i);
        mf_post p = MF_POST_INIT;
        p.text = t.data();
        p.len = t.size();
        p.author_id = a.data();
        p.author_id_len = a.size();
        p.ts_ms = 1000 + i;
        mf_scan(sc, v, &p);
    }
    if (!std::strstr(mf_verdict_json(v, nullptr), "\"spam.duplicate\":{")) {
        std::fprintf(stderr, "bench_state: the check failed: %s\n", mf_verdict_json(v, nullptr));
        std::exit(1);
    }
    mf_scanner_set_state(sc, nullptr);
    mf_state_destroy(st);
    mf_verdict_destroy(v);
    mf_scanner_destroy(sc);
}

void run(benchmark::State &bs, bool with_state) {
    const auto &texts = posts();
    mf_scanner *sc = nullptr;
    mf_scanner_create(&sc, engine());
    if (with_state) mf_scanner_set_state(sc, shared_state());
    constexpr size_t kBatch = 64;
    std::vector<mf_verdict *> vs(kBatch);
    for (auto &v : vs) mf_verdict_create(&v);
    std::vector<mf_post> batch(kBatch);
    std::vector<std::string> ids(kBatch), authors(kBatch);
    size_t next = 0, bytes = 0, n = 0;
    int64_t ts = 1'767'225'600'000LL;
    const std::string tag = "t" + std::to_string(bs.thread_index()) + "-";
    for (auto _ : bs) {
        if (with_state && bs.thread_index() == 0 && next / texts.size() != (next + kBatch) / texts.size()) {
            // Each pass over the corpus starts from an empty state, so that only the corpus's own
            // repeats are duplicates, as in a real stream (not every post from the second pass on).
            // With two threads the first one clears, for both.
            bs.PauseTiming();
            mf_state_clear(shared_state());
            bs.ResumeTiming();
        }
        for (size_t i = 0; i < kBatch; ++i) {
            const std::string &t = texts[next++ % texts.size()];
            ids[i] = tag + std::to_string(n + i);
            authors[i] = tag + "u" + std::to_string((n + i) % 2000);
            mf_post &p = batch[i];
            p = MF_POST_INIT;
            p.text = t.data();
            p.len = t.size();
            p.id = ids[i].data();
            p.id_len = ids[i].size();
            p.author_id = authors[i].data();
            p.author_id_len = authors[i].size();
            p.ts_ms = ts += 50;
            bytes += t.size();
        }
        size_t failed = 0;
        if (mf_scan_batch(sc, vs.data(), batch.data(), kBatch, &failed) != MF_OK) {
            bs.SkipWithError(mf_last_error());
            break;
        }
        n += kBatch;
    }
    bs.SetBytesProcessed(static_cast<int64_t>(bytes));
    bs.SetItemsProcessed(static_cast<int64_t>(n));
    bs.counters["us_per_post"] = benchmark::Counter(static_cast<double>(n) / 1e6,
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    for (auto &v : vs) mf_verdict_destroy(v);
    mf_scanner_destroy(sc);
}

void BM_state_off(benchmark::State &s) { run(s, false); }
void BM_state_on(benchmark::State &s) { run(s, true); }

long rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

double thread_cpu_s() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// --ratio N: N rounds, each one pass over the corpus without state and one with a fresh state,
// interleaved so that a busy machine slows both alike; thread CPU time per post of each, and the
// state's share of scan time. Prints the median round.
int ratio(int rounds) {
    const auto &texts = posts();
    mf_scanner *plain = nullptr, *with = nullptr;
    mf_verdict *v = nullptr;
    mf_state *st = nullptr;
    mf_scanner_create(&plain, engine());
    mf_scanner_create(&with, engine());
    mf_verdict_create(&v);
    mf_state_create(&st, nullptr);
    mf_scanner_set_state(with, st);
    std::vector<double> off, on, fp;
    std::string id, author;
    for (int r = 0; r < rounds; ++r) {
        for (int pass = 0; pass < 2; ++pass) {
            mf_scanner *sc = pass ? with : plain;
            mf_state_clear(st);
            const double t0 = thread_cpu_s();
            for (size_t i = 0; i < texts.size(); ++i) {
                id = std::to_string(i);
                author = "u" + std::to_string(i % 2000);
                mf_post p = MF_POST_INIT;
                p.text = texts[i].data();
                p.len = texts[i].size();
                p.id = id.data();
                p.id_len = id.size();
                p.author_id = author.data();
                p.author_id_len = author.size();
                p.ts_ms = 1'767'225'600'000LL + static_cast<int64_t>(i) * 15'000;
                mf_scan(sc, v, &p);
            }
            (pass ? on : off).push_back((thread_cpu_s() - t0) * 1e6 / texts.size());
        }
        const double t0 = thread_cpu_s();
        for (const auto &t : texts) {
            uint64_t e, n;
            mf_fingerprint(&e, &n, nullptr, t.data(), t.size());
        }
        fp.push_back((thread_cpu_s() - t0) * 1e6 / texts.size());
    }
    std::sort(off.begin(), off.end());
    std::sort(on.begin(), on.end());
    std::sort(fp.begin(), fp.end());
    const double a = off[off.size() / 2], b = on[on.size() / 2];
    std::printf("%zu posts x %d rounds (median, thread CPU time): scan %.2f us/post, scan+state %.2f us/post; "
                "state %.2f us/post = %.1f%% of scan time\n",
                texts.size(), rounds, a, b, b - a, 100.0 * (b - a) / a);
    // Other processes only ever add time: on a busy machine the best pass of each is the steadier figure.
    std::printf("best pass of each: scan %.2f us/post, scan+state %.2f us/post; state %.2f us/post = %.1f%% of scan time\n",
                off[0], on[0], on[0] - off[0], 100.0 * (on[0] - off[0]) / off[0]);
    std::printf("of which fingerprints alone (mf_fingerprint, normalization included): %.2f us/post\n", fp[fp.size() / 2]);
    mf_scanner_set_state(with, nullptr);
    mf_state_destroy(st);
    mf_verdict_destroy(v);
    mf_scanner_destroy(with);
    mf_scanner_destroy(plain);
    return 0;
}

int memory(long n) {
    const char *pack = "[[rule]]\nid = \"x.f\"\ncategory = \"abuse.obscene\"\nseverity = \"medium\"\nword = \"zzzz\"\n";
    mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
    o.rules_text = pack;
    o.rules_text_len = std::strlen(pack);
    mf_engine *e = nullptr;
    mf_scanner *sc = nullptr;
    mf_verdict *v = nullptr;
    mf_state *st = nullptr;
    if (mf_engine_create(&e, &o) != MF_OK || mf_scanner_create(&sc, e) != MF_OK || mf_verdict_create(&v) != MF_OK ||
        mf_state_create(&st, nullptr) != MF_OK)
        return 1;
    mf_scanner_set_state(sc, st);
    const long before = rss_kib();
    std::string text, id, author;
    for (long i = 0; i < n; ++i) {
        text = "post " + std::to_string(i) + " about topic " + std::to_string(i * 2654435761L % 1000003) +
               " with a few more words in it";
        id = std::to_string(i);
        author = "u" + std::to_string(i % 1'000'000);
        mf_post p = MF_POST_INIT;
        p.text = text.data();
        p.len = text.size();
        p.id = id.data();
        p.id_len = id.size();
        p.author_id = author.data();
        p.author_id_len = author.size();
        p.ts_ms = 1'767'225'600'000LL + i;
        if (mf_scan(sc, v, &p) != MF_OK) return 1;
    }
    uint64_t used = 0, budget = 0, entries = 0;
    mf_state_stats(st, &used, &budget, &entries);
    const long after = rss_kib();
    std::printf("posts %ld: state estimate %.1f MiB of %.1f MiB budget, %llu entries; process RSS %.1f -> %.1f MiB "
                "(+%.1f MiB)\n",
                n, used / 1048576.0, budget / 1048576.0, static_cast<unsigned long long>(entries), before / 1024.0,
                after / 1024.0, (after - before) / 1024.0);
    return after - before <= static_cast<long>(budget / 1024) ? 0 : 2;
}

}  // namespace

BENCHMARK(BM_state_off)->Name("scan/state_off")->UseRealTime();
BENCHMARK(BM_state_on)->Name("scan/state_on")->UseRealTime();
BENCHMARK(BM_state_on)->Name("scan/state_on")->Threads(2)->UseRealTime();
BENCHMARK(BM_state_off)->Name("scan/state_off")->Threads(2)->UseRealTime();

int main(int argc, char **argv) {
    if (argc == 3 && std::strcmp(argv[1], "--memory") == 0) return memory(std::atol(argv[2]));
    if (argc == 3 && std::strcmp(argv[1], "--ratio") == 0) {
        check();
        return ratio(std::max(1, std::atoi(argv[2])));
    }
    check();
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
