// The web console in a real browser against `metalfleet demo`: sign in with the demo's one-time
// link, fleet, a cluster and its sessions (Established within 60 s), plan and apply a one-pool
// change, the new revision's side-by-side diff, roll back, an enrollment token, a staged rollout
// (its list and page, paused with its button), sign out; a tenant-viewer sees no write controls,
// gets 403 on a forged form and 404 on another tenant's pages. axe-core on every page, light and dark (no serious or critical violation), and screenshots
// at 1280 and 390 px under test-results/ (checked not blank, and no wider than the viewport).
// After the demo exits, its data is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { AXE_CONTEXT, axeViolations, browserSkip, launchChromium, pngShowsSomething, screenshotAt } from '../helpers/browser.ts';
import { startDemo } from '../helpers/demo.ts';

const WIDTHS = [1280, 390];

/** axe on the page (no serious or critical violation) and a non-blank screenshot at each width. */
async function check(page: Page, name: string): Promise<void> {
  const serious = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious, [], `${name}: accessibility violations`);
  for (const width of WIDTHS) {
    assert.ok(pngShowsSomething(await screenshotAt(page, `console-${name}`, width)), `${name} at ${width} px is blank`);
    // Readable at that width: wide tables scroll in their own box, the page does not.
    const pageWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(pageWidth <= width, `${name} is ${pageWidth} px wide at a ${width} px viewport`);
  }
  // Dark mode (prefers-color-scheme): its colours must pass too.
  await page.emulateMedia({ colorScheme: 'dark' });
  const seriousDark = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(seriousDark, [], `${name} (dark): accessibility violations`);
  assert.ok(pngShowsSomething(await screenshotAt(page, `console-${name}-dark`, 1280)), `${name} (dark) is blank`);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
}

