import { registerSiteInput } from './register-site';

describe('site registration input', () => {
  const valid = { siteNumber: '1234', name: 'Clinique Saint-Laurent', adminEmail: 'admin@clinic.ca' };

  it('applies the product defaults', () => {
    expect(registerSiteInput.parse(valid)).toEqual({
      ...valid,
      clinicalAdminEmail: null,
      locale: 'en',
      timezone: 'America/Toronto',
    });
  });

  it.each([
    [{ siteNumber: '0123' }, 'siteNumber'],
    [{ siteNumber: '12a' }, 'siteNumber'],
    [{ siteNumber: '12345678901' }, 'siteNumber'],
    [{ name: '  ' }, 'name'],
    [{ adminEmail: 'not-an-email' }, 'adminEmail'],
    [{ clinicalAdminEmail: 'x@' }, 'clinicalAdminEmail'],
    [{ locale: 'de' }, 'locale'],
    [{ timezone: 'Mars/Olympus' }, 'timezone'],
  ])('rejects %j naming %s', (override, field) => {
    const result = registerSiteInput.safeParse({ ...valid, ...override });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path[0])).toContain(field);
  });

  it('accepts a French site in another time zone', () => {
    expect(registerSiteInput.parse({ ...valid, locale: 'fr', timezone: 'America/Montreal' }).locale).toBe(
      'fr',
    );
  });
});
