/** '#' is a Z85 character: a public key holding one is read whole, while comments still work. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isZ85Key, readPublicKeys } from '../../../deploy/curveKeys.js';
import { tmp } from './helpers.js';

describe('readPublicKeys and #', () => {
  it('keeps a # inside a key; a # at the line start or after a space begins a comment', () => {
    const withHash = 'Ab#9'.repeat(10);
    const plain = 'x'.repeat(40);
    expect(isZ85Key(withHash)).toBe(true);
    const file = join(tmp('isr-keys-'), 'allow.txt');
    writeFileSync(file, `# actors\n${withHash}\n  # spare\n${plain}  # actor 1\n\n`);
    expect(readPublicKeys('curve-allow', file)).toEqual([withHash, plain]);
    writeFileSync(file, `${withHash.slice(0, 20)} #${withHash.slice(20)}\n`);
    expect(() => readPublicKeys('curve-allow', file)).toThrow(/^--curve-allow: line 1 of .* is not a 40-character Z85 public key$/);
  });
});
