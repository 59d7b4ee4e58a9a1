/*
 * modfilter.h -- the public C interface of modfilter, an embedded moderation filter.
 *
 * modfilter scans a forum post and returns a verdict: an action (allow, flag, hold for review,
 * reject), the score per category behind it, and every hit with its rule and its half-open byte span
 * [start, end) in the caller's original text.
 *
 * The interface goes from simple to advanced:
 *   1. version and status codes;
 *   2. engine: rule packs compiled once, immutable, shared by all threads;
 *   3. scanner: per-thread scratch space, reused across posts;
 *   4. verdict: the result of a scan, reused across posts;
 *   5. batch scanning, JSON rendering, rule-pack linting;
 *   6. compiled databases (save / load);
 *   7. state: duplicates, floods and young accounts' links across posts (save / load).
 *
 * Conventions (all since 0.1.0):
 *   - Names are mf_object_verb; macros and constants start with MF_.
 *   - Functions that can fail return mf_status: MF_OK (0) or a negative MF_E_* code. The numbers never
 *     change between releases. mf_last_error() gives a human-readable message for the last failure
 *     on the calling thread; it explains, it never decides: branch on the status code.
 *   - Output parameters come first.
 *   - Text is always a pointer plus a length in bytes, UTF-8, never assumed to be NUL-terminated.
 *     Invalid UTF-8 is accepted: such bytes are replaced by U+FFFD for matching and reported in the
 *     verdict, and offsets still refer to the caller's original bytes.
 *   - Every *_destroy function accepts NULL.
 *   - Options structs start with a `version` member. Initialise them with the *_INIT macro (C) or the
 *     *_init() function (FFI); an unknown version is rejected with MF_E_VERSION, never misread.
 *   - No C++ exception ever crosses this interface.
 *
 * Threads: an mf_engine is immutable after creation and may be shared by any number of threads.
 * A scanner and a verdict belong to one thread at a time. Using one scanner from two threads at once
 * is detected and the second call fails with MF_E_BUSY (nothing is corrupted).
 */
#ifndef MODFILTER_H
#define MODFILTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define MF_API __declspec(dllimport)
#elif defined(__GNUC__)
#define MF_API __attribute__((visibility("default")))
#else
#define MF_API
#endif

/* ===================================================================================== */
/* 1. Version and status                                                                  */
/* ===================================================================================== */

#define MF_VERSION_MAJOR 0
#define MF_VERSION_MINOR 1
#define MF_VERSION_PATCH 0
/** The header's version as one number: major * 10000 + minor * 100 + patch. */
#define MF_VERSION_NUMBER (MF_VERSION_MAJOR * 10000 + MF_VERSION_MINOR * 100 + MF_VERSION_PATCH)

/** The library's version as "major.minor.patch" (static string). Compare with the header's. */
MF_API const char *mf_version(void);
/** The library's version number, as MF_VERSION_NUMBER. */
MF_API uint32_t mf_version_number(void);

typedef int32_t mf_status;

#define MF_OK 0
#define MF_E_INVALID_ARG (-1)   /* a NULL where a pointer is required, or an out-of-range value */
#define MF_E_NOMEM (-2)         /* an allocation failed */
#define MF_E_RULES (-3)         /* a rule pack is wrong: mf_last_error() says file:line: what */
#define MF_E_IO (-4)            /* a file or directory could not be read or written */
#define MF_E_VERSION (-5)       /* an options struct carries a version this library does not know */
#define MF_E_BAD_DATABASE (-6)  /* a compiled database is corrupt or not a modfilter database */
#define MF_E_DB_MISMATCH (-7)   /* a compiled database was built by another version or platform */
#define MF_E_TOO_LARGE (-8)     /* a post is larger than the engine's max_post_bytes */
#define MF_E_BUSY (-9)          /* a scanner is already in use by another thread */
#define MF_E_NOT_FOUND (-10)    /* an index or name that does not exist */
#define MF_E_STATE_CORRUPT (-11) /* a state file is truncated, corrupt or not a modfilter state file */
#define MF_E_STATE_VERSION (-12) /* a state file was written with another format or fingerprint version */
#define MF_E_INTERNAL (-99)     /* a bug in modfilter: please report it with mf_last_error() */

