import { describe, expect, it } from "vitest";
import { parseSince } from "../../../src/cli/time-options.js";
import { decideBackfillWindow } from "../../../src/ingest/backfill-events.js";

const now = new Date("2026-12-03T12:00:00Z");
const windowFor = (since: string) => decideBackfillWindow(parseSince(since, now)!, now);

describe("decideBackfillWindow", () => {
  it("lists from --since 30d exactly, within Stripe's history", () => {
    expect(windowFor("30d")).toEqual({
      from: new Date("2026-11-03T12:00:00Z"),
      until: new Date("2026-12-03T11:55:00Z"),
      beyondRetention: false,
      emptyBecause: null,
    });
  });

  it("starts --since 31d at Stripe's 30-day horizon and says it reached beyond", () => {
    expect(windowFor("31d")).toMatchObject({ from: new Date("2026-11-03T12:00:00Z"), beyondRetention: true });
  });

  it.each([
    ["2027-01-01", "2027-01-01T00:00:00.000Z is in the future"],
    ["0h", "2026-12-03T12:00:00.000Z is less than 5 minutes ago"],
    ["4m", "2026-12-03T11:56:00.000Z is less than 5 minutes ago"],
    ["5m", "2026-12-03T11:55:00.000Z is less than 5 minutes ago"],
  ])("--since %s leaves nothing to list: %s", (since, reason) => {
    expect(windowFor(since).emptyBecause).toContain(reason);
  });

  it("--since 6m lists one minute", () => {
    expect(windowFor("6m")).toMatchObject({ from: new Date("2026-12-03T11:54:00Z"), emptyBecause: null });
  });
});
