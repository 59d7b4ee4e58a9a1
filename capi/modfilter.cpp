// The C front door: the only extern "C" code. Every entry point checks its arguments, runs the core
// inside one exception guard, and turns what went wrong into a status code plus a thread-local message.
#include "modfilter/modfilter.h"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#define XXH_INLINE_ALL  // header-only, as in core/compile.cpp
#include <xxhash.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/post.hpp"
#include "../core/scanner.hpp"
#include "../core/state.hpp"
#include "../core/version.hpp"

static_assert(MF_VERSION_NUMBER == mf::kVersionNumber, "header and library versions differ");
static_assert(MF_OK == mf::kOk && MF_E_INTERNAL == mf::kInternal && MF_E_BUSY == mf::kBusy &&
                  MF_E_STATE_CORRUPT == mf::kStateCorrupt && MF_E_STATE_VERSION == mf::kStateVersion,
              "status codes");
static_assert(MF_EVASION_MIXED_SCRIPT == mf::kEvMixedScript && MF_EVASION_LEET == mf::kEvLeet, "evasion bits");

struct mf_engine {
    explicit mf_engine(std::unique_ptr<mf::Engine> engine) : e(std::move(engine)) {}
    std::unique_ptr<mf::Engine> e;
    mutable std::once_flag hash_once;  // mf_engine_hash: computed on first use
    mutable uint64_t hash = 0;
};
struct mf_state {
    std::unique_ptr<mf::StateStore> store;
};
struct mf_scanner {
    mf::Scanner s;
    mf_state *state = nullptr;
    mf::StateScratch state_scratch;
    std::vector<mf::Scanner::BatchPost> batch;  // mf_scan_batch's posts, kept between calls
    explicit mf_scanner(const mf::Engine &e) : s(e) {}
};
struct mf_verdict {
    mf::Verdict v;
};

namespace {

// The version-1 layout of mf_post (0.1.0): what callers built against that header pass. Its fields
// are the first fields of today's mf_post, at the same offsets.
struct PostV1 {
    uint32_t version;
    const char *text;
    size_t len;
    int32_t author_role;
    uint32_t flags;
};
static_assert(offsetof(PostV1, text) == offsetof(mf_post, text) && offsetof(PostV1, len) == offsetof(mf_post, len) &&
                  offsetof(PostV1, author_role) == offsetof(mf_post, author_role) &&
                  offsetof(PostV1, flags) == offsetof(mf_post, flags) && sizeof(PostV1) < sizeof(mf_post),
              "mf_post version 2 must start with the version-1 layout");

// The size of one mf_post of the given version (0 for an unknown version).
size_t post_size(uint32_t version) {
    return version == 1 ? sizeof(PostV1) : version == MF_POST_VERSION ? sizeof(mf_post) : 0;
}

thread_local std::string t_last_error;

mf_status fail(mf_status st, const std::string &msg) noexcept {
    try {
        t_last_error = msg;
    } catch (...) {
        // Out of memory while recording the message: keep the status, lose the text.
    }
    return st;
}

// Runs f() and maps every exception to a status code.
template <class F>
mf_status guard(F &&f) noexcept {
    try {
        return f();
    } catch (const mf::Error &e) {
        return fail(e.status, e.message);
    } catch (const std::bad_alloc &) {
        return fail(MF_E_NOMEM, "out of memory");
    } catch (const std::exception &e) {
        return fail(MF_E_INTERNAL, std::string("internal error: ") + e.what());
    } catch (...) {
        return fail(MF_E_INTERNAL, "internal error: unknown exception");
    }
}

bool engine_options(const mf_engine_options *o, mf::EngineOptions &out, mf_status &st) {
    if (!o) return true;
    if (o->version != MF_ENGINE_OPTIONS_VERSION) {
        st = fail(MF_E_VERSION, "mf_engine_options.version is " + std::to_string(o->version) +
                                    ", this library knows version " + std::to_string(MF_ENGINE_OPTIONS_VERSION));
        return false;
    }
    if (o->max_post_bytes > (uint64_t(1) << 30)) {
        st = fail(MF_E_INVALID_ARG, "max_post_bytes is larger than 1 GiB");
        return false;
    }
    if (o->rules_text == nullptr && o->rules_text_len != 0) {
        st = fail(MF_E_INVALID_ARG, "rules_text is NULL but rules_text_len is not 0");
        return false;
    }
    auto bad = [](double d) { return d != d || d > 1e9; };
    if (bad(o->flag_threshold) || bad(o->hold_threshold) || bad(o->reject_threshold)) {
        st = fail(MF_E_INVALID_ARG, "thresholds must be numbers below 1e9 (negative: keep the packs' policy)");
        return false;
    }
    out.flag = o->flag_threshold;
    out.hold = o->hold_threshold;
    out.reject = o->reject_threshold;
    if (o->max_post_bytes) out.max_post_bytes = o->max_post_bytes;
    if (o->max_hits) out.max_hits = o->max_hits;
    return true;
}

// Diagnostics in the order of their files and lines, as an editor's list of mistakes is read.
bool by_place(const mf::Diagnostic &a, const mf::Diagnostic &b) {
    return a.file != b.file ? a.file < b.file : a.line < b.line;
}

// The first mistake in that order, as mf_rules_check (and check-rules) list them.
std::string diagnostics_message(const std::vector<mf::Diagnostic> &d) {
    const auto first = std::min_element(d.begin(), d.end(), by_place);
    std::string m = first->str();
    if (d.size() > 1) m += " (and " + std::to_string(d.size() - 1) + " more; run modfilter check-rules)";
    return m;
}

extern "C" const char mf_default_engine_begin[];
extern "C" const char mf_default_engine_end[];

// The default packs, precompiled at build time; nullptr when that database does not load here
// (another Hyperscan or CPU than the build's), and the packs are compiled instead.
std::unique_ptr<mf::Engine> load_default_engine(const mf::EngineOptions &eo) {
    try {
        return mf::Engine::deserialize(
            std::string_view(mf_default_engine_begin, static_cast<size_t>(mf_default_engine_end - mf_default_engine_begin)), eo,
            /*data_outlives_engine=*/true, /*verify_checksum=*/false);  // in the library's read-only data
    } catch (const mf::Error &) {
        return nullptr;
    }
}

mf::Sources sources_for(const char *path, const char *text, size_t text_len, std::vector<mf::Diagnostic> &diags) {
    mf::Sources src;
    if (text) {
        src.files.push_back({"<memory>.toml", std::string(text, text_len)});
    } else if (path) {
        if (!mf::read_sources(path, src, diags)) throw mf::Error(MF_E_IO, diagnostics_message(diags));
    } else {
        src = mf::default_sources();
    }
    return src;
}

}  // namespace

