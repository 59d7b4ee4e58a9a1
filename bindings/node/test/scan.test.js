'use strict';
// Scanning one post: actions, categories, hits, offsets in bytes and in string indices, roles, censoring.
const test = require('node:test');
const assert = require('node:assert/strict');
const { modfilter, engine, RULES } = require('./support');

const e = engine();
test.after(() => e.close());

test('the issue example: a hit with its rule, category, span and text', () => {
  const v = e.scan('You are an idiot', { role: 'member' });
  assert.equal(v.action, 'FLAG');
  assert.equal(v.actionCode, 1);
  assert.deepEqual(v.categories, { 'abuse.harassment': 2 });
  assert.deepEqual(v.hits.map((h) => [h.rule, h.category, h.severity, h.score, h.start, h.end, h.byteStart, h.byteEnd, h.text]),
    [['harass.idiot', 'abuse.harassment', 'medium', 2, 11, 16, 11, 16, 'idiot']]);
  assert.equal(v.censored, null);
  assert.ok(v instanceof modfilter.Verdict);
});

test('a clean post is allowed; an empty post is a valid post', () => {
  for (const t of ['Thanks, the update fixed my problem.', '', Buffer.alloc(0), new Uint8Array(0)]) {
    const v = e.scan(t);
    assert.equal(v.action, 'ALLOW');
    assert.deepEqual(v.categories, {});
    assert.deepEqual(v.hits, []);
    assert.equal(v.invalidUtf8, 0);
    assert.equal(v.hitsTruncated, false);
  }
});

test('scores add per distinct rule and reach the thresholds', () => {
  let v = e.scan('idiot, idiot, idiot');
  assert.deepEqual(v.categories, { 'abuse.harassment': 2 });
  assert.equal(v.hits.length, 3);
  v = e.scan('idiot and moron');
  assert.deepEqual(v.categories, { 'abuse.harassment': 6 });
  assert.equal(v.action, 'HOLD');
  v = e.scan('I will kill you');
  assert.equal(v.action, 'REJECT');
  assert.equal(v.actionCode, 3);
  v = e.scan('cheap watches');
  assert.equal(v.action, 'ALLOW');
  assert.deepEqual(v.categories, { 'spam.commercial': 1 });
  assert.deepEqual(modfilter.ACTIONS, ['ALLOW', 'FLAG', 'HOLD', 'REJECT']);
});

test('category details carry their own action and route', () => {
  const v = e.scan('idiot. I will kill you');
  const d = Object.fromEntries(v.categoryDetails.map((c) => [c.name, c]));
  assert.deepEqual(Object.keys(d).sort(), ['abuse.harassment', 'abuse.threat']);
  assert.equal(d['abuse.threat'].action, 'REJECT');
  assert.equal(d['abuse.harassment'].action, 'FLAG');
  assert.equal(typeof d['abuse.threat'].route, 'string');
});

test('roles: promise rules apply to staff only', () => {
  const t = 'We will give you a full refund.';
  assert.deepEqual(e.scan(t).hits, []);
  assert.deepEqual(e.scan(t, { role: 'member' }).hits, []);
  for (const role of ['staff', 'STAFF', 1]) {
    const v = e.scan(t, { role });
    assert.deepEqual(v.hits.map((h) => h.rule), ['promise.refund'], String(role));
    assert.equal(v.action, 'HOLD');
  }
  assert.throws(() => e.scan(t, { role: 'admin' }), modfilter.InvalidArgumentError);
});

test('offsets are JavaScript string indices (UTF-16) beside UTF-8 byte offsets', () => {
  // astral emoji (4 bytes, 2 code units), accents (2 bytes), Cyrillic (2 bytes), CJK (3 bytes)
  const text = '😀😀 Café — 東京: tu es un crétin 👍🏽, ты дурак, idiot!';
  const v = e.scan(text);
  const bytes = Buffer.from(text);
  const want = [['fr.cretin', 'crétin'], ['ru.durak', 'дурак'], ['harass.idiot', 'idiot']].map(([rule, w]) => {
    const i = text.indexOf(w);
    const b = bytes.indexOf(Buffer.from(w));
    return [rule, i, i + w.length, b, b + Buffer.byteLength(w), w];
  });
  assert.deepEqual(v.hits.map((h) => [h.rule, h.start, h.end, h.byteStart, h.byteEnd, h.text]), want);
  for (const h of v.hits) {
    assert.equal(text.slice(h.start, h.end), h.text);
    assert.equal(bytes.subarray(h.byteStart, h.byteEnd).toString(), h.text);
  }
});

