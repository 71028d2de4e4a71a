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
