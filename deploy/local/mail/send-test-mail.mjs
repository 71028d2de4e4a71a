#!/usr/bin/env node
// Sends one mail through the local SMTP sink with nodemailer (used by deploy/local/selftest.sh).
// Usage: node send-test-mail.mjs --to a@example.test [--from b@example.test] [--subject S] [--text T] [--html H]
// SMTP_HOST / SMTP_PORT from the environment (default 127.0.0.1:52525). Prints the SMTP response.
import nodemailer from 'nodemailer';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    to: { type: 'string' },
    from: { type: 'string', default: 'selftest@cloudconnect.test' },
    subject: { type: 'string', default: 'cloudconnect local stack test' },
    text: { type: 'string', default: 'hello from the local stack self-test' },
    html: { type: 'string' },
  },
});
if (!values.to) {
  console.error('usage: send-test-mail.mjs --to ADDRESS [--from A] [--subject S] [--text T] [--html H]');
  process.exit(2);
}
const transport = nodemailer.createTransport({
  host: process.env.SMTP_HOST || '127.0.0.1',
  port: Number(process.env.SMTP_PORT || 52525),
  secure: false,
  ignoreTLS: true,
  connectionTimeout: 5000,
  greetingTimeout: 5000,
  socketTimeout: 10000,
});
try {
  const info = await transport.sendMail({
    from: values.from,
    to: values.to,
    subject: values.subject,
    text: values.text,
    html: values.html,
    headers: { 'X-CloudConnect-Test': 'selftest' },
  });
  console.log(`sent ${info.messageId}: ${info.response}`);
} catch (err) {
  console.error(`send failed: ${err && err.message ? err.message : err}`);
  process.exit(1);
}
