'use strict';
// The package a NodeBB site installs: `npm pack` makes a tarball with the code and the types, and
// that tarball installs with npm and scans (koffi comes from the npm cache or the registry).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const PKG = path.join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

test('index.d.ts declares every runtime export', () => {
  const runtime = Object.keys(require(PKG)).sort();
  const dts = fs.readFileSync(path.join(PKG, 'index.d.ts'), 'utf8');
  const declared = [...dts.matchAll(/^export (?:class|function|const) (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual([...new Set(declared)].sort(), runtime);
});

test('npm pack ships the code, the types and the README, and the tarball installs and scans', (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-node-pack-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  if (env.MODFILTER_LIBRARY) env.MODFILTER_LIBRARY = path.resolve(env.MODFILTER_LIBRARY); // the site runs elsewhere
  const out = execFileSync(npm, ['pack', '--json', '--pack-destination', tmp], { cwd: PKG, encoding: 'utf8', env });
  const [info] = JSON.parse(out);
  const files = info.files.map((f) => f.path).sort();
  for (const want of ['index.js', 'index.d.ts', 'README.md', 'package.json', 'lib/engine.js', 'lib/native.js', 'lib/errors.js', 'lib/text.js']) {
    assert.ok(files.includes(want), `${want} missing from ${files}`);
  }
  assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('node_modules/')), files.join(' '));
  const site = path.join(tmp, 'site');
  fs.mkdirSync(site);
  fs.writeFileSync(path.join(site, 'package.json'), '{"name": "site", "version": "1.0.0", "private": true}');
  execFileSync(npm, ['install', '--prefer-offline', '--no-save', path.join(tmp, info.filename)], { cwd: site, env, stdio: 'pipe' });
  const code = "const m = require('modfilter'); const e = new m.Engine(); console.log(e.scan('You are an idiot').action)";
  const action = execFileSync(process.execPath, ['-e', code], { cwd: site, encoding: 'utf8', env }).trim();
  assert.equal(action, 'FLAG');
});