/** A short static description of a status code ("invalid argument", ...). Never NULL. */
MF_API const char *mf_status_str(mf_status status);

/** The message of the last failing call on this thread (static until the next failing call on this
 *  thread). Empty string, never NULL, when nothing has failed yet. */
MF_API const char *mf_last_error(void);

/* ===================================================================================== */
/* 2. Engine: compiled rule packs                                                          */
/* ===================================================================================== */

/** The author's role. Promise rules apply to staff by default; abuse and spam rules to everyone. */
#define MF_ROLE_MEMBER 0 /* a customer or community member */
#define MF_ROLE_STAFF 1  /* an employee or community manager speaking for the company */

/** Actions, in increasing order of severity. */
#define MF_ACTION_ALLOW 0  /* publish */
#define MF_ACTION_FLAG 1   /* publish, tell moderators */
#define MF_ACTION_HOLD 2   /* queue for human review before publishing */
#define MF_ACTION_REJECT 3 /* do not publish */

/** Severities of rules and hits. */
#define MF_SEVERITY_LOW 1
#define MF_SEVERITY_MEDIUM 2
#define MF_SEVERITY_HIGH 3
#define MF_SEVERITY_CRITICAL 4

typedef struct mf_engine mf_engine;

#define MF_ENGINE_OPTIONS_VERSION 1
typedef struct mf_engine_options {
    uint32_t version;        /* MF_ENGINE_OPTIONS_VERSION */
    /** A rule-pack file (*.toml: a file of another name is refused with MF_E_IO) or a directory of
     *  them (searched recursively for *.toml). NULL: the default packs built into the library (the
     *  same files installed under share/modfilter). */
    const char *rules_path;
    /** Rule-pack TOML held in memory, used instead of rules_path when not NULL. Diagnostics name
     *  it "<memory>.toml" (for example "<memory>.toml:3: unknown key ..."). */
    const char *rules_text;
    size_t rules_text_len;
    /** Global thresholds on a category's score; a negative value keeps the packs' policy
     *  (defaults: flag 2, hold 4, reject 8). With the packs' values they replace, they must satisfy
     *  flag <= hold <= reject, as in policy.toml; otherwise engine creation fails with
     *  MF_E_INVALID_ARG. */
    double flag_threshold;
    double hold_threshold;
    double reject_threshold;
    /** Largest post accepted, in bytes; 0 = default (16 MiB). At most 1 GiB. */
    uint64_t max_post_bytes;
    /** Most hits recorded per post; later hits still count towards scores. 0 = default (1024). */
    uint32_t max_hits;
} mf_engine_options;

#define MF_ENGINE_OPTIONS_INIT {MF_ENGINE_OPTIONS_VERSION, NULL, NULL, 0, -1.0, -1.0, -1.0, 0, 0}
/** Initialises *opts to MF_ENGINE_OPTIONS_INIT. `version` must be MF_ENGINE_OPTIONS_VERSION. */
MF_API mf_status mf_engine_options_init(mf_engine_options *opts, uint32_t version);

/** Compiles rule packs into a new engine. opts may be NULL (default packs, default policy).
 *  On MF_E_RULES, mf_last_error() holds "file:line: message" for the first mistake and how many
 *  more there were; no engine is built from a pack with mistakes. *out is NULL on failure. */
MF_API mf_status mf_engine_create(mf_engine **out, const mf_engine_options *opts);

/** Frees an engine. Every scanner created from it must have been destroyed first, and verdicts
 *  scanned with it must not be read afterwards (they may be scanned into again with another
 *  engine's scanner). NULL is a no-op. */
MF_API void mf_engine_destroy(mf_engine *engine);