test('offsets after many astral characters', () => {
  const text = '🎉'.repeat(300) + ' idiot ' + '𝔘'.repeat(50) + ' moron';
  const v = e.scan(text);
  assert.deepEqual(v.hits.map((h) => [h.start, h.end]), [[601, 606], [708, 713]]);
  assert.deepEqual(v.hits.map((h) => [h.byteStart, h.byteEnd]), [[1201, 1206], [1408, 1413]]);
});

test('a Buffer post gives byte offsets and Buffer texts', () => {
  const data = Buffer.from('Café idiot');
  const v = e.scan(data);
  assert.deepEqual(v.hits.map((h) => [h.start, h.end, h.byteStart, h.byteEnd]), [[6, 11, 6, 11]]);
  assert.ok(Buffer.isBuffer(v.hits[0].text));
  assert.equal(v.hits[0].text.toString(), 'idiot');
});

test('a Uint8Array view into a larger buffer is scanned from its own offset', () => {
  const big = Buffer.from('XXXXXXXX you idiot YYYY');
  const view = new Uint8Array(big.buffer, big.byteOffset + 9, 9); // "you idiot"
  const v = e.scan(view);
  assert.deepEqual(v.hits.map((h) => [h.start, h.end]), [[4, 9]]);
  const v2 = e.scan(view, { censor: true, id: 'x' });
  assert.equal(v2.censored.toString(), 'you *****');
});

test('invalid UTF-8 passed as exact bytes is tolerated and counted', () => {
  const data = Buffer.from([0xff, 0xfe, 0x20, ...Buffer.from('idiot'), 0xc3]);
  const v = e.scan(data);
  assert.ok(v.invalidUtf8 >= 2, String(v.invalidUtf8));
  assert.deepEqual(v.hits.map((h) => [h.start, h.end]), [[3, 8]]);
  assert.equal(data.subarray(3, 8).toString(), 'idiot');
});

test('a lone surrogate in a string is one invalid byte, and indices still index the string', () => {
  for (const text of ['\uD800 idiot', '\uDFFF idiot', 'a\uD83D\uD83D idiot']) {
    const v = e.scan(text, { censor: true });
    assert.ok(v.invalidUtf8 >= 1, JSON.stringify(text));
    const i = text.indexOf('idiot');
    assert.deepEqual(v.hits.map((h) => [h.start, h.end, h.text]), [[i, i + 5, 'idiot']]);
    assert.ok(v.censored.endsWith(' *****'));
  }
  // U+FFFD written as such is valid text; next to a lone surrogate, only the surrogate is invalid
  assert.equal(e.scan('\uFFFD idiot').invalidUtf8, 0);
  const mixed = e.scan('\uFFFD \uD800 idiot');
  assert.equal(mixed.invalidUtf8, 1);
  assert.deepEqual(mixed.hits.map((h) => [h.start, h.byteStart]), [[4, 6]]);
  // a broken emoji next to a whole one
  const text = '😀\uD83D 😀 idiot';
  const v = e.scan(text);
  assert.equal(text.slice(v.hits[0].start, v.hits[0].end), 'idiot');
  assert.equal(v.hits[0].byteStart, 4 + 1 + 1 + 4 + 1);
});

test('a hit in quoted text is marked, and an insult quoted in a reply is not flagged', () => {
  const v = e.scan('> You are an idiot\nPlease keep it civil, everyone.', { role: 'member' });
  assert.equal(v.action, 'ALLOW');
  assert.ok(v.hits.length > 0);
  for (const h of v.hits) assert.equal(h.quoted, true);
  for (const h of e.scan('You are an idiot').hits) assert.equal(h.quoted, false);
});

