import { PxlCode, PxlError, type Position, type Span } from '../diagnostic.js';
import type { MacroRef, StringPart, Token } from './token.js';

/** Operators by length, matched longest first so `//` wins over `/` and `==` over `=`. */
const OPS3 = new Set(['**=', '//=', '>>=', '<<=', '...']);
const OPS2 = new Set(['==', '!=', '<=', '>=', '//', '**', '+=', '-=', '*=', '/=', '%=', '->', '<<', '>>', ':=', '&=', '|=']);
const OPS1 = new Set(['+', '-', '*', '/', '%', '<', '>', '=', '(', ')', '[', ']', '{', '}', ',', ':', '.', ';', '@', '&', '|', '^', '~']);

const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS = new Set([')', ']', '}']);

const isIdStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdChar = (c: string): boolean => isIdStart(c) || (c >= '0' && c <= '9');
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

/**
 * Splits PxL text into tokens, Python style: NEWLINE ends a logical line, INDENT/DEDENT mark
 * blocks, newlines inside brackets and after `\` are joined. `$` references become macro tokens
 * in code and string parts inside literals.
 */
export function tokenize(source: string): Token[] {
  return new Lexer(source).run();
}

class Lexer {
  private pos = 0;
  private line = 1;
  private col = 1;
  private readonly out: Token[] = [];
  private readonly indents: number[] = [0];
  private readonly brackets: { char: string; at: Span }[] = [];
  private atLineStart = true;

  constructor(private readonly src: string) {}

  run(): Token[] {
    while (this.pos < this.src.length) {
      if (this.atLineStart && this.brackets.length === 0) {
        this.indentation();
        if (this.pos >= this.src.length) break;
      }
      this.next();
    }
    if (this.brackets.length > 0) {
      const open = this.brackets[this.brackets.length - 1]!;
      throw new PxlError(PxlCode.syntax, `'${open.char}' is never closed`, open.at, [
        `add '${OPENERS[open.char]}' to close it`,
      ]);
    }
    const here = this.here();
    const last = this.out[this.out.length - 1];
    if (last && last.kind !== 'newline' && last.kind !== 'dedent') this.push('newline', '', here, here);
    while (this.indents.length > 1) {
      this.indents.pop();
      this.push('dedent', '', here, here);
    }
    this.push('eof', '', here, here);
    return this.out;
  }

  private here(): Position {
    return { line: this.line, column: this.col };
  }

  private advance(n = 1): void {
    for (let i = 0; i < n; i++) {
      if (this.src[this.pos] === '\n') {
        this.line++;
        this.col = 1;
      } else {
        this.col++;
      }
      this.pos++;
    }
  }

  private push(kind: 'newline' | 'indent' | 'dedent' | 'eof' | 'op' | 'name', text: string, start: Position, end: Position): void {
    this.out.push({ kind, text, span: { start, end } });
  }

  private error(message: string, start: Position, end?: Position, hints: string[] = []): never {
    throw new PxlError(PxlCode.syntax, message, { start, end: end ?? { line: start.line, column: start.column + 1 } }, hints);
  }

  /** Measures the indentation of a new line; blank and comment-only lines do not count. */
  private indentation(): void {
    let width = 0;
    let p = this.pos;
    for (; p < this.src.length; p++) {
      const c = this.src[p];
      if (c === ' ') width++;
      else if (c === '\t') width = (Math.floor(width / 8) + 1) * 8;
      else if (c === '\f') width = 0;
      else break;
    }
    const c = this.src[p];
    if (p >= this.src.length || c === '\n' || c === '\r' || c === '#') {
      this.advance(p - this.pos);
      return;
    }
    this.advance(p - this.pos);
    this.atLineStart = false;
    const here = this.here();
    const top = this.indents[this.indents.length - 1]!;
    if (width > top) {
      this.indents.push(width);
      this.push('indent', '', { line: here.line, column: 1 }, here);
    } else if (width < top) {
      while (this.indents.length > 1 && width < this.indents[this.indents.length - 1]!) {
        this.indents.pop();
        this.push('dedent', '', here, here);
      }
      if (width !== this.indents[this.indents.length - 1]) {
        this.error('unindent does not match any outer indentation level', { line: here.line, column: 1 }, here);
      }
    }
  }

