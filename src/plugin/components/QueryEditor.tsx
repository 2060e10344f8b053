import React, { useEffect, useMemo, useRef, useState } from 'react';
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import { Alert, Button, CodeEditor, InlineField, InlineSwitch, Input, MultiSelect, RadioButtonGroup, Select, Stack, Tag } from '@grafana/ui';
import type { Monaco, MonacoEditor } from '@grafana/ui';

import type { WispDataSource } from '../datasource.js';
import { spanFromMessage } from '../diagnostics.js';
import { NETWORK_PRESETS, QUERY_PRESETS } from '../presets.js';

/** Every preset the picker offers: the HTTP ones, then the network ones. */
const PRESETS = [...QUERY_PRESETS, ...NETWORK_PRESETS];
import { DEFAULT_SCRIPT } from '../types.js';
import { isPixieQuery, migrateQuery } from '../migrate.js';
import type { QueryFormat, SchemaResponse, ScriptFunction, WispOptions, WispQuery } from '../types.js';
import { bindSchema, PXL_LANGUAGE, registerPxl, showError } from './pxlLanguage.js';

type Props = QueryEditorProps<WispDataSource, WispQuery, WispOptions>;

const FORMATS: Array<SelectableValue<QueryFormat>> = [
  { label: 'Auto', value: 'auto', description: 'time_ plus labels → time series; nodes/edges → node graph; raw rows → logs in Explore' },
  { label: 'Table', value: 'table', description: 'every output as a table' },
  { label: 'Logs', value: 'logs', description: 'rows with a time_ column as log lines (level from resp_status)' },
];

/**
 * The PxL editor: Monaco with PxL highlighting and schema completion, the engine's error
 * marked where it points, Ctrl/Cmd+Enter and blur run the query, presets, and the choice of
 * output when the script displays several tables; for a script that defines functions, the
 * function to run and its arguments (Pixie's script libraries); for a script that uses
 * `$__columns`, the column picker.
 */
