import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/errors.js";
import { decideOutcomeRecord, describeEventError, isHandled } from "../../../src/ingest/event-outcome.js";

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

/** Prisma's errors as a failed apply throws them (messages captured from prisma 6.19 with the pg adapter). */
function prismaError(name: string, message: string, code?: string): Error {
  const error = new Error(message);
  error.name = name;
  return code === undefined ? error : Object.assign(error, { code });
}

describe("describeEventError", () => {
  it.each<[string, unknown, string]>([
    [
      "a request error: the cause line after the call site and source excerpt",
      prismaError(
        "PrismaClientKnownRequestError",
        '\nInvalid `tx.subscriptionItem.create()` invocation in\n/work/main/src/sync/subscription-mirror.ts:10:59\n\n   7 for (const item of items)\n\u2192 10   await tx.subscriptionItem.create(\nValue out of range for the type: value "3000000000" is out of range for type integer',
        "P2020",
      ),
      'PrismaClientKnownRequestError P2020: Value out of range for the type: value "3000000000" is out of range for type integer',
    ],
    [
      "a validation error: the cause after the whole argument dump",
      prismaError(
        "PrismaClientValidationError",
        '\nInvalid `prisma.subscription.create()` invocation:\n\n{\n  data: {\n    currentPeriodEnd: new Date("Invalid Date")\n                      ~~~~~~~~~~~~~~~~~~~~~~~~\n  }\n}\n\nInvalid value for argument `currentPeriodEnd`: Provided Date object is invalid. Expected Date.',
      ),
      "PrismaClientValidationError: Invalid value for argument `currentPeriodEnd`: Provided Date object is invalid. Expected Date.",
    ],
    [
      "a driver error, already one line",
      prismaError(
        "DriverAdapterError",
        'new row for relation "subscription_items" violates check constraint "positive"',
      ),
      'DriverAdapterError: new row for relation "subscription_items" violates check constraint "positive"',
    ],
    [
      "colour codes",
      prismaError(
        "PrismaClientKnownRequestError",
        "\u001b[31mInvalid `db.x()` invocation\u001b[39m\n\u001b[1mUnique constraint failed\u001b[22m",
        "P2002",
      ),
      "PrismaClientKnownRequestError P2002: Unique constraint failed",
    ],
    [
      "a domain error",
      new DomainError("price_not_found", "price price_x is not mirrored"),
      "price_not_found: price price_x is not mirrored",
    ],
    [
      "a plain error of several lines: its first",
      new Error("connection reset\n    at Socket.read"),
      "Error: connection reset",
    ],
    ["something thrown that is not an error", "timeout", "timeout"],
  ])("%s", (_case, error, line) => {
    expect(describeEventError(error)).toBe(line);
  });

  it("cuts a long cause to 300 characters", () => {
    const line = describeEventError(new Error("x".repeat(1000)));
    expect(line).toHaveLength(300);
    expect(line.endsWith("...")).toBe(true);
  });
});