extern "C" {

const char *mf_version(void) { return mf::kVersionString; }
uint32_t mf_version_number(void) { return mf::kVersionNumber; }

const char *mf_status_str(mf_status s) {
    switch (s) {
    case MF_OK: return "ok";
    case MF_E_INVALID_ARG: return "invalid argument";
    case MF_E_NOMEM: return "out of memory";
    case MF_E_RULES: return "error in rule packs";
    case MF_E_IO: return "cannot read or write a file";
    case MF_E_VERSION: return "unknown options struct version";
    case MF_E_BAD_DATABASE: return "corrupt or foreign compiled database";
    case MF_E_DB_MISMATCH: return "compiled database built by another version or platform";
    case MF_E_TOO_LARGE: return "post larger than max_post_bytes";
    case MF_E_BUSY: return "scanner in use by another thread";
    case MF_E_NOT_FOUND: return "no such item";
    case MF_E_STATE_CORRUPT: return "state file truncated or corrupt";
    case MF_E_STATE_VERSION: return "state file from another format or fingerprint version";
    case MF_E_INTERNAL: return "internal error";
    default: return "unknown status code";
    }
}

const char *mf_last_error(void) { return t_last_error.c_str(); }

mf_status mf_engine_options_init(mf_engine_options *opts, uint32_t version) {
    if (!opts) return fail(MF_E_INVALID_ARG, "mf_engine_options_init: opts is NULL");
    if (version != MF_ENGINE_OPTIONS_VERSION)
        return fail(MF_E_VERSION, "mf_engine_options_init: unknown version " + std::to_string(version));
    mf_engine_options init = MF_ENGINE_OPTIONS_INIT;
    *opts = init;
    return MF_OK;
}

mf_status mf_engine_create(mf_engine **out, const mf_engine_options *opts) {
    if (!out) return fail(MF_E_INVALID_ARG, "mf_engine_create: out is NULL");
    *out = nullptr;
    return guard([&]() -> mf_status {
        mf::EngineOptions eo;
        mf_status st = MF_OK;
        if (!engine_options(opts, eo, st)) return st;
        std::vector<mf::Diagnostic> diags;
        mf::normalize_init();
        if (!opts || (!opts->rules_path && !opts->rules_text)) {
            if (auto e = load_default_engine(eo)) {
                *out = new mf_engine{std::move(e)};
                return MF_OK;
            }
        }
        mf::Sources src = sources_for(opts ? opts->rules_path : nullptr, opts ? opts->rules_text : nullptr,
                                      opts ? opts->rules_text_len : 0, diags);
        std::unique_ptr<mf::Engine> e;
        try {
            e = mf::Engine::compile(std::move(src), eo, diags);
        } catch (const mf::Error &err) {
            if (err.status == MF_E_RULES && !diags.empty()) return fail(MF_E_RULES, diagnostics_message(diags));
            throw;
        }
        *out = new mf_engine{std::move(e)};
        return MF_OK;
    });
}

void mf_engine_destroy(mf_engine *engine) { delete engine; }

size_t mf_engine_rule_count(const mf_engine *engine) { return engine ? engine->e->rules().size() : 0; }

uint64_t mf_engine_hash(const mf_engine *engine) {
    if (!engine) return 0;
    try {
        std::call_once(engine->hash_once, [engine] {
            engine->hash = engine->e->content_hash();
        });
    } catch (...) {
        return 0;
    }
    return engine->hash;
}

mf_status mf_engine_rule(const mf_engine *engine, size_t index, const char **id, const char **category,
                         int32_t *severity, double *score) {
    if (!engine) return fail(MF_E_INVALID_ARG, "mf_engine_rule: engine is NULL");
    if (index >= engine->e->rules().size())
        return fail(MF_E_NOT_FOUND, "mf_engine_rule: index " + std::to_string(index) + " is out of range");
    const mf::Rule &r = engine->e->rules()[index];
    if (id) *id = r.id.c_str();
    if (category) *category = r.category.c_str();
    if (severity) *severity = r.severity;
    if (score) *score = r.score;
    return MF_OK;
}

mf_status mf_scanner_create(mf_scanner **out, const mf_engine *engine) {
    if (!out) return fail(MF_E_INVALID_ARG, "mf_scanner_create: out is NULL");
    *out = nullptr;
    if (!engine) return fail(MF_E_INVALID_ARG, "mf_scanner_create: engine is NULL");
    return guard([&]() -> mf_status {
        *out = new mf_scanner(*engine->e);
        return MF_OK;
    });
}

void mf_scanner_destroy(mf_scanner *scanner) { delete scanner; }

mf_status mf_verdict_create(mf_verdict **out) {
    if (!out) return fail(MF_E_INVALID_ARG, "mf_verdict_create: out is NULL");
    *out = nullptr;
    return guard([&]() -> mf_status {
        *out = new mf_verdict{};
        return MF_OK;
    });
}

void mf_verdict_destroy(mf_verdict *verdict) { delete verdict; }

mf_status mf_post_init(mf_post *post, uint32_t version) {
    if (!post) return fail(MF_E_INVALID_ARG, "mf_post_init: post is NULL");
    if (version == 1) {  // the caller's struct is the version-1 layout: write only that much
        const PostV1 init{1, nullptr, 0, MF_ROLE_MEMBER, 0};
        std::memcpy(static_cast<void *>(post), &init, sizeof init);
        return MF_OK;
    }
    if (version != MF_POST_VERSION) return fail(MF_E_VERSION, "mf_post_init: unknown version " + std::to_string(version));
    mf_post init = MF_POST_INIT;
    *post = init;
    return MF_OK;
}

}  // extern "C"

