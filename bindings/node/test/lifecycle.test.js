'use strict';
// Nothing leaks: close() frees at once, and an engine or state dropped without close() is freed by
// the FinalizationRegistry after garbage collection (a child process run with --expose-gc).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { modfilter, engine } = require('./support');
const internals = require('../lib/engine');

test('close() frees the engine and its scanner at once; closing twice is fine', () => {
  const before = internals.live.engines;
  const e = engine();
  assert.equal(internals.live.engines, before + 1);
  e.scanMany(['idiot', 'moron']);
  e.close();
  assert.equal(internals.live.engines, before);
  e.close();
  assert.equal(internals.live.engines, before);
});

test('a state outlives the engines it is attached to, and is freed once nobody holds it', () => {
  const before = internals.live.states;
  const e = engine();
  const s = new modfilter.State({ memoryBudget: 1 << 20 });
  e.state = s;
  assert.equal(internals.live.states, before + 1);
  e.close(); // detaches
  s.close();
  assert.equal(internals.live.states, before);
  assert.throws(() => new modfilter.State({ memoryBudget: -5 }), modfilter.InvalidArgumentError);
});

test('engines and states dropped without close() are freed by the garbage collector', () => {
  const lib = JSON.stringify(path.join(__dirname, '..'));
  const internalsPath = JSON.stringify(path.join(__dirname, '..', 'lib', 'engine.js'));
  const code = `
    const m = require(${lib});
    const live = require(${internalsPath}).live;
    const rules = '[[rule]]\\nid = "x.i"\\ncategory = "abuse.harassment"\\nseverity = "medium"\\nword = "idiot"\\n';
    (function make() {
      for (let i = 0; i < 40; i++) {
        const e = m.Engine.fromText(rules);
        e.scanMany(['idiot '.repeat(1000), 'fine']);
        if (i % 2) { const s = new m.State({ memoryBudget: 1 << 20 }); e.state = s; e.scan('x', { author: 'u' }); }
      }
    })();
    const peak = { ...live };
    const tick = () => new Promise((r) => setImmediate(r));
    (async () => {
      for (let i = 0; i < 50 && (live.engines || live.states); i++) { global.gc(); await tick(); }
      console.log(JSON.stringify({ peak, after: live }));
    })();`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', code], { encoding: 'utf8', env: process.env });
  assert.equal(r.status, 0, r.stderr);
  const { peak, after } = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.ok(peak.engines >= 1, JSON.stringify(peak));
  assert.deepEqual(after, { engines: 0, states: 0 });
});

test('many engines created and closed in a loop do not grow the process', () => {
  const rss = () => process.memoryUsage().rss;
  for (let i = 0; i < 20; i++) engine().close();
  const start = rss();
  for (let i = 0; i < 100; i++) {
    const e = engine();
    e.scan('idiot '.repeat(2000), { censor: true });
    e.close();
  }
  const grown = rss() - start;
  assert.ok(grown < 64 * 1024 * 1024, `RSS grew by ${grown} bytes`);
});

test('a worker thread builds its own engine (a scanner per thread) and scans beside the main thread', async () => {
  const { Worker } = require('node:worker_threads');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const m = require(workerData.pkg);
    const e = m.Engine.fromText(workerData.rules);
    const out = e.scanMany(Array.from({ length: 200 }, (_, i) => (i % 2 ? 'idiot' : 'fine'))).map((v) => v.action);
    e.close();
    parentPort.postMessage(out);`;
  const { RULES } = require('./support');
  const workers = [0, 1].map(() => new Worker(code, { eval: true, workerData: { pkg: path.join(__dirname, '..'), rules: RULES } }));
  const main = engine();
  const mine = [];
  for (let i = 0; i < 200; i++) mine.push(main.scan(i % 2 ? 'idiot' : 'fine').action);
  const results = await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
  await Promise.all(workers.map((w) => w.terminate()));
  main.close();
  for (const r of results) assert.deepEqual(r, mine);
  assert.equal(mine[1], 'FLAG');
});
