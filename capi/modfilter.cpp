// The C front door: the only extern "C" code. Every entry point checks its arguments, runs the core
// inside one exception guard, and turns what went wrong into a status code plus a thread-local message.
#include "modfilter/modfilter.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "../core/scanner.hpp"
#include "../core/version.hpp"

static_assert(MF_VERSION_NUMBER == mf::kVersionNumber, "header and library versions differ");
static_assert(MF_OK == mf::kOk && MF_E_INTERNAL == mf::kInternal && MF_E_BUSY == mf::kBusy, "status codes");
static_assert(MF_EVASION_MIXED_SCRIPT == mf::kEvMixedScript && MF_EVASION_LEET == mf::kEvLeet, "evasion bits");

struct mf_engine {
    std::unique_ptr<mf::Engine> e;
};
struct mf_scanner {
    mf::Scanner s;
    explicit mf_scanner(const mf::Engine &e) : s(e) {}
};
struct mf_verdict {
    mf::Verdict v;
};

namespace {

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

std::string diagnostics_message(const std::vector<mf::Diagnostic> &d) {
    std::string m = d.front().str();
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
            std::string_view(mf_default_engine_begin, static_cast<size_t>(mf_default_engine_end - mf_default_engine_begin)), eo);
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
    if (version != MF_POST_VERSION) return fail(MF_E_VERSION, "mf_post_init: unknown version " + std::to_string(version));
    mf_post init = MF_POST_INIT;
    *post = init;
    return MF_OK;
}

namespace {

mf_status scan_one(mf_scanner *scanner, mf_verdict *out, const char *text, size_t len, int32_t role,
                   uint32_t flags) {
    out->v.reset(nullptr);  // a failed scan leaves an empty verdict, never a stale one
    out->v.action = -1;
    if (!text && len) return fail(MF_E_INVALID_ARG, "text is NULL but len is not 0");
    if (role != MF_ROLE_MEMBER && role != MF_ROLE_STAFF)
        return fail(MF_E_INVALID_ARG, "author_role " + std::to_string(role) + " is not MF_ROLE_MEMBER or MF_ROLE_STAFF");
    if (flags & ~uint32_t(MF_SCAN_CENSOR)) return fail(MF_E_INVALID_ARG, "unknown scan flags");
    return guard([&]() -> mf_status {
        scanner->s.scan(std::string_view(text ? text : "", len), role, flags, out->v);
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

mf_status mf_scan_text(mf_scanner *scanner, mf_verdict *out, const char *text, size_t len, int32_t role) {
    if (!scanner || !out) return fail(MF_E_INVALID_ARG, "mf_scan_text: scanner or verdict is NULL");
    BusyGuard g(scanner);
    if (!g.ok) return fail(MF_E_BUSY, "mf_scan_text: scanner is in use by another thread");
    return scan_one(scanner, out, text, len, role, 0);
}

mf_status mf_scan(mf_scanner *scanner, mf_verdict *out, const mf_post *post) {
    if (!scanner || !out || !post) return fail(MF_E_INVALID_ARG, "mf_scan: scanner, verdict or post is NULL");
    if (post->version != MF_POST_VERSION) {
        out->v.reset(nullptr);
        out->v.action = -1;
        return fail(MF_E_VERSION, "mf_post.version is " + std::to_string(post->version) + ", expected " +
                                      std::to_string(MF_POST_VERSION));
    }
    BusyGuard g(scanner);
    if (!g.ok) return fail(MF_E_BUSY, "mf_scan: scanner is in use by another thread");
    return scan_one(scanner, out, post->text, post->len, post->author_role, post->flags);
}

mf_status mf_scan_batch(mf_scanner *scanner, mf_verdict *const *verdicts, const mf_post *posts, size_t n,
                        size_t *failed_index) {
    if (failed_index) *failed_index = 0;
    if (!scanner || (n && (!verdicts || !posts)))
        return fail(MF_E_INVALID_ARG, "mf_scan_batch: scanner, verdicts or posts is NULL");
    BusyGuard g(scanner);
    if (!g.ok) return fail(MF_E_BUSY, "mf_scan_batch: scanner is in use by another thread");
    for (size_t i = 0; i < n; ++i) {
        mf_status st;
        if (!verdicts[i]) st = fail(MF_E_INVALID_ARG, "mf_scan_batch: verdicts[" + std::to_string(i) + "] is NULL");
        else if (posts[i].version != MF_POST_VERSION)
            st = fail(MF_E_VERSION, "mf_scan_batch: posts[" + std::to_string(i) + "].version is unknown");
        else st = scan_one(scanner, verdicts[i], posts[i].text, posts[i].len, posts[i].author_role, posts[i].flags);
        if (st != MF_OK) {
            if (failed_index) *failed_index = i;
            return st;
        }
    }
    if (failed_index) *failed_index = n;
    return MF_OK;
}

int32_t mf_verdict_action(const mf_verdict *v) { return v && v->v.engine ? v->v.action : -1; }
uint32_t mf_verdict_flags(const mf_verdict *v) { return v && v->v.engine ? v->v.flags : 0; }
uint32_t mf_verdict_evasion(const mf_verdict *v) { return v && v->v.engine ? v->v.evasion : 0; }
size_t mf_verdict_invalid_utf8_count(const mf_verdict *v) { return v && v->v.engine ? v->v.invalid_utf8 : 0; }
size_t mf_verdict_category_count(const mf_verdict *v) { return v && v->v.engine ? v->v.categories.size() : 0; }
size_t mf_verdict_hit_count(const mf_verdict *v) { return v && v->v.engine ? v->v.hits.size() : 0; }

mf_status mf_verdict_category(const mf_verdict *v, size_t index, const char **name, double *score,
                              int32_t *action, const char **route) {
    if (!v) return fail(MF_E_INVALID_ARG, "mf_verdict_category: verdict is NULL");
    if (!v->v.engine || index >= v->v.categories.size())
        return fail(MF_E_NOT_FOUND, "mf_verdict_category: index " + std::to_string(index) + " is out of range");
    const mf::CategoryScore &c = v->v.categories[index];
    const mf::CategoryInfo &ci = v->v.engine->categories()[c.category];
    if (name) *name = ci.name.c_str();
    if (score) *score = c.score;
    if (action) *action = c.action;
    if (route) *route = ci.route.c_str();
    return MF_OK;
}

mf_status mf_verdict_hit(const mf_verdict *v, size_t index, mf_hit *out) {
    if (!v || !out) return fail(MF_E_INVALID_ARG, "mf_verdict_hit: verdict or out is NULL");
    if (out->version != MF_HIT_VERSION)
        return fail(MF_E_VERSION, "mf_hit.version is " + std::to_string(out->version) + ", expected " +
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
        return diags.empty() ? MF_OK : MF_E_RULES;
    });
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

}  // extern "C"
