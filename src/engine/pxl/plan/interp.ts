import { PxlCode, PxlError, type Span } from '../diagnostic.js';
import type { Expr as Ast, Module, Stmt } from '../parse/ast.js';
import type { FunctionEntry } from '../functions/entry.js';
import { pxFunction, pxFunctionNames } from '../functions/registry.js';
import { apply, applyNamed, toExpr, truthy } from './exprs.js';
import type { LogicalPlan } from './logical.js';
import type { Environment } from './environment.js';
import { macroText, macroValue, PIXIE_MACROS } from './macros.js';
import { callFrameMethod, ctxColumn, frameAttribute, frameSubscript, makeDataFrame } from './dataframe.js';
import { bindArgs } from './args.js';
import { argumentValue, paramType, type FunctionCall } from './invoke.js';
import { withColumn } from './builders.js';
import { checkExpr, limitError, LIMITS, planSize, planSizeError } from './limits.js';
import { didYouMean } from './suggest.js';
import { describeValue, isText, textOf, type FunctionDef, type Value } from './values.js';

const PYTHON_BUILTINS = new Set([
  'print', 'len', 'range', 'int', 'str', 'float', 'bool', 'list', 'dict', 'tuple', 'set', 'min', 'max', 'sum', 'abs',
  'round', 'sorted', 'map', 'filter', 'zip', 'enumerate', 'open', 'eval', 'exec', 'type', 'isinstance', 'getattr',
  'setattr', 'format', 'input', 'compile', '__import__', 'globals', 'locals', 'vars', 'any', 'all',
]);

/** One `px.display` call. */
export interface Displayed {
  readonly name: string;
  readonly plan: LogicalPlan;
}

type Scope = Map<string, Value>;

/** A keyword argument, evaluated. */
type KeywordValue = { readonly name: string; readonly nameSpan: Span; readonly v: Value };

interface Returned {
  readonly value: Value;
}

/**
 * Runs a checked syntax tree at compile time. Constants fold, `def` bodies are inlined at each
 * call, DataFrame operations build logical plans, and every construct outside the PxL subset is
 * rejected with what to use instead.
 */
export class Interpreter {
  private readonly globals: Scope = new Map();
  private readonly outputs: Displayed[] = [];
  private readonly stack: { def: FunctionDef; at: Span }[] = [];
  private calls = 0;
  private depth = 0;
  /** Running a function with arguments (Pixie's exec funcs): px.display does nothing. */
  private calling = false;
  /** Size of the plans displayed so far (LIMITS.planSize bounds them together). */
  private displayed = 0;
  private steps = 0;
  /** True once the script called `df.stream()` (Pixie: the query runs until cancelled). */
  private streamed = false;

