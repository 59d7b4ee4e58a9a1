// Throughput and latency of scanning with the full default packs, through the public C API.
//
//   build/bench/bench_scan --benchmark_counters_tabular=true
//
// The post mix is generated from the sentences below (mostly ordinary forum prose, with some abuse,
// spam and staff promises mixed in, as on a real forum), with sizes from 100 B to 5 KB. Before timing,
// every benchmark checks that the engine gives the expected verdicts on known posts.
#include <modfilter/modfilter.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

const char *kClean[] = {
    "Thanks for the detailed answer, the workaround fixed the sync problem on my laptop.",
    "Has anyone tried the new export feature with very large spreadsheets?",
    "I upgraded last night and the dashboard loads much faster now.",
    "The documentation says the limit is ten projects per workspace, is that still true?",
    "We run the self-hosted version behind a proxy and had to change the websocket timeout.",
    "Could you share the exact error message and the version you are running?",
    "My classic assessment of the situation: the cache was stale after the migration.",
    "Scunthorpe and Sussex both have active user groups that meet every month.",
    "I had a cocktail at the meetup and we talked about the assassin bug in the scheduler.",
    "Honestly the new pricing page is confusing and I preferred the old one.",
    "The mobile app crashes when I rotate the screen while a video is uploading.",
    "Here is a minimal reproduction: create a board, add two columns, then drag a card quickly.",
};
const char *kNonAscii[] = {
    "Merci pour la réponse détaillée, ça marche très bien maintenant.",
    "Die neue Version läuft stabil, danke für die schnelle Hilfe!",
    "Gracias, el problema de sincronización está resuelto después de la actualización.",
    "Спасибо, после обновления всё работает.",
    "アップデート後、問題は解決しました。ありがとうございます。",
};
const char *kBad[] = {
    "You are an idiot and everyone here knows it.",
    "Shut up, moron, nobody asked you.",
    "This is fucking broken again, what a piece of shit.",
    "I will find you and you will regret this.",
    "Make money from home, click here for free followers: http://bit.ly/abc123",
    "We will refund everyone by Friday, I promise.",
    "The fix is guaranteed to ship in the next update.",
};

std::string make_post(std::mt19937 &rng, size_t target, bool allow_non_ascii) {
    std::string p;
    std::uniform_int_distribution<int> pick(0, 99);
    while (p.size() < target) {
        int r = pick(rng);
        const char *s;
        if (r < 3) s = kBad[rng() % std::size(kBad)];
        else if (allow_non_ascii && r < 13) s = kNonAscii[rng() % std::size(kNonAscii)];
        else s = kClean[rng() % std::size(kClean)];
        if (!p.empty()) p += ' ';
        p += s;
    }
    return p;
}

struct Ctx {
    mf_engine *engine = nullptr;
    mf_scanner *scanner = nullptr;
    mf_verdict *verdict = nullptr;
    Ctx() {
        if (mf_engine_create(&engine, nullptr) != MF_OK || mf_scanner_create(&scanner, engine) != MF_OK ||
            mf_verdict_create(&verdict) != MF_OK) {
            std::fprintf(stderr, "cannot create engine: %s\n", mf_last_error());
            std::exit(1);
        }
        // Reference check before any timing: the benchmark must measure a working filter.
        struct {
            const char *text;
            int32_t role, action;
        } ref[] = {{kClean[0], MF_ROLE_MEMBER, MF_ACTION_ALLOW},
                   {kClean[6], MF_ROLE_MEMBER, MF_ACTION_ALLOW},
                   {"I will kill you", MF_ROLE_MEMBER, MF_ACTION_REJECT},
                   {"We will refund everyone by Friday.", MF_ROLE_STAFF, MF_ACTION_HOLD},
                   {"We will refund everyone by Friday.", MF_ROLE_MEMBER, MF_ACTION_ALLOW}};
        for (const auto &r : ref) {
            scan(r.text, std::char_traits<char>::length(r.text), r.role);
            if (mf_verdict_action(verdict) != r.action) {
                std::fprintf(stderr, "reference check failed for \"%s\": got %s\n", r.text,
                             mf_action_name(mf_verdict_action(verdict)));
                std::exit(1);
            }
        }
    }
    ~Ctx() {
        mf_verdict_destroy(verdict);
        mf_scanner_destroy(scanner);
        mf_engine_destroy(engine);
    }
    void scan(const char *t, size_t n, int32_t role = MF_ROLE_MEMBER) {
        if (mf_scan_text(scanner, verdict, t, n, role) != MF_OK) {
            std::fprintf(stderr, "scan failed: %s\n", mf_last_error());
            std::exit(1);
        }
    }
};

Ctx &ctx() {
    static Ctx c;
    return c;
}

std::vector<std::string> corpus(size_t lo, size_t hi, bool non_ascii, size_t n = 2000) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<size_t> size(lo, hi);
    std::vector<std::string> posts;
    for (size_t i = 0; i < n; ++i) posts.push_back(make_post(rng, size(rng), non_ascii));
    return posts;
}

