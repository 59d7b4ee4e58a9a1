import { Engine, State, Verdict, RulesError, ModfilterError, checkRules, STATUS } from '../..';
const e = Engine.fromRules('x', { maxHits: 3 });
const v: Verdict = e.scan('hi', { role: 'staff', censor: true, ts: new Date(), author: 'u1' });
const a: 'ALLOW' | 'FLAG' | 'HOLD' | 'REJECT' = v.action;
const r = e.scanMany(['a', Buffer.from('b'), { text: 'c', author: { id: 1, role: 'member' } }]);
const first: Verdict = r[0];
const mixed = e.scanMany(['a'], { onError: 'include' });
for (const x of mixed) { if (x instanceof ModfilterError) console.log(x.index, x.status); else console.log(x.hits[0]?.byteStart); }
try { Engine.fromText('x'); } catch (err) { if (err instanceof RulesError) console.log(err.file, err.line, err.code); }
e.state = new State({ memoryBudget: 1 << 20 });
console.log(checkRules().length, STATUS.TOO_LARGE, a, first);
e.close();
