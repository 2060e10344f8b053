import type { DataFrame } from '@grafana/data';

import type { StreamEvent } from './api.js';
import { toFrames } from './frames.js';
import type { FrameOptions } from './frames.js';
import type { ApiDiagnostic, ApiTable, QueryResponse } from './types.js';

/**
 * Rows a streaming panel keeps per output: the newest, the oldest going first as new ones come
 * (Grafana's own live panels keep 1000 by default too). A row output keeps its last 1000 rows;
 * a windowed output its last 1000 rows of (window × label set).
 */
const STREAM_MAX_ROWS = 1000;

/** Notices a streaming panel keeps: the newest warnings (drops, engines that left, reconnects). */
const STREAM_MAX_NOTICES = 10;

/**
 * What a streamed query shows at a given moment: the lines of docs/api.md "Streaming" folded
 * into a bounded answer of the shape `POST /api/v1/query` gives, so the frames of a live panel
 * are made exactly as those of a query (time series with labels, logs, units).
 */
export class LiveAnswer {
  private outputs: string[] = [];
  private readonly tables = new Map<string, ApiTable>();
  private readonly warnings: ApiDiagnostic[] = [];
  /** True once every stored row was sent: from then on rows come as they are captured. */
  live = false;

  constructor(
    private readonly maxRows = STREAM_MAX_ROWS,
    private readonly maxNotices = STREAM_MAX_NOTICES
  ) {}

  /** Takes one event of the stream; true when what the panel shows changed. */
  apply(event: StreamEvent): boolean {
    switch (event.t) {
      case 'start':
        // A resumed stream starts again with the same outputs; what was shown stays.
        this.outputs = event.outputs.map((o) => o.name);
        event.warnings.forEach((w) => this.warn(w));
        return true;
      case 'batch':
        event.tables.forEach((t) => this.append(t));
        return event.tables.length > 0;
      case 'live':
        this.live = true;
        return false;
      case 'heartbeat':
        return false;
      case 'warning':
        this.warn(event.warning);
        return true;
      case 'reconnect':
        this.warn({
          severity: 'warning',
          code: 'STREAM_RECONNECTED',
          message: `the stream was opened again with its cursor (attempt ${event.attempt}) after: ${event.reason}`,
        });
        return true;
      case 'error':
        return false;
    }
  }

  /** The answer so far: each output's kept rows, in the order the script displays them, and the kept warnings. */
  response(): QueryResponse {
    const tables = this.outputs.flatMap((name) => this.tables.get(name) ?? []);
    return { tables, warnings: [...this.warnings] };
  }

  /** The frames of the answer so far; an output picked before its first rows came shows nothing yet. */
  frames(opts: FrameOptions): DataFrame[] {
    const res = this.response();
    if (opts.output && !this.outputs.includes(opts.output)) {
      throw new Error(`the script has no output named "${opts.output}"; it displays: ${this.outputs.join(', ') || 'nothing'}`);
    }
    if (opts.output && !this.tables.has(opts.output)) {
      return toFrames({ ...res, tables: [] }, { ...opts, output: undefined });
    }
    return toFrames(res, opts);
  }

  private append(batch: ApiTable): void {
    const kept = this.tables.get(batch.name);
    const sameColumns = kept && kept.columns.length === batch.columns.length && kept.columns.every((c, i) => c.name === batch.columns[i].name && c.type === batch.columns[i].type);
    const data = batch.columns.map((_, i) => (sameColumns ? kept.data[i].concat(batch.data[i]) : batch.data[i].slice()));
    const excess = (data[0]?.length ?? 0) - this.maxRows;
    const trimmed = excess > 0 ? data.map((col) => col.slice(excess)) : data;
    this.tables.set(batch.name, { name: batch.name, columns: batch.columns, rowCount: trimmed[0]?.length ?? 0, data: trimmed });
  }

  private warn(w: ApiDiagnostic): void {
    this.warnings.push(w);
    if (this.warnings.length > this.maxNotices) {
      this.warnings.splice(0, this.warnings.length - this.maxNotices);
    }
  }
}
