import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Db } from "../../../src/db/client.js";
import { createTestApp, type TestApp, type TestAppOptions } from "../../support/app.js";

export const DAY_MS = 24 * 60 * 60 * 1000;
export const fromNow = (ms: number) => new Date(Date.now() + ms);

/** The catalog the entitlement tests run against: 7 days of past_due grace, one plan per match kind. */
export const TEST_CATALOG = {
  features: {
    api_calls: { type: "metered", stripe_meter_event_name: "api_calls" },
    tokens: { type: "metered", stripe_meter_event_name: "llm_tokens" },
    sso: { type: "boolean" },
    seats: { type: "static" },
  },
  plans: [
    { match: { price: "price_pro" }, grants: { sso: true, seats: 3, api_calls: { limit: 1000 } } },
    {
      match: { lookup_key: "team_per_seat" },
      grants: { seats: { value: 1, per_seat: true }, api_calls: { limit: 500, per_seat: true } },
    },
    {
      match: { product: "prod_enterprise" },
      grants: { sso: true, api_calls: { limit: null }, tokens: { limit: null } },
    },
  ],
  grace: { past_due_days: 7 },
};

/** A whole app on its own database and queue prefix, loaded with TEST_CATALOG. */
export async function createEntitlementTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), "leakguard-entitlements-"));
  const catalogPath = join(dir, "catalog.json");
  writeFileSync(catalogPath, JSON.stringify(TEST_CATALOG));
  const testApp = await createTestApp({
    ...options,
    env: { LEAKGUARD_CATALOG: catalogPath, ...options.env },
  });
  return {
    ...testApp,
    close: async () => {
      await testApp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
const nextId = (prefix: string) => `${prefix}_${process.pid}_${++counter}`;

export async function insertCustomer(
  db: Db,
  overrides: { id?: string; externalId?: string } = {},
): Promise<string> {
  const id = overrides.id ?? nextId("cus");
  await db.customer.create({ data: { id, externalId: overrides.externalId ?? null } });
  return id;
}

export type ItemRow = {
  priceId: string;
  productId?: string | null;
  lookupKey?: string | null;
  quantity?: number;
};

export type SubscriptionRow = {
  id?: string;
  status?: string;
  cancelAtPeriodEnd?: boolean;
  cancelAt?: Date | null;
  endedAt?: Date | null;
  pauseCollection?: { behavior: string; resumesAt: string | null } | null;
  currentPeriodStart?: Date;
  currentPeriodEnd?: Date;
  items?: ItemRow[];
};

/** Mirror rows the way sync writes them: the subscription, its items, and each item's price. */
export async function insertSubscription(
  db: Db,
  customerId: string,
  row: SubscriptionRow = {},
): Promise<string> {
  const id = row.id ?? nextId("sub");
  const currentPeriodStart = row.currentPeriodStart ?? fromNow(-10 * DAY_MS);
  const currentPeriodEnd = row.currentPeriodEnd ?? fromNow(20 * DAY_MS);
  await db.subscription.create({
    data: {
      id,
      customerId,
      status: row.status ?? "active",
      cancelAtPeriodEnd: row.cancelAtPeriodEnd ?? false,
      cancelAt: row.cancelAt ?? null,
      endedAt: row.endedAt ?? null,
      currentPeriodStart,
      currentPeriodEnd,
      ...(row.pauseCollection ? { pauseCollection: row.pauseCollection } : {}),
    },
  });
  for (const item of row.items ?? [{ priceId: "price_pro", productId: "prod_pro" }]) {
    await db.price.upsert({
      where: { id: item.priceId },
      create: {
        id: item.priceId,
        productId: item.productId ?? null,
        currency: "usd",
        lookupKey: item.lookupKey ?? null,
      },
      update: {},
    });
    await db.subscriptionItem.create({
      data: {
        id: nextId("si"),
        subscriptionId: id,
        priceId: item.priceId,
        productId: item.productId ?? null,
        quantity: item.quantity ?? 1,
        currentPeriodStart,
        currentPeriodEnd,
      },
    });
  }
  return id;
}

export async function updateSubscription(db: Db, id: string, data: SubscriptionRow): Promise<void> {
  const { items: _items, id: _id, pauseCollection: _pause, ...fields } = data;
  await db.subscription.update({ where: { id }, data: fields });
}

export async function insertUsage(
  db: Db,
  row: { customerId: string; feature: string; quantity: string; occurredAt?: Date },
): Promise<void> {
  await db.ledgerEntry.create({
    data: {
      usageId: nextId("usage"),
      customerId: row.customerId,
      feature: row.feature,
      quantity: row.quantity,
      occurredAt: row.occurredAt ?? fromNow(-DAY_MS),
      fingerprint: nextId("fp"),
    },
  });
}