  private next(): void {
    const c = this.src[this.pos]!;
    const start = this.here();
    if (c === ' ' || c === '\t' || c === '\f') {
      this.advance();
      return;
    }
    if (c === '#') {
      const nl = this.src.indexOf('\n', this.pos);
      const end = nl < 0 ? this.src.length : nl;
      this.col += end - this.pos;
      this.pos = end;
      return;
    }
    if (c === '\r' || c === '\n') {
      this.advance(c === '\r' && this.src[this.pos + 1] === '\n' ? 2 : 1);
      if (this.brackets.length === 0) {
        const last = this.out[this.out.length - 1];
        if (last && last.kind !== 'newline' && last.kind !== 'indent' && last.kind !== 'dedent') {
          this.push('newline', '\n', start, start);
        }
        this.atLineStart = true;
      }
      return;
    }
    if (c === '\\') {
      const n = this.src[this.pos + 1];
      if (n === '\n' || (n === '\r' && this.src[this.pos + 2] === '\n')) {
        this.advance(n === '\n' ? 2 : 3);
        return;
      }
      this.error("unexpected '\\' (a line continuation must end its line)", start);
    }
    if (isDigit(c) || (c === '.' && isDigit(this.src[this.pos + 1] ?? ''))) {
      this.number();
      return;
    }
    if (isIdStart(c)) {
      let p = this.pos;
      while (p < this.src.length && isIdChar(this.src[p]!)) p++;
      const word = this.src.slice(this.pos, p);
      const q = this.src[p];
      if ((q === "'" || q === '"') && /^[rRuUfFbB]{1,2}$/.test(word)) {
        this.string(word.toLowerCase());
        return;
      }
      this.advance(p - this.pos);
      this.push('name', word, start, this.here());
      return;
    }
    if (c === "'" || c === '"') {
      this.string('');
      return;
    }
    if (c === '$') {
      const p0 = this.pos;
      const ref = this.macroRef();
      this.out.push({ kind: 'macro', text: this.src.slice(p0, this.pos), ref, span: ref.span });
      return;
    }
    const op = this.operator(c);
    if (op !== undefined) {
      {
        this.advance(op.length);
        const end = this.here();
        if (OPENERS[op]) this.brackets.push({ char: op, at: { start, end } });
        else if (CLOSERS.has(op)) {
          const open = this.brackets.pop();
          if (!open) this.error(`unmatched '${op}'`, start, end);
          if (OPENERS[open.char] !== op) {
            this.error(`'${op}' does not match '${open.char}' opened at ${open.at.start.line}:${open.at.start.column}`, start, end, [
              `close it with '${OPENERS[open.char]}'`,
            ]);
          }
        }
        this.push('op', op, start, end);
        return;
      }
    }
    this.error(`unexpected character '${c}'`, start);
  }

  private operator(c: string): string | undefined {
    if (OPS1.has(c)) {
      const three = this.src.substr(this.pos, 3);
      if (OPS3.has(three)) return three;
      const two = this.src.substr(this.pos, 2);
      if (OPS2.has(two)) return two;
      return c;
    }
    const two = this.src.substr(this.pos, 2);
    return OPS2.has(two) ? two : undefined;
  }

  private number(): void {
    const start = this.here();
    const rest = this.src.slice(this.pos);
    const hex = /^0[xX][0-9a-fA-F_]+/.exec(rest);
    const m = hex ?? /^(?:\d[\d_]*)?(?:\.\d[\d_]*|\.)?(?:[eE][+-]?\d[\d_]*)?/.exec(rest)!;
    const text = m[0];
    this.advance(text.length);
    const end = this.here();
    if (isIdChar(this.src[this.pos] ?? '')) {
      this.error(`invalid number '${text}${this.src[this.pos]}'`, start, { line: end.line, column: end.column + 1 });
    }
    if (/__|_$|_\.|\._|_[eE]|[eE]_/.test(text)) this.error(`invalid number '${text}': misplaced '_'`, start, end);
    const clean = text.replace(/_/g, '');
    if (hex) {
      this.out.push({ kind: 'int', text, value: BigInt(clean), span: { start, end } });
    } else if (/[.eE]/.test(clean)) {
      this.out.push({ kind: 'float', text, value: Number(clean), span: { start, end } });
    } else {
      if (clean.length > 1 && clean.startsWith('0') && /[1-9]/.test(clean)) {
        this.error(`invalid number '${text}': leading zeros are not allowed`, start, end, ['write it without the leading zeros']);
      }
      this.out.push({ kind: 'int', text, value: BigInt(clean), span: { start, end } });
    }
  }

