'use strict';
// Engine, State, Verdict: the heart of the binding.
//
// Threads: JavaScript runs one thread per isolate. An Engine owns one C scanner and its verdicts,
// used only by synchronous calls on the thread that created it, which is what modfilter.h asks
// (a scanner belongs to one thread at a time). A worker_threads Worker builds its own Engine. There is
// no async scan: a 1 KB post takes about 15 us in C, less than handing it to a thread pool would.
//
// Memory: everything C allocates for an Engine or a State is freed by close(), or by a
// FinalizationRegistry when the object is garbage-collected without close().

const fs = require('node:fs');
const os = require('node:os');
const native = require('./native');
const errors = require('./errors');
const text = require('./text');

const { koffi, LAYOUT } = native;
const { STATUS, InvalidArgumentError, PostTooLargeError, errorFor } = errors;
const LE = os.endianness() === 'LE';
const TWO32 = 4294967296;

const ACTIONS = Object.freeze(['ALLOW', 'FLAG', 'HOLD', 'REJECT']);
const SEVERITIES = Object.freeze({ 1: 'low', 2: 'medium', 3: 'high', 4: 'critical' });
const ROLES = { member: 0, staff: 1, MEMBER: 0, STAFF: 1, 0: 0, 1: 1 };

/** Posts per mf_scan_batch call in scanMany. */
const DEFAULT_BATCH = 128;
/** The text arena starts at this size, and is given back when a huge post made it grow past SHRINK. */
const ARENA_START = 64 * 1024;
const ARENA_SHRINK = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// helpers

function fns() {
  return native.lib().fns;
}

function lastError(f, status) {
  return f.mf_last_error() || f.mf_status_str(status) || `status ${status}`;
}

/** Throws the error for a failed call, with mf_last_error() of this thread. */
function fail(f, status, what) {
  const msg = lastError(f, status);
  throw errorFor(status, what ? `${what}: ${msg}` : msg);
}

function invalid(message) {
  return new InvalidArgumentError(message, STATUS.INVALID_ARG);
}

function roleOf(role) {
  if (role === undefined || role === null) return 0;
  const r = ROLES[role];
  if (r === undefined) {
    const lower = typeof role === 'string' ? ROLES[role.toLowerCase()] : undefined;
    if (lower !== undefined) return lower;
    throw invalid(`role must be "member" or "staff", not ${JSON.stringify(role)}`);
  }
  return r;
}

function checkText(t, what = 'text') {
  if (typeof t === 'string' || t instanceof Uint8Array) return t;
  const got = t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t;
  throw invalid(`${what} must be a string, a Buffer or a Uint8Array, not ${got}`);
}

// Every options object the binding takes lists its keys here: an unknown key (a typo such as `rol`
// for `role`) is an InvalidArgumentError, never silently ignored.
const ENGINE_KEYS = Object.freeze(['flagThreshold', 'holdThreshold', 'rejectThreshold', 'maxPostBytes', 'maxHits']);
const NEW_ENGINE_KEYS = Object.freeze(['rules', 'rulesText', ...ENGINE_KEYS]);
const SCAN_KEYS = Object.freeze(['role', 'censor', 'id', 'author', 'channel', 'ts', 'ageDays', 'age_days', 'edit']);
const SCAN_MANY_KEYS = Object.freeze(['role', 'censor', 'batchSize', 'onError']);
const POST_KEYS = Object.freeze(['text', 'id', 'role', 'author_role', 'author', 'channel', 'ts', 'ageDays', 'age_days', 'edit']);
const AUTHOR_KEYS = Object.freeze(['id', 'role', 'ageDays', 'age_days']);
const STATE_KEYS = Object.freeze(['memoryBudget']);

/** Edit distance (Levenshtein), for "did you mean". */
function distance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

function closest(key, allowed) {
  const k = key.toLowerCase();
  let best = null;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = distance(k, a.toLowerCase());
    if (d < bestD) { best = a; bestD = d; }
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

/** Throws for the first own key of `obj` not in `allowed`, naming it, the closest allowed key and all of them. */
function checkKeys(obj, allowed, what) {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const near = closest(key, allowed);
    throw invalid(`unknown ${what} '${key}'${near ? ` (did you mean '${near}'?)` : ''}; allowed: ${allowed.join(', ')}`);
  }
}

/** A boolean option: true, false, or absent (undefined / null = false). */
function boolOption(v, what) {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalid(`${what} must be true or false, not ${JSON.stringify(v)}`);
  return v;
}

/** An options object: undefined / null (none) or a plain object with only the allowed keys. */
function optionsObject(opts, allowed, what) {
  if (opts === undefined || opts === null) return null;
  if (typeof opts !== 'object' || Array.isArray(opts)) throw invalid(`${what}s must be an object`);
  checkKeys(opts, allowed, what);
  return opts;
}

/** Names cached by address: rule ids, categories and routes live as long as the engine. */
function nameAt(cache, ptr) {
  if (!ptr) return '';
  let s = cache.get(ptr);
  if (s === undefined) {
    s = koffi.decode.string(ptr);
    cache.set(ptr, s);
  }
  return s;
}

const EVASION_NAMES = new Map(); // bits -> frozen array of names
function evasionNames(f, bits) {
  if (!bits) return [];
  let names = EVASION_NAMES.get(bits);
  if (!names) {
    names = [];
    for (let b = 1; b <= bits && b <= 0x80000000; b *= 2) if (bits & b) names.push(f.mf_evasion_name(b >>> 0));
    Object.freeze(names);
    EVASION_NAMES.set(bits, names);
  }
  return names.slice();
}

