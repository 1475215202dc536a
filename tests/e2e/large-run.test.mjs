// A large run: writing and reading back 256 MiB through the page cache, over half a million steps.
// Measured in headless Chromium, and printed: the DOM stays small (asserted); how fast the page
// answers input while the scenario runs and after, and how fast a step back redraws, against the
// 100 ms goal (reported, not asserted: timings on a shared machine are noise).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, browser, page, shot, idle, elements, stepNumber } from './harness.mjs';

let server, b;
before(async () => { server = await serve(); b = await browser(); });
after(async () => { await b?.close(); await server?.close(); });

const SCENARIO = `# 256 MiB written and read back through the page cache
device big brd size=512M
mkfs ext2 /dev/big
mount /dev/big /mnt
open f /mnt/big create
write f 0 fill=0x61 len=256M
read f 0 256M
`;

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { n: s.length, median: q(0.5), p95: q(0.95), max: s.at(-1) };
};
const ms = (x) => `${x.toFixed(1)} ms`;
const fmt = (s) => `median ${ms(s.median)}, p95 ${ms(s.p95)}, max ${ms(s.max)} (${s.n} samples)`;

/** Record, for each key pressed, the time from the input event to the next frame; and the
 * long tasks (over 50 ms) of the page. */
const recordInput = (p) => p.evaluate(() => {
  window.longTasks = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longTasks.push(e.duration); })
    .observe({ type: 'longtask', buffered: false });
  window.inputLatency = [];
  document.addEventListener('keydown', (e) => {
    const t = e.timeStamp;
    requestAnimationFrame(() => window.inputLatency.push(performance.now() - t));
  }, true);
});
const takeInput = (p) => p.evaluate(() => window.inputLatency.splice(0));

/** Click Step back `n` times; the time from the click to the frame after the step changed. */
const stepBacks = (p, n) => p.evaluate(async (n) => {
  const out = [];
  const status = document.querySelector('[data-testid=step]');
  const back = document.querySelector('[data-testid=back]');
  for (let i = 0; i < n; i++) {
    const before = status.textContent;
    const t0 = performance.now();
    const changed = new Promise((r) => {
      const mo = new MutationObserver(() => { if (status.textContent !== before) { mo.disconnect(); r(); } });
      mo.observe(status, { childList: true, characterData: true, subtree: true });
    });
    back.click();
    await changed;
    await new Promise((r) => requestAnimationFrame(() => r()));
    out.push(performance.now() - t0);
  }
  return out;
}, n);

test('256 MiB: bounded DOM, and the page answers while and after the run (times reported against 100 ms)', { timeout: 300000 }, async () => {
  const p = await page(b, { width: 1280, height: 800 });
  await p.goto(server.base + '/');
  await idle(p);
  await recordInput(p);
  await p.getByLabel('Scenario', { exact: true }).fill(SCENARIO);
  const t0 = Date.now();
  await p.getByRole('button', { name: 'Run', exact: true }).click();
  // While it runs: type into the console, a key at a time, until the run is done.
  const line = p.getByLabel('Command', { exact: true });
  await line.focus();
  let typed = 0;
  while (await p.locator('section.views[aria-busy=true]').count()) {
    await p.keyboard.press(typed % 2 ? 'Backspace' : 'x');
    typed++;
    await p.waitForFunction(() => true);
  }
  const runSeconds = (Date.now() - t0) / 1000;
  await idle(p, 120000);
  const during = await takeInput(p);
  const longTasks = await p.evaluate(() => window.longTasks.splice(0));
  // After: the run is on screen.
  const total = Number((await p.getByTestId('step').textContent()).split(' / ')[1]);
  assert.ok(total > 250000, `${total} steps: a long run`);
  const dom = await elements(p);
  // The grids say how much they did not draw: a run of 65536 page-cache pages is one cell.
  const pages = p.locator('[aria-label="page cache of /mnt/big"]');
  await pages.waitFor();
  assert.match(await pages.locator('xpath=..').locator('.more').textContent(), /^65536 pages in all/);
  assert.match(await pages.locator('.cell.run').first().textContent(), /^0–65535 D ×65536$/);
  // Typing eleven characters after the run.
  await line.fill('');
  await line.focus();
  for (const c of 'read f 0 4K') await p.keyboard.press(c === ' ' ? 'Space' : c);
  assert.equal(await line.inputValue(), 'read f 0 4K');
  const afterTyping = await takeInput(p);
  await line.fill('');
  // Steps back at the end of the run, and in the middle of it.
  await p.keyboard.press('Escape');
  await p.keyboard.press('End');
  const backEnd = await stepBacks(p, 10);
  await p.locator('#step').fill(String(Math.floor(total / 2)));
  await p.waitForFunction((s) => document.querySelector('[data-testid=step]').textContent.startsWith(`${s} /`), Math.floor(total / 2));
  const backMiddle = await stepBacks(p, 10);
  // Arrow keys after the run answer as fast.
  await p.locator('#timeline').focus();
  await takeInput(p);
  for (let i = 0; i < 10; i++) {
    const at = await stepNumber(p);
    await p.keyboard.press('ArrowRight');
    await p.waitForFunction((s) => Number(document.querySelector('[data-testid=step]').textContent.split(' / ')[0]) === s + 1, at);
  }
  const arrows = await takeInput(p);
  const domEnd = await elements(p);
  await shot(p, 'large-run', { screen: true });

  const s = { during: stats(during), typing: stats(afterTyping), arrows: stats(arrows), backEnd: stats(backEnd), backMiddle: stats(backMiddle) };
  console.log([
    `256 MiB write + read: ${total} steps, run in ${runSeconds.toFixed(1)} s (slices; ${typed} keys typed meanwhile)`,
    `  DOM elements after the run: ${dom}; after stepping: ${domEnd}`,
    `  input to next frame while running: ${fmt(s.during)}`,
    `  tasks over 50 ms while running: ${longTasks.length}${longTasks.length ? `, the longest ${ms(Math.max(...longTasks))}` : ''}`,
    `  input to next frame typing 11 characters after: ${fmt(s.typing)}`,
    `  arrow key to next frame after: ${fmt(s.arrows)}`,
    `  step back at the end: ${fmt(s.backEnd)}`,
    `  step back in the middle: ${fmt(s.backMiddle)}`,
  ].join('\n'));
  assert.ok(dom < 20000 && domEnd < 20000, `${dom}, ${domEnd} elements`);
  // Timings are reported against the 100 ms goal, not asserted: this machine is shared and
  // noisy, and a test must not fail for a busy neighbour.
  const goal = (name, ok) => `  ${ok ? 'meets' : 'MISSES'} the goal: ${name}`;
  console.log([
    goal('typing after the run, every key within 100 ms', s.typing.max < 100),
    goal('arrow keys after the run, every key within 100 ms', s.arrows.max < 100),
    goal('a step back at the end within 100 ms', s.backEnd.max < 100),
    goal('a step back in the middle within 100 ms', s.backMiddle.max < 100),
    goal('while running, at most one key waits 100 ms or more', during.filter((x) => x >= 100).length <= 1),
  ].join('\n'));
  // The page did answer while it ran (between slices, not after the run).
  assert.ok(s.during.n >= 5, `while running: ${fmt(s.during)}`);
  assert.deepEqual(p.errors, []);
  await p.close();
});
