import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anInvoice, stripeId } from "../../support/builders.js";
import {
  aCustomerSubscription,
  addonPrice,
  at,
  atTime,
  byEvent,
  byJob,
  createScenarios,
  DAY,
  eventAt,
  type LogRow,
  nowSeconds,
  PRO_FEATURES,
  proPrice,
  rowsFor,
  type Scenarios,
  SHAPES,
  STARTER_FEATURES,
  starterPrice,
} from "./scenario-harness.js";

let scenarios: Scenarios;
beforeAll(async () => {
  scenarios = await createScenarios();
});
afterAll(async () => scenarios?.close());

describe.each(SHAPES)("plan changes, %s API shape", (shape) => {
  it("two subscriptions: deleting one leaves the features the other grants", async () => {
    const now = nowSeconds();
    const start = now - 10 * DAY;
    const pro = aCustomerSubscription(shape, {
      created: start,
      items: [{ id: stripeId("si"), price: proPrice(shape) }],
    });
    const addon = aCustomerSubscription(shape, {
      customer: pro.customer,
      created: start + 60,
      items: [{ id: stripeId("si"), price: addonPrice(shape) }],
    });
    const customer = pro.customer;
    const proCreated = eventAt("customer.subscription.created", pro.snapshot(), now - 600);
    const addonCreated = eventAt("customer.subscription.created", addon.snapshot(), now - 540);
    const proDeleted = eventAt(
      "customer.subscription.deleted",
      pro.snapshot({ status: "canceled" }),
      now - 480,
    );
    await scenarios.deliver(proCreated, addonCreated);

    // Limits of one feature granted by two subscriptions add up.
    expect(await scenarios.entitlement(customer, "api_calls")).toMatchObject({
      has_access: true,
      limit: "15000",
    });
    await scenarios.deliver(proDeleted);

    expect(await scenarios.entitlement(customer, "exports")).toMatchObject({
      has_access: true,
      reason: "subscription_active",
    });
    expect(await scenarios.entitlement(customer, "api_calls")).toMatchObject({
      has_access: true,
      limit: "5000",
      reason: "subscription_active",
    });
    expect(await scenarios.check(customer, "api_calls", 5001)).toMatchObject({
      allowed: false,
      reason: "would_exceed_limit",
    });
    for (const feature of ["reports", "seats"])
      expect(await scenarios.entitlement(customer, feature)).toMatchObject({
        has_access: false,
        reason: "subscription_canceled",
      });
    const log = await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(proCreated)),
      ["api_calls", "change", byEvent(addonCreated)],
      ["exports", "grant", byEvent(addonCreated)],
      ["api_calls", "change", byEvent(proDeleted)],
      ["reports", "revoke", byEvent(proDeleted)],
      ["seats", "revoke", byEvent(proDeleted)],
    ]);
    expect(log.find((e) => e.cause === byEvent(proDeleted) && e.feature === "api_calls")).toMatchObject({
      before: { limit: "15000", source: [addon.id, pro.id].sort() },
      after: { status: "active", limit: "5000", source: [addon.id] },
    });
  });

  it("upgrade then downgrade mid-period switch features and limits at once; the late proration invoice re-grants nothing", async () => {
    const now = nowSeconds();
    const periodStart = now - 10 * DAY;
    const periodEnd = periodStart + 30 * DAY;
    const itemId = stripeId("si");
    const sub = aCustomerSubscription(shape, {
      created: periodStart,
      currentPeriodStart: periodStart,
      currentPeriodEnd: periodEnd,
    });
    const { customer, id } = sub;
    const onStarter = () => sub.snapshot({ items: [{ id: itemId, price: starterPrice(shape) }] });
    const onPro = () => sub.snapshot({ items: [{ id: itemId, price: proPrice(shape) }] });
    const upgradedAt = now - 2 * DAY;
    const downgradedAt = now - DAY;

    const created = eventAt("customer.subscription.created", onStarter(), periodStart);
    const upgraded = eventAt("customer.subscription.updated", onPro(), upgradedAt);
    await scenarios.deliver(created, upgraded);

    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({ has_access: true });
    expect(await scenarios.check(customer, "api_calls", 10000)).toMatchObject({ allowed: true });
    expect(await scenarios.entitlement(customer, "seats")).toMatchObject({ limit: "10" });

    const downgraded = eventAt("customer.subscription.updated", onStarter(), downgradedAt);
    await scenarios.deliver(downgraded);

    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: false,
      reason: "no_plan_grants_feature",
    });
    expect(await scenarios.check(customer, "api_calls", 1001)).toMatchObject({
      allowed: false,
      reason: "would_exceed_limit",
    });
    expect(await scenarios.entitlement(customer, "seats")).toMatchObject({ has_access: true, limit: "2" });

    // The upgrade's proration invoice (created at the upgrade, paid later) arrives after the downgrade.
    const proration = (status: "open" | "paid") =>
      anInvoice({
        id: `in_${id}_upgrade`,
        customer,
        subscription: id,
        shape,
        status,
        billingReason: "subscription_update",
        created: upgradedAt,
        periodStart: upgradedAt,
        periodEnd: upgradedAt,
        lines: [
          {
            subscription: id,
            subscriptionItem: itemId,
            price: starterPrice(shape),
            amount: -267,
            proration: true,
            periodStart: upgradedAt,
            periodEnd,
          },
          {
            subscription: id,
            subscriptionItem: itemId,
            price: proPrice(shape),
            amount: 1333,
            proration: true,
            periodStart: upgradedAt,
            periodEnd,
          },
        ],
      });
    const invoiceCreated = eventAt("invoice.created", proration("open"), upgradedAt + 1);
    const invoicePaid = eventAt("invoice.paid", proration("paid"), now - 60);
    await scenarios.deliver(invoiceCreated, invoicePaid);

    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({ has_access: false });
    expect(await scenarios.entitlement(customer, "api_calls")).toMatchObject({
      has_access: true,
      limit: "1000",
    });
    expect(await scenarios.entitlement(customer, "seats")).toMatchObject({ limit: "2" });
    const log = await scenarios.expectLog(customer, [
      ["api_calls", "grant", byEvent(created)],
      ["seats", "grant", byEvent(created)],
      ["api_calls", "change", byEvent(upgraded)],
      ["reports", "grant", byEvent(upgraded)],
      ["seats", "change", byEvent(upgraded)],
      ["api_calls", "change", byEvent(downgraded)],
      ["reports", "revoke", byEvent(downgraded)],
      ["seats", "change", byEvent(downgraded)],
    ]);
    const apiCalls = (cause: string) => log.find((e) => e.cause === cause && e.feature === "api_calls");
    expect(apiCalls(byEvent(upgraded))).toMatchObject({
      before: { limit: "1000" },
      after: { limit: "10000" },
    });
    expect(apiCalls(byEvent(downgraded))).toMatchObject({
      before: { limit: "10000" },
      after: { limit: "1000" },
    });
  });

  it("a mid-period upgrade whose payment fails: past_due arrives before invoice.payment_failed, access stays in grace, no revoke", async () => {
    const now = nowSeconds();
    // The period started long enough ago that a grace counted from it would already be over.
    const periodStart = now - 20 * DAY;
    const periodEnd = periodStart + 30 * DAY;
    const itemId = stripeId("si");
    const sub = aCustomerSubscription(shape, {
      created: periodStart,
      currentPeriodStart: periodStart,
      currentPeriodEnd: periodEnd,
    });
    const { customer, id } = sub;
    const upgradedAt = now - DAY;
    const graceUntil = at(upgradedAt + 3 * DAY);
    const onPro = { items: [{ id: itemId, price: proPrice(shape) }] };

    const created = eventAt(
      "customer.subscription.created",
      sub.snapshot({ items: [{ id: itemId, price: starterPrice(shape) }] }),
      periodStart,
    );
    // The upgrade's proration invoice is open from the upgrade on; its failed payment is told after the status.
    const proration = anInvoice({
      id: `in_${id}_upgrade`,
      customer,
      subscription: id,
      shape,
      status: "open",
      billingReason: "subscription_update",
      created: upgradedAt,
      periodStart: upgradedAt,
      periodEnd: upgradedAt,
      lines: [
        {
          subscription: id,
          subscriptionItem: itemId,
          price: proPrice(shape),
          amount: 3333,
          proration: true,
          periodStart: upgradedAt,
          periodEnd,
        },
      ],
    });
    const pastDue = eventAt(
      "customer.subscription.updated",
      sub.snapshot({ status: "past_due", ...onPro }),
      upgradedAt,
    );
    const paymentFailed = eventAt("invoice.payment_failed", proration, upgradedAt + 1);
    const inGrace = {
      has_access: true,
      status: "grace",
      reason: "payment_past_due",
      grace_until: graceUntil.toISOString(),
    };
    await scenarios.deliver(created, pastDue);

    // Only the status is known: the grace runs from when it turned past_due, not from the period start.
    expect(await scenarios.entitlement(customer, "reports")).toMatchObject(inGrace);
    expect(await scenarios.check(customer, "api_calls", 10000)).toMatchObject({
      allowed: true,
      reason: "payment_past_due",
    });
    await scenarios.deliver(paymentFailed);

    for (const feature of PRO_FEATURES)
      expect(await scenarios.entitlement(customer, feature)).toMatchObject(inGrace);
    const inGraceLog: LogRow[] = [
      ...rowsFor(STARTER_FEATURES, "grant", byEvent(created)),
      ["api_calls", "change", byEvent(pastDue)],
      ["reports", "grant", byEvent(pastDue)],
      ["seats", "change", byEvent(pastDue)],
    ];
    const log = await scenarios.expectLog(customer, inGraceLog);
    expect(log.filter((entry) => entry.action === "revoke")).toEqual([]);
    expect(log.find((e) => e.cause === byEvent(pastDue) && e.feature === "api_calls")).toMatchObject({
      before: { status: "active", limit: "1000" },
      after: { status: "grace", limit: "10000", grace_until: graceUntil.toISOString() },
    });

    // The grace runs out with the invoice still open: the job queued for its end revokes, once.
    await atTime(new Date(graceUntil.getTime() + 1000), async () => {
      expect((await scenarios.runEnforcement(customer, graceUntil)).changes).toEqual(
        PRO_FEATURES.map((feature) => `revoke ${feature}`),
      );
      expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
        has_access: false,
        status: "revoked",
        reason: "payment_past_due_grace_expired",
      });
      expect(await scenarios.check(customer, "api_calls", 1)).toMatchObject({
        allowed: false,
        reason: "payment_past_due_grace_expired",
      });
    });
    await scenarios.expectLog(customer, [
      ...inGraceLog,
      ...rowsFor(PRO_FEATURES, "revoke", byJob(customer, graceUntil)),
    ]);
  });

  it("the upgrade's event arriving only after the downgrade's never grants the higher plan", async () => {
    const now = nowSeconds();
    const itemId = stripeId("si");
    const sub = aCustomerSubscription(shape, { created: now - 10 * DAY });
    const withPrice = (price: typeof proPrice) =>
      sub.snapshot({ items: [{ id: itemId, price: price(shape) }] });
    const created = eventAt("customer.subscription.created", withPrice(starterPrice), now - 10 * DAY);
    const upgraded = eventAt("customer.subscription.updated", withPrice(proPrice), now - 2 * DAY);
    const downgraded = eventAt("customer.subscription.updated", withPrice(starterPrice), now - DAY);
    await scenarios.deliver(created, downgraded, upgraded);

    expect(await scenarios.entitlement(sub.customer, "reports")).toMatchObject({
      has_access: false,
      reason: "no_plan_grants_feature",
    });
    expect(await scenarios.check(sub.customer, "api_calls", 1001)).toMatchObject({ allowed: false });
    expect(
      await scenarios.db.stripeEvent.findUniqueOrThrow({ where: { id: String(upgraded["id"]) } }),
    ).toMatchObject({
      status: "processed",
    });
    await scenarios.expectLog(sub.customer, rowsFor(STARTER_FEATURES, "grant", byEvent(created)));
  });

  it("an upgrade that replaces the item (new item id, old one removed) switches plans at once", async () => {
    const now = nowSeconds();
    const sub = aCustomerSubscription(shape, { created: now - 10 * DAY });
    const created = eventAt(
      "customer.subscription.created",
      sub.snapshot({ items: [{ id: stripeId("si"), price: starterPrice(shape) }] }),
      now - 600,
    );
    const replaced = eventAt(
      "customer.subscription.updated",
      sub.snapshot({ items: [{ id: stripeId("si"), price: proPrice(shape) }] }),
      now - 300,
    );
    await scenarios.deliver(created, replaced);
    expect(await scenarios.entitlement(sub.customer, "api_calls")).toMatchObject({
      has_access: true,
      limit: "10000",
    });
    expect(await scenarios.entitlement(sub.customer, "seats")).toMatchObject({ limit: "10" });
    await scenarios.expectLog(sub.customer, [
      ...rowsFor(STARTER_FEATURES, "grant", byEvent(created)),
      ["api_calls", "change", byEvent(replaced)],
      ["reports", "grant", byEvent(replaced)],
      ["seats", "change", byEvent(replaced)],
    ]);
  });
});

