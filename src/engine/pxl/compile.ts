import type { Catalog } from './catalog.js';
import { PxlCode, PxlError, type Diagnostic } from './diagnostic.js';
import { parse } from './parse/parser.js';
import { adhocContext, adhocReport, type AdhocFilter, type AdhocFilterReport } from './plan/adhoc.js';
import { CTX_KEYS } from './plan/dataframe.js';
import { Interpreter } from './plan/interp.js';
import { scriptFunctions, type FunctionCall, type ScriptFunction } from './plan/invoke.js';
import { LIMITS } from './plan/limits.js';
import { prune } from './plan/prune.js';
import type { Program } from './plan/logical.js';
import { GRAFANA_MACROS, PIXIE_MACROS } from './plan/macros.js';
import { registryEntries } from './functions/registry.js';
import type { DataType } from '../schema.js';

/** The query context a script is compiled against. All times are epoch ns. */
export interface CompileOptions {
  readonly fromNs: bigint;
  readonly toNs: bigint;
  /** Grafana's interval; widened so the range holds at most `maxDataPoints` intervals. */
  readonly intervalNs: bigint;
  /** The time `px.now()` and relative times ('-5m') are resolved against. */
  readonly nowNs: bigint;
  readonly maxDataPoints?: number;
  /** Dashboard variables: `$name` / `${name}`; a list for multi-value variables. */
  readonly variables?: Readonly<Record<string, string | readonly string[]>>;
  /** Grafana's ad hoc filters, applied to every DataFrame the script reads from a table. */
  readonly adhocFilters?: readonly AdhocFilter[];
  /** Longest a compile may take, parsing included (ms; default LIMITS.compileMs): then PXL_LIMIT. */
  readonly compileMs?: number;
  /** Run this function of the script with these arguments; its result is the output (plan/invoke.ts). */
  readonly call?: FunctionCall;
  /** The columns picked in the editor, for `$__columns`; absent means every column. */
  readonly columns?: readonly string[];
}

export interface CompileResult {
  readonly program: Program;
  readonly warnings: readonly Diagnostic[];
  /** Each ad hoc filter and the tables it narrowed; absent when the request had none. */
  readonly adhocFilters?: readonly AdhocFilterReport[];
}

/**
 * The interval the macros use: `intervalNs`, widened when the range would hold more than
 * `maxDataPoints` intervals, and at least 1 ms (Grafana's own floor).
 */
export function effectiveIntervalNs(o: Pick<CompileOptions, 'fromNs' | 'toNs' | 'intervalNs' | 'maxDataPoints'>): bigint {
  let interval = o.intervalNs > 1_000_000n ? o.intervalNs : 1_000_000n;
  const range = o.toNs - o.fromNs;
  if (o.maxDataPoints !== undefined && o.maxDataPoints > 0 && range > 0n) {
    const max = BigInt(Math.floor(o.maxDataPoints));
    const needed = (range + max - 1n) / max;
    if (needed > interval) interval = needed;
  }
  return interval;
}

/**
 * Compiles a PxL script into a logical plan: parses it, runs the checked tree at compile time
 * (constants, macros, variables and `def` calls resolved) and type-checks every column and
 * call. Throws PxlError for a wrong script; never evaluates script text as code. The work is
 * bounded (plan/limits.ts): a script that would exceed a bound fails with PXL_LIMIT, so a
 * compile never holds the event loop for long.
 */
export function compile(script: string, options: CompileOptions, catalog: Catalog): CompileResult {
  if (options.toNs < options.fromNs) {
    throw new PxlError(PxlCode.value, 'the query range ends before it starts');
  }
  try {
    return compileChecked(script, options, catalog);
  } catch (err) {
    // The parser and the walk bound their own depth; this is the backstop for expression
    // chains built up through variables, which no single syntax node shows.
    if (err instanceof RangeError) {
      throw new PxlError(PxlCode.limit, 'the script nests expressions too deeply to compile', undefined, ['split long expressions into steps']);
    }
    throw err;
  }
}

function compileChecked(script: string, options: CompileOptions, catalog: Catalog): CompileResult {
  const startedMs = performance.now();
  const module = parse(script);
  const warnings: Diagnostic[] = [...module.warnings];
  const adhoc = options.adhocFilters && options.adhocFilters.length > 0 ? adhocContext(options.adhocFilters, CTX_KEYS) : undefined;
  const interp = new Interpreter({
    catalog,
    macros: {
      fromNs: options.fromNs,
      toNs: options.toNs,
      intervalNs: effectiveIntervalNs(options),
      variables: options.variables ?? {},
      ...(options.columns ? { columns: options.columns } : {}),
    },
    fold: { nowNs: options.nowNs },
    warn: (d) => warnings.push(d),
    ...(adhoc ? { adhoc } : {}),
    compileMs: options.compileMs ?? LIMITS.compileMs,
    startedMs,
  });
  const { outputs, stream } = interp.run(module, options.call);
  if (outputs.length === 0) {
    warnings.push({
      severity: 'warning',
      code: PxlCode.noOutput,
      message: 'the script displays nothing',
      hints: ["add px.display(df, 'name') for each table to return"],
    });
  }
  const program = { outputs: outputs.map((o) => ({ name: o.name, plan: prune(o.plan) })), ...(stream ? { stream } : {}) };
  return adhoc ? { program, warnings, adhocFilters: adhocReport(adhoc) } : { program, warnings };
}

/** The functions a script defines, with their parameters, for the editor (`POST /api/v1/functions`); throws PxlError for text that does not parse. */
export function functionsOf(script: string): ScriptFunction[] {
  return scriptFunctions(parse(script), script);
}

/** What `GET /api/v1/schema` says about the language (tables come from the catalog). */
export interface LanguageSchema {
  readonly functions: readonly {
    readonly name: string;
    readonly kind: 'scalar' | 'aggregate';
    /** `rest`: any number of further arguments of that type (px.script_reference's dict entries). */
    readonly signatures: readonly { readonly args: readonly DataType[]; readonly rest?: DataType; readonly ret: DataType }[];
    readonly doc: string;
  }[];
  readonly macros: readonly { readonly name: string; readonly doc: string }[];
  readonly ctx: readonly string[];
}

/** Functions as scripts spell them (`px.count`), macros with docs, and the df.ctx keys. */
export function languageSchema(): LanguageSchema {
  return {
    functions: registryEntries()
      .filter((e) => e.kind !== 'operator')
      .map((e) => ({
        name: e.spelling,
        kind: e.kind === 'aggregate' ? ('aggregate' as const) : ('scalar' as const),
        signatures: e.signatures.map((s) => ({ args: s.args, ...(s.rest ? { rest: s.rest } : {}), ret: s.ret })),
        doc: `${e.doc} Example: ${e.example}`,
      })),
    macros: [...PIXIE_MACROS, ...GRAFANA_MACROS, { name: '$name / ${name}', doc: 'A dashboard variable: in code a number literal when its text is one, else a string literal (a list when multi-value); its text inside a string.' }],
    ctx: Object.keys(CTX_KEYS),
  };
}
