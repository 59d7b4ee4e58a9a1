// Throughput and latency of scanning with the full default packs, through the public C API.
//
//   python3 bench/corpora.py                  # once: builds build/bench-corpora/ from real text
//   build/bench/bench_scan --benchmark_counters_tabular=true
//
// Headline rows (real/...) scan real text: the corpora bench/corpora.py builds (forum prose,
// tweets, comments, SMS, support replies, translated UI strings in many scripts). Each corpus runs
// twice, as member and as staff authors (staff posts also go through the promise rules), through
// mf_scan_batch with 64 posts per call as the bindings do; bytes/s and posts/s are reported, and
// held_pct is the share of the corpus's posts (%) whose verdict is not ALLOW (from an untimed pass
// over the whole corpus, which also checks that every post scans). real/latency_1KB/prose times
// single mf_scan calls on ~1 KB prose posts (p50/p99/max in microseconds).
//
// The corpora directory is $MF_BENCH_CORPORA, else build/bench-corpora under the current directory,
// else bench-corpora next to this binary's directory (<build>/bench/bench_scan -> <build>/bench-corpora).
// Without it the real/ rows are skipped (with a message) and only the synthetic/ rows run.
//
// The synthetic/ rows are the older post mix generated from the sentences below (mostly ordinary
// forum prose, with some abuse, spam and staff promises mixed in), with sizes from 100 B to 5 KB:
// kept to compare with earlier figures, not to quote.
//
// Before timing, the engine must give the expected verdicts on known posts.
#include <modfilter/modfilter.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
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
        // $MF_BENCH_RULES: other rule packs (bench/promise_cost.sh compares the packs with and
        // without the promise packs); the reference check below is for the default packs only.
        mf_engine_options opts = MF_ENGINE_OPTIONS_INIT;
        const char *rules = std::getenv("MF_BENCH_RULES");
        if (rules && *rules) opts.rules_path = rules;
        if (mf_engine_create(&engine, &opts) != MF_OK || mf_scanner_create(&scanner, engine) != MF_OK ||
            mf_verdict_create(&verdict) != MF_OK) {
            std::fprintf(stderr, "cannot create engine: %s\n", mf_last_error());
            std::exit(1);
        }
        if (opts.rules_path) return;
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

// Same sizes, staff authors (promise rules active too).
void BM_Mix_English_Staff(benchmark::State &state) {
    static auto posts = corpus(100, 5000, false);
    run_mix(state, posts, MF_ROLE_STAFF);
}

// One post in ten in another language (non-ASCII: the ICU-backed normalization path).
void BM_Mix_Multilingual(benchmark::State &state) {
    static auto posts = corpus(100, 5000, true);
    run_mix(state, posts, MF_ROLE_MEMBER);
}

// Fixed sizes, to see the per-post overhead.
void BM_Size(benchmark::State &state) {
    auto posts = corpus(state.range(0), state.range(0), false, 500);
    run_mix(state, posts, MF_ROLE_MEMBER);
}

// p50 / p99 / max of per-scan times (µs) as counters.
void report_latency(benchmark::State &state, std::vector<double> &us) {
    std::sort(us.begin(), us.end());
    auto pct = [&](double q) { return us.empty() ? 0.0 : us[std::min(us.size() - 1, size_t(q * us.size()))]; };
    state.counters["p50_us"] = pct(0.50);
    state.counters["p99_us"] = pct(0.99);
    state.counters["max_us"] = us.empty() ? 0.0 : us.back();
}

// Latency distribution for 1 KB posts: each scan timed on its own; p50 / p99 / max in µs.
void BM_Latency_1KB(benchmark::State &state) {
    // One set per argument: a single static would hand the first argument's posts to the second.
    static const std::vector<std::string> sets[2] = {corpus(1000, 1024, false), corpus(1000, 1024, true)};
    const auto &posts = sets[state.range(0) != 0];
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
    report_latency(state, us);
}

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

