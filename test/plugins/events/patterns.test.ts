import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePattern, matchesPattern } from '../../../plugins/events/index.js';

const TABLE: Array<[pattern: string, type: string, matches: boolean]> = [
  ['agent.started', 'agent.started', true],
  ['agent.started', 'agent.stopped', false],
  ['agent.started', 'agent.started.late', false],
  ['agent.*.started', 'agent.a1.started', true],
  ['agent.*.started', 'agent.a1.b.started', false],
  ['agent.*.started', 'agent.started', false],
  ['agent.*', 'agent.a1', true],
  ['agent.*', 'agent', false],
  ['agent.*', 'agent.a1.started', false],
  ['*', 'agent', true],
  ['*', 'agent.a1', false],
  ['*.*', 'agent.a1', true],
  ['tool.>', 'tool.call', true],
  ['tool.>', 'tool.call.done', true],
  ['tool.>', 'tool', false],
  ['tool.>', 'tools.call', false],
  ['>', 'anything', true],
  ['>', 'any.thing.at.all', true],
  ['*.call.>', 'tool.call.done', true],
  ['*.call.>', 'tool.call', false],
  ['*.*.>', 'a.b.c.d', true],
  ['a.*.c', 'a.b.c', true],
  ['a.*.c', 'a.b.d', false],
];

test('wildcard matching table: * is one token, > is one or more trailing tokens', () => {
  for (const [pattern, type, expected] of TABLE) {
    assert.equal(matchesPattern(pattern, type), expected, `${pattern} vs ${type}`);
    assert.equal(compilePattern(pattern).matches(type), expected, `${pattern} vs ${type} (compiled)`);
  }
});

test('malformed patterns are rejected with EVENT_INVALID_PATTERN naming the problem', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /non-empty/],
    ['a..b', /token 2 is empty/],
    ['.a', /token 1 is empty/],
    ['a.', /empty/],
    ['a.>.b', /'>' may only be the last token/],
    ['a*.b', /whole tokens/],
    ['a.b>', /whole tokens/],
    ['a b', /whitespace/],
  ];
  for (const [pattern, message] of bad) {
    assert.throws(() => compilePattern(pattern), (e: Error & { code?: string }) => e.code === 'EVENT_INVALID_PATTERN' && message.test(e.message), pattern);
  }
  assert.throws(() => compilePattern(42 as unknown as string), { code: 'EVENT_INVALID_PATTERN' });
});
