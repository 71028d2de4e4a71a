import { MissingParamError, render, UnknownTemplateError } from './templates';

const params = {
  siteNumber: '1234',
  siteName: 'Clinique Saint-Laurent',
  actor: 'marie@clinique.ca',
  action: 'view',
  outcome: 'allowed',
  at: '2026-11-23T17:00:00.000Z',
  from: '203.0.113.7',
};

describe('notification templates', () => {
  it('renders the SEK alert in French with who, what, when and where', () => {
    const { subject, text } = render('sek.accessed', 'fr', params);
    expect(subject).toContain('clé de chiffrement partagée');
    expect(text).toContain('Qui : marie@clinique.ca');
    expect(text).toContain('consulté');
    expect(text).toContain('2026-11-23T17:00:00.000Z');
    expect(text).toContain("D'où : 203.0.113.7");
  });

  it('renders it in English', () => {
    const { subject, text } = render('sek.accessed', 'en', {
      ...params,
      action: 'replace',
      outcome: 'denied',
    });
    expect(subject).toContain('Shared Encryption Key accessed for site 1234');
    expect(text).toContain('key replaced — the operation was refused');
  });

  it('refuses unknown templates and missing params', () => {
    expect(() => render('nope', 'en', {})).toThrow(UnknownTemplateError);
    expect(() => render('sek.accessed', 'en', { ...params, from: '' })).toThrow(MissingParamError);
  });
});

describe('EMR gateway alert templates', () => {
  const base = { siteNumber: '1234', emr: 'Accuro' };
  it.each([
    ['emr-deauthorized', {}],
    ['emr-delivery-failing', { reason: 'EmrUnreachable: connection refused' }],
    [
      'emr-delivery-failing-reminder',
      { reason: 'EmrUnreachable: connection refused', failingSince: '2026-11-22T10:00:00Z' },
    ],
    ['emr-delivery-failing-reminder', { reason: 'timeout' }],
    [
      'emr-command-dead-lettered',
      { kind: 'save-progress-note', commandId: 'c-1', reason: 'retry horizon passed' },
    ],
    ['emr-provider-permission-missing', { provider: 'Dr. Lee', permission: 'View schedule' }],
    ['emr-patient-unmatched', { kind: 'attach-pdf', commandId: 'c-2', reason: 'no chart matches' }],
  ])('renders %s in English and French, naming the site and the EMR', (template, extra) => {
    for (const locale of ['en', 'fr'] as const) {
      const { subject, text } = render(template, locale, { ...base, ...extra });
      expect(subject).toContain('1234');
      expect(`${subject}\n${text}`).toContain('Accuro');
      expect(text).toMatch(locale === 'fr' ? /^Bonjour/ : /^Hello/);
    }
  });

  it('says where a dead-lettered command can be replayed, and refuses a missing param', () => {
    const { text } = render('emr-command-dead-lettered', 'fr', {
      ...base,
      kind: 'attach-pdf',
      commandId: 'c-9',
      reason: 'x',
    });
    expect(text).toContain('cloud-connect emr replay --site 1234 --command c-9');
    expect(() => render('emr-delivery-failing', 'en', base)).toThrow(MissingParamError);
  });
});

describe('patient templates', () => {
  const params = {
    siteName: 'Clinique Saint-Laurent',
    at: '2026-12-03T14:30:00Z',
    timezone: 'America/Toronto',
    stopUrl: 'https://cc.example/public/reminders/stop?t=abc',
  };

  it('reminds in French with the local time and the way to stop', () => {
    const message = render('reminder.appointment', 'fr', params);
    expect(message.subject).toBe('Rappel de rendez-vous — Clinique Saint-Laurent');
    expect(message.text).toContain(
      'Rappel : vous avez un rendez-vous à Clinique Saint-Laurent le jeudi 3 décembre 2026',
    );
    expect(message.text).toContain('9 h 30');
    expect(message.text).toContain(
      'Pour ne plus recevoir de rappels : https://cc.example/public/reminders/stop?t=abc',
    );
  });

  it.each(['appointment.booked', 'appointment.moved', 'appointment.cancelled'])(
    '%s exists in English and French and tells how to stop',
    (template) => {
      expect(render(template, 'en', params).text).toContain('To stop reminders');
      expect(render(template, 'fr', params).text).toContain('ARRET');
    },
  );
});

describe('referrer notice templates', () => {
  const at = '2026-12-03T14:30:00.000Z';
  it('says booked with the clinic, date and time, in French and English', () => {
    const fr = render('referral.booked', 'fr', {
      siteName: 'Clinique Saint-Laurent',
      at,
      timezone: 'America/Toronto',
    });
    expect(fr.subject).toBe('Rendez-vous fixé pour votre demande de consultation — Clinique Saint-Laurent');
    expect(fr.text).toContain('le jeudi 3 décembre 2026 à 09 h 30');
    const en = render('referral.booked', 'en', {
      siteName: 'Demo Family Health Team',
      at,
      timezone: 'America/Toronto',
    });
    expect(en.text).toContain(
      'An appointment at Demo Family Health Team on Thursday, December 3, 2026 at 9:30',
    );
    expect(en.text).toContain('no clinical information');
  });

  it('says declined without a date, and needs the clinic name', () => {
    expect(render('referral.declined', 'en', { siteName: 'Demo' }).subject).toBe('Referral declined — Demo');
    expect(render('referral.declined', 'fr', { siteName: 'Demo' }).text).toContain('Demo a refusé');
    expect(() => render('referral.declined', 'fr', {})).toThrow(MissingParamError);
    expect(() => render('referral.booked', 'en', { siteName: 'Demo' })).toThrow(MissingParamError);
  });
});