void register_synthetic() {
    benchmark::RegisterBenchmark("synthetic/mix_english_100B_5KB", BM_Mix_English_100B_5KB);
    benchmark::RegisterBenchmark("synthetic/clean_english", BM_Clean_English);
    benchmark::RegisterBenchmark("synthetic/mix_english_staff", BM_Mix_English_Staff);
    benchmark::RegisterBenchmark("synthetic/mix_multilingual", BM_Mix_Multilingual);
    benchmark::RegisterBenchmark("synthetic/size", BM_Size)->Arg(100)->Arg(1000)->Arg(5000)->Arg(64 << 10);
    benchmark::RegisterBenchmark("synthetic/latency_1KB", BM_Latency_1KB)->Arg(0)->Arg(1)->ArgName("non_ascii");
    benchmark::RegisterBenchmark("synthetic/batch_english", BM_Batch_English);
}

// ---- Real corpora (bench/corpora.py) --------------------------------------------------------------

// The corpora bench/corpora.py writes, in the order their rows appear.
const char *kRealCorpora[] = {"prose", "tweets", "comments", "sms", "replies", "mixed"};

namespace fs = std::filesystem;

// $MF_BENCH_CORPORA, else ./build/bench-corpora, else <directory of this binary>/../bench-corpora.
// Empty when none of them holds a corpus.
fs::path find_corpora(std::string &tried) {
    std::vector<fs::path> candidates;
    if (const char *env = std::getenv("MF_BENCH_CORPORA"); env && *env) {
        candidates.emplace_back(env);
    } else {
        candidates.emplace_back(fs::current_path() / "build" / "bench-corpora");
        std::error_code ec;
        fs::path self = fs::read_symlink("/proc/self/exe", ec);
        if (!ec) candidates.push_back(self.parent_path().parent_path() / "bench-corpora");
    }
    for (const auto &dir : candidates) {
        tried += (tried.empty() ? "" : ", ") + dir.string();
        for (const char *name : kRealCorpora) {
            std::error_code ec;
            if (fs::is_regular_file(dir / (std::string(name) + ".txt"), ec)) return dir;
        }
    }
    return {};
}

// One corpus: its posts (one per line of NAME.txt) in one buffer.
struct RealCorpus {
    std::string text;                // every post, back to back
    std::vector<mf_post> posts;      // into text; the first kBatch posts repeated at the end
    size_t n = 0;                    // number of posts
    size_t bytes = 0;                // bytes of text in all posts
    size_t held = 0;                 // posts whose verdict is not ALLOW (one untimed pass)
};

constexpr size_t kBatch = 64;

// Loads NAME.txt into c (in place: posts point into c.text); no posts when it cannot be read.
void load_corpus(const fs::path &file, int32_t role, RealCorpus &c) {
    std::ifstream in(file, std::ios::binary);
    std::vector<std::pair<size_t, size_t>> spans;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        spans.emplace_back(c.text.size(), line.size());
        c.text += line;
    }
    c.n = spans.size();
    c.bytes = c.text.size();
    for (size_t i = 0; i < c.n + (c.n ? kBatch : 0); ++i) {
        const auto &[off, len] = spans[i % c.n];
        mf_post p = MF_POST_INIT;
        p.text = c.text.data() + off;
        p.len = len;
        p.author_role = role;
        c.posts.push_back(p);
    }
}

