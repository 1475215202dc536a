// The race lab: a learner wins R1 by the keyboard alone; the explorer runs in its web worker
// with progress, lists the outcomes and replays one in the views; a share link reproduces the
// counterexample; under the fixed lock policy nothing breaks, and the explorer proves it. The
// level at a phone, a laptop and a projector is saved as screenshots to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, browser, page, shot, axe, idle, stepNumber, focused } from './harness.mjs';

let server, b;
before(async () => { server = await serve(); b = await browser(); });
after(async () => { await b?.close(); await server?.close(); });

/** Press Tab until `pred()` holds in the page. */
async function tabUntil(p, pred, max = 80) {
  for (let i = 1; i <= max; i++) {
    await p.keyboard.press('Tab');
    if (await p.evaluate(pred)) return i;
  }
  throw new Error(`not reached in ${max} presses of Tab`);
}

const standing = (p) => p.getByTestId('standing').textContent();
const picks = async (p) => Number((await p.getByTestId('picks').textContent()).split(' ')[0]);

/** Press `key` and wait until the picks count is `n`. */
async function pick(p, key, n) {
  await p.keyboard.press(key);
  await p.waitForFunction((want) => document.querySelector('[data-testid=picks]')?.textContent.startsWith(`${want} step`), n);
}

test('a learner wins R1 by the keyboard alone', async () => {
  const p = await page(b, { width: 1366, height: 768 });
  await p.goto(server.base + '/');
  await idle(p);
  // To the race lab and its first level, by Tab and Enter; focus follows.
  await tabUntil(p, () => document.activeElement?.textContent === 'Race lab');
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { name: /^Race lab/ }).waitFor();
  assert.equal((await focused(p)).id, 'races-title');
  await tabUntil(p, () => document.activeElement?.id === 'level-0');
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { name: 'R1 · Two write faults on one hole' }).waitFor();
  assert.equal((await focused(p)).id, 'level-title');
  // The goal is stated before the first step, and every thread says what its next step does.
  assert.match(await p.locator('.goal-line').textContent(), /Make a finished store vanish \(either thread's\)\..*store_lost/);
  assert.match(await p.locator('.thread').first().textContent(), /its next step:.*do_page_fault/);
  await shot(p, 'race-r1-start', { screen: true });

  // a faults, finds the hole and allocates (ext2 zeroes the block and calls it new) ...
  let n = 0;
  for (let i = 0; i < 7; i++) await pick(p, '1', ++n);
  // ... one step too many for b is taken back with u ...
  await pick(p, '2', ++n);
  await pick(p, 'u', --n);
  // ... then b faults, maps the block and stores ...
  for (let i = 0; i < 10; i++) await pick(p, '2', ++n);
  assert.match(await p.locator('.thread').nth(1).textContent(), /finished/);
  assert.doesNotMatch(await standing(p), /Level won/);
  // ... and a finishes: its dax_insert_mapping clears the "new" block under b's store.
  while (!/Level won/.test(await standing(p))) {
    assert.ok(n < 40, 'the level is won within the steps of the race');
    await pick(p, '1', ++n);
  }
  assert.match(await standing(p), /✓ Level won: store_lost broke after step \d+: clear_page in thread a zeroed/);
  assert.match(await p.getByTestId('schedule').textContent(), /^schedule a a a a a a a b b b b b b b b b b/);
  assert.match(p.url(), /#v2;r=r1;pk=a\.a\.a\.a\.a\.a\.a\.b(\.b){9}/);

  // Time travel: the violation's step is marked in the step's events, and back.
  const end = await stepNumber(p);
  await p.keyboard.press('ArrowLeft');
  assert.equal(await stepNumber(p), end - 1);
  await p.keyboard.press('End');
  const win = Number((await standing(p)).match(/after step (\d+)/)[1]);
  while (await stepNumber(p) > win) await p.keyboard.press('ArrowLeft');
  await p.getByTestId('violation-here').waitFor();
  assert.match(await p.getByTestId('violation-here').textContent(), /store_lost broke after this step/);
  // A step earlier the threads are shown as they were then: a, in its fault, is about to clear
  // the block b stored to.
  await p.keyboard.press('ArrowLeft');
  await p.getByText(/the threads as they were then/).waitFor();
  const a = await p.locator('.thread').first().textContent();
  assert.match(a, /can run.*its next step:.*zero.*kernel stack: do_page_fault/);
  assert.ok(await p.getByTestId('run-a').isDisabled(), 'choices wait for the last step');
  // So does its key: a digit pressed back in time neither picks nor jumps.
  const back = await stepNumber(p);
  await p.keyboard.press('1');
  assert.equal(await stepNumber(p), back);
  assert.match(p.url(), /#v2;r=r1;pk=a\.a\.a\.a\.a\.a\.a\.b(\.b){9}(\.a)*(;|$)/);
  assert.deepEqual(await axe(p), []);
  await shot(p, 'race-r1-won');
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('the explorer runs in the worker with progress, lists the outcomes and replays one; its link reproduces it', async () => {
  const p = await page(b, { width: 1366, height: 768 });
  await p.goto(server.base + '/#v2;r=r1');
  await p.getByRole('heading', { name: /^R1 · / }).waitFor();
  // Record what the page shows while the worker explores, and the main thread's long tasks.
  await p.evaluate(() => {
    window.seen = { progress: false, statuses: [] };
    new MutationObserver(() => {
      if (document.querySelector('.explorer progress')) window.seen.progress = true;
      const s = document.querySelector('[data-testid=explore-status]')?.textContent;
      if (s && window.seen.statuses.at(-1) !== s) window.seen.statuses.push(s);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
    window.longest = 0;
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longest = Math.max(window.longest, e.duration); })
      .observe({ type: 'longtask', buffered: false });
  });
  const worker = p.waitForEvent('worker');
  await p.getByRole('button', { name: 'Explore every interleaving' }).click();
  assert.match((await worker).url(), /daxlab-explorer_loader\.js$/);
  await p.waitForFunction(() => document.querySelector('[data-testid=explore-status]')?.dataset.done === 'true', null, { timeout: 30000 });
  const status = await p.getByTestId('explore-status').textContent();
  assert.match(status, /^Complete: every interleaving ran\. \d+ executions · 2 outcomes/);
  // The outcomes are brought into view when it is done (the column scrolls on its own).
  await p.waitForFunction(() => {
    const r = document.querySelector('.histogram .outcome').getBoundingClientRect();
    return r.top >= 0 && r.top < innerHeight - 40;
  });
  const seen = await p.evaluate(() => window.seen);
  assert.ok(seen.progress, 'a progress bar was shown while it ran');
  assert.ok(seen.statuses.some((s) => s.startsWith('Exploring…')), `progress was reported: ${seen.statuses.join(' | ')}`);
  const longest = await p.evaluate(() => window.longest);
  console.log(`explorer: ${status}; longest main-thread task meanwhile ${longest} ms`);
  // The first exploration starts the worker, whose wasm the browser compiles meanwhile; on a
  // two-core machine that can hold the page up once for a fifth of a second. Later explorations
  // cause no long task at all. Reported against half a second, not asserted (a shared machine's
  // timings are noise); that the page went on drawing progress is asserted above.
  console.log(`  ${longest < 500 ? 'meets' : 'MISSES'} the goal: no main-thread task of 500 ms or more while exploring`);

  // The histogram: the outcome that breaks an invariant first, with its count and shortest schedule.
  const outcomes = p.locator('.histogram .outcome');
  assert.equal(await outcomes.count(), 2);
  assert.match(await outcomes.first().textContent(), /\d+ × store_lost.*shortest: schedule [ab ]+/);
  assert.match(await outcomes.nth(1).textContent(), /\d+ × no invariant broken/);
  await shot(p, 'race-explorer');

  // One click replays it in the main view, step by step from where the threads start.
  await outcomes.first().getByRole('button', { name: /^Replay: store_lost/ }).click();
  const from = await stepNumber(p);
  await p.waitForFunction((s) => Number(document.querySelector('[data-testid=step]').textContent.split(' / ')[0]) > s, from);
  await p.keyboard.press('End');
  assert.match(await standing(p), /✓ Level won: store_lost/);
  const schedule = await p.getByTestId('schedule').textContent();
  const url = p.url();
  assert.match(url, /#v2;r=r1;pk=[ab.]+/);

  // A fresh page opened at the link shows the same counterexample.
  const q = await page(b, { width: 1366, height: 768 });
  await q.goto(url);
  await q.getByRole('heading', { name: /^R1 · / }).waitFor();
  assert.match(await standing(q), /✓ Level won: store_lost/);
  assert.equal(await q.getByTestId('schedule').textContent(), schedule);
  assert.equal(await stepNumber(q), await stepNumber(p));
  assert.deepEqual([...p.errors, ...q.errors], []);
  await p.close();
  await q.close();
});

test('a long exploration can be cancelled, and the page answers keys meanwhile', async () => {
  const p = await page(b, { width: 1366, height: 768 });
  await p.goto(server.base + '/#v2;r=r3');
  await p.getByRole('heading', { name: /^R3 · / }).waitFor();
  await p.getByRole('button', { name: /^1,000 random runs/ }).click();
  await p.getByRole('button', { name: 'Cancel' }).click();
  await p.waitForFunction(() => /^(Cancelled after|Done:)/.test(document.querySelector('[data-testid=explore-status]')?.textContent ?? ''));
  // A key still runs a step at once.
  const before = await picks(p);
  await pick(p, '1', before + 1);
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('switching the lock policy keeps the schedule: the winning order replayed under fixed wins nothing', async () => {
  const p = await page(b, { width: 1366, height: 768 });
  await p.goto(server.base + '/#v2;r=r1;pk=a.a.a.a.a.a.a.b.b.b.b.b.b.b.b.b.b');
  await p.getByRole('heading', { name: /^R1 · / }).waitFor();
  await p.keyboard.press('f');
  await p.waitForFunction(() => /Level won/.test(document.querySelector('[data-testid=standing]')?.textContent ?? ''));
  await p.getByRole('button', { name: 'fixed', exact: true }).click();
  await p.waitForFunction(() => location.hash.includes('lk=fixed'));
  // The schedule is still there (as far as the fixed locks let it go), and nothing is won.
  await p.waitForFunction(() => /pk=a\.a\.a/.test(location.hash));
  assert.ok(await picks(p) >= 3, 'the first picks are kept');
  assert.doesNotMatch(await standing(p), /Level won/);
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('under the fixed lock policy the winning schedule breaks nothing, and the explorer proves it', async () => {
  const p = await page(b, { width: 1366, height: 768 });
  await p.goto(server.base + '/#v2;r=r1');
  await p.getByRole('heading', { name: /^R1 · / }).waitFor();
  await p.getByRole('button', { name: 'fixed', exact: true }).click();
  await p.waitForFunction(() => location.hash.includes('lk=fixed'));
  assert.match(await standing(p), /cannot be won/);
  // The start of the winning order, then the rest: no invariant breaks.
  let n = 0;
  for (let i = 0; i < 3; i++) await pick(p, '1', ++n);
  for (let i = 0; i < 3; i++) {
    if (await p.getByTestId('run-b').isEnabled()) await pick(p, '2', ++n);
  }
  await p.keyboard.press('f');
  await p.waitForFunction(() => /finished/.test(document.querySelectorAll('.thread')[1]?.textContent ?? '') && /finished/.test(document.querySelectorAll('.thread')[0]?.textContent ?? ''));
  // Under fixed the faults took ext2's dax_sem and the DAX entry lock: the locks panel lists them.
  assert.match(await p.locator('.locks-table').textContent(), /dax_sem\(ino 12\).*DAX entry lock/);
  assert.equal(await p.locator('.standing .broken, .standing .won').count(), 0);
  await p.getByRole('button', { name: 'Explore every interleaving' }).click();
  await p.getByTestId('proved').waitFor({ timeout: 30000 });
  assert.match(await p.getByTestId('proved').textContent(), /^No invariant broken in any of the \d+ executions\.$/);
  assert.equal(await p.locator('.histogram .outcome.bad').count(), 0);
  await shot(p, 'race-fixed-proved');
  assert.deepEqual(p.errors, []);
  await p.close();
});

for (const [w, h, name] of [[390, 844, 'phone'], [1366, 768, 'laptop'], [1920, 1080, 'projector']]) {
  test(`the race lab at ${w}x${h} (${name}): nothing wider than the screen`, async () => {
    const p = await page(b, { width: w, height: h });
    await p.goto(server.base + '/#v2;r=');
    await p.getByRole('heading', { name: /^Race lab/ }).waitFor();
    assert.ok(await p.evaluate(() => document.documentElement.scrollWidth) <= w, 'no sideways scrolling on the list');
    await shot(p, `race-${name}-levels`, { screen: true });
    // A new page load (a change of the fragment alone is not a new link).
    await p.goto('about:blank');
    await p.goto(server.base + '/#v2;r=r4;pk=a.a.a');
    await p.getByRole('heading', { name: /^R4 · / }).waitFor();
    if (name === 'projector') await p.keyboard.press('p');
    await idle(p);
    assert.ok(await p.evaluate(() => document.documentElement.scrollWidth) <= w, 'no sideways scrolling on a level');
    const widest = await p.evaluate(() => Math.max(...[...document.querySelectorAll('.thread, .panel')].map((e) => e.getBoundingClientRect().right)));
    assert.ok(widest <= w, `a panel reaches ${widest}px`);
    // Both threads' buttons can be reached on the page.
    assert.equal(await p.locator('[data-testid^=run-]').count(), 2);
    await shot(p, `race-${name}-level`, { screen: true });
    assert.deepEqual(p.errors, []);
    await p.close();
  });
}
