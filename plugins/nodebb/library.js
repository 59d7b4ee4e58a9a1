'use strict';
// nodebb-plugin-modfilter: every new topic, reply and edit goes through modfilter before NodeBB saves it.
//
//   REJECT  the post is refused: NodeBB shows the author the reason (a readable message).
//   HOLD    a new post goes to NodeBB's post queue (filter:post.shouldQueue); an edit, which NodeBB
//           cannot queue, is saved and reported to moderators (a flag), as is a new post that reached
//           NodeBB without passing the queue check.
//   FLAG    the post is published and reported to moderators (setting "reportFlagged", on by default).
//   ALLOW   nothing happens.
// When the filter cannot run (the library is missing, the rules have a mistake, a post is too large),
// the setting "onFailure" decides: "hold" (default) treats the post as HOLD, "reject" refuses it. A
// post is never silently allowed because the filter failed.
//
// Staff: administrators and global moderators (user.isAdminOrGlobalMod), for the packs' promise rules.
// One engine per NodeBB process, built at startup and rebuilt when the settings change; its scanner
// is used synchronously, on NodeBB's one JavaScript thread.

const path = require('node:path');

const nbb = (id) => require.main.require(id);
const winston = nbb('winston');
const meta = nbb('./src/meta');
const user = nbb('./src/user');
const posts = nbb('./src/posts');
const flags = nbb('./src/flags');

const modfilter = loadBinding();

const ID = 'modfilter';
const LOG = '[plugin/modfilter]';
const DEFAULTS = Object.freeze({
  rules: '', // '' = the default packs built into libmodfilter; else a .toml file, a directory, or a .mfdb database
  onFailure: 'hold', // "hold" or "reject"
  reportFlagged: 'on',
  rejectMessage: 'Your post was not published because it breaks the rules of this forum ({categories}).',
  failureMessage: 'Your post could not be checked right now, so it was not published. Please try again in a few minutes.',
});
const RETRY_MS = 60 * 1000; // a failed engine build is retried after this long
const REPORT_TTL_MS = 10 * 60 * 1000;
const ACTION_RANK = { ALLOW: 0, FLAG: 1, HOLD: 2, REJECT: 3 };

function loadBinding() {
  try {
    return require('modfilter');
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes("'modfilter'")) throw err;
    return require(path.join(__dirname, '..', '..', 'bindings', 'node')); // running from the repository
  }
}

const plugin = module.exports;

let settings = { ...DEFAULTS };
let engine = null;
let engineError = null;
let engineErrorAt = 0;
// Verdicts already computed for a post's data object: NodeBB passes the same object to
// filter:post.shouldQueue, filter:topic.create and filter:post.create of one submission.
let assessed = new WeakMap();
// New posts to report once saved (pid -> {reason, at}): flags need the post to exist.
const pendingReports = new Map();

// ------------------------------------------------------------------------------------------ engine

function isOff(v) {
  return v === false || v === 0 || ['off', 'false', '0', 'no', ''].includes(String(v).toLowerCase());
}

async function loadSettings() {
  const saved = (await meta.settings.get(ID)) || {};
  const s = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS)) if (saved[k] !== undefined && saved[k] !== null && saved[k] !== '') s[k] = saved[k];
  s.onFailure = s.onFailure === 'reject' ? 'reject' : 'hold';
  s.reportFlagged = !isOff(s.reportFlagged);
  return s;
}

function buildEngine() {
  const rules = String(settings.rules || '').trim();
  if (!rules) return new modfilter.Engine();
  if (rules.endsWith('.mfdb')) return modfilter.Engine.fromDatabase(rules);
  return modfilter.Engine.fromRules(rules);
}

function resetEngine() {
  if (engine) engine.close();
  engine = null;
  engineError = null;
  engineErrorAt = 0;
  assessed = new WeakMap();
  try {
    engine = buildEngine();
    winston.info(`${LOG} ${engine.ruleCount} rules loaded from ${settings.rules || 'the default packs'} (libmodfilter ${modfilter.libraryVersion()} at ${modfilter.libraryPath()})`);
  } catch (err) {
    engineError = err;
    engineErrorAt = Date.now();
    winston.error(`${LOG} the filter cannot run, posts are handled as "${settings.onFailure}": ${err.message}`);
  }
}

