import { Decimal } from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeQuantity, parseUsageEvent, usageEventSchema } from "../../../src/ledger/usage-input.js";

const now = new Date("2026-12-01T12:00:00Z");

describe("normalizeQuantity", () => {
  it.each([
    ["1", "1"],
    ["007.50", "7.5"],
    ["0.000001", "0.000001"],
    ["1.000000000000", "1"],
    ["0.000000000001", "0.000000000001"],
    [" 42 ", "42"],
    [12, "12"],
    [Number.MAX_SAFE_INTEGER, "9007199254740991"],
  ])("accepts %j as %s", (raw, expected) => {
    expect(normalizeQuantity(raw)).toEqual({ ok: true, quantity: expected });
  });

  it.each([
    [0.1, /JSON number 0.1 is not an exact integer/],
    [1e21, /not an exact integer/],
    [0, /greater than zero/],
    [-3, /greater than zero/],
    ["0.000", /greater than zero/],
    ["-1", /not a plain positive decimal/],
    ["1e3", /not a plain positive decimal/],
    ["1.", /not a plain positive decimal/],
    [".5", /not a plain positive decimal/],
    ["0x10", /not a plain positive decimal/],
    ["0.0000000000001", /more than 12 decimal places/],
    ["1".repeat(27), /more than 26 integer digits/],
    [null, /decimal string/],
    [true, /decimal string/],
  ])("rejects %j", (raw, message) => {
    const result = normalizeQuantity(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it("keeps the exact value of any decimal it accepts, in the canonical form", () => {
    const decimal = fc
      .tuple(fc.stringMatching(/^[0-9]{1,20}$/), fc.stringMatching(/^[0-9]{0,12}$/))
      .map(([integer, fraction]) => (fraction.length > 0 ? `${integer}.${fraction}` : integer))
      .filter((text) => new Decimal(text).gt(0));
    fc.assert(
      fc.property(decimal, (text) => {
        const result = normalizeQuantity(text);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(new Decimal(result.quantity).eq(new Decimal(text))).toBe(true);
        expect(result.quantity).toBe(new Decimal(text).toFixed());
        expect(normalizeQuantity(result.quantity)).toEqual(result);
      }),
    );
  });
});

describe("usageEventSchema", () => {
  const valid = { usage_id: "req_1", customer: "cus_1", feature: "tokens", quantity: "3" };

  it("gives a null timestamp and empty properties when the caller sent none", () => {
    expect(usageEventSchema({ now }).parse(valid)).toEqual({
      usageId: "req_1",
      customer: "cus_1",
      feature: "tokens",
      quantity: "3",
      timestamp: null,
      properties: {},
    });
  });

  it("accepts any feature name without a catalog and only catalog features with one", () => {
    const event = { ...valid, feature: "anything" };
    expect(usageEventSchema({ now }).safeParse(event).success).toBe(true);
    const featureType = (name: string) => (name === "tokens" ? "metered" : undefined);
    expect(usageEventSchema({ now, featureType }).safeParse(event).success).toBe(false);
    expect(usageEventSchema({ now, featureType }).safeParse(valid).success).toBe(true);
  });

  it("accepts up to 5 minutes in the future and no more", () => {
    const at = (ms: number) => ({ ...valid, timestamp: new Date(now.getTime() + ms).toISOString() });
    expect(usageEventSchema({ now }).safeParse(at(5 * 60_000)).success).toBe(true);
    expect(usageEventSchema({ now }).safeParse(at(5 * 60_000 + 1000)).success).toBe(false);
  });

  it("reads unix seconds and ISO times with an offset", () => {
    const schema = usageEventSchema({ now });
    expect(schema.parse({ ...valid, timestamp: 1795176000 }).timestamp?.toISOString()).toBe(
      "2026-11-20T12:00:00.000Z",
    );
    expect(schema.parse({ ...valid, timestamp: "2026-12-01T13:00:00+01:00" }).timestamp?.toISOString()).toBe(
      "2026-12-01T12:00:00.000Z",
    );
    expect(schema.safeParse({ ...valid, timestamp: 1.5 }).success).toBe(false);
  });

  it("refuses usage older than Stripe's meters take (34 days kept, of their 35), and accepts it just inside", () => {
    const schema = usageEventSchema({ now });
    const daysAgo = (days: number, extraMs = 0) =>
      new Date(now.getTime() - days * 86_400_000 - extraMs).toISOString();
    expect(schema.safeParse({ ...valid, timestamp: daysAgo(34) }).success).toBe(true);
    const old = schema.safeParse({ ...valid, timestamp: daysAgo(34, 1) });
    expect(old.success).toBe(false);
    expect(old.error?.issues[0]).toMatchObject({
      path: ["timestamp"],
      message:
        "is more than 34 days in the past: Stripe meters take only the last 35 days, so this usage could never be billed",
    });
    expect(schema.safeParse({ ...valid, timestamp: "1971-01-01T00:00:00Z" }).success).toBe(false);
  });

  it.each([
    ["milliseconds", 1795176000000],
    ["a date-time without its zone", "2026-11-20T12:00:00"],
    ["a day that does not exist", "2026-13-45T00:00:00Z"],
  ])("says what a timestamp must be when it is %s", (_case, timestamp) => {
    const result = usageEventSchema({ now }).safeParse({ ...valid, timestamp });
    expect(result.error?.issues[0]).toMatchObject({
      path: ["timestamp"],
      message:
        "must be an ISO 8601 date-time with its time zone (e.g. 2026-12-01T12:00:00Z) or whole unix seconds (not milliseconds)",
    });
  });

  it("parseUsageEvent puts every problem of an event on one line and keeps its usage_id", () => {
    const result = parseUsageEvent({ usage_id: "req_9", customer: "", quantity: 0.25 }, { now });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.usageId).toBe("req_9");
    expect(result.message).toMatch(/customer: /);
    expect(result.message).toMatch(/feature: /);
    expect(result.message).toMatch(/quantity: JSON number 0.25/);
  });
});
