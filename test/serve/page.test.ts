import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { launchChromium } from '../../src/report/browser-check.js';
import { startServer } from './server.js';

// Kept after the test for a look; docs/serve.png is a copy of one.
const SCREENSHOT = join(tmpdir(), 'adadiff-serve-page.png');

test('the page at / generates in headless Chromium: image, steps chosen, time saved against 50 steps', {
  timeout: 120_000,
}, async (t) => {
  const { url } = await startServer();
  // Throws, failing the test, with how to install Chromium when it is missing.
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 560 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
    // Chromium asks for /favicon.ico on its own; the page has none.
    const refused: string[] = [];
    page.on('response', (r) => {
      if (!r.ok() && !r.url().endsWith('/favicon.ico'))
        refused.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    await page.goto(`${url}/`, { waitUntil: 'load' });
    assert.equal(await page.locator('#steps').inputValue(), 'auto');
    await page.fill('#prompt', 'a big red circle on a white background');
    await page.click('#go');
    // In-page code as text: the tests are compiled without the DOM's types.
    const text = (id: string) => `document.getElementById('${id}').textContent`;
    await page.waitForFunction(`${text('steps-chosen')} !== '-'`);

    const chosen = await page.locator('#steps-chosen').textContent();
    assert.match(chosen!, /^(10|20|30|40|50) \(chosen by the policy\)$/);
    assert.match((await page.locator('#probabilities').textContent())!, /^10: [\d.]+%, 20: /);
    assert.match((await page.locator('#time').textContent())!, /^\d+ ms \([\d.]+ ms a step/);
    const steps = Number(chosen!.split(' ')[0]);
    assert.match(
      (await page.locator('#saved').textContent())!,
      new RegExp(`^${50 - steps} steps, about \\d+ ms \\(\\d+% of the time 50 steps would take\\)$`),
    );
    const size = await page.evaluate(
      "[document.getElementById('image').naturalWidth, document.getElementById('image').naturalHeight]",
    );
    assert.deepEqual(size, [64, 64]);
    assert.equal(await page.locator('#error').textContent(), '');
    await page.screenshot({ path: SCREENSHOT });
    t.diagnostic(`screenshot: ${SCREENSHOT}`);

    // A fixed step count, and a bad request shown as the server's message.
    await page.selectOption('#steps', '10');
    await page.click('#go');
    // The auto run may have chosen 10 too: wait for the fixed answer's own mark, the unused policy.
    await page.waitForFunction(`${text('probabilities')} === 'not used'`);
    assert.match((await page.locator('#steps-chosen').textContent())!, /^10 /);
    await page.fill('#prompt', 'x'.repeat(5000));
    await page.click('#go');
    await page.waitForFunction(`${text('error')} !== ''`);
    assert.equal(await page.locator('#error').textContent(), 'prompt: expected at most 4000 characters');
    assert.deepEqual(problems, []);
    assert.deepEqual(refused, ['400 /v1/images']);
  } finally {
    await browser.close();
  }
  const { channels } = await sharp(SCREENSHOT).stats();
  assert.ok(
    channels.some((c) => c.min !== c.max),
    'screenshot is one colour',
  );
});
