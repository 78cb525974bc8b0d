import { describe, expect, it } from "vitest";
import { normalizeCharge, normalizeDispute, normalizeRefund } from "../../../src/stripe/normalize/index.js";
import { isFullyRefunded } from "../../../src/sync/payment-handlers.js";

const charge = (fields: Record<string, unknown>) => {
  const normalized = normalizeCharge({
    id: "ch_1",
    object: "charge",
    amount: 2500,
    currency: "USD",
    customer: "cus_1",
    ...fields,
  });
  if (!normalized.ok) throw new Error(normalized.reason);
  return normalized.value;
};

describe("isFullyRefunded", () => {
  it.each([
    ["Stripe's flag", { amount_captured: 2500, amount_refunded: 2500, refunded: true }, true],
    ["part of the captured amount", { amount_captured: 2500, amount_refunded: 1000, refunded: false }, false],
    [
      "all of a partly captured charge",
      { amount_captured: 1500, amount_refunded: 1500, refunded: false },
      true,
    ],
    ["an old payload without amount_captured", { captured: true, amount_refunded: 2500 }, true],
    ["nothing captured yet", { captured: false, amount_refunded: 0 }, false],
  ])("%s -> %s", (_case, fields, expected) => {
    expect(isFullyRefunded(charge(fields))).toBe(expected);
  });
});

describe("payment normalizers", () => {
  it("read the charge's invoice (pre-basil), payment intent and customer, expanded or not", () => {
    expect(
      charge({
        amount_refunded: 0,
        invoice: { id: "in_1", object: "invoice" },
        payment_intent: "pi_1",
        customer: { id: "cus_2", object: "customer" },
      }),
    ).toMatchObject({
      stripeInvoiceId: "in_1",
      stripePaymentIntentId: "pi_1",
      stripeCustomerId: "cus_2",
      currency: "usd",
    });
  });

  it("read a refund's and a dispute's charge, embedded when expanded", () => {
    const expanded = { id: "ch_9", object: "charge", amount: 10, amount_refunded: 10, currency: "eur" };
    const refund = normalizeRefund({ id: "re_1", object: "refund", amount: 10, charge: expanded });
    expect(refund).toMatchObject({
      ok: true,
      value: { stripeChargeId: "ch_9", charge: { refunded: false } },
    });
    const dispute = normalizeDispute({
      id: "dp_1",
      object: "dispute",
      amount: 10,
      charge: "ch_9",
      status: "won",
    });
    expect(dispute).toMatchObject({
      ok: true,
      value: { stripeChargeId: "ch_9", charge: null, status: "won" },
    });
    expect(normalizeDispute({ id: "dp_2", object: "dispute", amount: 10 })).toEqual({
      ok: false,
      reason: "dispute dp_2 has no status",
    });
  });
});