test('the console in a browser against metalfleet demo', { skip: browserSkip, timeout: 300_000 }, async () => {
  const demo = await startDemo();
  const browser = await launchChromium();
  try {
    const viewerToken = (await demo.api('POST', '/v1/tokens', { name: 'viewer', role: 'tenant-viewer', tenant: 'demo', ttl: '1h' }) as { token: string }).token;

    const admin = await (await browser.newContext(AXE_CONTEXT)).newPage();
    // Sign in with the one-time link: a button, then the fleet.
    await admin.goto(demo.link);
    await check(admin, 'sign-in-link');
    await admin.getByRole('button', { name: 'Continue' }).click();
    await admin.waitForURL(`${demo.url}/`, { timeout: 5000 }).catch(async (err) => { console.log(admin.url(), (await admin.content()).slice(0, 3000)); throw err; });
    assert.equal(await admin.locator('h1').textContent(), 'Fleet');
    await check(admin, 'fleet');
    // The link was used up.
    const again = await admin.context().request.post(`${demo.url}/sign-in/link`, { form: { link: new URL(demo.link).searchParams.get('code')! }, headers: { origin: demo.url } });
    assert.equal(again.status(), 401);

    // A cluster and its sessions: the demo's agents report them Established.
    await admin.getByRole('link', { name: 'demo', exact: true }).first().click();
    await check(admin, 'tenant');
    await admin.getByRole('link', { name: 'edge-frr', exact: true }).click();
    const deadline = Date.now() + 60_000;
    while (!(await admin.locator('#sessions ~ * td, section[aria-labelledby=sessions] td').getByText('Established').count())) {
      assert.ok(Date.now() < deadline, 'no Established session within 60 s');
      await admin.waitForTimeout(2000);
      await admin.reload();
    }
    await check(admin, 'cluster');
    await admin.getByRole('link', { name: 'Sessions', exact: true }).click();
    assert.ok(await admin.getByText('Established').count() > 0);
    await check(admin, 'sessions');

    // Plan and apply a one-pool change.
    await admin.getByRole('link', { name: 'Change', exact: true }).click();
    await check(admin, 'change');
    const document = await admin.locator('#document').inputValue();
    assert.ok(document.includes('198.51.100.64/27'), document);
    // One pool grows by a CIDR (the line repeated with the new one: YAML's indentation kept).
    await admin.locator('#document').fill(document.replace(/^(\s*- )198\.51\.100\.64\/27$/m, (line, dash) => `${line}\n${dash}198.51.100.128/28`));
    await admin.getByRole('button', { name: 'Plan' }).click();
    assert.match(await admin.locator('h1').textContent() ?? '', /^Plan for demo/);
    assert.ok(await admin.getByRole('cell', { name: 'batch-v4' }).count() > 0 || await admin.getByRole('rowheader', { name: 'batch-v4' }).count() > 0);
    await check(admin, 'plan');
    await admin.getByRole('button', { name: 'Apply this plan' }).click();
    await admin.getByText(/^Applied: 1 object change/).waitFor();
    await check(admin, 'applied');

    // The new revision and its diff, then roll back.
    await admin.goto(`${demo.url}/t/demo/clusters/edge-frr`);
    await admin.getByRole('link', { name: 'diff r2' }).click();
    assert.ok(await admin.locator('td.add', { hasText: '198.51.100.128/28' }).count() > 0, 'the diff shows the new pool CIDR');
    assert.equal(await admin.locator('td.del').count(), 0, 'nothing was removed');
    await check(admin, 'diff');
    await admin.getByRole('link', { name: 'Back to cluster edge-frr' }).click();
    await admin.getByRole('button', { name: 'Roll back to r1' }).click();
    await admin.getByText('Rolled back: r3 serves the objects of r1.').waitFor({ timeout: 5000 })
      .catch(async (err) => { console.log((await admin.locator('main').textContent())?.slice(0, 2000)); throw err; });

    // An enrollment token, shown once with a copy button.
    await admin.getByRole('button', { name: 'Create enrollment token' }).click();
    const token = (await admin.locator('#new-token').textContent())!.trim();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(await admin.getByRole('button', { name: 'Copy token' }).isVisible());
    await check(admin, 'enrollment-token');
    await admin.goto(`${demo.url}/t/demo/audit?resource=enrollment-token`);
    assert.ok(await admin.getByRole('cell', { name: 'enrollment-token' }).count() >= 1);
    await check(admin, 'audit');

    // A staged rollout: a policy whose canary bakes for an hour, a change that becomes a rollout, its
    // list and its page (waves, gates with their evidence, the buttons), then pause it with a button.
    await demo.api('PUT', '/v1/tenants/demo/rollout-policy', { policy: { waves: [
      { name: 'canary', maxClusters: 1, bakeSeconds: 3600, timeoutSeconds: 7200 },
      { name: 'rest', bakeSeconds: 0, timeoutSeconds: 600 },
    ] } });
    await demo.api('POST', '/v1/tenants/demo/pools', { name: 'staged', cidrs: ['198.51.100.160/28'] });
    const staged = (await demo.api('GET', '/v1/tenants/demo/rollouts') as { items: Array<{ number: number }> }).items;
    assert.equal(staged.length, 1, 'the change became a rollout');
    const rolloutNumber = staged[0]!.number;
    await admin.getByRole('link', { name: 'Rollouts', exact: true }).click();
    await check(admin, 'rollouts');
    await admin.getByRole('link', { name: `Rollout ${rolloutNumber}`, exact: true }).click();
    assert.equal(await admin.getByRole('heading', { name: 'Wave 1: canary (current)' }).count(), 1);
    assert.equal(await admin.getByRole('button', { name: 'Resume' }).count(), 0, 'a progressing rollout cannot be resumed');
    await check(admin, 'rollout');
    await admin.getByRole('button', { name: 'Pause' }).click();
    await admin.getByText(`Paused: rollout ${rolloutNumber} is paused.`).waitFor({ timeout: 5000 });
    assert.equal(await admin.getByRole('button', { name: 'Resume' }).count(), 1);
    await check(admin, 'rollout-paused');

    // Sign out: the session is gone.
    await admin.getByRole('button', { name: 'Sign out' }).click();
    await admin.waitForURL(`${demo.url}/sign-in`);
    await check(admin, 'sign-in');
    await admin.goto(`${demo.url}/t/demo`);
    assert.equal(new URL(admin.url()).pathname, '/sign-in');

    // A tenant-viewer: no write controls, 403 on a forged form, 404 on another tenant.
    const viewer = await (await browser.newContext(AXE_CONTEXT)).newPage();
    await viewer.goto(`${demo.url}/sign-in`);
    await viewer.getByLabel('API token').fill(viewerToken);
    await viewer.getByRole('button', { name: 'Sign in' }).click();
    await viewer.waitForURL(`${demo.url}/t/demo`);
    await viewer.goto(`${demo.url}/t/demo/clusters/edge-frr`);
    assert.equal(await viewer.getByRole('button', { name: /Create enrollment token|Roll back|Revoke/ }).count(), 0);
    await check(viewer, 'cluster-viewer');
    await viewer.goto(`${demo.url}/t/demo/rollouts/${rolloutNumber}`);
    assert.equal(await viewer.getByRole('button', { name: /Pause|Resume|Promote|Abort/ }).count(), 0);
    await check(viewer, 'rollout-viewer');
    await viewer.goto(`${demo.url}/t/demo/change`);
    assert.equal(await viewer.getByRole('button', { name: 'Plan' }).count(), 0);
    const csrf = await viewer.locator('input[name=csrf]').first().inputValue();
    const forged = await viewer.context().request.post(`${demo.url}/t/demo/clusters/edge-frr/enrollment-tokens`, { form: { csrf, ttl: '1h' }, headers: { origin: demo.url } });
    assert.equal(forged.status(), 403);
    const noCsrf = await viewer.context().request.post(`${demo.url}/t/demo/clusters/edge-frr/rollback`, { form: { revision: '1' }, headers: { origin: demo.url } });
    assert.equal(noCsrf.status(), 403);
    for (const path of ['/t/demo-native', '/t/demo-native/clusters/k8s-native', '/t/demo-native/audit']) {
      const res = await viewer.goto(`${demo.url}${path}`);
      assert.equal(res?.status(), 404, path);
    }
    await check(viewer, 'not-found');
  } finally {
    await browser.close();
    const code = await demo.stop();
    assert.equal(code, 0, demo.output());
    assert.equal(existsSync(demo.dataDir), false, 'the demo removed its data');
    await assert.rejects(fetch(`${demo.url}/healthz`), 'the demo server is gone');
  }
});
