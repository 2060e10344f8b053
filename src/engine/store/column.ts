import type { ColumnInput, DataType, RowValue } from '../schema.js';

/** Dictionary codes: the narrowest unsigned width that holds the batch's dictionary. */
export type Codes = Uint8Array | Uint16Array | Int32Array;

/**
 * One column of one batch, as the executor reads it. 64-bit values stay exact:
 * TIME64NS is a bigint `base` plus Float64Array offsets (exact below 2^53 ns ≈ 104 days);
 * INT64 is Int32Array or Float64Array when every value of the batch is a safe integer, else
 * BigInt64Array; strings (and UINT128) are codes into a per-batch dictionary. A dictionary may
 * hold the same string more than once (a near-unique column is stored plainly, one entry per
 * row, see ColumnBuilder): readers compare the strings, never the codes, for equality.
 */
export type StoredColumn =
  | { readonly kind: 'time'; readonly base: bigint; readonly data: Float64Array }
  | { readonly kind: 'f64'; readonly data: Float64Array }
  | { readonly kind: 'i32'; readonly data: Int32Array }
  | { readonly kind: 'big'; readonly data: BigInt64Array }
  | { readonly kind: 'dict'; readonly codes: Codes; readonly dict: readonly string[] }
  | { readonly kind: 'bool'; readonly data: Uint8Array };

/** Bytes a dictionary entry is charged: its characters plus V8's string header. */
function stringBytes(s: string): number {
  return s.length + 16;
}

/** Bytes of a stored column, as charged against the table's budget. */
export function columnBytes(c: StoredColumn): number {
  if (c.kind === 'dict') {
    let b = c.codes.byteLength;
    for (const s of c.dict) b += stringBytes(s);
    return b;
  }
  return c.data.byteLength;
}

/** Rows [from, to) of a stored column, sharing its buffers (dictionaries are shared whole). */
export function sliceColumn(c: StoredColumn, from: number, to: number): StoredColumn {
  switch (c.kind) {
    case 'time':
      return { kind: 'time', base: c.base, data: c.data.subarray(from, to) };
    case 'f64':
      return { kind: 'f64', data: c.data.subarray(from, to) };
    case 'i32':
      return { kind: 'i32', data: c.data.subarray(from, to) };
    case 'big':
      return { kind: 'big', data: c.data.subarray(from, to) };
    case 'bool':
      return { kind: 'bool', data: c.data.subarray(from, to) };
    case 'dict':
      return { kind: 'dict', codes: c.codes.subarray(from, to), dict: c.dict };
  }
}

const SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A string column decides after this many rows of each tail whether deduplicating pays: when at
 * least half of them were new strings (header JSON, bodies), the rest of the tail is stored
 * plainly, one dictionary entry per row with no hash lookup. Each tail probes afresh, so a
 * column whose values start repeating is deduplicated again from the next tail on.
 */
const PLAIN_PROBE_ROWS = 512;

/**
 * The open tail of a table for one column: growable typed arrays that rows are appended to.
 * Readers take snapshots (`view`) that stay valid while appends continue, because an index
 * below the snapshot's length is never written again and growth copies into a new buffer.
 */
export class ColumnBuilder {
  readonly type: DataType;
  readonly name: string;
  private length = 0;
  private f64: Float64Array | null = null;
  private big: BigInt64Array | null = null;
  private codes: Int32Array | null = null;
  private bools: Uint8Array | null = null;
  private dict: string[] = [];
  /** null once the column is stored plainly (see PLAIN_PROBE_ROWS). */
  private dictIndex: Map<string, number> | null = new Map<string, number>();
  /**
   * The last few distinct values and their codes, checked before the dictionary: a fresh
   * string (a body, a path) is compared by length and then bytes, far cheaper than hashing
   * it, and runs of equal values (one endpoint's body, "OK", "GET") are the common case.
   */
  private readonly recent: string[] = ['', '', '', ''];
  private readonly recentCodes = new Int32Array(4).fill(-1);
  private recentNext = 0;
  private dictBytes = 0;
  /** TIME64NS offsets are relative to this base. */
  readonly timeBase: bigint;

  constructor(name: string, type: DataType, capacity: number, timeBase: bigint) {
    this.name = name;
    this.type = type;
    this.timeBase = timeBase;
    switch (type) {
      case 'STRING':
      case 'UINT128':
        this.codes = new Int32Array(capacity);
        break;
      case 'BOOLEAN':
        this.bools = new Uint8Array(capacity);
        break;
      default:
        this.f64 = new Float64Array(capacity);
    }
  }

