// Help on the page and bytes you can read: the command reference generated from the parser's
// table, completion of commands and their arguments, results as text with hex on demand, and
// the contents of any page frame with the bytes a step changed marked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, browser, page, shot, axe, idle, runScenario, focused, stepNumber, ROOT } from './harness.mjs';

let server, b;
before(async () => { server = await serve(); b = await browser(); });
after(async () => { await b?.close(); await server?.close(); });

test('Tab completes commands and arguments, lists the choices of an ambiguous prefix and never leaves a typed line', async () => {
  const p = await page(b, { width: 1280, height: 900 });
  await p.goto(server.base + '/');
  await idle(p);
  const line = p.getByLabel('Command', { exact: true });
  const choices = p.getByRole('list', { name: 'Completions' });
  const tab = async (text) => {
    await line.fill(text);
    await line.press('Tab');
    assert.equal((await focused(p)).id, 'console-line', `Tab on "${text}" kept the focus`);
    return line.inputValue();
  };
  assert.equal(await tab('mma'), 'mmap ');
  // An ambiguous prefix: the choices are listed, the line keeps what they share.
  assert.equal(await tab('u'), 'u');
  assert.deepEqual(await choices.getByRole('button').allTextContents(), ['umount', 'unlink']);
  // Device kinds, filesystems, devices of the scenario, descriptors.
  assert.equal(await tab('device x '), 'device x ');
  assert.deepEqual(await choices.getByRole('button').allTextContents(), ['brd', 'axonram', 'dcssblk', 'window', 'stall', 'disk']);
  await shot(p, 'completion-choices', { screen: true });
  assert.deepEqual(await axe(p), []);
  assert.equal(await tab('device x d'), 'device x d');
  assert.deepEqual(await choices.getByRole('button').allTextContents(), ['dcssblk', 'disk']);
  // A choice can be picked; focus comes back to the line.
  await choices.getByRole('button', { name: 'disk' }).click();
  assert.equal(await line.inputValue(), 'device x disk ');
  assert.equal((await focused(p)).id, 'console-line');
  assert.equal(await tab('mkfs ext'), 'mkfs ext');
  assert.equal(await tab('mkfs ext2 /dev/p'), 'mkfs ext2 /dev/pmem0 ');
  assert.equal(await tab('direct_access '), 'direct_access pmem0 ');
  assert.equal(await tab('read '), 'read f ');
  // Nothing to complete: the note says so, and the focus stays.
  assert.equal(await tab('read f '), 'read f ');
  assert.match(await p.locator('#console-note').textContent(), /Nothing to complete here/);
  // An empty line lets Tab move on.
  await line.fill('');
  await line.press('Tab');
  assert.notEqual((await focused(p)).id, 'console-line');
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('the command reference is generated from the parser and its examples go to the console', async () => {
  const p = await page(b, { width: 1280, height: 900 });
  await p.goto(server.base + '/');
  await idle(p);
  await p.getByText('Command reference').click();
  const ref = p.locator('.reference');
  const entries = await ref.locator('dl').first().locator('dt').allTextContents();
  // Every command word of the language, with its syntax (from lang::parse::COMMANDS and BLOCK_WORDS).
  for (const want of ['device NAME brd|axonram|dcssblk|window|stall|disk size=SIZE [pretend]', 'mkfs ext2|ext4 /dev/NAME [bs=SIZE]',
    'direct_access NAME sector=N size=SIZE', 'mmap MAP FD OFFSET LEN shared|private r|rw', 'thread NAME { ... }', 'schedule NAME NAME ...']) {
    assert.ok(entries.includes(want), `${want} in ${entries.join(' | ')}`);
  }
  // With the shortcomings lab's vmsplice, rdma_reg, insmod, exec, cache and flush_dcache_page.
  assert.equal(entries.length, 37);
  assert.equal(await ref.getByRole('button', { name: /^Try: / }).count(), 34, 'an example per command');
  await ref.getByRole('button', { name: 'Try: direct_access pmem0 sector=8 size=4K' }).click();
  assert.equal(await p.getByLabel('Command', { exact: true }).inputValue(), 'direct_access pmem0 sector=8 size=4K');
  assert.deepEqual(await axe(p), []);
  await shot(p, 'command-reference');
  await p.close();
});

test('results show text when the bytes are text, and hex on demand', async () => {
  const p = await page(b, { width: 1280, height: 900 });
  await p.goto(server.base + '/');
  await idle(p);
  await p.keyboard.press('End');
  const read = p.locator('.results li', { hasText: 'read f 0 20' });
  assert.match(await read.textContent(), /ok {2}"hello, direct access"/);
  assert.doesNotMatch(await read.textContent(), /\{"hex"/, 'text, not hex JSON');
  await read.getByRole('button', { name: 'hex' }).click();
  assert.match(await read.locator('.hexdump').textContent(), /^0000 {2}68 65 6c 6c 6f 2c 20 64 69 72 65 63 74 20 61 63\n0010 {2}63 65 73 73$/);
  assert.deepEqual(await axe(p), []);
  await p.close();
});

test('the contents of a frame, DAX or page cache, mark the bytes the step changed', async () => {
  const p = await page(b, { width: 1280, height: 900 });
  await p.goto(server.base + '/');
  await idle(p);
  // DAX: the write's copy lands in the device's frame.
  await p.keyboard.press('Home');
  await p.getByRole('button', { name: 'Next copy' }).click();
  await p.locator('.flow .arrow:not(.zero)').first().waitFor();
  await p.locator('[aria-label="page frames of /dev/pmem0"] [data-pfn]').first().dblclick();
  let dialog = p.getByRole('dialog', { name: /^Contents of page frame / });
  await dialog.waitFor();
  assert.match(await p.getByTestId('page-changed').textContent(), /changed 20 bytes of this page/);
  assert.equal((await dialog.locator('.ascii mark').allTextContents()).join(''), 'hello, direct access');
  assert.match(await dialog.textContent(), /device\/dev\/pmem0 page \d+/);
  assert.deepEqual(await axe(p), []);
  await shot(p, 'page-contents-dax');
  // The next step changes nothing there.
  await dialog.getByRole('button', { name: 'Next step ▶' }).click();
  await p.getByTestId('page-changed').getByText(/changed no byte/).waitFor();
  await p.keyboard.press('Escape');
  // Page cache: the same write on a page-cache mount lands in a page-cache page.
  await runScenario(p, 'device pmem0 brd size=64M\nmkfs ext2 /dev/pmem0\nmount /dev/pmem0 /mnt\nopen f /mnt/hello create\nwrite f 0 "hello, page cache"\n');
  await p.keyboard.press('Home');
  await p.getByRole('button', { name: 'Next copy' }).click();
  await p.locator('[aria-label="page cache of /mnt/hello"] [data-pfn]').first().click();
  await p.getByRole('button', { name: 'Page contents' }).click();
  dialog = p.getByRole('dialog', { name: /^Contents of page frame / });
  await dialog.waitFor();
  assert.equal((await dialog.locator('.ascii mark').allTextContents()).join(''), 'hello, page cache');
  assert.match(await dialog.textContent(), /page cache\/mnt\/hello page 0/);
  await shot(p, 'page-contents-page-cache');
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('the store a race wipes can be seen in the page: R1', async () => {
  const p = await page(b, { width: 1280, height: 900 });
  await p.goto(server.base + '/');
  await idle(p);
  await runScenario(p, await readFile(join(ROOT, 'scenarios/races/r1-two-write-faults.dax'), 'utf8'));
  await p.keyboard.press('End');
  // The device frame of the file's block, opened from the block map.
  const block = p.locator('[aria-label="block map of /mnt/dax/file"] [data-pfn]').first();
  const pfn = await block.getAttribute('data-pfn');
  await block.dblclick();
  const dialog = p.getByRole('dialog', { name: /^Contents of page frame / });
  await dialog.waitFor();
  // At the end: a's "A" at offset 100 (0x64), and b's "B" at offset 0 is gone.
  assert.match(await dialog.locator('.prow', { hasText: '0x0060' }).textContent(), /^0x0060 {2}00 00 00 00 41 /);
  assert.doesNotMatch(await dialog.locator('.pagedump').textContent(), /0x0000 {2}42/);
  await p.keyboard.press('Escape');
  // Find the step that wipes b's store: a zeroing of the whole block, one byte changed (B → 0).
  await p.locator('#timeline').focus();
  await p.keyboard.press('Home');
  let wiped = 0;
  for (let i = 0; i < 120 && !wiped; i++) {
    await p.keyboard.press('ArrowRight');
    if (!/zero 4096 B/.test(await p.locator('.events').textContent())) continue;
    const cell = p.locator(`.cell[data-pfn="${pfn}"]`).first();
    if (!(await cell.count())) continue;
    await cell.dblclick();
    await dialog.waitFor();
    if (/changed 1 byte of/.test(await p.getByTestId('page-changed').textContent())) {
      assert.equal((await dialog.locator('.hex mark').allTextContents()).join('').trim(), '00');
      wiped = await stepNumber(p);
      await shot(p, 'page-contents-race');
    }
    await p.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await p.locator('#timeline').focus();
  }
  assert.ok(wiped > 0, 'a step zeroes the byte b stored');
  assert.deepEqual(p.errors, []);
  await p.close();
});
