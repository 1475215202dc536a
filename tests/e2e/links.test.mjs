// Share links: the address always holds what is shown (lesson, side by side, step, selection,
// open page) and a fresh page opens it the same; old links still open; damaged ones say why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, browser, page, shot, axe, idle, stepText } from './harness.mjs';

let server, b;
before(async () => { server = await serve(); b = await browser(); });
after(async () => { await b?.close(); await server?.close(); });

test('a link carries the lesson, side by side, the step, the selection and the open page', async () => {
  const p = await page(b, { width: 1280, height: 900 });
  await p.goto(server.base + '/');
  await p.getByRole('button', { name: 'dax_fault: holes, hole pages and device pfns' }).click();
  await idle(p);
  const line = p.getByLabel('Command', { exact: true });
  await line.fill('store m 0 "hi"');
  await line.press('Enter');
  await p.getByText('✓ Goal reached.').waitFor();
  await line.press('Escape');
  await p.keyboard.press('c');
  await idle(p);
  await p.keyboard.press('End');
  const cell = p.locator('.half').nth(1).locator('[aria-label="page-table entries of m"] [data-pfn]').first();
  await cell.click();
  const pfn = await cell.getAttribute('data-pfn');
  await p.getByRole('button', { name: 'Page contents' }).click();
  await p.getByRole('dialog', { name: /^Contents of page frame / }).waitFor();
  const step = await stepText(p);
  const url = p.url();
  assert.match(url, new RegExp(`#v2;l=filesystems;c=1;t=\\d+;sel=p${pfn};pg=${pfn};s=`));
  await shot(p, 'link-source');

  const q = await page(b, { width: 1280, height: 900 });
  await q.goto(url);
  await idle(q);
  await q.getByRole('heading', { name: /^Lesson 4: / }).waitFor();
  assert.equal(await stepText(q), step);
  assert.deepEqual(await q.locator('.side-title').allTextContents(), ['Page cache', 'DAX']);
  const dialog = q.getByRole('dialog', { name: `Contents of page frame 0x${Number(pfn).toString(16)}` });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /hi/);
  await q.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.ok(await q.locator(`.cell.lit[data-pfn="${pfn}"]`).count() >= 1, 'the selection is lit');
  assert.match(await q.getByLabel('Inspector', { exact: true }).textContent(), new RegExp(`pfn 0x${Number(pfn).toString(16)}`));
  assert.deepEqual(await axe(q), []);
  await shot(q, 'link-opened');
  assert.deepEqual([...p.errors, ...q.errors], []);
  await p.close();
  await q.close();
});

test('a link of the first version (scenario and step) still opens', async () => {
  const scenario = 'device pmem0 axonram size=16M\nmkfs ext4 /dev/pmem0\nmount /dev/pmem0 /mnt -o dax\nopen f /mnt/x create\nwrite f 0 fill=7 len=8K\n';
  const b64 = Buffer.from(scenario).toString('base64url');
  const p = await page(b);
  await p.goto(`${server.base}/#v1;t=3;s=${b64}`);
  await idle(p);
  assert.match(await stepText(p), /^3 \/ \d+$/);
  await p.keyboard.press('End');
  assert.match(await p.getByTestId('proc-mounts').textContent(), /\/dev\/pmem0 \/mnt ext4 rw,relatime,dax/);
  assert.match(p.url(), /#v2;t=\d+;s=/, 'and is rewritten as a link of this version');
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('a tampered link gets a clear message and a clean start', async () => {
  const p = await page(b);
  await p.goto(server.base + '/#v2;t=3;sel=q7;s=YQ');
  const notice = p.locator('.notice');
  await notice.waitFor();
  assert.match(await notice.textContent(), /This link could not be opened: the selection "q7" in the link is damaged\. DAX Lab started with a clean scenario/);
  await idle(p);
  await shot(p, 'bad-link');
  await p.close();
});

test('a link pasted into an open page loads, and Back returns to the place before', async () => {
  const p = await page(b, { width: 1366, height: 768 });
  await p.goto(server.base + '/#v2;r=r4');
  await p.getByRole('heading', { name: /^R4 · / }).waitFor();
  // A classmate's link, pasted into the address bar of the open tab.
  await p.evaluate(() => { location.hash = '#v2;r=r6'; });
  await p.getByRole('heading', { name: /^R6 · / }).waitFor();
  // The levels list, then Back: the level again; Back once more: R4, where the page started.
  await p.getByRole('button', { name: 'All levels' }).click();
  await p.waitForFunction(() => location.hash === '#v2;r=');
  await p.goBack();
  await p.getByRole('heading', { name: /^R6 · / }).waitFor();
  await p.goBack();
  await p.getByRole('heading', { name: /^R4 · / }).waitFor();
  assert.match(p.url(), /#v2;r=r4$/);
  assert.deepEqual(p.errors, []);
  await p.close();
});