test('evasion is reported, with string offsets', () => {
  const cases = [
    ['you ｉｄｉｏｔ', 'ｉｄｉｏｔ', 'compat'],
    ['you i\u200bdiot', 'i\u200bdiot', 'invisible'],
    ['you i\u0301diot', 'i\u0301diot', 'combining'],
    ['😀 you іdiot', 'іdiot', 'confusable'],
  ];
  for (const [text, span, flag] of cases) {
    const v = e.scan(text, { censor: true });
    assert.deepEqual(v.hits.map((h) => h.text), [span], text);
    assert.ok(v.hits[0].evasion.includes(flag), `${text}: ${v.hits[0].evasion}`);
    assert.ok(v.evasion.includes(flag), text);
    assert.equal(v.censored, text.replace(span, '*'.repeat([...span].length)));
  }
});

test('censor: one star per code point, strings stay strings and bytes stay bytes', () => {
  assert.equal(e.scan('You are an idiot', { censor: true }).censored, 'You are an *****');
  assert.equal(e.scan('😀 quel crétin !', { censor: true }).censored, '😀 quel ****** !');
  assert.equal(e.scan('nothing to hide', { censor: true }).censored, 'nothing to hide');
  assert.equal(e.scan('', { censor: true }).censored, '');
  const b = e.scan(Buffer.from('idiot'), { censor: true }).censored;
  assert.ok(Buffer.isBuffer(b));
  assert.equal(b.toString(), '*****');
});

test('a verdict is plain data: JSON-ready and independent of later scans and of close()', () => {
  const other = engine();
  const first = other.scan('😀 idiot', { censor: true, id: 17 });
  other.scan('I will kill you, moron');
  other.close();
  assert.equal(first.action, 'FLAG');
  assert.deepEqual(first.hits.map((h) => h.rule), ['harass.idiot']);
  const j = JSON.parse(JSON.stringify(first));
  assert.equal(j.action, 'FLAG');
  assert.equal(j.id, 17);
  assert.equal(j.hits[0].start, 3);
  assert.equal(j.hits[0].byteStart, 5);
  assert.equal(j.censored, '😀 *****');
});

test('a long post and a large one both scan, and the engine stays usable', () => {
  const long = 'fine words '.repeat(200000) + 'idiot';
  const v = e.scan(long);
  assert.deepEqual(v.hits.map((h) => h.start), [long.length - 5]);
  assert.equal(e.scan('idiot').action, 'FLAG');
});

test('the text must be a string, a Buffer or a Uint8Array: null and others are clear errors', () => {
  for (const bad of [null, undefined, 42, {}, ['idiot'], new ArrayBuffer(4)]) {
    assert.throws(() => e.scan(bad), (err) => {
      assert.ok(err instanceof modfilter.InvalidArgumentError);
      assert.ok(err instanceof modfilter.ModfilterError);
      assert.equal(err.status, -1);
      assert.equal(err.code, 'MF_E_INVALID_ARG');
      assert.match(err.message, /must be a string, a Buffer or a Uint8Array/);
      return true;
    });
  }
  assert.throws(() => e.scan('x', 'staff'), modfilter.InvalidArgumentError);
});

test('the default packs: new Engine() with no arguments', () => {
  const d = new modfilter.Engine();
  try {
    assert.ok(d.ruleCount > 10);
    assert.equal(d.rules.length, d.ruleCount);
    assert.ok(['low', 'medium', 'high', 'critical'].includes(d.rules[0].severity));
    assert.equal(d.scan('You are an idiot').action, 'FLAG');
    assert.equal(d.scan('We will refund everyone by Friday, guaranteed.', { role: 'member' }).action, 'ALLOW');
    assert.notEqual(d.scan('We will refund everyone by Friday, guaranteed.', { role: 'staff' }).action, 'ALLOW');
  } finally {
    d.close();
  }
  assert.match(modfilter.libraryVersion(), /^\d+\.\d+\.\d+$/);
  assert.ok(modfilter.libraryPath().length > 0);
});

