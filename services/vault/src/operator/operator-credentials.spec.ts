import { OperatorCredentials, sha256 } from './operator-credentials';

const hex = (token: string): string => sha256(token).toString('hex');

describe('operator credentials', () => {
  const credentials = OperatorCredentials.fromEnv({
    OPERATOR_TOKENS_SHA256: `ops:${hex('ccop_first')}, backup:${hex('ccop_second')}`,
  });

  it('names the operator whose token was presented, and no one for any other value', () => {
    expect(credentials.configured).toBe(true);
    expect(credentials.verify('ccop_first')).toBe('ops');
    expect(credentials.verify('ccop_second')).toBe('backup');
    expect(credentials.verify('ccop_firs')).toBeNull();
    expect(credentials.verify(hex('ccop_first'))).toBeNull();
    expect(credentials.verify('')).toBeNull();
  });

  it('accepts none when none is configured', () => {
    const none = OperatorCredentials.fromEnv({});
    expect(none.configured).toBe(false);
    expect(none.verify('ccop_first')).toBeNull();
  });

  it('refuses to start on a malformed entry, without echoing it', () => {
    expect(() => OperatorCredentials.fromEnv({ OPERATOR_TOKENS_SHA256: 'ops:not-a-digest' })).toThrow(
      'each entry is name:sha256hex',
    );
    let message = '';
    try {
      OperatorCredentials.fromEnv({ OPERATOR_TOKENS_SHA256: 'ccop_plain-token' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('each entry is name:sha256hex');
    expect(message).not.toContain('ccop_plain-token');
  });
});
