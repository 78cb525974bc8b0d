/**
 * What the usage rollups cost the writer: usage events/s through the real writer (`recordUsageEvents`, batches of
 * 100 from 8 concurrent callers, as the usage API's batch route calls it) with the rollup triggers on, beside the
 * same workload with them disabled, alternating in the same run. Each triggered phase ends with the rollups
 * compared with the ledger (they must agree exactly).
 */
import { randomBytes } from "node:crypto";
import { createDb, type Db } from "../src/db/client.js";
import { checkUsageRollups } from "../src/ledger/check-usage-rollups.js";
import { recordUsageEvents } from "../src/ledger/record-usage.js";
import type { UsageEvent } from "../src/ledger/usage-input.js";
import { benchDatabaseUrl, dropBenchDatabase, prepareBenchDatabase, withClient } from "./support.js";

const CUSTOMERS = 200;
const FEATURES = ["api_calls", "tokens", "agent_runs"];
const EVENTS_PER_PHASE = 40_000;
const BATCH = 100;
const CALLERS = 8;
const ROUNDS = 2;
const INSERT_TRIGGER = "ledger_entries_rollup_insert";

export default async function run(): Promise<void> {
  const databaseUrl = benchDatabaseUrl(`leakguard_bench_rollups_${randomBytes(4).toString("hex")}`);
  await prepareBenchDatabase(databaseUrl);
  const db = createDb(databaseUrl, { poolSize: CALLERS });
  try {
    await withClient(databaseUrl, (client) =>
      client.query(
        `INSERT INTO customers (id, "updatedAt") SELECT 'cus_roll_' || n, now() FROM generate_series(0, $1::int - 1) n`,
        [CUSTOMERS],
      ),
    );
    const rates = { on: [] as number[], off: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const triggers of ["off", "on"] as const) {
        await withClient(databaseUrl, async (client) => {
          await client.query("TRUNCATE ledger_entries");
          await client.query(
            `ALTER TABLE ledger_entries ${triggers === "on" ? "ENABLE" : "DISABLE"} TRIGGER ${INSERT_TRIGGER}`,
          );
        });
        const perSecond = await writeUsage(db, `${round}${triggers}`);
        rates[triggers].push(perSecond);
        let agreement = "";
        if (triggers === "on") {
          const check = await checkUsageRollups(db);
          if (check.drift.length > 0)
            throw new Error(`${check.drift.length} rollup buckets differ from the ledger`);
          agreement = `, rollups equal the ledger (${check.buckets} buckets)`;
        }
        console.log(
          `round ${round + 1}, rollup triggers ${triggers.padEnd(3)} ${perSecond.toFixed(0).padStart(6)} usage events/s${agreement}`,
        );
      }
    }
    const best = (values: number[]) => Math.max(...values);
    console.log(
      `usage writes with rollups / without (best of ${ROUNDS}): ${(best(rates.on) / best(rates.off)).toFixed(2)} ` +
        `(${best(rates.on).toFixed(0)} vs ${best(rates.off).toFixed(0)} events/s)`,
    );
  } finally {
    await db.$disconnect();
    await dropBenchDatabase(databaseUrl);
  }
}

/** EVENTS_PER_PHASE unique events over the last two hours, written by CALLERS callers in batches; events/s. */
async function writeUsage(db: Db, phase: string): Promise<number> {
  const now = Date.now();
  const batches: UsageEvent[][] = [];
  for (let start = 0; start < EVENTS_PER_PHASE; start += BATCH) {
    batches.push(
      Array.from({ length: BATCH }, (_, offset) => {
        const n = start + offset;
        return {
          usageId: `bench_${phase}_${n}`,
          customer: `cus_roll_${(n * 7919) % CUSTOMERS}`,
          feature: FEATURES[n % FEATURES.length]!,
          quantity: n % 5 === 0 ? "0.25" : String(1 + (n % 40)),
          timestamp: new Date(now - ((n * 104_729) % 7_200_000)),
          properties: {},
        };
      }),
    );
  }
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (next < batches.length) {
        const outcomes = await recordUsageEvents({ db }, batches[next++]!);
        if (outcomes.some((outcome) => outcome.status !== "recorded"))
          throw new Error("a bench usage event was not recorded");
      }
    }),
  );
  return EVENTS_PER_PHASE / ((performance.now() - started) / 1000);
}