/** The engine's database version: a 64-bit hash (XXH3) of its serialized database, with the pack
 *  files' paths taken relative to the directory they stand in, and of the options given to the
 *  engine that change a verdict (thresholds, max_post_bytes, max_hits). Engines with the same hash
 *  judge every post alike; the same pack files (names and contents) give the same hash wherever
 *  they were read from, and whether compiled from rules or loaded with mf_engine_deserialize.
 *  Computed on the first call (as long as one mf_engine_serialize), then cached; thread-safe. 0 for
 *  NULL or when it cannot be computed.
 *
 *  Swapping engines at run time (hot reload): create the new engine and its scanners beside the
 *  old ones, switch to them between scans, then destroy the old scanners and the old engine once
 *  no scan with them is running. Verdicts may be scanned into again with the new engine's scanner;
 *  strings read from them before the swap must be copied first.
 *  (mf_engine_hash is in the MODFILTER_0_RELOAD symbol version: only added, nothing changed.) */
MF_API uint64_t mf_engine_hash(const mf_engine *engine);

/** Number of rules compiled into the engine (0 for NULL). */
MF_API size_t mf_engine_rule_count(const mf_engine *engine);

/** Describes rule number `index` (0 <= index < mf_engine_rule_count). Strings are owned by the
 *  engine and live as long as it. Any output pointer may be NULL. */
MF_API mf_status mf_engine_rule(const mf_engine *engine, size_t index, const char **id,
                                const char **category, int32_t *severity, double *score);

/* ===================================================================================== */
/* 3. Scanner and 4. verdict                                                               */
/* ===================================================================================== */

typedef struct mf_scanner mf_scanner;
typedef struct mf_verdict mf_verdict;

/** Creates a scanner (per-thread scratch space) for an engine. The engine must outlive it. */
MF_API mf_status mf_scanner_create(mf_scanner **out, const mf_engine *engine);
MF_API void mf_scanner_destroy(mf_scanner *scanner);

/** Creates an empty, reusable verdict. A scan overwrites it; its buffers are kept, so scanning into
 *  the same verdict again allocates nothing in the steady state. */
MF_API mf_status mf_verdict_create(mf_verdict **out);
MF_API void mf_verdict_destroy(mf_verdict *verdict);

/** Scan flags (mf_post.flags). */
#define MF_SCAN_CENSOR 0x1u /* also produce a censored copy of the post (mf_verdict_censored) */

/** Edit flag (mf_post.edit). */
#define MF_POST_NEW 0  /* a new post */
#define MF_POST_EDIT 1 /* a new version of an earlier post with the same id (never counted as a new post) */

/** An unknown account age (mf_post.author_age_days). */
#define MF_AGE_UNKNOWN (-1)

/** The post struct's current version. Version 1 ends at `flags`; a caller built against
 *  0.1.0 keeps working unchanged (see mf_scan_batch for arrays). */
#define MF_POST_VERSION 2
/** One post to scan. Who wrote it, where and when are read only by a scan with a state attached
 *  (mf_scanner_set_state): without one, the verdict depends on text, role and flags alone.
 *  Strings are pointer plus length, not NUL-terminated, any bytes; NULL with length 0 means "none". */
typedef struct mf_post {
    uint32_t version;    /* MF_POST_VERSION (or 1: the layout up to `flags`) */
    const char *text;    /* UTF-8 (invalid bytes tolerated), not NUL-terminated; NULL only if len 0 */
    size_t len;          /* length of text in bytes */
    int32_t author_role; /* MF_ROLE_* */
    uint32_t flags;      /* MF_SCAN_* */
    /* ---- since mf_post version 2 ---- */
    const char *id;          /* the post's id in the caller's system (reported as evidence), or NULL */
    size_t id_len;
    const char *author_id;   /* the author's id; NULL: anonymous, per-author rules do not apply */
    size_t author_id_len;
    const char *channel;     /* forum, thread or category the post is in, or NULL */
    size_t channel_len;
    int64_t ts_ms;           /* when it was posted, milliseconds since 1970-01-01 UTC; 0: now */
    int32_t author_age_days; /* the author's account age in days, or MF_AGE_UNKNOWN */
    uint32_t edit;           /* MF_POST_NEW or MF_POST_EDIT */
} mf_post;

