// The console in a real browser (Debian's Chromium driven by playwright-core) against the real
// stack: the vault, emr-gateway and notifier services as processes, the EMR simulator, Postgres,
// Kafka, Vault and the SMTP sink. Every screen is checked with axe-core (no serious or critical
// violation) in English and French; CC_CONSOLE_SCREENSHOT_DIR, when set, receives a PNG of each.
import { AxeBuilder } from '@axe-core/playwright';
import {
  freePort,
  MailInbox,
  ServiceProcess,
  serviceEnvFor,
  stackEnv,
  totpCodeFor,
  waitFor,
} from '@cloud-connect/testing';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Harness, PASSWORD, type SimSummary } from '../../emr-gateway/test/harness';
import { addServiceRequestWithQuirks, tamperedCopy } from '@cloud-connect/testing';

jest.setTimeout(240000);

const REPO = join(__dirname, '..', '..', '..');
const screenshotDir = process.env['CC_CONSOLE_SCREENSHOT_DIR'];
const harness = new Harness(2);
const inbox = new MailInbox(stackEnv().MAIL_API_URL);
let consoleProcess: ServiceProcess;
let notifier: ServiceProcess;
let intake: ServiceProcess;
/** The integrator's endpoint that receives copies: refuses them (503) until `receiverUp`. */
let receiver: Server;
let receiverUp = false;
const received: string[] = [];
/** Every secret the console showed once: none may appear on the reference card. */
const secretsShown: string[] = [];
let browser: Browser;
let context: BrowserContext;
let page: Page;
let base = '';
let email = '';
let siteA = '';
let siteB = '';
let sim: SimSummary;
let cardClientId = '';

