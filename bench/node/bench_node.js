#!/usr/bin/env node
'use strict';
/*
 * Node binding vs C API, side by side on the same ~1 KB real posts, in one run: what a call from
 * JavaScript costs on top of the C library's own time per post.
 *
 *   python3 bench/corpora.py --only prose                 # once: build/bench-corpora/prose.txt
 *   MODFILTER_LIBRARY=build/capi/libmodfilter.so node bench/node/bench_node.js [--posts 2000] [--rounds 5] [--reps 3]
 *
 * 1. takes the first N posts of 896 to 1152 bytes of the prose corpus (real forum threads of
 *    community managers, cut into posts by bench/corpora.py; $MF_BENCH_CORPORA or build/bench-corpora);
 * 2. compiles bench/python/c_baseline.c (the Python bench's C side) against the same libmodfilter
 *    and runs it on that file: mf_scan_text per post and mf_scan_batch(128), each reading back every
 *    category and hit, best of the rounds;
 * 3. checks that Engine.scan and Engine.scanMany find the same actions and hits as C;
 * 4. times Engine.scan per post and Engine.scanMany (both build complete Verdict objects: hits with
 *    byte and string offsets, categories, routes), best of the rounds, and prints the cost per post
 *    on top of C's.
 *
 * 5. in this process, calls C through koffi directly (pre-encoded bytes, mf_post arrays built before
 *    timing, only the action read) and through the binding, taking turns post by post (chunk by
 *    chunk), each post timed at its best over the rounds: the binding's own cost, which a busy
 *    machine disturbs far less than two separate runs; then the same with an engine of one rule,
 *    where C's share (normalizing the text) is small.
 *
 * Targets (issue 13): scanMany <= 2 us per post on top of C's batch, scan <= 5 us on top of C's single
 * call, judged on the in-process figures of step 5. Exit status 1 when a target is missed. A
 * benchmark, not a test: ctest does not run it.
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

function makePosts(n, size) {
  const dir = process.env.MF_BENCH_CORPORA || path.join(ROOT, 'build', 'bench-corpora');
  const file = path.join(dir, 'prose.txt');
  if (!fs.existsSync(file)) {
    console.error(`bench: ${file} is missing: build the corpora first (python3 bench/corpora.py --only prose)`);
    process.exit(2);
  }
  // real forum prose, one post per line; the posts of about `size` bytes, in file order
  const lo = size * 0.875;
  const hi = size * 1.125;
  const posts = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const b = Buffer.byteLength(line);
    if (b >= lo && b <= hi) posts.push(line);
    if (posts.length === n) break;
  }
  if (posts.length < n) console.error(`bench: only ${posts.length} posts of ${lo}..${hi} bytes in ${file}`);
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

/*
 * The same C calls made straight through koffi (no binding code: pre-encoded bytes, mf_post arrays
 * built before timing, only the action read back) and the binding's calls, alternating post by post
 * (batch by batch), each side summing its own time: both see the same moments of the machine.
 */
