import React from 'react';
import { FieldType, getFieldDisplayName } from '@grafana/data';
import type { DataFrame } from '@grafana/data';

const COLORS = ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9'];

/** One drawn series: what the browser test reads back from the page. */
export interface DrawnSeries {
  name: string;
  labels: Record<string, string>;
  times: number[];
  values: Array<number | null>;
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
      }));
  });
}

/**
 * The harness's own time-series plot (an SVG, not Grafana's uPlot panel, which lives in
 * Grafana's core): one polyline per series, one circle per point carrying its exact time and
 * value in data attributes.
 */
export function TimeSeriesPlot({ series }: { series: DrawnSeries[] }) {
  const W = 900;
  const H = 260;
  const pad = 40;
  const points = series.flatMap((s) => s.times.map((t, i) => ({ t, v: s.values[i] })));
  const nums = points.filter((p): p is { t: number; v: number } => p.v !== null && Number.isFinite(p.v));
  if (nums.length === 0) {
    return <div id="plot-empty">No data</div>;
  }
  // Loops, not Math.min(...xs): a raw table can hold more points than the argument limit.
  let [t0, t1, v1] = [Infinity, -Infinity, 0];
  for (const p of nums) {
    t0 = Math.min(t0, p.t);
    t1 = Math.max(t1, p.t);
    v1 = Math.max(v1, p.v);
  }
  const x = (t: number) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (W - 2 * pad);
  const y = (v: number) => H - pad - (v / (v1 || 1)) * (H - 2 * pad);
  return (
    <svg id="plot" width={W} height={H + 20 * series.length} style={{ background: '#111217' }}>
      <line x1={pad} y1={H - pad} x2={W - pad} y2={H - pad} stroke="#555" />
      <line x1={pad} y1={pad} x2={pad} y2={H - pad} stroke="#555" />
      <text x={4} y={pad} fill="#999" fontSize={11}>
        {v1}
      </text>
      <text x={pad} y={H - pad + 14} fill="#999" fontSize={11}>
        {new Date(t0).toISOString()}
      </text>
      <text x={W - pad - 150} y={H - pad + 14} fill="#999" fontSize={11}>
        {new Date(t1).toISOString()}
      </text>
      {series.map((s, k) => {
        const color = COLORS[k % COLORS.length];
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