// Helpers of the scan calls: C++ linkage (they take and return C++ types).
namespace {

// The post's who/where/when (version 2), or none (version 1, mf_scan_text).
mf::PostMeta post_meta(const mf_post *p) {
    mf::PostMeta m;
    if (p->version < 2) return m;
    auto sv = [](const char *s, size_t n) { return s ? std::string_view(s, n) : std::string_view(); };
    m.id = sv(p->id, p->id_len);
    m.author = sv(p->author_id, p->author_id_len);
    m.channel = sv(p->channel, p->channel_len);
    m.ts_ms = p->ts_ms;
    m.age_days = p->author_age_days;
    m.edit = p->edit == MF_POST_EDIT;
    return m;
}

// Checks the version-2 fields; an empty string when they are fine, else what is wrong.
std::string post_meta_error(const mf_post *p) {
    if (p->version < 2) return {};
    if ((!p->id && p->id_len) || (!p->author_id && p->author_id_len) || (!p->channel && p->channel_len))
        return "id, author_id or channel is NULL but its length is not 0";
    if (p->ts_ms < 0) return "ts_ms is negative (milliseconds since 1970, or 0 for now)";
    if (p->author_age_days < MF_AGE_UNKNOWN)
        return "author_age_days is " + std::to_string(p->author_age_days) + " (days >= 0, or MF_AGE_UNKNOWN)";
    if (p->edit != MF_POST_NEW && p->edit != MF_POST_EDIT)
        return "edit is " + std::to_string(p->edit) + " (MF_POST_NEW or MF_POST_EDIT)";
    return {};
}

// The checks of a post before it is scanned; MF_OK when it may be.
mf_status check_post(const char *text, size_t len, int32_t role, uint32_t flags, const mf_post *post) {
    if (!text && len) return fail(MF_E_INVALID_ARG, "text is NULL but len is not 0");
    if (role != MF_ROLE_MEMBER && role != MF_ROLE_STAFF)
        return fail(MF_E_INVALID_ARG, "author_role " + std::to_string(role) + " is not MF_ROLE_MEMBER or MF_ROLE_STAFF");
    if (flags & ~uint32_t(MF_SCAN_CENSOR)) return fail(MF_E_INVALID_ARG, "unknown scan flags");
    if (post) {
        std::string err = post_meta_error(post);
        if (!err.empty()) return fail(MF_E_INVALID_ARG, "mf_post: " + err);
    }
    return MF_OK;
}

// The state stage, after the scan of a post (the scanner's normalized() is that post's).
void apply_state(mf_scanner *scanner, const mf_post *post, mf::Verdict &v) {
    if (!scanner->state) return;
    mf::PostMeta meta;
    if (post) meta = post_meta(post);
    mf::apply_state(*scanner->state->store, scanner->s.engine().state_policy(), scanner->s.normalized(), meta,
                    scanner->state_scratch, v);
}

void clear_verdict(mf_verdict *out) {
    out->v.reset(nullptr);  // a failed scan leaves an empty verdict, never a stale one
    out->v.action = -1;
}

mf_status scan_one(mf_scanner *scanner, mf_verdict *out, const char *text, size_t len, int32_t role,
                   uint32_t flags, const mf_post *post = nullptr) {
    clear_verdict(out);
    if (mf_status st = check_post(text, len, role, flags, post); st != MF_OK) return st;
    return guard([&]() -> mf_status {
        scanner->s.scan(std::string_view(text ? text : "", len), role, flags, out->v);
        apply_state(scanner, post, out->v);
        return MF_OK;
    });
}

// Marks a scanner busy for one call; a second thread gets MF_E_BUSY instead of corrupting it.
struct BusyGuard {
    mf_scanner *s;
    bool ok;
    explicit BusyGuard(mf_scanner *sc) : s(sc), ok(!sc->s.busy.exchange(true, std::memory_order_acquire)) {}
    ~BusyGuard() {
        if (ok) s->s.busy.store(false, std::memory_order_release);
    }
};

}  // namespace

