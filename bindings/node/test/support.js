'use strict';
// Shared by the tests: loads modfilter from this checkout and defines a small rule pack, so the tests
// do not depend on the default packs' content. ctest sets MODFILTER_LIBRARY to the library it built;
// without it the binding finds build/capi/ of the checkout.
//   MODFILTER_LIBRARY=build/capi/libmodfilter.so node --test bindings/node/test/
const path = require('node:path');

const modfilter = require(path.join(__dirname, '..'));

const RULES = `\
[pack]
name = "test-pack"
applies_to = "everyone"

[[rule]]
id = "harass.idiot"
category = "abuse.harassment"
severity = "medium"
word = "idiot"

[[rule]]
id = "harass.moron"
category = "abuse.harassment"
severity = "high"
words = ["moron", "imbecile"]

[[rule]]
id = "threat.kill"
category = "abuse.threat"
severity = "critical"
phrase = "i will kill you"

[[rule]]
id = "fr.cretin"
category = "abuse.harassment"
severity = "medium"
word = "crétin"

[[rule]]
id = "ru.durak"
category = "abuse.harassment"
severity = "medium"
word = "дурак"

[[rule]]
id = "spam.cheap"
category = "spam.commercial"
severity = "low"
word = "cheap"

[[rule]]
id = "promise.refund"
category = "promise.refund"
severity = "high"
phrase = "full refund"
applies_to = "staff"
`;

function engine(options) {
  return modfilter.Engine.fromText(RULES, options);
}

module.exports = { modfilter, RULES, engine };
