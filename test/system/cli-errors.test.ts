// Every CLI failure is one line on stderr (`bunsan: code: reason`), a non-zero exit, and with
// --json one error envelope on stdout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startTestStack, type TestStack } from './local-stack.ts';

describe('CLI failures', () => {
  let stack: TestStack;
  beforeAll(async () => { stack = await startTestStack(2); });
  afterAll(async () => { await stack?.dispose(); });

  const cases: [string, string[], string][] = [
    ['a missing file', ['upload', '/nonexistent/file.bin'], 'bad_request'],
    ['a folder', ['upload', '/tmp'], 'bad_request'],
    ['an unknown command', ['frobnicate'], 'bad_request'],
    ['an unknown flag', ['ls', '--frob'], 'bad_request'],
    ['an out-of-range replica count', ['upload', '/etc/hostname', '--replicas', '99'], 'bad_request'],
    ['more replicas than nodes', ['upload', '/etc/hostname', '--replicas', '3'], 'not_enough_nodes'],
    ['an unknown content', ['get', '0'.repeat(32)], 'content_not_found'],
    ['a malformed id', ['info', 'xyz'], 'bad_request'],
    ['a portal nobody runs', ['ls', '--portal', 'http://127.0.0.1:9'], 'node_unreachable'],
    ['a wrong token', ['upload', '/etc/hostname', '--token', 'bsn_nope'], 'token_invalid'],
  ];
  for (const [what, args, code] of cases) {
    it(`reports ${what} in one line`, async () => {
      const r = await cli(stack, args);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^bunsan: ${code}: .+`));
      const j = await cli(stack, [...args, '--json']);
      expect(j.code).toBe(1);
      expect(j.json().error.code).toBe(code);
    });
  }
});