extern "C" {

mf_status mf_scan_text(mf_scanner *scanner, mf_verdict *out, const char *text, size_t len, int32_t role) {
    if (!scanner || !out) return fail(MF_E_INVALID_ARG, "mf_scan_text: scanner or verdict is NULL");
    BusyGuard g(scanner);
    if (!g.ok) return fail(MF_E_BUSY, "mf_scan_text: scanner is in use by another thread");
    return scan_one(scanner, out, text, len, role, 0);
}

mf_status mf_scan(mf_scanner *scanner, mf_verdict *out, const mf_post *post) {
    if (!scanner || !out || !post) return fail(MF_E_INVALID_ARG, "mf_scan: scanner, verdict or post is NULL");
    if (!post_size(post->version)) {
        out->v.reset(nullptr);
        out->v.action = -1;
        return fail(MF_E_VERSION, "mf_post.version is " + std::to_string(post->version) + ", expected 1 or " +
                                      std::to_string(MF_POST_VERSION));
    }
    BusyGuard g(scanner);
    if (!g.ok) return fail(MF_E_BUSY, "mf_scan: scanner is in use by another thread");
    return scan_one(scanner, out, post->text, post->len, post->author_role, post->flags, post);
}

mf_status mf_scan_batch(mf_scanner *scanner, mf_verdict *const *verdicts, const mf_post *posts, size_t n,
                        size_t *failed_index) {
    if (failed_index) *failed_index = 0;
    if (!scanner || (n && (!verdicts || !posts)))
        return fail(MF_E_INVALID_ARG, "mf_scan_batch: scanner, verdicts or posts is NULL");
    BusyGuard g(scanner);
    if (!g.ok) return fail(MF_E_BUSY, "mf_scan_batch: scanner is in use by another thread");
    // The stride is the size of the version the caller wrote in posts[0] (a 0.1.0 caller's array
    // holds version-1 structs); every post must carry that same version.
    const uint32_t version = n ? posts[0].version : MF_POST_VERSION;
    const size_t stride = post_size(version);
    const auto *base = reinterpret_cast<const unsigned char *>(posts);
    auto post_at = [&](size_t i) { return stride ? reinterpret_cast<const mf_post *>(base + i * stride) : posts; };
    // The posts up to the first that fails its checks go to the scanner together, which takes them
    // through its stages a few at a time (mf::Scanner::scan_batch): the same verdicts as one by one.
    std::vector<mf::Scanner::BatchPost> &batch = scanner->batch;
    batch.clear();
    mf_status st = MF_OK;
    size_t bad = n;
    for (size_t i = 0; i < n; ++i) {
        const mf_post *p = post_at(i);
        if (!verdicts[i]) st = fail(MF_E_INVALID_ARG, "mf_scan_batch: verdicts[" + std::to_string(i) + "] is NULL");
        else if (!stride || p->version != version)
            st = fail(MF_E_VERSION, "mf_scan_batch: posts[" + std::to_string(i) + "].version is " +
                                        std::to_string(stride ? p->version : version) + ", expected " +
                                        (i ? "posts[0].version (" + std::to_string(version) + ")"
                                           : "1 or " + std::to_string(MF_POST_VERSION)));
        else st = check_post(p->text, p->len, p->author_role, p->flags, p);
        if (st != MF_OK) {
            bad = i;
            break;
        }
        batch.push_back({std::string_view(p->text ? p->text : "", p->len), p->author_role, p->flags, &verdicts[i]->v});
    }
    std::string saved;  // the failed check's message, which the scan must not overwrite
    if (bad < n) saved = mf_last_error();
    std::exception_ptr error;
    size_t scanned = 0;
    try {
        scanned = scanner->s.scan_batch(
            batch.data(), batch.size(), [&](size_t i) { apply_state(scanner, post_at(i), verdicts[i]->v); }, &error);
    } catch (...) {
        error = std::current_exception();
    }
    if (scanned < batch.size()) {
        if (failed_index) *failed_index = scanned;
        clear_verdict(verdicts[scanned]);
        return guard([&]() -> mf_status { std::rethrow_exception(error); });
    }
    if (bad < n) {
        if (failed_index) *failed_index = bad;
        if (verdicts[bad]) clear_verdict(verdicts[bad]);
        return fail(st, saved);
    }
    if (failed_index) *failed_index = n;
    return MF_OK;
}

int32_t mf_verdict_action(const mf_verdict *v) { return v && v->v.engine ? v->v.action : -1; }
uint32_t mf_verdict_flags(const mf_verdict *v) { return v && v->v.engine ? v->v.flags : 0; }
uint32_t mf_verdict_evasion(const mf_verdict *v) { return v && v->v.engine ? v->v.evasion : 0; }
size_t mf_verdict_invalid_utf8_count(const mf_verdict *v) { return v && v->v.engine ? v->v.invalid_utf8 : 0; }
size_t mf_verdict_category_count(const mf_verdict *v) {
    return v && v->v.engine ? v->v.categories.size() + v->v.state.size() : 0;
}
size_t mf_verdict_hit_count(const mf_verdict *v) { return v && v->v.engine ? v->v.hits.size() : 0; }

mf_status mf_verdict_category(const mf_verdict *v, size_t index, const char **name, double *score,
                              int32_t *action, const char **route) {
    if (!v) return fail(MF_E_INVALID_ARG, "mf_verdict_category: verdict is NULL");
    if (!v->v.engine || index >= v->v.categories.size() + v->v.state.size())
        return fail(MF_E_NOT_FOUND, "mf_verdict_category: index " + std::to_string(index) + " is out of range");
    if (index >= v->v.categories.size()) {  // the state stage's categories come after the rules'
        const mf::StateFinding &f = v->v.state[index - v->v.categories.size()];
        if (name) *name = f.category;
        if (score) *score = f.score;
        if (action) *action = f.action;
        if (route) *route = v->v.state_route ? v->v.state_route->c_str() : "";
        return MF_OK;
    }
    const mf::CategoryScore &c = v->v.categories[index];
    const mf::CategoryInfo &ci = v->v.engine->categories()[c.category];
    if (name) *name = ci.name.c_str();
    if (score) *score = c.score;
    if (action) *action = c.action;
    if (route) *route = ci.route.c_str();
    return MF_OK;
}

mf_status mf_verdict_summaries(const mf_verdict *const *vs, size_t n, mf_verdict_summary *out) {
    if (!n) return MF_OK;
    if (!vs || !out) return fail(MF_E_INVALID_ARG, "mf_verdict_summaries: verdicts or out is NULL");
    if (out[0].version != MF_VERDICT_SUMMARY_VERSION)
        return fail(MF_E_VERSION, "mf_verdict_summary.version is " + std::to_string(out[0].version) +
                                      ", expected " + std::to_string(MF_VERDICT_SUMMARY_VERSION));
    for (size_t i = 0; i < n; ++i) {
        const mf_verdict *v = vs[i];
        mf_verdict_summary &o = out[i];
        o.version = MF_VERDICT_SUMMARY_VERSION;
        o.action = mf_verdict_action(v);
        o.flags = mf_verdict_flags(v);
        o.evasion = mf_verdict_evasion(v);
        o.hit_count = mf_verdict_hit_count(v);
        o.category_count = mf_verdict_category_count(v);
        o.invalid_utf8_count = mf_verdict_invalid_utf8_count(v);
    }
    return MF_OK;
}

mf_status mf_verdict_hit(const mf_verdict *v, size_t index, mf_hit *out) {
    if (!v || !out) return fail(MF_E_INVALID_ARG, "mf_verdict_hit: verdict or out is NULL");
    if (out->version != 1 && out->version != MF_HIT_VERSION)
        return fail(MF_E_VERSION, "mf_hit.version is " + std::to_string(out->version) + ", expected 1 or " +
                                      std::to_string(MF_HIT_VERSION));
    if (!v->v.engine || index >= v->v.hits.size())
        return fail(MF_E_NOT_FOUND, "mf_verdict_hit: index " + std::to_string(index) + " is out of range");
    const mf::HitRecord &h = v->v.hits[index];
    const mf::Rule &r = v->v.engine->rules()[h.rule];
    out->rule = r.id.c_str();
    out->category = r.category.c_str();
    out->severity = r.severity;
    out->score = r.score;
    out->start = h.start;
    out->end = h.end;
    out->evasion = h.evasion;
    if (out->version >= 2) out->flags = h.quoted ? MF_HIT_QUOTED : 0u;
    return MF_OK;
}

const char *mf_verdict_censored(const mf_verdict *v, size_t *len) {
    if (len) *len = 0;
    if (!v || !v->v.engine || !v->v.has_censored) return nullptr;
    if (len) *len = v->v.censored.size();
    return v->v.censored.c_str();
}

const char *mf_verdict_json(mf_verdict *v, size_t *len) {
    if (len) *len = 0;
    if (!v || !v->v.engine) {
        fail(MF_E_INVALID_ARG, "mf_verdict_json: verdict is NULL or holds no scan");
        return nullptr;
    }
    try {
        const std::string &j = v->v.render_json();
        if (len) *len = j.size();
        return j.c_str();
    } catch (...) {
        fail(MF_E_NOMEM, "mf_verdict_json: out of memory");
        return nullptr;
    }
}

const char *mf_action_name(int32_t a) { return mf::action_name(a); }
const char *mf_severity_name(int32_t s) { return mf::severity_name(s); }
const char *mf_evasion_name(uint32_t b) { return mf::evasion_name(b); }

mf_status mf_rules_check(size_t *n_errors, const char *rules_path, mf_diagnostic_cb cb, void *payload) {
    if (n_errors) *n_errors = 0;
    std::vector<mf::Diagnostic> diags, warnings;
    mf_status st = guard([&]() -> mf_status {
        mf::Sources src;
        if (rules_path) {
            if (!mf::read_sources(rules_path, src, diags)) return MF_E_IO;
        } else {
            src = mf::default_sources();
        }
        mf::normalize_init();
        std::unique_ptr<mf::Engine> e;
        try {
            e = mf::Engine::compile(std::move(src), mf::EngineOptions{}, diags);
        } catch (const mf::Error &err) {
            if (err.status != MF_E_RULES) throw;
            return MF_E_RULES;
        }
        e->check_examples(diags);
        warnings = e->warnings();
        if (e->rules().empty())
            warnings.push_back({rules_path ? rules_path : "", 0, "warning: the packs hold no rule, commitment or model: every post is allowed"});
        return diags.empty() ? MF_OK : MF_E_RULES;
    });
    std::stable_sort(diags.begin(), diags.end(), by_place);
    std::stable_sort(warnings.begin(), warnings.end(), by_place);
    for (const auto &d : diags)
        if (cb) cb(d.file.c_str(), d.line, d.message.c_str(), payload);
    for (const auto &d : warnings)
        if (cb) cb(d.file.c_str(), d.line, d.message.c_str(), payload);
    if (n_errors) *n_errors = diags.size();
    if (st == MF_E_RULES || st == MF_E_IO) {
        if (!diags.empty()) fail(st, diagnostics_message(diags));
    }
    return st;
}

mf_status mf_engine_serialize(char **out, size_t *len, const mf_engine *engine) {
    if (!out || !len || !engine) return fail(MF_E_INVALID_ARG, "mf_engine_serialize: out, len or engine is NULL");
    *out = nullptr;
    *len = 0;
    return guard([&]() -> mf_status {
        std::string s = engine->e->serialize();
        char *buf = static_cast<char *>(std::malloc(s.size() ? s.size() : 1));
        if (!buf) return fail(MF_E_NOMEM, "mf_engine_serialize: out of memory");
        std::memcpy(buf, s.data(), s.size());
        *out = buf;
        *len = s.size();
        return MF_OK;
    });
}

mf_status mf_engine_deserialize(mf_engine **out, const char *data, size_t len, const mf_engine_options *opts) {
    if (!out) return fail(MF_E_INVALID_ARG, "mf_engine_deserialize: out is NULL");
    *out = nullptr;
    if (!data && len) return fail(MF_E_INVALID_ARG, "mf_engine_deserialize: data is NULL");
    return guard([&]() -> mf_status {
        mf::EngineOptions eo;
        mf_status st = MF_OK;
        if (!engine_options(opts, eo, st)) return st;
        mf::normalize_init();
        auto e = mf::Engine::deserialize(std::string_view(data ? data : "", len), eo);
        *out = new mf_engine{std::move(e)};
        return MF_OK;
    });
}

void mf_free(void *ptr) { std::free(ptr); }

mf_status mf_state_options_init(mf_state_options *opts, uint32_t version) {
    if (!opts) return fail(MF_E_INVALID_ARG, "mf_state_options_init: opts is NULL");
    if (version != MF_STATE_OPTIONS_VERSION)
        return fail(MF_E_VERSION, "mf_state_options_init: unknown version " + std::to_string(version));
    mf_state_options init = MF_STATE_OPTIONS_INIT;
    *opts = init;
    return MF_OK;
}

mf_status mf_state_create(mf_state **out, const mf_state_options *opts) {
    if (!out) return fail(MF_E_INVALID_ARG, "mf_state_create: out is NULL");
    *out = nullptr;
    if (opts && opts->version != MF_STATE_OPTIONS_VERSION)
        return fail(MF_E_VERSION, "mf_state_options.version is " + std::to_string(opts->version) +
                                      ", this library knows version " + std::to_string(MF_STATE_OPTIONS_VERSION));
    uint64_t budget = opts && opts->memory_budget ? opts->memory_budget : mf::MemoryStore::kDefaultBudget;
    if (budget < mf::MemoryStore::kMinBudget)
        return fail(MF_E_INVALID_ARG, "mf_state_options.memory_budget is below 64 KiB");
    // A budget larger than the machine's memory is refused here: taken, it failed every scan later
    // with MF_E_NOMEM (a lookup table of a sixteenth of it is made at the first post).
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && page > 0 && budget / static_cast<uint64_t>(page) > static_cast<uint64_t>(pages))
        return fail(MF_E_INVALID_ARG, "mf_state_options.memory_budget (" + std::to_string(budget) +
                                          " bytes) is more than this machine's memory (" +
                                          std::to_string(static_cast<uint64_t>(pages) * static_cast<uint64_t>(page)) + " bytes)");
    return guard([&]() -> mf_status {
        *out = new mf_state{std::make_unique<mf::MemoryStore>(budget)};
        return MF_OK;
    });
}

