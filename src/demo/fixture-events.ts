import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { StripeObject } from "./stripe-params.js";
import type { StandInCollection, StandInData } from "./stripe-stand-in.js";

/**
 * Real Stripe event payloads (copied into test/fixtures/stripe/events with their SOURCES entries): the demo
 * delivers them before its own scenario, to show that real-world shapes of many API versions are accepted.
 */
export function loadFixtureEvents(directory: string): { name: string; event: StripeObject }[] {
  let names: string[];
  try {
    names = readdirSync(directory)
      .filter((name) => name.endsWith(".json"))
      .sort();
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, event: JSON.parse(readFileSync(join(directory, name), "utf8")) as StripeObject }))
    .filter(({ event }) => event.object === "event" && typeof event.id === "string")
    .sort((a, b) => (a.event.created ?? 0) - (b.event.created ?? 0));
}

const COLLECTION_OF: Record<string, StandInCollection> = {
  customer: "customers",
  subscription: "subscriptions",
  invoice: "invoices",
  price: "prices",
  product: "products",
};

/**
 * The objects those events carry, newest state last, so that the stand-in knows every object a delivered
 * event names (a sync that fetches a price or a subscription finds it, as it would on Stripe).
 */
export function objectsOfEvents(events: readonly StripeObject[]): StandInData {
  const data: Partial<Record<StandInCollection, Map<string, StripeObject>>> = {};
  const put = (object: unknown) => {
    if (typeof object !== "object" || object === null) return;
    const candidate = object as StripeObject;
    const collection = COLLECTION_OF[candidate.object];
    if (collection === undefined || typeof candidate.id !== "string" || candidate.id === "") return;
    const byId = data[collection] ?? new Map<string, StripeObject>();
    data[collection] = byId;
    byId.set(candidate.id, candidate);
  };
  for (const event of events) {
    const object = (event["data"] as { object?: unknown } | undefined)?.object as
      | Record<string, unknown>
      | undefined;
    if (object === undefined) continue;
    put(object);
    const items = (object["items"] as { data?: { price?: unknown }[] } | undefined)?.data ?? [];
    for (const item of items) put(item.price);
    const lines = (object["lines"] as { data?: { price?: unknown }[] } | undefined)?.data ?? [];
    for (const line of lines) put(line.price);
  }
  return Object.fromEntries(
    Object.entries(data).map(([collection, byId]) => [collection, [...byId.values()]]),
  ) as StandInData;
}
