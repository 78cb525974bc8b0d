import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Json } from "../../support/builders.js";
import {
  type ComparableEntry,
  comparableLog,
  type Lifecycle,
  type LifecycleEvent,
  lifecycle,
  newTag,
} from "./lifecycle.js";
import { createScenarios, nowSeconds, type Scenarios, SHAPES } from "./scenario-harness.js";

let scenarios: Scenarios;
beforeAll(async () => {
  scenarios = await createScenarios();
});
afterAll(async () => scenarios?.close());

/** Events of a life up to (not including) the cancellation, so the order's effect is read while access lasts. */
const beforeCancel = (life: Lifecycle, list: Json[] = life.all) =>
  list.slice(0, list.indexOf(life.events.cancelRequested));

/**
 * The log without the grace's end: a renewal is owed from its period end but turns past_due an hour later, so
 * while its invoice is not mirrored (not yet, or paid already) the grace runs from the later time. What is granted,
 * revoked and with which limits and reasons stays the same.
 */
function withoutGraceEnd(log: ComparableEntry[]): ComparableEntry[] {
  const strip = (state: unknown) =>
    state === null || typeof state !== "object" ? state : { ...state, grace_until: undefined };
  return log
    .map((entry) => ({ ...entry, before: strip(entry.before), after: strip(entry.after) }))
    .filter((entry) => JSON.stringify(entry.before) !== JSON.stringify(entry.after));
}

describe.each(SHAPES)("out-of-order delivery, %s API shape", (shape) => {
  const now = nowSeconds();
  let reference: Promise<ComparableEntry[]> | undefined;
  /** In-order single delivery of the same events, delivered once for every pair below. */
  const referenceLog = () => {
    reference ??= (async () => {
      const life = lifecycle(shape, newTag(), now);
      await scenarios.deliver(...beforeCancel(life));
      return comparableLog(scenarios, life);
    })();
    return reference;
  };
  /** A fresh copy of the life delivered up to the cancellation with two of its events swapped. */
  const deliverSwapped = async (first: LifecycleEvent, second: LifecycleEvent) => {
    const swapped = lifecycle(shape, newTag(), now);
    const list = [...swapped.all];
    const i = list.indexOf(swapped.events[first]);
    const j = list.indexOf(swapped.events[second]);
    [list[i], list[j]] = [list[j]!, list[i]!];
    await scenarios.deliver(...beforeCancel(swapped, list));
    return swapped;
  };

  it.each<[name: string, first: LifecycleEvent, second: LifecycleEvent]>([
    ["the subscription's creation and its activation by the first payment", "created", "activated"],
    ["the first invoice paid and the subscription's activation", "firstPaid", "activated"],
    ["the customer's creation and the subscription's", "customerCreated", "created"],
  ])("two events swapped (%s) log exactly what in-order delivery logs", async (_name, first, second) => {
    const expected = await referenceLog();
    const swapped = await deliverSwapped(first, second);

    expect(expected.length).toBeGreaterThan(0);
    expect(await comparableLog(scenarios, swapped)).toEqual(expected);
    // Read through the product's own id, whichever of customer and subscription came first; reading adds no row.
    expect(await scenarios.entitlement(`user_${swapped.tag}`, "reports")).toMatchObject({
      customer: swapped.customer,
      has_access: true,
      reason: "subscription_active",
    });
    expect(await comparableLog(scenarios, swapped)).toEqual(expected);
  });

  it.each<[name: string, first: LifecycleEvent, second: LifecycleEvent]>([
    ["the failed renewal invoice and the subscription going past_due", "renewalFailed", "pastDue"],
    ["the paid renewal invoice and the subscription recovering", "renewalPaid", "recovered"],
  ])(
    "two events swapped (%s) log the same access as in-order delivery, only the grace's end may move",
    async (_name, first, second) => {
      const expected = withoutGraceEnd(await referenceLog());
      const swapped = await deliverSwapped(first, second);

      const log = await comparableLog(scenarios, swapped);
      expect(log.filter((entry) => entry.action === "revoke")).toEqual([]);
      expect(withoutGraceEnd(log)).toEqual(expected);
      expect(await scenarios.entitlement(`user_${swapped.tag}`, "reports")).toMatchObject({
        customer: swapped.customer,
        has_access: true,
        reason: "subscription_active",
      });
    },
  );
});
