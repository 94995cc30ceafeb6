import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { checkReportInBrowser } from '../../src/report/browser-check.js';
import { writeReport } from '../../src/report/report.js';
import { STEPS, sampleReport } from './sample-report.js';

// A fixed folder, emptied first and kept afterwards, so the page and its screenshot can be looked at.
const dir = join(tmpdir(), 'adadiff-browser-check');

test('the report opens from disk in Chromium with every image and plot drawn', {
  timeout: 120_000,
}, async (t) => {
  await rm(dir, { recursive: true, force: true });
  const report = await sampleReport(dir);
  const files = await writeReport(dir, report);
  // Throws, failing the test, with how to install Chromium when it is missing.
  const check = await checkReportInBrowser(files.html);
  t.diagnostic(`screenshot: ${check.screenshot}`);

  assert.deepEqual(check.problems, []);
  assert.equal(check.plots, report.figures.length);
  assert.equal(check.images.length, report.figures.length + report.gallery!.rows.length * STEPS.length);
  assert.ok(check.images.every((i) => i.loaded));

  const png = await readFile(check.screenshot);
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  // The full page, not just the viewport: taller than the window once tables, figures and gallery are in.
  assert.ok(meta.width >= 1280 && meta.height > 900, `${meta.width}x${meta.height}`);
  const { channels } = await sharp(png).stats();
  assert.ok(
    channels.some((c) => c.min !== c.max),
    'screenshot is one colour',
  );
});

test('without Chromium the check fails and says how to install it', async () => {
  await assert.rejects(
    checkReportInBrowser(join(dir, 'index.html'), { executablePath: '/nonexistent/chromium' }),
    /not at \/nonexistent\/chromium.*apt-get install -y chromium/,
  );
});
