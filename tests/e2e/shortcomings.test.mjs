// The shortcomings lab: the aliasing-cache lesson done from the keyboard alone; the cache view
// lit from a frame selected in another view; the cache and struct page views at phone, laptop
// and projector sizes, saved as screenshots to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, browser, page, shot, axe, idle, focused, runScenario } from './harness.mjs';

let server, b;
before(async () => { server = await serve(); b = await browser(); });
after(async () => { await b?.close(); await server?.close(); });

const CACHE_LESSON = 'Why 4.0 refuses DAX on ARM, MIPS and SPARC';
const PIN_LESSON = 'Memory without struct page: nothing to pin';
const lines = '[aria-label="data cache lines"]';

/** Press Tab until the element with this id has the focus; returns how many presses it took. */
async function tabTo(p, id, max = 80) {
  for (let i = 1; i <= max; i++) {
    await p.keyboard.press('Tab');
    if (await p.evaluate((x) => document.activeElement?.id === x, id)) return i;
  }
  throw new Error(`#${id} not reached in ${max} presses of Tab`);
}

/** Type a console line and wait for its run. */
async function command(p, line) {
  if ((await focused(p)).id !== 'console-line') await p.keyboard.press('/');
  assert.equal((await focused(p)).id, 'console-line');
  await p.keyboard.type(line);
  await p.keyboard.press('Enter');
  await p.waitForFunction((l) => document.querySelector('#console-line')?.value === '' &&
    [...document.querySelectorAll('.editor textarea')].some((t) => t.value.includes(l)), line);
  await idle(p);
}

test('the aliasing-cache lesson from start to goal with the keyboard alone', async () => {
  const p = await page(b, { width: 1366, height: 768 });
  await p.goto(server.base + '/');
  await idle(p);
  const id = await p.getByRole('button', { name: CACHE_LESSON }).getAttribute('id');
  await tabTo(p, id);
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { name: /^Lesson 5: Why 4\.0 refuses DAX/ }).waitFor();
  await idle(p);
  assert.equal((await focused(p)).id, 'lesson-title');
  // Opened at write()'s copy: the user's line is drawn stale (hatched, marked !).
  const stale = p.locator(`${lines} .cell.stale`);
  await stale.first().waitFor();
  assert.match(await stale.first().getAttribute('aria-label'), /^U ! .*STALE/);
  // The repair, typed in the console.
  await command(p, 'flush_dcache_page m 0');
  await command(p, 'load m 8 4');
  await p.getByText('✓ Goal reached.').waitFor();
  assert.match(await p.locator('.results').textContent(), /"CCCC"/);
  // The view goes to the load's step: the cache view lists the line it filled again, fresh.
  await p.getByText(/^▶ Step \d+ is in line \d+: load m 8 4$/).waitFor();
  assert.match(await p.locator('.cache-events').textContent(), /▼ filled 1 line of pfn 0x[0-9a-f]+ through the user's address/);
  assert.equal(await p.locator(`${lines} .cell.stale`).count(), 0);
  await p.keyboard.press('Escape');
  assert.equal((await focused(p)).id, 'timeline');
  assert.deepEqual(await axe(p), []);
  assert.deepEqual(p.errors, []);
  await shot(p, 'cache-lesson-done');
  await p.close();
});

