import { tamperedCopy } from './tamper';

describe('tamperedCopy', () => {
  it('changes exactly one character in the middle, whatever the text holds there', () => {
    for (const text of ['abcAx', 'abcBx', 'AAAAA', 'x', 'eyJhbGciOi.J9']) {
      const copy = tamperedCopy(text);
      expect(copy).not.toBe(text);
      expect(copy).toHaveLength(text.length);
      const changed = Array.from({ length: text.length }, (_, i) => i).filter((i) => copy[i] !== text[i]);
      expect(changed).toEqual([Math.floor(text.length / 2)]);
    }
  });

  it('refuses an empty string rather than return it unchanged', () => {
    expect(() => tamperedCopy('')).toThrow('empty');
  });
});
