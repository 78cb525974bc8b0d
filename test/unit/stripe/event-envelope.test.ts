import { describe, expect, it } from "vitest";
import { parseEventEnvelope } from "../../../src/stripe/normalize/event-envelope.js";

const envelope = {
  id: "evt_1J02NfJDPojXS6LNawmt1X8q",
  object: "event",
  api_version: "2026-11-18.endive",
  created: 1_623_148_918,
  data: { object: { id: "sub_1", object: "subscription" } },
  livemode: true,
  type: "customer.subscription.created",
};

describe("parseEventEnvelope", () => {
  it("extracts what intake stores and keeps the whole envelope", () => {
    const result = parseEventEnvelope(envelope);
    expect(result).toEqual({
      ok: true,
      event: {
        id: envelope.id,
        type: "customer.subscription.created",
        apiVersion: "2026-11-18.endive",
        created: new Date(1_623_148_918_000),
        livemode: true,
        objectId: "sub_1",
        payload: envelope,
      },
    });
  });

  it("accepts an envelope without api_version, livemode or an object id", () => {
    const { api_version: _version, livemode: _livemode, ...rest } = envelope;
    const result = parseEventEnvelope({ ...rest, data: { object: { object: "balance" } } });
    expect(result.ok && result.event).toMatchObject({ apiVersion: null, livemode: false, objectId: null });
  });

  it.each<[string, unknown, string]>([
    ["a non-event id", { ...envelope, id: "cus_123" }, "id"],
    ["a missing type", { ...envelope, type: undefined }, "type"],
    ["a created that is not a Unix time", { ...envelope, created: "2026-01-01" }, "created"],
    ["a created in milliseconds, past any date Stripe sends", { ...envelope, created: 1e13 }, "created"],
    ["a created before 2000", { ...envelope, created: 86_400 }, "created"],
    ["no data.object", { ...envelope, data: {} }, "data.object"],
    ["another object kind", { ...envelope, object: "customer" }, "object"],
    ["an array", [envelope], "body"],
  ])("rejects %s, naming the field", (_label, json, field) => {
    const result = parseEventEnvelope(json);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(
      new RegExp(`^not a Stripe event: ${field.replace(".", "\\.")}:`),
    );
  });
});