void run_mix(benchmark::State &state, const std::vector<std::string> &posts, int32_t role) {
    Ctx &c = ctx();
    size_t i = 0, bytes = 0, items = 0;
    for (auto _ : state) {
        const std::string &p = posts[i++ % posts.size()];
        c.scan(p.data(), p.size(), role);
        benchmark::DoNotOptimize(mf_verdict_action(c.verdict));
        bytes += p.size();
        ++items;
    }
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
    state.SetItemsProcessed(static_cast<int64_t>(items));
}

// English posts of 100 B to 5 KB, all ASCII: the headline figure.
void BM_Mix_English_100B_5KB(benchmark::State &state) {
    static auto posts = corpus(100, 5000, false);
    run_mix(state, posts, MF_ROLE_MEMBER);
}
BENCHMARK(BM_Mix_English_100B_5KB);

// Clean English posts only (no abuse, spam or promise at all): the ASCII fast path, where the
// evasion skeleton must cost next to nothing.
void BM_Clean_English(benchmark::State &state) {
    static auto posts = [] {
        std::mt19937 rng(7);
        std::uniform_int_distribution<size_t> size(100, 5000);
        std::vector<std::string> v;
        for (int i = 0; i < 2000; ++i) {
            std::string p;
            size_t target = size(rng);
            while (p.size() < target) {
                if (!p.empty()) p += ' ';
                p += kClean[rng() % std::size(kClean)];
            }
            v.push_back(std::move(p));
        }
        return v;
    }();
    run_mix(state, posts, MF_ROLE_MEMBER);
}
BENCHMARK(BM_Clean_English);

// Same sizes, staff authors (promise rules active too).
void BM_Mix_English_Staff(benchmark::State &state) {
    static auto posts = corpus(100, 5000, false);
    run_mix(state, posts, MF_ROLE_STAFF);
}
BENCHMARK(BM_Mix_English_Staff);

// One post in ten in another language (non-ASCII: the ICU-backed normalization path).
void BM_Mix_Multilingual(benchmark::State &state) {
    static auto posts = corpus(100, 5000, true);
    run_mix(state, posts, MF_ROLE_MEMBER);
}
BENCHMARK(BM_Mix_Multilingual);

// Fixed sizes, to see the per-post overhead.
void BM_Size(benchmark::State &state) {
    auto posts = corpus(state.range(0), state.range(0), false, 500);
    run_mix(state, posts, MF_ROLE_MEMBER);
}
BENCHMARK(BM_Size)->Arg(100)->Arg(1000)->Arg(5000)->Arg(64 << 10);

// Latency distribution for 1 KB posts: each scan timed on its own; p50 / p99 / max in µs.
void BM_Latency_1KB(benchmark::State &state) {
    static auto posts = corpus(1000, 1024, state.range(0) != 0);
    Ctx &c = ctx();
    std::vector<double> us;
    us.reserve(1 << 20);
    size_t i = 0;
    for (auto _ : state) {
        const std::string &p = posts[i++ % posts.size()];
        auto t0 = std::chrono::steady_clock::now();
        c.scan(p.data(), p.size());
        auto t1 = std::chrono::steady_clock::now();
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    std::sort(us.begin(), us.end());
    auto pct = [&](double q) { return us.empty() ? 0.0 : us[std::min(us.size() - 1, size_t(q * us.size()))]; };
    state.counters["p50_us"] = pct(0.50);
    state.counters["p99_us"] = pct(0.99);
    state.counters["max_us"] = us.empty() ? 0.0 : us.back();
}
BENCHMARK(BM_Latency_1KB)->Arg(0)->ArgName("non_ascii");
BENCHMARK(BM_Latency_1KB)->Arg(1)->ArgName("non_ascii");

// Batch call: what bindings use to cross the FFI boundary once per many posts.
void BM_Batch_English(benchmark::State &state) {
    static auto posts = corpus(100, 5000, false);
    Ctx &c = ctx();
    const size_t n = 64;
    std::vector<mf_verdict *> vs(n);
    for (auto &v : vs) mf_verdict_create(&v);
    std::vector<mf_post> ps(n);
    size_t off = 0, bytes = 0, items = 0;
    for (auto _ : state) {
        for (size_t k = 0; k < n; ++k) {
            const std::string &p = posts[(off + k) % posts.size()];
            mf_post post = MF_POST_INIT;
            post.text = p.data();
            post.len = p.size();
            ps[k] = post;
            bytes += p.size();
        }
        off += n;
        size_t failed;
        if (mf_scan_batch(c.scanner, vs.data(), ps.data(), n, &failed) != MF_OK) std::exit(1);
        items += n;
    }
    for (auto &v : vs) mf_verdict_destroy(v);
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
    state.SetItemsProcessed(static_cast<int64_t>(items));
}
BENCHMARK(BM_Batch_English);

}  // namespace

BENCHMARK_MAIN();
