// Drives /docs and /redoc in Debian's headless Chromium (playwright-core,
// never a downloaded browser): Authorize with username and password (the
// OAuth2 password flow against /api/v1/auth/token), Try it out + Execute on
// GET /api/v1/users/me and see 200; /redoc shows the API's title; and no
// Content-Security-Policy violation on either page.
// usage: node tests/browser/docs.mjs BASE_URL USERNAME PASSWORD
// Prints one JSON line with what it saw; exit 0 when everything held.
import { chromium } from 'playwright-core';

const [base, username, password] = process.argv.slice(2);
const result = { docs_status: null, redoc_title: null, csp_violations: [], errors: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let ok = false;
try {
  const context = await browser.newContext();
  const watch = (page) => {
    page.on('console', (msg) => {
      const text = msg.text();
      if (/Content Security Policy|Refused to/i.test(text))
        result.csp_violations.push(text);
    });
    page.on('pageerror', (err) => result.errors.push(String(err)));
    page.on('response', (resp) => {
      if (resp.status() >= 400)
        result.errors.push(`${resp.request().method()} ${resp.url()} -> ${resp.status()}`);
    });
  };
  const page = await context.newPage();
  watch(page);
  page.setDefaultTimeout(30000);
  await page.goto(base + '/docs');
  await page.locator('button.authorize').first().click();
  const oauth = page.locator('.auth-container').filter({ hasText: 'OAuth2PasswordBearer' });
  await oauth.locator('#oauth_username').fill(username);
  await oauth.locator('#oauth_password').fill(password);
  await oauth.locator('button.authorize').click();
  try {
    await oauth.locator('button', { hasText: 'Logout' }).waitFor(); // shown once the token came back
  } catch (err) {
    result.errors.push('authorize dialog: ' + (await oauth.innerText()).slice(0, 800));
    throw err;
  }
  await page.locator('.dialog-ux button', { hasText: 'Close' }).first().click();
  const op = page.locator('#operations-users-get_api_v1_users_me');
  await op.locator('.opblock-summary').first().click();
  await op.locator('button.try-out__btn').click();
  await op.locator('button.execute').click();
  const status = op.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor();
  result.docs_status = (await status.innerText()).trim();
  result.docs_body_has_user = (await op.locator('.live-responses-table').innerText()).includes(username);

  const redoc = await context.newPage();
  watch(redoc);
  redoc.setDefaultTimeout(30000);
  await redoc.goto(base + '/redoc');
  const h1 = redoc.locator('h1').first();
  await h1.waitFor();
  result.redoc_title = (await h1.innerText()).trim();
  await redoc.waitForTimeout(500); // let late loads (fonts, workers) report
  ok = result.docs_status.startsWith('200') && result.docs_body_has_user &&
       result.redoc_title.startsWith('NetraDrive API') &&
       result.csp_violations.length === 0 && result.errors.length === 0;
} catch (err) {
  result.errors.push(String(err && err.stack || err));
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(ok ? 0 : 1);
