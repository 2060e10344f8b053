import React from 'react';

import { ANNOTATION_PRESETS } from '../presets.js';
import type { WispQuery } from '../types.js';
import { PresetScriptEditor } from './PresetScriptEditor.js';

/** What the editor reads of Grafana's annotation-editor props: the annotation's target query. */
interface Props {
  query: WispQuery;
  onChange: (query: WispQuery) => void;
}

/** Editor of an annotation query: a preset or a script whose output rows become markers. */
export function AnnotationQueryEditor({ query, onChange }: Props) {
  return (
    <PresetScriptEditor
      query={query}
      onChange={(q) => onChange({ ...q, format: 'table' })}
      presets={ANNOTATION_PRESETS}
      inputId="wisp-annotation-preset"
      scriptHelp="Each output row is a marker: time_ (required), time_end (a region), title, text, tags (comma-separated)."
    />
  );
}