function getEngine() {
  if (engine) return engine;
  if (engineError && Date.now() - engineErrorAt < RETRY_MS) throw engineError;
  resetEngine();
  if (!engine) throw engineError;
  return engine;
}

// ------------------------------------------------------------------------------------------ scanning

async function roleOf(uid) {
  const n = parseInt(uid, 10);
  if (!(n > 0)) return 'member';
  return (await user.isAdminOrGlobalMod(n)) ? 'staff' : 'member';
}

/**
 * Scans a post's title (if any) and content as one post's texts: the worst action of the two, and
 * every category. Returns {action, categories, failed, error}; never throws.
 */
function assess(texts, role, fields) {
  try {
    const e = getEngine();
    const list = texts.filter((t) => typeof t === 'string' && t.length);
    const verdicts = list.length ? e.scanMany(list.map((text) => ({ text, role, ...fields }))) : [];
    let action = 'ALLOW';
    const categories = {};
    for (const v of verdicts) {
      if (ACTION_RANK[v.action] > ACTION_RANK[action]) action = v.action;
      for (const [c, score] of Object.entries(v.categories)) categories[c] = Math.max(categories[c] || 0, score);
    }
    return { action, categories, failed: false, error: null };
  } catch (err) {
    winston.warn(`${LOG} could not scan a post, handled as "${settings.onFailure}": ${err.message}`);
    return { action: null, categories: {}, failed: true, error: err };
  }
}

async function assessData(data, uid) {
  const title = typeof data.title === 'string' ? data.title : '';
  const content = data.content === undefined || data.content === null ? '' : String(data.content);
  const cached = data && typeof data === 'object' ? assessed.get(data) : undefined;
  if (cached && cached.title === title && cached.content === content) return cached.result;
  const role = await roleOf(uid);
  const result = assess([title, content], role, { author: uid ? String(uid) : undefined });
  if (data && typeof data === 'object' && !result.failed) assessed.set(data, { title, content, result });
  return result;
}

/** The action to take: the verdict's, or the failure policy's when the filter could not run. */
function decide(result) {
  if (!result.failed) return result.action;
  return settings.onFailure === 'reject' ? 'REJECT' : 'HOLD';
}

function describe(result) {
  const cats = Object.keys(result.categories).sort();
  return cats.length ? cats.join(', ') : 'no category';
}

function refusal(result) {
  const msg = result.failed ? settings.failureMessage : String(settings.rejectMessage).replace('{categories}', describe(result));
  const err = new Error(msg);
  err.modfilter = { action: 'REJECT', failed: result.failed, categories: result.categories };
  return err;
}

function reason(action, result) {
  if (result.failed) return `modfilter could not check this post (${result.error.message}); review it by hand.`;
  return `modfilter: ${action} (${describe(result)})`;
}

async function report(pid, text) {
  const adminUid = await user.getFirstAdminUid();
  const flag = await flags.create('post', pid, adminUid, text, null, true);
  if (flags.notify) await flags.notify(flag, adminUid, true);
  return flag;
}

function remember(pid, text) {
  const now = Date.now();
  for (const [k, v] of pendingReports) {
    if (now - v.at < REPORT_TTL_MS && pendingReports.size < 10000) break;
    pendingReports.delete(k);
  }
  pendingReports.set(String(pid), { reason: text, at: now });
}

// ------------------------------------------------------------------------------------------ hooks

/** static:app.load: settings, the engine, the admin page. */
plugin.init = async function (params) {
  settings = await loadSettings();
  resetEngine();
  if (params && params.router) {
    const routeHelpers = nbb('./src/routes/helpers');
    routeHelpers.setupAdminPageRoute(params.router, '/admin/plugins/modfilter', [], plugin.renderAdmin);
  }
};

plugin.renderAdmin = function (req, res) {
  res.render('admin/plugins/modfilter', {
    title: 'modfilter',
    engineOk: !!engine,
    ruleCount: engine ? engine.ruleCount : 0,
    engineError: engineError ? engineError.message : '',
    library: engine ? modfilter.libraryPath() : '',
  });
};

