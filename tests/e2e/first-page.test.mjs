// The first page, as a newcomer opens it: the release build, at the root and under a sub-path;
// what the header says about the machine; refused and degraded operations; scenario errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, browser, page, shot, axe, SUBPATH, idle, runScenario, focused } from './harness.mjs';

let server, b;
before(async () => { server = await serve(); b = await browser(); });
after(async () => { await b?.close(); await server?.close(); });

for (const [where, path] of [['root', '/'], ['sub-path', SUBPATH]]) {
  test(`the first page loads from ${where} and shows the machine the core built`, async () => {
    const p = await page(b);
    await p.goto(server.base + path);
    // State produced by the simulation core, not hard-coded text.
    const mounts = p.getByTestId('proc-mounts');
    await mounts.waitFor();
    assert.equal((await mounts.textContent()).trim(), '/dev/pmem0 /mnt/dax ext2 rw,relatime,dax 0 0');
    await p.getByTestId('device-pmem0').waitFor();
    const file = p.getByTestId('file-12');
    assert.match(await file.textContent(), /\/mnt\/dax\/hello ino 12 · i_size 20/);
    assert.match(await file.textContent(), /S_DAX/);
    // The regions of the app exist and are labelled for assistive technology.
    for (const region of ['Machine views', 'Console', 'Timeline', 'Inspector']) {
      assert.equal(await p.getByLabel(region, { exact: true }).count(), 1, region);
    }
    // The stable names tests and assistive technology rely on.
    await p.getByRole('textbox', { name: 'Scenario', exact: true }).waitFor();
    await p.getByRole('textbox', { name: 'Command', exact: true }).waitFor();
    for (const name of ['Run', 'Step back', 'Step forward']) await p.getByRole('button', { name, exact: true }).waitFor();
    await p.getByRole('region', { name: 'Machine views' }).waitFor();
    await p.getByRole('region', { name: 'Timeline' }).waitFor();
    assert.match(await p.getByRole('status', { name: 'Current step' }).textContent(), /^\d+ \/ 20$/);
    await shot(p, `first-page-${where}`);
    assert.deepEqual(p.errors, []);
    await p.close();
  });
}

test('a first visit gets one sentence on DAX and a place to start; the run opens where data last moved', async () => {
  const ctx = await b.newContext({ viewport: { width: 1280, height: 800 } });
  const p = await ctx.newPage();
  await p.goto(server.base + '/');
  const welcome = p.getByRole('region', { name: 'Welcome' });
  await welcome.waitFor();
  assert.match(await welcome.textContent(), /^DAX \(direct access\) lets a filesystem on memory-like storage skip the page cache[^.]*\.(Start|$)/);
  await idle(p);
  // Not the quiet last step: the last copy, the read of "hello".
  assert.match(await p.getByRole('status', { name: 'Current step' }).textContent(), /^1[0-9] \/ 20$/);
  assert.match(await p.locator('.flow .arrow text').first().textContent(), /^copy 20 B · /);
  assert.deepEqual(await axe(p), []);
  await shot(p, 'welcome');
  await p.getByRole('button', { name: 'Start with Lesson 1' }).click();
  await p.getByRole('heading', { name: /^Lesson 1: / }).waitFor();
  assert.equal((await focused(p)).id, 'lesson-title', 'focus follows to the lesson that opened');
  assert.equal(await welcome.count(), 0);
  await p.reload();
  await idle(p);
  assert.equal(await p.getByRole('region', { name: 'Welcome' }).count(), 0, 'the welcome is for the first visit');
  await ctx.close();
});

test('the header says the era and the architecture; a degraded or refused operation looks it, with the kernel message', async () => {
  const p = await page(b, { width: 1280, height: 900 });
  await p.goto(server.base + '/');
  await idle(p);
  assert.match(await p.getByTestId('era').textContent(), /Kernel: Linux 4\.0.*CPU: x86_64.*FS_DAX built/);
  await runScenario(p, 'arch armv5\ndevice pmem0 brd size=64M\nmkfs ext2 /dev/pmem0\nmount /dev/pmem0 /mnt -o dax\ndevice sda disk size=64M\nmkfs ext4 /dev/sda\nmount /dev/sda /d -o dax\n');
  assert.match(await p.getByTestId('era').textContent(), /CPU: armv5.*FS_DAX not built/);
  await p.keyboard.press('End');
  const results = p.getByRole('group', { name: 'Results' });
  const ext2 = results.locator('li', { hasText: 'mount /dev/pmem0 /mnt -o dax' });
  assert.match(await ext2.textContent(), /⚠ degraded: ok {2}\[EXT2-fs \(pmem0\): dax option not supported\]/);
  assert.match(await ext2.getAttribute('class'), /degraded/);
  const ext4 = results.locator('li', { hasText: 'mount /dev/sda /d -o dax' });
  assert.match(await ext4.textContent(), /✖ refused: -EINVAL {2}\[EXT4-fs \(sda\): dax option not supported\]/);
  assert.match(await ext4.getAttribute('class'), /bad/);
  assert.deepEqual(await axe(p), []);
  await shot(p, 'refused-and-degraded');
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('a scenario error keeps the last good views and marks its line in the editor', async () => {
  const p = await page(b);
  await p.goto(server.base + '/');
  await idle(p);
  await p.getByLabel('Scenario', { exact: true }).fill('device pmem0 brd size=64M\nmmpa m f 0 4K shared rw');
  await p.getByRole('button', { name: 'Run', exact: true }).click();
  const alert = p.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /line 2, col 1: unknown command "mmpa"; did you mean "mmap"\?/);
  assert.match(await alert.textContent(), /The views show the last run that worked \(20 steps\)/);
  // The last good run is still drawn.
  assert.equal((await p.getByTestId('proc-mounts').textContent()).trim(), '/dev/pmem0 /mnt/dax ext2 rw,relatime,dax 0 0');
  // Line 2 is marked in the editor, and the hint says so.
  assert.deepEqual(await p.locator('.editor .backdrop .ln.err').evaluateAll((ls) => ls.map((l) => [...l.parentNode.children].indexOf(l) + 1)), [2]);
  assert.match(await p.locator('#editor-where').textContent(), /✖ marks line 2/);
  assert.deepEqual(await axe(p), []);
  await shot(p, 'scenario-error');
  await p.close();
});

test('selecting a file opens it in the inspector', async () => {
  const p = await page(b);
  await p.goto(server.base + '/');
  await p.getByTestId('file-12').click();
  const inspector = p.getByLabel('Inspector', { exact: true });
  await inspector.getByText('S_DAX').waitFor();
  assert.match(await inspector.textContent(), /block map0→\d+/);
  assert.deepEqual(p.errors, []);
  await p.close();
});
