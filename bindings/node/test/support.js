'use strict';
// Shared by the tests: loads modfilter from this checkout and defines a small rule pack, so the tests
// do not depend on the default packs' content. ctest sets MODFILTER_LIBRARY to the library it built;
// without it the binding finds build/capi/ of the checkout.
//   MODFILTER_LIBRARY=build/capi/libmodfilter.so node --test bindings/node/test/
const fs = require('node:fs');
const path = require('node:path');

const modfilter = require(path.join(__dirname, '..'));

// A small pack that does not depend on the default packs' content, shared with the other bindings' tests.
const RULES = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'tests', 'data', 'bindings-pack.toml'), 'utf8');

// The sanitizer leg (ctest sets MF_SANITIZE=1 and preloads ASan into node): koffi runs each C call on a
// stack of its own, which AddressSanitizer cannot follow when a C++ exception unwinds inside the
// library (rule mistakes, corrupt files and too-large posts are thrown and caught inside it): it then
// reports stack overflows that are not there. Those tests are skipped in that leg only, with this
// reason; the C API tests run the same paths under the sanitizer.
const ASAN_SKIP = process.env.MF_SANITIZE === '1'
  ? 'sanitizer leg: a C++ exception inside the library unwinds on koffi\'s own stack, which ASan cannot follow (false reports); tests/test_capi.cpp covers this path under ASan'
  : false;

function engine(options) {
  return modfilter.Engine.fromText(RULES, options);
}

module.exports = { modfilter, RULES, engine, ASAN_SKIP };
