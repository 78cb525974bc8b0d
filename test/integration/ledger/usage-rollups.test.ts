import { randomBytes } from "node:crypto";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDb, Prisma } from "../../../src/db/client.js";
import { applyMigrations } from "../../../src/db/migrate.js";
import { LEDGER_ROW_SELECT } from "../../../src/ledger/load-ledger.js";
import { recordUsageEvents } from "../../../src/ledger/record-usage.js";
import type { UsageEvent } from "../../../src/ledger/usage-input.js";
import { loadUsageTotal, loadUsageTotals, type UsageWindow } from "../../../src/ledger/usage-totals.js";
import { createTestDb, type TestDb } from "../../support/db.js";
import { databaseUrl, TEST_PG_URL } from "../../support/env.js";

type Kind = "usage" | "credit_grant" | "credit_deduction" | "credit_expiry" | "adjustment";
type Row = {
  usageId: string;
  kind: Kind;
  customerId: string;
  feature: string;
  quantity: string;
  occurredAt: Date;
};
/** A query runner: Prisma's raw queries on the test database, or a pg client on another connection. */
type Sql = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** 2026-11-02T00:00:00Z: the ledger's rows fall in the three days after it. */
const BASE = Date.UTC(2026, 10, 2);
const SPAN_HOURS = 72;

let t: TestDb;
let sql: Sql;

beforeAll(async () => {
  t = await createTestDb();
  sql = (text, params = []) => t.db.$queryRawUnsafe(text, ...params);
});

afterAll(async () => t?.drop());

/** An empty ledger and no rollups, whatever the triggers do. */
async function emptyLedger(): Promise<void> {
  await sql(`TRUNCATE ledger_entries`);
  await sql(`DELETE FROM usage_rollups`);
}

beforeEach(emptyLedger);

const onClient =
  (client: pg.Client): Sql =>
  async (text, params) =>
    (await client.query(text, params)).rows;

/** Ledger rows as an operator or another writer adds them: one INSERT statement, any kind. */
async function insertRows(run: Sql, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  await run(
    `INSERT INTO ledger_entries (id, "usageId", kind, "customerId", feature, quantity, "occurredAt", fingerprint)
     SELECT gen_random_uuid()::text, r."usageId", r.kind::"LedgerKind", r."customerId", r.feature, r.quantity,
       r."occurredAt", 'fp_' || r."usageId"
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::timestamp(3)[])
       AS r("usageId", kind, "customerId", feature, quantity, "occurredAt")`,
    [
      rows.map((row) => row.usageId),
      rows.map((row) => row.kind),
      rows.map((row) => row.customerId),
      rows.map((row) => row.feature),
      rows.map((row) => row.quantity),
      // A UTC ISO string read as `timestamp` keeps its wall time, as the ledger's UTC column stores it.
      rows.map((row) => row.occurredAt.toISOString()),
    ],
  );
}

/** Prisma.Decimal rounds sums to 20 significant digits; the ledger's sums reach 38 and more. */
const Exact = Prisma.Decimal.clone({ precision: 80 });

/** Net usage of a window summed row by row, as the ledger defines it: kind usage, occurredAt in [from, to). */
function naiveTotal(rows: readonly Row[], window: UsageWindow): Prisma.Decimal {
  let total = new Exact(0);
  for (const row of rows) {
    if (row.kind !== "usage" || row.customerId !== window.customerId || row.feature !== window.feature)
      continue;
    if (window.from != null && row.occurredAt < window.from) continue;
    if (window.to != null && row.occurredAt >= window.to) continue;
    total = total.plus(row.quantity);
  }
  return total;
}

async function expectTotals(db: TestDb["db"], rows: readonly Row[], windows: readonly UsageWindow[]) {
  const totals = await loadUsageTotals(db, windows);
  expect(totals.map((total) => total.toFixed())).toEqual(
    windows.map((window) => naiveTotal(rows, window).toFixed()),
  );
}

/**
 * Hours and minutes where usage_rollups and the ledger's own sums per UTC hour and minute differ. `exact`: a rollup
 * row exists exactly for the hours and minutes holding usage; otherwise one whose usage was all deleted may keep a
 * rollup row of 0.
 */
