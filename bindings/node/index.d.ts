// Type definitions for modfilter, the Node.js binding of libmodfilter's C ABI.

/** "ALLOW" < "FLAG" < "HOLD" < "REJECT": what to do with a post. */
export type Action = 'ALLOW' | 'FLAG' | 'HOLD' | 'REJECT';
export type Severity = 'low' | 'medium' | 'high' | 'critical';
/** Promise rules usually apply to staff only; abuse and spam rules to everyone. 0 = member, 1 = staff. */
export type Role = 'member' | 'staff' | 'MEMBER' | 'STAFF' | 0 | 1;
/** "compat", "confusable", "invisible", "combining", "leet", "separators", "repeats", "mixed_script" */
export type Evasion = string;
/** A post's text: a string, or UTF-8 bytes (invalid bytes are accepted and counted). */
export type Text = string | Buffer | Uint8Array;

export const ACTIONS: readonly ['ALLOW', 'FLAG', 'HOLD', 'REJECT'];

export interface Hit {
  /** The rule's id, "harassment.you-are-noun". */
  rule: string;
  /** Its dotted category, "abuse.harassment". */
  category: string;
  severity: Severity;
  score: number;
  /** Half-open span [start, end) in what was scanned: string indices (UTF-16 code units) for a
   *  string, byte offsets for a Buffer, so that text.slice(start, end) is the hit. */
  start: number;
  end: number;
  /** The same span in UTF-8 bytes, as the C library reports it. */
  byteStart: number;
  byteEnd: number;
  evasion: Evasion[];
  /** The hit's text: a string for a string post, a Buffer (a copy) for bytes. */
  text: string | Buffer;
  /** In text the post quotes ("> " lines, [quote], <blockquote>): its rule counted for the policy's
   *  quoted_weight of its score when none of its hits was outside a quote. */
  quoted: boolean;
}

export interface CategoryDetail {
  name: string;
  score: number;
  /** The action this category's score alone reaches. */
  action: Action;
  /** Its escalation route: "legal", "hr", "pr", "support", or "" for none. */
  route: string;
}

/** The result of a scan: plain data, independent of the engine (JSON.stringify works). */
export class Verdict {
  action: Action;
  /** The action as a number, MF_ACTION_*: 0 ALLOW, 1 FLAG, 2 HOLD, 3 REJECT. */
  actionCode: 0 | 1 | 2 | 3;
  /** { category: score } for every category with a non-zero score. */
  categories: Record<string, number>;
  categoryDetails: CategoryDetail[];
  /** Escalation routes of the categories, sorted and unique. */
  routes: string[];
  /** Every hit, in order of start offset (at most the engine's maxHits). */
  hits: Hit[];
  evasion: Evasion[];
  /** Invalid UTF-8 sequences in the post (a lone surrogate of a string counts as one). */
  invalidUtf8: number;
  /** More hits than maxHits: only the first are listed; all count towards the scores. */
  hitsTruncated: boolean;
  /** With `censor`: the post with each character of each hit replaced by "*"; else null. */
  censored: string | Buffer | null;
  /** The post's id, as given; null when none. */
  id: unknown;
  /** With a State attached: its evidence ({"spam.duplicate": {...}, "notes": [...]}); else null. */
  state: Record<string, unknown> | null;
}

export interface EngineOptions {
  /** Global score thresholds overriding the packs' policy (defaults 2, 4, 8). */
  flagThreshold?: number;
  holdThreshold?: number;
  rejectThreshold?: number;
  /** Largest post accepted, in UTF-8 bytes (default 16 MiB); larger ones throw PostTooLargeError. */
  maxPostBytes?: number;
  /** Most hits listed per post (default 1024). */
  maxHits?: number;
}

export interface NewEngineOptions extends EngineOptions {
  /** A .toml rule pack or a directory of them (searched recursively). */
  rules?: string;
  /** One rule pack's TOML, instead of `rules`. */
  rulesText?: string;
}

/** Who wrote a post, where and when: read only by an engine with a State attached. */
export interface PostFields {
  /** The post's id in your system (copied to verdict.id, reported as evidence). */
  id?: string | number | bigint;
  /** The author's id; none: anonymous, per-author rules do not apply. */
  author?: string | number | bigint;
  /** Forum, thread or category. */
  channel?: string | number | bigint;
  /** When it was posted: a Date or milliseconds since 1970 (default: now). */
  ts?: Date | number;
  /** The author's account age in days. */
  ageDays?: number;
  /** A new version of an earlier post with the same id (never counted as a new post). */
  edit?: boolean;
}

export interface ScanOptions extends PostFields {
  /** The author's role (default "member"). */
  role?: Role;
  /** Also produce verdict.censored. */
  censor?: boolean;
}

/** A role as read from data (parsed JSON, an array literal): checked when scanned. */
export type RoleLike = Role | (string & {});

/** One post for scanMany: a text, or an object (the CLI's JSON lines fit, but ts is milliseconds here). */
export type Post =
  | Text
  | (Omit<PostFields, 'author'> & {
      text: Text;
      role?: RoleLike;
      author_role?: RoleLike;
      author?: string | number | bigint | { id?: string | number | bigint; role?: RoleLike; ageDays?: number; age_days?: number };
      age_days?: number;
    });