function u8view(ptr, size) {
  const ab = koffi.view(ptr, size);
  return { buf: Buffer.from(ab), dv: new DataView(ab) };
}

function copyOut(ptr, len) {
  if (!ptr || !len) return Buffer.alloc(0);
  return Buffer.from(Buffer.from(koffi.view(ptr, len))); // Buffer.from(Buffer) copies
}

function writePtr(dv, off, addr) {
  dv.setUint32(off, addr % TWO32, LE);
  dv.setUint32(off + 4, Math.floor(addr / TWO32), LE);
}

function readSize(dv, off) {
  return dv.getUint32(off, LE) + dv.getUint32(off + 4, LE) * TWO32;
}

// ---------------------------------------------------------------------------------------------
// options

function engineOptions(f, opts) {
  const o = {};
  const st = f.mf_engine_options_init(o, native.ENGINE_OPTIONS_VERSION);
  if (st) fail(f, st, 'initialising engine options');
  if (!optionsObject(opts, NEW_ENGINE_KEYS, 'engine option')) return o;
  if (opts.rulesText !== undefined && opts.rulesText !== null) {
    if (typeof opts.rulesText !== 'string') throw invalid('rulesText must be a string of TOML');
    o.rules_text = opts.rulesText;
    o.rules_text_len = Buffer.byteLength(opts.rulesText, 'utf8');
  } else if (opts.rules !== undefined && opts.rules !== null) {
    if (typeof opts.rules !== 'string' || !opts.rules) throw invalid('rules must be a path (a .toml file or a directory)');
    o.rules_path = opts.rules;
  }
  for (const [key, field] of [['flagThreshold', 'flag_threshold'], ['holdThreshold', 'hold_threshold'], ['rejectThreshold', 'reject_threshold']]) {
    const v = opts[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw invalid(`${key} must be a number >= 0, not ${v}`);
    o[field] = v;
  }
  if (opts.maxPostBytes !== undefined && opts.maxPostBytes !== null) {
    const v = opts.maxPostBytes;
    if (!Number.isInteger(v) || v <= 0) throw invalid(`maxPostBytes must be an integer > 0, not ${v}`);
    o.max_post_bytes = v;
  }
  if (opts.maxHits !== undefined && opts.maxHits !== null) {
    const v = opts.maxHits;
    if (!Number.isInteger(v) || v <= 0 || v > 0xffffffff) throw invalid(`maxHits must be an integer > 0, not ${v}`);
    o.max_hits = v;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// native lifetimes

/** How many engines and states hold C memory now (for the tests of close() and the registry). */
const live = { engines: 0, states: 0 };

// Layout of the per-engine scratch block (outputs of the accessors, one mf_post for mf_scan).
const FIX_HIT = 0; // mf_hit, 64 bytes
const FIX_CAT_NAME = 64;
const FIX_CAT_SCORE = 72;
const FIX_CAT_ACTION = 80;
const FIX_CAT_ROUTE = 88;
const FIX_LEN = 96;
const FIX_FAILED = 104;
const FIX_POST = 112; // mf_post version 2
const FIX_SIZE = FIX_POST + LAYOUT.post.size;

/** The C objects behind an Engine. Never references the Engine itself (see the registry). */
class EngineNative {
  constructor(f, enginePtr) {
    this.f = f;
    this.engine = enginePtr;
    this.scanner = null;
    this.verdict = null;
    this.pool = []; // verdicts for batches
    this.fixed = null;
    this.arena = null;
    this.arenaCap = 0;
    this.posts = null;
    this.postsCap = 0;
    this.vptrs = null;
    this.sums = null; // mf_verdict_summary per batch verdict
    this.sumsDv = null;
    this.state = null; // StateNative attached to the scanner
    this.names = new Map();
    try {
      const out = [null];
      let st = f.mf_scanner_create(out, enginePtr);
      if (st) fail(f, st, 'creating a scanner');
      this.scanner = out[0];
      st = f.mf_verdict_create(out);
      if (st) fail(f, st, 'creating a verdict');
      this.verdict = out[0];
      this.fixed = koffi.alloc('uint8_t', FIX_SIZE);
      const { buf, dv } = u8view(this.fixed, FIX_SIZE);
      buf.fill(0);
      this.fixedBuf = buf;
      this.fixedDv = dv;
      this.fixedPtr = this.fixed;
      dv.setUint32(FIX_HIT, native.HIT_VERSION, LE);
      this.pCatName = this.fixedPtr + BigInt(FIX_CAT_NAME);
      this.pCatScore = this.fixedPtr + BigInt(FIX_CAT_SCORE);
      this.pCatAction = this.fixedPtr + BigInt(FIX_CAT_ACTION);
      this.pCatRoute = this.fixedPtr + BigInt(FIX_CAT_ROUTE);
      this.pLen = this.fixedPtr + BigInt(FIX_LEN);
      this.pFailed = this.fixedPtr + BigInt(FIX_FAILED);
      this.pPost = this.fixedPtr + BigInt(FIX_POST);
      this.growArena(ARENA_START);
      live.engines++;
      this.counted = true;
    } catch (err) {
      this.release();
      throw err;
    }
  }

  growArena(need) {
    if (need <= this.arenaCap) return;
    let cap = Math.max(ARENA_START, this.arenaCap);
    while (cap < need) cap *= 2;
    this.setArena(cap);
  }

  setArena(cap) {
    const mem = koffi.alloc('uint8_t', cap);
    if (this.arena) koffi.free(this.arena);
    this.arena = mem;
    this.arenaCap = cap;
    this.arenaPtr = mem;
    this.arenaAddr = Number(this.arenaPtr);
    this.arenaBuf = Buffer.from(koffi.view(mem, cap));
  }

  shrinkArena() {
    if (this.arenaCap > ARENA_SHRINK) this.setArena(ARENA_START);
  }

  growBatch(n) {
    if (n <= this.postsCap) return;
    const f = this.f;
    const out = [null];
    while (this.pool.length < n) {
      const st = f.mf_verdict_create(out);
      if (st) fail(f, st, 'creating a verdict');
      this.pool.push(out[0]);
    }
    const posts = koffi.alloc('uint8_t', n * LAYOUT.post.size);
    const vptrs = koffi.alloc('uint8_t', n * 8);
    const sums = koffi.alloc('uint8_t', n * native.SUMMARY.size);
    if (this.posts) koffi.free(this.posts);
    if (this.vptrs) koffi.free(this.vptrs);
    if (this.sums) koffi.free(this.sums);
    this.posts = posts;
    this.vptrs = vptrs;
    this.sums = sums;
    this.sumsPtr = sums;
    this.sumsDv = u8view(sums, n * native.SUMMARY.size).dv;
    this.postsCap = n;
    this.postsPtr = posts;
    const pv = u8view(posts, n * LAYOUT.post.size);
    this.postsBuf = pv.buf;
    this.postsDv = pv.dv;
    this.vptrsPtr = vptrs;
    const vv = u8view(vptrs, n * 8);
    for (let i = 0; i < n; i++) writePtr(vv.dv, i * 8, Number(this.pool[i]));
  }

  attach(stateNative) {
    const f = this.f;
    const st = f.mf_scanner_set_state(this.scanner, stateNative ? stateNative.ptr : null);
    if (st) fail(f, st, 'attaching the state');
    if (this.state) this.state.detached();
    this.state = stateNative;
    if (stateNative) stateNative.attached++;
  }

  /** Frees everything, scanner before engine; safe to call twice and from the registry. */
  release() {
    const f = this.f;
    if (this.counted) {
      live.engines--;
      this.counted = false;
    }
    if (this.scanner) {
      f.mf_scanner_destroy(this.scanner);
      this.scanner = null;
    }
    if (this.state) {
      const s = this.state;
      this.state = null;
      s.detached();
    }
    if (this.verdict) f.mf_verdict_destroy(this.verdict);
    this.verdict = null;
    for (const v of this.pool) f.mf_verdict_destroy(v);
    this.pool = [];
    for (const k of ['fixed', 'arena', 'posts', 'vptrs', 'sums']) {
      if (this[k]) koffi.free(this[k]);
      this[k] = null;
    }
    this.arenaBuf = this.postsBuf = this.postsDv = this.fixedDv = this.fixedBuf = this.sumsDv = null;
    this.arenaCap = this.postsCap = 0;
    if (this.engine) f.mf_engine_destroy(this.engine);
    this.engine = null;
  }
}

/** The C state behind a State. Destroyed when its State is closed or collected and no engine has it. */
class StateNative {
  constructor(f, ptr) {
    this.f = f;
    this.ptr = ptr;
    this.attached = 0;
    this.orphaned = false;
    live.states++;
  }

  detached() {
    this.attached--;
    if (this.orphaned && this.attached <= 0) this.destroy();
  }

  destroy() {
    if (this.ptr) {
      this.f.mf_state_destroy(this.ptr);
      live.states--;
    }
    this.ptr = null;
  }
}

const engines = new FinalizationRegistry((h) => h.release());
const states = new FinalizationRegistry((h) => {
  h.orphaned = true;
  if (h.attached <= 0) h.destroy();
});

// ---------------------------------------------------------------------------------------------
// Verdict

/** The result of scanning one post: a plain object, independent of the engine. */
class Verdict {
  constructor() {
    /** "ALLOW" | "FLAG" | "HOLD" | "REJECT" */
    this.action = 'ALLOW';
    /** The action as MF_ACTION_* (0..3): compare severities with it. */
    this.actionCode = 0;
    /** { category: score } for every category with a non-zero score. */
    this.categories = {};
    /** Every such category with its own action and escalation route. */
    this.categoryDetails = [];
    /** Escalation routes ("legal", "hr", "pr", "support") of the categories, sorted, unique. */
    this.routes = [];
    /** Every hit, in order of start offset. */
    this.hits = [];
    /** Evasion techniques seen in the hits ("leet", "confusable", ...). */
    this.evasion = [];
    /** Invalid UTF-8 sequences in the post (each lone surrogate of a string counts as one). */
    this.invalidUtf8 = 0;
    /** More hits than the engine's maxHits: only the first are listed, all count in the scores. */
    this.hitsTruncated = false;
    /** With censor: the post with every character of every hit replaced by "*" (string or Buffer, like the post). */
    this.censored = null;
    /** The post's id, as given. */
    this.id = null;
    /** With a State attached: its evidence ({"spam.duplicate": {...}, "notes": [...]}); else null. */
    this.state = null;
  }
}

// sum: the offset of this verdict's mf_verdict_summary in h.sumsDv (scanMany reads them all in one
// call), or -1 to ask the verdict itself.
function readVerdict(h, v, input, byteLen, id, censor, sum = -1) {
  const f = h.f;
  const out = new Verdict();
  const S = native.SUMMARY;
  const sdv = h.sumsDv;
  const code = sum >= 0 ? sdv.getInt32(sum + S.action, LE) : f.mf_verdict_action(v);
  out.action = ACTIONS[code];
  out.actionCode = code;
  if (id !== undefined && id !== null) out.id = id;
  if (censor) {
    const p = f.mf_verdict_censored(v, h.pLen);
    const len = readSize(h.fixedDv, FIX_LEN);
    if (typeof input === 'string') out.censored = p && len ? Buffer.from(koffi.view(p, len)).toString('utf8') : '';
    else out.censored = copyOut(p, len);
  }
  if (h.state) {
    const j = f.mf_verdict_json(v, null);
    if (j) out.state = JSON.parse(koffi.decode.string(j)).state || null;
  }
  const flags = sum >= 0 ? sdv.getUint32(sum + S.flags, LE) : f.mf_verdict_flags(v);
  const nhits = sum >= 0 ? Number(sdv.getBigUint64(sum + S.hits, LE)) : f.mf_verdict_hit_count(v);
  if (!flags && !nhits && code === 0 && !out.state) return out; // the common case: nothing found
  if (flags & native.VERDICT_INVALID_UTF8) {
    out.invalidUtf8 = sum >= 0 ? Number(sdv.getBigUint64(sum + S.invalidUtf8, LE)) : f.mf_verdict_invalid_utf8_count(v);
  }
  out.hitsTruncated = (flags & native.VERDICT_HITS_TRUNCATED) !== 0;
  out.evasion = evasionNames(f, sum >= 0 ? sdv.getUint32(sum + S.evasion, LE) : f.mf_verdict_evasion(v));
  const dv = h.fixedDv;
  const names = h.names;
  // categories
  const ncat = f.mf_verdict_category_count(v);
  const routes = new Set();
  for (let i = 0; i < ncat; i++) {
    const st = f.mf_verdict_category(v, i, h.pCatName, h.pCatScore, h.pCatAction, h.pCatRoute);
    if (st) fail(f, st, 'reading a category');
    const name = nameAt(names, dv.getBigUint64(FIX_CAT_NAME, LE));
    const score = dv.getFloat64(FIX_CAT_SCORE, LE);
    const route = nameAt(names, dv.getBigUint64(FIX_CAT_ROUTE, LE));
    out.categories[name] = score;
    out.categoryDetails.push({ name, score, action: ACTIONS[dv.getInt32(FIX_CAT_ACTION, LE)], route });
    if (route) routes.add(route);
  }
  out.routes = [...routes].sort();
  if (!nhits) return out;
  // hits
  const L = LAYOUT.hit;
  const hits = new Array(nhits);
  for (let i = 0; i < nhits; i++) {
    const st = f.mf_verdict_hit(v, i, h.fixedPtr);
    if (st) fail(f, st, 'reading a hit');
    const start = readSize(dv, FIX_HIT + L.start);
    const end = readSize(dv, FIX_HIT + L.end);
    hits[i] = {
      rule: nameAt(names, dv.getBigUint64(FIX_HIT + L.rule, LE)),
      category: nameAt(names, dv.getBigUint64(FIX_HIT + L.category, LE)),
      severity: SEVERITIES[dv.getInt32(FIX_HIT + L.severity, LE)] || String(dv.getInt32(FIX_HIT + L.severity, LE)),
      score: dv.getFloat64(FIX_HIT + L.score, LE),
      start,
      end,
      byteStart: start,
      byteEnd: end,
      evasion: evasionNames(f, dv.getUint32(FIX_HIT + L.evasion, LE)),
      text: null,
      quoted: (dv.getUint32(FIX_HIT + L.flags, LE) & native.HIT_QUOTED) !== 0,
    };
  }
  if (typeof input === 'string') {
    if (byteLen !== input.length) { // not ASCII: UTF-8 offsets -> string indices
      const offs = new Set();
      for (const x of hits) { offs.add(x.byteStart); offs.add(x.byteEnd); }
      const m = text.byteToIndex(input, [...offs].sort((a, b) => a - b));
      for (const x of hits) { x.start = m.get(x.byteStart); x.end = m.get(x.byteEnd); }
    }
    for (const x of hits) x.text = input.slice(x.start, x.end);
  } else {
    for (const x of hits) x.text = Buffer.from(input.subarray(x.start, x.end));
  }
  out.hits = hits;
  return out;
}

// ---------------------------------------------------------------------------------------------
// posts: texts and who / where / when into C memory

const MAX_AGE = 0x7fffffff;

/** Who, where and when, checked: {id, author, channel, tsMs, age, edit} as bytes and numbers. */
function postMeta(o) {
  let tsMs = 0;
  if (o.ts !== undefined && o.ts !== null) {
    const t = o.ts instanceof Date ? o.ts.getTime() : o.ts;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw invalid(`ts must be a Date or milliseconds since 1970 (a number from 0), not ${o.ts}`);
    tsMs = Math.floor(t);
  }
  let age = native.AGE_UNKNOWN;
  const a = o.ageDays !== undefined ? o.ageDays : o.age_days;
  if (a !== undefined && a !== null) {
    if (typeof a !== 'number' || !(a >= 0) || !Number.isFinite(a)) throw invalid(`ageDays must be a number of days from 0, not ${a}`);
    age = Math.min(Math.floor(a), MAX_AGE);
  }
  const edit = o.edit === undefined || o.edit === null ? false : o.edit;
  if (typeof edit !== 'boolean') throw invalid(`edit must be true or false, not ${JSON.stringify(edit)}`);
  return {
    id: nameBytes(o.id, 'id'),
    author: nameBytes(o.author, 'author'),
    channel: nameBytes(o.channel, 'channel'),
    tsMs,
    age,
    edit: edit ? 1 : 0,
  };
}

function nameBytes(v, what) {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (typeof v === 'number' && Number.isFinite(v)) return Buffer.from(String(v), 'utf8');
  if (typeof v === 'bigint') return Buffer.from(v.toString(), 'utf8');
  if (v instanceof Uint8Array) return Buffer.from(v);
  throw invalid(`${what} must be a string or a number, not ${typeof v}`);
}

const META_KEYS = ['id', 'author', 'channel', 'ts', 'ageDays', 'age_days', 'edit'];
function hasMeta(o) {
  for (const k of META_KEYS) if (o[k] !== undefined && o[k] !== null && o[k] !== false) return true;
  return false;
}

const FFFD = Buffer.from([0xef, 0xbf, 0xbd]);

/** The most bytes `t` can take in the arena: a UTF-16 code unit is at most 3 bytes of UTF-8. */
function maxBytes(t) {
  return typeof t === 'string' ? t.length * 3 : t.byteLength;
}

/**
 * Writes a post's text at buf[off] and returns its length in bytes. Node encodes a string in one
 * pass; a lone surrogate comes out as U+FFFD there, so only a string whose bytes hold U+FFFD is
 * checked, and an ill-formed one is written again with one invalid byte per lone surrogate.
 */
function writeText(buf, off, t) {
  if (typeof t !== 'string') {
    buf.set(t, off);
    return t.byteLength;
  }
  const n = buf.write(t, off, 'utf8');
  if (n === t.length) return n; // ASCII
  // U+FFFD is EF BF BD: a search for the one byte (memchr) rules most posts out at once
  const bytes = buf.subarray(off, off + n);
  if (bytes.indexOf(0xef) !== -1 && bytes.indexOf(FFFD) !== -1 && !text.isWellFormed(t)) {
    return text.writeIllFormed(buf, off, t);
  }
  return n;
}

/** Writes one mf_post (version 2) at dv[off]; texts already in the arena at the given offsets. */
function writePost(h, dv, off, textOff, len, role, flags, meta, metaOff) {
  const P = LAYOUT.post;
  const base = h.arenaAddr;
  dv.setUint32(off + P.version, native.POST_VERSION, LE);
  writePtr(dv, off + P.text, base + textOff);
  writePtr(dv, off + P.len, len);
  dv.setInt32(off + P.author_role, role, LE);
  dv.setUint32(off + P.flags, flags, LE);
  dv.setInt32(off + P.author_age_days, meta ? meta.age : native.AGE_UNKNOWN, LE);
  if (!meta) return metaOff;
  let o = metaOff;
  for (const [field, b] of [['id', meta.id], ['author_id', meta.author], ['channel', meta.channel]]) {
    if (!b || !b.length) continue;
    h.arenaBuf.set(b, o);
    writePtr(dv, off + P[field], base + o);
    writePtr(dv, off + P[`${field}_len`], b.length);
    o += b.length;
  }
  writePtr(dv, off + P.ts_ms, meta.tsMs);
  dv.setUint32(off + P.edit, meta.edit, LE);
  return o;
}

function metaBytes(meta) {
  if (!meta) return 0;
  return (meta.id ? meta.id.length : 0) + (meta.author ? meta.author.length : 0) + (meta.channel ? meta.channel.length : 0);
}

// ---------------------------------------------------------------------------------------------
// Engine

class Engine {
  #h;
  #state = null;

  /**
   * Compiles rule packs: `options.rules` (a .toml file or a directory), `options.rulesText` (TOML),
   * or neither: the default packs built into the library. Other options: flagThreshold,
   * holdThreshold, rejectThreshold, maxPostBytes, maxHits.
   */
  constructor(options) {
    if (options === Engine.#fromNative) {
      this.#h = arguments[1]; // eslint-disable-line prefer-rest-params
    } else {
      const f = fns();
      const opts = engineOptions(f, options);
      const out = [null];
      const st = f.mf_engine_create(out, opts);
      if (st) fail(f, st);
      this.#h = new EngineNative(f, out[0]);
    }
    engines.register(this, this.#h, this);
  }

  static #fromNative = Symbol('fromNative');

  /** Compiles the rule packs in `path`: a .toml file or a directory searched recursively. */
  static fromRules(path, options) {
    if (typeof path !== 'string' || !path) throw invalid('fromRules needs a path: a .toml file or a directory');
    return new Engine({ ...(optionsObject(options, ENGINE_KEYS, 'engine option') || {}), rules: path });
  }

  /** Compiles one rule pack given as TOML text (mistakes are named "<memory>.toml:LINE"). */
  static fromText(toml, options) {
    if (typeof toml !== 'string') throw invalid('fromText needs the TOML as a string');
    return new Engine({ ...(optionsObject(options, ENGINE_KEYS, 'engine option') || {}), rulesText: toml });
  }

  /** Loads an engine from serialize() output: no compiling. Thresholds and limits may be overridden. */
  static fromBuffer(data, options) {
    if (!(data instanceof Uint8Array)) throw invalid('fromBuffer needs a Buffer or a Uint8Array');
    const f = fns();
    const opts = engineOptions(f, optionsObject(options, ENGINE_KEYS, 'engine option'));
    const out = [null];
    const st = f.mf_engine_deserialize(out, data.byteLength ? data : null, data.byteLength, opts);
    if (st) fail(f, st);
    return new Engine(Engine.#fromNative, new EngineNative(f, out[0]));
  }

  /** Loads a compiled database written by save() or `modfilter compile`. */
  static fromDatabase(path, options) {
    if (typeof path !== 'string' || !path) throw invalid('fromDatabase needs the path of a compiled database');
    optionsObject(options, ENGINE_KEYS, 'engine option');
    let data;
    try {
      data = fs.readFileSync(path);
    } catch (err) {
      throw errorFor(STATUS.IO, `${path}: ${err.message}`);
    }
    try {
      return Engine.fromBuffer(data, options);
    } catch (err) {
      if (err instanceof errors.ModfilterError) throw errorFor(err.status, `${path}: ${err.message}`);
      throw err;
    }
  }

  #live() {
    const h = this.#h;
    if (!h.engine) throw invalid('the engine is closed');
    return h;
  }

  /** The compiled engine as bytes, for fromBuffer (same library version and platform). */
  serialize() {
    const h = this.#live();
    const f = h.f;
    const out = [null];
    const len = [0];
    const st = f.mf_engine_serialize(out, len, h.engine);
    if (st) fail(f, st);
    try {
      return copyOut(out[0], Number(len[0]));
    } finally {
      f.mf_free(out[0]);
    }
  }

  /** Writes serialize() to `path`; fromDatabase reads it back without compiling. */
  save(path) {
    fs.writeFileSync(path, this.serialize());
  }

  /** Frees the engine, its scanner and verdicts now (else the garbage collector does). Idempotent. */
  close() {
    engines.unregister(this);
    this.#h.release();
    this.#state = null;
  }

  get closed() {
    return !this.#h.engine;
  }

  /** Number of rules compiled into the engine. */
  get ruleCount() {
    const h = this.#live();
    return h.f.mf_engine_rule_count(h.engine);
  }

  /** Every compiled rule: {id, category, severity, score}. */
  get rules() {
    const h = this.#live();
    const f = h.f;
    const n = f.mf_engine_rule_count(h.engine);
    const out = [];
    const id = [null];
    const cat = [null];
    const sev = [0];
    const score = [0];
    for (let i = 0; i < n; i++) {
      const st = f.mf_engine_rule(h.engine, i, id, cat, sev, score);
      if (st) fail(f, st);
      out.push({ id: id[0], category: cat[0], severity: SEVERITIES[sev[0]] || String(sev[0]), score: score[0] });
    }
    return out;
  }

  /** The State scans remember posts in (duplicates, floods, young accounts' links), or null. */
  get state() {
    return this.#state;
  }

  set state(value) {
    if (value !== null && value !== undefined && !(value instanceof State)) throw invalid('engine.state must be a modfilter State or null');
    const h = this.#live();
    const sn = value ? stateNative(value) : null;
    if (sn && !sn.ptr) throw invalid('that State is closed');
    if (sn === h.state) return;
    h.attach(sn);
    this.#state = value || null;
  }

  /**
   * Scans one post. `text` is a string (hit offsets are string indices, with byte offsets beside
   * them) or a Buffer / Uint8Array of UTF-8 (offsets are byte offsets; invalid bytes are accepted and
   * counted). Options: role ("member" | "staff"), censor, and who / where / when for a State: id,
   * author, channel, ts (a Date or milliseconds), ageDays, edit.
   */
  scan(input, options) {
    const h = this.#live();
    checkText(input);
    const f = h.f;
    const v = h.verdict;
    let role = 0;
    let censor = false;
    let meta = null;
    let id;
    if (optionsObject(options, SCAN_KEYS, 'scan option')) {
      role = roleOf(options.role);
      censor = boolOption(options.censor, 'censor');
      id = options.id;
      if (hasMeta(options)) meta = postMeta(options);
    }
    let byteLen;
    let st;
    if (!censor && !meta && typeof input !== 'string') {
      byteLen = input.byteLength;
      st = f.mf_scan_text(h.scanner, v, byteLen ? input : null, byteLen, role);
    } else {
      h.growArena(maxBytes(input) + metaBytes(meta));
      const len = writeText(h.arenaBuf, 0, input);
      byteLen = len;
      if (!censor && !meta) {
        st = f.mf_scan_text(h.scanner, v, h.arenaPtr, len, role);
      } else {
        const dv = h.fixedDv;
        h.fixedBuf.fill(0, FIX_POST, FIX_SIZE);
        writePost(h, dv, FIX_POST, 0, len, role, censor ? native.SCAN_CENSOR : 0, meta, len);
        st = f.mf_scan(h.scanner, v, h.pPost);
      }
    }
    if (st) {
      h.shrinkArena();
      fail(f, st);
    }
    const out = readVerdict(h, v, input, byteLen, id, censor);
    h.shrinkArena();
    return out;
  }

  /**
   * Scans many posts with one mf_scan_batch call per `batchSize` (default 128) and returns their
   * verdicts in input order. Each post is a string, a Buffer, or an object
   * {text, id, role, author: id | {id, role, ageDays}, channel, ts, ageDays, edit} (the CLI's JSON
   * lines work as they are, ts aside: JSON lines carry seconds, this binding milliseconds).
   * options: role (the default role), censor, batchSize, onError: "throw" (default) or "include"
   * (a post that cannot be scanned, or that the library refuses as larger than maxPostBytes, gets its
   * error object, with index and id, in its place). Unknown option keys and post fields are refused.
   */
  scanMany(posts, options) {
    const h = this.#live();
    if (posts === null || posts === undefined || typeof posts[Symbol.iterator] !== 'function' || typeof posts === 'string') {
      throw invalid('scanMany needs an array (or iterable) of posts');
    }
    const o = optionsObject(options, SCAN_MANY_KEYS, 'scanMany option') || {};
    const defaultRole = roleOf(o.role);
    const censor = boolOption(o.censor, 'censor');
    const batch = o.batchSize === undefined ? DEFAULT_BATCH : o.batchSize;
    if (!Number.isInteger(batch) || batch <= 0) throw invalid(`batchSize must be an integer > 0, not ${batch}`);
    const onError = o.onError === undefined ? 'throw' : o.onError;
    if (onError !== 'throw' && onError !== 'include') throw invalid('onError must be "throw" or "include"');
    const list = Array.isArray(posts) ? posts : Array.from(posts);
    const results = new Array(list.length);
    const flags = censor ? native.SCAN_CENSOR : 0;
    // One chunk of up to `batch` scannable posts at a time. A post that cannot be scanned (no text, a
    // wrong type, an unknown field) or that the library refuses (larger than maxPostBytes) is thrown,
    // or with onError "include" gets its error in its place; a refused post restarts the chunk just
    // after it.
    let next = 0;
    while (next < list.length) {
      const items = [];
      let bytes = 0;
      while (items.length < batch && next < list.length) {
        const index = next++;
        let it;
        try {
          it = normalizePost(list[index], defaultRole);
        } catch (err) {
          if (!(err instanceof InvalidArgumentError)) throw err;
          const perr = postError(err.status, err.message, index, postId(list[index]));
          if (onError === 'throw') {
            h.shrinkArena();
            throw perr;
          }
          results[index] = perr;
          continue;
        }
        it.index = index;
        bytes += maxBytes(it.input) + metaBytes(it.meta);
        items.push(it);
      }
      const n = items.length;
      if (!n) continue;
      h.growArena(bytes);
      h.growBatch(n);
      const buf = h.arenaBuf;
      const dv = h.postsDv;
      h.postsBuf.fill(0, 0, n * LAYOUT.post.size);
      let off = 0;
      for (let i = 0; i < n; i++) {
        const it = items[i];
        it.len = writeText(buf, off, it.input);
        const textOff = off;
        off += it.len;
        off = writePost(h, dv, i * LAYOUT.post.size, textOff, it.len, it.role, flags, it.meta, off);
      }
      const f = h.f;
      h.fixedDv.setUint32(FIX_FAILED, n, LE);
      h.fixedDv.setUint32(FIX_FAILED + 4, 0, LE);
      const st = f.mf_scan_batch(h.scanner, h.vptrsPtr, h.postsPtr, n, h.pFailed);
      const done = st ? readSize(h.fixedDv, FIX_FAILED) : n;
      const nread = Math.min(done, n);
      // every verdict's action, flags and counts in one call, when the library has it
      let sums = false;
      if (f.mf_verdict_summaries && nread) {
        h.sumsDv.setUint32(native.SUMMARY.version, native.SUMMARY_VERSION, LE);
        const sst = f.mf_verdict_summaries(h.vptrsPtr, nread, h.sumsPtr);
        if (sst) fail(f, sst, 'reading verdict summaries');
        sums = true;
      }
      for (let i = 0; i < nread; i++) {
        const it = items[i];
        results[it.index] = readVerdict(h, h.pool[i], it.input, it.len, it.id, censor, sums ? i * native.SUMMARY.size : -1);
      }
      if (!st) continue;
      const it = done < n ? items[done] : null;
      const index = it ? it.index : items[n - 1].index + 1;
      const err = postError(st, lastError(f, st), index, it ? it.id : undefined);
      // Only a post the library refuses (too large) is that post's own error; anything else (busy,
      // out of memory, a bug) is not tied to a post and is thrown.
      if (st !== STATUS.TOO_LARGE || !it || onError === 'throw') {
        h.shrinkArena();
        throw err;
      }
      results[index] = err;
      next = index + 1;
    }
    h.shrinkArena();
    return results;
  }
}

/** The error of post `index` in scanMany: "post 2 (id "x"): ...", with err.index and err.id. */
function postError(status, message, index, id) {
  const pid = id !== undefined && id !== null ? ` (id ${JSON.stringify(typeof id === 'bigint' ? id.toString() : id)})` : '';
  const err = errorFor(status, `post ${index}${pid}: ${message}`);
  err.index = index;
  err.id = id;
  return err;
}

/** The id of a post, as given, even of one that cannot be scanned (undefined when it has none). */
function postId(p) {
  return p !== null && typeof p === 'object' && !(p instanceof Uint8Array) ? p.id : undefined;
}

function normalizePost(p, defaultRole) {
  if (typeof p === 'string' || p instanceof Uint8Array) return { input: p, role: defaultRole, meta: null, id: undefined };
  if (p === null || typeof p !== 'object' || Array.isArray(p)) {
    const got = p === null ? 'null' : Array.isArray(p) ? 'an array' : typeof p;
    throw invalid(`a post is a string, a Buffer or an object with a "text", not ${got}`);
  }
  checkKeys(p, POST_KEYS, 'post field');
  if (p.text === undefined) throw invalid('an object post needs a "text"');
  const input = checkText(p.text, 'text');
  const author = p.author;
  let role = defaultRole;
  let r = p.role;
  let authorId = author;
  let age = p.ageDays !== undefined ? p.ageDays : p.age_days;
  if (author !== null && typeof author === 'object' && !(author instanceof Uint8Array)) {
    checkKeys(author, AUTHOR_KEYS, 'author field');
    if (r === undefined || r === null) r = author.role;
    authorId = author.id;
    if (age === undefined) age = author.ageDays !== undefined ? author.ageDays : author.age_days;
  }
  if (r === undefined || r === null) r = p.author_role;
  if (r !== undefined && r !== null) role = roleOf(r);
  const m = { id: p.id, author: authorId, channel: p.channel, ts: p.ts, ageDays: age, edit: p.edit };
  return { input, role, meta: hasMeta(m) ? postMeta(m) : null, id: p.id };
}

// ---------------------------------------------------------------------------------------------
// State

const STATE_NATIVE = new WeakMap();
function stateNative(s) {
  return STATE_NATIVE.get(s);
}

/**
 * What scans remember between posts: duplicates (spam.duplicate), floods (spam.flood) and young
 * accounts' links (spam.new-account-links). Attach it with `engine.state = state` and give posts
 * their id, author, channel, ts, ageDays and edit. Fixed memory budget (default 64 MiB).
 */
class State {
  constructor(options) {
    const f = fns();
    optionsObject(options, STATE_KEYS, 'State option');
    const budget = options && options.memoryBudget !== undefined ? options.memoryBudget : 0;
    if (!Number.isInteger(budget) || budget < 0) throw invalid(`memoryBudget must be a number of bytes, not ${budget}`);
    const out = [null];
    const st = f.mf_state_create(out, { version: native.STATE_OPTIONS_VERSION, memory_budget: budget });
    if (st) fail(f, st);
    const sn = new StateNative(f, out[0]);
    STATE_NATIVE.set(this, sn);
    states.register(this, sn, this);
  }

  /** A state read from a file written by save(). */
  static load(path, options) {
    const s = new State(options);
    try {
      s.loadInto(path);
    } catch (err) {
      s.close();
      throw err;
    }
    return s;
  }

  #live() {
    const sn = stateNative(this);
    if (!sn.ptr) throw invalid('this State is closed');
    return sn;
  }

  /** Replaces the contents with a saved file (unchanged when that fails). */
  loadInto(path) {
    const sn = this.#live();
    const st = sn.f.mf_state_load(sn.ptr, String(path));
    if (st) fail(sn.f, st);
  }

  /** Writes the state to `path` (through a temporary file and a rename). */
  save(path) {
    const sn = this.#live();
    const st = sn.f.mf_state_save(sn.ptr, String(path));
    if (st) fail(sn.f, st);
  }

  /** Forgets everything. */
  clear() {
    const sn = this.#live();
    const st = sn.f.mf_state_clear(sn.ptr);
    if (st) fail(sn.f, st);
  }

  /** {memoryUsed, memoryBudget, entries} */
  stats() {
    const sn = this.#live();
    const a = [0];
    const b = [0];
    const c = [0];
    const st = sn.f.mf_state_stats(sn.ptr, a, b, c);
    if (st) fail(sn.f, st);
    return { memoryUsed: Number(a[0]), memoryBudget: Number(b[0]), entries: Number(c[0]) };
  }

  /** Frees the state. Detach it from every engine first (engine.state = null). Idempotent. */
  close() {
    const sn = stateNative(this);
    if (!sn.ptr) return;
    if (sn.attached > 0) throw invalid('this State is still attached to an engine: set engine.state = null first');
    states.unregister(this);
    sn.destroy();
  }

  get closed() {
    return !stateNative(this).ptr;
  }
}

// ---------------------------------------------------------------------------------------------
// functions

/**
 * Lints rule packs without building an engine (like `modfilter check-rules`): a list of
 * {file, line, message}, empty when the packs are fine. Warnings come last, their message starting
 * with "warning: ". No path: the library's default packs.
 */
function checkRules(path) {
  const f = fns();
  const found = [];
  const n = [0];
  const cb = (file, line, message) => { found.push({ file: file || '', line, message: message || '' }); };
  const st = f.mf_rules_check(n, path === undefined || path === null ? null : String(path), cb, null);
  if (st && st !== STATUS.RULES) fail(f, st);
  return found;
}

/** The fingerprints a State keeps of a text: {exact, near} (64-bit BigInts) and its number of words. */
function fingerprint(input) {
  checkText(input);
  const f = fns();
  const data = typeof input === 'string' ? (text.isWellFormed(input) ? Buffer.from(input, 'utf8') : (() => {
    const b = Buffer.alloc(text.byteLengthIllFormed(input));
    text.writeIllFormed(b, 0, input);
    return b;
  })()) : input;
  const exact = [0n];
  const near = [0n];
  const words = [0];
  const st = f.mf_fingerprint(exact, near, words, data.byteLength ? data : null, data.byteLength);
  if (st) fail(f, st);
  return { exact: BigInt(exact[0]), near: BigInt(near[0]), words: words[0] };
}

function libraryPath() {
  return native.lib().path;
}

function libraryVersion() {
  return native.lib().fns.mf_version();
}

module.exports = { Engine, State, Verdict, checkRules, fingerprint, libraryPath, libraryVersion, ACTIONS, live };
