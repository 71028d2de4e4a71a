import { randomBytes } from 'node:crypto';
import { formatSek, parseSek, SekFormatError } from './sek-format';

describe('SEK format', () => {
  const key = randomBytes(32);

  it('accepts standard base64 of 32 bytes, with whitespace around it', () => {
    expect(parseSek(`  ${key.toString('base64')}\n`).equals(key)).toBe(true);
  });

  it('accepts URL-safe base64 without padding and canonicalises it', () => {
    const parsed = parseSek(key.toString('base64url'));
    expect(formatSek(parsed)).toBe(key.toString('base64'));
  });

  it.each([
    ['empty', '', 'empty'],
    ['too short', randomBytes(16).toString('base64'), '32 bytes'],
    ['too long', randomBytes(48).toString('base64'), '32 bytes'],
    ['bad alphabet', `${key.toString('base64').slice(0, 42)}*=`, '32 bytes'],
    ['all zero', Buffer.alloc(32).toString('base64'), 'random'],
  ])('rejects %s with a clear error', (_label, text, expected) => {
    expect(() => parseSek(text)).toThrow(SekFormatError);
    expect(() => parseSek(text)).toThrow(expected);
  });

  it('never echoes the input in the error', () => {
    const text = `${key.toString('base64')}AAAA`;
    try {
      parseSek(text);
      throw new Error('should have failed');
    } catch (error) {
      expect((error as Error).message).not.toContain(text.slice(0, 20));
    }
  });

  it('rejects non-strings', () => {
    expect(() => parseSek(42)).toThrow('must be a string');
  });
});
