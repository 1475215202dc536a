// Shared set-up for the end-to-end tests: a static server for the release build (at the root
// and under a sub-path, as on a project page) and headless Chromium from the system.
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DIST = process.env.DAXLAB_DIST ?? join(ROOT, 'dist');
export const SHOTS = join(ROOT, 'tests/e2e/screenshots');
export const SUBPATH = '/daxlab/';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml' };

/** Serve DIST at `/` and at SUBPATH on a free loopback port. */
export async function serve() {
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path.startsWith(SUBPATH)) path = '/' + path.slice(SUBPATH.length);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(DIST, path));
    if (!file.startsWith(DIST) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(await readFile(file));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise((ok) => server.close(ok)) };
}

/** Headless system Chromium with the flags this machine needs. */
export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A new page that records console errors and page errors. */
export async function page(b, viewport = { width: 1280, height: 800 }) {
  const p = await b.newPage({ viewport });
  p.errors = [];
  p.on('console', (m) => { if (m.type() === 'error') p.errors.push(m.text()); });
  p.on('pageerror', (e) => p.errors.push(String(e)));
  return p;
}

/** Save a screenshot for people to look at: the whole page, or only the screen. */
export async function shot(p, name, { screen = false } = {}) {
  await mkdir(SHOTS, { recursive: true });
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: !screen });
}

/** Run axe-core in the page and return the serious and critical violations. */
export async function axe(p) {
  const src = await readFile(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
  await p.addScriptTag({ content: src });
  const r = await p.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** The position status ("N / M"). */
export const stepText = (p) => p.getByRole('status', { name: 'Current step' }).textContent();

/** Wait until the position status matches `re`. */
export async function waitStep(p, re, timeout = 30000) {
  await p.waitForFunction((src) => new RegExp(src).test(document.querySelector('[data-testid=step]')?.textContent ?? ''), re.source, { timeout });
}

/** Wait until no run is going on (the views are not busy). */
export async function idle(p, timeout = 30000) {
  await p.waitForFunction(() => document.querySelector('[data-testid=step]') && document.querySelector('section.views')?.getAttribute('aria-busy') === 'false', null, { timeout });
}

/** Replace the scenario in the editor and run it; resolves when its run is on screen. */
export async function runScenario(p, text, timeout = 30000) {
  await p.getByLabel('Scenario', { exact: true }).fill(text);
  await p.getByRole('button', { name: 'Run', exact: true }).click();
  await idle(p, timeout);
}

/** How many elements the page has. */
export const elements = (p) => p.evaluate(() => document.getElementsByTagName('*').length);

/** The accessible name or id of the focused element, and whether it is inside `selector`. */
export const focused = (p, selector = null) => p.evaluate((sel) => {
  const a = document.activeElement;
  return { id: a?.id ?? '', tag: a?.tagName ?? '', label: a?.getAttribute('aria-label') ?? a?.textContent?.trim() ?? '', inside: sel ? !!a?.closest(sel) : null };
}, selector);

/** The step the status shows. */
export async function stepNumber(p) {
  return Number((await stepText(p)).split(' / ')[0]);
}
