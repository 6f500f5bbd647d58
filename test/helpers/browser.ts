// Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core, with
// flags that keep it from reaching out on its own (this machine has no internet). Without
// Chromium a browser test skips, unless METALFLEET_REQUIRE_BROWSER=1 (CI sets it), when it fails.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** `skip` for node:test: false when Chromium is here or required. */
export const browserSkip = existsSync(CHROMIUM) || process.env.METALFLEET_REQUIRE_BROWSER === '1' ? false : `needs ${CHROMIUM} (apt-get install chromium)`;

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}

/** Contexts for axe: its script is injected, which the console's Content-Security-Policy would refuse. */
export const AXE_CONTEXT: BrowserContextOptions = { bypassCSP: true };

const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeViolation { id: string; impact: string | null; help: string; targets: string[] }

/** axe-core's violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE_SOURCE });
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
}

/**
 * Whether a PNG shows something: its pixels are not all one colour. Decodes the image data
 * (zlib) and compares each pixel's filtered bytes with the first; enough for "not blank".
 */
export function pngShowsSomething(png: Buffer): boolean {
  let offset = 8;
  const data: Buffer[] = [];
  let width = 0;
  let height = 0;
  let channels = 4;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      channels = ({ 2: 3, 6: 4, 0: 1, 4: 2 } as Record<number, number>)[body[9]!] ?? 4;
    }
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels + 1;
  // Unfilter rows (PNG filters 0-4) so that equal pixels compare equal.
  const pixels = Buffer.alloc(width * channels * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * stride]!;
    for (let x = 0; x < width * channels; x++) {
      const cur = raw[y * stride + 1 + x]!;
      const a = x >= channels ? pixels[y * width * channels + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * width * channels + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * width * channels + x - channels]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a); const pb = Math.abs(p - b); const pc = Math.abs(p - c);
      const predictor = filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? (pa <= pb && pa <= pc ? a : pb <= pc ? b : c) : 0;
      pixels[y * width * channels + x] = (cur + predictor) & 0xff;
    }
  }
  const first = pixels.subarray(0, channels);
  let differing = 0;
  for (let i = channels; i < pixels.length; i += channels) if (!pixels.subarray(i, i + channels).equals(first)) differing++;
  // More than 0.5 % of the pixels differ from the first: there is text or lines on the page.
  return differing > (width * height) / 200;
}

/** Saves a full-page screenshot at a width under test-results/ (CI keeps them as artifacts); returns the PNG. */
export async function screenshotAt(page: Page, name: string, width: number): Promise<Buffer> {
  await page.setViewportSize({ width, height: 900 });
  const dir = join(process.cwd(), 'test-results');
  mkdirSync(dir, { recursive: true });
  const png = await page.screenshot({ fullPage: true });
  writeFileSync(join(dir, `${name}-${width}.png`), png);
  return png;
}
