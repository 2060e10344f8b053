import React from 'react';
import { CodeEditor, Field, Select, Stack } from '@grafana/ui';

import type { Preset } from '../presets.js';
import { PXL_LANGUAGE, registerPxl } from './pxlLanguage.js';

/** The part of a query these editors change: the script and the preset it came from. */
interface ScriptQuery {
  script?: string;
  preset?: string;
}

interface Props<Q extends ScriptQuery> {
  query: Q;
  onChange: (query: Q) => void;
  presets: Preset[];
  /** Id of the preset picker's input (tests and labels find it by this). */
  inputId: string;
  presetHelp?: string;
  scriptHelp: string;
}

/**
 * A preset picker over a PxL editor, for the editors Grafana shows outside a panel (query
 * variables, annotations): picking a preset replaces the script; leaving the editor keeps
 * what was typed, and an edited preset is no longer that preset.
 */
export function PresetScriptEditor<Q extends ScriptQuery>({ query, onChange, presets, inputId, presetHelp, scriptHelp }: Props<Q>) {
  const options = presets.map((p) => ({ label: p.label, value: p.id, description: p.description }));
  return (
    <Stack direction="column" gap={1}>
      <Field label="Preset" description={presetHelp}>
        <Select
          inputId={inputId}
          width={40}
          options={options}
          value={query.preset ?? null}
          placeholder="Choose a preset…"
          onChange={(v) => {
            const preset = presets.find((p) => p.id === v.value);
            if (preset) {
              onChange({ ...query, preset: preset.id, script: preset.script, ...(preset.format ? { format: preset.format } : {}) });
            }
          }}
        />
      </Field>
      <Field label="Script" description={scriptHelp}>
        <CodeEditor
          language={PXL_LANGUAGE}
          value={query.script ?? ''}
          height={200}
          showLineNumbers
          onBeforeEditorMount={registerPxl}
          onBlur={(script) => onChange({ ...query, script, preset: script === query.script ? query.preset : undefined })}
        />
      </Field>
    </Stack>
  );
}