function interleaved(posts, bufs, batch, rounds, engine, rulesText) {
  const native = require(path.join(ROOT, 'bindings', 'node', 'lib', 'native.js'));
  const { koffi, LAYOUT } = native;
  const f = native.lib().fns;
  const out = [null];
  const opts = {};
  f.mf_engine_options_init(opts, native.ENGINE_OPTIONS_VERSION);
  if (rulesText) {
    opts.rules_text = rulesText;
    opts.rules_text_len = Buffer.byteLength(rulesText);
  }
  if (f.mf_engine_create(out, opts)) throw new Error(`mf_engine_create failed: ${f.mf_last_error()}`);
  const eng = out[0];
  f.mf_scanner_create(out, eng);
  const scanner = out[0];
  f.mf_verdict_create(out);
  const verdict = out[0];
  const n = posts.length;
  // all texts in C memory, and one mf_post array per chunk
  const total = bufs.reduce((s, b) => s + b.length, 0);
  const textMem = koffi.alloc('uint8_t', total);
  const textBuf = Buffer.from(koffi.view(textMem, total));
  const P = LAYOUT.post;
  const postMem = koffi.alloc('uint8_t', n * P.size);
  const postDv = new DataView(koffi.view(postMem, n * P.size));
  const base = Number(textMem);
  let off = 0;
  for (let i = 0; i < n; i++) {
    textBuf.set(bufs[i], off);
    const o = i * P.size;
    postDv.setUint32(o + P.version, 2, true);
    postDv.setBigUint64(o + P.text, BigInt(base + off), true);
    postDv.setBigUint64(o + P.len, BigInt(bufs[i].length), true);
    postDv.setInt32(o + P.author_age_days, -1, true);
    off += bufs[i].length;
  }
  const verdicts = [];
  for (let i = 0; i < batch; i++) { f.mf_verdict_create(out); verdicts.push(out[0]); }
  const vMem = koffi.alloc('uint8_t', batch * 8);
  const vDv = new DataView(koffi.view(vMem, batch * 8));
  verdicts.forEach((v, i) => vDv.setBigUint64(i * 8, BigInt(v), true));
  const failed = koffi.alloc('uint8_t', 8);
  const chunks = [];
  for (let s = 0; s < n; s += batch) chunks.push([s, Math.min(batch, n - s)]);
  const now = process.hrtime.bigint;
  // each post's (each chunk's) best time over the rounds, on each side: a call the machine
  // preempted in one round is timed again in the next
  const rawT = new Array(n).fill(Infinity);
  const mineT = new Array(n).fill(Infinity);
  const rawB = new Array(chunks.length).fill(Infinity);
  const mineB = new Array(chunks.length).fill(Infinity);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) {
      // who goes first alternates, so neither side always finds the post warm in the caches
      for (let side = 0; side < 2; side++) {
        if ((side + i + r) % 2 === 0) {
          const t0 = now();
          f.mf_scan_text(scanner, verdict, bufs[i], bufs[i].length, 0);
          f.mf_verdict_action(verdict);
          const t = Number(now() - t0);
          if (t < rawT[i]) rawT[i] = t;
        } else {
          const t0 = now();
          engine.scan(posts[i]);
          const t = Number(now() - t0);
          if (t < mineT[i]) mineT[i] = t;
        }
      }
    }
    chunks.forEach(([s, k], c) => {
      const slice = posts.slice(s, s + k);
      for (let side = 0; side < 2; side++) {
        if ((side + c + r) % 2 === 0) {
          const t0 = now();
          f.mf_scan_batch(scanner, vMem, postMem + BigInt(s * P.size), k, failed);
          for (let j = 0; j < k; j++) f.mf_verdict_action(verdicts[j]);
          const t = Number(now() - t0) / k;
          if (t < rawB[c]) rawB[c] = t;
        } else {
          const t0 = now();
          engine.scanMany(slice, { batchSize: batch });
          const t = Number(now() - t0) / k;
          if (t < mineB[c]) mineB[c] = t;
        }
      }
    });
  }
  const avg = (a) => a.reduce((x, y) => x + y, 0) / a.length / 1000;
  const best = { rawScan: avg(rawT), scan: avg(mineT), rawBatch: avg(rawB), many: avg(mineB) };
  for (const v of verdicts) f.mf_verdict_destroy(v);
  f.mf_verdict_destroy(verdict);
  f.mf_scanner_destroy(scanner);
  f.mf_engine_destroy(eng);
  for (const m of [textMem, postMem, vMem, failed]) koffi.free(m);
  return best;
}

const checksum = (vs) => vs.reduce((s, v) => s + v.actionCode + 16 * v.hits.length, 0);

