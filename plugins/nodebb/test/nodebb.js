'use strict';
// NodeBB's side of the hook contract, for the tests. NodeBB itself is not installed here: its modules
// that the plugin loads with require.main.require ('./src/meta', './src/user', './src/posts',
// './src/flags', './src/routes/helpers', 'winston') are stubbed, and the hooks are fired with the
// payloads NodeBB's own source passes, in the order it fires them (see the plugin's README):
//
//   reply    src/api/topics.js reply: posts.shouldQueue(uid, payload) fires filter:post.shouldQueue
//            {shouldQueue, uid, data: payload}; if queued, posts.addToQueue(payload); else
//            topics.reply(payload) -> posts.create(data) fires filter:post.create {post, data}, saves
//            the post, then action:post.save {post}.
//   topic    src/api/topics.js create: the same queue check, then topics.post(payload) -> Topics.create
//            fires filter:topic.create {topic, data}, then posts.create(data) with the same data.
//   edit     src/posts/edit.js: filter:post.edit {req, post: {content, edited, editor}, data, uid},
//            then the post is saved.
//   approve  src/posts/queue.js submitFromQueue: the queued data with fromQueue = true goes to
//            topics.reply / topics.post again (no queue check).
// The modfilter binding under the plugin is the real one.

const path = require('node:path');

class NodeBB {
  constructor({ admins = [], globalMods = [], settings = {} } = {}) {
    this.admins = new Set(admins);
    this.globalMods = new Set(globalMods);
    this.settings = { modfilter: { ...settings } };
    this.posts = new Map(); // pid -> {pid, uid, tid, content}
    this.topics = new Map();
    this.queue = [];
    this.flags = [];
    this.flagError = null;
    this.logs = [];
    this.routes = [];
    this.nextPid = 1;
    this.nextTid = 1;
    const log = (level) => (msg) => this.logs.push([level, msg]);
    this.modules = {
      winston: { info: log('info'), warn: log('warn'), error: log('error'), verbose: log('verbose') },
      './src/meta': { settings: { get: async (hash) => ({ ...(this.settings[hash] || {}) }) } },
      './src/user': {
        isAdminOrGlobalMod: async (uid) => this.admins.has(Number(uid)) || this.globalMods.has(Number(uid)),
        getFirstAdminUid: async () => [...this.admins][0] || 1,
      },
      './src/posts': {
        getPostField: async (pid, field) => {
          const p = this.posts.get(Number(pid));
          return p ? p[field] : null;
        },
      },
      './src/flags': {
        create: async (type, id, uid, reason, timestamp, force) => {
          if (this.flagError) throw this.flagError;
          const flag = { flagId: this.flags.length + 1, type, id, uid, reason, timestamp, force };
          this.flags.push(flag);
          return flag;
        },
        notify: async (flag) => { flag.notified = true; },
      },
      './src/routes/helpers': {
        setupAdminPageRoute: (router, route, middleware, handler) => this.routes.push({ route, handler }),
      },
    };
  }

  /** Loads the plugin as NodeBB does (library.js with require.main.require answering) and runs static:app.load. */
  async load() {
    const main = require.main;
    const modules = this.modules;
    main.require = (id) => {
      if (!(id in modules)) throw new Error(`the test stubs no NodeBB module ${id}`);
      return modules[id];
    };
    const lib = path.join(__dirname, '..', 'library.js');
    delete require.cache[require.resolve(lib)];
    this.plugin = require(lib);
    const pluginJson = require(path.join(__dirname, '..', 'plugin.json'));
    this.hooks = {};
    for (const { hook, method } of pluginJson.hooks) {
      if (typeof this.plugin[method] !== 'function') throw new Error(`plugin.json names ${method}, which library.js lacks`);
      (this.hooks[hook] = this.hooks[hook] || []).push(this.plugin[method]);
    }
    await this.fire('static:app.load', { router: {}, middleware: {} });
    return this;
  }

  /** plugins.hooks.fire: filters pass the payload along, actions just run. */
  async fire(hook, payload) {
    let data = payload;
    for (const fn of this.hooks[hook] || []) {
      const out = await fn(data);
      if (hook.startsWith('filter:') || hook.startsWith('static:')) data = out === undefined ? data : out;
    }
    return data;
  }

  async shouldQueue(uid, data) {
    const result = await this.fire('filter:post.shouldQueue', { shouldQueue: false, uid, data });
    return result.shouldQueue;
  }

  async createPost(data) {
    const pid = this.nextPid++;
    let post = { pid, uid: data.uid, tid: data.tid, content: String(data.content), timestamp: data.timestamp || Date.now() };
    ({ post } = await this.fire('filter:post.create', { post, data }));
    this.posts.set(pid, post);
    await this.fire('action:post.save', { post: { ...post } });
    return post;
  }

  /** An author replies (src/api/topics.js reply). Returns {queued} or {post}; throws what the author sees. */
  async reply(uid, tid, content, extra = {}) {
    const payload = { tid, uid, content, timestamp: Date.now(), fromQueue: false, ...extra };
    if (await this.shouldQueue(uid, payload)) {
      this.queue.push({ type: 'reply', data: payload });
      return { queued: true };
    }
    return { post: await this.topicsReply(payload) };
  }

  async topicsReply(data) {
    return this.createPost(data);
  }

  /** An author starts a topic (src/api/topics.js create). */
  async topic(uid, cid, title, content) {
    const payload = { cid, uid, title, content, tags: [], timestamp: Date.now(), fromQueue: false };
    if (await this.shouldQueue(uid, payload)) {
      this.queue.push({ type: 'topic', data: payload });
      return { queued: true };
    }
    return this.topicsPost(payload);
  }

  async topicsPost(data) {
    const tid = this.nextTid++;
    let topic = { tid, uid: data.uid, cid: data.cid, mainPid: 0, title: data.title, timestamp: data.timestamp };
    ({ topic } = await this.fire('filter:topic.create', { topic, data }));
    this.topics.set(tid, topic);
    const postData = data;
    postData.tid = tid;
    postData.isMain = true;
    const post = await this.createPost(postData);
    topic.mainPid = post.pid;
    return { topic, post };
  }

  /** A moderator accepts a queued post (src/posts/queue.js submitFromQueue). */
  async approve(index) {
    const [item] = this.queue.splice(index, 1);
    item.data.fromQueue = true;
    return item.type === 'topic' ? this.topicsPost(item.data) : { post: await this.topicsReply(item.data) };
  }

  /** Someone edits a post (src/posts/edit.js). Throws what the editor sees. */
  async edit(uid, pid, content, title) {
    const data = { pid, uid, content, req: {} };
    if (title !== undefined) data.title = title;
    const editPostData = { content, edited: Date.now(), editor: uid };
    const result = await this.fire('filter:post.edit', { req: data.req, post: editPostData, data, uid });
    const saved = { ...this.posts.get(pid), ...result.post };
    this.posts.set(pid, saved);
    return saved;
  }

  async saveSettings(values) {
    this.settings.modfilter = { ...values };
    await this.fire('action:settings.set', { plugin: 'modfilter', settings: values, quiet: false });
  }
}

module.exports = { NodeBB };