test('a frame selected in another view lights its cache lines, both aliases together', async () => {
  const p = await page(b, { width: 1366, height: 768 });
  await p.goto(server.base + '/');
  await idle(p);
  await p.getByRole('button', { name: CACHE_LESSON }).click();
  await idle(p);
  await p.locator(`${lines} .cell.stale`).first().waitFor();
  // read() caches the frame under the kernel's address too.
  await command(p, 'read f 8 4');
  // Select the device's page frame from the keyboard, in its grid.
  const dev = p.locator('[aria-label="page frames of /dev/pmem0"] [data-pfn]').first();
  const pfn = await dev.getAttribute('data-pfn');
  await dev.focus();
  await p.keyboard.press('Enter');
  const lit = p.locator(`${lines} .cell.lit[data-pfn="${pfn}"]`);
  await lit.first().waitFor();
  const labels = await lit.evaluateAll((cells) => cells.map((c) => c.getAttribute('aria-label')));
  assert.ok(labels.some((l) => /^▼?U⇄/.test(l)), `a user's line of the frame: ${labels}`);
  assert.ok(labels.some((l) => /^▼?K⇄/.test(l)), `a kernel's line of the frame: ${labels}`);
  // Only that frame's lines light up.
  const others = await p.locator(`${lines} .cell.lit:not([data-pfn="${pfn}"])`).count();
  assert.equal(others, 0);
  // And the other way round: a cache line selects its frame in the other views.
  await p.locator(`${lines} [data-pfn]:not([data-pfn="${pfn}"])`).first().click();
  await p.locator(`${lines} .cell.lit:not([data-pfn="${pfn}"])`).first().waitFor();
  assert.equal(await p.locator('[aria-label="page frames of /dev/pmem0"] .cell.lit').count(), 0);
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('x86-64 says why it has no cache view; the struct page view shows the gap and the special PTEs', async () => {
  const p = await page(b, { width: 1366, height: 768 });
  await p.goto(server.base + '/');
  await idle(p);
  await p.getByRole('button', { name: PIN_LESSON }).click();
  await idle(p);
  await p.getByTestId('cache-note').waitFor();
  const mm = p.getByRole('group', { name: 'struct page array' });
  assert.match(await mm.textContent(), /GUP ✗ special/);
  assert.match(await mm.textContent(), /GUP ✓/);
  // Device memory (axonram) has no struct page at all: a gap under its frames.
  await runScenario(p, 'device bank axonram size=16M\nmkfs ext2 /dev/bank\nmount /dev/bank /d -o dax\nopen f /d/f create\nwrite f 0 "x"\nmmap m f 0 4K shared r\nload m 0 1\n');
  assert.match(await mm.locator('.ranges').textContent(), /\/dev\/bank \(axonram\): no struct page/);
  const gap = mm.locator('.mm:has(.sp.gap)').first();
  assert.match(await gap.getAttribute('aria-label'), /no page GUP ✗ special: .*no struct page/);
  await mm.scrollIntoViewIfNeeded();
  await shot(p, 'struct-page-device-memory', { screen: true });
  assert.deepEqual(p.errors, []);
  await p.close();
});

for (const [name, viewport, presentation] of [
  ['phone', { width: 390, height: 844 }, false],
  ['laptop', { width: 1366, height: 768 }, false],
  ['projector', { width: 1920, height: 1080 }, true],
]) {
  test(`the cache and struct page views at ${name} size`, async () => {
    const p = await page(b, viewport);
    await p.goto(server.base + '/');
    await idle(p);
    if (presentation) await p.getByRole('button', { name: 'Presentation' }).click();
    await p.getByRole('button', { name: CACHE_LESSON }).click();
    await idle(p);
    const cache = p.getByRole('group', { name: 'Data cache' });
    await cache.waitFor();
    await cache.scrollIntoViewIfNeeded();
    // Nothing makes the page wider than the screen; the grid scrolls inside its panel.
    assert.ok(await p.evaluate(() => document.documentElement.scrollWidth) <= viewport.width, 'no sideways scrolling of the page');
    const right = await cache.evaluate((e) => e.getBoundingClientRect().right);
    assert.ok(right <= viewport.width, `the cache panel reaches ${right}px`);
    assert.deepEqual(await axe(p), []);
    await shot(p, `cache-${name}`, { screen: true });
    await p.getByRole('button', { name: 'All lessons' }).click();
    await p.getByRole('button', { name: PIN_LESSON }).click();
    await idle(p);
    const mm = p.getByRole('group', { name: 'struct page array' });
    await mm.scrollIntoViewIfNeeded();
    assert.ok(await p.evaluate(() => document.documentElement.scrollWidth) <= viewport.width);
    await shot(p, `struct-page-${name}`, { screen: true });
    assert.deepEqual(p.errors, []);
    await p.close();
  });
}
