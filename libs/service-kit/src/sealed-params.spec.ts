import { openParams, SealedParamsError, sealParams } from './sealed-params';

describe('sealed notification params', () => {
  const secret = 'test-secret-0123456789abcdef0123456789';
  const link = 'https://console.example/#/set-password?token=abc';

  it('opens what was sealed for the same site and notification, and hides the value', () => {
    const sealed = sealParams(secret, '1000', 'n-1', { link });
    expect(sealed.alg).toBe('cc-sealed-params-v1');
    expect(Buffer.from(sealed.envelope, 'base64').toString('latin1')).not.toContain('token=abc');
    expect(openParams(secret, '1000', 'n-1', sealed)).toEqual({ link });
  });

  it.each([
    ['another key', 'another-secret-0123456789abcdef012345', '1000', 'n-1'],
    ['another site', secret, '2000', 'n-1'],
    ['another notification', secret, '1000', 'n-2'],
  ])('does not open with %s', (_what, key, site, id) => {
    const sealed = sealParams(secret, '1000', 'n-1', { link });
    expect(() => openParams(key, site, id, sealed)).toThrow(SealedParamsError);
  });

  it('refuses a truncated or tampered envelope', () => {
    const sealed = sealParams(secret, '1000', 'n-1', { link });
    expect(() => openParams(secret, '1000', 'n-1', { ...sealed, envelope: 'AAAA' })).toThrow(
      SealedParamsError,
    );
    const raw = Buffer.from(sealed.envelope, 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(() => openParams(secret, '1000', 'n-1', { ...sealed, envelope: raw.toString('base64') })).toThrow(
      SealedParamsError,
    );
  });
});
