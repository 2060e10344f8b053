import { UsageError } from './args.js';
import { runQuery } from './query.js';

const USAGE = `usage: wisp <command> [options]
  tail     print live HTTP request/response pairs as they are captured
  engine   capture + store + query API on this node
  broker   the query API over many engines (fan-out with partial aggregation)
  query    run a PxL script on an engine
  demo     the local stack: engine, a demo workload, and live numbers
Run 'wisp <command> --help' for a command's options.`;

type Command = (argv: string[]) => Promise<number>;

async function lazy(path: string, name: string): Promise<Command> {
  const mod = (await import(path)) as Record<string, Command>;
  return mod[name]!;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  query: async () => runQuery,
  tail: () => lazy('./tail.js', 'runTail'),
  engine: () => lazy('./engine.js', 'runEngine'),
  broker: () => lazy('./broker.js', 'runBroker'),
  demo: () => lazy('./demo.js', 'runDemo'),
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    console.error(`wisp: unknown command '${cmd}'\n${USAGE}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`wisp ${cmd}: ${e.message}\nRun 'wisp ${cmd} --help' for its options.`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`wisp: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
