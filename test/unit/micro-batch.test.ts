import { describe, expect, it } from "vitest";
import { createMicroBatch, type MicroBatchOptions } from "../../src/micro-batch.js";

type Item = { key: string; value: number };

/** A batcher whose runs are recorded and finish only when the test releases them. */
function recorded(options: Partial<MicroBatchOptions<Item, number>> = {}) {
  const batches: Item[][] = [];
  const releases: (() => void)[] = [];
  const submit = createMicroBatch<Item, number>({
    maxBatchSize: 100,
    maxInFlight: 1,
    keyOf: (item) => item.key,
    ...options,
    run: async (items) => {
      batches.push(items);
      await new Promise<void>((resolve) => releases.push(resolve));
      if (items.some((item) => item.value < 0)) throw new Error(`refused ${items.length}`);
      return items.map((item) => item.value * 10);
    },
  });
  const releaseAll = async () => {
    // Each release lets a batch finish; the next batch starts on the following turn.
    for (let turn = 0; turn < 20; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.splice(0).forEach((release) => {
        release();
      });
    }
  };
  return { submit, batches, releaseAll };
}

const item = (key: string, value = 1): Item => ({ key, value });

describe("createMicroBatch", () => {
  it("sends calls made together as one batch and answers each with its own result", async () => {
    const { submit, batches, releaseAll } = recorded();
    const results = Promise.all([submit(item("a", 1)), submit(item("b", 2)), submit(item("c", 3))]);
    await releaseAll();
    expect(await results).toEqual([10, 20, 30]);
    expect(batches.map((batch) => batch.map((entry) => entry.key))).toEqual([["a", "b", "c"]]);
  });

  it("gathers calls made while a batch is in flight into the next batch", async () => {
    const { submit, batches, releaseAll } = recorded();
    const first = submit(item("a"));
    await new Promise((resolve) => setImmediate(resolve));
    const later = [submit(item("b")), submit(item("c"))];
    await releaseAll();
    await Promise.all([first, ...later]);
    expect(batches.map((batch) => batch.map((entry) => entry.key))).toEqual([["a"], ["b", "c"]]);
  });

  it("never puts two items with one key in a batch, and caps the batch size", async () => {
    const { submit, batches, releaseAll } = recorded({ maxBatchSize: 2 });
    const results = Promise.all([submit(item("a")), submit(item("a")), submit(item("b")), submit(item("c"))]);
    await releaseAll();
    await results;
    expect(batches.map((batch) => batch.map((entry) => entry.key))).toEqual([
      ["a", "b"],
      ["a", "c"],
    ]);
  });

  it("keeps at most maxInFlight batches running", async () => {
    const { submit, batches, releaseAll } = recorded({ maxInFlight: 2, maxBatchSize: 1 });
    const results = Promise.all(["a", "b", "c", "d"].map((key) => submit(item(key))));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toHaveLength(2);
    await releaseAll();
    await results;
    expect(batches).toHaveLength(4);
  });

  it("with retryAlone, fails only the item the store refuses", async () => {
    const { submit, batches, releaseAll } = recorded({ retryAlone: true });
    const outcomes = Promise.allSettled([
      submit(item("a", 1)),
      submit(item("bad", -1)),
      submit(item("c", 3)),
    ]);
    await releaseAll();
    expect(await outcomes).toEqual([
      { status: "fulfilled", value: 10 },
      { status: "rejected", reason: new Error("refused 1") },
      { status: "fulfilled", value: 30 },
    ]);
    expect(batches.map((batch) => batch.length)).toEqual([3, 1, 1, 1]);
  });

  it("without retryAlone, gives every caller of a failed batch the batch's error", async () => {
    const { submit, releaseAll } = recorded();
    const outcomes = Promise.allSettled([submit(item("a", 1)), submit(item("bad", -1))]);
    await releaseAll();
    expect((await outcomes).map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
  });
});
