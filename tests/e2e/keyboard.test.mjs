// Keyboard only: a whole lesson without the mouse; `/` and Escape for the console; one Tab stop
// per grid with arrow keys inside; dialogs that trap focus and give it back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, browser, page, shot, axe, idle, stepNumber, focused } from './harness.mjs';

let server, b;
before(async () => { server = await serve(); b = await browser(); });
after(async () => { await b?.close(); await server?.close(); });

/** Press Tab until `pred(focused)` holds; returns how many presses it took. */
async function tabUntil(p, pred, max = 60, key = 'Tab') {
  for (let i = 1; i <= max; i++) {
    await p.keyboard.press(key);
    if (await p.evaluate(pred)) return i;
  }
  throw new Error(`not reached in ${max} presses of ${key}`);
}

test('a lesson from start to goal with the keyboard alone', async () => {
  const p = await page(b, { width: 1280, height: 900 });
  await p.goto(server.base + '/');
  await idle(p);
  // To the fourth lesson and open it: focus follows to the lesson.
  await tabUntil(p, () => document.activeElement?.id === 'lesson-3');
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { name: /^Lesson 4: / }).waitFor();
  await idle(p);
  assert.equal((await focused(p)).id, 'lesson-title');
  // `/` goes to the console without typing a slash.
  await p.keyboard.press('/');
  assert.equal((await focused(p)).id, 'console-line');
  assert.equal(await p.getByLabel('Command', { exact: true }).inputValue(), '');
  await p.keyboard.type('store m 0 "hi"');
  await p.keyboard.press('Enter');
  await p.getByText('✓ Goal reached.').waitFor();
  await idle(p);
  // Escape leaves the console; the arrow keys step again.
  await p.keyboard.press('Escape');
  assert.equal((await focused(p)).id, 'timeline');
  const at = await stepNumber(p);
  await p.keyboard.press('ArrowLeft');
  await p.waitForFunction((s) => Number(document.querySelector('[data-testid=step]').textContent.split(' / ')[0]) === s - 1, at);
  // From the console to the step buttons is a few Tabs, not two hundred.
  await p.keyboard.press('/');
  const tabs = await tabUntil(p, () => document.activeElement?.getAttribute('aria-label') === 'First step');
  assert.ok(tabs <= 8, `${tabs} Tabs from the console to the timeline`);
  assert.deepEqual(await axe(p), []);
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('a grid is one Tab stop with arrow keys inside; the page contents dialog traps focus and gives it back', async () => {
  const p = await page(b, { width: 1280, height: 900 });
  await p.goto(server.base + '/');
  await p.getByRole('button', { name: 'The page cache copies; DAX does not' }).click();
  await idle(p);
  const grid = '[aria-label="block map of /mnt/pc/file"]';
  // Tab into the block map: one of its cells takes focus.
  await p.locator(`${grid} [tabindex="0"]`).focus();
  assert.equal(await p.locator(`${grid} [tabindex="0"]`).count(), 1, 'one Tab stop');
  assert.equal(await p.evaluate(() => document.activeElement.dataset.i), '0');
  await p.keyboard.press('ArrowRight');
  assert.equal(await p.evaluate(() => document.activeElement.dataset.i), '1');
  await p.keyboard.press('ArrowDown');
  assert.equal(await p.evaluate(() => document.activeElement.dataset.i), '9');
  await p.keyboard.press('End');
  assert.equal(await p.evaluate(() => document.activeElement.dataset.i), '15');
  assert.equal(await p.locator(`${grid} [tabindex="0"]`).count(), 1, 'still one Tab stop');
  // Tab leaves the grid at once.
  await p.keyboard.press('Tab');
  assert.equal(await p.evaluate((g) => !!document.activeElement.closest(g), grid), false);
  await p.keyboard.press('Shift+Tab');
  assert.equal(await p.evaluate(() => document.activeElement.dataset.i), '15', 'back to the cell it left');
  // Enter selects the frame (lit in every view); v opens its contents.
  await p.keyboard.press('Enter');
  const pfn = await p.evaluate(() => document.activeElement.dataset.pfn);
  await p.getByLabel('Inspector', { exact: true }).getByText(`pfn 0x${Number(pfn).toString(16)}`).first().waitFor();
  assert.ok(await p.locator(`.cell.lit[data-pfn="${pfn}"]`).count() >= 2, 'lit in the block map and the device');
  await p.keyboard.press('v');
  const dialog = p.getByRole('dialog', { name: /^Contents of page frame / });
  await dialog.waitFor();
  assert.ok((await focused(p, '[role=dialog]')).inside, 'focus moves into the dialog');
  for (let i = 0; i < 8; i++) {
    await p.keyboard.press('Tab');
    assert.ok((await focused(p, '[role=dialog]')).inside, 'Tab stays in the dialog');
  }
  await p.keyboard.press('Shift+Tab');
  assert.ok((await focused(p, '[role=dialog]')).inside);
  assert.deepEqual(await axe(p), []);
  await p.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await p.evaluate(() => document.activeElement.dataset.pfn), pfn, 'focus returns to the cell');
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('the keyboard help is a dialog that traps and returns focus', async () => {
  const p = await page(b);
  await p.goto(server.base + '/');
  await idle(p);
  await p.getByRole('button', { name: 'Step forward', exact: true }).focus();
  await p.keyboard.press('?');
  const help = p.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.waitFor();
  assert.match(await help.textContent(), /step forward \/ back/);
  assert.ok((await focused(p, '[role=dialog]')).inside);
  await p.keyboard.press('Tab');
  await p.keyboard.press('Tab');
  assert.ok((await focused(p, '[role=dialog]')).inside);
  // While it is open, the shortcuts do not act behind it.
  const at = await stepNumber(p);
  await p.keyboard.press('ArrowLeft');
  assert.equal(await stepNumber(p), at);
  assert.deepEqual(await axe(p), []);
  await shot(p, 'help');
  await p.keyboard.press('Escape');
  await help.waitFor({ state: 'detached' });
  assert.equal((await focused(p)).label, 'Step forward', 'focus back on what opened it');
  await p.close();
});
