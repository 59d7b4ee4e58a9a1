// Speed of one npm profanity filter over a file of posts (one per line), for bench/compare.sh.
//
//   node bench/peers_speed.cjs 2toad|obscenity FILE > verdicts
//
// Writes one line per post to stdout, 1 when the filter flags it and 0 when not (so the work cannot
// be skipped), and one JSON line to stderr: {"filter", "posts", "flagged", "load_ms", "scan_ms"},
// where load_ms is loading the package and building the filter, and scan_ms is reading the file,
// checking every line and writing the answers. Each filter runs its usual "does this contain
// profanity" call in its documented default English configuration, as bench/quality/peers.cjs does.
// The packages come from bench/quality/node_modules (npm ci --prefix bench/quality).
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const t0 = process.hrtime.bigint();
const [name, file] = process.argv.slice(2);
const peerRequire = createRequire(path.join(__dirname, 'quality', 'package.json'));

let check;
if (name === '2toad') {
  const { profanity } = peerRequire('@2toad/profanity');
  check = (t) => profanity.exists(t);
} else if (name === 'obscenity') {
  const { RegExpMatcher, englishDataset, englishRecommendedTransformers } = peerRequire('obscenity');
  const matcher = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
  check = (t) => matcher.hasMatch(t);
} else {
  process.stderr.write('usage: node peers_speed.cjs 2toad|obscenity FILE\n');
  process.exit(2);
}
const t1 = process.hrtime.bigint();

const lines = fs.readFileSync(file, 'utf8').split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
const out = new Array(lines.length);
let flagged = 0;
for (let i = 0; i < lines.length; ++i) {
  const hit = check(lines[i]);
  flagged += hit ? 1 : 0;
  out[i] = hit ? '1' : '0';
}
process.stdout.write(out.join('\n') + '\n');
const t2 = process.hrtime.bigint();

const ms = (a, b) => Number(b - a) / 1e6;
process.stderr.write(JSON.stringify({ filter: name, posts: lines.length, flagged,
  load_ms: ms(t0, t1), scan_ms: ms(t1, t2) }) + '\n');