void mf_state_destroy(mf_state *state) { delete state; }

mf_status mf_scanner_set_state(mf_scanner *scanner, mf_state *state) {
    if (!scanner) return fail(MF_E_INVALID_ARG, "mf_scanner_set_state: scanner is NULL");
    BusyGuard g(scanner);
    if (!g.ok) return fail(MF_E_BUSY, "mf_scanner_set_state: scanner is in use by another thread");
    scanner->state = state;
    return MF_OK;
}

mf_status mf_state_save(const mf_state *state, const char *path) {
    if (!state || !path) return fail(MF_E_INVALID_ARG, "mf_state_save: state or path is NULL");
    return guard([&]() -> mf_status {
        auto *mem = dynamic_cast<const mf::MemoryStore *>(state->store.get());
        if (!mem) return fail(MF_E_INVALID_ARG, "mf_state_save: this state's backend does not save to files");
        const std::string data = mem->serialize();
        // A temporary file of this process and call alone (two threads or processes saving to one
        // path each rename their own whole file: the last one wins, none fails), written through
        // and synced before the rename, so that a crash leaves the old file or the new one.
        // (random bytes in the name as well as the pid: containers all run as pid 1, and a save
        // killed halfway leaves its file, whose name a later process must not need)
        static std::atomic<uint64_t> saves{0};
        std::string tmp;
        int fd = -1;
        for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
            uint64_t r = 0;
            if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
                r = XXH3_64bits_withSeed(path, std::strlen(path), static_cast<uint64_t>(::time(nullptr)) ^ saves.load());
            char hex[17];
            std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(r));
            tmp = std::string(path) + ".tmp." + std::to_string(::getpid()) + "." +
                  std::to_string(saves.fetch_add(1, std::memory_order_relaxed)) + "." + hex;
            fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd < 0 && errno != EEXIST) break;
        }
        if (fd < 0) return fail(MF_E_IO, std::string("mf_state_save: cannot create ") + tmp + ": " + std::strerror(errno));
        bool ok = true;
        for (size_t done = 0; ok && done < data.size();) {
            const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
            if (w < 0 && errno == EINTR) continue;
            ok = w > 0;
            if (ok) done += static_cast<size_t>(w);
        }
        const int err = ok ? (::fsync(fd) == 0 ? 0 : errno) : errno;
        ::close(fd);
        if (!ok || err) {
            ::unlink(tmp.c_str());
            return fail(MF_E_IO, std::string("mf_state_save: cannot write ") + tmp + ": " + std::strerror(err ? err : EIO));
        }
        if (std::rename(tmp.c_str(), path) != 0) {
            const int e = errno;
            ::unlink(tmp.c_str());
            return fail(MF_E_IO, std::string("mf_state_save: cannot rename ") + tmp + " to " + path + ": " + std::strerror(e));
        }
        return MF_OK;
    });
}

