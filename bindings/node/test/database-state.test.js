'use strict';
// Compiled databases (fromDatabase / fromBuffer) and State (duplicates, floods, young accounts).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { modfilter, engine, ASAN_SKIP } = require('./support');

function tmpdir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('save and fromDatabase: the same verdicts without compiling', (t) => {
  const e = engine();
  const file = path.join(tmpdir(t), 'packs.mfdb');
  e.save(file);
  const loaded = modfilter.Engine.fromDatabase(file);
  for (const text of ['idiot and moron', 'I will kill you', 'fine', '😀 crétin']) {
    assert.deepEqual(loaded.scan(text), e.scan(text), text);
  }
  assert.equal(loaded.ruleCount, e.ruleCount);
  const viaBuffer = modfilter.Engine.fromBuffer(e.serialize(), { holdThreshold: 100, rejectThreshold: 200 });
  assert.equal(viaBuffer.scan('idiot and moron').action, 'FLAG'); // options apply to a loaded database
  for (const x of [e, loaded, viaBuffer]) x.close();
});

test('a corrupt or missing database is a clear error', (t) => {
  const dir = tmpdir(t);
  const e = engine();
  const good = e.serialize();
  e.close();
  const bad = Buffer.from(good);
  bad[bad.length - 100] ^= 0xff;
  const file = path.join(dir, 'bad.mfdb');
  fs.writeFileSync(file, bad);
  assert.throws(() => modfilter.Engine.fromDatabase(file), (err) => {
    assert.ok(err instanceof modfilter.BadDatabaseError || err instanceof modfilter.DatabaseMismatchError, err.name);
    assert.ok(err.message.startsWith(file), err.message);
    return true;
  });
  assert.throws(() => modfilter.Engine.fromBuffer(Buffer.from('not a database at all')), modfilter.BadDatabaseError);
  assert.throws(() => modfilter.Engine.fromBuffer(Buffer.alloc(0)), modfilter.ModfilterError);
  assert.throws(() => modfilter.Engine.fromDatabase(path.join(dir, 'missing.mfdb')), modfilter.RulesIOError);
});

const PROMO = 'Cheap watches and designer bags at half price this week, visit our shop today';

function withState(t) {
  const e = modfilter.Engine.fromText('[[rule]]\nid = "x.f"\ncategory = "abuse.obscene"\nseverity = "medium"\nword = "fuck"\n');
  const s = new modfilter.State();
  e.state = s;
  t.after(() => { e.state = null; e.close(); s.close(); });
  return { e, s };
}

test('state: the third copy of a text is flagged, with evidence', (t) => {
  const { e } = withState(t);
  const vs = [0, 1, 2].map((i) => e.scan(PROMO, { id: `p${i}`, author: `u${i}`, channel: 'c', ts: (1000 + i) * 1000 }));
  assert.deepEqual(vs.map((v) => v.action), ['ALLOW', 'ALLOW', 'FLAG']);
  assert.deepEqual(vs[2].categories, { 'spam.duplicate': 3 });
  const dup = vs[2].state['spam.duplicate'];
  assert.deepEqual([dup.copies, dup.authors, dup.earlier], [3, 3, ['p1', 'p0']]);
  assert.equal(vs[2].id, 'p2');
});

test('state: scanMany objects carry who, where and when (CLI JSON-line shape)', (t) => {
  const { e } = withState(t);
  const posts = [];
  for (let i = 0; i < 6; i++) posts.push({ id: i, text: `post ${i}`, author: { id: 'fast', role: 'member' }, ts: new Date((50 + i) * 1000) });
  posts.push({ id: 99, text: 'see http://x.example', author: { id: 'new', age_days: 0 }, channel: 7 });
  posts.push({ id: 100, text: 'an edit', author: { id: 'fast' }, ts: 56000, edit: true });
  const vs = e.scanMany(posts);
  assert.equal(vs[4].action, 'ALLOW');
  assert.equal(vs[5].action, 'FLAG');
  assert.ok('spam.flood' in vs[5].categories);
  assert.deepEqual(vs[6].categories, { 'spam.new-account-links': 1 });
  assert.equal(vs[7].action, 'ALLOW');
  assert.ok(vs[7].state.notes.includes('an edit: not counted as a new post'));
});

test('state: off means verdicts as without it; bad fields are refused', (t) => {
  const { e } = withState(t);
  e.state = null;
  const v = e.scan(PROMO, { id: 'p1', author: 'u1', ts: 5000 });
  assert.equal(v.state, null);
  assert.throws(() => e.scan('hi', { author: 'u', ts: -1 }), modfilter.InvalidArgumentError);
  assert.throws(() => e.scan('hi', { author: 'u', ageDays: -3 }), modfilter.InvalidArgumentError);
  assert.throws(() => e.scan('hi', { author: ['u'] }), modfilter.InvalidArgumentError);
  assert.throws(() => e.scanMany([{ text: 'hi', edit: 'yes' }]), modfilter.InvalidArgumentError);
  assert.throws(() => { e.state = {}; }, modfilter.InvalidArgumentError);
});

test('state: save, load, refusals, and no close while attached', { skip: ASAN_SKIP }, (t) => {
  const { e, s } = withState(t);
  for (let i = 0; i < 2; i++) e.scan(PROMO, { id: `p${i}`, author: `u${i}`, ts: (100 + i) * 1000 });
  assert.ok(s.stats().entries >= 1);
  const file = path.join(tmpdir(t), 'state.bin');
  s.save(file);
  const other = modfilter.State.load(file);
  e.state = other;
  assert.equal(e.scan(PROMO, { id: 'p2', author: 'u2', ts: 102000 }).action, 'FLAG');
  assert.throws(() => other.close(), /still attached/);
  const data = fs.readFileSync(file);
  fs.writeFileSync(file, data.subarray(0, data.length - 9));
  assert.throws(() => other.loadInto(file), modfilter.StateCorruptError);
  fs.writeFileSync(file, Buffer.concat([data.subarray(0, 12), Buffer.from([7]), data.subarray(13)]));
  assert.throws(() => other.loadInto(file), modfilter.StateVersionError);
  e.state = s;
  other.close();
  assert.equal(other.closed, true);
  s.clear();
  assert.equal(s.stats().entries, 0);
});

test('fingerprint: near-identical texts share most bits', () => {
  const a = modfilter.fingerprint('Cheap watches at half price, visit our shop');
  const b = modfilter.fingerprint('CHEAP watches at half price!! visit our shop');
  assert.equal(typeof a.exact, 'bigint');
  assert.equal(a.exact, b.exact);
  assert.equal(a.words, 8);
});
