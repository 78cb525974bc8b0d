import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReconciliation } from "../../../src/reconcile/run-reconciliation.js";
import { normalizeInvoice, normalizeSubscription } from "../../../src/stripe/normalize/index.js";
import { saveFetchedInvoice, saveFetchedSubscription } from "../../../src/sync/save-fetched.js";
import { anEvent, anInvoice, aPrice, aSubscription, type Json, stripeId } from "../../support/builders.js";
import {
  createSyncHarness,
  loadInvoice,
  loadSubscription,
  STRIPE_API_BASE,
  type SyncHarness,
} from "./sync-harness.js";

let harness: SyncHarness;
beforeAll(async () => {
  harness = await createSyncHarness();
});
afterAll(async () => {
  await harness.close();
});

const read = <T>(normalized: { ok: true; value: T } | { ok: false; reason: string }): T => {
  if (!normalized.ok) throw new Error(normalized.reason);
  return normalized.value;
};
const at = (unix: number) => new Date(unix * 1000);

describe("saving Stripe's own copies through the mirror guard", () => {
  it("a subscription read is applied over older events, even a final status, and never over a newer event", async () => {
    const base = { id: stripeId("sub"), customer: stripeId("cus") };
    const canceled = anEvent(
      "customer.subscription.deleted",
      aSubscription({ ...base, status: "canceled" }),
      {
        created: 1_767_300_000,
      },
    );
    await harness.apply(canceled);
    const active = read(normalizeSubscription(aSubscription({ ...base, status: "active" })));

    const older = await saveFetchedSubscription(harness.ctx, {
      snapshot: active,
      fetchedAt: at(1_767_299_999),
    });
    expect(older).toMatchObject({ decision: { write: false, reason: "stale" }, changed: false });
    expect(await loadSubscription(harness.db, base.id)).toMatchObject({
      status: "canceled",
      eventId: canceled["id"],
    });

    const newer = await saveFetchedSubscription(harness.ctx, {
      snapshot: active,
      fetchedAt: at(1_767_300_001),
    });
    expect(newer).toMatchObject({ decision: { write: true }, changed: true, previousStatus: "canceled" });
    expect(await loadSubscription(harness.db, base.id)).toMatchObject({
      status: "active",
      eventId: null,
      eventCreated: at(1_767_300_001),
    });

    const again = await saveFetchedSubscription(harness.ctx, {
      snapshot: active,
      fetchedAt: at(1_767_300_002),
    });
    expect(again).toMatchObject({ decision: { write: true }, changed: false, created: false });
  });

  it("an invoice read fills a missing row with its lines", async () => {
    const invoice = read(normalizeInvoice(anInvoice({ status: "open", subscription: stripeId("sub") })));
    const saved = await saveFetchedInvoice(harness.ctx, { snapshot: invoice, fetchedAt: new Date() });
    expect(saved).toMatchObject({ created: true, changed: true });
    const row = await loadInvoice(harness.db, invoice.stripeInvoiceId);
    expect(row).toMatchObject({ status: "open", eventId: null });
    expect(row!.lines).toHaveLength(1);
  });
});

describe("reconciliation", () => {
  const FROM = new Date("2026-11-01T00:00:00Z");
  const TO = new Date("2026-12-01T00:00:00Z");
  const unix = (date: Date) => Math.floor(date.getTime() / 1000);
  const list = (url: string, data: Json[]) => ({ object: "list", url, has_more: false, data });

  it("saves an invoice whose webhook never arrived into the mirror", async () => {
    const price = aPrice({ id: stripeId("price"), created: unix(FROM) - 86_400 });
    const missed = anInvoice({
      customer: stripeId("cus"),
      subscription: stripeId("sub"),
      status: "paid",
      created: unix(TO) + 3600,
      lines: [{ price, periodStart: unix(FROM), periodEnd: unix(TO) }],
    });
    const scope = nock(STRIPE_API_BASE)
      .persist()
      .get("/v1/billing/meters")
      .query(true)
      .reply(200, list("/v1/billing/meters", []))
      .get("/v1/invoices")
      .query(true)
      .reply(200, list("/v1/invoices", [missed]))
      .get("/v1/subscriptions")
      .query(true)
      .reply(200, list("/v1/subscriptions", []))
      .get(`/v1/prices/${price["id"]}`)
      .query(true)
      .reply(200, price);
    expect(await loadInvoice(harness.db, String(missed["id"]))).toBeNull();

    await runReconciliation(harness.ctx, { from: FROM, to: TO, trigger: "cli" });
    scope.persist(false);

    const row = await loadInvoice(harness.db, String(missed["id"]));
    expect(row).toMatchObject({ status: "paid", customerId: missed["customer"], eventId: null });
    expect(row!.lines.map((line) => line.priceId)).toEqual([price["id"]]);
    // A webhook of it processed later is older than the read and changes nothing.
    expect(await harness.apply(anEvent("invoice.paid", missed))).toEqual({
      status: "skipped",
      reason: "stale",
    });
  });
});
