'use strict';
/**
 * modfilter for Node.js: an embedded moderation filter for forum posts, on libmodfilter's C ABI.
 *
 *   const { Engine } = require('modfilter');
 *   const engine = new Engine();                 // the default packs built into libmodfilter
 *   const v = engine.scan('You are an idiot', { role: 'member' });
 *   v.action;                                    // 'FLAG'
 *   v.hits[0];                                   // { rule, category, severity, score, start, end, byteStart, byteEnd, evasion, text }
 *   engine.scanMany(posts);                      // one mf_scan_batch call per 128 posts
 *
 * See README.md; types in index.d.ts.
 */
const engine = require('./lib/engine');
const errors = require('./lib/errors');
const native = require('./lib/native');

module.exports = {
  Engine: engine.Engine,
  State: engine.State,
  Verdict: engine.Verdict,
  checkRules: engine.checkRules,
  fingerprint: engine.fingerprint,
  libraryPath: engine.libraryPath,
  libraryVersion: engine.libraryVersion,
  ACTIONS: engine.ACTIONS,
  STATUS: errors.STATUS,
  LibraryNotFoundError: native.LibraryNotFoundError,
  ModfilterError: errors.ModfilterError,
  InvalidArgumentError: errors.InvalidArgumentError,
  OutOfMemoryError: errors.OutOfMemoryError,
  RulesError: errors.RulesError,
  ModfilterIOError: errors.ModfilterIOError,
  RulesIOError: errors.RulesIOError,
  VersionError: errors.VersionError,
  BadDatabaseError: errors.BadDatabaseError,
  DatabaseMismatchError: errors.DatabaseMismatchError,
  PostTooLargeError: errors.PostTooLargeError,
  BusyError: errors.BusyError,
  NotFoundError: errors.NotFoundError,
  StateCorruptError: errors.StateCorruptError,
  StateVersionError: errors.StateVersionError,
  InternalError: errors.InternalError,
};
