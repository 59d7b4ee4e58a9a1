'use strict';
// index.d.ts type-checks real uses of the API (test/types/usage.ts) under tsc --strict.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const tsc = path.join(__dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc');

test('index.d.ts type-checks the documented uses under tsc --strict', () => {
  assert.ok(fs.existsSync(tsc), 'typescript is a devDependency: run npm ci in bindings/node');
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--esModuleInterop', '--types', 'node', path.join(__dirname, 'types', 'usage.ts')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('tsc does refuse a wrong use (the check can fail)', () => {
  const bad = path.join(__dirname, 'types', 'wrong.ts');
  fs.writeFileSync(bad, "import { Engine } from '../..';\nconst a: number = new Engine().scan('x').action;\nconsole.log(a);\n");
  try {
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--types', 'node', bad], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /TS2322/);
  } finally {
    fs.rmSync(bad, { force: true });
  }
});
