import { readPrice } from "./price.js";
import {
  asRecord,
  inField,
  type JsonRecord,
  MAX_QUANTITY,
  readBoolean,
  readCount,
  readExpandableId,
  readList,
  readMetadata,
  readString,
  readUnixTime,
} from "./read.js";
import { readable, refusingInvalidValues, unreadable } from "./result.js";
import type { Normalized, SubscriptionItemSnapshot, SubscriptionSnapshot } from "./types.js";

type Period = { start: Date | null; end: Date | null };

/**
 * A Stripe subscription of any API version. Billing periods live on each item from 2025-03-31.basil on and on
 * the subscription before it (payloads in between may carry both): item fields win, the top level is the fallback.
 */
export function normalizeSubscription(raw: unknown): Normalized<SubscriptionSnapshot> {
  return refusingInvalidValues("subscription", raw, readSubscription);
}

function readSubscription(raw: unknown): Normalized<SubscriptionSnapshot> {
  const subscription = asRecord(raw);
  if (subscription === null) return unreadable("subscription is not an object");
  const id = readString(subscription, "id");
  if (id === null) return unreadable("subscription has no id");
  const kind = readString(subscription, "object");
  if (kind !== null && kind !== "subscription") return unreadable(`${id} is a ${kind}, not a subscription`);
  const stripeCustomerId = readExpandableId(subscription, "customer");
  if (stripeCustomerId === null) return unreadable(`subscription ${id} has no customer`);
  const status = readString(subscription, "status");
  if (status === null) return unreadable(`subscription ${id} has no status`);
  const list = readList(subscription, "items");
  if (list === null) return unreadable(`subscription ${id} has no items list`);

  const topLevel: Period = {
    start: readUnixTime(subscription, "current_period_start"),
    end: readUnixTime(subscription, "current_period_end"),
  };
  const items: SubscriptionItemSnapshot[] = [];
  for (const [index, entry] of list.data.entries()) {
    const item = inField(`items.data[${index}]`, () => readItem(entry, topLevel));
    if (!item.ok) return unreadable(`subscription ${id} item ${index}: ${item.reason}`);
    items.push(item.value);
  }
  const period = topLevel.start !== null || topLevel.end !== null ? topLevel : firstRenewingItemPeriod(items);

  return readable({
    stripeSubscriptionId: id,
    stripeCustomerId,
    status,
    cancelAtPeriodEnd: readBoolean(subscription, "cancel_at_period_end") ?? false,
    cancelAt: readUnixTime(subscription, "cancel_at", { nullable: true }),
    canceledAt: readUnixTime(subscription, "canceled_at", { nullable: true }),
    endedAt: readUnixTime(subscription, "ended_at", { nullable: true }),
    currentPeriodStart: period.start,
    currentPeriodEnd: period.end,
    pauseCollection: inField("pause_collection", () =>
      readPauseCollection(asRecord(subscription["pause_collection"])),
    ),
    metadata: readMetadata(subscription),
    stripeCreated: readUnixTime(subscription, "created"),
    items,
    itemsComplete: !list.hasMore,
  });
}

/**
 * One item as `/v1/subscription_items` lists it (the rest of a truncated items list); `period` is the subscription's,
 * for items that carry none.
 */
export function normalizeSubscriptionItem(
  raw: unknown,
  period: Period,
): Normalized<SubscriptionItemSnapshot> {
  return refusingInvalidValues("subscription item", raw, (item) => readItem(item, period));
}

function readItem(raw: unknown, fallback: Period): Normalized<SubscriptionItemSnapshot> {
  const item = asRecord(raw);
  if (item === null) return unreadable("not an object");
  const id = readString(item, "id");
  if (id === null) return unreadable("no id");
  // Items carry `price` and `plan` (same id); very old ones only `plan`. Either may be an id or an object.
  const stripePriceId = readExpandableId(item, "price") ?? readExpandableId(item, "plan");
  if (stripePriceId === null) return unreadable(`${id} has no price`);
  const priceField = asRecord(item["price"]) !== null ? "price" : "plan";
  const priceObject: JsonRecord | null = asRecord(item[priceField]);
  // An embedded price of an unreadable shape is left out (the id is enough); one with an invalid value refuses all.
  const price = priceObject === null ? null : inField(priceField, () => readPrice(priceObject));
  const itemStart = readUnixTime(item, "current_period_start");
  const itemEnd = readUnixTime(item, "current_period_end");
  const hasItemPeriod = itemStart !== null || itemEnd !== null;
  return readable({
    stripeSubscriptionItemId: id,
    stripePriceId,
    stripeProductId: readExpandableId(priceObject, "product"),
    quantity: readCount(item, "quantity", { max: MAX_QUANTITY }),
    currentPeriodStart: hasItemPeriod ? itemStart : fallback.start,
    currentPeriodEnd: hasItemPeriod ? itemEnd : fallback.end,
    price: price?.ok ? price.value : null,
  });
}

/** With periods per item (basil+), the subscription renews when its first item does. */
function firstRenewingItemPeriod(items: SubscriptionItemSnapshot[]): Period {
  let first: SubscriptionItemSnapshot | null = null;
  for (const item of items) {
    if (item.currentPeriodEnd === null) continue;
    if (first === null || item.currentPeriodEnd < first.currentPeriodEnd!) first = item;
  }
  return { start: first?.currentPeriodStart ?? null, end: first?.currentPeriodEnd ?? null };
}

function readPauseCollection(pause: JsonRecord | null): SubscriptionSnapshot["pauseCollection"] {
  const behavior = readString(pause, "behavior");
  return behavior === null
    ? null
    : { behavior, resumesAt: readUnixTime(pause, "resumes_at", { nullable: true }) };
}
