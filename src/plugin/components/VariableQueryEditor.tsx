import React from 'react';
import type { DataSourceApi, QueryEditorProps } from '@grafana/data';

import { migrateVariableQuery } from '../migrate.js';
import type { PixieVariableQuery } from '../migrate.js';
import { VARIABLE_PRESETS } from '../presets.js';
import type { WispOptions, WispQuery, WispVariableQuery } from '../types.js';
import { PresetScriptEditor } from './PresetScriptEditor.js';

/** Any datasource of Wisp's queries: the editor reads only the query, so it needs no datasource class. */
type Props = QueryEditorProps<DataSourceApi<WispQuery, WispOptions>, WispQuery, WispOptions, WispVariableQuery>;

/** Editor of a query variable: a preset or a script whose first column lists the values. */
export function VariableQueryEditor({ query, onChange }: Props) {
  return (
    <PresetScriptEditor
      query={migrateVariableQuery(query as WispVariableQuery | PixieVariableQuery)}
      onChange={onChange}
      presets={VARIABLE_PRESETS}
      inputId="wisp-variable-preset"
      presetHelp="Scripts referencing $namespace or $service refresh when those change."
      scriptHelp="The first column of the displayed table becomes the variable's values."
    />
  );
}
