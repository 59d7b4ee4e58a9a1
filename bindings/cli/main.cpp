// modfilter: the command-line stream filter. Uses only <modfilter/modfilter.h>.
//
//   modfilter scan [--rules DIR | --db FILE] [--format json|text] [--censor] [FILE...]
//   modfilter check-rules [PATH...]
//   modfilter compile [--rules DIR] -o FILE
//   modfilter worker --redis URL --stream S --group G --out-stream O [--rules DIR | --db FILE] ...
//
// scan writes exactly one JSON line per input line, in input order. A line that cannot be scanned
// (invalid JSON, no "text", a post over the size limit) gets {"line": N, "error": "..."} and the stream
// goes on.
#include <modfilter/modfilter.h>

#include <CLI/CLI.hpp>

#include "reload.hpp"
#include "stream.hpp"
#include "worker.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using mfcli::Engine;
using mfcli::ScanOptions;
using mfcli::scan_stream;

namespace {

constexpr int kExitOk = 0, kExitFail = 1, kExitUsage = 2;

bool open_engine(Engine &e, const std::string &rules, const std::string &db) {
    std::string error;
    if (mfcli::open_engine(e, rules, db, 0, error)) return true;
    std::cerr << "modfilter: " << error << "\n";
    return false;
}

// The CPUs this process may run on (its affinity mask, as taskset and cgroup cpusets set it), at
// most 16: the scan's default thread count.
size_t usable_cpus() {
    size_t n = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = static_cast<size_t>(CPU_COUNT(&set));
    if (!n) n = std::thread::hardware_concurrency();
    return std::clamp<size_t>(n, 1, 16);
}

void print_diag(const char *file, uint32_t line, const char *message, void *) {
    if (line) std::printf("%s:%u: %s\n", file, line, message);
    else std::printf("%s: %s\n", file, message);
}

}  // namespace

