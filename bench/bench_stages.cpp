// Where the scan's time goes on real posts, stage by stage: for each corpus of bench/corpora.py, as
// member and as staff, microseconds per post in each stage of Scanner::scan_batch and the share of
// the whole. Throughput figures are bench_scan's and ab_inproc's; this one says which stage to work
// on (issue: a stage that costs a fifth of the scan is where a fifth can be won).
//
//   python3 bench/corpora.py                      # once: builds build/bench-corpora/ from real text
//   build/bench/bench_stages [--rounds N] [--db FILE] [CORPUS...]
//
// CORPUS: names of build/bench-corpora/NAME.txt (a post per line; default: prose tweets comments sms
// replies mixed technical). --db: a compiled database (modfilter compile); default: the default packs
// as this build compiled them (default_engine.mfdb in the build directory). The corpora directory is
// $MF_BENCH_CORPORA, else build/bench-corpora under the current directory. Each corpus is scanned
// once untimed, then N rounds (default 3) timed; batches of 64 posts, as the bindings call
// mf_scan_batch. The stages:
//   normalize  case, width, accents, look-alikes folded, offsets kept (core/normalize.hpp)
//   words      every word looked up in the word-bounded literal tables (core/word_match.hpp)
//   main       the main Hyperscan database: literals, prefilter atoms, triggers; their callbacks
//   windows    regex groups probed (and confirmed) around their triggers
//   commit     staff only: the commitment stage (core/commitment.hpp)
//   skeleton   the evasion skeleton of suspicious tokens, and its database
//   model      the learned scorers (core/model.hpp)
//   score      the verdict: hits sorted, categories, action
// The clock is read once per stage for each batch of Scanner::kLanes posts (a few hundred
// nanoseconds per batch in all): the figures are about 1% above the untimed scan's.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine.hpp"
#include "scanner.hpp"
#include "verdict.hpp"

#ifndef MF_DEFAULT_ENGINE_BIN
#define MF_DEFAULT_ENGINE_BIN "default_engine.mfdb"
#endif

namespace {

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "bench_stages: cannot read %s\n", path.c_str());
        std::exit(1);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

int main(int argc, char **argv) {
    std::string db_path = MF_DEFAULT_ENGINE_BIN;
    int rounds = 3;
    std::vector<std::string> corpora;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--db" && i + 1 < argc) db_path = argv[++i];
        else if (a == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
        else if (a.starts_with("--")) {
            std::fprintf(stderr, "usage: bench_stages [--rounds N] [--db FILE] [CORPUS...]\n");
            return 2;
        } else corpora.push_back(a);
    }
    if (corpora.empty()) corpora = {"prose", "tweets", "comments", "sms", "replies", "mixed", "technical"};
    const char *env = std::getenv("MF_BENCH_CORPORA");
    const std::filesystem::path dir = env ? env : "build/bench-corpora";
    if (!std::filesystem::is_directory(dir)) {
        std::fprintf(stderr, "bench_stages: no corpora in %s (run python3 bench/corpora.py first)\n", dir.c_str());
        return 1;
    }
    mf::normalize_init();
    std::unique_ptr<mf::Engine> engine;
    try {
        engine = mf::Engine::deserialize(read_file(db_path), mf::EngineOptions{});
    } catch (const std::exception &e) {
        std::fprintf(stderr, "bench_stages: %s: %s\n", db_path.c_str(), e.what());
        return 1;
    }
    using Times = mf::Scanner::StageTimes;
    std::printf("%-10s %-6s %6s %6s %8s %7s", "corpus", "role", "posts", "mean_B", "us/post", "MB/s");
    for (const char *name : Times::kNames) std::printf(" %9s", name);
    std::printf("\n");
    for (const std::string &c : corpora) {
        const std::filesystem::path file = dir / (c + ".txt");
        if (!std::filesystem::exists(file)) {
            std::fprintf(stderr, "bench_stages: no %s, skipped\n", file.c_str());
            continue;
        }
        std::vector<std::string> posts;
        {
            std::ifstream in(file);
            std::string line;
            while (std::getline(in, line))
                if (!line.empty()) posts.push_back(line);
        }
        if (posts.empty()) continue;
        size_t bytes = 0;
        for (const auto &p : posts) bytes += p.size();
        for (int role = 0; role < 2; ++role) {
            mf::Scanner scanner(*engine);
            std::vector<mf::Verdict> verdicts(64);
            std::vector<mf::Scanner::BatchPost> batch(64);
            auto pass = [&] {
                for (size_t i = 0; i < posts.size(); i += batch.size()) {
                    const size_t n = std::min(batch.size(), posts.size() - i);
                    for (size_t k = 0; k < n; ++k) batch[k] = {posts[i + k], role, 0, &verdicts[k]};
                    std::exception_ptr error;
                    if (scanner.scan_batch(batch.data(), n, [](size_t) {}, &error) != n) {
                        try {
                            std::rethrow_exception(error);
                        } catch (const std::exception &e) {
                            std::fprintf(stderr, "bench_stages: %s: a post failed: %s\n", c.c_str(), e.what());
                        }
                        std::exit(1);
                    }
                }
            };
            pass();  // untimed: the scanner's buffers and the caches warm
            Times t;
            scanner.set_stage_times(&t);
            const auto start = std::chrono::steady_clock::now();
            for (int r = 0; r < rounds; ++r) pass();
            const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            scanner.set_stage_times(nullptr);
            double sum = 0;
            for (double s : t.seconds) sum += s;
            const double n = static_cast<double>(posts.size()) * rounds;
            std::printf("%-10s %-6s %6zu %6.0f %8.2f %7.1f", c.c_str(), role ? "staff" : "member", posts.size(),
                        static_cast<double>(bytes) / posts.size(), wall / n * 1e6, bytes * rounds / wall / 1e6);
            for (double s : t.seconds) std::printf(" %5.2f %2.0f%%", s / n * 1e6, sum > 0 ? 100 * s / sum : 0.0);
            std::printf("\n");
        }
    }
    return 0;
}