mf_status mf_state_load(mf_state *state, const char *path) {
    if (!state || !path) return fail(MF_E_INVALID_ARG, "mf_state_load: state or path is NULL");
    return guard([&]() -> mf_status {
        auto *mem = dynamic_cast<mf::MemoryStore *>(state->store.get());
        if (!mem) return fail(MF_E_INVALID_ARG, "mf_state_load: this state's backend does not load files");
        struct stat st {};
        if (::stat(path, &st) == 0 && !S_ISREG(st.st_mode))
            return fail(MF_E_IO, std::string("mf_state_load: ") + path + " is not a file");
        std::ifstream f(path, std::ios::binary);
        if (!f) return fail(MF_E_IO, std::string("mf_state_load: cannot read ") + path);
        std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (f.bad()) return fail(MF_E_IO, std::string("mf_state_load: cannot read ") + path);
        try {
            mem->load(data);
        } catch (const mf::Error &e) {
            return fail(e.status, std::string(path) + ": " + e.message);
        }
        return MF_OK;
    });
}

mf_status mf_state_clear(mf_state *state) {
    if (!state) return fail(MF_E_INVALID_ARG, "mf_state_clear: state is NULL");
    return guard([&]() -> mf_status {
        state->store->clear();
        return MF_OK;
    });
}

