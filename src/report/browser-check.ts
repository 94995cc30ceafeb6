import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import sharp from 'sharp';

/** Debian's Chromium; Playwright's own browser downloads are not used. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

// Headless, offline and quiet: the pages come from disk or loopback and need nothing else.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserCheck {
  /** Every `<img>` on the page, the figures' SVGs included, and whether it loaded. */
  images: { src: string; loaded: boolean }[];
  /** Images that are SVG plots and loaded. */
  plots: number;
  screenshot: string;
  /** Everything wrong: images not loaded, failed requests, script errors, a blank screenshot. Empty when all is well. */
  problems: string[];
}

export interface BrowserCheckOptions {
  /** Where the full-page PNG goes; default screenshot.png next to the page. */
  screenshot?: string;
  executablePath?: string;
  timeoutMs?: number;
}

/** True when every pixel of the PNG is the same colour. */
async function isBlank(png: Buffer): Promise<boolean> {
  const { channels } = await sharp(png).stats();
  return channels.every((c) => c.min === c.max);
}

/** Debian's Chromium, headless; fails, saying how to install it, when it is missing. */
export async function launchChromium(executablePath = CHROMIUM_PATH, timeout = 60_000): Promise<Browser> {
  requireChromium(executablePath);
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout });
}

/** Fails, saying how to install it, when Chromium is missing: a command that ends in a browser check calls it first. */
export function requireChromium(executablePath = CHROMIUM_PATH): void {
  if (!existsSync(executablePath))
    throw new Error(
      `Chromium is not at ${executablePath}; the browser checks need it. ` +
        'On Debian or Ubuntu: apt-get update && apt-get install -y chromium',
    );
}

/** Opens a report page from disk in headless Chromium, as a reader would, and reports what did not render. */
export async function checkReportInBrowser(
  htmlPath: string,
  opts: BrowserCheckOptions = {},
): Promise<BrowserCheck> {
  const screenshot = opts.screenshot ?? join(dirname(htmlPath), 'screenshot.png');
  const timeout = opts.timeoutMs ?? 60_000;
  const problems: string[] = [];
  const browser = await launchChromium(opts.executablePath, timeout);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(timeout);
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    // 'load' waits for every image, loaded or failed.
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
    const images = await page.$$eval('img', (els) =>
      els.map((img) => ({
        src: img.getAttribute('src') ?? '',
        loaded: img.complete && img.naturalWidth > 0,
      })),
    );
    for (const img of images) if (!img.loaded) problems.push(`image did not load: ${img.src}`);
    const png = await page.screenshot({ path: screenshot, fullPage: true });
    if (await isBlank(png)) problems.push(`screenshot is blank: ${screenshot}`);
    const plots = images.filter((i) => i.loaded && /\.svg$/i.test(i.src)).length;
    return { images, plots, screenshot, problems };
  } finally {
    await browser.close();
  }
}
