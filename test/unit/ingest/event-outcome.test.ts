import { describe, expect, it } from "vitest";
import { decideOutcomeRecord, isHandled } from "../../../src/ingest/event-outcome.js";

describe("decideOutcomeRecord", () => {
  it.each([
    [{ status: "applied" } as const, { status: "processed", ignoredReason: null, lastError: null }],
    [
      { status: "skipped", reason: "stale" } as const,
      { status: "processed", ignoredReason: "skipped: stale", lastError: null },
    ],
    [
      { status: "ignored", reason: "no handler" } as const,
      { status: "ignored", ignoredReason: "no handler", lastError: null },
    ],
    [
      { status: "unsupported", reason: "no customer" } as const,
      { status: "unsupported", ignoredReason: null, lastError: "no customer" },
    ],
  ])("records %o as %o", (outcome, record) => {
    expect(decideOutcomeRecord(outcome)).toEqual(record);
  });
});

describe("isHandled", () => {
  it("treats only processed and ignored events as done", () => {
    const statuses = ["received", "queued", "processed", "failed", "ignored", "unsupported"] as const;
    expect(statuses.filter(isHandled)).toEqual(["processed", "ignored"]);
  });
});