#define MF_POST_INIT {MF_POST_VERSION, NULL, 0, MF_ROLE_MEMBER, 0, NULL, 0, NULL, 0, NULL, 0, 0, MF_AGE_UNKNOWN, MF_POST_NEW}
/** Initialises *post to MF_POST_INIT. `version` must be MF_POST_VERSION (or 1, which fills the
 *  version-1 fields only: pass a pointer to a version-1 struct then). */
MF_API mf_status mf_post_init(mf_post *post, uint32_t version);

/** Scans one post into *out. The simplest call: role MF_ROLE_MEMBER or MF_ROLE_STAFF, no flags. */
MF_API mf_status mf_scan_text(mf_scanner *scanner, mf_verdict *out, const char *text, size_t len,
                              int32_t author_role);

/** Scans one post described by *post into *out. */
MF_API mf_status mf_scan(mf_scanner *scanner, mf_verdict *out, const mf_post *post);

/** Verdict flags (mf_verdict_flags). */
#define MF_VERDICT_INVALID_UTF8 0x1u   /* the post had invalid UTF-8 bytes (see invalid_utf8_count) */
#define MF_VERDICT_HITS_TRUNCATED 0x2u /* more than max_hits hits: only the first are listed */

/** Evasion techniques seen in the spans of hits (mf_verdict_evasion, mf_hit.evasion). */
#define MF_EVASION_COMPAT 0x01u       /* fullwidth, mathematical, circled, ligature... letters */
#define MF_EVASION_CONFUSABLE 0x02u   /* look-alike letters from another script */
#define MF_EVASION_INVISIBLE 0x04u    /* zero-width, soft hyphen, bidi controls, variation selectors */
#define MF_EVASION_COMBINING 0x08u    /* combining marks stacked on letters */
#define MF_EVASION_LEET 0x10u         /* digits or symbols standing for letters */
#define MF_EVASION_SEPARATORS 0x20u   /* letters spaced out or split by punctuation */
#define MF_EVASION_REPEATS 0x40u      /* letters repeated to stretch a word */
#define MF_EVASION_MIXED_SCRIPT 0x80u /* one word written in letters of two scripts */

/** The action of the verdict (MF_ACTION_*), or -1 for NULL or a verdict never scanned into. */
MF_API int32_t mf_verdict_action(const mf_verdict *verdict);
/** MF_VERDICT_* bits. */
MF_API uint32_t mf_verdict_flags(const mf_verdict *verdict);
/** MF_EVASION_* bits: union over all hits. */
MF_API uint32_t mf_verdict_evasion(const mf_verdict *verdict);
/** Number of invalid UTF-8 sequences replaced for matching. */
MF_API size_t mf_verdict_invalid_utf8_count(const mf_verdict *verdict);

/** Number of categories with a non-zero score. */
MF_API size_t mf_verdict_category_count(const mf_verdict *verdict);
/** Category number `index`: its dotted name, summed score, the action its score alone reaches, and
 *  its escalation route ("legal", "hr", "pr", "support" or "" for none). Strings live as long as the
 *  engine. Any output pointer may be NULL. */
MF_API mf_status mf_verdict_category(const mf_verdict *verdict, size_t index, const char **name,
                                     double *score, int32_t *action, const char **route);

/** One hit: a rule that matched, and where. Version 2 adds `flags`; a caller that sets version 1
 *  (built against 0.1.0) gets the version 1 fields only, and nothing past them is written. */
#define MF_HIT_VERSION 2
/** mf_hit.flags: the hit lies in text the post quotes ("> " lines, [quote]...[/quote],
 *  <blockquote>...</blockquote>): its rule counted for [policy] quoted_weight of its score when
 *  none of its hits was outside a quote, the rule is not critical, and the post had two words or
 *  more of its own outside its quotes. */
