import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor.js';
import { QueryEditor } from './components/QueryEditor.js';
import { WispDataSource } from './datasource.js';
import type { WispOptions, WispQuery, WispSecureJsonData } from './types.js';

/** The plugin Grafana loads from module.js. */
export const plugin = new DataSourcePlugin<WispDataSource, WispQuery, WispOptions, WispSecureJsonData>(WispDataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
