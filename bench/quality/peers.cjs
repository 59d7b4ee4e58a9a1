// Runs the npm profanity filters that run.py compares against modfilter's abuse packs.
// Input: JSON lines {"id": ..., "text": "..."} on stdin.
// Output: one JSON line per input: {"id": ..., "obscenity": bool, "@2toad/profanity": bool,
//         "bad-words": bool, "leo-profanity": bool} (true = the filter flags the text).
// Each filter runs with its documented default English configuration.
'use strict';
const readline = require('readline');

const { RegExpMatcher, englishDataset, englishRecommendedTransformers } = require('obscenity');
const { profanity } = require('@2toad/profanity');
const { Filter } = require('bad-words');
const leo = require('leo-profanity');

const obscenity = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
const badWords = new Filter();

function safe(fn, text) {
  try {
    return Boolean(fn(text));
  } catch (e) {
    return false;
  }
}

const filters = {
  'obscenity': (t) => obscenity.hasMatch(t),
  '@2toad/profanity': (t) => profanity.exists(t),
  'bad-words': (t) => badWords.isProfane(t),
  'leo-profanity': (t) => leo.check(t),
};

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
rl.on('line', (line) => {
  if (!line.trim()) return;
  const post = JSON.parse(line);
  const row = { id: post.id };
  for (const [name, fn] of Object.entries(filters)) row[name] = safe(fn, post.text);
  out.push(JSON.stringify(row));
  if (out.length >= 1000) process.stdout.write(out.splice(0).join('\n') + '\n');
});
rl.on('close', () => {
  if (out.length) process.stdout.write(out.join('\n') + '\n');
});
