// The console's redirect sign-in in a real browser: `metalfleet serve` configured with
// METALFLEET_OIDC_* (a public client, PKCE) and panva's oidc-provider, on different sites
// (localhost and 127.0.0.1), so the provider's redirect back is cross-site as in production. Click
// "Sign in with …", log in at the provider's page, come back signed in (the SameSite=Strict session
// cookie is sent once the callback's page moves on by itself), sign out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AXE_CONTEXT, axeViolations, browserSkip, launchChromium } from '../helpers/browser.ts';
import { OIDC_CLIENT_ID, startOidcProvider } from '../helpers/oidc-provider.ts';
import { freePort, startServer } from '../helpers/process.ts';

test('sign in with the OIDC provider in a browser, and sign out', { skip: browserSkip, timeout: 180_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mf-oidc-browser-'));
  const port = await freePort();
  const consoleUrl = `http://localhost:${port}`;
  const idp = await startOidcProvider(`${consoleUrl}/sign-in/oidc/callback`);
  const server = await startServer({
    METALFLEET_DATA_DIR: dataDir, DATABASE_URL: '', METALFLEET_SECRET_KEY: '', METALFLEET_SIGNING_KEY: '', PORT: String(port),
    METALFLEET_PUBLIC_URL: consoleUrl,
    METALFLEET_OIDC_ISSUER: idp.issuer, METALFLEET_OIDC_AUDIENCE: OIDC_CLIENT_ID, METALFLEET_OIDC_JWKS_URL: `${idp.issuer}/jwks`,
    METALFLEET_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
  });
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext(AXE_CONTEXT)).newPage();
    await page.goto(`${consoleUrl}/`);
    await page.waitForURL(`${consoleUrl}/sign-in`);
    const signIn = page.getByRole('link', { name: `Sign in with ${new URL(idp.issuer).host}` });
    assert.ok(await signIn.isVisible());
    const serious = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(serious, [], 'the sign-in page: accessibility violations');

    await signIn.click();
    await page.waitForURL((url) => url.origin === idp.issuer);
    await page.locator('input[name=login]').fill('alice');
    await page.locator('input[name=password]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();

    // Back at the console through the callback's page, signed in.
    await page.waitForURL(`${consoleUrl}/`, { timeout: 10_000 }).catch(async (err) => {
      console.log(page.url(), (await page.content()).slice(0, 3000));
      throw err;
    });
    await page.locator('h1', { hasText: 'Fleet' }).waitFor({ timeout: 10_000 }).catch(async (err) => {
      console.log(page.url(), (await page.content()).slice(0, 3000), server.output().slice(-3000));
      throw err;
    });
    assert.ok(await page.getByText('alice (platform-admin)').isVisible());
    const cookies = await page.context().cookies(consoleUrl);
    assert.deepEqual(cookies.map((c) => [c.name, c.httpOnly, c.sameSite]), [['metalfleet-session', true, 'Strict']],
      'the session cookie only: the pending sign-in is gone');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${consoleUrl}/sign-in`);
    await page.goto(`${consoleUrl}/`);
    await page.waitForURL(`${consoleUrl}/sign-in`);
  } finally {
    await browser.close();
    await server.stop();
    await idp.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