test('engine options: thresholds, maxHits', () => {
  const strict = engine({ flagThreshold: 1, holdThreshold: 2, rejectThreshold: 3 });
  assert.equal(strict.scan('cheap').action, 'FLAG');
  assert.equal(strict.scan('idiot').action, 'HOLD');
  assert.equal(strict.scan('moron').action, 'REJECT');
  strict.close();
  const few = engine({ maxHits: 2 });
  const v = few.scan('idiot idiot idiot idiot');
  assert.equal(v.hits.length, 2);
  assert.equal(v.hitsTruncated, true);
  few.close();
  assert.throws(() => engine({ maxHits: 0 }), modfilter.InvalidArgumentError);
  assert.throws(() => engine({ flagThreshold: -1 }), modfilter.InvalidArgumentError);
  assert.throws(() => engine({ maxPostBytes: 1.5 }), modfilter.InvalidArgumentError);
});

test('unknown option keys are refused, naming the key and the closest allowed one; censor is a boolean', (t) => {
  const refund = 'you get a full refund';
  assert.equal(e.scan(refund, { role: 'staff' }).action, 'HOLD');
  assert.throws(() => e.scan(refund, { rol: 'staff' }), (err) => {
    assert.ok(err instanceof modfilter.InvalidArgumentError);
    assert.equal(err.status, -1);
    assert.equal(err.code, 'MF_E_INVALID_ARG');
    assert.match(err.message, /unknown scan option 'rol' \(did you mean 'role'\?\)/);
    assert.match(err.message, /allowed: role, censor, id, author, channel, ts, ageDays, age_days, edit/);
    return true;
  });
  assert.throws(() => e.scan(refund, { Role: 'staff' }), /did you mean 'role'/);
  assert.throws(() => e.scan(refund, { colour: 'red' }), (err) => /unknown scan option 'colour'; allowed: /.test(err.message));
  for (const bad of ['no', 'false', 1, 0, {}]) {
    assert.throws(() => e.scan('idiot', { censor: bad }), (err) => err instanceof modfilter.InvalidArgumentError && /censor must be true or false/.test(err.message), String(bad));
  }
  assert.equal(e.scan('idiot', { censor: false }).censored, null);
  assert.equal(e.scan('idiot', { censor: undefined }).censored, null);
  assert.equal(e.scan('idiot', { censor: true }).censored, '*****');
  assert.throws(() => e.scan('idiot', { edit: 'no' }), /edit must be true or false/);
  // engine options, in every constructor
  assert.throws(() => engine({ flagThreshhold: 5 }), (err) => {
    assert.ok(err instanceof modfilter.InvalidArgumentError);
    assert.match(err.message, /unknown engine option 'flagThreshhold' \(did you mean 'flagThreshold'\?\)/);
    assert.match(err.message, /allowed: flagThreshold, holdThreshold, rejectThreshold, maxPostBytes, maxHits/);
    return true;
  });
  assert.throws(() => new modfilter.Engine({ flagThreshhold: 5 }), /unknown engine option 'flagThreshhold'.*allowed: rules, rulesText, flagThreshold/);
  assert.throws(() => new modfilter.Engine({ max_hits: 5 }), /did you mean 'maxHits'/);
  assert.throws(() => modfilter.Engine.fromText(RULES, { rules: '/tmp' }), /unknown engine option 'rules'/);
  assert.throws(() => modfilter.Engine.fromRules('/nonexistent', { rulesText: RULES }), /unknown engine option 'rulesText'/);
  const data = e.serialize();
  assert.throws(() => modfilter.Engine.fromBuffer(data, { maxHit: 3 }), /did you mean 'maxHits'/);
  assert.throws(() => modfilter.Engine.fromDatabase('/nonexistent.mfdb', { maxHit: 3 }), (err) => err instanceof modfilter.InvalidArgumentError);
  const ok = modfilter.Engine.fromBuffer(data, { maxHits: 3 });
  assert.equal(ok.scan('idiot').action, 'FLAG');
  ok.close();
  // State options
  assert.throws(() => new modfilter.State({ memoryBudjet: 1 << 20 }), /unknown State option 'memoryBudjet' \(did you mean 'memoryBudget'\?\)/);
  const s = new modfilter.State({ memoryBudget: 1 << 20 });
  t.after(() => s.close());
});
