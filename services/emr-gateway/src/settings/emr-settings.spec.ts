import { emrCredentials } from '../adapters/emr-adapter';
import { DEFAULT_SETTINGS, emrSettingsSchema, unknownProviders } from './emr-settings';

describe('EMR settings', () => {
  it("has the product's defaults", () => {
    expect(DEFAULT_SETTINGS).toEqual({
      scheduleDaysToSync: 1,
      syncProviderIds: [],
      markArrivedWithinHours: 2,
      combineProgressNotes: false,
      importAttachmentsAsPdf: false,
      walkIn: { enabled: false, providerId: null, reason: 'Walk-in', durationMinutes: 10 },
    });
  });

  it.each([
    [{ scheduleDaysToSync: 0 }, 'scheduleDaysToSync'],
    [{ scheduleDaysToSync: 1.5 }, 'scheduleDaysToSync'],
    [{ markArrivedWithinHours: 48 }, 'markArrivedWithinHours'],
    [{ combineProgressNotes: 'yes' }, 'combineProgressNotes'],
    [{ walkIn: { enabled: true } }, 'walkIn'],
    [{ colour: 'blue' }, ''],
  ])('rejects %j naming %s', (input, field) => {
    const result = emrSettingsSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => String(i.path[0] ?? ''))).toContain(field);
  });

  it('names providers the EMR does not have', () => {
    const settings = emrSettingsSchema.parse({
      syncProviderIds: ['1', '9'],
      walkIn: { enabled: true, providerId: '8' },
    });
    expect(unknownProviders(settings, new Set(['1']))).toEqual(['9', '8']);
  });
});

describe('EMR credentials', () => {
  it('accepts each EMR type as the seeds describe it', () => {
    for (const input of [
      { type: 'ps-suite', instanceId: 'PSS-1', secret: 's' },
      { type: 'med-access', instanceId: 'MA-1', secret: 's' },
      { type: 'accuro', tenant: '12345', clientId: 'c', clientSecret: 's' },
      {
        type: 'oscar-pro',
        baseUrl: 'https://oscar.clinic.ca/oscar',
        username: 'OceanConnect',
        password: 'p',
        pin: '1234',
      },
      {
        type: 'oscar-pro',
        baseUrl: 'https://oscar.clinic.ca/oscar',
        username: 'OceanConnect',
        password: 'p',
      },
      { type: 'chr', baseUrl: 'https://chr.example/fhir', auth: { kind: 'api-key', apiKey: 'k' } },
      {
        type: 'fhir-r4',
        baseUrl: 'https://emr.example/fhir',
        auth: { kind: 'client-credentials', clientId: 'c', clientSecret: 's' },
      },
    ]) {
      expect(emrCredentials.safeParse(input).success).toBe(true);
    }
  });

  it('names what is missing or wrong', () => {
    const result = emrCredentials.safeParse({
      type: 'oscar-pro',
      baseUrl: 'ftp://x',
      username: '',
      password: 'p',
    });
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['baseUrl', 'username']),
    );
    expect(emrCredentials.safeParse({ type: 'meditech' }).success).toBe(false);
  });
});
