import { describe, expect, it } from "vitest";
import { parsePeriod } from "../../../src/cli/commands/reconcile.js";

describe("reconcile --from/--to", () => {
  it.each([
    ["2026-11-01", "2026-12-01", "2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z"],
    ["2026-11-01T00:00:00Z", "2026-11-01T12:30Z", "2026-11-01T00:00:00.000Z", "2026-11-01T12:30:00.000Z"],
    [
      "2026-11-01T01:00:00+01:00",
      "2026-11-02T00:00:00.5-05:00",
      "2026-11-01T00:00:00.000Z",
      "2026-11-02T05:00:00.500Z",
    ],
  ])("%s to %s is [%s, %s)", (from, to, start, end) => {
    const period = parsePeriod(from, to);
    expect(period.ok && [period.from.toISOString(), period.to.toISOString()]).toEqual([start, end]);
  });

  it.each([
    [undefined, "2026-12-01", "missing --from (use an ISO date such as 2026-11-01 or 2026-11-01T00:00:00Z)"],
    ["2026-11-01", undefined, "missing --to (use an ISO date such as 2026-11-01 or 2026-11-01T00:00:00Z)"],
    ["yesterday", "2026-12-01", '--from "yesterday" is not a date with a time zone'],
    ["2026-11-01T00:00:00", "2026-12-01", '--from "2026-11-01T00:00:00" is not a date with a time zone'],
    ["2026-02-30", "2026-12-01", '--from "2026-02-30" is not a day that exists'],
    ["2026-11-01", "1764547200", '--to "1764547200" is not a date'],
    ["2026-12-01", "2026-11-01", "--from 2026-12-01 must be before --to 2026-11-01"],
    ["2026-11-01", "2026-11-01T00:00:00Z", "--from 2026-11-01 must be before --to 2026-11-01T00:00:00Z"],
  ])("--from %s --to %s is refused: %s", (from, to, reason) => {
    const period = parsePeriod(from, to);
    expect(period.ok).toBe(false);
    expect(!period.ok && period.reason).toContain(reason);
  });
});
