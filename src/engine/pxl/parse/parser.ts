import { PxlCode, PxlError, type Diagnostic, type Span } from '../diagnostic.js';
import type { BinaryOp, CompareOp, Expr, Keyword, Module, Param, Stmt } from './ast.js';
import { tokenize } from './lexer.js';
import { KEYWORDS, type StringPart, type Token } from './token.js';

/** Deeper nesting than this is not a script anyone writes; refusing it keeps the stack safe. */
const MAX_DEPTH = 100;

/** Statements PxL has no use for, with what to write instead. */
const UNSUPPORTED_STATEMENTS: Record<string, string> = {
  if: 'use px.select(condition, a, b) for a per-row choice, or a filter df[condition]',
  elif: 'use px.select(condition, a, b) for a per-row choice',
  else: 'use px.select(condition, a, b) for a per-row choice',
  for: 'DataFrame operations apply to every row; use groupby/agg instead of loops',
  while: 'DataFrame operations apply to every row; use groupby/agg instead of loops',
  class: 'define functions with def',
  with: 'PxL has no context managers',
  try: 'PxL has no exceptions; a script that fails to compile reports its error',
  except: 'PxL has no exceptions',
  finally: 'PxL has no exceptions',
  raise: 'PxL has no exceptions',
  assert: 'filter rows with df[condition]',
  global: 'assign module-level constants at the top of the script',
  nonlocal: 'pass values as function arguments',
  del: "use df.drop('column') to remove a column",
  lambda: 'define a function with def',
  yield: 'return a DataFrame from the function',
  async: 'PxL scripts are not asynchronous',
  await: 'PxL scripts are not asynchronous',
  break: 'PxL has no loops',
  continue: 'PxL has no loops',
  from: "write 'import px' and call px.<function>",
};

/** Parses PxL text into a syntax tree; throws PxlError (PXL_SYNTAX, PXL_UNSUPPORTED) with a span. */
export function parse(source: string): Module {
  return new Parser(tokenize(source)).module();
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'newline':
      return 'end of line';
    case 'eof':
      return 'end of script';
    case 'indent':
      return 'an indented block';
    case 'dedent':
      return 'end of block';
    case 'string':
      return 'a string';
    case 'int':
    case 'float':
      return `number ${t.text}`;
    case 'macro':
      return `'${t.text}'`;
    default:
      return `'${t.text}'`;
  }
}

const join = (a: Span, b: Span): Span => ({ start: a.start, end: b.end });

class Parser {
  private i = 0;
  private depth = 0;
  private readonly warnings: Diagnostic[] = [];

  constructor(private readonly toks: Token[]) {}

  private get t(): Token {
    return this.toks[this.i]!;
  }