export interface ScanManyOptions {
  /** Role of posts that do not give their own (default "member"). */
  role?: Role;
  censor?: boolean;
  /** Posts per mf_scan_batch call (default 128). */
  batchSize?: number;
  /** A post that cannot be scanned (no text, a wrong type, an unknown field) or that the library refuses
   *  (too large): "throw" (default) throws its error, with `index` and `id`; "include": its error takes its place. */
  onError?: 'throw' | 'include';
}

export interface RuleInfo {
  id: string;
  category: string;
  severity: Severity;
  score: number;
}

/**
 * Compiled rule packs: build once per process and reuse. Each Engine owns one C scanner, used by
 * synchronous calls on the thread that made it (a worker thread makes its own Engine).
 */
export class Engine {
  /** The default packs built into the library, or `options.rules` / `options.rulesText`. */
  constructor(options?: NewEngineOptions);
  static fromRules(path: string, options?: EngineOptions): Engine;
  static fromText(toml: string, options?: EngineOptions): Engine;
  /** A compiled database written by save() or `modfilter compile`. */
  static fromDatabase(path: string, options?: EngineOptions): Engine;
  static fromBuffer(data: Uint8Array, options?: EngineOptions): Engine;
  serialize(): Buffer;
  save(path: string): void;
  scan(text: Text, options?: ScanOptions): Verdict;
  scanMany(posts: Iterable<Post>, options?: ScanManyOptions & { onError?: 'throw' }): Verdict[];
  scanMany(posts: Iterable<Post>, options: ScanManyOptions & { onError: 'include' }): Array<Verdict | ModfilterError>;
  readonly ruleCount: number;
  readonly rules: RuleInfo[];
  /** Set a State to turn on spam.duplicate, spam.flood and spam.new-account-links; null turns them off. */
  state: State | null;
  /** Frees the C engine now (otherwise the garbage collector does). */
  close(): void;
  readonly closed: boolean;
}

export interface StateOptions {
  /** Bytes; default 64 MiB, at least 64 KiB. */
  memoryBudget?: number;
}

/** What scans remember between posts; may be shared by several engines. */
export class State {
  constructor(options?: StateOptions);
  static load(path: string, options?: StateOptions): State;
  loadInto(path: string): void;
  save(path: string): void;
  clear(): void;
  stats(): { memoryUsed: number; memoryBudget: number; entries: number };
  /** Throws while an engine still has it attached. */
  close(): void;
  readonly closed: boolean;
}

export interface Diagnostic {
  file: string;
  line: number;
  message: string;
}

/** Lints rule packs (no path: the default packs); warnings come last, their message starting with "warning: ". */
export function checkRules(path?: string): Diagnostic[];
export function fingerprint(text: Text): { exact: bigint; near: bigint; words: number };
export function libraryPath(): string;
export function libraryVersion(): string;

export const STATUS: {
  readonly OK: 0;
  readonly INVALID_ARG: -1;
  readonly NOMEM: -2;
  readonly RULES: -3;
  readonly IO: -4;
  readonly VERSION: -5;
  readonly BAD_DATABASE: -6;
  readonly DB_MISMATCH: -7;
  readonly TOO_LARGE: -8;
  readonly BUSY: -9;
  readonly NOT_FOUND: -10;
  readonly STATE_CORRUPT: -11;
  readonly STATE_VERSION: -12;
  readonly INTERNAL: -99;
};

/** libmodfilter could not be loaded; `tried` lists every candidate and why it was refused. */
export class LibraryNotFoundError extends Error {
  code: 'MF_LIBRARY_NOT_FOUND';
  tried: string[];
}

export class ModfilterError extends Error {
  constructor(message: string, status?: number);
  /** The C status code, MF_E_* (negative, never renumbered). */
  status: number;
  /** Its name: "MF_E_RULES", ... */
  code: string;
  /** scanMany: the position of the post that failed. */
  index?: number;
  /** scanMany: that post's id. */
  id?: unknown;
}
export class InvalidArgumentError extends ModfilterError {}
export class OutOfMemoryError extends ModfilterError {}
/** A rule pack has a mistake: the message starts with "file:line: ". */
export class RulesError extends ModfilterError {
  file: string | null;
  line: number;
}
/** MF_E_IO: a file (rule pack, compiled database, state file) or directory could not be read or written. */
export class ModfilterIOError extends ModfilterError {}
/** The older name of ModfilterIOError: the same class. */
export const RulesIOError: typeof ModfilterIOError;
export type RulesIOError = ModfilterIOError;
export class VersionError extends ModfilterError {}
export class BadDatabaseError extends ModfilterError {}
export class DatabaseMismatchError extends ModfilterError {}
export class PostTooLargeError extends ModfilterError {}
export class BusyError extends ModfilterError {}
export class NotFoundError extends ModfilterError {}
export class StateCorruptError extends ModfilterError {}
export class StateVersionError extends ModfilterError {}
export class InternalError extends ModfilterError {}
