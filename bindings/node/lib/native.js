'use strict';
// Loading libmodfilter and declaring its C functions (private). Everything goes through koffi, whose
// prebuilt binary comes inside its npm package: no compiler is needed at install time.
//
// Pointers are BigInts in koffi 3. Handles (engine, scanner, verdict) are passed back as they came;
// structs the binding fills in bulk (mf_post arrays, mf_hit) live in memory from koffi.alloc and are
// written through a DataView, with their offsets taken from koffi's own struct layout.

const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');

const ENV_VAR = 'MODFILTER_LIBRARY';
/** Major version of the C ABI this binding understands (the SONAME carries it). */
const ABI_MAJOR = 0;
/** The oldest library version (MF_VERSION_NUMBER) whose ABI this binding was written against. */
const ABI_VERSION_MIN = 100; // 0.1.0

const EngineOptions = koffi.struct('mf_engine_options', {
  version: 'uint32_t',
  rules_path: 'const char *',
  rules_text: 'const char *',
  rules_text_len: 'size_t',
  flag_threshold: 'double',
  hold_threshold: 'double',
  reject_threshold: 'double',
  max_post_bytes: 'uint64_t',
  max_hits: 'uint32_t',
});

// mf_post version 2 (version 1's fields, then who, where and when). Declared for its layout only:
// the binding writes posts into its own memory (see engine.js) and passes a pointer.
const Post = koffi.struct('mf_post', {
  version: 'uint32_t',
  text: 'void *',
  len: 'size_t',
  author_role: 'int32_t',
  flags: 'uint32_t',
  id: 'void *',
  id_len: 'size_t',
  author_id: 'void *',
  author_id_len: 'size_t',
  channel: 'void *',
  channel_len: 'size_t',
  ts_ms: 'int64_t',
  author_age_days: 'int32_t',
  edit: 'uint32_t',
});

const Hit = koffi.struct('mf_hit', {
  version: 'uint32_t',
  rule: 'void *',
  category: 'void *',
  severity: 'int32_t',
  score: 'double',
  start: 'size_t',
  end: 'size_t',
  evasion: 'uint32_t',
  flags: 'uint32_t', // since version 2: MF_HIT_QUOTED
});

const StateOptions = koffi.struct('mf_state_options', {
  version: 'uint32_t',
  memory_budget: 'uint64_t',
});

koffi.proto('void mf_diagnostic_cb(const char *file, uint32_t line, const char *message, void *payload)');

const offsets = (type) => Object.fromEntries(Object.keys(type.members).map((k) => [k, koffi.offsetof(type, k)]));

const LAYOUT = {
  post: { size: koffi.sizeof(Post), ...offsets(Post) },
  hit: { size: koffi.sizeof(Hit), ...offsets(Hit) },
};

const PROTOTYPES = [
  'const char *mf_version(void)',
  'uint32_t mf_version_number(void)',
  'const char *mf_status_str(int32_t status)',
  'const char *mf_last_error(void)',
  'int32_t mf_engine_options_init(_Out_ mf_engine_options *opts, uint32_t version)',
  'int32_t mf_engine_create(_Out_ void **out, const mf_engine_options *opts)',
  'void mf_engine_destroy(void *engine)',
  'size_t mf_engine_rule_count(void *engine)',
  'int32_t mf_engine_rule(void *engine, size_t index, _Out_ const char **id, _Out_ const char **category, _Out_ int32_t *severity, _Out_ double *score)',
  'int32_t mf_scanner_create(_Out_ void **out, void *engine)',
  'void mf_scanner_destroy(void *scanner)',
  'int32_t mf_verdict_create(_Out_ void **out)',
  'void mf_verdict_destroy(void *verdict)',
  'int32_t mf_scan_text(void *scanner, void *verdict, const void *text, size_t len, int32_t role)',
  'int32_t mf_scan(void *scanner, void *verdict, const void *post)',
  'int32_t mf_verdict_action(void *verdict)',
  'uint32_t mf_verdict_flags(void *verdict)',
  'uint32_t mf_verdict_evasion(void *verdict)',
  'size_t mf_verdict_invalid_utf8_count(void *verdict)',
  'size_t mf_verdict_category_count(void *verdict)',
  // outputs go to the binding's scratch memory (void *): see engine.js
  'int32_t mf_verdict_category(void *verdict, size_t index, void *name, void *score, void *action, void *route)',
  'size_t mf_verdict_hit_count(void *verdict)',
  'int32_t mf_verdict_hit(void *verdict, size_t index, void *out)',
  'void *mf_verdict_censored(void *verdict, void *len)',
  'void *mf_verdict_json(void *verdict, void *len)',
  'const char *mf_action_name(int32_t action)',
  'const char *mf_severity_name(int32_t severity)',
  'const char *mf_evasion_name(uint32_t bit)',
  'int32_t mf_scan_batch(void *scanner, void *verdicts, void *posts, size_t n, void *failed_index)',
  'int32_t mf_rules_check(_Out_ size_t *n_errors, const char *rules_path, mf_diagnostic_cb *cb, void *payload)',
  'int32_t mf_engine_serialize(_Out_ void **out, _Out_ size_t *len, void *engine)',
  'int32_t mf_engine_deserialize(_Out_ void **out, const void *data, size_t len, const mf_engine_options *opts)',
  'void mf_free(void *ptr)',
  'int32_t mf_state_create(_Out_ void **out, const mf_state_options *opts)',
  'void mf_state_destroy(void *state)',
  'int32_t mf_scanner_set_state(void *scanner, void *state)',
  'int32_t mf_state_save(void *state, const char *path)',
  'int32_t mf_state_load(void *state, const char *path)',
  'int32_t mf_state_clear(void *state)',
  'int32_t mf_state_stats(void *state, _Out_ uint64_t *used, _Out_ uint64_t *budget, _Out_ uint64_t *entries)',
  'uint32_t mf_fingerprint_version(void)',
  'int32_t mf_fingerprint(_Out_ uint64_t *exact, _Out_ uint64_t *near, _Out_ uint32_t *words, const void *text, size_t len)',
];

