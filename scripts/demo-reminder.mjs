// The demo's patient reminder in one command (after `npm start`): posts an eReferral for a patient
// with an e-mail address to the demo site, books its appointment by status back (as the clinic's
// scheduling system would, with an OAuth client that reads the site's referrals) two minutes
// ahead, and waits for the scheduler's reminder (the demo policy's 1-minute lead) in the mail sink.
//   node scripts/demo-reminder.mjs
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, stateDir } from './demo-stack.mjs';

const { addServiceRequestWithQuirks, appointmentFor } = fixtures;

const secrets = join(stateDir, 'secrets');
const site = process.env.DEMO_SITE_NUMBER ?? '1000';
const intakeUrl = process.env.INTAKE_URL ?? 'http://127.0.0.1:3001';
const vaultUrl = process.env.VAULT_SERVICE_URL ?? 'http://127.0.0.1:3003';
const schedulerUrl = process.env.SCHEDULER_URL ?? 'http://127.0.0.1:3004';
const mailApi = /MAIL_API_URL=(\S+)/.exec(readFileSync(join(stateDir, 'stack.env'), 'utf8'))?.[1];
const fail = (message) => {
  console.error(`demo-reminder: ${message}`);
  process.exit(1);
};

const json = async (response, what) => {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) fail(`${what}: HTTP ${response.status} ${JSON.stringify(body)}`);
  return body;
};

// The demo clinic's scheduling system: an OAuth client of the site (kept in the secrets dir).
const clientFile = join(secrets, 'demo-scheduling-client.json');
let client;
try {
  client = JSON.parse(readFileSync(clientFile, 'utf8'));
} catch {
  const password = readFileSync(join(secrets, 'demo-admin-password'), 'utf8').trim();
  // The admin's second factor, set up by `npm start` (scripts/demo-mfa.mjs).
  const totpFile = join(secrets, 'demo-admin-totp');
  const code = existsSync(totpFile)
    ? execFileSync(process.execPath, [join(import.meta.dirname, 'demo-mfa.mjs'), 'code', totpFile]).toString()
    : undefined;
  const login = await json(
    await fetch(`${vaultUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@demo-clinic.ca', password, ...(code ? { code } : {}) }),
    }),
    'sign-in',
  );
  const created = await json(
    await fetch(`${intakeUrl}/admin/sites/${site}/oauth-clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${login.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Demo scheduling system',
        scopes: ['system/ServiceRequest.rs', 'system/Appointment.c', 'system/Appointment.u'],
      }),
    }),
    'creating the scheduling client',
  );
  client = { clientId: created.client.clientId, secret: created.clientSecret };
  writeFileSync(clientFile, JSON.stringify(client), { mode: 0o600 });
}
const { access_token: token } = await json(
  await fetch(`${intakeUrl}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.secret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  }),
  'token',
);

// A referral from the demo CHR for a patient with an e-mail address, then its appointment booked.
const email = `patient.${Date.now()}@demo-patient.example`;
const referral = addServiceRequestWithQuirks();
const patient = referral.entry.find((e) => e.resource.resourceType === 'Patient').resource;
patient.telecom = [...(patient.telecom ?? []), { system: 'email', value: email }];
const key = readFileSync(join(secrets, 'demo-integration-key'), 'utf8').trim();
await json(
  await fetch(`${intakeUrl}/public/ocean/fhir_bundles`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', 'Referral-Integration-API-Key': key },
    body: JSON.stringify(referral),
  }),
  'posting the referral',
);
const start = new Date(Date.now() + 2 * 60000);
const appointmentId = `demo-${Date.now()}`;
await json(
  await fetch(`${intakeUrl}/fhir/$process-message`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}` },
    body: JSON.stringify(
      appointmentFor(referral, {
        event: 'notify-add-appointment',
        appointmentId,
        status: 'booked',
        start: start.toISOString(),
        timestamp: new Date().toISOString(),
      }),
    ),
  }),
  'booking the appointment',
);
const booked = Date.now();
console.log(
  `booked appointment ${appointmentId} for ${start.toISOString()} (site ${site}); patient ${email}`,
);
console.log(`its reminders: cloud-connect reminders list --site ${site} --appointment ${appointmentId}`);
console.log(
  `               (or GET ${schedulerUrl}/admin/sites/${site}/reminders?appointment=${appointmentId})`,
);
const inbox = `${mailApi}/messages?to=${encodeURIComponent(email)}`;
console.log(`waiting for the 1-minute reminder in the mail sink: curl '${inbox}'`);
const deadline = Date.now() + 3 * 60000;
while (Date.now() < deadline) {
  const messages = await (await fetch(inbox)).json().catch(() => []);
  const reminder = (Array.isArray(messages) ? messages : []).find((m) =>
    /reminder|rappel/i.test(String(m.subject)),
  );
  if (reminder) {
    console.log(`\nreminder received ${((Date.now() - booked) / 1000).toFixed(1)} s after the booking:`);
    console.log(`  Subject: ${reminder.subject}\n\n${reminder.text}`);
    process.exit(0);
  }
  await new Promise((r) => setTimeout(r, 1000));
}
fail('no reminder within 3 minutes (see the scheduler and notifier logs)');
