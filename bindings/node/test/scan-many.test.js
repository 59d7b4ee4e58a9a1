'use strict';
// scanMany: mf_scan_batch under the hood, verdicts in input order, ids, roles, refused posts.
const test = require('node:test');
const assert = require('node:assert/strict');
const { modfilter, engine, ASAN_SKIP } = require('./support');

const e = engine();
test.after(() => e.close());

const simplify = (v) => [v.action, v.id, v.hits.map((h) => [h.rule, h.start, h.end, h.byteStart, h.byteEnd, h.text])];

test('same verdicts as scan, in input order, across many batches', () => {
  const base = ['idiot', 'fine', '😀 crétin', 'I will kill you', '', 'ты дурак', Buffer.from([0xff, 0x20, 0x69, 0x64, 0x69, 0x6f, 0x74]), 'cheap moron'];
  const posts = [];
  for (let i = 0; i < 300; i++) posts.push(base[i % base.length]);
  for (const batchSize of [1, 7, 128, 1000]) {
    const got = e.scanMany(posts, { batchSize, censor: true });
    assert.equal(got.length, posts.length);
    got.forEach((v, i) => {
      const want = e.scan(posts[i], { censor: true });
      assert.deepEqual(simplify(v), simplify(want), `post ${i}, batch ${batchSize}`);
      assert.deepEqual(v.censored, want.censored);
      assert.equal(v.invalidUtf8, want.invalidUtf8);
    });
  }
});

test('object posts: text, id, per-post role (CLI JSON-line shape too), default role', () => {
  const t = 'you get a full refund';
  const vs = e.scanMany([
    { id: 'a', text: t },
    { id: 'b', text: t, role: 'staff' },
    { id: 'c', text: t, author: { id: 'u1', role: 'staff' } },
    { id: 'd', text: t, author_role: 'staff' },
    { id: 'e', text: t, author: 'u2' },
    t,
  ], { role: 'member' });
  assert.deepEqual(vs.map((v) => [v.id, v.action]), [['a', 'ALLOW'], ['b', 'HOLD'], ['c', 'HOLD'], ['d', 'HOLD'], ['e', 'ALLOW'], [null, 'ALLOW']]);
  const staff = e.scanMany([t, { text: t, role: 'member' }], { role: 'staff' });
  assert.deepEqual(staff.map((v) => v.action), ['HOLD', 'ALLOW']);
});

test('any iterable of posts; an empty list gives no verdicts', () => {
  function* gen() { yield 'idiot'; yield 'fine'; }
  assert.deepEqual(e.scanMany(gen()).map((v) => v.action), ['FLAG', 'ALLOW']);
  assert.deepEqual(e.scanMany(new Set(['moron'])).map((v) => v.action), ['HOLD']);
  assert.deepEqual(e.scanMany([]), []);
});

test('a post larger than maxPostBytes: thrown with its index, or included in its place', { skip: ASAN_SKIP }, () => {
  const small = engine({ maxPostBytes: 16 });
  try {
    const posts = ['idiot', 'x'.repeat(17), { id: 'big', text: 'y'.repeat(40) }, 'moron'];
    assert.throws(() => small.scanMany(posts), (err) => {
      assert.ok(err instanceof modfilter.PostTooLargeError);
      assert.equal(err.status, -8);
      assert.equal(err.code, 'MF_E_TOO_LARGE');
      assert.equal(err.index, 1);
      assert.match(err.message, /^post 1: /);
      return true;
    });
    const vs = small.scanMany(posts, { onError: 'include', batchSize: 3 });
    assert.equal(vs.length, 4);
    assert.equal(vs[0].action, 'FLAG');
    assert.ok(vs[1] instanceof modfilter.PostTooLargeError);
    assert.ok(vs[2] instanceof modfilter.PostTooLargeError);
    assert.equal(vs[2].index, 2);
    assert.equal(vs[2].id, 'big');
    assert.match(vs[2].message, /post 2 \(id "big"\)/);
    assert.equal(vs[3].action, 'HOLD');
    assert.throws(() => small.scan('z'.repeat(17)), modfilter.PostTooLargeError);
    assert.equal(small.scan('x'.repeat(16)).action, 'ALLOW'); // exactly the limit is fine
  } finally {
    small.close();
  }
});

test('bad posts and options are clear errors', () => {
  assert.throws(() => e.scanMany('idiot'), modfilter.InvalidArgumentError);
  assert.throws(() => e.scanMany(null), modfilter.InvalidArgumentError);
  assert.throws(() => e.scanMany([null]), /post 0: a post is a string, a Buffer or an object/);
  assert.throws(() => e.scanMany(['ok', { id: 3 }]), /post 1: an object post needs a "text"/);
  assert.throws(() => e.scanMany([{ text: 5 }]), modfilter.InvalidArgumentError);
  assert.throws(() => e.scanMany(['x'], { batchSize: 0 }), modfilter.InvalidArgumentError);
  assert.throws(() => e.scanMany(['x'], { onError: 'ignore' }), modfilter.InvalidArgumentError);
  assert.throws(() => e.scanMany([{ text: 'x', role: 'boss' }]), modfilter.InvalidArgumentError);
});
