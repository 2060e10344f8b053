import { createDataFrame, FieldType } from '@grafana/data';
import type { DataFrame, FieldConfig, QueryResultMetaNotice, QueryResultMetaStat } from '@grafana/data';

import { formatDiagnostic } from './diagnostics.js';
import { logsFrame, styleVolume } from './logs.js';
import type { ApiColumn, ApiTable, ApiValue, QueryFormat, QueryResponse, QueryStats } from './types.js';

/** How one query's answer is turned into frames. */
export interface FrameOptions {
  refId: string;
  /** The script as sent, shown by the query inspector. */
  script: string;
  /** Show only this output; empty shows all. */
  output?: string;
  /**
   * `table` keeps every output a table frame, even one with `time_` and labels; `logs` makes
   * every output with a `time_` column log lines; `auto` does so for raw rows in Explore.
   */
  format?: QueryFormat;
  /** The query runs in Explore, where raw rows read best as log lines. */
  explore?: boolean;
  /** The answer is Explore's log volume: series by status class, coloured by level. */
  logVolume?: boolean;
}

type Cell = number | string | boolean | null;

interface Decoded {
  type: FieldType;
  values: Cell[];
  config: FieldConfig;
}

const NS_PER_MS = BigInt(1_000_000);
const INTEGER = /^-?\d+$/;

/**
 * Epoch nanoseconds (a decimal string, exact) to epoch milliseconds. The division happens on
 * the exact integer first, so only the sub-millisecond part ever meets floating point.
 */
export function nsToMs(ns: string): number {
  if (!INTEGER.test(ns)) {
    throw new Error(`a TIME64NS value must be a decimal integer string, got ${JSON.stringify(ns)}`);
  }
  const big = BigInt(ns);
  return Number(big / NS_PER_MS) + Number(big % NS_PER_MS) / 1e6;
}

/** Turns an engine answer into Grafana data frames (see docs/api.md and src/plugin/README.md). */
export function toFrames(res: QueryResponse, opts: FrameOptions): DataFrame[] {
  let tables = res.tables;
  if (opts.output) {
    tables = tables.filter((t) => t.name === opts.output);
    if (tables.length === 0) {
      const names = res.tables.map((t) => t.name).join(', ') || 'nothing';
      throw new Error(`the script has no output named "${opts.output}"; it displays: ${names}`);
    }
  }
  const frames = tables.map((t) => tableToFrame(t, opts));
  const notices: QueryResultMetaNotice[] = [
    ...(res.warnings ?? []).map((w): QueryResultMetaNotice => ({ severity: 'warning', text: formatDiagnostic(w) })),
    // The engine's word that each ad hoc filter narrowed the data (the ones that did not are warnings).
    ...(res.adhocFilters ?? [])
      .filter((f) => f.appliedTo.length > 0)
      .map((f): QueryResultMetaNotice => ({
        severity: 'info',
        text: `ad hoc filter ${f.key} ${f.operator} ${f.values ? f.values.join(', ') : f.value} applied to ${f.appliedTo.join(', ')}`,
      })),
  ];
  if (frames.length === 0) {
    // Keep the inspector's query text and the warnings visible even when nothing was displayed.
    frames.push(createDataFrame({ refId: opts.refId, fields: [] }));
  }
  for (const frame of frames) {
    frame.meta = { ...frame.meta, executedQueryString: opts.script };
  }
  if (notices.length > 0) {
    frames[0].meta = { ...frames[0].meta, notices };
  }
  const stats = inspectorStats(res.stats);
  if (stats.length > 0) {
    // Once per query: the inspector lists the stats of every frame.
    frames[0].meta = { ...frames[0].meta, stats };
  }
  return frames;
}

/** The engine's `stats` as the query inspector's "Data source stats". */
function inspectorStats(s: QueryStats | undefined): QueryResultMetaStat[] {
  if (!s) {
    return [];
  }
  const out: QueryResultMetaStat[] = [];
  const add = (displayName: string, value: number | undefined, unit?: string) => {
    if (typeof value === 'number' && Number.isFinite(value)) {
      out.push(unit ? { displayName, value, unit } : { displayName, value });
    }
  };
  add('Compile time', s.compileMs, 'ms');
  add('Execute time', s.executeMs, 'ms');
  add('Rows scanned', s.rowsScanned);
  add('Bytes scanned', s.bytesScanned, 'bytes');
  add('Engines queried', s.engines?.queried);
  add('Engines pruned', s.engines?.pruned);
  add('Engines failed', s.engines?.failed);
  add('Bytes received from engines', s.bytesReceived, 'bytes');
  return out;
}

