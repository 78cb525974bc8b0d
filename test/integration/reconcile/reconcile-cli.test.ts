import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aMeter, anInvoice, aPrice } from "../../../src/demo/stripe-objects.js";
import { type StripeStandIn, startStripeStandIn } from "../../../src/demo/stripe-stand-in.js";
import type { Report } from "../../../src/report/report.js";
import { createTestDb, type TestDb } from "../../support/db.js";
import { TEST_SECRETS } from "../../support/env.js";
import { createTestQueuePrefix } from "../../support/queue.js";

const exec = promisify(execFile);
const CLI = ["--import", "tsx", "src/cli/main.ts"];
const T0 = Date.UTC(2026, 10, 1) / 1000;
const T1 = Date.UTC(2026, 11, 1) / 1000;

let testDb: TestDb;
let standIn: StripeStandIn;
const queue = createTestQueuePrefix();
let env: NodeJS.ProcessEnv;

function cli(args: string[]) {
  return exec(process.execPath, [...CLI, ...args], { env, timeout: 30_000 });
}

async function cliFailure(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const outcome = await cli(args).then(
    () => null,
    (error: { code: number; stderr: string; stdout: string }) => error,
  );
  if (outcome === null) throw new Error(`leakguard ${args.join(" ")} succeeded`);
  return outcome;
}

beforeAll(async () => {
  testDb = await createTestDb();
  const price = aPrice({
    id: "price_tokens",
    product: "prod_ai",
    currency: "usd",
    created: T0 - 86400,
    nickname: "Tokens",
    unitAmountDecimal: "0.000381",
    meter: "mtr_tokens",
  });
  standIn = await startStripeStandIn({
    meters: [
      aMeter({ id: "mtr_tokens", eventName: "llm_tokens", displayName: "Tokens", created: T0 - 86400 }),
    ],
    prices: [price],
    invoices: [
      anInvoice({
        id: "in_cli",
        customer: "cus_cli",
        customerEmail: "cli@example.com",
        customerName: "CLI",
        subscription: "sub_cli",
        currency: "usd",
        created: T1,
        status: "paid",
        billingReason: "subscription_cycle",
        periodStart: T0,
        periodEnd: T1,
        number: "CLI-1",
        finalizedAt: T1,
        paidAt: T1,
        lines: [
          {
            id: "il_cli",
            subscription: "sub_cli",
            subscriptionItem: "si_cli",
            price,
            quantity: "1000000",
            amount: 381,
            periodStart: T0,
            periodEnd: T1,
            description: "Tokens",
          },
        ],
      }),
    ],
  });
  await testDb.db.ledgerEntry.create({
    data: {
      usageId: "u_cli",
      customerId: "cus_cli",
      feature: "tokens",
      quantity: "3000000",
      occurredAt: new Date("2026-11-15T00:00:00Z"),
      fingerprint: "fp_cli",
    },
  });
  env = {
    ...TEST_SECRETS,
    PATH: process.env.PATH,
    DATABASE_URL: testDb.url,
    REDIS_URL: queue.redisUrl,
    LEAKGUARD_QUEUE_PREFIX: queue.prefix,
    STRIPE_API_BASE: standIn.url,
    LEAKGUARD_CATALOG: "catalog.example.json",
    LOG_LEVEL: "info",
  };
});

afterAll(async () => {
  await standIn?.close();
  await testDb?.drop();
  await queue.cleanup();
});

describe("leakguard reconcile / report", () => {
  it("reconcile prints progress on stderr and the report on stdout; report reads it back; failures are one line", async () => {
    // Each command is a process of its own (a few seconds to load): the independent ones run side by side.
    const [reconciled, badDate] = await Promise.all([
      cli(["reconcile", "--from", "2026-11-01", "--to", "2026-12-01T00:00:00Z", "--json"]),
      cliFailure(["reconcile", "--from", "yesterday", "--to", "2026-12-01"]),
    ]);
    expect(reconciled.stderr).toContain("reconciling 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z (cli)");
    expect(reconciled.stderr).toContain(
      "1 invoice(s): 0 from the mirror, 1 from Stripe (1 missing from the mirror)",
    );
    const report = JSON.parse(reconciled.stdout) as Report;
    // 3,000,000 tokens used, 1,000,000 billed: 2,000,000 × 0.000381 = 762 cents not captured.
    expect(report.totals).toMatchObject({ currency: "usd", leakage_minor: "762", findings: 1 });
    expect(report.findings[0]).toMatchObject({
      customer: "cus_cli",
      expected: "3000000",
      actual: "1000000",
      amount_minor: "762",
      evidence: { invoice: "in_cli", line: "il_cli" },
    });

    const markdown = await cli(["report", "latest", "--format", "md"]);
    expect(markdown.stdout.startsWith(`# Leakage report ${report.id}`)).toBe(true);
    expect(markdown.stdout).toContain(
      "| billing_mismatch | cus_cli | tokens | 3000000 | 1000000 | 7.62 USD |",
    );
    expect(badDate.code).toBe(1);
    expect(badDate.stdout).toBe("");
    expect(badDate.stderr).toMatch(
      /^leakguard: --from "yesterday" is not a date with a time zone \(use an ISO date[^\n]*\n$/,
    );
  });
});
