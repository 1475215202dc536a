// What a learner does with the sandbox: lessons, the console, stepping with the step in context,
// side by side, the inspector, thread lanes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, browser, page, shot, axe, idle, runScenario, waitStep, stepText, stepNumber, ROOT } from './harness.mjs';

let server, b;
before(async () => { server = await serve(); b = await browser(); });
after(async () => { await b?.close(); await server?.close(); });

test('a lesson opens at the step that matters, says where to look, and its progress survives a reload', async () => {
  const ctx = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  await p.goto(server.base + '/');
  await p.getByRole('button', { name: 'The page cache copies; DAX does not' }).click();
  await p.getByRole('heading', { name: /Lesson 1/ }).waitFor();
  await idle(p);
  // Not the last step: the first copy of the read on the page-cache mount, named in the lesson.
  const look = await p.locator('.look').textContent();
  const at = Number(look.match(/Where to look \(step (\d+), line 14\)/)[1]);
  assert.equal(await stepNumber(p), at);
  assert.match(await p.locator('.flow .arrow text').first().textContent(), /^copy 4096 B · /);
  // The step's command is marked in the editor and in the results.
  assert.match(await p.locator('#editor-where').textContent(), /line 14: read p 0 64K/);
  assert.deepEqual(await p.locator('.editor .backdrop .ln.cur').evaluateAll((ls) => ls.map((l) => [...l.parentNode.children].indexOf(l) + 1)), [14]);
  assert.match(await p.locator('.results li[aria-current=step]').textContent(), /14 {2}read p 0 64K/);
  await p.getByText('Goal not reached yet').waitFor();
  await shot(p, 'lesson-1-start');
  // A typo first: the console names the column and suggests the command.
  const line = p.getByLabel('Command', { exact: true });
  await line.fill('raed d 0 64K');
  await line.press('Enter');
  await p.getByText('col 1: unknown command "raed"; did you mean "read"?').waitFor();
  await line.fill('read d 0 64K');
  await line.press('Enter');
  await p.getByText('✓ Goal reached.').waitFor();
  await idle(p);
  // The new line continues the run; the view goes to what it did.
  assert.match(await p.locator('#editor-where').textContent(), /line 15: read d 0 64K/);
  await shot(p, 'lesson-1-done');
  await p.reload();
  await idle(p);
  await p.getByRole('heading', { name: /Lesson 1/ }).waitFor();
  await p.getByRole('button', { name: 'All lessons' }).click();
  const lessons = p.getByRole('navigation', { name: 'Lessons' });
  await lessons.getByText('✓ done').waitFor();
  assert.equal(await lessons.getByText('✓ done').count(), 1);
  assert.equal(await p.evaluate(() => document.activeElement.id), 'lesson-0', 'focus goes back to the lesson in the list');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('step forward and back with keys and buttons; copies are drawn as arrows', async () => {
  const p = await page(b, { width: 1280, height: 900 });
  await p.goto(server.base + '/');
  await idle(p);
  await p.keyboard.press('Home');
  await waitStep(p, /^0 \/ 20$/);
  await p.getByText('Step 0: nothing has run yet').waitFor();
  await p.keyboard.press('ArrowRight');
  await waitStep(p, /^1 \/ 20$/);
  await p.getByRole('button', { name: 'Step forward', exact: true }).click();
  await waitStep(p, /^2 \/ 20$/);
  await p.getByRole('button', { name: 'Step back', exact: true }).click();
  await waitStep(p, /^1 \/ 20$/);
  // Next copy: the write's copy_from_iter.
  await p.getByRole('button', { name: 'Next copy' }).click();
  await p.locator('.flow .arrow:not(.zero)').first().waitFor();
  assert.match(await p.locator('.flow .arrow:not(.zero) text').first().textContent(), /^copy 20 B · copy_from_iter$/);
  assert.match(await p.getByTestId('announce').textContent(), /^Step \d+ of 20\. Line 6: write f 0 "hello, direct access"\. .*copy 20 B by copy_from_iter/);
  await shot(p, 'step-with-copy');
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('the timeline marks command boundaries and jumps to the previous or next copy, fault, lock wait and error', async () => {
  const p = await page(b, { width: 1280, height: 900 });
  await p.goto(server.base + '/');
  await idle(p);
  await runScenario(p, 'device pmem0 brd size=64M\nmkfs ext2 /dev/pmem0\nmount /dev/pmem0 /mnt/dax -o dax\nopen f /mnt/dax/a create\ntruncate f 8K\nmmap m f 0 8K shared rw\nload m 0 4\nstore m 4096 "x"\nread f 100000 4\nread g 0 4\ndirect_access pmem0 sector=3 size=4K\nload m 8192 4\n');
  // One line per command start in the whole-run strip.
  assert.equal(await p.locator('.whole .cmd').count(), 12);
  await p.keyboard.press('Home');
  await p.getByLabel('find').selectOption('fault');
  await p.getByRole('button', { name: 'Next fault' }).click();
  await p.locator('.events .ev.fault').first().waitFor();
  const first = await stepNumber(p);
  await p.keyboard.press(']');
  await p.waitForFunction((s) => Number(document.querySelector('[data-testid=step]').textContent.split(' / ')[0]) > s, first);
  await p.locator('.events .ev.fault').first().waitFor();
  await p.keyboard.press('[');
  await waitStep(p, new RegExp(`^${first} /`));
  await p.getByLabel('find').selectOption('error');
  await p.getByRole('button', { name: 'Next error' }).click();
  await p.locator('.events .ev.error').first().waitFor();
  await p.getByLabel('find').selectOption('command');
  await p.keyboard.press('End');
  await p.getByRole('button', { name: 'Previous command' }).click();
  assert.match(await p.locator('#editor-where').textContent(), /line 12: load m 8192 4/);
  assert.deepEqual(await axe(p), []);
  await shot(p, 'timeline-seek');
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('thread lanes are never clipped: the last step of a race is inside its strip', async () => {
  const p = await page(b, { width: 1024, height: 768 });
  await p.goto(server.base + '/');
  await idle(p);
  const r1 = await readFile(join(ROOT, 'scenarios/races/r1-two-write-faults.dax'), 'utf8');
  await runScenario(p, r1);
  await p.keyboard.press('End');
  const total = Number((await stepText(p)).split(' / ')[1]);
  await waitStep(p, new RegExp(`^${total} / ${total}$`));
  const lanes = await p.locator('.names').first().locator('span').allTextContents();
  assert.deepEqual(lanes.slice(0, 3), ['main', 'a', 'b'], 'one lane per thread');
  for (const strip of ['.whole', '.near']) {
    const [svg, now] = await Promise.all([p.locator(strip).boundingBox(), p.locator(`${strip} .now`).boundingBox()]);
    assert.ok(now.x >= svg.x - 1 && now.x + now.width <= svg.x + svg.width + 1, `${strip}: ${JSON.stringify({ svg, now })}`);
    const panel = await p.getByRole('region', { name: 'Timeline' }).boundingBox();
    assert.ok(svg.x + svg.width <= panel.x + panel.width, `${strip} inside the timeline`);
  }
  // The steps where b runs in the middle of a's fault show in b's lane of the detail strip.
  await p.getByLabel('find').selectOption('command');
  await p.keyboard.press('Home');
  await shot(p, 'race-lanes', { screen: true });
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('page cache and DAX side by side: both sides draw their copies under the same labels, and only the DAX mount is compared', async () => {
  const p = await page(b, { width: 1440, height: 1000 });
  await p.goto(server.base + '/');
  await p.getByRole('button', { name: 'The page cache copies; DAX does not' }).click();
  await idle(p);
  const line = p.getByLabel('Command', { exact: true });
  await line.fill('read d 0 64K');
  await line.press('Enter');
  await idle(p);
  await line.press('Escape');
  await p.keyboard.press('c');
  await p.getByText(/Only what belongs to \/mnt\/dax is compared/).waitFor();
  await idle(p);
  // The same labels everywhere.
  assert.deepEqual(await p.locator('.side-title').allTextContents(), ['Page cache', 'DAX']);
  assert.match(await p.locator('.counters thead').textContent(), /Page cache\s*DAX/);
  // Only /mnt/dax on both sides: not the page-cache mount both sides share.
  const files = await p.locator('.half [data-testid^=file-]').allTextContents();
  assert.equal(files.length, 2);
  assert.ok(files.every((f) => f.startsWith('/mnt/dax/file')), files.join(' | '));
  assert.match(files[0], /page cache$/);
  assert.match(files[1], /S_DAX$/);
  // At a copy of the DAX read, each side draws its own copies.
  await p.getByLabel('find').selectOption('copy');
  await p.getByRole('button', { name: 'Previous copy' }).click();
  const left = p.locator('.half').nth(0).locator('.flow .arrow:not(.zero) text');
  const right = p.locator('.half').nth(1).locator('.flow .arrow:not(.zero) text');
  await left.first().waitFor();
  await right.first().waitFor();
  assert.match(await right.first().textContent(), /^copy 4096 B · /);
  // The twin copies more, holds page-cache pages; DAX holds none.
  const copies = await p.getByTestId('counter-copies').allTextContents();
  assert.ok(Number(copies[0]) > Number(copies[1]), `page cache ${copies[0]} vs DAX ${copies[1]}`);
  const pages = await p.getByTestId('counter-page-cache-pages').allTextContents();
  assert.equal(pages[1], '0');
  await shot(p, 'side-by-side');
  assert.deepEqual(await axe(p), []);
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('the inspector shows a page-table entry selected in the process view', async () => {
  const p = await page(b, { width: 1280, height: 1000 });
  await p.goto(server.base + '/');
  await p.getByRole('button', { name: 'dax_fault: holes, hole pages and device pfns' }).click();
  await idle(p);
  const line = p.getByLabel('Command', { exact: true });
  await line.fill('store m 0 "hi"');
  await line.press('Enter');
  await p.getByText('✓ Goal reached.').waitFor();
  await p.keyboard.press('End');
  const pte = p.locator('[aria-label="page-table entries of m"] [data-pfn]').first();
  await pte.click();
  const inspector = p.getByLabel('Inspector', { exact: true });
  await inspector.getByText(/special PTE \(no struct page\)/).waitFor();
  assert.match(await inspector.textContent(), /\/dev\/pmem0 page \d+/);
  await shot(p, 'lesson-4-pte');
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('each process has its own page tables, and the process view names whose they are', async () => {
  const p = await page(b, { width: 1280, height: 1000 });
  await p.goto(server.base + '/');
  await runScenario(p, `device pmem0 brd size=16M
mkfs ext2 /dev/pmem0
mount /dev/pmem0 /dax -o dax
open f /dax/f create
write f 0 "hello"
mmap m f 0 4K shared r
load m 0 5
process other {
  mmap o f 0 4K shared r
  load o 0 5
}
`);
  const view = p.getByLabel('Process address space', { exact: true });
  const text = await view.textContent();
  assert.match(text, /process main · m 0x[0-9a-f]+ \/dax\/f shared r VM_MIXEDMAP · 1 of 1 pages mapped/);
  assert.match(text, /process other · o 0x[0-9a-f]+ \/dax\/f shared r VM_MIXEDMAP · 1 of 1 pages mapped/);
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('stepping is measured against a 60 Hz frame (reported, not asserted)', async () => {
  const p = await page(b);
  await p.goto(server.base + '/');
  await idle(p);
  await p.keyboard.press('Home');
  await waitStep(p, /^0 \/ 20$/);
  const times = await p.evaluate(async () => {
    const out = [];
    const step = () => document.querySelector('[data-testid=step]').textContent;
    for (let i = 0; i < 19; i++) {
      const before = step();
      const t0 = performance.now();
      document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
      while (step() === before) await new Promise((r) => setTimeout(r, 0));
      out.push(performance.now() - t0);
    }
    return out;
  });
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(`step render (release build): median ${median.toFixed(2)} ms = ${(median / 16.7).toFixed(2)} of a 60 Hz frame, max ${times.at(-1).toFixed(2)} ms`);
  assert.equal(times.length, 19);
  await p.close();
});
