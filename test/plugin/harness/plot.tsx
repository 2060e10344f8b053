import React from 'react';
import { FieldType, getFieldDisplayName } from '@grafana/data';
import type { AnnotationEvent, DataFrame } from '@grafana/data';

const COLORS = ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9'];
/** Grafana's named colours a field's fixed colour may use. */
const NAMED: Record<string, string> = { red: '#f2495c', orange: '#ff9830', green: '#73bf69', blue: '#5794f2', text: '#ccccdc' };

/** One drawn series: what the browser test reads back from the page. */
export interface DrawnSeries {
  name: string;
  labels: Record<string, string>;
  times: number[];
  values: Array<number | null>;
  /** The field's fixed colour, when its config sets one. */
  color?: string;
}

/** The time series a frame holds: its time field against each number field. */
export function seriesOf(frames: DataFrame[]): DrawnSeries[] {
  return frames.flatMap((frame) => {
    const time = frame.fields.find((f) => f.type === FieldType.time);
    if (!time) {
      return [];
    }
    return frame.fields
      .filter((f) => f.type === FieldType.number)
      .map((f) => ({
        name: getFieldDisplayName(f, frame, frames),
        labels: { ...(f.labels ?? {}) },
        times: Array.from(time.values as number[]),
        values: Array.from(f.values as Array<number | null>),
        color: f.config.color?.fixedColor ? (NAMED[f.config.color.fixedColor] ?? f.config.color.fixedColor) : undefined,
      }));
  });
}

/**
 * The harness's own time-series plot (an SVG, not Grafana's uPlot panel, which lives in
 * Grafana's core): one polyline per series, one circle per point carrying its exact time and
 * value in data attributes; annotations as vertical markers (a shaded band for a region)
 * carrying their times. With `range`, the x axis spans it (and streamed points past it), as a dashboard panel's does.
 */
export function TimeSeriesPlot({
  id = 'plot',
  series,
  annotations = [],
  range,
}: {
  id?: string;
  series: DrawnSeries[];
  annotations?: AnnotationEvent[];
  range?: { from: number; to: number };
}) {
  const W = 900;
  const H = 260;
  const pad = 40;
  const points = series.flatMap((s) => s.times.map((t, i) => ({ t, v: s.values[i] })));
  const nums = points.filter((p): p is { t: number; v: number } => p.v !== null && Number.isFinite(p.v));
  if (nums.length === 0 && annotations.length === 0) {
    return <div id={`${id}-empty`}>No data</div>;
  }
  // Loops, not Math.min(...xs): a raw table can hold more points than the argument limit.
  let [t0, t1, v1] = [range?.from ?? Infinity, range?.to ?? -Infinity, 0];
  for (const p of nums) {
    if (!range) {
      t0 = Math.min(t0, p.t);
    }
    // Points past the range's end come from a stream: the axis follows them, as Grafana's live
    // dashboards move the end of a relative range to now.
    t1 = Math.max(t1, p.t);
    v1 = Math.max(v1, p.v);
  }
  const x = (t: number) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (W - 2 * pad);
  const y = (v: number) => H - pad - (v / (v1 || 1)) * (H - 2 * pad);
  return (
    <svg id={id} width={W} height={H + 20 * series.length} style={{ background: '#111217' }}>
      <line x1={pad} y1={H - pad} x2={W - pad} y2={H - pad} stroke="#555" />
      <line x1={pad} y1={pad} x2={pad} y2={H - pad} stroke="#555" />
      <text x={4} y={pad} fill="#999" fontSize={11}>
        {Number(v1.toPrecision(4))}
      </text>
      <text x={pad} y={H - pad + 14} fill="#999" fontSize={11}>
        {new Date(t0).toISOString()}
      </text>
      <text x={W - pad - 150} y={H - pad + 14} fill="#999" fontSize={11}>
        {new Date(t1).toISOString()}
      </text>
      {annotations.map((a, k) => {
        const at = x(a.time ?? 0);
        // A region running past the axis is drawn up to its end, as a panel clips it.
        const end = a.timeEnd !== undefined ? Math.min(x(a.timeEnd), W - pad) : at;
        return (
          <g key={`a${k}`} className="annotation" data-t={a.time} data-t-end={a.timeEnd ?? ''} data-title={a.title ?? ''} data-tags={(a.tags ?? []).join(',')}>
            {end > at && <rect x={at} y={pad} width={end - at} height={H - 2 * pad} fill="rgba(242, 73, 92, 0.15)" />}
            <line x1={at} y1={pad} x2={at} y2={H - pad} stroke="#f2495c" strokeDasharray="4 3" />
          </g>
        );
      })}
      {series.map((s, k) => {
        const color = s.color ?? COLORS[k % COLORS.length];
        const pts = s.times.flatMap((t, i) => (s.values[i] === null ? [] : [{ t, v: s.values[i] as number }]));
        return (
          <g key={k} className="series" data-name={s.name} data-labels={JSON.stringify(s.labels)}>
            <polyline fill="none" stroke={color} strokeWidth={2} points={pts.map((p) => `${x(p.t)},${y(p.v)}`).join(' ')} />
            {pts.map((p, i) => (
              <circle key={i} className="point" cx={x(p.t)} cy={y(p.v)} r={4} fill={color} data-t={p.t} data-v={p.v} />
            ))}
            <text x={pad} y={H + 14 + 20 * k} fill={color} fontSize={12}>
              {s.name}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
