/**
 * The contract between the kernel tracer (bpf/ + the N-API addon + the event decoder) and the
 * HTTP layer. Everything here is plain JS data: the HTTP layer never sees raw struct bytes.
 *
 * A connection is identified by `connKey`, unique for the life of the engine even when a
 * process reuses a file descriptor: the tracer derives it from (tgid, fd, a per-connection
 * generation assigned in the kernel), never from (tgid, fd) alone.
 */

/** 1 = client (we saw connect, or it sent the first request), 2 = server (accept), 0 = unknown. */
export type TraceRole = 0 | 1 | 2;

/** Bytes the traced process wrote (egress) or read (ingress). */
export type Direction = 'egress' | 'ingress';

export interface ConnOpenEvent {
  readonly kind: 'open';
  readonly connKey: string;
  readonly pid: number;
  readonly fd: number;
  /** Monotonic-clock ns converted to wall-clock ns (CLOCK_REALTIME epoch) by the decoder. */
  readonly tsNs: bigint;
  readonly role: TraceRole;
  readonly family: 4 | 6;
  readonly localAddr: string;
  readonly localPort: number;
  readonly remoteAddr: string;
  readonly remotePort: number;
  /**
   * The process as the kernel saw it when the connection opened, for when /proc no longer has
   * it: /proc/<pid>/comm, and /proc/<pid>/stat's start time in clock ticks. Absent from events
   * not made by the tracer (hand-built test events).
   */
  readonly comm?: string;
  readonly startTicks?: bigint;
}

export interface DataEvent {
  readonly kind: 'data';
  readonly connKey: string;
  readonly pid: number;
  readonly fd: number;
  readonly direction: Direction;
  /**
   * Which stage reads the bytes: 'http' (the default when absent), or 'tls' for the first bytes
   * of a TLS connection (its plaintext handshake).
   */
  readonly protocol?: 'http' | 'tls';
  /** The plaintext of a TLS connection, read by the uprobes on its TLS library (bpf/ssl.bpf.h). */
  readonly tls: boolean;
  /** Wall-clock ns of the syscall's exit (when the bytes were really read or written). */
  readonly tsNs: bigint;
  /** Stream offset, in this direction, of the first byte of the whole syscall's data. */
  readonly pos: bigint;
  /** The true byte count of the syscall (its return value). */
  readonly size: number;
  /** Offset of `data` within the syscall's bytes (non-zero for the 2nd.. chunk of a big message). */
  readonly chunkOffset: number;
  /** The captured bytes; may be shorter than `size` (chunk cap, or bytes the kernel gave up on). */
  readonly data: Uint8Array;
}

export interface ConnCloseEvent {
  readonly kind: 'close';
  readonly connKey: string;
  readonly pid: number;
  readonly fd: number;
  readonly tsNs: bigint;
  /** Total bytes written / read on this connection as counted in the kernel. */
  readonly egressBytes: bigint;
  readonly ingressBytes: bigint;
}

export type CaptureEvent = ConnOpenEvent | DataEvent | ConnCloseEvent;

/**
 * Under overload the kernel sheds whole connections (bpf/shed.bpf.h): from these positions on,
 * a connection's bytes are not copied until its next data event, whose position is past them.
 * The bytes in between were shed on purpose (counted in shed_bytes, their request starts in
 * shed_exchanges), not lost at random.
 */
export interface ConnShedEvent {
  readonly kind: 'shed';
  readonly connKey: string;
  readonly pid: number;
  readonly fd: number;
  readonly tsNs: bigint;
  /** Stream positions, per direction, where shedding began. */
  readonly egressPos: bigint;
  readonly ingressPos: bigint;
}

/** Every record the tracer delivers in raw mode: the events plus shed markers. */
export type CaptureRecord = CaptureEvent | ConnShedEvent;

/** Counters kept in the kernel and in the addon; every lost event is counted by reason. */
/** A process whose TLS connections no uprobe decoded (its TLS library cannot be probed). */
interface TlsUndecoded {
  readonly pid: number;
  readonly comm: string;
  /** Its connections seen carrying TLS records (none of them decoded). */
  readonly connections: number;
}

/** The TLS uprobes (bpf/ssl.bpf.h): where they are attached, and what they cannot decode. */
export interface TlsStats {
  /** Files (libssl.so*, executables exporting SSL_write) with the probes attached. */
  readonly files: number;
  /** Attach attempts that failed, and the last failure's message ('' if none). */
  readonly failures: number;
  readonly lastError: string;
  /** Processes whose memory maps were looked at. */
  readonly processes: number;
  /** "Encrypted, not decoded". */
  readonly undecoded: readonly TlsUndecoded[];
}

export interface CaptureStats {
  readonly events: number;
  readonly bytes: number;
  readonly drops: Readonly<Record<string, number>>;
}
