#!/usr/bin/env node
'use strict';
/*
 * Node binding vs C API, side by side on the same ~1 KB real posts, in one run: what a call from
 * JavaScript costs on top of the C library's own time per post.
 *
 *   MODFILTER_LIBRARY=build/capi/libmodfilter.so node bench/node/bench_node.js [--posts 2000] [--rounds 7]
 *
 * 1. cuts N posts of about 1 KB from real forum threads ($MF_SHARED/domain/*.txt, default ../shared
 *    beside the repository: community managers' threads), at seeded random offsets, snapped to
 *    word boundaries, whitespace collapsed, one post per line;
 * 2. compiles bench/python/c_baseline.c (the Python bench's C side) against the same libmodfilter
 *    and runs it on that file: mf_scan_text per post and mf_scan_batch(128), each reading back every
 *    category and hit, best of the rounds;
 * 3. checks that Engine.scan and Engine.scanMany find the same actions and hits as C;
 * 4. times Engine.scan per post and Engine.scanMany (both build complete Verdict objects: hits with
 *    byte and string offsets, categories, routes), best of the rounds, and prints the cost per post
 *    on top of C's.
 *
 * Targets (issue 13): scanMany <= 2 us per post on top of C's batch, scan <= 5 us on top of C's single call.
 * Exit status 1 when a target is missed. A benchmark, not a test: ctest does not run it.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const modfilter = require(path.join(ROOT, 'bindings', 'node'));

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makePosts(n, size) {
  const shared = process.env.MF_SHARED || path.join(ROOT, '..', 'shared');
  const dir = path.join(shared, 'domain');
  let files = [];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  } catch (_) { /* below */ }
  if (!files.length) {
    console.error(`bench: no real text in ${dir} (set MF_SHARED to the shared data directory)`);
    process.exit(2);
  }
  const texts = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8').replace(/\s+/g, ' ').trim())
    .filter((t) => Buffer.byteLength(t) > size * 2);
  const rnd = mulberry32(42);
  const posts = [];
  while (posts.length < n) {
    const t = texts[Math.floor(rnd() * texts.length)];
    let start = Math.floor(rnd() * (t.length - size));
    start = t.indexOf(' ', start) + 1;
    let post = t.slice(start, start + size);
    while (Buffer.byteLength(post) > size) post = post.slice(0, -1);
    post = post.slice(0, post.lastIndexOf(' '));
    if (post.length > size / 2) posts.push(post);
  }
  return posts;
}

function compileC(lib, dir) {
  const cc = process.env.CC || 'cc';
  const exe = path.join(dir, 'c_baseline');
  execFileSync(cc, ['-O2', '-std=c11', '-pthread', '-I', path.join(ROOT, 'capi', 'include'),
    path.join(ROOT, 'bench', 'python', 'c_baseline.c'), path.resolve(lib),
    `-Wl,-rpath,${path.dirname(path.resolve(lib))}`, '-o', exe], { stdio: 'inherit' });
  return exe;
}

function bestOf(rounds, fn) {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (t < best) best = t;
  }
  return best;
}

const checksum = (vs) => vs.reduce((s, v) => s + v.actionCode + 16 * v.hits.length, 0);

function main() {
  const n = Number(arg('posts', 2000));
  const rounds = Number(arg('rounds', 7));
  const batch = Number(arg('batch', 128));
  const size = Number(arg('size', 1024));
  const lib = modfilter.libraryPath();
  if (!lib.includes(path.sep)) {
    console.error("bench: set MODFILTER_LIBRARY to the library's path, so the C baseline links the same file");
    process.exit(2);
  }
  const posts = makePosts(n, size);
  const bytes = posts.reduce((s, p) => s + Buffer.byteLength(p), 0);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-bench-node-'));
  let c;
  try {
    const file = path.join(tmp, 'posts.txt');
    fs.writeFileSync(file, posts.join('\n'));
    const exe = compileC(lib, tmp);
    c = JSON.parse(execFileSync(exe, [file, '-', String(rounds), String(batch)], { encoding: 'utf8' }));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (c.posts !== posts.length || c.bytes !== bytes) throw new Error(`C read ${c.posts} posts / ${c.bytes} bytes, expected ${posts.length} / ${bytes}`);

  const engine = new modfilter.Engine();
  // correctness first: same actions and hits on both sides
  const single = posts.map((p) => engine.scan(p));
  const many = engine.scanMany(posts, { batchSize: batch });
  const sums = [checksum(single), checksum(many), c.checksum_single, c.checksum_batch];
  if (new Set(sums).size !== 1) {
    console.error(`bench: results differ between C and Node: ${sums.join(' ')}`);
    process.exit(1);
  }
  const flagged = single.filter((v) => v.action !== 'ALLOW').length;
  const withHits = single.filter((v) => v.hits.length).length;
  const nonAscii = posts.filter((p) => Buffer.byteLength(p) !== p.length).length;

  for (let w = 0; w < 3; w++) { posts.forEach((p) => engine.scan(p)); engine.scanMany(posts, { batchSize: batch }); } // warm up the JIT
  const tScan = (bestOf(rounds, () => { for (const p of posts) engine.scan(p); }) / n) * 1e6;
  const tMany = (bestOf(rounds, () => engine.scanMany(posts, { batchSize: batch })) / n) * 1e6;
  const bufs = posts.map((p) => Buffer.from(p));
  const tScanBuf = (bestOf(rounds, () => { for (const b of bufs) engine.scan(b); }) / n) * 1e6;

  console.log(`modfilter ${modfilter.libraryVersion()} (${lib}), Node ${process.version}, koffi ${require(path.join(ROOT, 'bindings', 'node', 'node_modules', 'koffi', 'package.json')).version}`);
  console.log(`${n} real posts of ${Math.round(bytes / n)} bytes on average (${nonAscii} non-ASCII, ${withHits} with hits, ${flagged} not ALLOW), best of ${rounds}`);
  console.log('');
  const rows = [
    ['C    mf_scan_text + read verdict', c.single_us, null],
    [`C    mf_scan_batch(${batch}) + read verdicts`, c.batch_us, null],
    ['Node engine.scan(string)', tScan, tScan - c.single_us],
    ['Node engine.scan(Buffer)', tScanBuf, tScanBuf - c.single_us],
    [`Node engine.scanMany (batch ${batch})`, tMany, tMany - c.batch_us],
  ];
  console.log(`${''.padEnd(40)} ${'us/post'.padStart(9)} ${'posts/s'.padStart(9)} ${'on top of C'.padStart(12)}`);
  for (const [name, us, extra] of rows) {
    console.log(`${name.padEnd(40)} ${us.toFixed(2).padStart(9)} ${Math.round(1e6 / us).toString().padStart(9)} ${extra === null ? '' : `${extra.toFixed(2)} us`.padStart(12)}`);
  }
  const okMany = tMany - c.batch_us <= 2;
  const okScan = tScan - c.single_us <= 5;
  console.log('');
  console.log(`target scanMany <= 2 us/post on top of C: ${okMany ? 'met' : 'MISSED'} (${(tMany - c.batch_us).toFixed(2)} us)`);
  console.log(`target scan     <= 5 us/post on top of C: ${okScan ? 'met' : 'MISSED'} (${(tScan - c.single_us).toFixed(2)} us)`);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ c, node_scan_us: tScan, node_scan_buffer_us: tScanBuf, node_scan_many_us: tMany }));
  }
  engine.close();
  process.exit(okMany && okScan ? 0 : 1);
}

main();