  /** Bytes currently allocated by this builder (capacity, not length: that is what it costs). */
  bytes(): number {
    const arr = this.f64 ?? this.big ?? this.codes ?? this.bools!;
    return arr.byteLength + this.dictBytes;
  }

  /** Grows to hold `n` rows. */
  reserve(n: number): void {
    const arr = this.f64 ?? this.big ?? this.codes ?? this.bools!;
    if (arr.length >= n) return;
    let cap = Math.max(arr.length * 2, 1024);
    while (cap < n) cap *= 2;
    if (this.f64) this.f64 = grow(this.f64, new Float64Array(cap));
    else if (this.big) this.big = grow(this.big, new BigInt64Array(cap));
    else if (this.codes) this.codes = grow(this.codes, new Int32Array(cap));
    else this.bools = grow(this.bools!, new Uint8Array(cap));
  }

  /** Capacity for `n` more rows without growing. */
  hasRoom(n: number): boolean {
    const arr = this.f64 ?? this.big ?? this.codes ?? this.bools!;
    return arr.length >= this.length + n;
  }

  /**
   * Appends one value; the caller has reserved room and checked the value's type. Returns the
   * bytes it added beyond the reserved capacity (a new dictionary entry).
   */
  push(v: RowValue | undefined): number {
    const i = this.length++;
    switch (this.type) {
      case 'STRING':
      case 'UINT128': {
        const s = v === undefined ? '' : String(v);
        if (i === PLAIN_PROBE_ROWS && this.dict.length * 2 >= PLAIN_PROBE_ROWS) this.dictIndex = null;
        const index = this.dictIndex;
        if (index !== null) {
          const recent = this.recent;
          for (let k = 0; k < 4; k++) {
            if (recent[k] === s && this.recentCodes[k]! >= 0) {
              this.codes![i] = this.recentCodes[k]!;
              return 0;
            }
          }
          const slot = this.recentNext;
          this.recentNext = (slot + 1) & 3;
          recent[slot] = s;
          const code = index.get(s);
          if (code !== undefined) {
            this.recentCodes[slot] = code;
            this.codes![i] = code;
            return 0;
          }
          this.recentCodes[slot] = this.dict.length;
          index.set(s, this.dict.length);
        }
        this.codes![i] = this.dict.length;
        this.dict.push(s);
        const b = stringBytes(s);
        this.dictBytes += b;
        return b;
      }
      case 'BOOLEAN':
        this.bools![i] = v === true ? 1 : 0;
        return 0;
      case 'FLOAT64':
        this.f64![i] = v === undefined ? 0 : Number(v);
        return 0;
      case 'TIME64NS': {
        const t = v === undefined ? 0n : typeof v === 'bigint' ? v : BigInt(v as number);
        if (this.big) {
          this.big[i] = t;
          return 0;
        }
        const off = t - this.timeBase;
        if (off > SAFE_BIG || off < -SAFE_BIG) {
          return this.toBig(t);
        }
        this.f64![i] = Number(off);
        return 0;
      }
      case 'INT64': {
        if (this.big) {
          this.big[i] = v === undefined ? 0n : typeof v === 'bigint' ? v : BigInt(v as number);
          return 0;
        }
        if (typeof v === 'bigint') {
          if (v > SAFE_BIG || v < -SAFE_BIG) return this.toBig(v);
          this.f64![i] = Number(v);
          return 0;
        }
        this.f64![i] = v === undefined ? 0 : (v as number);
        return 0;
      }
    }
  }

  /**
   * Appends rows [off, off + n) of `input` (whose kind fits this column, checked by the table);
   * the caller has reserved room. Returns the bytes added beyond the reserved capacity.
   */
  appendFrom(input: ColumnInput, off: number, n: number): number {
    const at = this.length;
    switch (input.kind) {
      case 'dict':
        return this.appendCodes(input.codes, input.dict, off, n);
      case 'bool':
        this.bools!.set(input.data.subarray(off, off + n), at);
        this.length += n;
        return 0;
      case 'f64':
        if (this.big) {
          for (let i = 0; i < n; i++) this.push(input.data[off + i]!);
          return 0;
        }
        this.f64!.set(input.data.subarray(off, off + n), at);
        this.length += n;
        return 0;
      case 'time': {
        const delta = input.base - this.timeBase;
        if (this.big || delta > SAFE_BIG || delta < -SAFE_BIG) {
          for (let i = 0; i < n; i++) this.push(input.base + BigInt(input.data[off + i]!));
          return 0;
        }
        // Both parts are exact integers below 2^53, so their sum is exact while it stays there.
        const d = Number(delta);
        const f = this.f64!;
        for (let i = 0; i < n; i++) {
          const v = input.data[off + i]! + d;
          if (v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER) {
            this.length = at + i;
            for (let j = i; j < n; j++) this.push(input.base + BigInt(input.data[off + j]!));
            return 0;
          }
          f[at + i] = v;
        }
        this.length += n;
        return 0;
      }
    }
  }

