import { describe, expect, it } from "vitest";
import { normalizeCustomer } from "../../../src/stripe/normalize/index.js";
import { aCustomer, aDeletedCustomerStub, objectOf, stripeFixture } from "../../support/builders.js";

describe("normalizeCustomer", () => {
  it("reads a captured customer", () => {
    const raw = objectOf(stripeFixture("events/2020-03-02__customer.updated__stripe-sync-engine.json"));
    expect(normalizeCustomer(raw)).toEqual({
      ok: true,
      value: {
        stripeCustomerId: "cus_IhGfebO16cMIGN",
        deleted: false,
        details: {
          email: "customer@example.com",
          name: "Test Customer",
          metadata: { supabase_org_id: "35" },
          stripeCreated: new Date(1609763141 * 1000),
        },
      },
    });
  });

  it("reads an old hand-maintained customer with a null name", () => {
    const result = normalizeCustomer(
      stripeFixture("objects/pre-2020-08-27__customer__dj-stripe__with-subscriptions.json"),
    );
    expect(result).toMatchObject({
      ok: true,
      value: { stripeCustomerId: "cus_6lsBvm5rJ0zyHc", details: { name: null } },
    });
  });

  it("reads a deletion stub as deleted with unknown details (not empty ones)", () => {
    const raw = objectOf(stripeFixture("events/2020-03-02__customer.deleted__stripe-sync-engine.json"));
    expect(normalizeCustomer(raw)).toEqual({
      ok: true,
      value: { stripeCustomerId: "cus_IhGfebO16cMIGN", deleted: true, details: null },
    });
    expect(normalizeCustomer(aDeletedCustomerStub("cus_x"))).toMatchObject({
      ok: true,
      value: { details: null },
    });
  });

  it("keeps only string metadata", () => {
    const raw = aCustomer({ metadata: { user_id: "u_1" } });
    (raw["metadata"] as Record<string, unknown>)["weird"] = 12;
    expect(normalizeCustomer(raw)).toMatchObject({
      ok: true,
      value: { details: { metadata: { user_id: "u_1" } } },
    });
  });

  it("refuses what is not a customer", () => {
    expect(normalizeCustomer({ id: "sub_1", object: "subscription" })).toEqual({
      ok: false,
      reason: "sub_1 is a subscription, not a customer",
    });
    expect(normalizeCustomer({ object: "customer" })).toEqual({ ok: false, reason: "customer has no id" });
  });
});
