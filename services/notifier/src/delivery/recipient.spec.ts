import { isE164, isEmailAddress } from './recipient';

describe('recipient checks', () => {
  it('accepts ordinary addresses and refuses malformed ones', () => {
    for (const ok of ['admin@clinic.ca', 'a.b+tag@sub.clinic.example', 'x@y.z'])
      expect(isEmailAddress(ok)).toBe(true);
    for (const bad of [
      '',
      'no-at.example',
      '@clinic.ca',
      'two@@clinic.ca',
      'a@b@clinic.ca',
      'admin@clinic',
      'admin@.clinic.ca',
      'admin@clinic.ca.',
      'ad min@clinic.ca',
      'admin@clinic.ca\n',
      `${'l'.repeat(65)}@clinic.ca`,
      `admin@${'d'.repeat(250)}.ca`,
    ])
      expect(isEmailAddress(bad)).toBe(false);
    expect(isE164('+14165550123')).toBe(true);
    expect(isE164('4165550123')).toBe(false);
  });

  it('answers at once for an 80 KB hostile address (the former regex backtracked for seconds)', () => {
    const hostile = [
      // Dots then a trailing space: the former regex tried every split (quadratic; 2.5 s at 20 KB).
      `a@${'a.'.repeat(40 * 1024)} `,
      `a@${'a'.repeat(80 * 1024)}`,
      'a@'.repeat(40 * 1024),
    ];
    const started = process.hrtime.bigint();
    for (const text of hostile) expect(isEmailAddress(text)).toBe(false);
    // A generous bound on a loaded machine: the check is linear (and refuses > 254 at once).
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
  });
});
