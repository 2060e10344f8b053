import { Agent } from '../agent.js';
import { parseCommandLine, UsageError } from './args.js';
import { CAPTURE_OPTIONS, CAPTURE_USAGE, agentCapture, captureSettings, redactionWarning } from './capture-flags.js';
import { rowAsJson, tailHeader, tailRow } from './format.js';

const TAIL_USAGE = `usage: wisp tail [--format table|jsonl] [--body-bytes N]
                 [--redact defaults|listed|off] [--redact-header NAME]... [--redact-query-param NAME]...
  Captures HTTP/1.x on this host and prints each request/response pair as it completes.
  table: one aligned line per pair, for people; jsonl: one JSON object per row, every column.
${CAPTURE_USAGE}
  Needs root (or CAP_BPF + CAP_PERFMON + CAP_SYS_RESOURCE).`;

/** `wisp tail`: runs until SIGINT/SIGTERM. */
export async function runTail(argv: string[]): Promise<number> {
  const { values } = parseCommandLine({
    args: argv,
    options: { format: { type: 'string', default: 'table' }, ...CAPTURE_OPTIONS, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(TAIL_USAGE);
    return 0;
  }
  const format = values.format;
  if (format !== 'table' && format !== 'jsonl') throw new UsageError(`--format must be table or jsonl (got '${format}')`);
  const capture = captureSettings(values);
  const agent = Agent.start(agentCapture(capture));
  const warning = redactionWarning(capture);
  if (warning !== undefined) console.error(warning);
  if (format === 'table') {
    console.error('wisp: capturing HTTP on this host; Ctrl-C stops');
    process.stdout.write(tailHeader() + '\n');
  }
  agent.onRows((rows) => {
    const out: string[] = [];
    for (const r of rows) out.push(format === 'jsonl' ? rowAsJson(r) : tailRow(r));
    process.stdout.write(out.join('\n') + '\n');
  });
  return new Promise((resolve) => {
    const stop = (): void => {
      agent.close();
      resolve(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
