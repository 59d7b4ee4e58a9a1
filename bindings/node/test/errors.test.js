'use strict';
// Errors: Error subclasses with the status code; rule mistakes name file and line; the library
// missing is one clear error naming what was looked for.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { modfilter, RULES, ASAN_SKIP } = require('./support');

const GOOD = '[[rule]]\nid = "x.idiot"\ncategory = "abuse.harassment"\nseverity = "medium"\nword = "idiot"\n';
// line 5 has the mistake
const BAD = '[[rule]]\nid = "x.moron"\ncategory = "abuse.harassment"\nword = "moron"\nseverity = "extreme"\n';

function tmpdir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function write(dir, rel, text) {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
}

test('Engine.fromRules: a directory of packs', (t) => {
  const dir = tmpdir(t);
  write(dir, 'a/good.toml', GOOD);
  const e = modfilter.Engine.fromRules(dir);
  assert.deepEqual(e.rules.map((r) => r.id), ['x.idiot']);
  assert.equal(e.scan('idiot').action, 'FLAG');
  e.close();
});

test('a rule mistake: RulesError with status, file and line', { skip: ASAN_SKIP }, (t) => {
  const dir = tmpdir(t);
  write(dir, 'a/good.toml', GOOD);
  const bad = write(dir, 'b/bad.toml', BAD);
  for (const where of [dir, bad]) {
    assert.throws(() => modfilter.Engine.fromRules(where), (err) => {
      assert.ok(err instanceof modfilter.RulesError);
      assert.ok(err instanceof modfilter.ModfilterError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'RulesError');
      assert.equal(err.status, -3);
      assert.equal(err.code, 'MF_E_RULES');
      assert.equal(err.file, bad);
      assert.equal(err.line, 5);
      assert.match(err.message, /bad\.toml:5: .*severity/);
      return true;
    });
  }
});

test('rules given as text: the line inside the text', { skip: ASAN_SKIP }, () => {
  assert.throws(() => modfilter.Engine.fromText(GOOD + '\n' + BAD), (err) => {
    assert.ok(err instanceof modfilter.RulesError);
    assert.equal(err.line, 11);
    assert.match(err.file, /memory/);
    return true;
  });
  assert.throws(() => modfilter.Engine.fromText('[[rule]]\nid = "a.b"\nword = "unterminated\n'), (err) => err.line === 3);
});

test('a missing rules path is an I/O error', () => {
  assert.throws(() => modfilter.Engine.fromRules('/nonexistent/modfilter-packs'), (err) => {
    assert.ok(err instanceof modfilter.RulesIOError);  // (the older name of the same class)
    assert.ok(err instanceof modfilter.ModfilterIOError);
    assert.equal(err.name, 'ModfilterIOError');
    assert.equal(err.status, -4);
    assert.match(err.message, /nonexistent/);
    return true;
  });
  assert.throws(() => modfilter.Engine.fromRules(''), modfilter.InvalidArgumentError);
});

test('checkRules lists every mistake without building an engine', { skip: ASAN_SKIP }, (t) => {
  const dir = tmpdir(t);
  write(dir, 'a/good.toml', GOOD);
  write(dir, 'b/bad.toml', BAD);
  write(dir, 'c/bad2.toml', BAD.replace('x.moron', 'x.moron2'));
  const found = modfilter.checkRules(dir).filter((d) => !d.message.startsWith('warning: '));
  assert.equal(found.length, 2);
  assert.deepEqual(found.map((d) => [path.basename(d.file), d.line]), [['bad.toml', 5], ['bad2.toml', 5]]);
  const good = tmpdir(t);
  write(good, 'good.toml', GOOD);
  assert.deepEqual(modfilter.checkRules(good), []);
});

test('every status has its own class and code, and the numbers never change', () => {
  const want = {
    InvalidArgumentError: -1, OutOfMemoryError: -2, RulesError: -3, ModfilterIOError: -4, VersionError: -5,
    BadDatabaseError: -6, DatabaseMismatchError: -7, PostTooLargeError: -8, BusyError: -9,
    NotFoundError: -10, StateCorruptError: -11, StateVersionError: -12, InternalError: -99,
  };
  for (const [name, status] of Object.entries(want)) {
    const Cls = modfilter[name];
    const err = new Cls('x', status);
    assert.ok(err instanceof modfilter.ModfilterError, name);
    assert.equal(err.name, name);
    assert.equal(err.status, status);
    assert.match(err.code, /^MF_E_[A-Z_]+$/);
  }
  assert.equal(modfilter.STATUS.TOO_LARGE, -8);
});

function runChild(env, code) {
  const r = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, out: (r.stdout || '') + (r.stderr || '') };
}

test('a missing or wrong library is one clear error naming what was looked for', (t) => {
  const index = JSON.stringify(path.join(__dirname, '..'));
  const code = `const m = require(${index});
    try { new m.Engine(); console.log('LOADED'); }
    catch (e) { console.log(e.name, e.code, e instanceof m.LibraryNotFoundError, JSON.stringify(e.tried)); console.log(e.message); }`;
  let r = runChild({ MODFILTER_LIBRARY: '/nonexistent/libmodfilter.so' }, code);
  assert.match(r.out, /^LibraryNotFoundError MF_LIBRARY_NOT_FOUND true/);
  assert.match(r.out, /\/nonexistent\/libmodfilter\.so/);
  assert.match(r.out, /MODFILTER_LIBRARY/);
  // a library that is not modfilter
  const libc = ['/lib/x86_64-linux-gnu/libz.so.1', '/usr/lib/x86_64-linux-gnu/libz.so.1', '/lib/aarch64-linux-gnu/libz.so.1'].find((p) => fs.existsSync(p));
  if (libc) {
    r = runChild({ MODFILTER_LIBRARY: libc }, code);
    assert.match(r.out, /not a modfilter library/);
  }
  // requiring the package never fails, even without a library
  r = runChild({ MODFILTER_LIBRARY: '/nonexistent/x.so' }, `require(${index}); console.log('required')`);
  assert.match(r.out, /required/);
});

test('a closed engine refuses to scan, clearly', () => {
  const e = modfilter.Engine.fromText(RULES);
  e.close();
  e.close();
  assert.equal(e.closed, true);
  assert.throws(() => e.scan('idiot'), /closed/);
  assert.throws(() => e.scanMany(['idiot']), /closed/);
  assert.throws(() => e.ruleCount, /closed/);
});
