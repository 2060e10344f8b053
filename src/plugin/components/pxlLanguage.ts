import type { Monaco, monacoTypes } from '@grafana/ui';

import { completionsAt } from '../completion.js';
import type { Completion } from '../completion.js';
import type { ApiSpan, SchemaResponse } from '../types.js';

/** Monaco's language id for PxL. */
export const PXL_LANGUAGE = 'pxl';

// Completion providers are global per Monaco instance, editors are not: each editor's model
// says which schema it completes against.
const schemaByModel = new WeakMap<monacoTypes.editor.ITextModel, () => SchemaResponse | undefined>();
const registered = new WeakSet<Monaco>();

/** Tells the completion provider where an editor's schema comes from. */
export function bindSchema(model: monacoTypes.editor.ITextModel, schema: () => SchemaResponse | undefined): void {
  schemaByModel.set(model, schema);
}

/** Registers PxL (Python syntax plus px., ctx and macros) once per Monaco instance. */
export function registerPxl(monaco: Monaco): void {
  if (registered.has(monaco)) {
    return;
  }
  registered.add(monaco);
  monaco.languages.register({ id: PXL_LANGUAGE });
  monaco.languages.setLanguageConfiguration(PXL_LANGUAGE, {
    comments: { lineComment: '#' },
    brackets: [
      ['(', ')'],
      ['[', ']'],
      ['{', '}'],
    ],
    autoClosingPairs: [
      { open: '(', close: ')' },
      { open: '[', close: ']' },
      { open: '{', close: '}' },
      { open: "'", close: "'", notIn: ['string'] },
      { open: '"', close: '"', notIn: ['string'] },
    ],
  });
  monaco.languages.setMonarchTokensProvider(PXL_LANGUAGE, {
    keywords: ['import', 'def', 'return', 'and', 'or', 'not', 'if', 'else', 'in', 'True', 'False', 'None'],
    tokenizer: {
      root: [
        [/#.*$/, 'comment'],
        [/"""/, 'string', '@docDouble'],
        [/'''/, 'string', '@docSingle'],
        [/'([^'\\]|\\.)*'/, 'string'],
        [/"([^"\\]|\\.)*"/, 'string'],
        [/\$\{?\w+\}?(\(\))?/, 'variable'],
        [/\b__\w+/, 'variable'],
        [/\bpx\.\w+/, 'type.identifier'],
        [/\b(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\b/, 'number'],
        [/[A-Za-z_]\w*/, { cases: { '@keywords': 'keyword', '@default': 'identifier' } }],
        [/[=<>!]=?|[-+*/%]/, 'operator'],
      ],
      docDouble: [
        [/"""/, 'string', '@pop'],
        [/./, 'string'],
      ],
      docSingle: [
        [/'''/, 'string', '@pop'],
        [/./, 'string'],
      ],
    },
  });
  const kinds: Record<Completion['kind'], monacoTypes.languages.CompletionItemKind> = {
    table: monaco.languages.CompletionItemKind.Struct,
    column: monaco.languages.CompletionItemKind.Field,
    function: monaco.languages.CompletionItemKind.Function,
    macro: monaco.languages.CompletionItemKind.Constant,
    ctx: monaco.languages.CompletionItemKind.Property,
    method: monaco.languages.CompletionItemKind.Method,
    keyword: monaco.languages.CompletionItemKind.Keyword,
  };
  monaco.languages.registerCompletionItemProvider(PXL_LANGUAGE, {
    triggerCharacters: ['.', "'", '"', '$', '['],
    provideCompletionItems(model, position) {
      const before = model.getValueInRange({
        startLineNumber: 1,
        startColumn: 1,
        endLineNumber: position.lineNumber,
        endColumn: position.column,
      });
      const { items, replaceLength } = completionsAt(before, schemaByModel.get(model)?.());
      const range = new monaco.Range(
        position.lineNumber,
        Math.max(1, position.column - replaceLength),
        position.lineNumber,
        position.column
      );
      return {
        suggestions: items.map((i) => ({
          label: i.label,
          kind: kinds[i.kind],
          insertText: i.insertText,
          detail: i.detail,
          documentation: i.documentation,
          range,
        })),
      };
    },
  });
}

/** Marks the engine's error span in the editor (owner "wisp"), or clears it. */
export function showError(
  monaco: Monaco,
  model: monacoTypes.editor.ITextModel,
  error: { message: string; span?: ApiSpan } | undefined
): void {
  if (!error) {
    monaco.editor.setModelMarkers(model, 'wisp', []);
    return;
  }
  const span = error.span ?? { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } };
  const sameSpot = span.end.line === span.start.line && span.end.column <= span.start.column;
  monaco.editor.setModelMarkers(model, 'wisp', [
    {
      severity: monaco.MarkerSeverity.Error,
      message: error.message,
      startLineNumber: span.start.line,
      startColumn: span.start.column,
      endLineNumber: span.end.line,
      endColumn: sameSpot ? span.start.column + 1 : span.end.column,
    },
  ]);
}
