/**
 * How many queries the API works on at once. Each query holds its data and its answer in memory
 * (up to the result cap, 64 MiB of JSON), so the process's memory is bounded only if their number
 * is: at most `maxRunning` run, up to `maxWaiting` more wait their turn in arrival order (their
 * time limit running), and past that a query is refused at once.
 */
export class Admission {
  private running = 0;
  private readonly waiting: { readonly admit: () => void; readonly signal: AbortSignal; readonly onAbort: () => void }[] = [];

  constructor(
    readonly maxRunning: number,
    readonly maxWaiting: number,
  ) {
    if (!(maxRunning >= 1 && maxWaiting >= 0)) throw new Error(`admission wants at least one running query and no negative queue (got ${maxRunning}, ${maxWaiting})`);
  }

  /**
   * A turn to run: resolves with the function that gives it back, or rejects with the signal's
   * reason if the signal aborts while waiting. `null` when the queue is full.
   */
  enter(signal: AbortSignal): Promise<() => void> | null {
    if (this.running < this.maxRunning) {
      this.running++;
      return Promise.resolve(this.release());
    }
    if (this.waiting.length >= this.maxWaiting) return null;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const w = {
        admit: () => resolve(this.release()),
        signal,
        onAbort: () => {
          this.waiting.splice(this.waiting.indexOf(w), 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
      this.waiting.push(w);
    });
  }

  /** Queries running and waiting now. */
  load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  private release(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (!next) {
        this.running--;
        return;
      }
      // The turn passes straight on: `running` stays as it is.
      next.signal.removeEventListener('abort', next.onAbort);
      next.admit();
    };
  }
}