mf_status mf_state_stats(const mf_state *state, uint64_t *used, uint64_t *budget, uint64_t *entries) {
    if (!state) return fail(MF_E_INVALID_ARG, "mf_state_stats: state is NULL");
    return guard([&]() -> mf_status {
        if (used) *used = state->store->memory_used();
        if (budget) *budget = state->store->memory_budget();
        if (entries) *entries = state->store->entries();
        return MF_OK;
    });
}

uint32_t mf_fingerprint_version(void) { return mf::kFingerprintVersion; }

namespace {

// The fingerprints of a text as the state computes them (normalized, then fingerprinted).
void fingerprint_text(const char *text, size_t len, mf::Fingerprint &fp) {
    mf::normalize_init();
    thread_local mf::Normalizer norm;
    thread_local mf::Fingerprinter fpr;
    norm.run(std::string_view(text ? text : "", len));
    fpr.run(std::string_view(norm.data(), norm.size()), fp);
}

}  // namespace

mf_status mf_fingerprint(uint64_t *exact, uint64_t *near, uint32_t *words, const char *text, size_t len) {
    if (!text && len) return fail(MF_E_INVALID_ARG, "mf_fingerprint: text is NULL but len is not 0");
    return guard([&]() -> mf_status {
        mf::Fingerprint fp;
        fingerprint_text(text, len, fp);
        if (exact) *exact = fp.exact;
        if (near) *near = fp.near;
        if (words) *words = fp.words;
        return MF_OK;
    });
}

mf_status mf_fingerprints_get(mf_fingerprints *out, const char *text, size_t len) {
    if (!out) return fail(MF_E_INVALID_ARG, "mf_fingerprints_get: out is NULL");
    if (!text && len) return fail(MF_E_INVALID_ARG, "mf_fingerprints_get: text is NULL but len is not 0");
    if (out->version != MF_FINGERPRINTS_VERSION)
        return fail(MF_E_VERSION, "mf_fingerprints_get: version " + std::to_string(out->version) + ", this library knows " +
                                      std::to_string(MF_FINGERPRINTS_VERSION));
    static_assert(MF_FINGERPRINT_ANCHORS == mf::kAnchors, "the header's anchors are the state's");
    return guard([&]() -> mf_status {
        mf::Fingerprint fp;
        fingerprint_text(text, len, fp);
        out->words = fp.words;
        out->links = fp.links;
        out->n_anchors = fp.n_anchors;
        out->exact = fp.exact;
        out->near = fp.near;
        for (int k = 0; k < mf::kAnchors; ++k) out->anchors[k] = k < static_cast<int>(fp.n_anchors) ? fp.anchors[k] : 0;
        return MF_OK;
    });
}

}  // extern "C"
