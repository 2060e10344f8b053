import React from 'react';
import type { QueryEditorProps } from '@grafana/data';

import type { WispDataSource } from '../datasource.js';
import { migrateVariableQuery } from '../migrate.js';
import type { PixieVariableQuery } from '../migrate.js';
import { VARIABLE_PRESETS } from '../presets.js';
import type { WispOptions, WispQuery, WispVariableQuery } from '../types.js';
import { PresetScriptEditor } from './PresetScriptEditor.js';

type Props = QueryEditorProps<WispDataSource, WispQuery, WispOptions, WispVariableQuery>;

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
