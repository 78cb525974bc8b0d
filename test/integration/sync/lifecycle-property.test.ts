import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Json } from "../../support/builders.js";
import { buildCustomerLifecycle, type CustomerLifecycle } from "./customer-lifecycle.js";
import { accessLogProblems, accessState, mirroredState } from "./lifecycle-state.js";
import { serveObjectsFrom } from "./stripe-fake.js";
import { createSyncHarness, type SyncHarness } from "./sync-harness.js";

/**
 * 50 shuffles of the 20-event lifecycle: 10 property runs of 5 shuffles applied side by side (each its own copy).
 * 100 shuffles pass too but take about 40 s on a busy 2-core machine; 50 keep the file near 20 s.
 */
const RUNS = 10;
const SHUFFLES_PER_RUN = 5;

let harness: SyncHarness;
const stripeObjects = new Map<string, Json>();
beforeAll(async () => {
  harness = await createSyncHarness();
  serveObjectsFrom(stripeObjects);
});
afterAll(async () => {
  await harness.close();
});

/** A fresh copy of the lifecycle whose final objects Stripe serves (for the ties the guard asks it about). */
function lifecycleCopy(tag: string): CustomerLifecycle {
  const lifecycle = buildCustomerLifecycle(tag, { recoveredInSameSecond: true });
  for (const [id, object] of lifecycle.finalObjects) stripeObjects.set(id, object);
  return lifecycle;
}

async function deliver(events: readonly Json[]): Promise<void> {
  for (const event of events) {
    const outcome = await harness.apply(event);
    expect(["applied", "skipped"]).toContain(outcome.status);
  }
}

describe("a customer's 20-event lifecycle in any order", () => {
  it(`ends in the in-order state after each of ${RUNS * SHUFFLES_PER_RUN} shuffles, with one access-log row per real change`, async () => {
    const reference = lifecycleCopy(`ref${process.pid}`);
    await deliver(reference.events);
    const expectedMirror = await mirroredState(harness.db, `ref${process.pid}`, reference.customerId);
    const expectedAccess = await accessState(harness.db, reference.customerId);
    expect(await accessLogProblems(harness.db, reference.customerId)).toEqual([]);
    const count = reference.events.length;
    expect(count).toBe(20);

    const shuffle = fc.shuffledSubarray([...Array(count).keys()], { minLength: count, maxLength: count });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(shuffle, { minLength: SHUFFLES_PER_RUN, maxLength: SHUFFLES_PER_RUN }),
        async (orders) => {
          run += 1;
          await Promise.all(
            orders.map(async (order, index) => {
              const tag = `shf${run}n${index}x${process.pid}`;
              const copy = lifecycleCopy(tag);
              await deliver(order.map((event) => copy.events[event]!));
              expect(await mirroredState(harness.db, tag, copy.customerId)).toEqual(expectedMirror);
              expect(await accessState(harness.db, copy.customerId)).toEqual(expectedAccess);
              expect(await accessLogProblems(harness.db, copy.customerId)).toEqual([]);
            }),
          );
        },
      ),
      { numRuns: RUNS },
    );
  }, 60_000);
});
