/**
 * The fenced code blocks of the docs, each with where it is and what its `<!-- doctest: ... -->`
 * comment (the HTML comment right above the fence, invisible in rendered markdown) says about
 * it. The grammar is written out in test/README.md ("The docs' examples"); this module
 * only parses it. A fence scanner and not a markdown library: the tests need the line of every
 * fence and the comment right above it, which markdown lexers drop or reshape.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One directive of a doctest comment: its word and the rest of its text. */
interface Directive {
  readonly name: string;
  readonly arg: string;
}

export interface Block {
  /** Repository-relative path of the markdown file. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's info string, lower-cased ('' for a bare fence). */
  readonly lang: string;
  readonly text: string;
  readonly directives: readonly Directive[];
}

/** The words a doctest comment may use; anything else is an error, so a typo is never ignored. */
const DIRECTIVES = ['text', 'paths', 'excerpt', 'output', 'exit', 'file', 'offline', 'background', 'interrupt', 'request', 'response', 'varies', 'sample'] as const;

/**
 * Every docs/*.md (new pages are picked up as they appear), the plugin's README, and README.md
 * last: its Kubernetes line applies the overlay that docs/deploy.md's steps make.
 */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return [...docs, 'src/plugin/README.md', 'README.md'];
}

/** `a; b c; d` → directives (`text` takes the rest as its reason); a name not in DIRECTIVES throws naming `where`. */
function parseDirectives(text: string, where: string): Directive[] {
  // `text REASON`: the reason is prose and may hold anything, semicolons too.
  const figure = /^\s*text\b\s*([\s\S]*)$/.exec(text);
  if (figure) return [{ name: 'text', arg: figure[1]!.trim() }];
  return text
    .split(';')
    .map((d) => d.trim())
    .filter((d) => d.length > 0)
    .map((d) => {
      const m = /^(\S+)\s*(.*)$/s.exec(d)!;
      const name = m[1]!;
      if (!(DIRECTIVES as readonly string[]).includes(name)) throw new Error(`${where}: unknown doctest directive '${name}' (known: ${DIRECTIVES.join(', ')})`);
      return { name, arg: m[2]!.trim() };
    });
}

/** The fenced blocks of one markdown file, in order. */
export function extractBlocks(root: string, path: string): Block[] {
  const file = relative(root, join(root, path));
  const lines = readFileSync(join(root, path), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+|~~~+)\s*([^`\s]*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !closes(lines[j]!, fence!); j++) {
      body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!);
    }
    if (j >= lines.length) throw new Error(`${file}:${i + 1}: a code fence that is never closed`);
    blocks.push({ file, line: i + 1, lang: lang!.toLowerCase(), text: body.join('\n'), directives: commentAbove(lines, i, `${file}:${i + 1}`) });
    i = j;
  }
  return blocks;
}

/** A closing fence: only the opening fence's character, at least as many times. */
function closes(line: string, fence: string): boolean {
  const t = line.trim();
  return t.length >= fence.length && /^(`+|~+)$/.test(t) && t[0] === fence[0];
}

/** The doctest comment ending on the line right above line `i` (it may span lines), if any. */
function commentAbove(lines: readonly string[], i: number, where: string): Directive[] {
  if (i === 0 || !lines[i - 1]!.trimEnd().endsWith('-->')) return [];
  let k = i - 1;
  while (k >= 0 && !lines[k]!.includes('<!--')) k--;
  if (k < 0) return [];
  const comment = lines.slice(k, i).join('\n');
  const m = /<!--\s*doctest:([\s\S]*?)-->\s*$/.exec(comment);
  return m ? parseDirectives(m[1]!, where) : [];
}

/** The directive `name` of a block, if it has one. */
export function directive(block: Block, name: string): Directive | undefined {
  return block.directives.find((d) => d.name === name);
}
