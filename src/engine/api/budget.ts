/**
 * What one answer may carry, engine or broker alike. An answer is built in memory and serialised
 * in one piece, so its size sets both what a query costs in memory (about four times it) and how
 * long the event loop is busy writing it (/healthz waits meanwhile): 16 MiB of tables in all is
 * far more than a panel draws, and keeps both small.
 */
export const ANSWER_BYTES = 16 << 20;

/** A byte budget split evenly over `parts` outputs or fragments, so that many of them cannot multiply it. */
export function share(total: number, parts: number): number {
  return Math.max(1, Math.floor(total / Math.max(1, parts)));
}
