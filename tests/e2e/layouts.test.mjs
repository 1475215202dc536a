// The page at three sizes: a phone, laptops, and a projector in presentation mode. Each is
// measured (what is on the first screen, nothing clipped or squeezed) and saved as a screenshot
// to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, browser, page, shot, axe, idle } from './harness.mjs';

let server, b;
before(async () => { server = await serve(); b = await browser(); });
after(async () => { await b?.close(); await server?.close(); });

/** The box of the first element matching `sel`. */
const box = (p, sel) => p.evaluate((s) => {
  const r = document.querySelector(s)?.getBoundingClientRect();
  return r && { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width, height: r.height };
}, sel);

async function openLesson(p, n) {
  await p.getByRole('button', { name: /^(The page cache copies|mount -o dax|direct_access: from|dax_fault: holes)/ }).nth(n).click();
  await p.getByRole('heading', { name: new RegExp(`^Lesson ${n + 1}: `) }).waitFor();
  await idle(p);
}

test('phone (390x844): one column, lesson first, views full width, controls in a compact bar', async () => {
  const p = await page(b, { width: 390, height: 844 });
  await p.goto(server.base + '/');
  await idle(p);
  await shot(p, 'phone-first-page');
  await openLesson(p, 0);
  await p.evaluate(() => window.scrollTo(0, 0));
  // Nothing makes the page wider than the phone.
  assert.ok(await p.evaluate(() => document.documentElement.scrollWidth) <= 390, 'no sideways scrolling of the page');
  // The lesson comes first, and the console is within reach.
  const lesson = await box(p, '#lesson-title');
  assert.ok(lesson.top < 120, `lesson title at ${lesson.top}px`);
  const consoleBox = await box(p, '#console-line');
  assert.ok(consoleBox.top < 1800, `console at ${consoleBox.top}px (it was 2166)`);
  // The step controls are one compact bar, always on screen.
  const bar = await box(p, '.timeline .controls');
  assert.ok(bar.height <= 60, `bar ${bar.height}px high`);
  assert.ok(bar.bottom <= 844 && bar.top >= 844 - 60, 'bar at the bottom of the screen');
  // The views use the width of the phone; grids stay inside it.
  const views = await box(p, 'section.views');
  assert.ok(views.width >= 360, `views ${views.width}px wide`);
  const widest = await p.evaluate(() => Math.max(...[...document.querySelectorAll('.grid-wrap, .panel')].map((e) => e.getBoundingClientRect().right)));
  assert.ok(widest <= 390, `a panel or grid reaches ${widest}px`);
  assert.deepEqual(await axe(p), []);
  await shot(p, 'phone-lesson', { screen: true });
  await p.evaluate(() => document.querySelector('section.views').scrollIntoView());
  await shot(p, 'phone-views', { screen: true });
  assert.deepEqual(p.errors, []);
  await p.close();
});

for (const [w, h] of [[1024, 768], [1440, 900]]) {
  test(`laptop (${w}x${h}): the lesson, the console and the views on the first screen`, async () => {
    const p = await page(b, { width: w, height: h });
    await p.goto(server.base + '/');
    await idle(p);
    await openLesson(p, 0);
    for (const [sel, what] of [['#lesson-title', 'lesson'], ['.look', 'where to look'], ['#console-line', 'console'], ['#timeline .controls', 'step controls']]) {
      const r = await box(p, sel);
      assert.ok(r && r.top >= 0 && r.bottom <= h, `${what}: ${JSON.stringify(r)}`);
    }
    const views = await box(p, 'section.views');
    assert.ok(views.top < h * 0.6, `views start at ${views.top}px`);
    assert.ok(await p.evaluate(() => document.documentElement.scrollWidth) <= w);
    assert.deepEqual(await axe(p), []);
    await shot(p, `laptop-${w}`, { screen: true });
    assert.deepEqual(p.errors, []);
    await p.close();
  });
}

test('projector (1280x720, presentation mode): lesson, console and views visible at once', async () => {
  const p = await page(b, { width: 1280, height: 720 });
  await p.goto(server.base + '/');
  await idle(p);
  await openLesson(p, 3);
  await p.keyboard.press('p');
  await p.locator('.app.presentation').waitFor();
  for (const [sel, what] of [['#lesson-title', 'lesson'], ['#console-line', 'console'], ['#timeline .controls', 'step controls']]) {
    const r = await box(p, sel);
    assert.ok(r && r.top >= 0 && r.bottom <= 720, `${what}: ${JSON.stringify(r)}`);
  }
  const views = await box(p, 'section.views');
  assert.ok(views.top < 720 * 0.55, `views start at ${views.top}px`);
  assert.ok(await p.evaluate(() => document.documentElement.scrollWidth) <= 1280);
  assert.deepEqual(await axe(p), []);
  await shot(p, 'projector', { screen: true });
  // The dark theme too.
  await p.keyboard.press('t');
  await p.keyboard.press('t');
  assert.equal(await p.locator('.app').getAttribute('data-theme'), 'dark');
  assert.deepEqual(await axe(p), []);
  await shot(p, 'projector-dark', { screen: true });
  assert.deepEqual(p.errors, []);
  await p.close();
});
