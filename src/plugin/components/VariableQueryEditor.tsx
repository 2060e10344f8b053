import React from 'react';
import type { DataSourceApi, QueryEditorProps } from '@grafana/data';
import { CodeEditor, Field, Select, Stack } from '@grafana/ui';

import { VARIABLE_PRESETS } from '../presets.js';
import type { WispOptions, WispQuery, WispVariableQuery } from '../types.js';
import { PXL_LANGUAGE, registerPxl } from './pxlLanguage.js';

/** Any datasource of Wisp's queries: the editor reads only the query, so it needs no datasource class. */
type Props = QueryEditorProps<DataSourceApi<WispQuery, WispOptions>, WispQuery, WispOptions, WispVariableQuery>;

/** Editor of a query variable: a preset or a script whose first column lists the values. */
export function VariableQueryEditor({ query, onChange }: Props) {
  const options = VARIABLE_PRESETS.map((p) => ({ label: p.label, value: p.id, description: p.description }));
  return (
    <Stack direction="column" gap={1}>
      <Field label="Preset" description="Scripts referencing $namespace or $service refresh when those change.">
        <Select
          inputId="wisp-variable-preset"
          width={40}
          options={options}
          value={query.preset ?? null}
          placeholder="Choose a preset…"
          onChange={(v) => {
            const preset = VARIABLE_PRESETS.find((p) => p.id === v.value);
            if (preset) {
              onChange({ ...query, preset: preset.id, script: preset.script });
            }
          }}
        />
      </Field>
      <Field label="Script" description="The first column of the displayed table becomes the variable's values.">
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