async function rollupDifferences(run: Sql, options: { exact: boolean }) {
  const differs = options.exact
    ? `r.quantity IS DISTINCT FROM l.quantity`
    : `coalesce(r.quantity, 0) <> coalesce(l.quantity, 0)`;
  return run(
    `SELECT coalesce(r."customerId", l."customerId") AS customer, coalesce(r.feature, l.feature) AS feature,
       coalesce(r.unit, l.unit) AS unit, coalesce(r."startsAt", l."startsAt")::text AS "startsAt",
       r.quantity::text AS rollup, l.quantity::text AS ledger
     FROM usage_rollups r
     FULL JOIN (
       SELECT "customerId", feature, 'hour' AS unit, date_trunc('hour', "occurredAt") AS "startsAt",
         sum(quantity) AS quantity
       FROM ledger_entries WHERE kind = 'usage' GROUP BY 1, 2, 3, 4
       UNION ALL
       SELECT "customerId", feature, 'minute', date_trunc('minute', "occurredAt"), sum(quantity)
       FROM ledger_entries WHERE kind = 'usage' GROUP BY 1, 2, 3, 4
     ) l ON r."customerId" = l."customerId" AND r.feature = l.feature AND r.unit = l.unit
       AND r."startsAt" = l."startsAt"
     WHERE ${differs}
     ORDER BY 1, 2, 3, 4`,
  );
}

async function rollupCount(run: Sql): Promise<number> {
  const [row] = await run(`SELECT count(*)::int AS n FROM usage_rollups`);
  return row!.n as number;
}

/** Every rollup row as "customer feature unit startsAt quantity", in key order. */
async function rollupSnapshot(run: Sql): Promise<string[]> {
  const rows = await run(
    `SELECT concat_ws(' ', "customerId", feature, unit, "startsAt"::text, quantity::text) AS line
     FROM usage_rollups ORDER BY "customerId", feature, unit, "startsAt"`,
  );
  return rows.map((row) => row.line as string);
}

const at = (iso: string) => new Date(iso);

// ---- generators -------------------------------------------------------------------------------------------------

const CUSTOMERS = ["cus_a", "cus_b"] as const;
const FEATURES = ["tokens", "api_calls"] as const;
const OTHER_KINDS = ["credit_grant", "credit_deduction", "credit_expiry", "adjustment"] as const;

/** An hour or a minute of the ledger's three days (plus an hour either side), as epoch milliseconds. */
const boundaryArb = fc.oneof(
  fc.integer({ min: -1, max: SPAN_HOURS + 1 }).map((hour) => BASE + hour * HOUR),
  fc.integer({ min: -60, max: (SPAN_HOURS + 1) * 60 }).map((minute) => BASE + minute * MINUTE),
);

/** A time in the ledger's three days, often exactly on an hour or a minute or one millisecond either side of it. */
const timeArb = fc
  .oneof(
    fc.tuple(boundaryArb, fc.constantFrom(0, 0, -1, 1)).map(([boundary, off]) => boundary + off),
    fc.integer({ min: -HOUR, max: (SPAN_HOURS + 1) * HOUR }).map((offset) => BASE + offset),
  )
  .map((ms) => new Date(ms));

/** A decimal string the ledger stores exactly: up to 12 fractional digits, sometimes a very large amount. */
const quantityArb = fc
  .tuple(
    fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 1000 }).map(String), weight: 4 },
      { arbitrary: fc.bigInt({ min: 0n, max: 10n ** 24n }).map(String), weight: 1 },
    ),
    fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 12 }).map((digits) => digits.join("")),
  )
  .map(([whole, fraction]) => (fraction === "" ? whole : `${whole}.${fraction}`));

const rowArb = fc.record({
  kind: fc.oneof(
    { arbitrary: fc.constant<Kind>("usage"), weight: 5 },
    { arbitrary: fc.constantFrom<Kind>(...OTHER_KINDS), weight: 1 },
  ),
  customerId: fc.constantFrom(...CUSTOMERS),
  feature: fc.constantFrom(...FEATURES),
  quantity: quantityArb,
  occurredAt: timeArb,
});

/** Rows in 1 to 5 INSERT statements. */
const statementsArb = fc.array(fc.array(rowArb, { maxLength: 25 }), { minLength: 1, maxLength: 5 });