  /**
   * Strings by code: each distinct entry of the batch's table is looked up (or stored plainly)
   * once, then rows copy integers. The plain/deduplicated choice of `push` is made at batch
   * boundaries, from the same rule.
   */
  private appendCodes(codes: Uint32Array, dict: readonly string[], off: number, n: number): number {
    if (this.dictIndex !== null && this.length >= PLAIN_PROBE_ROWS && this.dict.length * 2 >= this.length) this.dictIndex = null;
    const index = this.dictIndex;
    const remap = new Int32Array(dict.length).fill(-1);
    const out = this.codes!;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const c = codes[off + i]!;
      let r = remap[c]!;
      if (r < 0) {
        const s = dict[c]!;
        const known = index?.get(s);
        if (known !== undefined) r = known;
        else {
          r = this.dict.length;
          this.dict.push(s);
          index?.set(s, r);
          const b = stringBytes(s);
          this.dictBytes += b;
          bytes += b;
        }
        remap[c] = r;
      }
      out[this.length + i] = r;
    }
    this.length += n;
    return bytes;
  }

  /** Switches to BigInt64Array storage (same capacity) for a value beyond 2^53; returns 0 bytes added. */
  private toBig(last: bigint): number {
    const f = this.f64!;
    const b = new BigInt64Array(f.length);
    const base = this.type === 'TIME64NS' ? this.timeBase : 0n;
    for (let j = 0; j < this.length - 1; j++) b[j] = base + BigInt(f[j]!);
    b[this.length - 1] = last;
    this.big = b;
    this.f64 = null;
    return 0;
  }

  /** Whether strings are stored without deduplicating (decided after PLAIN_PROBE_ROWS rows). */
  get plain(): boolean {
    return this.dictIndex === null;
  }

  /** A read-only snapshot of the first `n` rows (shares memory; no copy). */
  view(n: number): StoredColumn {
    if (this.codes) return { kind: 'dict', codes: this.codes.subarray(0, n), dict: this.dict };
    if (this.bools) return { kind: 'bool', data: this.bools.subarray(0, n) };
    if (this.big) return { kind: 'big', data: this.big.subarray(0, n) };
    if (this.type === 'TIME64NS') return { kind: 'time', base: this.timeBase, data: this.f64!.subarray(0, n) };
    return { kind: 'f64', data: this.f64!.subarray(0, n) };
  }

  /** The sealed, compact form of the first `n` rows: exact-size arrays, narrowest encodings. */
  seal(n: number): StoredColumn {
    const v = this.view(n);
    switch (v.kind) {
      case 'dict': {
        const dict = this.dict.slice();
        // TypedArray.set converts natively; TypedArray.from would iterate element by element.
        const codes = dict.length <= 256 ? new Uint8Array(n) : dict.length <= 65536 ? new Uint16Array(n) : new Int32Array(n);
        codes.set(v.codes);
        return { kind: 'dict', codes, dict };
      }
      case 'f64': {
        if (this.type === 'INT64') {
          const d = v.data;
          let fits = true;
          for (let i = 0; i < n; i++) {
            const x = d[i]!;
            if ((x | 0) !== x) {
              fits = false;
              break;
            }
          }
          if (fits) {
            const data = new Int32Array(n);
            data.set(d);
            return { kind: 'i32', data };
          }
        }
        return { kind: 'f64', data: v.data.slice() };
      }
      case 'time':
        return { kind: 'time', base: v.base, data: v.data.slice() };
      case 'big':
        return { kind: 'big', data: v.data.slice() };
      case 'bool':
        return { kind: 'bool', data: v.data.slice() };
      default:
        return v;
    }
  }
}

function grow<T extends Float64Array | BigInt64Array | Int32Array | Uint8Array>(from: T, to: T): T {
  (to as unknown as { set(a: T): void }).set(from);
  return to;
}

/**
 * Reads one value back as a RowValue: TIME64NS and wide INT64 as bigint, INT64 stored as safe
 * integers as numbers. For tests and row-wise readers; queries use the columns directly.
 */
export function readValue(c: StoredColumn, i: number): RowValue {
  switch (c.kind) {
    case 'time':
      return c.base + BigInt(c.data[i]!);
    case 'f64':
    case 'i32':
      return c.data[i]!;
    case 'big':
      return c.data[i]!;
    case 'dict':
      return c.dict[c.codes[i]!]!;
    case 'bool':
      return c.data[i] === 1;
  }
}