  private peek(n = 1): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }

  private isOp(text: string, t: Token = this.t): boolean {
    return t.kind === 'op' && t.text === text;
  }

  private isWord(text: string, t: Token = this.t): boolean {
    return t.kind === 'name' && t.text === text;
  }

  private at(kind: Token['kind']): boolean {
    return this.t.kind === kind;
  }

  private take(): Token {
    const t = this.t;
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private fail(message: string, at: Span = this.t.span, hints: string[] = []): never {
    throw new PxlError(PxlCode.syntax, message, at, hints);
  }

  private unsupported(what: string, at: Span, hint: string): never {
    throw new PxlError(PxlCode.unsupported, `${what} is not supported in PxL`, at, [hint]);
  }

  private expectOp(text: string, context: string): Token {
    if (!this.isOp(text)) this.fail(`expected '${text}' ${context}, found ${describe(this.t)}`);
    return this.take();
  }

  private expectName(context: string): Token & { kind: 'name' } {
    const t = this.t;
    if (t.kind !== 'name' || KEYWORDS.has(t.text)) this.fail(`expected a name ${context}, found ${describe(t)}`);
    this.take();
    return t;
  }

  private enter(at: Span): void {
    if (++this.depth > MAX_DEPTH) {
      throw new PxlError(PxlCode.limit, `expression nested deeper than ${MAX_DEPTH} levels`, at, ['split it into named steps']);
    }
  }

  module(): Module {
    const body: Stmt[] = [];
    while (this.t.kind !== 'eof') {
      if (this.t.kind === 'newline') {
        this.take();
        continue;
      }
      if (this.t.kind === 'indent') this.fail('unexpected indentation', this.t.span);
      body.push(...this.statement());
    }
    return { body, warnings: this.warnings };
  }

  private statement(): Stmt[] {
    if (this.isWord('def')) return [this.def()];
    const stmts = [this.small()];
    while (this.isOp(';')) {
      this.take();
      if (this.t.kind === 'newline' || this.t.kind === 'eof') break;
      stmts.push(this.small());
    }
    if (this.t.kind !== 'newline' && this.t.kind !== 'eof' && this.t.kind !== 'dedent') {
      this.fail(`expected end of line, found ${describe(this.t)}`, this.t.span, this.endOfLineHints());
    }
    if (this.t.kind === 'newline') this.take();
    return stmts;
  }

  private endOfLineHints(): string[] {
    if (this.t.kind === 'name' || this.t.kind === 'string' || this.t.kind === 'int' || this.t.kind === 'float') {
      return ['is an operator or a comma missing before it?'];
    }
    return [];
  }

  private small(): Stmt {
    const t = this.t;
    if (t.kind === 'name') {
      if (t.text === 'import') return this.importStmt();
      if (t.text === 'pass') return { kind: 'pass', span: this.take().span };
      if (t.text === 'return') {
        this.take();
        if (this.t.kind === 'newline' || this.t.kind === 'eof' || this.isOp(';') || this.t.kind === 'dedent') {
          return { kind: 'return', span: t.span };
        }
        const value = this.exprList();
        return { kind: 'return', value, span: join(t.span, value.span) };
      }
      const hint = UNSUPPORTED_STATEMENTS[t.text];
      if (hint !== undefined) this.unsupported(`'${t.text}'`, t.span, hint);
    }
    const first = this.exprList();
    if (this.isOp('=')) {
      this.take();
      this.checkTarget(first);
      const value = this.exprList();
      if (this.isOp('=')) this.unsupported('chained assignment', this.t.span, 'assign one name per statement');
      return { kind: 'assign', target: first, value, span: join(first.span, value.span) };
    }
    if (this.t.kind === 'op' && /^(\+|-|\*|\/|%|\/\/)=$/.test(this.t.text)) {
      const opTok = this.take();
      this.checkTarget(first);
      const right = this.exprList();
      const op = opTok.text.slice(0, -1) as BinaryOp;
      const value: Expr = { kind: 'binary', op, left: first, right, opSpan: opTok.span, span: join(first.span, right.span) };
      return { kind: 'assign', target: first, value, span: value.span };
    }
    if (this.isOp(':') && first.kind === 'name') {
      this.unsupported('an annotated assignment', this.t.span, `write '${first.id} = value'`);
    }
    return { kind: 'expr', value: first, span: first.span };
  }

  private checkTarget(e: Expr): void {
    if (e.kind === 'name' || e.kind === 'attribute' || e.kind === 'subscript') return;
    if (e.kind === 'tuple' || e.kind === 'list') {
      this.unsupported('unpacking assignment', e.span, 'assign one name per statement');
    }
    this.fail('cannot assign to this expression', e.span, ['assign to a name, df.column or df[\'column\']']);
  }

  private importStmt(): Stmt {
    const kw = this.take();
    const name = this.expectName("after 'import'");
    let module = name.text;
    let end = name.span;
    while (this.isOp('.')) {
      this.take();
      const part = this.expectName("after '.'");
      module += '.' + part.text;
      end = part.span;
    }
    const span = join(name.span, end);
    if (module !== 'px') {
      throw new PxlError(PxlCode.unsupported, `module '${module}' is not available in PxL here`, span, [
        module === 'pxviews' || module === 'pxtrace'
          ? `'${module}' is not supported; build the view from px.DataFrame(table='http_events') with groupby/agg`
          : "only 'import px' is available",
      ]);
    }
    if (this.isWord('as')) this.unsupported("'import px as ...'", this.t.span, "write 'import px'");
    if (this.isOp(',')) this.unsupported('importing several modules in one statement', this.t.span, "write 'import px' on its own line");
    return { kind: 'import', module, span: join(kw.span, end) };
  }

  private def(): Stmt {
    const kw = this.take();
    const name = this.expectName("after 'def'");
    this.expectOp('(', 'after the function name');
    const params: Param[] = [];
    const seen = new Set<string>();
    while (!this.isOp(')')) {
      if (this.isOp('*') || this.isOp('**')) {
        this.unsupported('variadic parameters', this.t.span, 'list every parameter by name');
      }
      const p = this.expectName('for a parameter');
      if (seen.has(p.text)) this.fail(`duplicate parameter '${p.text}'`, p.span);
      seen.add(p.text);
      let annotation: Expr | undefined;
      let dflt: Expr | undefined;
      if (this.isOp(':')) {
        this.take();
        annotation = this.expr();
      }
      if (this.isOp('=')) {
        this.take();
        dflt = this.expr();
      } else if (params.some((q) => q.default)) {
        this.fail(`parameter '${p.text}' without a default follows one with a default`, p.span);
      }
      params.push({ name: p.text, span: p.span, default: dflt, annotation });
      if (!this.isOp(',')) break;
      this.take();
    }
    this.expectOp(')', 'to close the parameter list');
    if (this.isOp('->')) {
      this.take();
      this.expr();
    }
    this.expectOp(':', 'after the function signature');
    const body = this.block();
    const last = body[body.length - 1]!;
    return { kind: 'def', name: name.text, nameSpan: name.span, params, body, span: join(kw.span, last.span) };
  }

  private block(): Stmt[] {
    if (!this.at('newline')) {
      const stmts = [this.small()];
      while (this.isOp(';')) {
        this.take();
        if (this.at('newline') || this.at('eof')) break;
        stmts.push(this.small());
      }
      if (this.at('newline')) this.take();
      return stmts;
    }
    this.take();
    if (!this.at('indent')) this.fail(`expected an indented block, found ${describe(this.t)}`);
    this.take();
    const body: Stmt[] = [];
    while (!this.at('dedent') && !this.at('eof')) {
      if (this.at('newline')) {
        this.take();
        continue;
      }
      if (this.at('indent')) this.fail('unexpected indentation', this.t.span);
      body.push(...this.statement());
    }
    if (this.at('dedent')) this.take();
    return body;
  }

  /** Expressions separated by commas: one stays itself, several become a tuple. */
  private exprList(): Expr {
    const first = this.expr();
    if (!this.isOp(',')) return first;
    const items = [first];
    let end = first.span;
    while (this.isOp(',')) {
      end = this.take().span;
      if (!this.startsExpr()) break;
      const e = this.expr();
      items.push(e);
      end = e.span;
    }
    return { kind: 'tuple', items, span: join(first.span, end) };
  }

  private startsExpr(): boolean {
    const t = this.t;
    if (t.kind === 'name') return !KEYWORDS.has(t.text) || ['not', 'True', 'False', 'None', 'lambda'].includes(t.text);
    if (t.kind === 'op') return ['(', '[', '{', '-', '+', '~'].includes(t.text);
    return t.kind === 'int' || t.kind === 'float' || t.kind === 'string' || t.kind === 'macro';
  }

  private expr(): Expr {
    if (this.isWord('lambda')) this.unsupported("'lambda'", this.t.span, UNSUPPORTED_STATEMENTS.lambda!);
    const e = this.orTest();
    if (this.isWord('if')) {
      this.unsupported('a conditional expression', this.t.span, 'use px.select(condition, a, b)');
    }
    return e;
  }

  private orTest(): Expr {
    let left = this.andTest();
    while (this.isWord('or')) {
      const op = this.take();
      const right = this.andTest();
      left = { kind: 'bool_op', op: 'or', left, right, opSpan: op.span, span: join(left.span, right.span) };
    }
    return left;
  }

  private andTest(): Expr {
    let left = this.notTest();
    while (this.isWord('and')) {
      const op = this.take();
      const right = this.notTest();
      left = { kind: 'bool_op', op: 'and', left, right, opSpan: op.span, span: join(left.span, right.span) };
    }
    return left;
  }

  private notTest(): Expr {
    if (this.isWord('not')) {
      const op = this.take();
      this.enter(op.span);
      const operand = this.notTest();
      this.depth--;
      return { kind: 'unary', op: 'not', operand, span: join(op.span, operand.span) };
    }
    return this.comparison();
  }

  private compareOp(): CompareOp | undefined {
    const t = this.t;
    if (t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text)) return t.text as CompareOp;
    return undefined;
  }

  private comparison(): Expr {
    const left = this.bitwise();
    this.rejectMembership();
    const op = this.compareOp();
    if (!op) return left;
    const opTok = this.take();
    const right = this.bitwise();
    this.rejectMembership();
    if (this.compareOp()) {
      this.unsupported('a chained comparison', this.t.span, "split it with 'and': a < b and b < c");
    }
    return { kind: 'compare', op, left, right, opSpan: opTok.span, span: join(left.span, right.span) };
  }

  private rejectMembership(): void {
    const t = this.t;
    if (this.isWord('in') || (this.isWord('not') && this.isWord('in', this.peek()))) {
      this.unsupported("'in'", t.span, "compare with '==' (a multi-value variable on the right means any of its values) or use px.contains");
    }
    if (this.isWord('is')) this.unsupported("'is'", t.span, "compare with '==' or '!='");
  }

  private bitwise(): Expr {
    const e = this.arith();
    const t = this.t;
    if (t.kind === 'op' && ['&', '|', '^', '<<', '>>'].includes(t.text)) {
      this.unsupported(`the operator '${t.text}'`, t.span, t.text === '&' || t.text === '|' ? "combine conditions with 'and' / 'or'" : 'PxL has no bitwise operators');
    }
    return e;
  }

  private arith(): Expr {
    let left = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.take();
      const right = this.term();
      left = { kind: 'binary', op: op.text as BinaryOp, left, right, opSpan: op.span, span: join(left.span, right.span) };
    }
    return left;
  }

  private term(): Expr {
    let left = this.factor();
    for (;;) {
      const t = this.t;
      if (t.kind !== 'op') return left;
      if (t.text === '@') this.unsupported("the operator '@'", t.span, 'PxL has no matrix operator');
      if (!['*', '/', '%', '//'].includes(t.text)) return left;
      this.take();
      const right = this.factor();
      left = { kind: 'binary', op: t.text as BinaryOp, left, right, opSpan: t.span, span: join(left.span, right.span) };
    }
  }

  private factor(): Expr {
    const t = this.t;
    if (this.isOp('-') || this.isOp('+')) {
      this.take();
      this.enter(t.span);
      const operand = this.factor();
      this.depth--;
      return { kind: 'unary', op: t.text as '-' | '+', operand, span: join(t.span, operand.span) };
    }
    if (this.isOp('~')) this.unsupported("the operator '~'", t.span, "negate conditions with 'not'");
    const e = this.primary();
    if (this.isOp('**')) this.unsupported("the operator '**'", this.t.span, 'write the multiplication out, e.g. 1000 * 1000');
    return e;
  }

  private primary(): Expr {
    let e = this.atom();
    for (;;) {
      if (this.isOp('(')) {
        e = this.call(e);
      } else if (this.isOp('[')) {
        const open = this.take();
        this.enter(open.span);
        if (this.isOp(']')) this.fail('expected an index inside [], found \']\'');
        if (this.isOp(':')) this.unsupported('slicing', this.t.span, 'use df.head(n) to keep the first rows');
        const index = this.exprList();
        if (this.isOp(':')) this.unsupported('slicing', this.t.span, 'use df.head(n) to keep the first rows');
        const close = this.expectOp(']', 'to close the subscript');
        this.depth--;
        e = { kind: 'subscript', value: e, index, span: join(e.span, close.span) };
      } else if (this.isOp('.')) {
        this.take();
        const t = this.t;
        if (t.kind !== 'name') this.fail(`expected an attribute name after '.', found ${describe(t)}`);
        this.take();
        e = { kind: 'attribute', value: e, attr: t.text, attrSpan: t.span, span: join(e.span, t.span) };
      } else {
        return e;
      }
    }
  }

  private call(func: Expr): Expr {
    const open = this.take();
    this.enter(open.span);
    const args: Expr[] = [];
    const keywords: Keyword[] = [];
    while (!this.isOp(')')) {
      if (this.isOp('*') || this.isOp('**')) {
        this.unsupported('argument unpacking', this.t.span, 'pass each argument explicitly');
      }
      if (this.t.kind === 'name' && this.isOp('=', this.peek())) {
        const name = this.take();
        if (KEYWORDS.has(name.text)) this.fail(`'${name.text}' is a keyword, not an argument name`, name.span);
        this.take();
        if (keywords.some((k) => k.name === name.text)) this.fail(`keyword argument '${name.text}' repeated`, name.span);
        keywords.push({ name: name.text, nameSpan: name.span, value: this.expr() });
      } else {
        const a = this.expr();
        if (keywords.length > 0) this.fail('positional argument follows keyword argument', a.span, ['put positional arguments first']);
        if (this.isWord('for')) this.unsupported('a generator expression', this.t.span, 'use DataFrame operations instead');
        args.push(a);
      }
      if (!this.isOp(',')) {
        if (keywords.length > 0 && this.t.kind === 'name' && this.isOp('=', this.peek())) {
          this.missingComma(keywords[keywords.length - 1]!, this.t);
          continue;
        }
        break;
      }
      this.take();
    }
    const close = this.expectOp(')', 'to close the argument list');
    this.depth--;
    return { kind: 'call', func, args, keywords, span: join(func.span, close.span) };
  }

  /**
   * Pixie's parser takes keyword arguments of one call without the comma between them, and
   * some of its shipped scripts rely on it (`agg(a=(...)` newline `b=(...))`): accepted, with
   * a PXL_LENIENT warning on the keyword that lacks the comma before it.
   */
  private missingComma(previous: Keyword, next: Token): void {
    this.warnings.push({
      severity: 'warning',
      code: PxlCode.lenient,
      message: `missing ',' between keyword arguments '${previous.name}' and '${next.text}'`,
      span: next.span,
      hints: [`add ',' after the value of '${previous.name}' (Pixie's parser accepts it without, Python does not)`],
    });
  }

  private atom(): Expr {
    const t = this.t;
    switch (t.kind) {
      case 'int':
        this.take();
        return { kind: 'int', value: t.value, span: t.span };
      case 'float':
        this.take();
        return { kind: 'float', value: t.value, span: t.span };
      case 'macro':
        this.take();
        return { kind: 'macro', ref: t.ref, span: t.span };
      case 'string': {
        this.take();
        const parts: StringPart[] = [...t.parts];
        let end = t.span;
        while (this.t.kind === 'string') {
          const more = this.take() as Token & { kind: 'string' };
          parts.push(...more.parts);
          end = more.span;
        }
        return { kind: 'str', parts, span: join(t.span, end) };
      }
      case 'name': {
        if (t.text === 'True' || t.text === 'False') {
          this.take();
          return { kind: 'bool', value: t.text === 'True', span: t.span };
        }
        if (t.text === 'None') {
          this.take();
          return { kind: 'none', span: t.span };
        }
        if (KEYWORDS.has(t.text)) {
          const hint = UNSUPPORTED_STATEMENTS[t.text];
          if (hint) this.unsupported(`'${t.text}'`, t.span, hint);
          this.fail(`expected an expression, found keyword '${t.text}'`);
        }
        this.take();
        return { kind: 'name', id: t.text, span: t.span };
      }
      case 'op':
        if (t.text === '(') return this.parenthesized();
        if (t.text === '[') return this.list();
        if (t.text === '{') return this.dict();
        break;
      default:
        break;
    }
    this.fail(`expected an expression, found ${describe(t)}`);
  }

  private parenthesized(): Expr {
    const open = this.take();
    this.enter(open.span);
    if (this.isOp(')')) {
      const close = this.take();
      this.depth--;
      return { kind: 'tuple', items: [], span: join(open.span, close.span) };
    }
    const first = this.expr();
    if (this.isWord('for')) this.unsupported('a generator expression', this.t.span, 'use DataFrame operations instead');
    let e: Expr = first;
    if (this.isOp(',')) {
      const items = [first];
      while (this.isOp(',')) {
        this.take();
        if (this.isOp(')')) break;
        items.push(this.expr());
      }
      e = { kind: 'tuple', items, span: first.span };
    }
    const close = this.expectOp(')', 'to close the parenthesis');
    this.depth--;
    const span = join(open.span, close.span);
    return e.kind === 'tuple' ? { ...e, span } : withSpan(e, span);
  }

  private list(): Expr {
    const open = this.take();
    this.enter(open.span);
    const items: Expr[] = [];
    while (!this.isOp(']')) {
      items.push(this.expr());
      if (this.isWord('for')) this.unsupported('a list comprehension', this.t.span, 'write the list out');
      if (!this.isOp(',')) break;
      this.take();
    }
    const close = this.expectOp(']', 'to close the list');
    this.depth--;
    return { kind: 'list', items, span: join(open.span, close.span) };
  }

  private dict(): Expr {
    const open = this.take();
    this.enter(open.span);
    const keys: Expr[] = [];
    const values: Expr[] = [];
    while (!this.isOp('}')) {
      keys.push(this.expr());
      this.expectOp(':', 'between a dict key and its value');
      values.push(this.expr());
      if (this.isWord('for')) this.unsupported('a dict comprehension', this.t.span, 'write the dict out');
      if (!this.isOp(',')) break;
      this.take();
    }
    const close = this.expectOp('}', 'to close the dict');
    this.depth--;
    return { kind: 'dict', keys, values, span: join(open.span, close.span) };
  }
}

/**
 * Parentheses widen a node's span, so an error about `(a + b)` underlines the parentheses the
 * user wrote; operator positions inside stay as they were.
 */
function withSpan(e: Expr, span: Span): Expr {
  return { ...e, span } as Expr;
}
