'use strict';
// Text as the C library sees it: UTF-8 bytes plus their length, and back from byte offsets to
// JavaScript string indices (UTF-16 code units).
//
// A well-formed string is encoded by Node itself (Buffer#write). A string holding a lone surrogate
// (half of an emoji cut in two, which JavaScript allows) is not valid Unicode: like the CLI, the
// binding passes each lone surrogate to the engine as one invalid byte (0xFF), which the engine
// counts in `invalidUtf8` and matches as U+FFFD, and offsets still count it as one string index.

const LONE_SURROGATE_BYTE = 0xff;

const isWellFormed = typeof String.prototype.isWellFormed === 'function'
  ? (s) => s.isWellFormed()
  : (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/** UTF-8 length of an ill-formed string, each lone surrogate counted as one byte. */
function byteLengthIllFormed(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) { n += 4; i++; } else n += 1;
    } else if (c >= 0xdc00 && c <= 0xdfff) n += 1;
    else n += 3;
  }
  return n;
}

/** Writes an ill-formed string at buf[off]; returns the bytes written (byteLengthIllFormed(s)). */
function writeIllFormed(buf, off, s) {
  let o = off;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) { buf[o++] = c; continue; }
    if (c < 0x800) { buf[o++] = 0xc0 | (c >> 6); buf[o++] = 0x80 | (c & 63); continue; }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = c <= 0xdbff && i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        buf[o++] = 0xf0 | (c >> 18);
        buf[o++] = 0x80 | ((c >> 12) & 63);
        buf[o++] = 0x80 | ((c >> 6) & 63);
        buf[o++] = 0x80 | (c & 63);
        i++;
      } else {
        buf[o++] = LONE_SURROGATE_BYTE;
      }
      continue;
    }
    buf[o++] = 0xe0 | (c >> 12);
    buf[o++] = 0x80 | ((c >> 6) & 63);
    buf[o++] = 0x80 | (c & 63);
  }
  return o - off;
}

/**
 * Maps UTF-8 byte offsets in the encoding of `s` (as above) to indices into `s`. `offsets` must be
 * sorted ascending. An offset inside a code point (which the library never reports) maps to the
 * index after it. Returns a Map from offset to index.
 */
function byteToIndex(s, offsets) {
  const map = new Map();
  let i = 0;
  let b = 0;
  const len = s.length;
  for (const target of offsets) {
    while (b < target && i < len) {
      const c = s.charCodeAt(i);
      if (c < 0x80) { b += 1; i += 1; } else if (c < 0x800) { b += 2; i += 1; } else if (c >= 0xd800 && c <= 0xdbff) {
        const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) { b += 4; i += 2; } else { b += 1; i += 1; }
      } else if (c >= 0xdc00 && c <= 0xdfff) { b += 1; i += 1; } else { b += 3; i += 1; }
    }
    map.set(target, i);
  }
  return map;
}

module.exports = { isWellFormed, byteLengthIllFormed, writeIllFormed, byteToIndex, LONE_SURROGATE_BYTE };