// Functions a library of an older 0.x may lack: null in fns when missing, and the binding does
// without them.
const OPTIONAL_PROTOTYPES = [
  'int32_t mf_verdict_summaries(void *verdicts, size_t n, void *out)',
];

/** libmodfilter could not be located or loaded; the message lists every place that was tried. */
class LibraryNotFoundError extends Error {
  constructor(message, tried) {
    super(message);
    this.name = 'LibraryNotFoundError';
    this.code = 'MF_LIBRARY_NOT_FOUND';
    /** Every candidate, with why it was refused. */
    this.tried = tried;
  }
}

/** Where to look for the shared library, in order (README: "Finding libmodfilter"). */
function candidates() {
  const env = process.env[ENV_VAR];
  if (env) return [env]; // explicit: only this one, so a typo is an error rather than a silent fallback
  const darwin = process.platform === 'darwin';
  const soname = darwin ? `libmodfilter.${ABI_MAJOR}.dylib` : `libmodfilter.so.${ABI_MAJOR}`;
  const plain = darwin ? 'libmodfilter.dylib' : 'libmodfilter.so';
  const out = [soname]; // the dynamic loader's own search: LD_LIBRARY_PATH, ld.so.cache, rpath
  for (const dir of ['/usr/local/lib', '/usr/lib', `/usr/lib/${process.arch === 'x64' ? 'x86_64' : process.arch}-linux-gnu`]) {
    out.push(path.join(dir, soname));
  }
  // The build tree, when this package runs from the repository checkout (bindings/node/lib -> root).
  const root = path.resolve(__dirname, '..', '..', '..');
  for (const build of ['build', 'build-node']) {
    const lib = path.join(root, build, 'capi', plain);
    if (fs.existsSync(lib)) out.push(lib);
  }
  return out;
}

let loaded = null;

// koffi runs every synchronous call on a C stack of its own, 2 MiB by default: compiling rule packs
// (Hyperscan) and scanning get the 8 MiB a thread has by default, as they would called from C.
const STACK = 8 * 1024 * 1024;
function configureStack() {
  try {
    const cfg = koffi.config();
    if (cfg.sync_stack_size < STACK) koffi.config({ ...cfg, sync_stack_size: STACK });
  } catch (_) {
    // another module already made calls through koffi: its settings stay
  }
}

/** The loaded library and its functions (loaded on first use, so require() itself never fails). */
function lib() {
  if (loaded) return loaded;
  configureStack();
  const tried = [];
  for (const cand of candidates()) {
    let handle;
    try {
      handle = koffi.load(cand);
    } catch (err) {
      tried.push(`${cand} (${String(err.message || err).split('\n')[0]})`);
      continue;
    }
    const fns = {};
    try {
      for (const proto of PROTOTYPES) {
        const fn = handle.func(proto);
        fns[proto.match(/(mf_\w+)\(/)[1]] = fn;
      }
    } catch (err) {
      tried.push(`${cand} (not a modfilter library: ${String(err.message || err).split('\n')[0]})`);
      continue;
    }
    for (const proto of OPTIONAL_PROTOTYPES) {
      const name = proto.match(/(mf_\w+)\(/)[1];
      try {
        fns[name] = handle.func(proto);
      } catch (_) {
        fns[name] = null;
      }
    }
    const number = fns.mf_version_number();
    if (number < ABI_VERSION_MIN || Math.floor(number / 10000) !== ABI_MAJOR) {
      tried.push(`${cand} (version ${fns.mf_version()}; this binding needs ${ABI_MAJOR}.x >= 0.1.0)`);
      continue;
    }
    loaded = { fns, path: cand, handle };
    return loaded;
  }
  throw new LibraryNotFoundError(
    'libmodfilter not found. Build it (cmake -S . -B build && cmake --build build), install it ' +
      `(cmake --install build), or set ${ENV_VAR} to the library's path. Tried: ${tried.join('; ') || 'nothing'}`,
    tried,
  );
}

module.exports = {
  koffi,
  lib,
  LibraryNotFoundError,
  LAYOUT,
  ENV_VAR,
  ENGINE_OPTIONS_VERSION: 1,
  POST_VERSION: 2,
  HIT_VERSION: 2,
  HIT_QUOTED: 0x1,
  // mf_verdict_summary: version, action, flags, evasion (4 x 32 bits), then hit_count,
  // category_count, invalid_utf8_count (3 x 64 bits)
  SUMMARY_VERSION: 1,
  SUMMARY: { size: 40, version: 0, action: 4, flags: 8, evasion: 12, hits: 16, categories: 24, invalidUtf8: 32 },
  STATE_OPTIONS_VERSION: 1,
  SCAN_CENSOR: 0x1,
  VERDICT_INVALID_UTF8: 0x1,
  VERDICT_HITS_TRUNCATED: 0x2,
  AGE_UNKNOWN: -1,
};
