import type { Compiler } from './compiler.js';
import type { LoopState, Part, Tally } from './parts.js';

/*
 * The compiled loop: the generated body wrapped in a function, and the cache of those functions
 * that queries share.
 */

/** Rows per turn of the loop. */
const UNROLL = 8;

/** One call folds rows [from, to) of a batch into the aggs' states; `lo`/`hi` bound time_ when ranged. */
export type LoopFn = (
  C: readonly ArrayLike<number>[],
  T: readonly ArrayLike<number>[],
  K: readonly number[],
  S: readonly LoopState[],
  Q: readonly Tally[],
  from: number,
  to: number,
  lo: number,
  hi: number,
) => void;

/**
 * The loop over one batch's columns. `ranged`: rows outside [lo, hi) of time_ are skipped.
 * `ordered`: tallies record their indices in order of first appearance, which decides the ids
 * of groups first seen in the batch; a batch that can add no group skips that branch.
 */
export function buildLoop(cc: Compiler, parts: readonly Part[], tallies: readonly Tally[], ranged: boolean, ordered: boolean, sig: string): LoopFn {
  // The array types are part of the text, so each combination gets a function of its own.
  const head: string[] = ["'use strict';", `// ${sig}`];
  cc.slots.forEach((_, j) => head.push(`const c${j} = C[${j}];`));
  cc.dictNodes.forEach((_, j) => head.push(`const t${j} = T[${j}];`));
  cc.consts.forEach((_, j) => head.push(`const k${j} = K[${j}];`));
  parts.forEach((part, p) => {
    if (part.tally !== null) return;
    head.push(`const S${p} = S[${p}];`, `const gids${p} = S${p}.gids;`, `let m${p} = 0;`);
    part.state.nk.forEach((_, j) => head.push(`const nk${p}_${j} = S${p}.nk[${j}];`));
    part.state.pk.forEach((_, j) => head.push(`const pk${p}_${j} = S${p}.pk[${j}];`));
    for (let j = 0; j < part.nargs; j++) head.push(`const a${p}_${j} = S${p}.args[${j}];`);
    for (let j = 0; j < part.nacc; j++) head.push(`let s${p}_${j} = S${p}.acc[${j}];`);
  });
  tallies.forEach((_, q) => head.push(`const Q${q} = Q[${q}];`, `const H${q} = Q${q}.h;`, ...(ordered ? [`const O${q} = Q${q}.order;`, `let N${q} = Q${q}.n;`] : [])));
  head.push(...cc.locals, 'const tc = C[C.length - 1];');
  // One row's work, on row `i`; rows outside the time range leave it early.
  const row = [
    ...(ranged ? ['const tt = tc[i];', 'if (!(tt >= lo && tt < hi)) break R;'] : []),
    ...cc.prefix,
    ...cc.body,
    ...tallies.map((_, q) => (ordered ? `if (H${q}[Y${q}]++ === 0) O${q}[N${q}++] = Y${q};` : `H${q}[Y${q}]++;`)),
  ];
  // UNROLL rows per turn of the loop, each in a block of its own (its names are its own): the
  // turn's own work (counter, bound, V8's interrupt check) is paid once for all of them. On the
  // error-rate counting loop, 2 rows a turn measured 15 % faster than 1, 4 rows 40 %, 8 rows 50 %.
  const loop = [
    'let j = from;',
    `for (; j + ${UNROLL - 1} < to; j += ${UNROLL}) {`,
    ...Array.from({ length: UNROLL }, (_, u) => [`R: { const i = j + ${u};`, ...row, '}']).flat(),
    '}',
    'for (; j < to; j++) R: { const i = j;',
    ...row,
    '}',
    ...parts.flatMap((part, p) => (part.tally === null ? [`S${p}.m = m${p};`] : [])),
    ...(ordered ? tallies.map((_, q) => `Q${q}.n = N${q};`) : []),
  ];
  const text = [...head, ...loop].join('\n');
  let f = LOOPS.get(text);
  if (f) {
    // Most recently used last, so the oldest is evicted first.
    LOOPS.delete(text);
    LOOPS.set(text, f);
    return f;
  }
  // Built only from the templates of compiler.ts and kernels.ts; script text reaches the loop
  // as values in K and T. Named, so that profiles show where fused time goes.
  f = new Function(`return function fusedLoop(C, T, K, S, Q, from, to, lo, hi) {\n${text}\n};`)() as LoopFn;
  LOOPS.set(text, f);
  if (LOOPS.size > MAX_LOOPS) LOOPS.delete(LOOPS.keys().next().value!);
  return f;
}

/**
 * Compiled loops by source text, shared by queries: a dashboard re-runs the same scripts, and a
 * loop the JIT has already optimized is fast from its first row instead of after a warm-up.
 */
const LOOPS = new Map<string, LoopFn>();
const MAX_LOOPS = 128;
const PRIMED = new WeakSet<LoopFn>();

/**
 * Runs an empty call of a loop the first time it is used: that records type feedback for the
 * stores after the loop, which a run entered through on-stack replacement would otherwise
 * deoptimize at on every exit.
 */
export function prime(loop: LoopFn, run: () => void): void {
  if (PRIMED.has(loop)) return;
  run();
  PRIMED.add(loop);
}
