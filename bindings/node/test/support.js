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

function engine(options) {
  return modfilter.Engine.fromText(RULES, options);
}

module.exports = { modfilter, RULES, engine };