const hourArb = fc.integer({ min: -1, max: SPAN_HOURS + 1 }).map((hour) => BASE + hour * HOUR);
const rangeArb: fc.Arbitrary<{ from: Date | null; to: Date | null }> = fc.oneof(
  // Any ends, either one open.
  fc.record({
    from: fc.option(timeArb, { nil: null, freq: 4 }),
    to: fc.option(timeArb, { nil: null, freq: 4 }),
  }),
  // Inside one hour or one minute, sometimes starting on it.
  fc
    .tuple(
      hourArb,
      fc.constantFrom(HOUR, MINUTE),
      fc.integer({ min: 0, max: HOUR - 1 }),
      fc.integer({ min: 0, max: HOUR - 1 }),
      fc.boolean(),
    )
    .map(([hour, unit, a, b, onStart]) => ({
      from: new Date(hour + (onStart ? 0 : Math.min(a % unit, b % unit))),
      to: new Date(hour + Math.max(a % unit, b % unit) + 1),
    })),
  // Starting and ending exactly on hours or minutes, or one millisecond off them.
  fc
    .tuple(boundaryArb, boundaryArb, fc.constantFrom(-1, 0, 0, 1), fc.constantFrom(-1, 0, 0, 1))
    .map(([a, b, da, db]) => ({ from: new Date(Math.min(a, b) + da), to: new Date(Math.max(a, b) + db) })),
  // Empty: the end at or before the start.
  fc
    .tuple(timeArb, fc.integer({ min: 0, max: 5 * HOUR }))
    .map(([from, back]) => ({ from, to: new Date(from.getTime() - back) })),
);

/** A window end near a ledger row: the row's time (or the start of its minute or hour), moved by a little. */
type NearRow = { startOf: number | null; shift: number };
const nearRowArb: fc.Arbitrary<NearRow> = fc.record({
  startOf: fc.constantFrom(null, null, MINUTE, HOUR),
  shift: fc.constantFrom(0, 0, 1, -1, 1000, -1000, 30_000, -30_000, MINUTE, -MINUTE, HOUR, -HOUR),
});

/**
 * A window given outright, or around one of the ledger's rows (its customer and feature, either end open or near
 * the row): so windows start and end right next to usage, inside its minute or hour, or end before they start.
 */
type WindowSpec =
  | { kind: "given"; window: UsageWindow }
  | { kind: "aroundRow"; row: number; from: NearRow | null; to: NearRow | null };
const windowSpecArb: fc.Arbitrary<WindowSpec> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...CUSTOMERS), fc.constantFrom(...FEATURES), rangeArb)
    .map(([customerId, feature, range]) => ({
      kind: "given" as const,
      window: { customerId, feature, ...range },
    })),
  fc.record({
    kind: fc.constant("aroundRow" as const),
    row: fc.nat(),
    from: fc.option(nearRowArb, { nil: null, freq: 6 }),
    to: fc.option(nearRowArb, { nil: null, freq: 6 }),
  }),
);

function windowOf(spec: WindowSpec, rows: readonly Row[]): UsageWindow {
  if (spec.kind === "given") return spec.window;
  if (rows.length === 0) return { customerId: "cus_a", feature: "tokens" };
  const row = rows[spec.row % rows.length]!;
  const time = row.occurredAt.getTime();
  const near = (end: NearRow | null): Date | null => {
    if (end === null) return null;
    const start = end.startOf === null ? time : time - ((time - BASE + 2 * HOUR) % end.startOf);
    return new Date(start + end.shift);
  };
  return { customerId: row.customerId, feature: row.feature, from: near(spec.from), to: near(spec.to) };
}

// ---- tests ------------------------------------------------------------------------------------------------------

