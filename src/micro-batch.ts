/**
 * Group commit for request paths: calls made while earlier batches are in flight wait (never on a timer) and go
 * out together as the next batch, one round trip for many callers. Each caller still gets its own item's result
 * and only once that item's batch has finished.
 */
export type MicroBatchOptions<T, R> = {
  /** Runs one batch; returns one result per item, in the items' order. */
  run: (items: T[]) => Promise<R[]>;
  maxBatchSize: number;
  /** Batches in flight at once (each holds one connection). */
  maxInFlight: number;
  /** Items with the same key never share a batch (a later one waits for the next batch). */
  keyOf?: (item: T) => string;
  /**
   * When a batch of several fails, run each of its items alone so that one bad item fails only its own caller;
   * for stores where an error can belong to one row. Off: every caller of the batch gets the batch's error.
   */
  retryAlone?: boolean;
};

export type MicroBatch<T, R> = (item: T) => Promise<R>;

type Waiting<T, R> = { item: T; resolve: (result: R) => void; reject: (error: unknown) => void };

export function createMicroBatch<T, R>(options: MicroBatchOptions<T, R>): MicroBatch<T, R> {
  const pending: Waiting<T, R>[] = [];
  let inFlight = 0;
  let scheduled = false;

  const schedule = () => {
    if (scheduled || pending.length === 0 || inFlight >= options.maxInFlight) return;
    scheduled = true;
    // After this turn's I/O callbacks, so the requests that arrived together leave together.
    setImmediate(flush);
  };

  const flush = () => {
    scheduled = false;
    while (pending.length > 0 && inFlight < options.maxInFlight) {
      const batch = takeBatch();
      inFlight += 1;
      void settle(batch).finally(() => {
        inFlight -= 1;
        schedule();
      });
    }
  };

  const takeBatch = (): Waiting<T, R>[] => {
    const keyOf = options.keyOf;
    if (keyOf === undefined) return pending.splice(0, options.maxBatchSize);
    const batch: Waiting<T, R>[] = [];
    const later: Waiting<T, R>[] = [];
    const keys = new Set<string>();
    for (const waiting of pending) {
      const key = keyOf(waiting.item);
      if (batch.length < options.maxBatchSize && !keys.has(key)) {
        keys.add(key);
        batch.push(waiting);
      } else {
        later.push(waiting);
      }
    }
    pending.splice(0, pending.length, ...later);
    return batch;
  };

  const settle = async (batch: Waiting<T, R>[]): Promise<void> => {
    try {
      const results = await options.run(batch.map((waiting) => waiting.item));
      for (const [index, waiting] of batch.entries()) waiting.resolve(results[index]!);
    } catch (error) {
      if (!options.retryAlone || batch.length === 1) {
        for (const waiting of batch) waiting.reject(error);
        return;
      }
      await Promise.all(batch.map((waiting) => settle([waiting])));
    }
  };

  return (item) =>
    new Promise<R>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      schedule();
    });
}