function tableToFrame(table: ApiTable, opts: FrameOptions): DataFrame {
  checkShape(table);
  if (table.name === 'nodes' || table.name === 'edges') {
    return nodeGraphFrame(table, opts.refId);
  }
  const hasTime = table.columns.some((c) => c.name === 'time_' && c.type === 'TIME64NS');
  if (hasTime && (opts.format === 'logs' || (opts.format !== 'table' && opts.explore && !isTimeSeries(table)))) {
    return rowsAsLogs(table, opts.refId);
  }
  if (opts.format !== 'table' && isTimeSeries(table)) {
    const frame = wideFrame(table, opts.refId);
    return opts.logVolume ? styleVolume(frame) : frame;
  }
  return createDataFrame({
    name: table.name,
    refId: opts.refId,
    fields: table.columns.map((c, i) => ({ name: c.name, ...decodeColumn(c, table.data[i]) })),
  });
}

function checkShape(table: ApiTable): void {
  if (table.data.length !== table.columns.length) {
    throw new Error(
      `output "${table.name}" has ${table.columns.length} columns but ${table.data.length} data arrays`
    );
  }
  table.data.forEach((values, i) => {
    if (values.length !== table.rowCount) {
      throw new Error(
        `output "${table.name}" column "${table.columns[i].name}" has ${values.length} values, rowCount says ${table.rowCount}`
      );
    }
  });
}

const NUMERIC = new Set(['INT64', 'FLOAT64']);
const LABEL = new Set(['STRING', 'UINT128', 'BOOLEAN']);

/**
 * A time series: one TIME64NS column named time_, some number columns, and — when there are
 * label columns — on average at least two rows per label set. The last condition keeps raw
 * rows (where nearly every row has its own path, pod or header) a table instead of exploding
 * into one single-point series per row.
 */
function isTimeSeries(table: ApiTable): boolean {
  const times = table.columns.filter((c) => c.type === 'TIME64NS');
  if (times.length !== 1 || times[0].name !== 'time_' || !table.columns.some((c) => NUMERIC.has(c.type))) {
    return false;
  }
  const labelIdx = indexesWhere(table.columns, (c) => LABEL.has(c.type));
  if (labelIdx.length === 0 || table.rowCount === 0) {
    return true;
  }
  const sets = new Set<string>();
  for (let row = 0; row < table.rowCount; row++) {
    sets.add(JSON.stringify(labelIdx.map((i) => table.data[i][row])));
  }
  return table.rowCount >= 2 * sets.size;
}

/**
 * Long (one row per time and label set) to wide (one number field per label set and value
 * column), sorted by exact nanosecond time; missing points are null.
 */