  constructor(private readonly env: Environment) {
    const start: Span = { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } };
    const m = env.macros;
    this.globals.set(PIXIE_MACROS[0].name, { kind: 'const', type: 'INT64', value: m.fromNs, at: start });
    this.globals.set(PIXIE_MACROS[1].name, { kind: 'const', type: 'INT64', value: m.toNs, at: start });
    this.globals.set(PIXIE_MACROS[2].name, { kind: 'const', type: 'INT64', value: m.intervalNs, semantic: 'ST_DURATION_NS', at: start });
  }

  /**
   * Runs the script. With `call`, Pixie's function-based run: the top level runs (defining
   * functions and constants), every `px.display` is ignored, and the outputs are what the
   * called function returns: one DataFrame named after the function, or several named
   * `name[0]`, `name[1]` …
   */
  run(module: Module, call?: FunctionCall): { outputs: Displayed[]; stream: boolean } {
    this.calling = call !== undefined;
    const r = this.block(module.body, this.globals);
    if (r) throw new PxlError(PxlCode.syntax, "'return' outside a function", r.value.at);
    if (call) this.callFunction(call);
    return { outputs: this.outputs, stream: this.streamed };
  }

  private callFunction(call: FunctionCall): void {
    const fn = this.globals.get(call.name);
    if (fn?.kind !== 'function') {
      const defined = [...this.globals].filter(([, v]) => v.kind === 'function').map(([k]) => k);
      throw new PxlError(PxlCode.unknownName, fn ? `'${call.name}' is ${describeValue(fn)}, not a function` : `the script defines no function '${call.name}'`, undefined, [
        ...didYouMean(call.name, defined),
        `functions: ${defined.join(', ') || '(none)'}`,
      ]);
    }
    const def = fn.def;
    const kwargs = Object.entries(call.args).map(([name, text]) => {
      const p = def.params.find((x) => x.name === name);
      if (!p) {
        throw new PxlError(PxlCode.arity, `'${def.name}' has no parameter '${name}'`, def.nameSpan, [
          ...didYouMean(name, def.params.map((x) => x.name)),
          `parameters: ${def.params.map((x) => x.name).join(', ') || '(none)'}`,
        ]);
      }
      return { name, nameSpan: p.span, v: argumentValue(def.name, p, paramType(p, fn.defaults.get(name)), text, this.env.fold.nowNs) };
    });
    const result = this.callUser(fn, [], kwargs, def.nameSpan, 'run with the request\'s arguments');
    const frames = result.kind === 'list' ? result.items : [result];
    frames.forEach((f, i) => {
      if (f.kind !== 'frame') {
        throw new PxlError(PxlCode.type, `'${def.name}' returns ${describeValue(result)}, but a function run with arguments must return a DataFrame or a tuple of DataFrames`, def.nameSpan, [
          "end it with 'return df'",
        ]);
      }
      this.output(result.kind === 'list' ? `${call.name}[${i}]` : call.name, f.frame.plan, def.nameSpan);
    });
  }

  // --- statements ---

  private block(body: readonly Stmt[], scope: Scope): Returned | undefined {
    for (const s of body) {
      const r = this.statement(s, scope);
      if (r) return r;
    }
    return undefined;
  }

  /** Counts one statement or expression run, against LIMITS.steps and LIMITS.compileMs. */
  private step(at: Span): void {
    if (++this.steps > LIMITS.steps) {
      throw limitError(`the script runs more than ${LIMITS.steps} statements and expressions at compile time`, at, [
        "each call of a function runs its body again; call it less often and reuse the result",
      ]);
    }
    if ((this.steps & 255) === 0 && performance.now() > this.env.startedMs + this.env.compileMs) {
      throw limitError(`compiling the script took longer than ${this.env.compileMs} ms`, at, ['simplify the script, or split it into several queries']);
    }
  }

  private statement(s: Stmt, scope: Scope): Returned | undefined {
    this.step(s.span);
    switch (s.kind) {
      case 'import':
        scope.set('px', { kind: 'module', at: s.span });
        return undefined;
      case 'pass':
        return undefined;
      case 'expr':
        // A bare string is a docstring: prose, never expanded, so a '$' in it cannot fail.
        if (s.value.kind !== 'str') this.expr(s.value, scope);
        return undefined;
      case 'assign':
        this.assign(s.target, this.expr(s.value, scope), scope);
        return undefined;
      case 'def': {
        const defaults = new Map<string, Value>();
        for (const p of s.params) if (p.default) defaults.set(p.name, this.expr(p.default, scope));
        scope.set(s.name, { kind: 'function', def: s, defaults, at: s.nameSpan });
        return undefined;
      }
      case 'return':
        if (scope === this.globals) throw new PxlError(PxlCode.syntax, "'return' outside a function", s.span);
        return { value: s.value ? this.expr(s.value, scope) : { kind: 'none', at: s.span } };
    }
  }

  private assign(target: Ast, value: Value, scope: Scope): void {
    if (target.kind === 'name') {
      if (target.id === 'px') throw new PxlError(PxlCode.unsupported, "'px' cannot be reassigned", target.span);
      scope.set(target.id, { ...value });
      return;
    }
    if (target.kind !== 'attribute' && target.kind !== 'subscript') {
      throw new PxlError(PxlCode.syntax, 'cannot assign to this expression', target.span);
    }
    const obj = this.expr(target.value, scope);
    let name: string;
    let nameAt: Span;
    if (target.kind === 'attribute') {
      name = target.attr;
      nameAt = target.attrSpan;
    } else {
      const key = this.expr(target.index, scope);
      if (!isText(key)) {
        throw new PxlError(PxlCode.type, `a column name must be a string, got ${describeValue(key)}`, target.index.span);
      }
      name = textOf(key);
      nameAt = target.index.span;
    }
    if (obj.kind !== 'frame') {
      throw new PxlError(PxlCode.type, `only DataFrame columns can be assigned, not attributes of ${describeValue(obj)}`, target.span);
    }
    if (name === 'ctx') throw new PxlError(PxlCode.value, "'ctx' is reserved for metadata (df.ctx['pod'])", nameAt);
    if (value.kind === 'list') {
      throw new PxlError(PxlCode.type, 'a column cannot be assigned a list', value.at, ['assign a column expression or a constant']);
    }
    const expr = toExpr(value, `the value assigned to column '${name}'`);
    obj.frame.plan = withColumn(obj.frame.plan, name, expr, value.at);
  }

  // --- expressions ---

  private expr(e: Ast, scope: Scope): Value {
    this.step(e.span);
    if (++this.depth > LIMITS.nesting) {
      throw limitError(`expression nested deeper than ${LIMITS.nesting} levels`, e.span, ['split it into named steps']);
    }
    try {
      const v = this.evaluate(e, scope);
      // Every column value a script builds passes here, so none grows past the bound unseen.
      if (v.kind === 'column') checkExpr(v.expr, e.span);
      return v;
    } finally {
      this.depth--;
    }
  }

  private evaluate(e: Ast, scope: Scope): Value {
    const at = e.span;
    switch (e.kind) {
      case 'name':
        return this.lookup(e.id, at, scope);
      case 'int':
        if (e.value > (1n << 63n) - 1n) throw new PxlError(PxlCode.value, 'integer literal does not fit in INT64', at);
        return { kind: 'const', type: 'INT64', value: e.value, at };
      case 'float':
        return { kind: 'const', type: 'FLOAT64', value: e.value, at };
      case 'bool':
        return { kind: 'const', type: 'BOOLEAN', value: e.value, at };
      case 'none':
        return { kind: 'none', at };
      case 'str':
        return {
          kind: 'const',
          type: 'STRING',
          value: e.parts.map((p) => ('ref' in p ? macroText(p.ref, this.env.macros) : p.text)).join(''),
          at,
        };
      case 'macro':
        return { ...macroValue(e.ref, this.env.macros), at };
      case 'list':
      case 'tuple': {
        const items: Value[] = [];
        let allColumns = false;
        for (const i of e.items) {
          const v = this.expr(i, scope);
          if (v.kind === 'list' && v.spread) {
            items.push(...v.items);
            allColumns ||= v.allColumns === true;
          } else items.push(v);
        }
        return { kind: 'list', tuple: e.kind === 'tuple', items, ...(allColumns ? { allColumns: true as const } : {}), at };
      }
      case 'dict':
        throw new PxlError(PxlCode.unsupported, 'dict literals are not supported in PxL', at, [
          "pass keyword arguments instead, e.g. agg(n=('latency', px.count))",
        ]);
      case 'binary': {
        const name = { '+': 'add', '-': 'subtract', '*': 'multiply', '/': 'divide', '%': 'modulo', '//': 'floorDivide' }[e.op];
        return { ...applyNamed(name, [this.expr(e.left, scope), this.expr(e.right, scope)], e.opSpan, this.env.fold), at };
      }
      case 'compare': {
        const name = { '==': 'equal', '!=': 'notEqual', '<': 'lessThan', '<=': 'lessThanEqual', '>': 'greaterThan', '>=': 'greaterThanEqual' }[e.op];
        return { ...applyNamed(name, [this.expr(e.left, scope), this.expr(e.right, scope)], e.opSpan, this.env.fold), at };
      }
      case 'unary': {
        const v = this.expr(e.operand, scope);
        if (e.op === 'not') {
          if (v.kind === 'const') return { kind: 'const', type: 'BOOLEAN', value: !truthy(v), at };
          return { ...applyNamed('logicalNot', [v], at, this.env.fold), at };
        }
        if (e.op === '+') {
          if ((v.kind === 'const' && (v.type === 'INT64' || v.type === 'FLOAT64')) || (v.kind === 'column' && (v.expr.type === 'INT64' || v.expr.type === 'FLOAT64'))) {
            return { ...v, at };
          }
          throw new PxlError(PxlCode.type, `unary '+' needs a number, got ${describeValue(v)}`, at);
        }
        return { ...applyNamed('negate', [v], at, this.env.fold), at };
      }
      case 'bool_op':
        return this.boolOp(e, scope);
      case 'call':
        return this.call(e, scope);
      case 'attribute':
        return this.attribute(e, scope);
      case 'subscript':
        return this.subscript(e, scope);
    }
  }

  /** `and`/`or` keep Python's meaning on constants and fold flags such as `cond and enabled`. */
  private boolOp(e: Ast & { kind: 'bool_op' }, scope: Scope): Value {
    const at = e.span;
    const left = this.expr(e.left, scope);
    const isAnd = e.op === 'and';
    if (left.kind === 'const') {
      if (truthy(left) !== isAnd) return { ...left, at };
      return { ...this.expr(e.right, scope), at };
    }
    const right = this.expr(e.right, scope);
    if (right.kind === 'const') {
      requireBoolean(left, e.op);
      if (truthy(right) === isAnd) return { ...left, at };
      return { kind: 'const', type: 'BOOLEAN', value: !isAnd, at };
    }
    return { ...applyNamed(isAnd ? 'logicalAnd' : 'logicalOr', [left, right], e.opSpan, this.env.fold), at };
  }

  private lookup(id: string, at: Span, scope: Scope): Value {
    const v = scope.get(id) ?? this.globals.get(id);
    if (v) return { ...v, at } as Value;
    if (id === 'px') throw new PxlError(PxlCode.unknownName, "name 'px' is not defined", at, ["add 'import px' at the top of the script"]);
    if (PYTHON_BUILTINS.has(id)) {
      throw new PxlError(PxlCode.unsupported, `the Python built-in '${id}' is not available in PxL`, at, ['use px.* functions and DataFrame operations']);
    }
    const known = new Set([...scope.keys(), ...this.globals.keys()]);
    throw new PxlError(PxlCode.unknownName, `name '${id}' is not defined`, at, didYouMean(id, known));
  }

  private attribute(e: Ast & { kind: 'attribute' }, scope: Scope): Value {
    const obj = this.expr(e.value, scope);
    const at = e.span;
    if (obj.kind === 'module') {
      if (e.attr === 'DataFrame' || e.attr === 'display') return { kind: 'special', name: e.attr, at };
      const entry = pxFunction(e.attr);
      if (entry) return { kind: 'builtin', entry, at };
      throw new PxlError(PxlCode.unknownFunction, `px has no function '${e.attr}'`, e.attrSpan, [
        ...didYouMean(e.attr, [...pxFunctionNames(), 'DataFrame', 'display']),
      ]);
    }
    if (obj.kind === 'frame') return frameAttribute(obj, e.attr, e.attrSpan, at);
    if (obj.kind === 'groupby' && e.attr === 'agg') return { kind: 'method', self: obj, name: 'agg', at };
    throw new PxlError(PxlCode.type, `${describeValue(obj)} has no attribute '${e.attr}'`, e.attrSpan);
  }

  private subscript(e: Ast & { kind: 'subscript' }, scope: Scope): Value {
    const obj = this.expr(e.value, scope);
    const index = this.expr(e.index, scope);
    if (obj.kind === 'frame') return frameSubscript(obj, index, e.span);
    if (obj.kind === 'ctx') return ctxColumn(obj, index, e.span, this.env);
    throw new PxlError(PxlCode.type, `${describeValue(obj)} cannot be indexed`, e.span, ["index DataFrames: df['column'], df[condition], df[['a', 'b']]"]);
  }

  private call(e: Ast & { kind: 'call' }, scope: Scope): Value {
    const fn = this.expr(e.func, scope);
    if (fn.kind === 'builtin' && fn.entry.params) return this.callWithParams(fn.entry, e, scope);
    const args = e.args.map((a) => this.expr(a, scope));
    const kwargs = e.keywords.map((k) => ({ ...k, v: this.expr(k.value, scope) }));
    const at = e.span;
    switch (fn.kind) {
      case 'builtin': {
        if (fn.entry.kind === 'aggregate') {
          throw new PxlError(PxlCode.type, `${fn.entry.spelling} is an aggregate; use it inside agg()`, at, [`e.g. df.groupby('service').agg(${fn.entry.example})`]);
        }
        if (kwargs.length > 0) {
          throw new PxlError(PxlCode.arity, `${fn.entry.spelling} takes no keyword arguments`, kwargs[0]!.nameSpan, [`e.g. ${fn.entry.example}`]);
        }
        return { ...apply(fn.entry, args, at, this.env.fold), at };
      }
      case 'special':
        if (fn.name === 'DataFrame') return makeDataFrame(bindArgs('px.DataFrame', ['table', 'select', 'start_time', 'end_time'], 1, args, kwargs, at), this.env, at);
        return this.display(bindArgs('px.display', ['df', 'name'], 1, args, kwargs, at), at);
      case 'function':
        return this.callUser(fn, args, kwargs, at);
      case 'method':
        if (fn.name === 'stream') this.streamed = true;
        return callFrameMethod(fn, args, kwargs, at);
      default:
        throw new PxlError(PxlCode.type, `${describeValue(fn)} cannot be called`, e.func.span);
    }
  }

  /**
   * A function Pixie lets scripts call with keyword arguments, one of which may be a dict
   * literal (px.script_reference(label, script, args={'pod': df.pod})): the dict's keys and
   * values go on as alternating arguments.
   */
  private callWithParams(entry: FunctionEntry, e: Ast & { kind: 'call' }, scope: Scope): Value {
    const params = entry.params!;
    const lazy = (a: Ast): { at: Span; ast: Ast } => ({ at: a.span, ast: a });
    const bound = bindArgs(
      entry.spelling,
      params,
      params.filter((p) => p !== entry.dictParam).length,
      e.args.map(lazy),
      e.keywords.map((k) => ({ ...k, v: lazy(k.value) })),
      e.span,
    );
    const values: Value[] = [];
    for (const p of params) {
      const a = bound.get(p);
      if (!a) continue;
      if (p === entry.dictParam) values.push(...this.dictPairs(entry, p, a.ast, scope));
      else values.push(this.expr(a.ast, scope));
    }
    return { ...apply(entry, values, e.span, this.env.fold), at: e.span };
  }

  /** A dict literal's keys (constant strings) and values (strings: constants or columns), alternating. */
  private dictPairs(entry: FunctionEntry, param: string, ast: Ast, scope: Scope): Value[] {
    const example = `e.g. ${entry.example}`;
    if (ast.kind !== 'dict') {
      throw new PxlError(PxlCode.type, `${param} of ${entry.spelling} must be a dict literal {'name': value, ...}`, ast.span, [example]);
    }
    const out: Value[] = [];
    ast.keys.forEach((k, i) => {
      const key = this.expr(k, scope);
      if (key.kind !== 'const' || key.type !== 'STRING') {
        throw new PxlError(PxlCode.type, `the keys of ${param} must be strings, got ${describeValue(key)}`, k.span, [example]);
      }
      const value = this.expr(ast.values[i]!, scope);
      const type = value.kind === 'const' ? value.type : value.kind === 'column' ? value.expr.type : undefined;
      if (type !== 'STRING') {
        throw new PxlError(PxlCode.type, `the values of ${param} must be strings (a constant or a column), got ${describeValue(value)}`, value.at, [example]);
      }
      out.push(key, value);
    });
    return out;
  }

  private display(a: Map<string, Value>, at: Span): Value {
    const df = a.get('df')!;
    if (df.kind !== 'frame') throw new PxlError(PxlCode.type, `px.display needs a DataFrame, got ${describeValue(df)}`, df.at);
    if (this.calling) return { kind: 'none', at };
    const nameV = a.get('name');
    let name = 'output';
    if (nameV && nameV.kind !== 'none') {
      if (nameV.kind !== 'const' || nameV.type !== 'STRING' || nameV.value === '') {
        throw new PxlError(PxlCode.type, `the output name must be a non-empty string, got ${describeValue(nameV)}`, nameV.at);
      }
      name = String(nameV.value);
    }
    if (this.outputs.some((o) => o.name === name)) {
      throw new PxlError(PxlCode.value, `output '${name}' is displayed twice`, nameV?.at ?? at, ["give each px.display a distinct name: px.display(df, 'name')"]);
    }
    this.output(name, df.frame.plan, at);
    return { kind: 'none', at };
  }

  private output(name: string, plan: LogicalPlan, at: Span): void {
    this.displayed += planSize(plan);
    if (this.displayed > LIMITS.planSize) throw planSizeError(at);
    this.outputs.push({ name, plan });
  }

  /** Inlines a call of a `def`; `caller` says where it was called from in the hint of an error inside. */
  private callUser(fn: Value & { kind: 'function' }, args: Value[], kwargs: readonly KeywordValue[], at: Span, caller = `called at ${at.start.line}:${at.start.column}`): Value {
    const def = fn.def;
    if (this.stack.some((f) => f.def === def)) {
      throw new PxlError(PxlCode.unsupported, `recursive call to '${def.name}'`, at, ['PxL inlines functions at compile time, so they cannot call themselves']);
    }
    if (++this.calls > LIMITS.calls) throw limitError(`more than ${LIMITS.calls} function calls`, at, ['each call inlines the function body; call it once and reuse its result']);
    if (this.stack.length >= LIMITS.callDepth) throw limitError(`functions nested more than ${LIMITS.callDepth} calls deep`, at, []);
    const names = def.params.map((p) => p.name);
    const required = def.params.filter((p) => !p.default).length;
    const bound = bindArgs(`'${def.name}'`, names, required, args, kwargs, at);
    const locals: Scope = new Map();
    for (const p of def.params) locals.set(p.name, bound.get(p.name) ?? fn.defaults.get(p.name)!);
    this.stack.push({ def, at });
    try {
      const r = this.block(def.body, locals);
      return r ? { ...r.value, at } : { kind: 'none', at };
    } catch (err) {
      if (err instanceof PxlError && !err.diagnostic.hints.some((h) => h.startsWith('in '))) {
        const d = err.diagnostic;
        const where = `in '${def.name}', ${caller}`;
        throw new PxlError(d.code, d.message, d.span, [...d.hints, where]);
      }
      throw err;
    } finally {
      this.stack.pop();
    }
  }
}

function requireBoolean(v: Value, op: string): void {
  if (v.kind === 'column' && v.expr.type !== 'BOOLEAN') {
    throw new PxlError(PxlCode.type, `'${op}' needs BOOLEAN conditions, got a ${v.expr.type} column`, v.at, ['compare the column first, e.g. df.x != 0']);
  }
  if (v.kind !== 'column' && v.kind !== 'const') {
    throw new PxlError(PxlCode.type, `'${op}' needs conditions, got ${describeValue(v)}`, v.at);
  }
}
