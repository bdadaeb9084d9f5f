import { createHash } from 'node:crypto';

/**
 * The SHA-256 of a text's UTF-8 bytes, as 64 lowercase hex digits: the fixed-length stand-in for
 * a long text (a landing path) in a warehouse key (`hashOf` columns in the table catalogue).
 * Computed here, never in SQL: T-SQL's HASHBYTES on NVARCHAR hashes UTF-16 bytes, so the two
 * engines would disagree.
 */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
