// The first page, as a newcomer opens it: the release build, at the root and under a sub-path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, browser, page, shot, axe, SUBPATH } from './harness.mjs';

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
    await shot(p, `first-page-${where}`);
    assert.deepEqual(p.errors, []);
    await p.close();
  });
}

test('selecting a file opens it in the inspector', async () => {
  const p = await page(b);
  await p.goto(server.base + '/');
  await p.getByTestId('file-12').click();
  const inspector = p.getByLabel('Inspector', { exact: true });
  await inspector.getByText('S_DAX').waitFor();
  assert.match(await inspector.textContent(), /block map0→\d+/);
  await shot(p, 'inspector-file');
  assert.deepEqual(p.errors, []);
  await p.close();
});

test('a scenario error names the line and column', async () => {
  const p = await page(b);
  await p.goto(server.base + '/');
  await p.getByLabel('Scenario').fill('device pmem0 brd size=64M\nmmpa m f 0 4K shared rw');
  await p.getByTestId('run').click();
  const alert = p.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /line 2, col 1: unknown command "mmpa"; did you mean "mmap"\?/);
  await shot(p, 'scenario-error');
  await p.close();
});

test('no serious accessibility violations on the first page', async () => {
  const p = await page(b);
  await p.goto(server.base + '/');
  await p.getByTestId('proc-mounts').waitFor();
  assert.deepEqual(await axe(p), []);
  await p.close();
});