plugin.addAdminNavigation = async function (header) {
  header.plugins.push({ route: '/plugins/modfilter', icon: 'fa-shield', name: 'modfilter' });
  return header;
};

/** action:settings.set: new settings take effect at once (the engine is rebuilt). */
plugin.onSettingsSet = async function (data) {
  if (!data || data.plugin !== ID) return;
  settings = await loadSettings();
  resetEngine();
};

/** filter:post.shouldQueue {shouldQueue, uid, data}: HOLD queues, REJECT refuses before anything is saved. */
plugin.shouldQueue = async function (hookData) {
  const { uid, data } = hookData;
  const result = await assessData(data || {}, uid);
  const action = decide(result);
  if (action === 'REJECT') throw refusal(result);
  if (action === 'HOLD') return { ...hookData, shouldQueue: true };
  return hookData;
};

/** filter:topic.create {topic, data}: a new topic's title and first post; REJECT refuses it. */
plugin.topicCreate = async function (hookData) {
  const { topic, data } = hookData;
  const result = await assessData(data || topic || {}, (topic && topic.uid) || (data && data.uid));
  if (decide(result) === 'REJECT' && !(data && data.fromQueue && result.failed)) throw refusal(result);
  return hookData;
};

/**
 * filter:post.create {post, data}: every new post, a topic's first one included. REJECT refuses it;
 * HOLD here means the post did not pass the queue check (or a moderator approved it from the queue):
 * it is published and reported; FLAG is reported when "reportFlagged" is on.
 */
plugin.postCreate = async function (hookData) {
  const { post, data } = hookData;
  const fromQueue = !!(data && data.fromQueue);
  const result = await assessData(data && data.content !== undefined ? data : post, post.uid);
  const action = decide(result);
  if (action === 'REJECT' && !(fromQueue && result.failed)) throw refusal(result);
  if ((action === 'HOLD' && !fromQueue) || (action === 'FLAG' && settings.reportFlagged)) {
    remember(post.pid, reason(action, result));
  }
  return hookData;
};

/** action:post.save {post}: reports the new posts postCreate set aside, now that they exist. */
plugin.postSaved = async function (hookData) {
  const post = hookData && hookData.post;
  if (!post) return;
  const pending = pendingReports.get(String(post.pid));
  if (!pending) return;
  pendingReports.delete(String(post.pid));
  try {
    await report(post.pid, pending.reason);
  } catch (err) {
    winston.error(`${LOG} could not report post ${post.pid} to moderators: ${err.message}`);
  }
};

/**
 * filter:post.edit {req, post, data, uid}: REJECT refuses the edit; HOLD (which NodeBB cannot queue)
 * saves it and reports the post to moderators, and refuses it if it cannot be reported; FLAG reports.
 * The role is the post author's: the words appear under their name.
 */
plugin.postEdit = async function (hookData) {
  const { post, data } = hookData;
  const pid = data && data.pid;
  const editor = hookData.uid !== undefined ? hookData.uid : data && data.uid;
  let author = editor;
  try {
    const owner = pid !== undefined ? await posts.getPostField(pid, 'uid') : null;
    if (owner) author = owner;
  } catch (err) {
    winston.warn(`${LOG} could not read the author of post ${pid}, using the editor's role: ${err.message}`);
  }
  const title = data && typeof data.title === 'string' ? data.title : '';
  const content = post && post.content !== undefined ? String(post.content) : String((data && data.content) || '');
  const role = await roleOf(author);
  const result = assess([title, content], role, { id: pid !== undefined ? String(pid) : undefined, author: author ? String(author) : undefined, edit: true });
  const action = decide(result);
  if (action === 'REJECT') throw refusal(result);
  if (action === 'HOLD' || (action === 'FLAG' && settings.reportFlagged)) {
    try {
      await report(pid, `${reason(action, result)} (edited by uid ${editor})`);
    } catch (err) {
      winston.error(`${LOG} could not report the edit of post ${pid}: ${err.message}`);
      if (action === 'HOLD') throw refusal({ ...result, failed: true });
    }
  }
  return hookData;
};

// for the tests
plugin._internals = {
  DEFAULTS,
  pendingReports,
  get settings() { return settings; },
  get engine() { return engine; },
  get engineError() { return engineError; },
};
