import { describe, expect, it } from "vitest";
import {
  decideCustomerWrite,
  decideInvoiceWrite,
  decidePriceWrite,
  decideSubscriptionWrite,
  type GuardDecision,
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

type Expected = "write" | "skip" | "ask";
const verdict = (decision: GuardDecision): Expected =>
  decision.write ? "write" : decision.ask ? "ask" : "skip";

describe("decideSubscriptionWrite", () => {
  it.each<[string, string | null, number | null, string, number, Expected]>([
    ["newer active over past_due", "past_due", 5, "active", 10, "write"],
    ["older snapshot", "active", 10, "past_due", 5, "skip"],
    ["same-second tie between live statuses", "active", 10, "past_due", 10, "ask"],
    ["same-second tie between past_due and unpaid", "past_due", 10, "unpaid", 10, "ask"],
    ["the same status again in the same second", "past_due", 10, "past_due", 10, "write"],
    ["canceled, then a same-second active (canceled is last)", "canceled", 10, "active", 10, "skip"],
    ["canceled, then a later-stamped active (in question)", "canceled", 10, "active", 20, "ask"],
    ["canceled and incomplete_expired in one second", "canceled", 10, "incomplete_expired", 10, "ask"],
    ["canceled again", "canceled", 10, "canceled", 10, "write"],
    ["active, then a same-second canceled", "active", 10, "canceled", 10, "write"],
    ["incomplete_expired, then incomplete", "incomplete_expired", 10, "incomplete", 10, "skip"],
    [
      "active, then a same-second incomplete (created processed late)",
      "active",
      10,
      "incomplete",
      10,
      "skip",
    ],
    ["incomplete, then active", "incomplete", 10, "active", 10, "write"],
    ["incomplete, then incomplete_expired", "incomplete", 10, "incomplete_expired", 20, "write"],
    ["a bare row no event wrote", null, null, "active", 10, "write"],
  ])("%s -> %s", (_case, heldStatus, heldAt, status, at, expected) => {
    const held =
      heldStatus === null ? null : { status: heldStatus, eventCreated: heldAt === null ? null : t(heldAt) };
    expect(verdict(decideSubscriptionWrite(held, { ...incoming(at), status }, "ask"))).toBe(expected);
  });

  it("explains why a canceled subscription stays canceled", () => {
    expect(
      decideSubscriptionWrite(
        { status: "canceled", eventCreated: t(10) },
        { ...incoming(10), status: "active" },
        "ask",
      ),
    ).toEqual({ write: false, reason: "terminal: subscription is canceled and cannot become active" });
  });

  it("says what holds without Stripe: a live tie is applied, a terminal state kept", () => {
    const tie = decideSubscriptionWrite(
      { status: "active", eventCreated: t(10) },
      { ...incoming(10), status: "past_due" },
      "ask",
    );
    expect(tie).toEqual({
      write: false,
      reason: "tie: past_due in the same second as the held active",
      ask: { fallback: { write: true } },
    });
    expect(
      decideSubscriptionWrite(
        { status: "active", eventCreated: t(10) },
        { ...incoming(10), status: "past_due" },
        "rule",
      ),
    ).toEqual({ write: true });
    expect(
      decideSubscriptionWrite(
        { status: "canceled", eventCreated: t(10) },
        { ...incoming(20), status: "active" },
        "rule",
      ),
    ).toEqual({ write: false, reason: "terminal: subscription is canceled and cannot become active" });
  });

  it("lets Stripe's own copy through on time alone, and never over newer data", () => {
    const canceled = { status: "canceled", eventCreated: t(10) };
    expect(decideSubscriptionWrite(canceled, { ...incoming(11), status: "active" }, "fetched")).toEqual({
      write: true,
    });
    expect(decideSubscriptionWrite(canceled, { ...incoming(9), status: "active" }, "fetched")).toEqual({
      write: false,
      reason: "stale",
    });
  });
});

describe("decideInvoiceWrite", () => {
  it.each<[string, string, number, string, number, Expected]>([
    ["open over draft, later", "draft", 5, "open", 10, "write"],
    ["draft in the same second as open", "open", 10, "draft", 10, "skip"],
    ["open in the same second as paid", "paid", 10, "open", 10, "skip"],
    ["open later than paid (in question)", "paid", 10, "open", 20, "ask"],
    ["paid and void in one second", "void", 10, "paid", 10, "ask"],
    ["paid again (payment_succeeded after paid)", "paid", 10, "paid", 10, "write"],
    ["paid over uncollectible", "uncollectible", 10, "paid", 20, "write"],
    ["uncollectible in the same second as open", "open", 10, "uncollectible", 10, "write"],
    ["open after void", "void", 10, "open", 10, "skip"],
    ["updated after a deleted draft", "deleted", 10, "draft", 10, "skip"],
    ["older snapshot", "open", 10, "open", 5, "skip"],
  ])("%s -> %s", (_case, heldStatus, heldAt, status, at, expected) => {
    expect(
      verdict(
        decideInvoiceWrite(
          { status: heldStatus, eventCreated: t(heldAt) },
          { ...incoming(at), status },
          "ask",
        ),
      ),
    ).toBe(expected);
  });

  it("keeps a paid invoice paid without Stripe, and takes Stripe's copy when it is newer", () => {
    const paid = { status: "paid", eventCreated: t(10) };
    expect(decideInvoiceWrite(paid, { ...incoming(20), status: "open" }, "rule")).toEqual({
      write: false,
      reason: "terminal: invoice is paid and cannot become open",
    });
    expect(decideInvoiceWrite(paid, { ...incoming(20), status: "void" }, "fetched")).toEqual({ write: true });
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