function main() {
  const n = Number(arg('posts', 2000));
  const rounds = Number(arg('rounds', 5));
  const batch = Number(arg('batch', 128));
  const size = Number(arg('size', 1024));
  const lib = modfilter.libraryPath();
  if (!lib.includes(path.sep)) {
    console.error("bench: set MODFILTER_LIBRARY to the library's path, so the C baseline links the same file");
    process.exit(2);
  }
  const posts = makePosts(n, size);
  const bytes = posts.reduce((s, p) => s + Buffer.byteLength(p), 0);
  const reps = Number(arg('reps', 3));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-bench-node-'));
  const file = path.join(tmp, 'posts.txt');
  fs.writeFileSync(file, posts.join('\n'));
  let exe;
  try {
    exe = compileC(lib, tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const runC = () => JSON.parse(execFileSync(exe, [file, '-', String(rounds), String(batch)], { encoding: 'utf8' }));
  let c = runC();
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
  // C and Node take turns, `reps` times, and each keeps its best: on a shared machine both then see
  // the same quiet moments.
  const bufs = posts.map((p) => Buffer.from(p));
  let tScan = Infinity;
  let tMany = Infinity;
  let tScanBuf = Infinity;
  for (let r = 0; r < reps; r++) {
    if (r > 0) {
      const again = runC();
      c.single_us = Math.min(c.single_us, again.single_us);
      c.batch_us = Math.min(c.batch_us, again.batch_us);
    }
    tScan = Math.min(tScan, (bestOf(rounds, () => { for (const p of posts) engine.scan(p); }) / n) * 1e6);
    tMany = Math.min(tMany, (bestOf(rounds, () => engine.scanMany(posts, { batchSize: batch })) / n) * 1e6);
    tScanBuf = Math.min(tScanBuf, (bestOf(rounds, () => { for (const b of bufs) engine.scan(b); }) / n) * 1e6);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  const inproc = interleaved(posts, bufs, batch, rounds * reps, engine, null);
  // The binding's cost isolated: an engine of one rule that never matches still normalizes every
  // post (about 3 us per KB), but C's share is then small, and so is the machine's noise in it.
  const ONE_RULE = '[[rule]]\nid = "bench.none"\ncategory = "spam.none"\nseverity = "low"\nword = "zzqxzzqx"\n';
  const tiny = modfilter.Engine.fromText(ONE_RULE);
  for (let w = 0; w < 3; w++) { posts.forEach((p) => tiny.scan(p)); tiny.scanMany(posts, { batchSize: batch }); }
  const isolated = interleaved(posts, bufs, batch, rounds * reps, tiny, ONE_RULE);
  tiny.close();

  console.log(`modfilter ${modfilter.libraryVersion()} (${lib}), Node ${process.version}, koffi ${require(path.join(ROOT, 'bindings', 'node', 'node_modules', 'koffi', 'package.json')).version}`);
  console.log(`${n} real posts of ${Math.round(bytes / n)} bytes on average (${nonAscii} non-ASCII, ${withHits} with hits, ${flagged} not ALLOW), best of ${rounds} rounds x ${reps} turns`);
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
  console.log('');
  console.log('In this process, C and Node taking turns post by post (chunk by chunk for batches), each post');
  console.log(`timed at its best of ${rounds * reps} rounds on each side: the binding's own cost, robust to a busy machine`);
  const rows2 = [
    ['C    mf_scan_text via koffi + action', inproc.rawScan, null],
    ['Node engine.scan(string)', inproc.scan, inproc.scan - inproc.rawScan],
    [`C    mf_scan_batch(${batch}) via koffi + actions`, inproc.rawBatch, null],
    [`Node engine.scanMany (batch ${batch})`, inproc.many, inproc.many - inproc.rawBatch],
  ];
  rows2.push(
    ['one-rule engine: C mf_scan_text + action', isolated.rawScan, null],
    ['one-rule engine: Node engine.scan', isolated.scan, isolated.scan - isolated.rawScan],
    [`one-rule engine: C mf_scan_batch(${batch})`, isolated.rawBatch, null],
    ['one-rule engine: Node engine.scanMany', isolated.many, isolated.many - isolated.rawBatch],
  );
  for (const [name, us, extra] of rows2) {
    console.log(`${name.padEnd(40)} ${us.toFixed(2).padStart(9)} ${Math.round(1e6 / us).toString().padStart(9)} ${extra === null ? '' : `${extra.toFixed(2)} us`.padStart(12)}`);
  }
  // The verdict uses the in-process figures (default packs, turn by turn); the separate-process
  // comparison with c_baseline is printed beside them: on a busy machine it moves by several us.
  const extraScan = inproc.scan - inproc.rawScan;
  const extraMany = inproc.many - inproc.rawBatch;
  const okScan = extraScan <= 5;
  const okMany = extraMany <= 2;
  console.log('');
  console.log(`target scan     <= 5 us/post on top of C: ${okScan ? 'met' : 'MISSED'} (${extraScan.toFixed(2)} us in this process; ${(tScan - c.single_us).toFixed(2)} us against c_baseline's separate run)`);
  console.log(`target scanMany <= 2 us/post on top of C: ${okMany ? 'met' : 'MISSED'} (${extraMany.toFixed(2)} us in this process; ${(tMany - c.batch_us).toFixed(2)} us against c_baseline's separate run)`);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ c, node_scan_us: tScan, node_scan_buffer_us: tScanBuf, node_scan_many_us: tMany, interleaved: inproc, isolated }));
  }
  engine.close();
  process.exit(okMany && okScan ? 0 : 1);
}

main();
