import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './run-cli.js';

test('bench train times training against the forward pass and ends with the summary line', {
  timeout: 240_000,
}, () => {
  const res = runCli(['bench', 'train', '--steps', '1'], { timeout: 240_000 });
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stdout.trim().split('\n');
  const last = lines[lines.length - 1];
  const m = /^train\/forward = (\d+\.\d\d) \((\d+\.\d) images\/s at batch \d+\)$/.exec(last);
  assert.ok(m, `last line: ${last}`);
  const report = JSON.parse(lines.slice(0, -1).join('\n')) as { trainMs: number; forwardMs: number };
  assert.ok(report.trainMs > report.forwardMs, 'a training step costs more than a forward pass');
  assert.equal(Number(m[1]), Number((report.trainMs / report.forwardMs).toFixed(2)));
});

test('bench train names a missing execution provider and the ones there are', () => {
  const res = runCli(['bench', 'train', '--provider', 'cuda', '--steps', '1']);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /execution provider "cuda"/);
  assert.match(res.stderr, /cpu/);
});
