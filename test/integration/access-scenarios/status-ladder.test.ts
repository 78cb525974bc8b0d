import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anInvoice, stripeId } from "../../support/builders.js";
import {
  ACCESS_API,
  aCustomerSubscription,
  aProSubscriber,
  at,
  atTime,
  byEvent,
  byJob,
  createScenarios,
  DAY,
  eventAt,
  nowSeconds,
  PRO_FEATURES,
  proPrice,
  rowsFor,
  type Scenarios,
  SHAPES,
} from "./scenario-harness.js";

let scenarios: Scenarios;
beforeAll(async () => {
  scenarios = await createScenarios();
});
afterAll(async () => scenarios?.close());

describe.each(SHAPES)("status ladder, %s API shape", (shape) => {
  /** A Pro subscriber whose current period started 10 days ago; events a minute apart, ending now. */
  const proSubscriber = () => aProSubscriber(shape, nowSeconds() + 20 * DAY);

  it("trialing grants the plan's features (subscription_trialing)", async () => {
    const { customer, snapshot, event } = proSubscriber();
    const created = event("customer.subscription.created", snapshot({ status: "trialing" }));
    await scenarios.deliver(created);

    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: true,
      status: "active",
      reason: "subscription_trialing",
    });
    expect(await scenarios.check(customer, "api_calls", 10000)).toMatchObject({ allowed: true });
    expect(await scenarios.check(customer, "api_calls", 10001)).toMatchObject({
      allowed: false,
      reason: "would_exceed_limit",
    });
    await scenarios.expectLog(customer, rowsFor(PRO_FEATURES, "grant", byEvent(created)));
  });

  it("active grants the plan's features (subscription_active)", async () => {
    const { customer, snapshot, event } = proSubscriber();
    const created = event("customer.subscription.created", snapshot({ status: "active" }));
    await scenarios.deliver(created);

    expect(await scenarios.entitlement(customer, "api_calls")).toMatchObject({
      has_access: true,
      status: "active",
      limit: "10000",
      used: "0",
      remaining: "10000",
      reason: "subscription_active",
    });
    expect(await scenarios.entitlement(customer, "seats")).toMatchObject({ has_access: true, limit: "10" });
    const [first] = await scenarios.expectLog(customer, rowsFor(PRO_FEATURES, "grant", byEvent(created)));
    expect(first!.before).toBeNull();
    expect(first!.after).toMatchObject({ status: "active", limit: "10000", reason: "subscription_active" });
  });

  it("past_due keeps access through the grace from the unpaid renewal, and revokes once it is over", async () => {
    const { customer, id, snapshot, now } = aPastDueRenewal();
    const renewedAt = now - DAY;
    const graceUntil = at(renewedAt + 3 * DAY);
    const created = eventAt(
      "customer.subscription.created",
      snapshot({ status: "active" }),
      renewedAt - 30 * DAY,
    );
    const failed = eventAt(
      "invoice.payment_failed",
      anInvoice({
        customer,
        subscription: id,
        shape,
        status: "open",
        created: renewedAt,
        periodStart: renewedAt - 30 * DAY,
        periodEnd: renewedAt,
        lines: [
          {
            subscription: id,
            price: proPrice(shape),
            periodStart: renewedAt,
            periodEnd: renewedAt + 30 * DAY,
          },
        ],
      }),
      renewedAt + 60,
    );
    const pastDue = eventAt(
      "customer.subscription.updated",
      snapshot({ status: "past_due", currentPeriodStart: renewedAt, currentPeriodEnd: renewedAt + 30 * DAY }),
      renewedAt + 120,
    );
    await scenarios.deliver(created, failed, pastDue);

    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: true,
      status: "grace",
      reason: "payment_past_due",
      grace_until: graceUntil.toISOString(),
    });
    expect(await scenarios.check(customer, "api_calls", 100)).toMatchObject({
      allowed: true,
      reason: "payment_past_due",
    });
    await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "change", byEvent(pastDue)),
    ]);

    // Past the grace with no new event: the API decides as of now and records the revoke once.
    await atTime(new Date(graceUntil.getTime() + 60_000), async () => {
      expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
        has_access: false,
        status: "revoked",
        reason: "payment_past_due_grace_expired",
        grace_until: null,
      });
      expect(await scenarios.check(customer, "api_calls", 1)).toMatchObject({
        allowed: false,
        reason: "payment_past_due_grace_expired",
      });
      // The delayed job queued for the end of the grace finds nothing left to do.
      expect((await scenarios.runEnforcement(customer, graceUntil)).changes).toEqual([]);
    });
    const log = await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "change", byEvent(pastDue)),
      ...rowsFor(PRO_FEATURES, "revoke", ACCESS_API),
    ]);
    expect(log.at(-1)!.before).toMatchObject({ status: "grace", grace_until: graceUntil.toISOString() });
  });

  it("past_due past the grace is revoked by the delayed job when nobody asks", async () => {
    const { customer, snapshot, now } = aPastDueRenewal();
    const renewedAt = now - DAY;
    // No invoice mirrored: the grace runs from the event that made the subscription past_due.
    const graceUntil = at(renewedAt + 120 + 3 * DAY);
    const created = eventAt(
      "customer.subscription.created",
      snapshot({ status: "active" }),
      renewedAt - 30 * DAY,
    );
    const pastDue = eventAt(
      "customer.subscription.updated",
      snapshot({ status: "past_due", currentPeriodStart: renewedAt, currentPeriodEnd: renewedAt + 30 * DAY }),
      renewedAt + 120,
    );
    await scenarios.deliver(created, pastDue);

    await atTime(new Date(graceUntil.getTime() + 1000), async () => {
      expect((await scenarios.runEnforcement(customer, graceUntil)).changes).toEqual(
        PRO_FEATURES.map((feature) => `revoke ${feature}`),
      );
      expect(await scenarios.entitlement(customer, "seats")).toMatchObject({
        has_access: false,
        reason: "payment_past_due_grace_expired",
      });
    });
    await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "change", byEvent(pastDue)),
      ...rowsFor(PRO_FEATURES, "revoke", byJob(customer, graceUntil)),
    ]);
  });

  it("incomplete grants nothing and logs nothing (subscription_incomplete)", async () => {
    const { customer, snapshot, event } = proSubscriber();
    const created = event("customer.subscription.created", snapshot({ status: "incomplete" }));
    await scenarios.deliver(created);

    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: false,
      reason: "subscription_incomplete",
    });
    expect(await scenarios.check(customer, "api_calls", 1)).toMatchObject({
      allowed: false,
      reason: "subscription_incomplete",
    });
    await scenarios.expectLog(customer, []);
    expect(await scenarios.db.entitlement.count({ where: { customerId: customer } })).toBe(0);
  });

  it("incomplete_expired stays without access (subscription_incomplete_expired)", async () => {
    const { customer, snapshot, event } = proSubscriber();
    const created = event("customer.subscription.created", snapshot({ status: "incomplete" }));
    const expired = event("customer.subscription.updated", snapshot({ status: "incomplete_expired" }));
    await scenarios.deliver(created, expired);

    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: false,
      reason: "subscription_incomplete_expired",
    });
    await scenarios.expectLog(customer, []);
  });

  it.each([
    ["unpaid", "customer.subscription.updated", "subscription_unpaid"],
    ["canceled", "customer.subscription.deleted", "subscription_canceled"],
  ] as const)("%s revokes at once, logging the event (%s)", async (status, type, reason) => {
    const { customer, snapshot, event } = proSubscriber();
    const created = event("customer.subscription.created", snapshot({ status: "active" }));
    const ended = event(type, snapshot({ status }));
    await scenarios.deliver(created, ended);

    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: false,
      status: "revoked",
      reason,
    });
    expect(await scenarios.check(customer, "api_calls", 1)).toMatchObject({ allowed: false, reason });
    const log = await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "revoke", byEvent(ended)),
    ]);
    expect(log.at(-1)!.after).toMatchObject({ status: "revoked", reason, limit: null });
  });

  it("paused (trial ended without a payment method) revokes (subscription_paused)", async () => {
    const { customer, snapshot, event } = proSubscriber();
    const created = event("customer.subscription.created", snapshot({ status: "trialing" }));
    const paused = event("customer.subscription.paused", snapshot({ status: "paused" }));
    await scenarios.deliver(created, paused);

    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: false,
      reason: "subscription_paused",
    });
    await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "revoke", byEvent(paused)),
    ]);
  });

  it("pause_collection on an active subscription keeps access with the warning collection_paused", async () => {
    const { customer, snapshot, event } = proSubscriber();
    const created = event("customer.subscription.created", snapshot({ status: "active" }));
    const pauseCollection = event(
      "customer.subscription.updated",
      snapshot({ status: "active", pauseCollection: { behavior: "keep_as_draft", resumes_at: null } }),
    );
    await scenarios.deliver(created, pauseCollection);

    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: true,
      status: "active",
      reason: "collection_paused",
    });
    expect(await scenarios.check(customer, "api_calls", 10000)).toMatchObject({
      allowed: true,
      reason: "collection_paused",
    });
    const log = await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "change", byEvent(pauseCollection)),
    ]);
    expect(log.at(-1)!.after).toMatchObject({ status: "active", reason: "collection_paused", limit: "10" });
  });

  /** A Pro subscriber whose renewal a day ago failed: the period runs from then, the money is owed since then. */
  function aPastDueRenewal() {
    const now = nowSeconds();
    const renewedAt = now - DAY;
    const sub = aCustomerSubscription(shape, {
      created: renewedAt - 30 * DAY,
      currentPeriodStart: renewedAt - 30 * DAY,
      currentPeriodEnd: renewedAt,
      items: [{ id: stripeId("si"), price: proPrice(shape) }],
    });
    return { ...sub, now };
  }
});