describe("usage_rollups", () => {
  it("windowed totals equal the ledger summed row by row, and each hour's and minute's rollup equals its ledger rows (property)", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        statementsArb,
        fc.array(windowSpecArb, { minLength: 1, maxLength: 20 }),
        async (statements, specs) => {
          run += 1;
          await emptyLedger();
          let n = 0;
          const rows: Row[] = [];
          for (const statement of statements) {
            const batch = statement.map((row) => ({ ...row, usageId: `p${run}_${++n}` }));
            await insertRows(sql, batch);
            rows.push(...batch);
          }
          // Every customer and feature over all time, plus the random windows.
          const everything = CUSTOMERS.flatMap((customerId) =>
            FEATURES.map((feature) => ({ customerId, feature, from: null, to: null })),
          );
          const windows = specs.map((spec) => windowOf(spec, rows));
          await expectTotals(t.db, rows, [...everything, ...windows]);
          expect(await rollupDifferences(sql, { exact: true })).toEqual([]);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("recording the same usage events again changes neither totals nor rollups", async () => {
    const ctx = { db: t.db };
    const event = (usageId: string, quantity: string, timestamp: string): UsageEvent => ({
      usageId,
      customer: "cus_replay",
      feature: "tokens",
      quantity,
      timestamp: at(timestamp),
      properties: { model: "small" },
    });
    const events = [
      event("rp_1", "1.5", "2026-11-02T10:00:00.000Z"),
      event("rp_2", "0.000000000001", "2026-11-02T10:59:59.999Z"),
      event("rp_3", "250", "2026-11-02T11:00:00.000Z"),
      event("rp_4", "12.25", "2026-11-02T13:30:00.000Z"),
    ];
    // A usage_id twice in one batch counts once.
    const first = await recordUsageEvents(ctx, [...events, events[2]!]);
    expect(first.map((outcome) => outcome.status)).toEqual([
      "recorded",
      "recorded",
      "recorded",
      "recorded",
      "duplicate",
    ]);
    const windows: UsageWindow[] = [
      { customerId: "cus_replay", feature: "tokens" },
      {
        customerId: "cus_replay",
        feature: "tokens",
        from: at("2026-11-02T10:00:00Z"),
        to: at("2026-11-02T12:00:00Z"),
      },
      {
        customerId: "cus_replay",
        feature: "tokens",
        from: at("2026-11-02T10:30:00Z"),
        to: at("2026-11-02T13:45:00Z"),
      },
    ];
    const totalsOf = async () => (await loadUsageTotals(t.db, windows)).map((total) => total.toFixed());
    const expected = ["263.750000000001", "251.500000000001", "262.250000000001"];
    expect(await totalsOf()).toEqual(expected);
    const rollups = await rollupSnapshot(sql);
    expect(rollups).toEqual([
      "cus_replay tokens hour 2026-11-02 10:00:00 1.500000000001",
      "cus_replay tokens hour 2026-11-02 11:00:00 250.000000000000",
      "cus_replay tokens hour 2026-11-02 13:00:00 12.250000000000",
      "cus_replay tokens minute 2026-11-02 10:00:00 1.500000000000",
      "cus_replay tokens minute 2026-11-02 10:59:00 0.000000000001",
      "cus_replay tokens minute 2026-11-02 11:00:00 250.000000000000",
      "cus_replay tokens minute 2026-11-02 13:30:00 12.250000000000",
    ]);

    // The whole batch again, then again one by one: every event is a duplicate.
    const replay = await recordUsageEvents(ctx, events);
    expect(replay.map((outcome) => outcome.status)).toEqual(events.map(() => "duplicate"));
    for (const one of events) expect((await recordUsageEvents(ctx, [one]))[0]!.status).toBe("duplicate");
    expect(await totalsOf()).toEqual(expected);
    expect(await rollupSnapshot(sql)).toEqual(rollups);

    // Replays mixed with one new event: only the new one counts.
    const mixed = await recordUsageEvents(ctx, [
      events[0]!,
      event("rp_5", "3", "2026-11-02T10:15:00.000Z"),
      events[3]!,
    ]);
    expect(mixed.map((outcome) => outcome.status)).toEqual(["duplicate", "recorded", "duplicate"]);
    expect(await totalsOf()).toEqual(["266.750000000001", "254.500000000001", "262.250000000001"]);
    expect(await rollupDifferences(sql, { exact: true })).toEqual([]);
    expect(await t.db.ledgerEntry.count()).toBe(5);
  });

  it("deleting ledger rows takes them off the totals; truncating the ledger leaves no rollups", async () => {
    const row = (usageId: string, quantity: string, occurredAt: string, kind: Kind = "usage"): Row => ({
      usageId,
      kind,
      customerId: "cus_del",
      feature: "tokens",
      quantity,
      occurredAt: at(occurredAt),
    });
    let rows = [
      row("d_1", "10", "2026-11-02T09:00:00.000Z"),
      row("d_2", "0.25", "2026-11-02T09:59:59.999Z"),
      row("d_3", "7", "2026-11-02T10:00:00.000Z"),
      row("d_4", "100", "2026-11-02T10:20:00.000Z"),
      row("d_5", "1000", "2026-11-02T12:00:00.000Z"),
      row("d_6", "50", "2026-11-02T10:30:00.000Z", "credit_grant"),
      { ...row("d_7", "3", "2026-11-02T10:05:00.000Z"), feature: "api_calls" },
    ];
    await insertRows(sql, rows);
    const windows: UsageWindow[] = [
      { customerId: "cus_del", feature: "tokens" },
      {
        customerId: "cus_del",
        feature: "tokens",
        from: at("2026-11-02T09:00:00Z"),
        to: at("2026-11-02T12:00:00Z"),
      },
      {
        customerId: "cus_del",
        feature: "tokens",
        from: at("2026-11-02T08:00:00Z"),
        to: at("2026-11-02T11:00:00Z"),
      },
      {
        customerId: "cus_del",
        feature: "tokens",
        from: at("2026-11-02T09:59:00Z"),
        to: at("2026-11-02T10:20:00.001Z"),
      },
      { customerId: "cus_del", feature: "api_calls" },
    ];
    await expectTotals(t.db, rows, windows);
    expect((await loadUsageTotal(t.db, windows[0]!)).toFixed()).toBe("1117.25");

    // One row, then several in one statement (usage and not), then a whole hour's usage.
    const deleteRows = async (ids: string[]) => {
      await sql(`DELETE FROM ledger_entries WHERE "usageId" = ANY($1::text[])`, [ids]);
      rows = rows.filter((kept) => !ids.includes(kept.usageId));
    };
    await deleteRows(["d_4"]);
    await expectTotals(t.db, rows, windows);
    expect((await loadUsageTotal(t.db, windows[0]!)).toFixed()).toBe("1017.25");
    await deleteRows(["d_2", "d_5", "d_6", "d_7"]);
    await expectTotals(t.db, rows, windows);
    expect((await loadUsageTotal(t.db, windows[0]!)).toFixed()).toBe("17");
    await deleteRows(["d_3"]);
    await expectTotals(t.db, rows, windows);
    expect(await rollupDifferences(sql, { exact: false })).toEqual([]);

    await sql(`TRUNCATE ledger_entries`);
    expect(await rollupCount(sql)).toBe(0);
    // Both tables in one statement, as a reset script would.
    await insertRows(sql, rows);
    expect(await rollupCount(sql)).toBeGreaterThan(0);
    await sql(`TRUNCATE ledger_entries, usage_rollups`);
    expect(await rollupCount(sql)).toBe(0);
    expect((await loadUsageTotals(t.db, windows)).map((total) => total.toFixed())).toEqual(
      windows.map(() => "0"),
    );
  });

  it("a row's reporting columns can change; what it counts cannot", async () => {
    const rows: Row[] = [
      {
        usageId: "m_1",
        kind: "usage",
        customerId: "cus_up",
        feature: "tokens",
        quantity: "5.5",
        occurredAt: at("2026-11-02T10:10:00Z"),
      },
      {
        usageId: "m_2",
        kind: "usage",
        customerId: "cus_up",
        feature: "tokens",
        quantity: "4",
        occurredAt: at("2026-11-02T11:10:00Z"),
      },
    ];
    await insertRows(sql, rows);
    const window = {
      customerId: "cus_up",
      feature: "tokens",
      from: at("2026-11-02T10:00:00Z"),
      to: at("2026-11-02T11:00:00Z"),
    };
    const state = async () => ({
      ledger: await t.db.ledgerEntry.findMany({
        orderBy: { usageId: "asc" },
        select: LEDGER_ROW_SELECT,
      }),
      rollups: await rollupSnapshot(sql),
      totals: (await loadUsageTotals(t.db, [window, { customerId: "cus_up", feature: "tokens" }])).map(
        (total) => total.toFixed(),
      ),
    });

    // The meter reporter's bookkeeping: reportedAt and reportError.
    const reportedAt = at("2026-11-02T12:00:00.123Z");
    await t.db.ledgerEntry.updateMany({ where: { usageId: "m_1" }, data: { reportedAt } });
    await t.db.ledgerEntry.updateMany({
      where: { usageId: "m_2" },
      data: { reportError: "meter not found" },
    });
    const before = await state();
    expect(before.ledger.map((row) => [row.usageId, row.reportedAt, row.reportError])).toEqual([
      ["m_1", reportedAt, null],
      ["m_2", null, "meter not found"],
    ]);
    expect(before.totals).toEqual(["5.5", "9.5"]);

    const changes: [string, string][] = [
      ["quantity", `quantity = quantity + 1`],
      ["occurredAt", `"occurredAt" = "occurredAt" + interval '1 hour'`],
      ["customerId", `"customerId" = 'cus_other'`],
      ["feature", `feature = 'api_calls'`],
      ["kind", `kind = 'adjustment'`],
      // Bookkeeping and a counted column in one statement: the statement is refused whole.
      ["reportedAt and quantity", `"reportedAt" = now(), quantity = 0`],
    ];
    for (const [column, assignment] of changes) {
      const refused = await sql(`UPDATE ledger_entries SET ${assignment} WHERE "usageId" = 'm_1'`).then(
        () => null,
        (error: unknown) => error as Error,
      );
      expect(refused, `changing ${column}`).not.toBeNull();
      expect(refused!.message, `changing ${column}`).toMatch(/ledger entry m_1 is append-only/);
      expect(await state(), `after changing ${column}`).toEqual(before);
    }

    // The same through Prisma, and through a plain connection with the check_violation SQLSTATE.
    await expect(
      t.db.ledgerEntry.update({ where: { usageId: "m_2" }, data: { quantity: "40" } }),
    ).rejects.toThrow(/append-only/);
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    try {
      const error = await client
        .query(`UPDATE ledger_entries SET "occurredAt" = '2026-11-02T10:00:00' WHERE "usageId" = 'm_2'`)
        .then(
          () => null,
          (caught: unknown) => caught as { code?: string; message: string },
        );
      expect(error).toMatchObject({ code: "23514", message: expect.stringMatching(/m_2 is append-only/) });
    } finally {
      await client.end();
    }
    expect(await state()).toEqual(before);
    expect(await rollupDifferences(sql, { exact: true })).toEqual([]);
  });

  it("a database migrated before rollups existed has its ledger rolled up by the migration", async () => {
    const name = `leakguard_backfill_${randomBytes(5).toString("hex")}`;
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const url = databaseUrl(name);
    const client = new pg.Client({ connectionString: url });
    const db = createDb(url, { poolSize: 2 });
    try {
      const earlier = await applyMigrations(url, undefined, { stopBefore: "20261203210000_usage_rollups" });
      expect(earlier.applied.length).toBeGreaterThan(0);
      expect(earlier.applied.some((migration) => migration.includes("usage_rollups"))).toBe(false);

      await client.connect();
      const onDb = onClient(client);
      const row = (
        usageId: string,
        customerId: string,
        quantity: string,
        occurredAt: string,
        kind: Kind = "usage",
      ): Row => ({
        usageId,
        kind,
        customerId,
        feature: "tokens",
        quantity,
        occurredAt: at(occurredAt),
      });
      const rows = [
        row("b_1", "cus_old", "1.000000000001", "2026-11-02T09:00:00.000Z"),
        row("b_2", "cus_old", "2", "2026-11-02T09:59:59.999Z"),
        row("b_3", "cus_old", "30", "2026-11-02T10:00:00.000Z"),
        row("b_4", "cus_old", "400", "2026-11-02T10:45:00.000Z"),
        row("b_5", "cus_old", "5000", "2026-11-02T12:30:00.000Z"),
        row("b_6", "cus_old", "99", "2026-11-02T10:15:00.000Z", "credit_grant"),
        row("b_7", "cus_other", "7", "2026-11-02T10:15:00.000Z"),
      ];
      await insertRows(onDb, rows.slice(0, 4));
      await insertRows(onDb, rows.slice(4));

      const later = await applyMigrations(url);
      expect(later.applied).toEqual([
        "20261203210000_usage_rollups",
        "20261203210100_usage_rollups_maintained",
      ]);
      expect(await rollupSnapshot(onDb)).toEqual([
        "cus_old tokens hour 2026-11-02 09:00:00 3.000000000001",
        "cus_old tokens hour 2026-11-02 10:00:00 430.000000000000",
        "cus_old tokens hour 2026-11-02 12:00:00 5000.000000000000",
        "cus_old tokens minute 2026-11-02 09:00:00 1.000000000001",
        "cus_old tokens minute 2026-11-02 09:59:00 2.000000000000",
        "cus_old tokens minute 2026-11-02 10:00:00 30.000000000000",
        "cus_old tokens minute 2026-11-02 10:45:00 400.000000000000",
        "cus_old tokens minute 2026-11-02 12:30:00 5000.000000000000",
        "cus_other tokens hour 2026-11-02 10:00:00 7.000000000000",
        "cus_other tokens minute 2026-11-02 10:15:00 7.000000000000",
      ]);
      expect(await rollupDifferences(onDb, { exact: true })).toEqual([]);
      const windows: UsageWindow[] = [
        {
          customerId: "cus_old",
          feature: "tokens",
          from: at("2026-11-02T09:30:00Z"),
          to: at("2026-11-02T13:00:00Z"),
        },
        {
          customerId: "cus_old",
          feature: "tokens",
          from: at("2026-11-02T09:00:00Z"),
          to: at("2026-11-02T12:00:00Z"),
        },
        {
          customerId: "cus_old",
          feature: "tokens",
          from: at("2026-11-02T09:59:30Z"),
          to: at("2026-11-02T10:45:00Z"),
        },
        { customerId: "cus_old", feature: "tokens" },
      ];
      await expectTotals(db, rows, windows);
      expect((await loadUsageTotal(db, windows[0]!)).toFixed()).toBe("5432");

      // From now on the triggers keep it: the backfilled hour grows.
      const added = row("b_8", "cus_old", "0.5", "2026-11-02T10:59:00.000Z");
      await insertRows(onDb, [added]);
      await expectTotals(db, [...rows, added], windows);
      expect(await rollupDifferences(onDb, { exact: true })).toEqual([]);
    } finally {
      await client.end().catch(() => {});
      await db.$disconnect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });

  it("two connections inserting into the same hours in interleaved transactions keep rollups exact", async () => {
    const clients = [new pg.Client({ connectionString: t.url }), new pg.Client({ connectionString: t.url })];
    await Promise.all(clients.map((client) => client.connect()));
    const TRANSACTIONS = 20;
    const all: Row[] = [];
    try {
      await Promise.all(
        clients.map(async (client, writer) => {
          const run = onClient(client);
          for (let i = 0; i < TRANSACTIONS; i++) {
            // Three hours and a new one every few transactions; the two writers list them in opposite orders.
            const hours = [0, 1, 2, 3 + Math.floor(i / 4)].map((hour) => BASE + hour * HOUR);
            if (writer === 1) hours.reverse();
            const batch = hours.flatMap((hour, k) => [
              {
                usageId: `c${writer}_${i}_${k}a`,
                kind: "usage" as const,
                customerId: "cus_busy",
                feature: "tokens",
                quantity: `${writer + 1}.${String(i).padStart(2, "0")}0000000001`,
                occurredAt: new Date(hour + ((i * 37_001 + k) % HOUR)),
              },
              {
                usageId: `c${writer}_${i}_${k}b`,
                kind: "usage" as const,
                customerId: "cus_busy",
                feature: "tokens",
                quantity: "0.5",
                occurredAt: new Date(hour + HOUR - 1),
              },
            ]);
            // One statement per transaction, as the usage API writes; held open a moment so the other writer's
            // transaction runs into the rollup rows it locked.
            await run("BEGIN");
            try {
              await insertRows(run, batch);
              await run("SELECT pg_sleep(0.002)");
              await run("COMMIT");
            } catch (error) {
              await run("ROLLBACK");
              throw error;
            }
            // And one row on its own, outside any transaction.
            const single: Row = {
              usageId: `c${writer}_${i}_single`,
              kind: "usage",
              customerId: "cus_busy",
              feature: "tokens",
              quantity: "0.000000000001",
              occurredAt: new Date(BASE + (i % 3) * HOUR),
            };
            await insertRows(run, [single]);
            all.push(...batch, single);
          }
        }),
      );
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
    expect(all).toHaveLength(2 * TRANSACTIONS * 9);
    expect(await t.db.ledgerEntry.count()).toBe(all.length);
    expect(await rollupDifferences(sql, { exact: true })).toEqual([]);
    await expectTotals(t.db, all, [
      { customerId: "cus_busy", feature: "tokens" },
      {
        customerId: "cus_busy",
        feature: "tokens",
        from: new Date(BASE + HOUR / 2),
        to: new Date(BASE + 5 * HOUR + 1),
      },
      {
        customerId: "cus_busy",
        feature: "tokens",
        from: new Date(BASE + HOUR),
        to: new Date(BASE + 3 * HOUR),
      },
      {
        customerId: "cus_busy",
        feature: "tokens",
        from: new Date(BASE + HOUR - MINUTE),
        to: new Date(BASE + 2 * HOUR + 30 * MINUTE + 1),
      },
    ]);
  });
});
