import React from 'react';
import { FieldType, getLinksSupplier } from '@grafana/data';
import type { AnnotationEvent, DataFrame, Field } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

import { seriesOf, TimeSeriesPlot } from './plot.js';

/** A data link as the page resolved it: the field and row it belongs to, and where it leads. */
export interface ResolvedLink {
  field: string;
  row: number;
  title: string;
  href: string;
}

/** One frame as the test reads it back: every field's values, labels and config. */
export interface FrameSummary {
  name?: string;
  refId?: string;
  meta?: unknown;
  length: number;
  fields: Array<{ name: string; type: string; labels?: Record<string, string>; config: unknown; values: unknown[] }>;
}

/** What one panel run ended with. */
export interface PanelResult {
  seq: number;
  /** The LoadingState of the last answer (`Streaming` while a stream keeps the panel updating). */
  state?: string;
  cancelled: boolean;
  errors: string[];
  frames: FrameSummary[];
  links: ResolvedLink[];
  annotations: AnnotationEvent[];
}

export function summarise(frames: DataFrame[]): FrameSummary[] {
  return frames.map((f) => ({
    name: f.name,
    refId: f.refId,
    meta: f.meta,
    length: f.length,
    fields: f.fields.map((x) => ({ name: x.name, type: x.type, labels: x.labels, config: x.config, values: Array.from(x.values) })),
  }));
}

/** The links Grafana would offer on every cell, resolved with Grafana's own link supplier. */
export function resolveLinks(frames: DataFrame[], templateSrv: TemplateSrv): ResolvedLink[] {
  const out: ResolvedLink[] = [];
  for (const frame of frames) {
    for (const field of frame.fields) {
      if (!field.config.links?.length) {
        continue;
      }
      const links = getLinksSupplier(frame, field, {}, templateSrv.replace.bind(templateSrv));
      for (let row = 0; row < frame.length; row++) {
        for (const l of links({ valueRowIndex: row })) {
          out.push({ field: field.name, row, title: l.title, href: l.href });
        }
      }
    }
  }
  return out;
}

const LEVEL_COLORS: Record<string, string> = { error: '#f2495c', warning: '#ff9830', info: '#73bf69', unknown: '#8e8e8e' };

function cell(field: Field, row: number): string {
  const v = field.values[row];
  return field.type === FieldType.time && typeof v === 'number' ? new Date(v).toISOString() : String(v ?? '');
}

/** The logs view: one line per row, coloured by level, the first line's details (fields and links) open. */
function LogsView({ frame, links }: { frame: DataFrame; links: ResolvedLink[] }) {
  const time = frame.fields.find((f) => f.name === 'timestamp')!;
  const body = frame.fields.find((f) => f.name === 'body')!;
  const severity = frame.fields.find((f) => f.name === 'severity');
  const extra = frame.fields.filter((f) => !['timestamp', 'body', 'severity', 'id', 'labels'].includes(f.name));
  const rows = Math.min(frame.length, 25);
  return (
    <div className="logs">
      {Array.from({ length: rows }, (_, i) => {
        const level = String(severity?.values[i] ?? 'unknown');
        return (
          <div key={i} className="log-row" data-level={level} data-t={String(time.values[i])} style={{ borderLeft: `4px solid ${LEVEL_COLORS[level] ?? '#8e8e8e'}`, paddingLeft: 6, fontFamily: 'monospace', fontSize: 12 }}>
            <span style={{ color: '#8e8e8e' }}>{cell(time, i)} </span>
            <span style={{ color: LEVEL_COLORS[level] }}>{level.padEnd(7)} </span>
            <span className="log-body">{String(body.values[i])}</span>
            {i === 0 && (
              <table className="log-details" style={{ fontSize: 12, margin: '4px 0 8px 12px' }}>
                <tbody>
                  {extra.map((f) => (
                    <tr key={f.name}>
                      <td style={{ color: '#8e8e8e', paddingRight: 12 }}>{f.name}</td>
                      <td>{cell(f, 0)}</td>
                      <td>
                        {links
                          .filter((l) => l.field === f.name && l.row === 0)
                          .map((l) => (
                            <a key={l.href} className="data-link" href={l.href} style={{ color: '#6e9fff' }}>
                              {l.title}
                            </a>
                          ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        );
      })}
    </div>
  );
}

const CELL_ACTION = { background: 'none', border: 'none', color: '#6e9fff', cursor: 'pointer', padding: '0 2px', fontSize: 12 };

/** A table with Grafana's cell actions: "filter for value" and "filter out value". */
function TableView({ frame, onFilter }: { frame: DataFrame; onFilter: (key: string, value: string, out: boolean) => void }) {
  const rows = Math.min(frame.length, 20);
  return (
    <table className="table-frame" style={{ fontSize: 12, borderCollapse: 'collapse' }}>
      <thead>
        <tr>
          {frame.fields.map((f) => (
            <th key={f.name} style={{ textAlign: 'left', paddingRight: 12 }}>
              {f.name}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {Array.from({ length: rows }, (_, i) => (
          <tr key={i}>
            {frame.fields.map((f) => (
              <td key={f.name} style={{ paddingRight: 12 }}>
                {cell(f, i)}
                {f.type !== FieldType.time && (
                  <>
                    <button className="filter-for" style={CELL_ACTION} data-key={f.name} data-value={cell(f, i)} title="Filter for value" onClick={() => onFilter(f.name, cell(f, i), false)}>
                      ⊕
                    </button>
                    <button className="filter-out" style={CELL_ACTION} data-key={f.name} data-value={cell(f, i)} title="Filter out value" onClick={() => onFilter(f.name, cell(f, i), true)}>
                      ⊖
                    </button>
                  </>
                )}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One panel: its time series (with annotations), tables and log lines, as Grafana's panels would draw them. */
export function PanelView({
  id,
  title,
  type,
  frames,
  errors,
  links,
  annotations,
  range,
  onFilter,
}: {
  id: string;
  title: string;
  /** The panel's visualisation; a table panel shows every frame as a table, as Grafana's does. */
  type?: string;
  frames: DataFrame[];
  errors: string[];
  links: ResolvedLink[];
  annotations: AnnotationEvent[];
  range: { from: number; to: number };
  onFilter: (key: string, value: string, out: boolean) => void;
}) {
  const logs = type === 'table' ? [] : frames.filter((f) => f.meta?.type === 'log-lines');
  const series = type === 'table' ? [] : frames.filter((f) => !logs.includes(f) && seriesOf([f]).length > 0 && f.fields[0]?.type === FieldType.time);
  const tables = frames.filter((f) => !logs.includes(f) && !series.includes(f));
  return (
    <section className="panel" id={`panel-${id}`} style={{ marginBottom: 12 }}>
      <h3 style={{ margin: '0 0 6px' }}>{title}</h3>
      {errors.map((e, i) => (
        <pre key={i} className="panel-error" style={{ color: '#f2495c' }}>
          {e}
        </pre>
      ))}
      {(series.length > 0 || annotations.length > 0) && <TimeSeriesPlot id={`plot-${id}`} series={seriesOf(series)} annotations={annotations} range={range} />}
      {tables.map((f, i) => (
        <TableView key={i} frame={f} onFilter={onFilter} />
      ))}
      {logs.map((f, i) => (
        <LogsView key={i} frame={f} links={links} />
      ))}
    </section>
  );
}