export function QueryEditor({ query: saved, onChange, onRunQuery, datasource, data }: Props) {
  // A query saved by Pixie's plugin opens as the Wisp query it stands for, and is saved so.
  const query = useMemo(() => migrateQuery(saved), [saved]);
  useEffect(() => {
    if (isPixieQuery(saved)) {
      onChange(query);
    }
  }, [saved, query, onChange]);
  const script = query.script ?? DEFAULT_SCRIPT;
  const [schema, setSchema] = useState<SchemaResponse>();
  const [schemaError, setSchemaError] = useState<string>();
  const [editor, setEditor] = useState<{ editor: MonacoEditor; monaco: Monaco }>();
  const [outputsSeen, setOutputsSeen] = useState<string[]>([]);
  const [functions, setFunctions] = useState<ScriptFunction[]>([]);

  // Editor commands are registered once; they read the latest props through this ref.
  const latest = useRef({ query, onChange, onRunQuery });
  latest.current = { query, onChange, onRunQuery };
  const schemaRef = useRef<SchemaResponse | undefined>(undefined);
  schemaRef.current = schema;

  useEffect(() => {
    let live = true;
    datasource.getSchema().then(
      (s) => live && (setSchema(s), setSchemaError(undefined)),
      (e: unknown) => live && setSchemaError(e instanceof Error ? e.message : String(e))
    );
    return () => {
      live = false;
    };
  }, [datasource]);

  // The functions the script defines, asked of the engine whenever the script changes; a script
  // that does not parse keeps the last list (its error shows in the editor when it runs).
  useEffect(() => {
    let live = true;
    datasource.getFunctions(script).then(
      (fns) => live && setFunctions(fns),
      () => undefined
    );
    return () => {
      live = false;
    };
  }, [datasource, script]);

  const error = data?.errors?.find((e) => !e.refId || e.refId === query.refId)?.message ?? data?.error?.message;
  useEffect(() => {
    const model = editor?.editor.getModel();
    if (editor && model) {
      showError(editor.monaco, model, error === undefined ? undefined : { message: error, span: spanFromMessage(error) });
    }
  }, [editor, error]);

  const frameNames = useMemo(
    () => (data?.series ?? []).filter((f) => f.refId === query.refId && f.name).map((f) => f.name ?? ''),
    [data, query.refId]
  );
  useEffect(() => {
    setOutputsSeen((seen) => (frameNames.every((n) => seen.includes(n)) ? seen : [...new Set([...seen, ...frameNames])]));
  }, [frameNames]);

  const run = (text: string) => {
    const { query: q, onChange: change, onRunQuery: runQuery } = latest.current;
    // An edited preset is no longer that preset.
    const preset = PRESETS.find((p) => p.id === q.preset);
    change({ ...q, script: text, preset: preset?.script === text ? q.preset : undefined });
    runQuery();
  };

  const onMount = (ed: MonacoEditor, monaco: Monaco) => {
    const model = ed.getModel();
    if (model) {
      bindSchema(model, () => schemaRef.current);
    }
    ed.addAction({
      id: 'wisp.runQuery',
      label: 'Run query',
      keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter],
      run: () => run(ed.getValue()),
    });
    setEditor({ editor: ed, monaco });
  };

  const update = (q: WispQuery) => {
    onChange(q);
    onRunQuery();
  };
  const picked = query.function ? functions.find((f) => f.name === query.function?.name) : undefined;
  const functionOptions = [
    { label: 'Script outputs', value: '', description: 'what the script shows with px.display' },
    ...functions.map((f) => ({ label: f.name, value: f.name, description: f.doc || undefined })),
  ];
  const setArg = (name: string, text: string) => {
    const call = query.function ?? { name: '', args: {} };
    const args = { ...call.args };
    if (text === '') {
      delete args[name];
    } else {
      args[name] = text;
    }
    if ((call.args[name] ?? '') !== text) {
      update({ ...query, function: { ...call, args } });
    }
  };
  const usesColumns = script.includes('$__columns');
  const columnOptions = [...new Set((schema?.tables ?? []).flatMap((t) => t.columns.map((c) => c.name)))].map((c) => ({ label: c, value: c }));

  const presetOptions = PRESETS.map((p) => ({ label: p.label, value: p.id, description: p.description }));
  const outputOptions = [
    { label: 'All outputs', value: '' },
    ...[...new Set([...outputsSeen, ...(query.output ? [query.output] : [])])].map((n) => ({ label: n, value: n })),
  ];

  return (
    <Stack direction="column" gap={1}>
      <Stack direction="row" gap={1} wrap="wrap" alignItems="center">
        <InlineField label="Preset" tooltip="Replace the script with a ready-made one">
          <Select
            inputId={`wisp-preset-${query.refId}`}
            width={34}
            options={presetOptions}
            value={query.preset ?? null}
            placeholder="Choose a preset…"
            onChange={(v) => {
              const preset = PRESETS.find((p) => p.id === v.value);
              if (preset) {
                onChange({ ...query, preset: preset.id, script: preset.script, format: preset.format ?? 'auto', output: '' });
                onRunQuery();
              }
            }}
          />
        </InlineField>
        <InlineField label="Output" tooltip="Which px.display output to show when the script displays several">
          <Select
            inputId={`wisp-output-${query.refId}`}
            width={30}
            options={outputOptions}
            value={query.output ?? ''}
            allowCustomValue
            onChange={(v) => {
              onChange({ ...query, output: v.value ?? '' });
              onRunQuery();
            }}
          />
        </InlineField>
        <InlineField label="Format">
          <RadioButtonGroup
            options={FORMATS}
            value={query.format ?? 'auto'}
            onChange={(format) => {
              onChange({ ...query, format });
              onRunQuery();
            }}
          />
        </InlineField>
        <InlineField label="Stream" tooltip="Keep the panel updating: rows as they are captured, px.bin windows as they close (the newest 1000 rows per output)">
          <InlineSwitch
            id={`wisp-stream-${query.refId}`}
            value={query.stream ?? false}
            onChange={(e) => {
              onChange({ ...query, stream: e.currentTarget.checked });
              onRunQuery();
            }}
          />
        </InlineField>
        <Button
          icon="play"
          size="sm"
          variant="secondary"
          tooltip="Ctrl/Cmd+Enter"
          onClick={() => run(editor?.editor.getValue() ?? script)}
        >
          Run
        </Button>
      </Stack>
      {(functions.length > 0 || query.function) && (
        <Stack direction="row" gap={1} wrap="wrap" alignItems="center">
          <InlineField label="Function" tooltip="Run one function of the script with arguments instead of its px.display outputs">
            <Select
              inputId={`wisp-function-${query.refId}`}
              width={30}
              options={functionOptions}
              value={query.function?.name ?? ''}
              onChange={(v) => {
                const { function: _dropped, ...rest } = query;
                update(v.value ? { ...rest, function: { name: v.value, args: {} } } : rest);
              }}
            />
          </InlineField>
          {picked?.params.map((p) => (
            <InlineField key={`${picked.name}.${p.name}`} label={p.name} tooltip={`${p.type}${p.default === undefined ? ', required' : `, default ${p.default}`}; dashboard variables ($name) are replaced`}>
              <Input
                id={`wisp-arg-${query.refId}-${p.name}`}
                width={20}
                defaultValue={query.function?.args[p.name] ?? ''}
                placeholder={p.default ?? 'required'}
                onBlur={(e) => setArg(p.name, e.currentTarget.value)}
                onKeyDown={(e) => e.key === 'Enter' && setArg(p.name, e.currentTarget.value)}
              />
            </InlineField>
          ))}
        </Stack>
      )}
      {usesColumns && (
        <InlineField label="Columns" tooltip="What $__columns in the script stands for; none picked: every column">
          <MultiSelect
            inputId={`wisp-columns-${query.refId}`}
            width={60}
            options={columnOptions}
            value={query.columns ?? []}
            placeholder="Every column"
            onChange={(vs) => update({ ...query, columns: vs.map((v) => v.value ?? '').filter((c) => c !== '') })}
          />
        </InlineField>
      )}
      {(query.adhocFilters ?? []).length > 0 && (
        <Stack direction="row" gap={1} wrap="wrap" alignItems="center">
          <span title="Added by “filter for value” in Explore; applied by the engine to every table the script reads">Filters:</span>
          {(query.adhocFilters ?? []).map((f, i) => (
            <Tag
              key={`${f.key}${f.operator}${i}`}
              name={`${f.key} ${f.operator} ${f.values ? f.values.join(' | ') : f.value} ×`}
              onClick={() => {
                onChange({ ...query, adhocFilters: (query.adhocFilters ?? []).filter((_, j) => j !== i) });
                onRunQuery();
              }}
            />
          ))}
        </Stack>
      )}
      <CodeEditor
        language={PXL_LANGUAGE}
        value={script}
        height={260}
        showLineNumbers
        showMiniMap={false}
        onBeforeEditorMount={registerPxl}
        onEditorDidMount={onMount}
        onBlur={(text) => {
          if (text !== latest.current.query.script) {
            run(text);
          }
        }}
      />
      {schemaError && (
        <Alert severity="warning" title="Completion has no schema">
          GET /api/v1/schema failed: {schemaError}
        </Alert>
      )}
    </Stack>
  );
}
