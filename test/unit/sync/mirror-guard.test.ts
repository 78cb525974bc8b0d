import { describe, expect, it } from "vitest";
import {
  decideCustomerWrite,
  decideInvoiceWrite,
  decidePriceWrite,
  decideSubscriptionWrite,
} from "../../../src/sync/mirror-guard.js";

const t = (seconds: number) => new Date(1_767_225_600_000 + seconds * 1000);
const incoming = (seconds: number) => ({ eventCreated: t(seconds), eventId: `evt_${seconds}` });

describe("decidePriceWrite", () => {
  it.each([
    ["nothing held", null, 10, true],
    ["a row no event wrote", { eventCreated: null }, 10, true],
    ["an older event held", { eventCreated: t(5) }, 10, true],
    ["the same second held", { eventCreated: t(10) }, 10, true],
    ["a newer event held", { eventCreated: t(11) }, 10, false],
  ])("%s -> write %s", (_case, held, at, write) => {
    expect(decidePriceWrite(held, incoming(at)).write).toBe(write);
  });

  it("names staleness plainly", () => {
    expect(decidePriceWrite({ eventCreated: t(11) }, incoming(10))).toEqual({
      write: false,
      reason: "stale",
    });
  });
});

describe("decideSubscriptionWrite", () => {
  it.each([
    ["newer active over past_due", "past_due", 5, "active", 10, true],
    ["older snapshot", "active", 10, "past_due", 5, false],
    ["same-second tie between live statuses", "active", 10, "past_due", 10, true],
    ["canceled, then a same-second active", "canceled", 10, "active", 10, false],
    ["canceled, then a later-stamped active", "canceled", 10, "active", 20, false],
    ["canceled again", "canceled", 10, "canceled", 10, true],
    ["incomplete_expired, then incomplete", "incomplete_expired", 10, "incomplete", 10, false],
    ["active, then a same-second incomplete (created processed late)", "active", 10, "incomplete", 10, false],
    ["incomplete, then active", "incomplete", 10, "active", 10, true],
    ["incomplete, then incomplete_expired", "incomplete", 10, "incomplete_expired", 20, true],
    ["a bare row no event wrote", null, null, "active", 10, true],
  ] as const)("%s -> write %s", (_case, heldStatus, heldAt, status, at, write) => {
    const held =
      heldStatus === null ? null : { status: heldStatus, eventCreated: heldAt === null ? null : t(heldAt) };
    expect(decideSubscriptionWrite(held, { ...incoming(at), status }).write).toBe(write);
  });

  it("explains why a canceled subscription stays canceled", () => {
    expect(
      decideSubscriptionWrite(
        { status: "canceled", eventCreated: t(10) },
        { ...incoming(10), status: "active" },
      ),
    ).toEqual({ write: false, reason: "terminal: subscription is canceled and cannot become active" });
  });
});

describe("decideInvoiceWrite", () => {
  it.each([
    ["open over draft, later", "draft", 5, "open", 10, true],
    ["draft in the same second as open", "open", 10, "draft", 10, false],
    ["open in the same second as paid", "paid", 10, "open", 10, false],
    ["open later than paid (paid is final)", "paid", 10, "open", 20, false],
    ["paid again (payment_succeeded after paid)", "paid", 10, "paid", 10, true],
    ["paid over uncollectible", "uncollectible", 10, "paid", 20, true],
    ["open after void", "void", 10, "open", 10, false],
    ["updated after a deleted draft", "deleted", 10, "draft", 10, false],
    ["older snapshot", "open", 10, "open", 5, false],
  ] as const)("%s -> write %s", (_case, heldStatus, heldAt, status, at, write) => {
    expect(
      decideInvoiceWrite({ status: heldStatus, eventCreated: t(heldAt) }, { ...incoming(at), status }).write,
    ).toBe(write);
  });
});

describe("decideCustomerWrite", () => {
  it.each([
    ["deleted, then a same-second update", true, 10, false, 10, false],
    ["deleted, then deleted again", true, 10, true, 10, true],
    ["live, then deleted", false, 10, true, 10, true],
    ["older snapshot", false, 10, false, 5, false],
  ] as const)("%s -> write %s", (_case, heldDeleted, heldAt, deleted, at, write) => {
    expect(
      decideCustomerWrite({ deleted: heldDeleted, eventCreated: t(heldAt) }, { ...incoming(at), deleted })
        .write,
    ).toBe(write);
  });
});