it("an account moving from the legacy API shape to basil mid-life changes nobody's access", async () => {
  const now = nowSeconds();
  const periodStart = now - 10 * DAY;
  const itemId = stripeId("si");
  const base = {
    created: periodStart,
    currentPeriodStart: periodStart,
    currentPeriodEnd: periodStart + 30 * DAY,
  };
  const legacy = aCustomerSubscription("legacy", {
    ...base,
    items: [{ id: itemId, price: proPrice("legacy") }],
  });
  const basil = aCustomerSubscription("basil", {
    ...base,
    customer: legacy.customer,
    id: legacy.id,
    items: [{ id: itemId, price: proPrice("basil") }],
  });
  const created = eventAt("customer.subscription.created", legacy.snapshot(), now - 600);
  const updated = eventAt(
    "customer.subscription.updated",
    basil.snapshot({ metadata: { note: "api upgraded" } }),
    now - 300,
  );
  expect(created["api_version"]).not.toBe(updated["api_version"]);
  await scenarios.deliver(created, updated);

  expect(await scenarios.entitlement(legacy.customer, "api_calls")).toMatchObject({
    has_access: true,
    limit: "10000",
    resets_at: new Date((periodStart + 30 * DAY) * 1000).toISOString(),
  });
  await scenarios.expectLog(legacy.customer, rowsFor(PRO_FEATURES, "grant", byEvent(created)));
});