// Scans the corpus through mf_scan_batch, 64 consecutive posts per call, wrapping around (the small
// corpora are scanned several times over). A failed scan stops the run: no figure for a broken scan.
void BM_Real(benchmark::State &state, fs::path file, int32_t role) {
    static std::map<std::pair<std::string, int32_t>, RealCorpus> cache;
    Ctx &c = ctx();
    std::vector<mf_verdict *> vs(kBatch);
    for (auto &v : vs) mf_verdict_create(&v);
    auto batch = [&](const RealCorpus &corp, size_t off) {
        size_t failed = 0;
        if (mf_scan_batch(c.scanner, vs.data(), corp.posts.data() + off, kBatch, &failed) != MF_OK) {
            std::fprintf(stderr, "batch scan failed at post %zu of %s: %s\n", (off + failed) % corp.n + 1,
                         file.string().c_str(), mf_last_error());
            std::exit(1);
        }
    };
    RealCorpus &corp = cache[std::make_pair(file.string(), role)];
    if (corp.posts.empty()) {
        load_corpus(file, role, corp);
        // Untimed pass over the whole corpus: every post must scan, and held_pct describes the
        // corpus, not whichever part of it the timed loop happened to cover.
        for (size_t off = 0; off < corp.n; off += kBatch) {
            batch(corp, off);
            for (size_t k = 0; k < kBatch && off + k < corp.n; ++k)
                corp.held += mf_verdict_action(vs[k]) != MF_ACTION_ALLOW;
        }
    }
    if (corp.n == 0) {
        for (auto &v : vs) mf_verdict_destroy(v);
        state.SkipWithError(("empty or unreadable corpus: " + file.string()).c_str());
        return;
    }
    size_t off = 0, bytes = 0, items = 0;
    for (auto _ : state) {
        batch(corp, off);
        for (size_t k = 0; k < kBatch; ++k) bytes += corp.posts[off + k].len;
        benchmark::DoNotOptimize(mf_verdict_action(vs[kBatch - 1]));
        items += kBatch;
        off = (off + kBatch) % corp.n;
    }
    for (auto &v : vs) mf_verdict_destroy(v);
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
    state.SetItemsProcessed(static_cast<int64_t>(items));
    state.counters["held_pct"] = 100.0 * corp.held / corp.n;
    state.counters["posts"] = static_cast<double>(corp.n);
    state.counters["mean_B"] = static_cast<double>(corp.bytes) / corp.n;
}

// Single mf_scan calls on real prose posts of about 1 KB (960 B to 1088 B), each timed on its own.
void BM_Real_Latency_1KB(benchmark::State &state, fs::path file) {
    static std::vector<mf_post> posts;
    static RealCorpus corp;
    if (corp.n == 0) {
        load_corpus(file, MF_ROLE_MEMBER, corp);
        for (size_t i = 0; i < corp.n; ++i)
            if (corp.posts[i].len >= 960 && corp.posts[i].len <= 1088) posts.push_back(corp.posts[i]);
    }
    if (posts.empty()) {
        state.SkipWithError(("no post of about 1 KB in " + file.string()).c_str());
        return;
    }
    Ctx &c = ctx();
    std::vector<double> us;
    us.reserve(1 << 20);
    size_t i = 0, bytes = 0;
    for (auto _ : state) {
        const mf_post &p = posts[i++ % posts.size()];
        auto t0 = std::chrono::steady_clock::now();
        if (mf_scan(c.scanner, c.verdict, &p) != MF_OK) {
            std::fprintf(stderr, "scan failed: %s\n", mf_last_error());
            std::exit(1);
        }
        auto t1 = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(mf_verdict_action(c.verdict));
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        bytes += p.len;
    }
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
    state.SetItemsProcessed(static_cast<int64_t>(i));
    state.counters["posts"] = static_cast<double>(posts.size());
    report_latency(state, us);
}

void register_real() {
    std::string tried;
    fs::path dir = find_corpora(tried);
    if (dir.empty()) {
        std::fprintf(stderr,
                     "bench_scan: no real corpora (looked in %s); only the synthetic rows run.\n"
                     "  Build them with: python3 bench/corpora.py   (or set MF_BENCH_CORPORA=DIR)\n",
                     tried.c_str());
        return;
    }
    std::string missing;
    for (const char *name : kRealCorpora) {
        fs::path file = dir / (std::string(name) + ".txt");
        std::error_code ec;
        if (!fs::is_regular_file(file, ec)) {
            missing += std::string(missing.empty() ? "" : ", ") + name;
            continue;
        }
        for (auto [role, role_name] : {std::pair{MF_ROLE_MEMBER, "member"}, std::pair{MF_ROLE_STAFF, "staff"}})
            benchmark::RegisterBenchmark(("real/" + std::string(name) + "/" + role_name).c_str(), BM_Real, file,
                                         static_cast<int32_t>(role));
        if (std::string(name) == "prose")
            benchmark::RegisterBenchmark("real/latency_1KB/prose", BM_Real_Latency_1KB, file);
    }
    if (!missing.empty())
        std::fprintf(stderr, "bench_scan: corpora missing from %s: %s (python3 bench/corpora.py builds them)\n",
                     dir.string().c_str(), missing.c_str());
}

}  // namespace

int main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    ctx();  // reference verdicts first: no timing of a filter that does not work
    register_real();
    register_synthetic();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

