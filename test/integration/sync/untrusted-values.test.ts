import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/config/logger.js";
import { processStripeEvent } from "../../../src/ingest/process-event-job.js";
import { signWebhookPayload } from "../../../src/stripe/webhook-signature.js";
import { type ApiShape, anEvent, aSubscription, type Json, stripeId } from "../../support/builders.js";
import { createSyncHarness, loadAccessLog, loadSubscription, type SyncHarness } from "./sync-harness.js";

/** Signed webhooks carrying values Stripe never sends: refused as unsupported, naming the value; nothing changes. */

const WEBHOOK_SECRET = "whsec_untrusted_values";
const SEAT_PRICE = "price_untrusted_seats";
const CATALOG = {
  features: {
    api_calls: { type: "metered", stripe_meter_event_name: "api_calls" },
    sso: { type: "boolean" },
  },
  plans: [
    { match: { price: SEAT_PRICE }, grants: { sso: true, api_calls: { limit: 50000, per_seat: true } } },
  ],
  grace: { past_due_days: 7 },
};
const QUANTITY = "a whole number from 0 to 2147483647";
const TIME = "a unix time from 2000-01-01 to 2100-01-01";
const DAY = 86_400;

let harness: SyncHarness;
let dir: string;
const log = createLogger("silent");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "leakguard-untrusted-"));
  const catalogPath = join(dir, "catalog.json");
  writeFileSync(catalogPath, JSON.stringify(CATALOG));
  harness = await createSyncHarness({
    LEAKGUARD_CATALOG: catalogPath,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
});
afterAll(async () => {
  await harness?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(envelope: Json): Promise<void> {
  const body = JSON.stringify(envelope);
  const response = await harness.app.inject({
    method: "POST",
    url: "/webhooks/stripe",
    headers: {
      "content-type": "application/json",
      "stripe-signature": signWebhookPayload(body, WEBHOOK_SECRET),
    },
    payload: body,
  });
  expect(response.statusCode, response.body).toBe(200);
}

/** Posts the signed webhook and processes it as the stripe-events worker does; returns the stored event. */
async function deliver(envelope: Json) {
  await post(envelope);
  const id = String(envelope["id"]);
  await processStripeEvent(harness.ctx, id, log);
  return harness.db.stripeEvent.findUniqueOrThrow({ where: { id } });
}

async function entitlementOf(customer: string, feature: string) {
  const response = await harness.app.inject({
    method: "GET",
    url: `/v1/customers/${customer}/entitlements/${feature}`,
    headers: harness.auth,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

/** Everything a subscription event can change for one customer. */
async function stateOf(customer: string, subscription: string) {
  return {
    subscription: await loadSubscription(harness.db, subscription),
    entitlements: await harness.db.entitlement.findMany({
      where: { customerId: customer },
      orderBy: { feature: "asc" },
    }),
    accessLog: await loadAccessLog(harness.db, customer),
  };
}

const now = () => Math.floor(Date.now() / 1000);
const firstItem = (subscription: Json) => ((subscription["items"] as Json)["data"] as Json[])[0]!;

/** A customer with two seats: 100,000 api_calls until the period ends in 20 days. */
async function twoSeats(shape: ApiShape) {
  const customer = stripeId("cus");
  const id = stripeId("sub");
  const created = now() - 10 * DAY;
  const build = () =>
    aSubscription({
      id,
      customer,
      shape,
      created,
      currentPeriodStart: created,
      currentPeriodEnd: created + 30 * DAY,
      items: [{ id: `si_${id}`, price: { id: SEAT_PRICE }, quantity: 2 }],
    });
  const stored = await deliver(anEvent("customer.subscription.created", build(), { created }));
  expect(stored.status).toBe("processed");
  expect(await entitlementOf(customer, "api_calls")).toMatchObject({
    has_access: true,
    limit: "100000",
    resets_at: new Date((created + 30 * DAY) * 1000).toISOString(),
  });
  return { customer, id, build };
}

describe("a signed subscription webhook with a value Stripe never sends", () => {
  it.each<[string, ApiShape, (subscription: Json) => void, string]>([
    [
      "a quantity of -3",
      "basil",
      (s) => (firstItem(s)["quantity"] = -3),
      `items.data[0].quantity is -3, expected ${QUANTITY}`,
    ],
    [
      "a quantity of 1e20",
      "basil",
      (s) => (firstItem(s)["quantity"] = 1e20),
      `items.data[0].quantity is 100000000000000000000, expected ${QUANTITY}`,
    ],
    [
      "a quantity of 2.5",
      "legacy",
      (s) => (firstItem(s)["quantity"] = 2.5),
      `items.data[0].quantity is 2.5, expected ${QUANTITY}`,
    ],
    [
      "a negative period end",
      "basil",
      (s) => (firstItem(s)["current_period_end"] = -DAY),
      `items.data[0].current_period_end is -86400, expected ${TIME}`,
    ],
    [
      "a negative period (legacy, on the subscription)",
      "legacy",
      (s) => {
        s["current_period_start"] = -2 * DAY;
        s["current_period_end"] = -DAY;
      },
      `current_period_start is -172800, expected ${TIME}`,
    ],
    [
      "a period end of 1e13",
      "basil",
      (s) => (firstItem(s)["current_period_end"] = 1e13),
      `items.data[0].current_period_end is 10000000000000, expected ${TIME}`,
    ],
  ])(
    "%s (%s) ends unsupported with the field and value named, and changes no access",
    async (_case, shape, edit, problem) => {
      const { customer, id, build } = await twoSeats(shape);
      const before = await stateOf(customer, id);
      const accessBefore = await entitlementOf(customer, "api_calls");

      const forged = build();
      edit(forged);
      const stored = await deliver(anEvent("customer.subscription.updated", forged, { created: now() }));

      expect(stored).toMatchObject({
        status: "unsupported",
        attempts: 1,
        lastError: `subscription ${id}: ${problem}`,
      });
      expect(await stateOf(customer, id)).toEqual(before);
      expect(await entitlementOf(customer, "api_calls")).toEqual(accessBefore);
    },
  );

  it("as the first event of a subscription, mirrors nothing and grants nothing", async () => {
    const customer = stripeId("cus");
    const subscription = aSubscription({ customer, items: [{ price: { id: SEAT_PRICE }, quantity: -3 }] });
    const stored = await deliver(anEvent("customer.subscription.created", subscription));
    expect(stored).toMatchObject({
      status: "unsupported",
      lastError: expect.stringContaining("quantity is -3"),
    });
    expect(await loadSubscription(harness.db, String(subscription["id"]))).toBeNull();
    expect(await harness.db.entitlement.count({ where: { customerId: customer } })).toBe(0);
  });
});

describe("an event that fails on the database", () => {
  it("stores one readable line as its last error (not Prisma's call-site dump), and applies once the database is back", async () => {
    const customer = stripeId("cus");
    const subscription = aSubscription({ customer, items: [{ price: { id: SEAT_PRICE }, quantity: 1 }] });
    const envelope = anEvent("customer.subscription.created", subscription);
    const id = String(envelope["id"]);
    await post(envelope);

    await harness.db.$executeRawUnsafe(`ALTER TABLE subscription_items RENAME TO subscription_items_away`);
    try {
      await expect(processStripeEvent(harness.ctx, id, log)).rejects.toThrow(/invocation/);
    } finally {
      await harness.db.$executeRawUnsafe(`ALTER TABLE subscription_items_away RENAME TO subscription_items`);
    }
    const failed = await harness.db.stripeEvent.findUniqueOrThrow({ where: { id } });
    expect(failed).toMatchObject({
      status: "failed",
      attempts: 1,
      lastError:
        "PrismaClientKnownRequestError P2021: The table `public.subscription_items` does not exist in the current database.",
    });

    await processStripeEvent(harness.ctx, id, log);
    expect(await harness.db.stripeEvent.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: "processed",
      attempts: 2,
      lastError: null,
    });
  });
});