function chromiumPath(): string {
  return execFileSync('bash', [join(REPO, 'scripts', 'ensure-chromium.sh')], {
    encoding: 'utf8',
    timeout: 20 * 60 * 1000,
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** axe-core on the page as it is: zero serious or critical violations. */
async function expectAccessible(name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect({ screen: name, violations: bad }).toEqual({ screen: name, violations: [] });
}

/** A form field by its label (Mantine marks required ones with an asterisk after the label). */
function field(label: string) {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.getByLabel(new RegExp(`^${escaped}( \\*)?$`));
}

/**
 * After an action that needs a recent sign-in: if the console asks for one (the sign-in is older
 * than 5 minutes), type the password and the next code, and let it retry; then wait for `done`.
 */
async function stepUpIfAsked(done: ReturnType<Page['getByTestId']>): Promise<void> {
  const asked = page.getByRole('button', { name: 'Sign in again and continue' });
  await Promise.race([done.waitFor(), asked.waitFor()]);
  if (await asked.isVisible()) {
    await page
      .getByLabel(/^Your password/)
      .last()
      .fill(PASSWORD);
    await field('Code from your authenticator app (once set up)')
      .last()
      .fill(await totpCodeFor(email));
    await asked.click();
    await done.waitFor();
  }
}

async function shot(name: string): Promise<void> {
  if (!screenshotDir) return;
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

async function checkScreen(name: string): Promise<void> {
  await expectAccessible(name);
  await shot(name);
}

async function apiAs(path: string): Promise<unknown> {
  const response = await fetch(`${harness.service.url}${path}`, {
    headers: { authorization: `Bearer ${await harness.adminToken()}` },
  });
  return response.json();
}

/** The one-time token in the newest e-mail to `to` (since `after`) whose subject matches. */
async function linkTokenIn(to: string, subject: RegExp, after: number): Promise<string> {
  const mail = await waitFor(
    `an e-mail to ${to} matching ${subject}`,
    async () =>
      (await inbox.list(to)).find((m) => subject.test(m.subject) && Date.parse(m.receivedAt) >= after - 1000),
    { timeoutMs: 90000, intervalMs: 1000 },
  );
  const token = /#\/set-password\?token=([A-Za-z0-9_-]{43})/.exec(mail.text)?.[1];
  if (!token) throw new Error(`no one-time link in "${mail.subject}"`);
  return token;
}

beforeAll(async () => {
  const executablePath = chromiumPath();
  await harness.start();
  siteA = harness.site();
  siteB = harness.site();
  email = `admin-${harness.schema}@clinic.ca`;
  notifier = new ServiceProcess(
    'notifier',
    await freePort(),
    serviceEnvFor('notifier', harness.env, { DATABASE_SCHEMA: `${harness.schema}_notifier` }),
  ).start();
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (receiverUp) received.push(request.headers['x-copy-key'] === 'receiver-key-123' ? body : '');
      response.writeHead(receiverUp ? 200 : 503).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  intake = new ServiceProcess(
    'referral-intake',
    await freePort(),
    serviceEnvFor('referral-intake', harness.env, {
      DATABASE_SCHEMA: `${harness.schema}_intake`,
      ADMIN_JWKS_URL: `${harness.vault.url}/.well-known/jwks.json`,
      VAULT_SERVICE_URL: harness.vault.url,
      COPY_MAX_ATTEMPTS: '2',
      COPY_BACKOFF_BASE_MS: '200',
      COPY_POLL_MS: '200',
    }),
  ).start();
  consoleProcess = new ServiceProcess('console', await freePort(), {
    HOST: '127.0.0.1',
    VAULT_SERVICE_URL: harness.vault.url,
    EMR_GATEWAY_URL: harness.service.url,
    REFERRAL_INTAKE_URL: intake.url,
    CONSOLE_SESSION_SECRET: randomBytes(32).toString('base64url'),
    CONSOLE_COOKIE_SECURE: 'false',
  }).start();
  await Promise.all([consoleProcess.waitReady(120000), notifier.waitReady(240000), intake.waitReady(240000)]);
  base = consoleProcess.url;
  sim = await harness.simCreate({ type: 'ps-suite' });
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  context = await browser.newContext({ locale: 'en-CA', viewport: { width: 1180, height: 820 } });
  page = await context.newPage();
  page.setDefaultTimeout(20000);
}, 600000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await Promise.all([consoleProcess?.stop(), notifier?.stop(), intake?.stop()]);
  receiver?.close();
  await harness.db?.query(`DROP SCHEMA IF EXISTS "${harness.schema}_intake" CASCADE`).catch(() => undefined);
  await harness.db
    ?.query(`DROP SCHEMA IF EXISTS "${harness.schema}_notifier" CASCADE`)
    .catch(() => undefined);
  await harness.stop();
});

describe('console server: one origin, sealed session, CSRF, CSP', () => {
  it('serves the app with a strict CSP, no framing, and refuses what is not the admin API', async () => {
    const page0 = await fetch(`${base}/`);
    const csp = page0.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("script-src 'self' 'unsafe-inline'");
    expect(page0.headers.get('x-frame-options')).toBe('DENY');
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(await page0.text()).toContain(`content="${nonce}"`);

    expect((await fetch(`${base}/session`)).status).toBe(401);
    expect((await fetch(`${base}/api/admin/sites/${siteA}/emr`)).status).toBe(401);
    // Service-to-service routes are never forwarded.
    const phi = await fetch(`${base}/api/sites/${siteA}/phi/encrypt`, {
      method: 'POST',
      headers: { origin: base, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(phi.status).toBe(404);
  });

  it('signs in into an HttpOnly SameSite cookie; state changes need the same origin and the CSRF token', async () => {
    const crossSite = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(crossSite.status).toBe(403);

    // The admin has an authenticator app: the right password alone asks for its code.
    const firstStep = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { origin: base, 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(firstStep.status).toBe(401);
    expect(((await firstStep.json()) as { code: string }).code).toBe('code-required');
    expect(firstStep.headers.get('set-cookie')).toBeNull();
    const signIn = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { origin: base, 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD, code: await totpCodeFor(email) }),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const view = (await signIn.json()) as { csrfToken: string; sites: Record<string, string> };
    expect(JSON.stringify(view)).not.toMatch(/eyJ/); // the access token never reaches the page
    expect(Object.keys(view.sites).sort()).toEqual([siteA, siteB].sort());
    const session = cookie.split(';')[0] ?? '';

    const noToken = await fetch(`${base}/api/admin/sites/${siteA}/emr/sync`, {
      method: 'POST',
      headers: { origin: base, cookie: session, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'recent' }),
    });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { code: string }).code).toBe('csrf');

    const read = await fetch(`${base}/api/admin/sites/${siteA}`, { headers: { cookie: session } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { siteNumber: string }).siteNumber).toBe(siteA);

    const tampered = await fetch(`${base}/session`, { headers: { cookie: tamperedCopy(session) } });
    expect(tampered.status).toBe(401);

    const wrong = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { origin: base, 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'not the password' }),
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({
      code: 'invalid-credentials',
      message: 'E-mail or password is incorrect.',
    });
  });
});

describe('console in the browser', () => {
  it('signs in (wrong password first) and picks one of two sites', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Sign in to Cloud Connect' }).waitFor();
    await checkScreen('sign-in-en');
    await field('E-mail').fill(email);
    await field('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'E-mail or password is incorrect.' }).waitFor();
    await field('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The second step: the authenticator app's code (a wrong one first).
    await field('Code from your authenticator app').fill('000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'This code is not valid or was already used.' })
      .waitFor();
    await checkScreen('sign-in-code-en');
    await field('Code from your authenticator app').fill(await totpCodeFor(email));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Choose a site' }).waitFor();
    await checkScreen('site-picker-en');
    await page.getByRole('button', { name: `Open site ${siteA}` }).click();
    await page.getByRole('heading', { name: 'Sync Status' }).waitFor();
    await page.getByText('Not integrated', { exact: true }).waitFor();
    await checkScreen('dashboard-not-integrated-en');
  });

  it('runs Integrate my EMR for PS Suite: wrong then right credentials, providers picked by name', async () => {
    await page.getByRole('button', { name: 'Integrate my EMR' }).first().click();
    await page.getByRole('heading', { name: 'Integrate my EMR' }).waitFor();
    await checkScreen('wizard-sek-en');
    // The site already holds an SEK (stored when the site was set up): the wizard says so and goes on.
    await field('Shared Encryption Key').fill(randomBytes(32).toString('base64'));
    await page.getByRole('button', { name: 'Save and Continue' }).click();
    await page.getByText('This site already has a Shared Encryption Key stored').waitFor();
    await field('PS Suite').check();
    await checkScreen('wizard-type-en');
    await page.getByRole('button', { name: 'Next' }).click();

    await field('EMR Instance ID').fill(String(sim.credentials['instanceId']));
    await field('EMR Secret').fill(`${sim.credentials['secret']}-wrong`);
    await page.getByRole('button', { name: 'Test connection' }).click();
    const failure = page.getByRole('alert').filter({ hasText: 'The connection failed' });
    await failure.waitFor();
    expect(await failure.textContent()).toContain('PS Suite rejected the credentials');
    expect(await failure.textContent()).toContain('EMR Instance ID and EMR Secret');
    await checkScreen('wizard-credentials-failed-en');
    expect(
      ((await apiAs(`/admin/sites/${siteA}/emr`)) as { connection: { status: string } }).connection.status,
    ).toBe('not-configured');

    await field('EMR Secret').fill(String(sim.credentials['secret']));
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText(/Connected to PS Suite: \d+ providers? found/).waitFor();

    const data = await harness.simData(sim.id);
    const chosen = data.providers.slice(0, 2);
    const providers = page.getByRole('combobox', { name: /^Sync Appointments For Provider/ });
    // A new connection starts with every provider selected: clear them, then pick two by name.
    await providers.click();
    for (let i = 0; i < data.providers.length; i += 1) await page.keyboard.press('Backspace');
    for (const p of chosen) {
      const name = (
        (await apiAs(`/admin/sites/${siteA}/emr/providers`)) as { providers: { id: string; name: string }[] }
      ).providers.find((x) => x.id === p.id)?.name;
      expect(name).toBeTruthy();
      await providers.click();
      await page.getByRole('option', { name: name ?? '', exact: true }).click();
    }
    await page.keyboard.press('Escape');
    await checkScreen('wizard-settings-en');
    await field('Schedule Days to Sync').fill('45');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Enter a number from 1 to 30.').waitFor();
    await field('Schedule Days to Sync').fill('2');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Configuration is complete!').waitFor();

    const saved = (await apiAs(`/admin/sites/${siteA}/emr/settings`)) as {
      settings: { syncProviderIds: string[]; scheduleDaysToSync: number };
    };
    expect(saved.settings.syncProviderIds.sort()).toEqual(chosen.map((p) => p.id).sort());
    expect(saved.settings.scheduleDaysToSync).toBe(2);
  });

  it('shows the Sync Status bar green while a sync runs and blue with the last sync after', async () => {
    await harness.simFaults(sim.id, { slowMs: 1500 });
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByText('PS Suite').first().waitFor();
    const bar = page.getByTestId('sync-bar');
    // The wizard's connection may have started a first sync: let it finish.
    await waitFor('no sync running', async () => (await bar.getAttribute('data-state')) !== 'syncing', {
      timeoutMs: 90000,
      intervalMs: 500,
    });
    // The panel's buttons stay put while the status changes, so a click never lands beside one.
    const editSettings = page.getByRole('button', { name: 'Edit Settings' });
    const restingY = (await editSettings.boundingBox())?.y ?? Number.NaN;
    await page.getByRole('button', { name: 'Sync Recent Appointments' }).click();
    await waitFor('green bar', async () => (await bar.getAttribute('data-state')) === 'syncing', {
      timeoutMs: 60000,
      intervalMs: 200,
    });
    expect(await bar.textContent()).toContain('Syncing');
    expect((await editSettings.boundingBox())?.y).toBeCloseTo(restingY, 0);
    await checkScreen('dashboard-syncing-en');
    await waitFor('blue bar', async () => (await bar.getAttribute('data-state')) === 'idle', {
      timeoutMs: 90000,
      intervalMs: 500,
    });
    expect(await bar.textContent()).toContain('Last scheduled sync:');
    expect((await editSettings.boundingBox())?.y).toBeCloseTo(restingY, 0);
    await page.getByText('Last success').waitFor();
    await checkScreen('dashboard-en');
    await harness.simFaults(sim.id, { slowMs: 0 });

    // Sync Full Schedule from the arrow menu next to Sync Recent Appointments.
    await page.getByRole('button', { name: 'More sync options' }).click();
    await page.getByRole('menuitem', { name: 'Sync Full Schedule' }).click();
    await page
      .getByText(/Full schedule sync requested|Syncing the full schedule/)
      .first()
      .waitFor();
  });

  it('Edit Settings shows the providers by name and refuses a bad value next to its field', async () => {
    await page.getByRole('button', { name: 'Edit Settings' }).click();
    await page.getByRole('heading', { name: 'Edit Settings' }).waitFor();
    await field('Mark appointments as Arrived in the next (hours)').waitFor();
    await checkScreen('settings-en');
    await field('Accept walk-in patients').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Walk-ins need a provider.').waitFor();
    await field('Accept walk-in patients').uncheck();
    await field('Combine Progress Notes').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Settings saved.').waitFor();
    const saved = (await apiAs(`/admin/sites/${siteA}/emr/settings`)) as {
      settings: { combineProgressNotes: boolean };
    };
    expect(saved.settings.combineProgressNotes).toBe(true);
  });

  it('replaces and views the SEK after a fresh sign-in; the clinical administrator is e-mailed', async () => {
    await page.getByRole('link', { name: 'Shared Encryption Key' }).click();
    await page.getByRole('heading', { name: 'Shared Encryption Key' }).waitFor();
    await checkScreen('sek-en');
    const sek = randomBytes(32).toString('base64');
    await field('Your password').fill(PASSWORD);
    await field('Code from your authenticator app (once set up)').fill(await totpCodeFor(email));
    await field('New Shared Encryption Key').fill(sek);
    await page.getByRole('button', { name: 'Replace the key' }).click();
    await page.getByText('The key is replaced.').waitFor();

    const viewedAfter = Date.now();
    await field('Your password').fill(PASSWORD);
    await field('Code from your authenticator app (once set up)').fill(await totpCodeFor(email));
    await page.getByRole('button', { name: 'Sign in again and view the key' }).click();
    await page.getByTestId('sek-value').waitFor();
    expect((await page.getByTestId('sek-value').textContent())?.trim()).toBe(sek);
    secretsShown.push(sek);
    await page.getByRole('button', { name: 'Hide the key' }).click();

    await waitFor(
      'the SEK view alert in the mail sink',
      async () =>
        (await inbox.list('clinique@clinic.ca')).some(
          (m) =>
            m.subject.includes(siteA) &&
            Date.parse(m.receivedAt) >= viewedAfter - 1000 &&
            !m.text.includes(sek),
        ),
      { timeoutMs: 90000, intervalMs: 1000 },
    );
    for (const mail of await inbox.list('clinique@clinic.ca')) expect(mail.text).not.toContain(sek);
  });

  it('registers an integration (key shown once); a failed copy is retried from the deliveries log', async () => {
    await page.getByRole('link', { name: 'Integrations' }).click();
    await page.getByRole('heading', { name: 'Register an integration' }).waitFor();
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByText('An integration needs a name.').waitFor();
    await field('Name').fill('Regional CHR');
    await field('Request URL').fill(
      `http://127.0.0.1:${(receiver.address() as { port: number }).port}/copies`,
    );
    await field('API key header name').fill('X-Copy-Key');
    await field('API key the request URL expects').fill('receiver-key-123');
    await page.getByLabel('Send a copy of each referral to the request URL').check();
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    const secret = page.getByTestId('secret-once');
    await stepUpIfAsked(secret);
    const apiKey = (await secret.textContent())?.trim() ?? '';
    expect(apiKey.length).toBeGreaterThan(20);
    secretsShown.push(apiKey);
    await checkScreen('integrations-en');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.getByText(apiKey).count()).toBe(0);

    // The sending side (Ocean): its referrals are copied to the other integrations that send copies.
    await field('Name').fill('Ocean eReferrals');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await secret.waitFor();
    const senderKey = (await secret.textContent())?.trim() ?? '';
    secretsShown.push(senderKey);
    await page.getByRole('button', { name: 'I have copied it' }).click();

    // A referral arrives; its copy to the (down) request URL of Regional CHR fails twice.
    const posted = await fetch(`${intake.url}/public/ocean/fhir_bundles`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', 'referral-integration-api-key': senderKey },
      body: JSON.stringify(addServiceRequestWithQuirks()),
    });
    expect([200, 201, 202]).toContain(posted.status);
    await page
      .getByRole('row', { name: /Regional CHR/ })
      .getByRole('button', { name: 'Deliveries log' })
      .click();
    const refresh = page.getByRole('button', { name: 'Refresh' });
    await waitFor(
      'a failed copy in the deliveries log',
      async () => {
        await refresh.click();
        return (await page.getByTestId('delivery').filter({ hasText: 'Failed' }).count()) === 1;
      },
      { timeoutMs: 90000, intervalMs: 1000 },
    );
    await checkScreen('deliveries-en');
    receiverUp = true;
    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    await page.getByText('1 copy will be sent again.').waitFor();
    await waitFor(
      'the copy delivered after the retry',
      async () => {
        await refresh.click();
        return (await page.getByTestId('delivery').filter({ hasText: 'Delivered' }).count()) === 1;
      },
      { timeoutMs: 90000, intervalMs: 1000 },
    );
    expect(received.filter((b) => b.includes('ServiceRequest'))).toHaveLength(1);
  });

  it('creates OAuth credentials (secret shown once) that an integrator can use', async () => {
    await page.getByRole('link', { name: 'Manage OAuth Credentials' }).click();
    await page.getByRole('heading', { name: 'New OAuth credentials' }).waitFor();
    await field('Name').fill('Referral pull');
    await page.getByRole('button', { name: 'Create credentials' }).click();
    const secret = page.getByTestId('secret-once');
    await stepUpIfAsked(secret);
    const clientSecret = (await secret.textContent())?.trim() ?? '';
    const clientId = (await page.getByTestId('client-id').first().textContent())?.trim() ?? '';
    secretsShown.push(clientSecret);
    cardClientId = clientId;
    await checkScreen('oauth-en');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    const token = await fetch(`${intake.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'system/ServiceRequest.rs',
      }).toString(),
    });
    expect(token.status).toBe(200);
    expect(((await token.json()) as { access_token?: string }).access_token).toBeTruthy();
  });

  it('an open list screen asks the API for its list once, not again after every render', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const listCalls: string[] = [];
    const count = (request: { url(): string; method(): string }): void => {
      if (request.method() === 'GET' && /\/integrations(\?|$)/.test(new URL(request.url()).pathname + '?'))
        listCalls.push(request.url());
    };
    page.on('request', count);
    try {
      await page.getByRole('link', { name: 'Integrations' }).click();
      await page.getByRole('heading', { name: 'Register an integration' }).waitFor();
      // A bounded look: a screen that reloads after each render asks again within milliseconds.
      await page.waitForTimeout(3000);
    } finally {
      page.off('request', count);
    }
    expect(listCalls).toHaveLength(1);
  });

  it('audit log: filters by action and exports CSV', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await waitFor(
      'audited admin actions',
      async () => {
        await page.getByRole('button', { name: 'Filter' }).click();
        return (await page.getByTestId('audit-entry').count()) > 0;
      },
      { timeoutMs: 60000, intervalMs: 1000 },
    );
    await checkScreen('audit-en');
    await field('Action').fill('emr.sync.request');
    await page.getByRole('button', { name: 'Filter' }).click();
    await waitFor('only sync requests', async () => {
      const rows = await page.getByTestId('audit-entry').allTextContents();
      return rows.length > 0 && rows.every((r) => r.includes('emr.sync.request'));
    });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByText('Download CSV').click(),
    ]);
    const csv = await new Promise<string>((resolve, reject) => {
      void download.createReadStream().then((stream) => {
        let text = '';
        stream.on('data', (c: Buffer) => (text += c.toString()));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      }, reject);
    });
    expect(csv.split('\n')[0]).toContain('action');
    expect(csv).toContain('emr.sync.request');
    expect(csv).not.toContain('emr.connect');
  });

  it('prints the Credential Reference Card: identifiers and names, never a secret', async () => {
    await page.getByRole('link', { name: 'Credential Reference Card' }).click();
    await page.getByRole('heading', { name: 'Credential Reference Card' }).waitFor();
    await page.getByText('Regional CHR').waitFor();
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain(siteA);
    expect(text).toContain('PS Suite');
    expect(text).toContain('X-Copy-Key');
    expect(text).toContain(cardClientId);
    expect(secretsShown.length).toBe(4);
    for (const secret of [...secretsShown, String(sim.credentials['secret']), PASSWORD])
      expect(text).not.toContain(secret);
    await checkScreen('card-en');
    await page.emulateMedia({ media: 'print' });
    expect(await page.getByRole('navigation').isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Print or save as PDF' }).isVisible()).toBe(false);
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await page.emulateMedia({ media: 'screen' });
  });

  it('Site account: settings with field errors, the clinical administrator told at both addresses, invite → accept → sign in, remove', async () => {
    await page.getByRole('link', { name: 'Site account' }).click();
    await page.getByRole('heading', { name: 'Site settings' }).waitFor();
    await page.getByRole('cell', { name: email, exact: true }).waitFor();
    await checkScreen('account-en');

    await field('Clinical administrator e-mail').fill('not-an-address');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Enter a valid e-mail address, like name@clinic.ca.').waitFor();
    expect(await field('Clinical administrator e-mail').getAttribute('aria-invalid')).toBe('true');
    const changedAfter = Date.now();
    const clinical = `clinique-${harness.schema}@clinic.ca`;
    await field('Clinical administrator e-mail').fill(clinical);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Site settings saved.').waitFor();
    for (const to of ['clinique@clinic.ca', clinical])
      await waitFor(
        `the clinical administrator change notice to ${to}`,
        async () =>
          (await inbox.list(to)).some(
            (m) =>
              m.subject.includes(siteA) &&
              /administrateur clinique/.test(m.subject) &&
              Date.parse(m.receivedAt) >= changedAfter - 1000,
          ),
        { timeoutMs: 90000, intervalMs: 1000 },
      );

    const invitee = `invitee-${harness.schema}@clinic.ca`;
    const invitedAfter = Date.now();
    await field('E-mail of the administrator to invite').fill('nope');
    await page.getByRole('button', { name: 'Invite' }).click();
    await page.getByText('Enter a valid e-mail address, like name@clinic.ca.').waitFor();
    await field('E-mail of the administrator to invite').fill(invitee);
    await page.getByRole('button', { name: 'Invite' }).click();
    await page.getByText(`${invitee} was invited`).waitFor();
    await page
      .getByRole('row', { name: new RegExp(invitee) })
      .getByText('Invited')
      .waitFor();
    await checkScreen('account-invited-en');
    const token = await linkTokenIn(invitee, /invité\(e\) à administrer le site/, invitedAfter);

    // The invitee opens the link in their own browser, chooses a password and signs in.
    const theirs = await browser.newContext({ locale: 'en-CA', viewport: { width: 1180, height: 820 } });
    const other = await theirs.newPage();
    other.setDefaultTimeout(20000);
    await other.goto(`${base}/#/set-password?token=${token}`);
    await other.getByRole('heading', { name: 'Choose your password' }).waitFor();
    const ownPassword = `invitee-${randomBytes(8).toString('hex')}`;
    await other.getByLabel(/^New password/).fill(ownPassword);
    await other.getByLabel(/^Confirm the password/).fill(`${ownPassword}x`);
    await other.getByRole('button', { name: 'Save my password' }).click();
    await other.getByText('The two passwords are not the same.').waitFor();
    const saved = page;
    page = other;
    await checkScreen('set-password-en');
    page = saved;
    await other.getByLabel(/^Confirm the password/).fill(ownPassword);
    await other.getByRole('button', { name: 'Save my password' }).click();
    await other.getByText('Your password is saved. Sign in with it.').waitFor();
    await other.getByLabel(/^E-mail/).fill(invitee);
    await other.getByLabel(/^Password/).fill(ownPassword);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByRole('heading', { name: 'Sync Status' }).waitFor();
    // The link was used: opening it again says so.
    await other.goto(`${base}/#/set-password?token=${token}`);
    await other.getByLabel(/^New password/).fill(ownPassword);
    await other.getByLabel(/^Confirm the password/).fill(ownPassword);
    await other.getByRole('button', { name: 'Save my password' }).click();
    await other.getByText('This link is not valid or was already used.').waitFor();
    await theirs.close();

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('link', { name: 'Site account' }).click();
    const row = page.getByRole('row', { name: new RegExp(invitee) });
    await row.getByText('Active').waitFor();
    await row.getByRole('button', { name: `Remove ${invitee}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await page.getByText(`${invitee} no longer administers this site.`).waitFor();
    // The list reloads after the notice: the row goes (waitFor throws if it stays).
    await page.getByRole('row', { name: new RegExp(invitee) }).waitFor({ state: 'detached', timeout: 15000 });
  });

  it('switches to French at any time: the same screens with the French labels', async () => {
    await page.getByRole('button', { name: 'Afficher en français' }).click();
    await page.getByRole('link', { name: 'Tableau de bord' }).click();
    await page.getByRole('heading', { name: 'État de synchronisation' }).waitFor();
    await page.getByRole('button', { name: 'Synchroniser les rendez-vous récents' }).waitFor();
    await page.getByRole('heading', { name: 'Intégration du DMÉ' }).waitFor();
    await page.getByRole('button', { name: 'Reconfigurer le DMÉ' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await checkScreen('dashboard-fr');
    await page.getByRole('link', { name: 'Modifier les paramètres' }).click();
    await page.getByRole('combobox', { name: /^Synchroniser les rendez-vous pour/ }).waitFor();
    await checkScreen('settings-fr');
    await page.getByRole('link', { name: 'Intégrer mon DMÉ' }).click();
    await page.getByRole('button', { name: 'Sauvegarder et Continuer' }).waitFor();
    await checkScreen('wizard-sek-fr');
    await page.getByRole('link', { name: 'Clé de Chiffrement Partagée' }).click();
    await page.getByRole('button', { name: 'Se reconnecter et afficher la clé' }).waitFor();
    await checkScreen('sek-fr');
    await page.getByRole('link', { name: 'Intégrations' }).click();
    await page.getByRole('heading', { name: 'Enregistrer une intégration' }).waitFor();
    await checkScreen('integrations-fr');
    await page.getByRole('link', { name: 'Gérer les identifiants OAuth' }).click();
    await page.getByRole('heading', { name: 'Nouveaux identifiants OAuth' }).waitFor();
    await checkScreen('oauth-fr');
    await page.getByRole('link', { name: 'Journal d’audit' }).click();
    await page.getByRole('heading', { name: 'Journal d’audit' }).waitFor();
    await checkScreen('audit-fr');
    await page.getByRole('link', { name: 'Carte de référence des identifiants' }).click();
    await page.getByRole('button', { name: 'Imprimer ou enregistrer en PDF' }).waitFor();
    await checkScreen('card-fr');
    await page.getByRole('link', { name: 'Compte du site' }).click();
    await page.getByRole('heading', { name: 'Paramètres du site' }).waitFor();
    await page.getByRole('cell', { name: email, exact: true }).waitFor();
    await checkScreen('account-fr');
    await page.getByRole('button', { name: 'Se déconnecter', exact: true }).click();
    await page.getByRole('heading', { name: 'Se connecter à Cloud Connect' }).waitFor();
    await page.getByText('Vous êtes déconnecté.').waitFor();
    await checkScreen('sign-in-fr');
    expect(
      (await context.cookies()).filter((c) => c.value.length > 0 && c.name.includes('cc-console')),
    ).toEqual([]);
  });

  it('forgotten password by e-mail: the link from the mail sink sets a new password that signs in', async () => {
    await page.getByRole('button', { name: 'Mot de passe oublié?' }).click();
    await page.getByRole('heading', { name: 'Mot de passe oublié' }).waitFor();
    await checkScreen('forgot-password-fr');
    await page.getByRole('button', { name: 'Display in English' }).click();
    await page.getByRole('heading', { name: 'Forgotten password' }).waitFor();
    // The same answer for an address without an account (no enumeration).
    const askedAfter = Date.now();
    await field('E-mail').fill(`nobody-${harness.schema}@clinic.ca`);
    await page.getByRole('button', { name: 'E-mail me a link' }).click();
    const sent = page.getByRole('status').filter({ hasText: 'If this address has a Cloud Connect account' });
    await sent.waitFor();
    const unknownAnswer = await sent.textContent();
    await page.getByRole('button', { name: 'Back to sign in' }).click();
    await page.getByRole('button', { name: 'Forgot your password?' }).click();
    await field('E-mail').fill(email);
    await page.getByRole('button', { name: 'E-mail me a link' }).click();
    await sent.waitFor();
    expect(await sent.textContent()).toBe(unknownAnswer);
    await checkScreen('forgot-password-en');
    const token = await linkTokenIn(email, /Choisissez un nouveau mot de passe/, askedAfter);
    expect(await inbox.list(`nobody-${harness.schema}@clinic.ca`)).toEqual([]);

    await page.goto(`${base}/#/set-password?token=${token}`);
    await page.getByRole('heading', { name: 'Choose your password' }).waitFor();
    const renewed = `renewed-${randomBytes(8).toString('hex')}`;
    await page.getByLabel(/^New password/).fill(renewed);
    await page.getByLabel(/^Confirm the password/).fill(renewed);
    await page.getByRole('button', { name: 'Save my password' }).click();
    await page.getByText('Your password is saved. Sign in with it.').waitFor();
    await field('E-mail').fill(email);
    await field('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'E-mail or password is incorrect.' }).waitFor();
    await field('Password').fill(renewed);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await field('Code from your authenticator app').fill(await totpCodeFor(email));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Choose a site' }).waitFor();
  });
});
