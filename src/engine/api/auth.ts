import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks an `Authorization: Bearer …` header against the configured token in constant time.
 * Both sides are hashed first so that neither the comparison nor an early length mismatch
 * tells an attacker anything about the token.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(.+)$/i.exec(header ?? '');
  const given = createHash('sha256').update(m ? m[1]!.trim() : '').digest();
  const want = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, want) && m !== null;
}
