/**
 * A UPID names one process instance across pid reuse, as in Pixie: 32 bits of agent short id
 * (asid), 32 bits of pid, 64 bits of process start time in clock ticks since boot. Rendered in
 * Pixie's UUID-like form `aaaaaaaa-pppp-pppp-ssss-ssssssssssss`.
 */
export interface Upid {
  readonly asid: number;
  readonly pid: number;
  readonly startTicks: bigint;
}

export function formatUpid(u: Upid): string {
  const asid = (u.asid >>> 0).toString(16).padStart(8, '0');
  const pid = (u.pid >>> 0).toString(16).padStart(8, '0');
  const start = BigInt.asUintN(64, u.startTicks).toString(16).padStart(16, '0');
  return `${asid}-${pid.slice(0, 4)}-${pid.slice(4)}-${start.slice(0, 4)}-${start.slice(4)}`;
}

const UPID_RE = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/;

/** Parses a rendered UPID; returns undefined for anything else. */
export function parseUpid(text: string): Upid | undefined {
  const m = UPID_RE.exec(text);
  if (!m) return undefined;
  return {
    asid: parseInt(m[1]!, 16),
    pid: parseInt(m[2]! + m[3]!, 16),
    startTicks: BigInt('0x' + m[4]! + m[5]!),
  };
}
