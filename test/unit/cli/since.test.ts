import { describe, expect, it } from "vitest";
import { parseSince } from "../../../src/cli/time-options.js";

const now = new Date("2026-12-03T12:00:00Z");

describe("parseSince", () => {
  it.each([
    ["90m", "2026-12-03T10:30:00.000Z"],
    ["2h", "2026-12-03T10:00:00.000Z"],
    ["3d", "2026-11-30T12:00:00.000Z"],
    ["1w", "2026-11-26T12:00:00.000Z"],
    ["2026-11-20", "2026-11-20T00:00:00.000Z"],
    ["2026-11-20T10:15:00Z", "2026-11-20T10:15:00.000Z"],
    ["2026-11-20T10:15", "2026-11-20T10:15:00.000Z"],
    ["2026-11-20T10:15:00+02:00", "2026-11-20T08:15:00.000Z"],
  ])("reads %s", (value, expected) => {
    expect(parseSince(value, now)?.toISOString()).toBe(expected);
  });

  it.each(["", "yesterday", "2h ago", "-3d", "2026-13-45", "2026-02-30", "20261120"])(
    "rejects %j",
    (value) => {
      expect(parseSince(value, now)).toBeNull();
    },
  );
});
