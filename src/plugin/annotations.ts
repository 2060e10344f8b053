import { FieldType } from '@grafana/data';
import type { AnnotationEvent, AnnotationQuery, AnnotationSupport, DataFrame, Field } from '@grafana/data';
import { of } from 'rxjs';

import { migrateQuery } from './migrate.js';
import type { PixieQuery } from './migrate.js';
import { ANNOTATION_PRESETS } from './presets.js';
import type { WispQuery } from './types.js';

/**
 * Annotations: a PxL script whose output rows are markers. Columns read: `time_` (required,
 * TIME64NS), `time_end` (a region up to it when later than `time_`), `title`, `text` and
 * `tags` (comma-separated); other columns are ignored.
 */

function field(frame: DataFrame, name: string, type?: FieldType): Field | undefined {
  return frame.fields.find((f) => f.name === name && (type === undefined || f.type === type));
}

/** The markers the frames of an annotation query stand for, one per row. */
export function framesToEvents(frames: DataFrame[]): AnnotationEvent[] {
  const events: AnnotationEvent[] = [];
  for (const frame of frames) {
    const time = field(frame, 'time_', FieldType.time);
    if (!time) {
      continue;
    }
    const end = field(frame, 'time_end', FieldType.time);
    const title = field(frame, 'title');
    const text = field(frame, 'text');
    const tags = field(frame, 'tags');
    for (let i = 0; i < frame.length; i++) {
      const t = time.values[i] as number | null;
      if (t === null || t === undefined) {
        continue;
      }
      const e = end?.values[i] as number | null | undefined;
      const event: AnnotationEvent = {
        time: t,
        title: title ? String(title.values[i] ?? '') : undefined,
        text: text ? String(text.values[i] ?? '') : undefined,
        tags: tags
          ? String(tags.values[i] ?? '')
              .split(',')
              .map((x) => x.trim())
              .filter((x) => x !== '')
          : [],
      };
      if (typeof e === 'number' && e > t) {
        event.timeEnd = e;
        event.isRegion = true;
      }
      events.push(event);
    }
  }
  return events;
}

/** Grafana's annotation support for the datasource, less the editor (datasource.ts adds it). */
export const annotationSupport: AnnotationSupport<WispQuery> = {
  getDefaultQuery: () => ({ script: ANNOTATION_PRESETS[0].script, preset: ANNOTATION_PRESETS[0].id, format: 'table' }),
  // An annotation saved with a Pixie query (or none yet) gets a Wisp query as its target.
  prepareAnnotation(json: AnnotationQuery<WispQuery>): AnnotationQuery<WispQuery> {
    const target = json.target as WispQuery | PixieQuery | undefined;
    return target ? { ...json, target: migrateQuery(target) } : json;
  },
  prepareQuery(anno: AnnotationQuery<WispQuery>): WispQuery | undefined {
    const t = anno.target;
    // No script, no query: Grafana then runs nothing for this annotation.
    if (!t || typeof t.script !== 'string' || t.script.trim() === '') {
      return undefined;
    }
    return { ...t, refId: t.refId || 'Anno', format: 'table' };
  },
  processEvents: (_anno, frames) => of(framesToEvents(frames)),
};