#define MF_HIT_QUOTED 0x1u
typedef struct mf_hit {
    uint32_t version;     /* MF_HIT_VERSION, set by the caller */
    const char *rule;     /* rule id, lives as long as the engine */
    const char *category; /* dotted category, lives as long as the engine */
    int32_t severity;     /* MF_SEVERITY_* */
    double score;         /* the rule's score */
    size_t start;         /* half-open byte span [start, end) in the original post */
    size_t end;
    uint32_t evasion;     /* MF_EVASION_* bits seen inside this span */
    /* ---- since mf_hit version 2 ---- */
    uint32_t flags;       /* MF_HIT_* bits */
} mf_hit;
#define MF_HIT_INIT {MF_HIT_VERSION, NULL, NULL, 0, 0.0, 0, 0, 0, 0}

/** Number of hits listed (at most the engine's max_hits), in order of start offset. */
MF_API size_t mf_verdict_hit_count(const mf_verdict *verdict);
/** Copies hit number `index` into *out (out->version must be 1 or MF_HIT_VERSION). */
MF_API mf_status mf_verdict_hit(const mf_verdict *verdict, size_t index, mf_hit *out);

/** What a verdict holds, read in one call for many verdicts: for bindings that go through an FFI,
 *  where each call costs more than what it reads: a clean post then costs no call of its own.
 *  (Symbol version MODFILTER_0_SUMMARY.) */
#define MF_VERDICT_SUMMARY_VERSION 1
typedef struct mf_verdict_summary {
    uint32_t version;            /* MF_VERDICT_SUMMARY_VERSION, set by the caller in out[0] */
    int32_t action;              /* mf_verdict_action */
    uint32_t flags;              /* mf_verdict_flags */
    uint32_t evasion;            /* mf_verdict_evasion */
    uint64_t hit_count;          /* mf_verdict_hit_count */
    uint64_t category_count;     /* mf_verdict_category_count */
    uint64_t invalid_utf8_count; /* mf_verdict_invalid_utf8_count */
} mf_verdict_summary;
/** Fills out[i] for verdicts[i], i < n (out[0].version must be MF_VERDICT_SUMMARY_VERSION; every
 *  element gets it). A NULL verdict, or one never scanned into, reads as action -1 and zeros. */
MF_API mf_status mf_verdict_summaries(const mf_verdict *const *verdicts, size_t n, mf_verdict_summary *out);

/** The censored copy of the post (each code point of each hit replaced by '*', but CR and LF), when the scan had
 *  MF_SCAN_CENSOR; NULL otherwise. Owned by the verdict, valid until its next scan. NUL-terminated;
 *  *len (if not NULL) receives its length. */
MF_API const char *mf_verdict_censored(const mf_verdict *verdict, size_t *len);

/** Renders the verdict as one JSON object (no newline):
 *  {"action":"FLAG","categories":{"abuse.obscene":2},"routes":[...],"hits":[{"rule":..,"category":..,
 *   "severity":"medium","score":2,"start":0,"end":4,"evasion":[...][,"quoted":true]}],"evasion":[...],
 *   "invalid_utf8":0,"hits_truncated":false[,"censored":"..."][,"state":{...}]}
 *  "quoted" marks a hit in quoted text (MF_HIT_QUOTED); "state" is there when the scanner has a state
 *  attached (mf_scanner_set_state): its categories' evidence and notes (docs/state.md).
 *  Owned by the verdict, valid until its next scan or render. NUL-terminated; *len gets the length.
 *  Convenient for FFI bindings: one call, then the host language's JSON parser. */
MF_API const char *mf_verdict_json(mf_verdict *verdict, size_t *len);

/** Names for the constants above ("ALLOW", "medium", "leet", ...); "" for an unknown value. */
MF_API const char *mf_action_name(int32_t action);
MF_API const char *mf_severity_name(int32_t severity);
MF_API const char *mf_evasion_name(uint32_t evasion_bit);

/* ===================================================================================== */
/* 5. Batches and rule-pack linting                                                        */
/* ===================================================================================== */