  private string(prefix: string): void {
    const start = this.here();
    if (prefix.includes('f')) {
      this.error('f-strings are not supported in PxL', start, { line: start.line, column: start.column + prefix.length + 1 }, [
        "build strings with '+' on columns, or use a plain string",
      ]);
    }
    if (prefix.includes('b')) {
      this.error('bytes literals are not supported in PxL', start, { line: start.line, column: start.column + prefix.length + 1 }, [
        'use a plain string',
      ]);
    }
    const raw = prefix.includes('r');
    this.advance(prefix.length);
    const q = this.src[this.pos]!;
    const triple = this.src.startsWith(q + q + q, this.pos);
    const delim = triple ? q + q + q : q;
    const bodyStart = this.pos;
    this.advance(delim.length);
    const parts: StringPart[] = [];
    let text = '';
    for (;;) {
      if (this.pos >= this.src.length) {
        this.error('unterminated string literal', start, undefined, [`close it with ${delim}`]);
      }
      const c = this.src[this.pos]!;
      if (this.src.startsWith(delim, this.pos)) {
        this.advance(delim.length);
        break;
      }
      if (c === '\n' && !triple) {
        this.error('unterminated string literal (a newline needs a triple-quoted string)', start, undefined, [`close it with ${q}`]);
      }
      if (c === '\\') {
        const n = this.src[this.pos + 1] ?? '';
        if (raw) {
          text += c + n;
          this.advance(n ? 2 : 1);
          continue;
        }
        text += this.escape();
        continue;
      }
      if (c === '$' && this.refFollows()) {
        if (text) parts.push({ text });
        text = '';
        parts.push({ ref: this.macroRef() });
        continue;
      }
      text += c;
      this.advance();
    }
    if (text || parts.length === 0) parts.push({ text });
    this.out.push({ kind: 'string', text: this.src.slice(bodyStart - prefix.length, this.pos), parts, span: { start, end: this.here() } });
  }

  private escape(): string {
    const at = this.here();
    const n = this.src[this.pos + 1] ?? '';
    const simple: Record<string, string> = {
      n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v',
    };
    if (n === '\n') {
      this.advance(2);
      return '';
    }
    if (n in simple) {
      this.advance(2);
      return simple[n]!;
    }
    const width = n === 'x' ? 2 : n === 'u' ? 4 : n === 'U' ? 8 : 0;
    if (width > 0) {
      const hex = this.src.slice(this.pos + 2, this.pos + 2 + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) {
        this.error(`invalid \\${n} escape: expected ${width} hex digits`, at, { line: at.line, column: at.column + 2 });
      }
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) this.error(`invalid \\${n} escape: no such character`, at);
      this.advance(2 + width);
      return String.fromCodePoint(code);
    }
    // Python keeps unknown escapes as written, which regexes such as '\d' rely on.
    this.advance(1);
    return '\\';
  }

  /** Inside strings a `$` only starts a reference before a name or `{`; `$1`, `a$` stay text. */
  private refFollows(): boolean {
    const n = this.src[this.pos + 1] ?? '';
    return isIdStart(n) || n === '{';
  }

  private macroRef(): MacroRef {
    const start = this.here();
    this.advance();
    let name: string;
    if (this.src[this.pos] === '{') {
      this.advance();
      const p0 = this.pos;
      while (this.pos < this.src.length && isIdChar(this.src[this.pos]!)) this.advance();
      name = this.src.slice(p0, this.pos);
      if (!name || !isIdStart(name[0]!)) {
        throw new PxlError(PxlCode.macro, "expected a variable name after '${'", { start, end: this.here() });
      }
      if (this.src[this.pos] === ':') {
        while (this.pos < this.src.length && this.src[this.pos] !== '}' && this.src[this.pos] !== '\n') this.advance();
        if (this.src[this.pos] === '}') this.advance();
        throw new PxlError(PxlCode.variable, `variable formats such as '\${${name}:...}' are not supported`, { start, end: this.here() }, [
          `write \${${name}}: the engine knows whether a value stands in code or in a string`,
        ]);
      }
      if (this.src[this.pos] !== '}') {
        throw new PxlError(PxlCode.macro, `expected '}' to close '\${${name}'`, { start, end: this.here() });
      }
      this.advance();
    } else {
      const p0 = this.pos;
      while (this.pos < this.src.length && isIdChar(this.src[this.pos]!)) this.advance();
      name = this.src.slice(p0, this.pos);
      if (!name || !isIdStart(name[0]!)) {
        throw new PxlError(PxlCode.macro, "expected a macro or variable name after '$'", { start, end: { line: start.line, column: start.column + 1 } }, [
          'write $name or ${name}',
        ]);
      }
    }
    let call = false;
    // Only Grafana's own functions take `()`; a variable followed by `()` keeps its parentheses.
    if (name.startsWith('__') && this.src.startsWith('()', this.pos)) {
      call = true;
      this.advance(2);
    }
    return { name, call, span: { start, end: this.here() } };
  }
}
