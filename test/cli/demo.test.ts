import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './run-cli.js';

test("the README's main job runs on the embedded model: AdaDiff against fixed 50 steps, a page written", () => {
  const out = join(mkdtempSync(join(tmpdir(), 'adadiff-demo-')), 'demo');
  const res = runCli(['demo', '--per-count', '1', '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /AdaDiff: mean \d+\.\d steps/);
  assert.match(res.stdout, /fixed 50: 50 steps/);
  assert.match(res.stdout, /time saved -?\d+\.\d%/);
  // The score difference is stated with its interval, and "kept" only as the interval allows.
  const ci = res.stdout.match(
    /minus fixed 50: (-?\d\.\d{3}), 95% CI (-?\d\.\d{3}) to (-?\d\.\d{3}) .*: (.*)/,
  );
  assert.ok(ci, res.stdout);
  const [lower, upper] = [Number(ci[2]), Number(ci[3])];
  assert.ok(lower <= Number(ci[1]) && Number(ci[1]) <= upper);
  assert.equal(ci[4].startsWith('quality kept'), upper >= 0, ci[0]);
  assert.ok(existsSync(join(out, 'index.html')));
});