int main(int argc, char **argv) {
    CLI::App app{"modfilter: scans forum posts and returns moderation verdicts (one JSON line per post).\n"
                 "Library " + std::string(mf_version())};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("modfilter ") + mf_version());

    ScanOptions so;
    so.skip_bom = true;  // each input file may start with a byte order mark
    auto *scan = app.add_subcommand("scan", "Scan posts (JSON lines, or plain text lines) and write one verdict line per input line");
    scan->add_option("--rules", so.rules, "Rule pack file or directory (default: the built-in packs)");
    scan->add_option("--db", so.db, "Compiled database from 'modfilter compile' (instead of --rules)");
    scan->add_option("--format", so.format, "Input format: json (default) or text (one post per line)")
        ->check(CLI::IsMember({"json", "text"}));
    scan->add_option("--role", so.role, "Author role for --format text, or JSON posts without one (default member)")
        ->check(CLI::IsMember({"member", "staff"}));
    scan->add_flag("--censor", so.censor, "Add a censored copy of each post (\"censored\")");
    std::string state_path;
    double state_every = 60;
    bool state_reset = false;
    uint64_t state_budget_mib = 64;
    scan->add_option("--state", state_path,
                     "Remember posts across runs in FILE (duplicates, floods): loaded at start, saved at exit "
                     "and every --state-save-every seconds");
    scan->add_option("--state-save-every", state_every, "Seconds between saves of --state (default 60; 0: only at exit)")
        ->check(CLI::Range(0.0, 1e9));
    scan->add_flag("--state-reset-on-error", state_reset,
                   "Start with an empty state when the --state file is corrupt or from another version "
                   "(default: refuse to run)");
    scan->add_option("--state-budget", state_budget_mib, "Memory budget of the state in MiB (default 64)")
        ->check(CLI::Range(1, 1 << 20));
    size_t scan_threads = 0;
    scan->add_option("--threads", scan_threads,
                     "Threads that scan (default 0: one per CPU this process may use, 1 with --state, so that "
                     "floods and duplicates count posts in input order); output keeps input order")
        ->check(CLI::Range(0, 256));
    scan->add_option("inputs", so.inputs, "Input files, read in turn as one stream: line numbers (of error lines, and the ids of --format text) go on from one to the next; all are opened before any is read (default: standard input; '-' is standard input)");
    scan->footer("Input:  {\"id\": 1, \"text\": \"...\", \"author\": {\"id\": \"u42\", \"role\": \"staff\"|\"member\", \"age_days\": 0},\n"
                 "         \"channel\": \"...\", \"ts\": <seconds since 1970>, \"edit\": false}\n"
                 "Output: {\"id\": 1, \"action\": \"ALLOW|FLAG|HOLD|REJECT\", \"categories\": {...}, \"routes\": [...],\n"
                 "         \"hits\": [{\"rule\", \"category\", \"severity\", \"score\", \"start\", \"end\"}], ...}\n"
                 "Offsets are UTF-8 byte offsets [start, end) into the post's text.\n"
                 "SIGHUP: load --rules or --db again at once, beside the running rules, and use them from the\n"
                 "next batch once loaded (stderr says when); a pack with a mistake is refused and the old rules\n"
                 "stay (stderr says why, at once).\n"
                 "SIGTERM or SIGINT: stop reading; every line read whole is answered and written, --state is\n"
                 "saved, exit 0 (a line read only in part is not answered; a second signal ends it at once).\n"
                 "Exit status: 0 when every line was answered (including error lines), 1 when the rules or an\n"
                 "input could not be read, 2 on a usage error.");

    std::vector<std::string> check_paths;
    auto *check = app.add_subcommand("check-rules", "Lint rule packs: parse, compile, run every example; print file:line: message");
    check->add_option("paths", check_paths, "Rule pack files or directories (default: the built-in packs)");
    check->footer("Exit status: 0 when the packs are clean, 1 when there are mistakes, 2 on a usage error.");

    std::string compile_rules, compile_out;
    auto *comp = app.add_subcommand("compile", "Compile rule packs into a database file that 'scan --db' loads quickly");
    comp->add_option("--rules", compile_rules, "Rule pack file or directory (default: the built-in packs)");
    comp->add_option("-o,--output", compile_out, "Output file")->required();

    mfcli::WorkerOptions wo;
    auto *work = app.add_subcommand("worker", "Judge posts from a Redis stream (consumer group); one verdict per post "
                                              "to an output stream, acknowledged together (docs/worker.md)");
    work->add_option("--redis", wo.redis, "redis://[:password@]host[:port][/db] or unix:///path (default redis://127.0.0.1:6379)");
    work->add_option("--stream", wo.stream, "Input stream (default modfilter:posts)");
    work->add_option("--field", wo.field, "The input entry's field holding the post, a JSON object as for scan (default post)");
    work->add_option("--group", wo.group, "Consumer group, created when missing (default modfilter)");
    work->add_option("--group-start", wo.group_start,
                     "Where a group this worker creates starts: 0 (every entry already in the stream; default), "
                     "$ (only entries added from then on) or a stream id; stderr says when it creates one")
        ->check([](const std::string &v) -> std::string {
            // (Redis refuses anything else, and the worker would retry it for ever)
            std::size_t i = 0;
            auto digits = [&] {
                const std::size_t from = i;
                while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
                return i > from;
            };
            if (v == "$" || (digits() && (i == v.size() || (v[i++] == '-' && digits() && i == v.size())))) return "";
            return "must be 0, $ or a stream id (MILLISECONDS or MILLISECONDS-SEQUENCE)";
        });
    work->add_option("--forget-consumers-after", wo.forget_after,
                     "Remove from the group consumers idle this many seconds with nothing pending, the names "
                     "of workers that died (default 3600; 0: never)")
        ->check(CLI::Range(0.0, 1e9));
    work->add_option("--consumer", wo.consumer, "Consumer name in the group (default host:pid)");
    work->add_option("--out-stream", wo.out_stream, "Output stream: fields in (input id) and verdict (default modfilter:verdicts)");
    work->add_option("--out-maxlen", wo.out_maxlen, "Trim the output streams to about this many entries (0: never; default 1000000)");
    work->add_option("--dead-stream", wo.dead_stream, "Dead-letter stream (default <out-stream>:dead)");
    work->add_option("--control-key", wo.control_key, "Reload the rules when this key's value changes (default <stream>:reload)");
    work->add_option("--batch", wo.batch, "Entries read and judged per batch (default 100)")->check(CLI::Range(1, 100000));
    work->add_option("--claim-after", wo.claim_after, "Claim entries pending longer than this many seconds (default 30)")
        ->check(CLI::Range(0.001, 1e7));
    work->add_option("--max-deliveries", wo.max_deliveries, "Dead-letter an entry after this many failed deliveries (default 5)")
        ->check(CLI::Range(1, 1000000));
    work->add_option("--log-every", wo.log_every, "Seconds between summary lines on stderr (default 10; 0: none)")
        ->check(CLI::Range(0.0, 1e9));
    work->add_flag("-v,--verbose", wo.verbose, "One line per batch on stderr");
    work->add_option("--metrics-port", wo.metrics_port,
                     "Serve counters in Prometheus text format on http://127.0.0.1:PORT/metrics (default: off)")
        ->check(CLI::Range(1, 65535));
    work->add_option("--rules", wo.rules, "Rule pack file or directory (default: the built-in packs)");
    work->add_option("--db", wo.db, "Compiled database from 'modfilter compile' (instead of --rules)");
    work->add_flag("--censor", wo.censor, "Add a censored copy of each post (\"censored\")");
    work->add_option("--max-post-bytes", wo.max_post_bytes, "Posts over this size get an error verdict (default 16 MiB)")
        ->check(CLI::Range(uint64_t(1), uint64_t(1) << 40));
    work->add_flag("--shared-flood", wo.shared_flood,
                   "Count each author's posts in Redis, shared by every worker (spam.flood; docs/worker.md)");
    work->add_option("--flood-prefix", wo.flood_prefix, "Key prefix of the shared flood counters (default <stream>:flood)");
    work->add_option("--flood-window", wo.flood_window, "Seconds of the shared flood window (default 60)")
        ->check(CLI::Range(0.001, 1e7));
    work->add_option("--flood-flag", wo.flood_flag, "Posts in the window for FLAG (default 6; 0: never)");
    work->add_option("--flood-hold", wo.flood_hold, "Posts in the window for HOLD (default 10; 0: never)");
    work->add_option("--flood-reject", wo.flood_reject, "Posts in the window for REJECT (default 30; 0: never)");
    work->add_flag("--shared-duplicates", wo.shared_duplicates,
                   "Keep the duplicate state in Redis, shared by every worker (spam.duplicate; docs/worker.md)");
    work->add_option("--dup-prefix", wo.dup_prefix, "Key prefix of the shared duplicate state (default <stream>:dup:f<fingerprint version>)");
    work->add_option("--dup-window", wo.dup_window, "Seconds a text is remembered after its last copy (default 7200)")
        ->check(CLI::Range(0.001, 1e8));
    work->add_option("--dup-min-words", wo.dup_min_words, "Posts with fewer words are never duplicates (default 6)");
    work->add_option("--dup-near-bits", wo.dup_near_bits, "SimHash distance of nearly the same texts (default 10)")
        ->check(CLI::Range(0, 64));
    work->add_option("--dup-flag", wo.dup_flag, "Copies (this one included) for FLAG (default 3; 0: never)");
    work->add_option("--dup-hold", wo.dup_hold, "Copies for HOLD (default 5; 0: never)");
    work->add_option("--dup-reject", wo.dup_reject, "Copies for REJECT (default 20; 0: never)");
    work->add_flag("--new-account-links", wo.new_account_links,
                   "Flag links posted by accounts younger than --new-account-days (author.age_days; spam.new-account-links)");
    work->add_option("--new-account-days", wo.new_account_days, "Accounts younger than this many days are new (default 3)")
        ->check(CLI::Range(1, 36500));
    work->add_option("--new-account-flag", wo.new_account_flag, "Links from a new account for FLAG (default 1; 0: never)");
    work->add_option("--new-account-hold", wo.new_account_hold, "Links from a new account for HOLD (default 3; 0: never)");
    work->footer("SIGTERM or SIGINT: finish the batch in hand, write, acknowledge, exit 0.\n"
                 "SIGHUP, or a new value of --control-key: compile the rules again beside the running ones and\n"
                 "swap between batches; a pack with a mistake is refused and the old rules stay.\n"
                 "Each verdict carries \"stream_id\" (the input entry) and \"db\" (the database hash).");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }

    if (*scan) {
        Engine e;
        if (!so.rules.empty() && !so.db.empty()) {
            std::cerr << "modfilter scan: give --rules or --db, not both\n";
            return kExitUsage;
        }
        if (!open_engine(e, so.rules, so.db)) return kExitFail;
        so.threads = scan_threads ? scan_threads : !state_path.empty() ? 1 : usable_cpus();
        if (scan_threads > 1 && !state_path.empty())
            std::cerr << "modfilter: --threads " << scan_threads << " with --state: duplicates and floods count posts in "
                         "the order the threads reach them, not input order, so a verdict may differ from run to run "
                         "(the default with --state is 1 thread)\n";
        // --state: a state loaded (or started empty when the file does not exist yet) and saved.
        struct StateHolder {
            mf_state *s = nullptr;
            ~StateHolder() { mf_state_destroy(s); }
        } state;
        auto save_state = [&]() -> bool {
            mf_status st = mf_state_save(state.s, state_path.c_str());
            if (st != MF_OK) std::cerr << "modfilter: cannot save state: " << mf_last_error() << "\n";
            return st == MF_OK;
        };
        if (!state_path.empty()) {
            mf_state_options sopt = MF_STATE_OPTIONS_INIT;
            sopt.memory_budget = state_budget_mib << 20;
            if (mf_state_create(&state.s, &sopt) != MF_OK) {
                std::cerr << "modfilter: " << mf_last_error() << "\n";
                return kExitFail;
            }
            if (::access(state_path.c_str(), F_OK) == 0) {
                mf_status st = mf_state_load(state.s, state_path.c_str());
                if (st != MF_OK) {
                    const bool resettable = st == MF_E_STATE_CORRUPT || st == MF_E_STATE_VERSION;
                    std::cerr << "modfilter: " << mf_status_str(st) << ": " << mf_last_error() << "\n";
                    if (!resettable || !state_reset) {
                        if (resettable) std::cerr << "modfilter: --state-reset-on-error starts with an empty state instead\n";
                        return kExitFail;
                    }
                    // the refused file is kept beside it, not overwritten by the first save: it may be
                    // the only copy of a state that another version can still read
                    // (a link, which never replaces a file, then the old name goes: a name already
                    // taken, by a refusal in the same second, gets a number after it)
                    const std::string base = state_path + ".refused." + std::to_string(::time(nullptr));
                    std::string kept = base;
                    int linked = ::link(state_path.c_str(), kept.c_str());
                    for (int k = 2; linked != 0 && errno == EEXIST && k < 1000; ++k) {
                        kept = base + "." + std::to_string(k);
                        linked = ::link(state_path.c_str(), kept.c_str());
                    }
                    if (linked != 0 || ::unlink(state_path.c_str()) != 0) {
                        std::cerr << "modfilter: cannot keep the refused state file as " << kept << ": "
                                  << std::strerror(errno) << "\n";
                        return kExitFail;
                    }
                    std::cerr << "modfilter: starting with an empty state (--state-reset-on-error); the refused file is "
                              << kept << "\n";
                }
            }
            // The state is saved beside its file (FILE.tmp, then renamed): a place that cannot be
            // written is told now, not after the whole input has been scanned.
            // (A name of this process's own, created and removed: FILE.tmp may be another process's
            // save in progress.)
            {
                const std::string probe = state_path + ".tmp." + std::to_string(::getpid());
                const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0) {
                    std::cerr << "modfilter: cannot save state to " << state_path << ": cannot create a file beside it ("
                              << probe << "): " << std::strerror(errno) << "\n";
                    return kExitFail;
                }
                ::close(fd);
                ::unlink(probe.c_str());
            }
            mf_scanner_set_state(e.scanner, state.s);
            e.state = state.s;
        }
        // SIGHUP: load the rules again beside the running engine, at once, in a thread of their own
        // (so that a post arriving after the load is judged by the new rules, however quiet the
        // input was); swap between batches (after one is answered, before the next is scanned). A
        // pack with a mistake leaves the old rules, and says so when the load fails. SIGHUP is
        // blocked in every thread (this one, before any other starts) and taken by the watcher.
        // SIGTERM or SIGINT: stop reading; the lines read whole are answered and written, the state
        // is saved, and the scan exits 0 (a second one ends it at once). The watcher wakes the
        // reading thread through a pipe (mfcli::FdSource), so a quiet input stops too.
        mfcli::Reloader reloader(so.rules, so.db, 0);
        int stop_pipe[2] = {-1, -1};
        if (::pipe2(stop_pipe, O_CLOEXEC) != 0) {
            std::cerr << "modfilter: cannot create a pipe: " << std::strerror(errno) << "\n";
            return kExitFail;
        }
        struct Pipe {
            int *fds;
            ~Pipe() {
                ::close(fds[0]);
                ::close(fds[1]);
            }
        } stop_pipe_closer{stop_pipe};
        struct HupWatcher {
            sigset_t hup;
            std::atomic<bool> stop{false};
            std::thread thread;
            HupWatcher(mfcli::Reloader &r, int stop_fd) {
                sigemptyset(&hup);
                sigaddset(&hup, SIGHUP);
                sigaddset(&hup, SIGTERM);
                // (SIGINT ignored at start, as a shell starts a job in the background, stays ignored)
                struct sigaction was {};
                if (sigaction(SIGINT, nullptr, &was) != 0 || was.sa_handler != SIG_IGN) sigaddset(&hup, SIGINT);
                pthread_sigmask(SIG_BLOCK, &hup, nullptr);
                thread = std::thread([this, &r, stop_fd] {
                    bool stopping = false;
                    for (;;) {
                        int sig = 0;
                        if (sigwait(&hup, &sig) != 0) continue;
                        if (stop) return;
                        if (sig == SIGTERM || sig == SIGINT) {
                            if (stopping) ::_exit(128 + sig);
                            stopping = true;
                            const char byte = 1;
                            (void)!::write(stop_fd, &byte, 1);
                            continue;
                        }
                        r.start([](bool ok, const std::string &what) {
                            if (ok) std::cerr << "modfilter: new rules loaded (database " << what << "), used from the next post\n";
                            else std::cerr << "modfilter: reload refused, the old rules stay: " << what << "\n";
                        });
                    }
                });
            }
            ~HupWatcher() {
                stop = true;
                pthread_kill(thread.native_handle(), SIGHUP);
                thread.join();
                // no one waits for them now: a second SIGTERM or SIGINT during what is left (a reload
                // in progress is joined) ends the process, as a second one does before
                sigset_t end;
                sigemptyset(&end);
                sigaddset(&end, SIGTERM);
                sigaddset(&end, SIGINT);
                pthread_sigmask(SIG_UNBLOCK, &end, nullptr);
            }
        } watcher(reloader, stop_pipe[1]);
        so.before_batch = [&] {
            mfcli::Loaded next;
            std::string error;
            if (reloader.take(next, error)) {
                std::swap(e.engine, next.engine->engine);
                std::swap(e.scanner, next.engine->scanner);
                std::swap(e.helpers, next.engine->helpers);  // (none: the scan makes them for the new engine)
                if (state.s) mf_scanner_set_state(e.scanner, state.s);
                next.engine.reset();  // the old scanner, then the old engine
                std::cerr << "modfilter: reloaded the rules (database " << next.hash << ")\n";
            }  // (a refused load said so when it failed)
        };
        // Saves every --state-save-every seconds from a thread of their own, so that a quiet input
        // (a forum at night) is saved too: the scan saved only after a batch, when a line came in.
        // (mf_state_save may run beside scans: it copies the state under its lock.)
        struct Saver {
            std::mutex mu;
            std::condition_variable cv;
            bool stop = false;
            std::thread thread;
            // Stops the thread (a save in progress finishes first): called before the final save, so
            // that a periodic save of an older state is never renamed over it.
            void halt() {
                {
                    std::lock_guard<std::mutex> lock(mu);
                    stop = true;
                }
                cv.notify_all();
                if (thread.joinable()) thread.join();
            }
            ~Saver() { halt(); }
        } saver;
        if (state.s && state_every > 0)
            saver.thread = std::thread([&] {
                std::unique_lock<std::mutex> lock(saver.mu);
                while (!saver.cv.wait_for(lock, std::chrono::duration<double>(state_every), [&] { return saver.stop; })) {
                    lock.unlock();
                    save_state();
                    lock.lock();
                }
            });
        if (so.inputs.empty()) so.inputs.push_back("-");
        mfcli::FdSink out(STDOUT_FILENO);
        // Every input opened before the first is read: a missing one stops the run before any
        // verdict is written, not after the inputs before it were answered.
        struct Inputs {
            std::vector<int> fds;
            ~Inputs() {
                for (int fd : fds)
                    if (fd != STDIN_FILENO) ::close(fd);
            }
        } inputs;
        for (const auto &path : so.inputs) {
            int fd = STDIN_FILENO;
            if (path != "-") {
                fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                    std::cerr << "modfilter: cannot open " << path << ": " << std::strerror(errno) << "\n";
                    return kExitFail;
                }
                (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
            }
            inputs.fds.push_back(fd);
        }
        size_t lines = 0;  // line numbers go on from one input to the next, as if they were one
        for (size_t k = 0; k < so.inputs.size(); ++k) {
            const std::string &path = so.inputs[k];
            mfcli::FdSource in(inputs.fds[k], stop_pipe[0]);
            bool ok = scan_stream(e, in, out, so, &lines);
            if (!ok) {
                std::cerr << "modfilter: I/O error on " << path << "\n";
                saver.halt();
                if (state.s) save_state();
                return kExitFail;
            }
            if (in.stopped()) {
                std::cerr << "modfilter: stopped by a signal; lines answered: " << lines
                          << (state.s ? ", saving the state" : "") << "\n";
                break;
            }
        }
        saver.halt();
        if (state.s && !save_state()) return kExitFail;
        return kExitOk;
    }
    if (*work) {
        if (!wo.rules.empty() && !wo.db.empty()) {
            std::cerr << "modfilter worker: give --rules or --db, not both\n";
            return kExitUsage;
        }
        return mfcli::run_worker(wo);
    }
    if (*check) {
        if (check_paths.empty()) check_paths.push_back("");
        size_t total = 0;
        for (const auto &p : check_paths) {
            size_t n = 0;
            mf_status st = mf_rules_check(&n, p.empty() ? nullptr : p.c_str(), print_diag, nullptr);
            total += n;
            std::fflush(stdout);  // the diagnostics before their summary, also when both go to one pipe
            const char *name = p.empty() ? "built-in packs" : p.c_str();
            if (st == MF_OK) std::fprintf(stderr, "%s: ok\n", name);
            else if (n) std::fprintf(stderr, "%s: %zu mistake%s\n", name, n, n == 1 ? "" : "s");
            else {
                std::fprintf(stderr, "%s: %s: %s\n", name, mf_status_str(st), mf_last_error());
                ++total;
            }
        }
        std::fflush(stdout);
        return total ? kExitFail : kExitOk;
    }
    if (*comp) {
        Engine e;
        if (!open_engine(e, compile_rules, "")) return kExitFail;
        char *buf = nullptr;
        size_t len = 0;
        mf_status st = mf_engine_serialize(&buf, &len, e.engine);
        if (st != MF_OK) {
            std::cerr << "modfilter: " << mf_last_error() << "\n";
            return kExitFail;
        }
        std::ofstream out(compile_out, std::ios::binary);
        out.write(buf, static_cast<std::streamsize>(len));
        mf_free(buf);
        if (!out) {
            std::cerr << "modfilter: cannot write " << compile_out << "\n";
            return kExitFail;
        }
        std::fprintf(stderr, "wrote %s (%zu bytes, %zu rules)\n", compile_out.c_str(), len, mf_engine_rule_count(e.engine));
        return kExitOk;
    }
    return kExitUsage;
}
