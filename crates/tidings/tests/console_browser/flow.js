// The console in headless Chromium, driven by playwright-core (run by console_browser.rs).
// Usage: node flow.js BASE_URL ADMIN_TOKEN PHASE STATE_FILE
//   PHASE "main": the operator's whole story (see console_browser.rs); saves a second signed-in
//                 session to STATE_FILE for the "expired" phase.
//   PHASE "expired": after the test moved the server's clock, that session must be refused.
// Prints one JSON object of observations on stdout; throws (exit 1) on the first broken rule.
// TIDINGS_CONSOLE_SCREENSHOTS=DIR writes PNG screenshots of the main pages there.
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');

const [base, adminToken, phase, stateFile] = process.argv.slice(2);
const origin = new URL(base).origin;
const shots = process.env.TIDINGS_CONSOLE_SCREENSHOTS || '';
const executablePath = process.env.TIDINGS_CHROMIUM || '/usr/bin/chromium';
const WIDE = { width: 1100, height: 800 };
const NARROW = { width: 375, height: 740 };

function fail(message) { throw new Error(message); }
function expectEqual(actual, expected, what) {
  if (actual !== expected) { fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`); }
}

const out = { phase, checks: [], foreignRequests: [], pageErrors: [], consoleErrors: [], screenshots: [] };

function watch(context, page) {
  context.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(origin + '/') && !url.startsWith('data:')) { out.foreignRequests.push(url); }
  });
  page.on('pageerror', (e) => out.pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') { out.consoleErrors.push(m.text()); } });
  page.on('dialog', (d) => d.accept());
}

// The rules of every page: no horizontal scrolling at 375 px, a label for every form control.
async function check(page, name, screenshot) {
  const unlabeled = await page.evaluate(() =>
    Array.from(document.querySelectorAll('input, select, textarea'))
      .filter((el) => el.type !== 'hidden' && (!el.labels || el.labels.length === 0))
      .map((el) => el.outerHTML));
  await page.setViewportSize(NARROW);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  if (screenshot && shots) {
    const file = path.join(shots, `${name}-375.png`);
    await page.screenshot({ path: file, fullPage: false });
    out.screenshots.push(file);
  }
  await page.setViewportSize(WIDE);
  out.checks.push({ page: name, url: page.url(), scrollWidth, unlabeled });
  if (unlabeled.length) { fail(`${name}: form controls without a label: ${unlabeled.join(' ')}`); }
  if (scrollWidth > 375) { fail(`${name}: ${scrollWidth} px wide at 375 px`); }
  if (screenshot && shots) {
    const file = path.join(shots, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    out.screenshots.push(file);
  }
}

async function submit(page, selector) {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return response;
}

async function text(page, selector) {
  return (await page.textContent(selector) || '').trim();
}

async function api(method, url, { bearer, body } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (bearer) { headers.authorization = `Bearer ${bearer}`; }
  const r = await fetch(new URL(url, base), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

async function signIn(page, token) {
  await page.goto(new URL('console/sign-in', base).href);
  await page.fill('#token', token);
  return submit(page, 'form[action="/console/sign-in"] button[type="submit"]');
}

async function main(browser) {
  const context = await browser.newContext({ viewport: WIDE });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await context.newPage();
  watch(context, page);

  // Signed out, the console sends the operator to the sign-in page.
  await page.goto(new URL('console', base).href);
  expectEqual(new URL(page.url()).pathname, '/console/sign-in', 'signed-out landing');
  await check(page, 'sign-in', true);

  // A wrong token is refused.
  const wrong = await signIn(page, 'not-the-admin-token');
  expectEqual(wrong.status(), 401, 'wrong token status');
  if (!(await page.textContent('.errors')).includes('Not authorized.')) { fail('no refusal shown'); }
  out.wrongTokenStatus = wrong.status();

  // The right one opens the accounts.
  await signIn(page, adminToken);
  expectEqual(new URL(page.url()).pathname, '/console/accounts', 'after sign-in');
  await page.fill('#account-name', 'Demo');
  await page.fill('#account-id', 'Demo');
  await submit(page, 'form[action="/console/accounts"] button[type="submit"]');
  expectEqual(new URL(page.url()).pathname, '/console/accounts/Demo', 'account page');
  await check(page, 'accounts-demo', false);
  await page.goto(new URL('console/accounts', base).href);
  await check(page, 'accounts', true);

  // A code and a keyword.
  await page.goto(new URL('console/accounts/Demo/codes', base).href);
  await page.fill('#code-code', '88976');
  await page.selectOption('#code-type', 'short');
  await page.selectOption('#code-carrier', 'simulator');
  await submit(page, 'form[action="/console/accounts/Demo/codes"] button[type="submit"]');
  if (!(await text(page, '.notice')).includes('Code 88976 created.')) { fail('code not created'); }
  await check(page, 'codes', true);

  // A form without its CSRF token is refused, and nothing is created.
  await page.fill('#code-code', '77777');
  await page.evaluate(() => document.querySelector('form[action="/console/accounts/Demo/codes"] input[name="csrf"]').remove());
  const forged = await submit(page, 'form[action="/console/accounts/Demo/codes"] button[type="submit"]');
  expectEqual(forged.status(), 403, 'form without CSRF token');
  out.missingCsrfStatus = forged.status();
  const codes = await api('GET', 'admin/v1/accounts/Demo/codes', { bearer: adminToken });
  expectEqual(codes.body.items.length, 1, 'codes after the refused form');

  await page.goto(new URL('console/accounts/Demo/keywords', base).href);
  await page.selectOption('#keyword-code', '88976');
  await page.fill('#keyword-keyword', 'JOIN');
  await page.fill('#keyword-response', 'Welcome! Reply STOP to opt out.');
  await submit(page, 'form[action="/console/accounts/Demo/keywords"] button[type="submit"]');
  if (!(await text(page, '.notice')).includes('Keyword JOIN created.')) { fail('keyword not created'); }
  await check(page, 'keywords', true);

  // Editing a code and a keyword on their own pages.
  await page.goto(new URL('console/accounts/Demo/codes', base).href);
  await Promise.all([page.waitForNavigation(), page.click('td a.action')]);
  await check(page, 'code-edit', false);
  await page.fill('#code-help', 'Reply STOP to opt out, HELP for help.');
  await submit(page, 'form[action^="/console/accounts/Demo/codes/"] button[type="submit"]');
  if (!(await text(page, '.notice')).includes('Code 88976 saved.')) { fail('code not saved'); }
  const edited = await api('GET', 'admin/v1/accounts/Demo/codes/88976', { bearer: adminToken });
  expectEqual(edited.body.helpText, 'Reply STOP to opt out, HELP for help.', 'edited help text');
  await page.goto(new URL('console/accounts/Demo/keywords', base).href);
  await Promise.all([page.waitForNavigation(), page.click('td a.action')]);
  await check(page, 'keyword-edit', false);
  await page.fill('#keyword-response', 'Welcome aboard! Reply STOP to opt out.');
  await submit(page, 'form[action^="/console/accounts/Demo/keywords/"] button[type="submit"]');
  if (!(await text(page, '.notice')).includes('Keyword JOIN saved.')) { fail('keyword not saved'); }

  // Two lists: one filled from a CSV file with bad rows, one left empty for exclusions.
  await page.goto(new URL('console/accounts/Demo/lists', base).href);
  await check(page, 'lists-empty', false);
  await page.fill('#list-name', 'Customers');
  await page.fill('#list-id', 'Customers');
  await submit(page, 'form[action="/console/accounts/Demo/lists"] button[type="submit"]');
  expectEqual(new URL(page.url()).pathname, '/console/accounts/Demo/lists/Customers', 'list page');
  const csv = 'mobileNumber,FirstName\n15555555510,Ann\nnot-a-number,Eve\n15555555511,Bob\n123,Short\n15555550000,Una\n';
  await page.selectOption('#upload-subscribe', '88976 JOIN');
  await page.setInputFiles('#upload-file', { name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await Promise.all([
    page.waitForURL((u) => u.searchParams.has('import')),
    page.click('form[data-upload] button[type="submit"]'),
  ]);
  out.importErrors = await page.$$eval('#import-errors tbody tr', (rows) => rows.map((r) =>
    Array.from(r.querySelectorAll('td')).map((td) => td.textContent.trim())));
  out.listSize = await text(page, '[data-list-size]');
  out.importCounts = {
    added: await text(page, '[data-report="added"]'),
    invalid: await text(page, '[data-report="invalid"]'),
  };
  await check(page, 'list-import', true);

  await page.goto(new URL('console/accounts/Demo/lists', base).href);
  await page.fill('#list-name', 'Do not disturb');
  await page.fill('#list-id', 'DND');
  await submit(page, 'form[action="/console/accounts/Demo/lists"] button[type="submit"]');
  await page.goto(new URL('console/accounts/Demo/lists', base).href);
  out.lists = await page.$$eval('table.rows tbody tr', (rows) => rows.map((r) =>
    Array.from(r.querySelectorAll('td')).map((td) => td.textContent.trim())));
  await check(page, 'lists', true);

  // A message whose text would run a script if it were not escaped.
  await page.goto(new URL('console/accounts/Demo/messages', base).href);
  await page.fill('#new-message-name', 'Welcome');
  await page.selectOption('#new-message-code', '88976');
  await page.fill('#new-message-text', 'Hello %%FirstName%% <script>window.pwned = 1</script>');
  await page.selectOption('#new-message-status', 'Active');
  const form = 'form[action="/console/accounts/Demo/messages"]';
  await page.check(`${form} input[name="targetListIds"][value="Customers"]`);
  await page.check(`${form} input[name="exclusionListIds"][value="DND"]`);
  await submit(page, 'form[action="/console/accounts/Demo/messages"] button[type="submit"]');
  const messagePath = new URL(page.url()).pathname;
  if (!messagePath.startsWith('/console/accounts/Demo/messages/')) { fail(`not on the message page: ${messagePath}`); }
  out.messageTextShown = await text(page, 'pre.text');
  out.pwnedOnMessagePage = await page.evaluate(() => window.pwned === undefined ? null : window.pwned);
  await check(page, 'message', true);

  // Copy the ID with its button, from the page, and send the message over the API with it.
  const shownId = await text(page, 'dl.facts code.id');
  await page.click('dl.facts button.copy');
  await page.waitForFunction(() => document.querySelector('dl.facts button.copy').textContent === 'Copied');
  await page.bringToFront();
  const copiedId = await page.evaluate(() => navigator.clipboard.readText());
  expectEqual(copiedId, shownId, 'copied ID');
  out.copiedId = copiedId;

  const client = await api('POST', 'admin/v1/accounts/Demo/clients', { bearer: adminToken, body: {} });
  expectEqual(client.status, 201, 'client creation');
  const token = await api('POST', 'v2/token', { body: {
    grant_type: 'client_credentials', client_id: client.body.clientId, client_secret: client.body.clientSecret,
  } });
  expectEqual(token.status, 200, 'token');
  const sent = await api('POST', `sms/v1/messageList/${encodeURIComponent(copiedId)}/send`, {
    bearer: token.body.access_token, body: {},
  });
  expectEqual(sent.status, 202, `send answered ${JSON.stringify(sent.body)}`);
  out.apiToken = sent.body.tokenId;

  // The send page follows the send to Finished without reloading.
  await page.goto(new URL(`console/accounts/Demo/sends/${sent.body.tokenId}`, base).href);
  await page.evaluate(() => { window.notReloaded = true; });
  out.initial = {
    status: await text(page, 'p [data-field="status"]'),
    delivered: await text(page, '[data-field="count-delivered"]'),
  };
  await page.waitForFunction(() =>
    document.querySelector('p [data-field="status"]').textContent === 'Finished'
    && document.querySelector('[data-field="count-delivered"]').textContent === '2'
    && document.querySelector('[data-field="count-failed"]').textContent === '1', null, { timeout: 60000 });
  out.notReloaded = await page.evaluate(() => window.notReloaded === true);
  out.final = {
    status: await text(page, 'p [data-field="status"]'),
    recipients: await text(page, '[data-field="count-recipients"]'),
    delivered: await text(page, '[data-field="count-delivered"]'),
    failed: await text(page, '[data-field="count-failed"]'),
    completeDate: await text(page, '[data-field="completeDate"]'),
  };
  await check(page, 'send-finished', true);
  await submit(page, 'a[href$="/tracking"]');
  out.trackingRows = await page.$$eval('#tracking tbody tr', (rows) => rows.map((r) =>
    Array.from(r.querySelectorAll('td')).map((td) => td.textContent.trim())));
  await check(page, 'tracking', true);

  // A scheduled test send from the console, canceled before it is due.
  await page.goto(new URL(messagePath.slice(1), base).href);
  await page.fill('#send-time', '2030-01-01T10:00');
  await submit(page, '#test-send button[type="submit"]');
  const scheduledPath = new URL(page.url()).pathname;
  if (!scheduledPath.startsWith('/console/accounts/Demo/sends/')) { fail(`not on the send page: ${scheduledPath}`); }
  out.scheduledToken = scheduledPath.split('/').pop();
  out.scheduled = {
    status: await text(page, 'p [data-field="status"]'),
    scheduledFor: await text(page, '[data-field="scheduledFor"]'),
  };
  await check(page, 'send-scheduled', true);
  await submit(page, 'form[action$="/cancel"] button[type="submit"]');
  out.canceled = {
    notice: await text(page, '.notice'),
    status: await text(page, 'p [data-field="status"]'),
  };
  await check(page, 'send-canceled', false);

  await page.goto(new URL('console/accounts/Demo/sends', base).href);
  await check(page, 'sends', true);
  await page.goto(new URL('console/accounts/Demo', base).href);
  await check(page, 'account', true);
  await page.goto(new URL('console/outbox', base).href);
  out.outboxRows = await page.$$eval('#outbox tbody tr', (rows) => rows.length);
  out.pwnedOnOutbox = await page.evaluate(() => window.pwned === undefined ? null : window.pwned);
  await check(page, 'outbox', true);

  // A second signed-in session, kept for the expiry phase.
  const other = await browser.newContext({ viewport: WIDE });
  const otherPage = await other.newPage();
  watch(other, otherPage);
  await signIn(otherPage, adminToken);
  expectEqual(new URL(otherPage.url()).pathname, '/console/accounts', 'second session');
  await other.storageState({ path: stateFile });
  await other.close();

  // Sign out: the session is gone.
  await submit(page, 'form[action="/console/sign-out"] button[type="submit"]');
  expectEqual(new URL(page.url()).pathname, '/console/sign-in', 'after sign-out');
  await page.goto(new URL('console/accounts', base).href);
  expectEqual(new URL(page.url()).pathname, '/console/sign-in', 'signed out, accounts');
  out.signedOut = true;
  await context.close();
}

async function expired(browser) {
  const context = await browser.newContext({ viewport: WIDE, storageState: stateFile });
  const page = await context.newPage();
  watch(context, page);
  await page.goto(new URL('console/accounts', base).href);
  const url = new URL(page.url());
  out.expiredLanding = url.pathname + url.search;
  out.expiredNotice = await text(page, '.notice');
  await check(page, 'sign-in-expired', false);
  await context.close();
}

(async () => {
  const browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  try {
    if (phase === 'main') { await main(browser); } else if (phase === 'expired') { await expired(browser); } else { fail(`unknown phase ${phase}`); }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  console.error(JSON.stringify(out));
  process.exit(1);
});