/** Scans n posts: verdicts[i] receives the verdict for posts[i]. Stops at the first post that fails
 *  (for example MF_E_TOO_LARGE) and returns its status; *failed_index (if not NULL) receives its
 *  index, or n when all succeeded. When the call fails before any post (a NULL argument, MF_E_BUSY),
 *  *failed_index is 0 and no verdict was touched. The failed post's verdict is left empty (action
 *  -1); the verdicts of the posts after it are not touched. One call for many posts is what makes
 *  FFI bindings fast, and it is faster inside too: the scanner takes a few posts at a time through
 *  each stage in turn, so that each stage's tables stay in the cache. The verdicts (and, with a
 *  state attached, the state's view of them) are those of the same posts scanned one by one.
 *  The array's element size follows posts[0].version: version 1 steps by the version-1 struct's
 *  size (what a caller built against 0.1.0 passes), version 2 by sizeof(mf_post). Every post in
 *  one array must carry the same version; one that does not fails with MF_E_VERSION. */
MF_API mf_status mf_scan_batch(mf_scanner *scanner, mf_verdict *const *verdicts,
                               const mf_post *posts, size_t n, size_t *failed_index);

/** Called once per mistake found by mf_rules_check: file, line (1-based, 0 when unknown) and message. */
typedef void (*mf_diagnostic_cb)(const char *file, uint32_t line, const char *message, void *payload);

/** Lints rule packs (a file or a directory; NULL: the built-in default packs): parses them,
 *  compiles every pattern and runs every rule's `match` / `no_match` examples. Reports each mistake
 *  through cb (may be NULL) and returns MF_OK when there is none, MF_E_RULES when there are some;
 *  *n_errors (if not NULL) receives their number. Warnings (a message starting with "warning: ",
 *  such as a regex with no literal that runs on every post) are reported through cb too, after the
 *  mistakes; they are not counted and do not change the status. */
MF_API mf_status mf_rules_check(size_t *n_errors, const char *rules_path, mf_diagnostic_cb cb,
                                void *payload);

/* ===================================================================================== */
/* 6. Compiled databases                                                                   */
/* ===================================================================================== */

/** Serialises a compiled engine into a malloc'd buffer (*out, *len): free it with mf_free.
 *  The database carries magic, format version, library version, Hyperscan version, platform,
 *  Unicode version and a checksum. */
MF_API mf_status mf_engine_serialize(char **out, size_t *len, const mf_engine *engine);
/** Loads an engine from mf_engine_serialize output. MF_E_BAD_DATABASE when corrupt,
 *  MF_E_DB_MISMATCH when it was built for another version or platform. opts may be NULL; its
 *  rules_* fields are ignored, its limits and thresholds apply. */
MF_API mf_status mf_engine_deserialize(mf_engine **out, const char *data, size_t len,
                                       const mf_engine_options *opts);
/** Frees memory returned by modfilter. NULL is a no-op. */
MF_API void mf_free(void *ptr);

/* ===================================================================================== */
/* 7. State: what no single post shows                                                    */
/* ===================================================================================== */

/* A state remembers recent posts so that a scan can see spam that no single post shows:
 *   spam.duplicate          the same or nearly the same text again (from anyone, anywhere) within a
 *                           window: case, punctuation, evasion tricks, a changed word, a URL's query
 *                           string or the order of lines do not make a text new;
 *   spam.flood              one author posting faster than a limit;
 *   spam.new-account-links  links from an account younger than N days.
 * Thresholds and windows come from the engine's policy ([state] in policy.toml, per channel).
 * A state is owned by the caller, independent of any engine, and shared by any number of threads
 * and scanners (every call on it is thread-safe). It keeps a fixed memory budget: the least recently
 * seen entries are forgotten first. docs/state.md explains the fingerprints and thresholds. */

typedef struct mf_state mf_state;

