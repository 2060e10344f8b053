import type { SemanticType } from '../../schema.js';
import { PxlCode, PxlError, type Position, type Span } from '../diagnostic.js';
import { parseTimeNs } from '../functions/time.js';
import type { Expr as Ast, Module, Param } from '../parse/ast.js';
import type { ConstType, FunctionDef, Value } from './values.js';

/*
 * Running one function of a script with named arguments given as text, as Pixie's `px run
 * px/service -- --start_time -5m --service ns/name` and its vis specs' global functions do: each
 * argument is read as the type its parameter's annotation (or else its default) says, and what
 * the function returns is the output. Also what the editor needs to offer the script's
 * functions: their parameters, types and defaults.
 */

/** A function of the script to run instead of reading its `px.display` calls: its name and arguments as text. */
export interface FunctionCall {
  readonly name: string;
  readonly args: Readonly<Record<string, string>>;
}

/** What a parameter takes: a value type (with Pixie's semantic type), or a kind no text can give. */
export type ParamType = { readonly type: ConstType; readonly semantic?: SemanticType; readonly spelled: string } | { readonly type: 'unsupported'; readonly spelled: string };

/** Pixie's annotation types, as `px.<name>`. */
const PX_TYPES: Readonly<Record<string, { type: ConstType; semantic: SemanticType }>> = {
  Service: { type: 'STRING', semantic: 'ST_SERVICE_NAME' },
  Pod: { type: 'STRING', semantic: 'ST_POD_NAME' },
  Namespace: { type: 'STRING', semantic: 'ST_NAMESPACE_NAME' },
  Node: { type: 'STRING', semantic: 'ST_NODE_NAME' },
  Container: { type: 'STRING', semantic: 'ST_CONTAINER_NAME' },
  Bytes: { type: 'INT64', semantic: 'ST_BYTES' },
  DurationNanos: { type: 'INT64', semantic: 'ST_DURATION_NS' },
  Percent: { type: 'FLOAT64', semantic: 'ST_PERCENT' },
  Time: { type: 'TIME64NS', semantic: 'ST_NONE' },
};

const PY_TYPES: Readonly<Record<string, ConstType>> = { str: 'STRING', int: 'INT64', float: 'FLOAT64', bool: 'BOOLEAN' };

/** The literal kinds a default can be, as Python names them. */
const SPELLED: Readonly<Record<ConstType, string>> = { STRING: 'str', INT64: 'int', FLOAT64: 'float', BOOLEAN: 'bool', TIME64NS: 'px.Time' };

function annotationType(a: Ast): ParamType {
  if (a.kind === 'name' && Object.hasOwn(PY_TYPES, a.id)) return { type: PY_TYPES[a.id]!, spelled: a.id };
  if (a.kind === 'attribute' && a.value.kind === 'name' && a.value.id === 'px' && Object.hasOwn(PX_TYPES, a.attr)) return { ...PX_TYPES[a.attr]!, spelled: `px.${a.attr}` };
  const spelled = a.kind === 'name' ? a.id : a.kind === 'attribute' && a.value.kind === 'name' ? `${a.value.id}.${a.attr}` : 'this annotation';
  return { type: 'unsupported', spelled };
}

/** A default written as a literal, by its kind. */
function literalType(d: Ast): ConstType | undefined {
  switch (d.kind) {
    case 'str':
      return 'STRING';
    case 'int':
      return 'INT64';
    case 'float':
      return 'FLOAT64';
    case 'bool':
      return 'BOOLEAN';
    case 'unary':
      return d.op === '-' ? literalType(d.operand) : undefined;
    default:
      return undefined;
  }
}

/** What a parameter takes: its annotation, else the type of its default, else a string. */
export function paramType(p: Param, dflt?: Value): ParamType {
  if (p.annotation) return annotationType(p.annotation);
  const t = dflt?.kind === 'const' ? dflt.type : p.default ? literalType(p.default) : 'STRING';
  return t ? { type: t, spelled: SPELLED[t] } : { type: 'unsupported', spelled: 'the type of its default' };
}

