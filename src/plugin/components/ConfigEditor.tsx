import React from 'react';
import type { ChangeEvent } from 'react';
import type { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Field, Input, SecretInput, Stack } from '@grafana/ui';

import type { WispOptions, WispSecureJsonData } from '../types.js';

type Props = DataSourcePluginOptionsEditorProps<WispOptions, WispSecureJsonData>;

/** Why an engine URL is unusable, or undefined when it is fine. */
function engineUrlProblem(url: string | undefined): string | undefined {
  if (!url) {
    return 'Set the URL the Grafana server uses to reach the engine, e.g. http://wisp-engine.wisp:9090';
  }
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : `use http:// or https://, not ${u.protocol}`;
  } catch {
    return `"${url}" is not a URL`;
  }
}

/** Datasource settings: the engine URL (jsonData) and the bearer token (secret, server-side). */
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields, secureJsonData } = options;
  const problem = jsonData.engineUrl === undefined ? undefined : engineUrlProblem(jsonData.engineUrl);

  const onUrl = (e: ChangeEvent<HTMLInputElement>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, engineUrl: e.currentTarget.value.trim() } });
  const onToken = (e: ChangeEvent<HTMLInputElement>) =>
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, token: e.currentTarget.value } });
  const onResetToken = () =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, token: false },
      secureJsonData: { ...secureJsonData, token: '' },
    });

  return (
    <Stack direction="column" gap={1}>
      <Field
        label="Engine URL"
        description="Where the Grafana server reaches `wisp engine` or `wisp broker`; requests go through Grafana's data proxy."
        invalid={Boolean(problem)}
        error={problem}
      >
        <Input
          id="wisp-engine-url"
          width={60}
          value={jsonData.engineUrl ?? ''}
          placeholder="http://wisp-engine.wisp:9090"
          onChange={onUrl}
        />
      </Field>
      <Field
        label="Token"
        description="The engine's --token-file contents. Stored encrypted; Grafana adds it as a Bearer header, the browser never sees it."
      >
        <SecretInput
          id="wisp-token"
          width={60}
          isConfigured={Boolean(secureJsonFields?.token)}
          value={secureJsonData?.token ?? ''}
          placeholder="token"
          onChange={onToken}
          onReset={onResetToken}
        />
      </Field>
    </Stack>
  );
}
