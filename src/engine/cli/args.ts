/**
 * Command lines of every `wisp` subcommand: node:util's parseArgs, except that an option that
 * takes a value takes the next argument whatever it starts with. The docs write `--from -5m`;
 * parseArgs alone refuses that as ambiguous and wants `--from=-5m` (which works too).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line that cannot be run: main prints it with a pointer to `--help` and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Config = ParseArgsConfig & { args: string[]; options: NonNullable<ParseArgsConfig['options']>; strict?: true };

/**
 * parseArgs (strict) over `config.args`, with `--name VALUE` joined into `--name=VALUE` for
 * every long option of type string first. The value is missing only at the end of the line or
 * when the next argument is itself a long option (`--from --to now`) or `--`; a value that
 * really starts with `--` is written `--name=--value`. Any error is a UsageError.
 */
export function parseCommandLine<T extends Config>(config: T): ReturnType<typeof parseArgs<T>> {
  const args: string[] = [];
  const argv = config.args;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name === undefined || config.options[name]?.type !== 'string') {
      args.push(a);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined) throw new UsageError(`option '${a}' needs a value`);
    if (next.startsWith('--')) {
      throw new UsageError(`option '${a}' needs a value, but the next argument '${next}' is an option (write ${a}=${next} if it is the value)`);
    }
    args.push(`${a}=${next}`);
    i++;
  }
  // strict is parseArgs's default: unknown options and missing values are errors.
  const joined: T = { ...config, args };
  try {
    return parseArgs(joined);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
