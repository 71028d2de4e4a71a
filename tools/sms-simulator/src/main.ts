// Runs the Twilio-compatible SMS simulator on loopback and prints its URL and credentials (JSON).
import { randomBytes } from 'node:crypto';
import { TwilioSimulator } from './server';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const port = Number(option('--port') ?? 4020);
const accountSid = `AC${randomBytes(16).toString('hex')}`;
const authToken = randomBytes(16).toString('hex');
const number = option('--number') ?? '+15005550006';
const inboundWebhook = option('--inbound-webhook');
const sim = new TwilioSimulator({
  accountSid,
  authToken,
  number,
  ...(inboundWebhook ? { inboundWebhook } : {}),
});
void sim.start(port).then(() => {
  process.stdout.write(`${JSON.stringify({ url: sim.url, accountSid, authToken, number })}\n`);
});
const stop = (): void => void sim.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
