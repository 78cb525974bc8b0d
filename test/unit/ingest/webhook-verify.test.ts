import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signWebhookPayload } from "../../../src/stripe/webhook-signature.js";
import { verifyStripeWebhook } from "../../../src/stripe/webhook-verify.js";

const SECRET = "whsec_unit_current";
const OLD_SECRET = "whsec_unit_previous";
const NOW_S = 1_800_000_000;
const body = JSON.stringify({
  id: "evt_unit_1",
  object: "event",
  created: NOW_S - 10,
  type: "invoice.paid",
  data: { object: { id: "in_1", object: "invoice" } },
});
const options = { secrets: [SECRET, OLD_SECRET], toleranceSeconds: 300, nowMs: NOW_S * 1000 };

function verify(raw: Buffer | string, header: string | undefined) {
  return verifyStripeWebhook(typeof raw === "string" ? Buffer.from(raw) : raw, header, options);
}

describe("verifyStripeWebhook", () => {
  it("returns our event type for a body signed with any configured secret", () => {
    for (const secret of [SECRET, OLD_SECRET]) {
      const result = verify(body, signWebhookPayload(body, secret, NOW_S));
      expect(result).toMatchObject({
        ok: true,
        event: { id: "evt_unit_1", type: "invoice.paid", objectId: "in_1" },
      });
    }
  });

  it("accepts the edge of the tolerance window and rejects one second past it", () => {
    expect(verify(body, signWebhookPayload(body, SECRET, NOW_S - 300)).ok).toBe(true);
    expect(verify(body, signWebhookPayload(body, SECRET, NOW_S - 301))).toEqual({
      ok: false,
      reason: "timestamp outside the tolerance window",
    });
  });

  it("prefers the stale-timestamp reason over the other secrets' mismatches", () => {
    const header = signWebhookPayload(body, OLD_SECRET, NOW_S - 1000);
    expect(verify(body, header)).toEqual({ ok: false, reason: "timestamp outside the tolerance window" });
  });

  it.each<[string, Buffer | string, string | undefined, string]>([
    ["an empty body", "", "t=1,v1=abc", "empty body"],
    ["no header", body, undefined, "missing Stripe-Signature header"],
    ["a header without a v1 signature", body, `t=${NOW_S}`, "malformed Stripe-Signature header"],
    ["a header without a timestamp", body, "v1=abc", "malformed Stripe-Signature header"],
    [
      "a signature over other bytes",
      body,
      signWebhookPayload(`${body} `, SECRET, NOW_S),
      "signature does not match",
    ],
    ["bytes that are not UTF-8", Buffer.from([0x7b, 0xff, 0x7d]), "t=1,v1=abc", "body is not UTF-8"],
  ])("rejects %s", (_label, raw, header, reason) => {
    expect(verify(raw, header)).toEqual({ ok: false, reason });
  });

  it("rejects a correctly signed body that is not a Stripe event", () => {
    const notEvent = JSON.stringify({ id: "evt_x", hello: "world" });
    const result = verify(notEvent, signWebhookPayload(notEvent, SECRET, NOW_S));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/^not a Stripe event: type:/);
  });

  it("returns the body exactly as signed, for intake to store", () => {
    const spaced = body.replace('"type":', '"type" :');
    const result = verify(spaced, signWebhookPayload(spaced, SECRET, NOW_S));
    expect(result).toMatchObject({ ok: true, body: spaced });
  });

  it("accepts a header carrying several v1 signatures when any one matches", () => {
    const good = signWebhookPayload(body, OLD_SECRET, NOW_S).split("v1=")[1];
    const other = "ab".repeat(32);
    const header = `t=${NOW_S},v1=${other},v1=${good},v0=${other}`;
    expect(verify(body, header).ok).toBe(true);
  });

  it("signs over the raw bytes, multi-byte characters included", () => {
    const unicode = body.replace("in_1", "in_ünïcödé_✓");
    const signature = createHmac("sha256", SECRET)
      .update(Buffer.from(`${NOW_S}.${unicode}`))
      .digest("hex");
    expect(verify(unicode, `t=${NOW_S},v1=${signature}`)).toMatchObject({ ok: true, body: unicode });
  });

  it.each([
    ["a timestamp that is not a number", `t=soon,v1=${"ab".repeat(32)}`, "malformed Stripe-Signature header"],
    ["a v1 value that is not 64 hex digits", `t=${NOW_S},v1=not-hex`, "signature does not match"],
    [
      "an upper-case copy of the right signature",
      signWebhookPayload(body, SECRET, NOW_S).toUpperCase().replace("T=", "t=").replace("V1=", "v1="),
      "signature does not match",
    ],
  ])("rejects %s", (_label, header, reason) => {
    expect(verify(body, header)).toEqual({ ok: false, reason });
  });

  it("judges the timestamp only under a matching signature", () => {
    const header = signWebhookPayload(body, "whsec_someone_else", NOW_S - 1000);
    expect(verify(body, header)).toEqual({ ok: false, reason: "signature does not match" });
  });
});
