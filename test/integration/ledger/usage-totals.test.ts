import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadUsageTotal, loadUsageTotals } from "../../../src/ledger/usage-totals.js";
import { createTestDb, type TestDb } from "../../support/db.js";

let t: TestDb;

beforeAll(async () => {
  t = await createTestDb();
  let n = 0;
  const entry = (
    customerId: string,
    feature: string,
    quantity: string,
    occurredAt: string,
    kind = "usage",
  ) => ({
    usageId: `u_${++n}`,
    kind: kind as "usage",
    customerId,
    feature,
    quantity,
    occurredAt: new Date(occurredAt),
    fingerprint: `fp_${n}`,
  });
  await t.db.ledgerEntry.createMany({
    data: [
      entry("cus_a", "tokens", "0.000001", "2026-11-01T00:00:00.000Z"), // the start is inclusive
      entry("cus_a", "tokens", "20000000", "2026-11-15T12:00:00.000Z"),
      entry("cus_a", "tokens", "7", "2026-11-30T23:59:59.999Z"),
      entry("cus_a", "tokens", "999", "2026-12-01T00:00:00.000Z"), // the end is exclusive
      entry("cus_a", "tokens", "999", "2026-10-31T23:59:59.999Z"),
      entry("cus_a", "tokens", "500", "2026-11-10T00:00:00.000Z", "credit_grant"), // not usage
      entry("cus_a", "api_calls", "3", "2026-11-10T00:00:00.000Z"),
      entry("cus_b", "tokens", "11", "2026-11-10T00:00:00.000Z"),
    ],
  });
});

afterAll(async () => t?.drop());

describe("loadUsageTotals", () => {
  it("sums each window as loadUsageTotal does, to the millisecond, in the order asked", async () => {
    const november = { from: new Date("2026-11-01T00:00:00Z"), to: new Date("2026-12-01T00:00:00Z") };
    const windows = [
      { customerId: "cus_a", feature: "tokens", ...november },
      { customerId: "cus_b", feature: "tokens", ...november },
      { customerId: "cus_a", feature: "api_calls", ...november },
      { customerId: "cus_nobody", feature: "tokens", ...november },
      {
        customerId: "cus_a",
        feature: "tokens",
        from: new Date("2026-11-30T23:59:59.999Z"),
        to: new Date("2026-12-01T00:00:00.001Z"),
      },
      { customerId: "cus_a", feature: "tokens", ...november },
    ];
    const totals = await loadUsageTotals(t.db, windows);
    expect(totals.map((total) => total.toString())).toEqual([
      "20000007.000001",
      "11",
      "3",
      "0",
      "1006",
      "20000007.000001",
    ]);
    const one = await Promise.all(windows.map((window) => loadUsageTotal(t.db, window)));
    expect(totals.map((total) => total.toString())).toEqual(one.map((total) => total.toString()));
    expect(await loadUsageTotals(t.db, [])).toEqual([]);
  });
});
