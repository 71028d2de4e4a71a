import { allows, grantScopes, parseScope } from './scopes';

describe('SMART system scopes', () => {
  it('reads v1 and v2 syntax to the same permissions', () => {
    expect([...(parseScope('system/ServiceRequest.read')?.permissions ?? [])].sort()).toEqual(['r', 's']);
    expect([...(parseScope('system/ServiceRequest.rs')?.permissions ?? [])].sort()).toEqual(['r', 's']);
    expect([...(parseScope('system/*.*')?.permissions ?? [])].sort()).toEqual(['c', 'd', 'r', 's', 'u']);
  });

  it('refuses what is not a system scope of a known resource', () => {
    for (const bad of [
      'patient/ServiceRequest.read',
      'system/Foo.read',
      'system/ServiceRequest.sr',
      'system/ServiceRequest.',
      'openid',
      'system/ServiceRequest.rs?status=active',
    ]) {
      expect(parseScope(bad)).toBeNull();
    }
  });

  it('grants requested scopes covered by the grants and names those that are not', () => {
    const granted = ['system/ServiceRequest.read', 'system/Bundle.rs'];
    expect(grantScopes(granted, undefined)).toEqual({ scopes: granted });
    expect(grantScopes(granted, 'system/ServiceRequest.rs system/Bundle.r')).toEqual({
      scopes: ['system/ServiceRequest.rs', 'system/Bundle.r'],
    });
    expect(grantScopes(granted, 'system/ServiceRequest.write system/Patient.read')).toEqual({
      refused: ['system/ServiceRequest.write', 'system/Patient.read'],
    });
    expect(grantScopes(['system/*.read'], 'system/Patient.rs')).toEqual({ scopes: ['system/Patient.rs'] });
  });

  it('answers whether token scopes allow an interaction', () => {
    expect(allows(['system/ServiceRequest.rs'], 'ServiceRequest', 's')).toBe(true);
    expect(allows(['system/ServiceRequest.r'], 'ServiceRequest', 's')).toBe(false);
    expect(allows(['system/Bundle.read'], 'ServiceRequest', 'r')).toBe(false);
  });
});
