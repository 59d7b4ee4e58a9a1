'use strict';
// Errors: one Error subclass per status code of modfilter.h, each carrying `status` (the MF_E_*
// number, never renumbered) and `code` (its name, "MF_E_RULES"), with the library's own message.

const STATUS = Object.freeze({
  OK: 0,
  INVALID_ARG: -1,
  NOMEM: -2,
  RULES: -3,
  IO: -4,
  VERSION: -5,
  BAD_DATABASE: -6,
  DB_MISMATCH: -7,
  TOO_LARGE: -8,
  BUSY: -9,
  NOT_FOUND: -10,
  STATE_CORRUPT: -11,
  STATE_VERSION: -12,
  INTERNAL: -99,
});

const NAMES = Object.fromEntries(Object.entries(STATUS).map(([k, v]) => [v, `MF_E_${k}`]));
NAMES[0] = 'MF_OK';

/** Every error modfilter raises (except LibraryNotFoundError, which is not a status of the library). */
class ModfilterError extends Error {
  constructor(message, status = STATUS.INTERNAL) {
    super(message);
    this.name = new.target.name;
    /** The C status code (MF_E_*): a negative number that never changes between releases. */
    this.status = status;
    /** The status code's name, "MF_E_RULES", ... */
    this.code = NAMES[status] || 'MF_E_UNKNOWN';
  }
}

class InvalidArgumentError extends ModfilterError {}
class OutOfMemoryError extends ModfilterError {}
/** A rule pack has a mistake. `file` and `line` say where (the message starts with "file:line: "). */
class RulesError extends ModfilterError {
  constructor(message, status = STATUS.RULES) {
    super(message, status);
    const m = /^(.+?):(\d+): /.exec(message);
    /** The rule-pack file with the first mistake ("<memory>.toml" for rules given as text), or null. */
    this.file = m ? m[1] : null;
    /** Its 1-based line, or 0 when unknown. */
    this.line = m ? Number(m[2]) : 0;
  }
}
/** MF_E_IO: a file (rule pack, compiled database, state file) or directory could not be read or written. */
class ModfilterIOError extends ModfilterError {}
/** The older name of ModfilterIOError (from when only rule packs were read): the same class. */
const RulesIOError = ModfilterIOError;
class VersionError extends ModfilterError {}
class BadDatabaseError extends ModfilterError {}
class DatabaseMismatchError extends ModfilterError {}
class PostTooLargeError extends ModfilterError {}
class BusyError extends ModfilterError {}
class NotFoundError extends ModfilterError {}
class StateCorruptError extends ModfilterError {}
class StateVersionError extends ModfilterError {}
class InternalError extends ModfilterError {}

const BY_STATUS = {
  [STATUS.INVALID_ARG]: InvalidArgumentError,
  [STATUS.NOMEM]: OutOfMemoryError,
  [STATUS.RULES]: RulesError,
  [STATUS.IO]: ModfilterIOError,
  [STATUS.VERSION]: VersionError,
  [STATUS.BAD_DATABASE]: BadDatabaseError,
  [STATUS.DB_MISMATCH]: DatabaseMismatchError,
  [STATUS.TOO_LARGE]: PostTooLargeError,
  [STATUS.BUSY]: BusyError,
  [STATUS.NOT_FOUND]: NotFoundError,
  [STATUS.STATE_CORRUPT]: StateCorruptError,
  [STATUS.STATE_VERSION]: StateVersionError,
  [STATUS.INTERNAL]: InternalError,
};

/** The error for a failed call: its class by status, its message from mf_last_error(). */
function errorFor(status, message) {
  const Cls = BY_STATUS[status] || ModfilterError;
  return new Cls(message, status);
}

module.exports = {
  STATUS,
  ModfilterError,
  InvalidArgumentError,
  OutOfMemoryError,
  RulesError,
  ModfilterIOError,
  RulesIOError,
  VersionError,
  BadDatabaseError,
  DatabaseMismatchError,
  PostTooLargeError,
  BusyError,
  NotFoundError,
  StateCorruptError,
  StateVersionError,
  InternalError,
  errorFor,
};
