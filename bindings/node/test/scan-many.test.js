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
  assert.throws(() => e.scanMany(['ok', { id: 3 }]), /post 1 \(id 3\): an object post needs a "text"/);
  assert.throws(() => e.scanMany([{ text: 5 }]), modfilter.InvalidArgumentError);
  assert.throws(() => e.scanMany(['x'], { batchSize: 0 }), modfilter.InvalidArgumentError);
  assert.throws(() => e.scanMany(['x'], { onError: 'ignore' }), modfilter.InvalidArgumentError);
  assert.throws(() => e.scanMany([{ text: 'x', role: 'boss' }]), modfilter.InvalidArgumentError);
});

test('unknown option keys and post fields are refused, naming the key and the closest allowed one', () => {
  const t = 'you get a full refund';
  assert.equal(e.scanMany([t], { role: 'staff' })[0].action, 'HOLD');
  assert.throws(() => e.scanMany([t], { rol: 'staff' }), (err) => {
    assert.ok(err instanceof modfilter.InvalidArgumentError);
    assert.equal(err.status, -1);
    assert.match(err.message, /unknown scanMany option 'rol' \(did you mean 'role'\?\)/);
    assert.match(err.message, /allowed: role, censor, batchSize, onError/);
    return true;
  });
  assert.throws(() => e.scanMany([t], { onErorr: 'include' }), /did you mean 'onError'/);
  assert.throws(() => e.scanMany([t], { censor: 'no' }), (err) => err instanceof modfilter.InvalidArgumentError && /censor must be true or false/.test(err.message));
  assert.throws(() => e.scanMany([t], { censor: 1 }), modfilter.InvalidArgumentError);
  assert.equal(e.scanMany(['idiot'], { censor: false })[0].censored, null);
  // a post's own fields, and its author's
  assert.throws(() => e.scanMany(['ok', { id: 'p', text: t, rol: 'staff' }]), (err) => {
    assert.ok(err instanceof modfilter.InvalidArgumentError);
    assert.equal(err.index, 1);
    assert.equal(err.id, 'p');
    assert.match(err.message, /^post 1 \(id "p"\): unknown post field 'rol' \(did you mean 'role'\?\)/);
    return true;
  });
  assert.throws(() => e.scanMany([{ text: t, author: { id: 'u1', rol: 'staff' } }]), (err) => {
    assert.ok(err instanceof modfilter.InvalidArgumentError);
    assert.equal(err.index, 0);
    assert.match(err.message, /unknown author field 'rol' \(did you mean 'role'\?\); allowed: id, role, ageDays, age_days/);
    return true;
  });
  assert.throws(() => e.scanMany([{ text: t, edit: 'yes' }]), /post 0: edit must be true or false/);
  // every documented field is accepted
  const v = e.scanMany([{ id: 1, text: t, author_role: 'member', author: { id: 'u', role: 'staff', ageDays: 3, age_days: 3 }, channel: 'c', ts: 5, ageDays: 1, age_days: 1, edit: false }]);
  assert.equal(v[0].action, 'HOLD');
});

test('onError "include": a post that cannot be scanned gets its error in its place, the others are scanned', () => {
  const posts = ['idiot', { id: 2 }, { id: 'five', text: 5 }, null, { text: 'x', author: { rol: 'staff' } }, 'moron', { id: 7, text: 'you get a full refund', author: { role: 'staff' } }];
  for (const batchSize of [1, 2, 3, 128]) {
    const vs = e.scanMany(posts, { onError: 'include', batchSize });
    assert.equal(vs.length, posts.length);
    assert.equal(vs[0].action, 'FLAG');
    for (const [i, id, re] of [
      [1, 2, /^post 1 \(id 2\): an object post needs a "text"/],
      [2, 'five', /^post 2 \(id "five"\): text must be a string, a Buffer or a Uint8Array, not number/],
      [3, undefined, /^post 3: a post is a string, a Buffer or an object with a "text", not null/],
      [4, undefined, /^post 4: unknown author field 'rol'/],
    ]) {
      assert.ok(vs[i] instanceof modfilter.InvalidArgumentError, `post ${i}, batch ${batchSize}`);
      assert.equal(vs[i].status, -1);
      assert.equal(vs[i].code, 'MF_E_INVALID_ARG');
      assert.equal(vs[i].index, i);
      assert.equal(vs[i].id, id);
      assert.match(vs[i].message, re);
    }
    assert.equal(vs[5].action, 'HOLD');
    assert.equal(vs[6].action, 'HOLD');
    assert.equal(vs[6].id, 7);
  }
  // only bad posts: every one in its place
  const bad = e.scanMany([{ id: 'a' }, { id: 'b' }], { onError: 'include' });
  assert.deepEqual(bad.map((x) => [x instanceof modfilter.InvalidArgumentError, x.index, x.id]), [[true, 0, 'a'], [true, 1, 'b']]);
  // the default, "throw": the first such post throws, with its index and id
  assert.throws(() => e.scanMany(posts), (err) => {
    assert.ok(err instanceof modfilter.InvalidArgumentError);
    assert.equal(err.index, 1);
    assert.equal(err.id, 2);
    return true;
  });
  // options themselves are not a post's error: thrown in either mode
  assert.throws(() => e.scanMany(posts, { onError: 'include', rol: 'staff' }), modfilter.InvalidArgumentError);
});

test('onError "include": posts that cannot be scanned and posts too large, mixed', { skip: ASAN_SKIP }, () => {
  const small = engine({ maxPostBytes: 16 });
  try {
    const posts = ['idiot', { id: 'nt' }, 'x'.repeat(17), { text: 5 }, 'moron', { id: 'big', text: 'y'.repeat(40) }, 'fine'];
    for (const batchSize of [1, 2, 3, 128]) {
      const vs = small.scanMany(posts, { onError: 'include', batchSize });
      assert.equal(vs.length, posts.length);
      assert.equal(vs[0].action, 'FLAG');
      assert.ok(vs[1] instanceof modfilter.InvalidArgumentError);
      assert.equal(vs[1].index, 1);
      assert.equal(vs[1].id, 'nt');
      assert.ok(vs[2] instanceof modfilter.PostTooLargeError);
      assert.equal(vs[2].index, 2);
      assert.ok(vs[3] instanceof modfilter.InvalidArgumentError);
      assert.equal(vs[3].index, 3);
      assert.equal(vs[4].action, 'HOLD');
      assert.ok(vs[5] instanceof modfilter.PostTooLargeError);
      assert.equal(vs[5].index, 5);
      assert.equal(vs[5].id, 'big');
      assert.equal(vs[6].action, 'ALLOW');
    }
  } finally {
    small.close();
  }
});
