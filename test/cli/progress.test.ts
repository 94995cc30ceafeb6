import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Progress } from '../../src/cli/progress.js';

/** A stream that is not a terminal (a log file, CI), collecting what is written. */
function logStream() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

test('without a terminal, progress is a plain line at the start, at every interval and at the end', async () => {
  const { stream, lines } = logStream();
  const progress = new Progress('collect', 'prompts', { stream, lineEveryMs: 40 });
  progress.start(100, 20);
  for (let done = 21; done <= 60; done++) {
    progress.update(done, done - 20);
    await sleep(3);
  }
  progress.stop();
  assert.match(lines[0], /^collect: 20\/100 prompts \(20%\), 0\.0 prompts\/s\n$/);
  const middle = lines.slice(1, -1);
  assert.ok(middle.length >= 1, `a line per interval: ${lines.join('')}`);
  for (const line of middle)
    assert.match(line, /^collect: \d+\/100 prompts \(\d+%\), [\d.]+ prompts\/s, .* left\n$/);
  const last = lines.at(-1) as string;
  assert.match(last, /^collect: 60\/100 prompts \(60%\), ([\d.]+) prompts\/s, (\d+ s|\d+ min \d+ s) left\n$/);
  // The rate counts this run's 40 prompts only, not the 20 a resumed run found done.
  const rate = Number(/, ([\d.]+) prompts\/s/.exec(last)?.[1]);
  assert.ok(rate > 0 && rate < 40 / 0.1, `rate ${rate}`);
  const count = lines.length;
  await sleep(100);
  assert.equal(lines.length, count, 'nothing after stop');
});
