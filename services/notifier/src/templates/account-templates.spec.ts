import { MissingParamError, render } from './templates';

describe('site account e-mails', () => {
  const base = { siteNumber: '1000', siteName: 'Clinique du Parc', actor: 'admin@clinic.ca' };
  const link = 'https://console.example/#/set-password?token=abc';

  it.each(['en', 'fr'] as const)('invitation and reset carry the link (%s)', (locale) => {
    expect(render('account.invite', locale, { ...base, link }).text).toContain(link);
    expect(render('account.password-reset', locale, { ...base, link }).text).toContain(link);
  });

  it('speaks French to a French site', () => {
    expect(render('account.password-reset', 'fr', { ...base, link }).subject).toBe(
      '[Cloud Connect] Choisissez un nouveau mot de passe Cloud Connect',
    );
  });

  it('needs the link: without it the message is not sent', () => {
    expect(() => render('account.invite', 'en', base)).toThrow(MissingParamError);
  });

  it('names the old and the new clinical administrator address, or the fallback', () => {
    const text = render('site.clinical-admin-changed', 'en', {
      ...base,
      oldEmail: '',
      newEmail: 'clinical@clinic.ca',
      at: '2026-01-02T15:04:05Z',
      timezone: 'America/Vancouver',
    }).text;
    expect(text).toContain("Before: (none: the site admin's address)");
    expect(text).toContain('Now: clinical@clinic.ca');
    expect(text).toContain('PST');
  });
});
