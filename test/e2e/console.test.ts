/**
 * The console in a real browser: Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium) driven by
 * playwright-core against the running engine. Sign in with a key, watch a settlement arrive in the live feed
 * without a reload, open its timeline, and have a parked settlement requeued by two operators through the page.
 * With SCREENSHOT_DIR set (npm run console:screenshots), every page is also saved as a PNG there.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { http, newSettlementId, settled, settlementRequest, startTestEngine, type TestEngine } from '../support/engine';
import { roleAccess, type CallerName } from '../support/access';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshotDirectory = process.env.SCREENSHOT_DIR;
/** Generous: the machine is shared; this is not a latency assertion. */
const waitMs = 20_000;
const access = roleAccess();
let engine: TestEngine;
let browser: BrowserContext;
let page: Page;
let profile: string;
/** A settlement parked while the first tests run (the bank refuses it until the test lets it through). */
let parkedSettlement: Promise<string>;

beforeAll(async () => {
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
  // A fresh profile per run (launchPersistentContext passes it as --user-data-dir); started beside the engine.
  const launching = chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  engine = await startTestEngine({ access, limits: { retryAttemptsMax: 1 } });
  browser = await launching;
  page = await browser.newPage();
  parkedSettlement = (async () => {
    const settlementId = newSettlementId('console-parked');
    engine.bank.setScenario(settlementId, { unavailableCalls: 1_000 });
    expect((await submit(settlementRequest({ settlementId }))).status).toBe(202);
    expect(await settled(engine, settlementId)).toMatchObject({ parked: true });
    return settlementId;
  })();
  page.setDefaultTimeout(waitMs);
});

afterAll(async () => {
  await browser?.close();
  await engine?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function shot(name: string): Promise<void> {
  if (!screenshotDirectory) return;
  mkdirSync(screenshotDirectory, { recursive: true });
  await page.screenshot({ path: join(screenshotDirectory, `${name}.png`), fullPage: true });
}

/** Signs in with the keyboard only: type the key, press Enter. */
async function signInAs(caller: CallerName): Promise<void> {
  await page.goto(`${engine.httpUrl}/console`);
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await page.getByLabel('API key').fill(access.keys[caller]);
  await page.keyboard.press('Enter');
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
}

const submit = (request: Record<string, unknown>) => http(engine, 'POST', '/api/v1/settlements', request, access.headers('service'));

describe('the console', () => {
  it('loads at /console and refuses a wrong key', async () => {
    await page.goto(`${engine.httpUrl}/console`);
    await shot('sign-in');
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'AUTH.UNAUTHENTICATED' }).waitFor();
  });

  it('shows a settlement submitted through the API in the live feed without a reload, and its timeline', async () => {
    await signInAs('operatorA');
    await page.locator('[data-feed-state="live"]').waitFor();
    const request = settlementRequest();
    expect((await submit(request)).status).toBe(202);
    const row = page.locator(`tr[data-settlement-id="${request.settlementId}"]`).first();
    await row.waitFor();
    await settled(engine, String(request.settlementId));
    await page.locator(`tr[data-settlement-id="${request.settlementId}"]`, { hasText: 'COMPLETED' }).first().waitFor();
    await shot('feed');

    await row.getByRole('link').click();
    const timeline = page.getByRole('list', { name: 'Checkpoint timeline' });
    await timeline.getByText('COMPLETED').waitFor();
    expect(await timeline.getByRole('listitem').count()).toBe(6);
    await page.getByText('Submitted by').waitFor();
    await shot('settlement');
  });

  it('lets one operator propose a requeue of a parked settlement and another approve it', async () => {
    const settlementId = await parkedSettlement;
    await signInAs('operatorA');
    // Keyboard: focus the navigation link and press Enter.
    await page.getByRole('link', { name: 'Parked & proposals' }).focus();
    await page.keyboard.press('Enter');
    const parkedRow = page.locator(`tr[data-parked-id="${settlementId}"]`);
    await parkedRow.getByRole('button', { name: 'Requeue' }).click();
    await page.getByRole('status').filter({ hasText: 'waits for a second operator' }).waitFor();
    const proposalRow = page.locator(`tr[data-proposal-target="${settlementId}"]`);
    await proposalRow.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').filter({ hasText: 'APPROVAL.SELF_APPROVAL' }).waitFor();
    await shot('parked');

    engine.bank.setScenario(settlementId, {});
    await signInAs('operatorB');
    await page.goto(`${engine.httpUrl}/console#/parked`);
    await page.locator(`tr[data-proposal-target="${settlementId}"]`).getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').filter({ hasText: 'Approve: done (EXECUTED)' }).waitFor();
    expect(await settled(engine, settlementId)).toMatchObject({ status: 'COMPLETED', attempt: 2 });
  });

  it('shows accounts with their balance chart, reconciliation, windows and the last hour', async () => {
    await signInAs('operatorA');
    await page.goto(`${engine.httpUrl}/console#/accounts/${encodeURIComponent('VOSTRO#DEUTDEFF#EUR')}`);
    await page.getByRole('heading', { name: 'VOSTRO#DEUTDEFF#EUR' }).waitFor();
    await page.locator('figure.chart canvas').first().waitFor();
    await shot('accounts');
    await page.goto(`${engine.httpUrl}/console#/reconciliations`);
    await page.getByLabel('Nostro account').selectOption('NOSTRO#BNPAFRPP#EUR');
    await page.getByRole('button', { name: 'Reconcile the last 24 hours' }).click();
    await page.getByRole('status').filter({ hasText: 'Report' }).waitFor();
    await shot('reconciliation');
    await page.goto(`${engine.httpUrl}/console#/windows`);
    await page.getByRole('cell', { name: 'EUR', exact: true }).waitFor();
    await shot('windows');
    await page.goto(`${engine.httpUrl}/console#/metrics`);
    await page.locator('figure.chart canvas').nth(2).waitFor();
    await shot('last-hour');
  });
});