const BOOL_TEXT: Readonly<Record<string, boolean>> = { true: true, t: true, yes: true, y: true, '1': true, false: false, f: false, no: false, n: false, '0': false };
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * The argument `text` for parameter `p` of function `fn` as a constant of the parameter's
 * type; PXL_TYPE at the parameter when the text is not one (or the type takes no text).
 */
export function argumentValue(fn: string, p: Param, t: ParamType, text: string, nowNs: bigint): Value {
  const at = p.span;
  const wrong = (what: string, hints: string[] = []): never => {
    throw new PxlError(PxlCode.type, `argument '${p.name}' of '${fn}' must be ${what} (${t.spelled}), got '${text}'`, at, hints);
  };
  switch (t.type) {
    case 'unsupported':
      throw new PxlError(PxlCode.type, `argument '${p.name}' of '${fn}' cannot be given as text: its type is ${t.spelled}`, at, [
        'functions run with arguments take str, int, float, bool, px.Service, px.Pod, px.Namespace, px.Node, px.Container, px.Time',
      ]);
    case 'STRING':
      return { kind: 'const', type: 'STRING', value: text, ...(t.semantic && t.semantic !== 'ST_NONE' ? { semantic: t.semantic } : {}), at };
    case 'INT64': {
      const s = text.trim();
      if (!/^[+-]?[0-9]+$/.test(s)) wrong('an integer');
      const v = BigInt(s);
      if (v < INT64_MIN || v > INT64_MAX) wrong('an integer that fits in INT64');
      return { kind: 'const', type: 'INT64', value: v, ...(t.semantic && t.semantic !== 'ST_NONE' ? { semantic: t.semantic } : {}), at };
    }
    case 'FLOAT64': {
      const v = Number(text);
      if (text.trim() === '' || !Number.isFinite(v)) wrong('a number');
      return { kind: 'const', type: 'FLOAT64', value: v, ...(t.semantic && t.semantic !== 'ST_NONE' ? { semantic: t.semantic } : {}), at };
    }
    case 'BOOLEAN': {
      const key = text.trim().toLowerCase();
      if (!Object.hasOwn(BOOL_TEXT, key)) wrong('a boolean', ['write true or false']);
      return { kind: 'const', type: 'BOOLEAN', value: BOOL_TEXT[key]!, at };
    }
    case 'TIME64NS': {
      const v = parseTimeNs(text, nowNs) ?? wrong('a time', ["a time relative to now ('-5m'), 'now' or RFC 3339"]);
      return { kind: 'const', type: 'TIME64NS', value: v, at };
    }
  }
}

/** One function a script defines, as the editor offers it. */
export interface ScriptFunction {
  readonly name: string;
  /** The first line of its docstring, '' without one. */
  readonly doc: string;
  readonly params: readonly {
    readonly name: string;
    /** As the annotation spells it (`str`, `px.Service`), or the type of its default. */
    readonly type: string;
    /** The default as written in the script; absent when the argument is required. */
    readonly default?: string;
  }[];
}

/** Offset of a 1-based position in `source` (columns in UTF-16 code units, as spans count them). */
function offset(source: string, at: Position): number {
  let line = 1;
  let i = 0;
  while (line < at.line && i < source.length) {
    const nl = source.indexOf('\n', i);
    if (nl < 0) return source.length;
    i = nl + 1;
    line++;
  }
  return i + at.column - 1;
}

const textAt = (source: string, span: Span): string => source.slice(offset(source, span.start), offset(source, span.end));

/** The functions a parsed script defines at its top level, in order. */
export function scriptFunctions(module: Module, source: string): ScriptFunction[] {
  return module.body
    .filter((s): s is FunctionDef => s.kind === 'def')
    .map((def) => {
      const first = def.body[0];
      const doc = first?.kind === 'expr' && first.value.kind === 'str' ? first.value.parts.map((p) => ('text' in p ? p.text : `$${p.ref.name}`)).join('').trim().split('\n')[0]!.trim() : '';
      return {
        name: def.name,
        doc,
        params: def.params.map((p) => ({
          name: p.name,
          type: paramType(p).spelled,
          ...(p.default ? { default: textAt(source, p.default.span) } : {}),
        })),
      };
    });
}