#define MF_STATE_OPTIONS_VERSION 1
typedef struct mf_state_options {
    uint32_t version;       /* MF_STATE_OPTIONS_VERSION */
    uint64_t memory_budget; /* bytes; 0 = default (64 MiB); at least 64 KiB, at most the machine's memory (else MF_E_INVALID_ARG) */
} mf_state_options;
#define MF_STATE_OPTIONS_INIT {MF_STATE_OPTIONS_VERSION, 0}
/** Initialises *opts to MF_STATE_OPTIONS_INIT. */
MF_API mf_status mf_state_options_init(mf_state_options *opts, uint32_t version);

/** Creates an empty state. opts may be NULL (defaults). */
MF_API mf_status mf_state_create(mf_state **out, const mf_state_options *opts);
/** Frees a state. No scanner may have it attached any more. NULL is a no-op. */
MF_API void mf_state_destroy(mf_state *state);

/** Attaches a state to a scanner (NULL detaches): every later scan with this scanner fingerprints the
 *  post, records it in the state (its author, channel, time and edit flag from mf_post version 2) and
 *  adds the state's categories, with their evidence, to the verdict. Without a state a verdict is
 *  exactly what it would be without this feature. The state must outlive the attachment. */
MF_API mf_status mf_scanner_set_state(mf_scanner *scanner, mf_state *state);

/** Writes the state to a file (written to "path.tmp" and renamed, so a crash never leaves half a
 *  file). The file starts with magic, format version, fingerprint algorithm version and platform,
 *  and ends with a checksum. */
MF_API mf_status mf_state_save(const mf_state *state, const char *path);
/** Replaces the state's contents with a saved file. MF_E_IO when it cannot be read,
 *  MF_E_STATE_CORRUPT when it is truncated or corrupt, MF_E_STATE_VERSION when another format or
 *  fingerprint version wrote it; on any failure the state is left as it was. Entries beyond this
 *  state's budget are dropped, least recently seen first. */
MF_API mf_status mf_state_load(mf_state *state, const char *path);
/** Forgets everything. */
MF_API mf_status mf_state_clear(mf_state *state);
/** The memory the state's entries take (an estimate that includes its indexes), its budget, and its
 *  number of entries. Any output pointer may be NULL. */
MF_API mf_status mf_state_stats(const mf_state *state, uint64_t *memory_used, uint64_t *memory_budget,
                                uint64_t *entries);

/** The fingerprint algorithm's version (recorded in state files). */
MF_API uint32_t mf_fingerprint_version(void);
/** The fingerprints of a text, as the state computes them: *exact (a 64-bit xxHash of its normalized
 *  words) and *near (a 64-bit SimHash; nearly the same texts differ in few bits). *words receives
 *  the number of words outside quotes. Any output pointer may be NULL. */
MF_API mf_status mf_fingerprint(uint64_t *exact, uint64_t *near, uint32_t *words, const char *text, size_t len);

/** Everything the state keeps of a text, for a store outside the library (the worker's shared
 *  duplicates in Redis, docs/worker.md): mf_fingerprint's three values, the links outside quotes,
 *  and the lookup keys that find nearly the same texts (the smallest hashes of the word triples;
 *  two texts that share one are compared by the SimHash distance of `near`). Since 0.1
 *  (symbol version MODFILTER_0_FPRINTS). */
#define MF_FINGERPRINTS_VERSION 1
#define MF_FINGERPRINT_ANCHORS 4
typedef struct mf_fingerprints {
    uint32_t version;   /* MF_FINGERPRINTS_VERSION: set by the caller */
    uint32_t words;     /* words outside quotes */
    uint32_t links;     /* links outside quotes */
    uint32_t n_anchors; /* how many of anchors[] are set (0 for a text of no words) */
    uint64_t exact;     /* as mf_fingerprint: 0 for a text of no words */
    uint64_t near;      /* as mf_fingerprint */
    uint64_t anchors[MF_FINGERPRINT_ANCHORS];
} mf_fingerprints;
/** Fills *out (whose version the caller set to MF_FINGERPRINTS_VERSION) with the fingerprints of a
 *  text. MF_E_VERSION when out->version is not one this library knows. */
MF_API mf_status mf_fingerprints_get(mf_fingerprints *out, const char *text, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* MODFILTER_H */