function wideFrame(table: ApiTable, refId: string): DataFrame {
  const timeIdx = table.columns.findIndex((c) => c.name === 'time_');
  const labelIdx = indexesWhere(table.columns, (c) => LABEL.has(c.type));
  const valueIdx = indexesWhere(table.columns, (c) => NUMERIC.has(c.type));
  const values = valueIdx.map((i) => decodeColumn(table.columns[i], table.data[i]));

  const rawTimes = table.data[timeIdx].map((v) => BigInt(requireIntString(v, 'time_')));
  const distinct = [...new Set(rawTimes)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const slot = new Map(distinct.map((t, i) => [t, i]));

  interface Series {
    labels: Record<string, string>;
    columns: Cell[][];
  }
  const series = new Map<string, Series>();
  for (let row = 0; row < table.rowCount; row++) {
    const labelValues = labelIdx.map((i) => String(table.data[i][row]));
    const key = JSON.stringify(labelValues);
    let s = series.get(key);
    if (!s) {
      const labels: Record<string, string> = {};
      // An empty value is no label, as in Prometheus (on a host every ctx['service'] is '').
      labelIdx.forEach((i, k) => {
        if (labelValues[k] !== '') labels[table.columns[i].name] = labelValues[k];
      });
      s = { labels, columns: valueIdx.map(() => new Array<Cell>(distinct.length).fill(null)) };
      series.set(key, s);
    }
    const at = slot.get(rawTimes[row]) ?? 0;
    values.forEach((v, k) => {
      const cell = v.values[row];
      // An INT64 column too wide for exact numbers came back as strings; a graph needs numbers.
      s.columns[k][at] = typeof cell === 'string' ? Number(cell) : cell;
    });
  }

  const fields: Array<{ name: string; type: FieldType; values: Cell[]; config: FieldConfig; labels?: Record<string, string> }> = [
    {
      name: 'time_',
      type: FieldType.time,
      values: distinct.map((t) => nsToMs(t.toString())),
      config: {},
    },
  ];
  if (series.size === 0) {
    valueIdx.forEach((i, k) => fields.push({ name: table.columns[i].name, ...values[k], values: [] }));
  }
  for (const s of series.values()) {
    valueIdx.forEach((i, k) =>
      fields.push({
        name: table.columns[i].name,
        type: FieldType.number,
        values: s.columns[k],
        config: values[k].config,
        ...(labelIdx.length > 0 ? { labels: s.labels } : {}),
      })
    );
  }
  return createDataFrame({ name: table.name, refId, fields });
}

function rowsAsLogs(table: ApiTable, refId: string): DataFrame {
  const timeIdx = table.columns.findIndex((c) => c.name === 'time_');
  const fields = table.columns.map((c, i) => ({ name: c.name, ...decodeColumn(c, table.data[i]) }));
  const timeNs = table.data[timeIdx].map((v) => requireIntString(v, 'time_'));
  return logsFrame(table.name, refId, fields[timeIdx], timeNs, fields.filter((_, i) => i !== timeIdx));
}

function nodeGraphFrame(table: ApiTable, refId: string): DataFrame {
  const fields = table.columns.map((c, i) => ({ name: c.name, ...decodeColumn(c, table.data[i]) }));
  const names = new Set(table.columns.map((c) => c.name));
  if (table.name === 'edges' && !names.has('id') && names.has('source') && names.has('target')) {
    // Grafana's node graph needs an edge id; source→target is unique per edge in a service map.
    const source = table.data[table.columns.findIndex((c) => c.name === 'source')];
    const target = table.data[table.columns.findIndex((c) => c.name === 'target')];
    fields.unshift({
      name: 'id',
      type: FieldType.string,
      values: source.map((s, i) => `${String(s)}->${String(target[i])}`),
      config: {},
    });
  }
  return createDataFrame({
    name: table.name,
    refId,
    fields,
    meta: { preferredVisualisationType: 'nodeGraph' },
  });
}

function indexesWhere(columns: ApiColumn[], pred: (c: ApiColumn) => boolean): number[] {
  return columns.flatMap((c, i) => (pred(c) ? [i] : []));
}

function requireIntString(v: ApiValue, column: string): string {
  if (typeof v !== 'string' || !INTEGER.test(v)) {
    throw new Error(`column "${column}" must hold decimal integer strings, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Grafana units (and the factor to reach them) for the engine's semantic types. */
const UNITS: Record<string, { unit: string; scale?: number }> = {
  ST_DURATION_NS: { unit: 'ns' },
  ST_PERCENT: { unit: 'percentunit' },
  ST_BYTES: { unit: 'bytes' },
  // Pixie's throughputs are per nanosecond; Grafana's rate units are per second.
  ST_THROUGHPUT_PER_NS: { unit: 'reqps', scale: 1e9 },
  ST_THROUGHPUT_BYTES_PER_NS: { unit: 'Bps', scale: 1e9 },
};

const FLOAT_SPECIALS: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** One column's wire values as a Grafana field's type, values and unit. */
function decodeColumn(column: ApiColumn, raw: ApiValue[]): Decoded {
  const unit = UNITS[column.semantic ?? ''];
  const config: FieldConfig = unit ? { unit: unit.unit } : {};
  switch (column.type) {
    case 'TIME64NS':
      return {
        type: FieldType.time,
        values: raw.map((v) => (v === null ? null : nsToMs(requireIntString(v, column.name)))),
        config,
      };
    case 'INT64': {
      const ints = raw.map((v) => (v === null ? null : BigInt(requireIntString(v, column.name))));
      const safe = ints.every(
        (v) => v === null || (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER))
      );
      if (!safe) {
        // A number field would round these; strings keep every digit.
        return { type: FieldType.string, values: raw.map((v) => (v === null ? null : String(v))), config };
      }
      const scale = unit?.scale ?? 1;
      return { type: FieldType.number, values: ints.map((v) => (v === null ? null : Number(v) * scale)), config };
    }
    case 'FLOAT64': {
      const scale = unit?.scale ?? 1;
      return {
        type: FieldType.number,
        values: raw.map((v) => {
          if (v === null) {
            return null;
          }
          const n = typeof v === 'number' ? v : FLOAT_SPECIALS[String(v)];
          if (n === undefined) {
            throw new Error(`column "${column.name}" (FLOAT64) holds ${JSON.stringify(v)}`);
          }
          return n * scale;
        }),
        config,
      };
    }
    case 'BOOLEAN':
      return { type: FieldType.boolean, values: raw.map((v) => (v === null ? null : Boolean(v))), config };
    case 'STRING':
    case 'UINT128':
      return { type: FieldType.string, values: raw.map((v) => (v === null ? null : String(v))), config };
    default:
      throw new Error(`column "${column.name}" has unknown type ${JSON.stringify(column.type)}`);
  }
}
