import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, vi } from "vitest";
import { createLogger } from "../../../src/config/logger.js";
import { processEntitlementJob } from "../../../src/entitlements/entitlement-jobs.js";
import { ENTITLEMENT_JOBS, entitlementQueue } from "../../../src/entitlements/entitlement-queue.js";
import { processStripeEvent } from "../../../src/ingest/process-event-job.js";
import { signWebhookPayload } from "../../../src/stripe/webhook-signature.js";
import { createTestApp, type TestApp } from "../../support/app.js";
import {
  type ApiShape,
  anEvent,
  aPrice,
  aSubscription,
  type Json,
  type SubscriptionInput,
  stripeId,
} from "../../support/builders.js";

export const DAY = 86_400;
export const HOUR = 3_600;
export const WEBHOOK_SECRET = "whsec_access_scenarios";
export const SHAPES: ApiShape[] = ["legacy", "basil"];

/** The catalog every scenario runs against: three plans, 3 days of past_due grace. */
export const SCENARIO_CATALOG = {
  features: {
    reports: { type: "boolean" },
    exports: { type: "boolean" },
    api_calls: { type: "metered", stripe_meter_event_name: "scenario_api_calls" },
    seats: { type: "static" },
  },
  plans: [
    { match: { price: "price_sc_starter" }, grants: { api_calls: { limit: 1000 }, seats: 2 } },
    {
      match: { price: "price_sc_pro" },
      grants: { reports: true, api_calls: { limit: 10000 }, seats: 10 },
    },
    { match: { product: "prod_sc_addon" }, grants: { exports: true, api_calls: { limit: 5000 } } },
  ],
  grace: { past_due_days: 3 },
};

/** Features each plan grants, in the access log's order (by feature). */
export const PRO_FEATURES = ["api_calls", "reports", "seats"];
export const STARTER_FEATURES = ["api_calls", "seats"];

export const starterPrice = (shape: ApiShape) =>
  aPrice({ id: "price_sc_starter", product: "prod_sc_starter", unitAmount: 1000, shape });
export const proPrice = (shape: ApiShape) =>
  aPrice({ id: "price_sc_pro", product: "prod_sc_pro", unitAmount: 5000, shape });
export const addonPrice = (shape: ApiShape) =>
  aPrice({ id: "price_sc_addon", product: "prod_sc_addon", unitAmount: 2000, shape });

export type LogRow = [feature: string, action: string, cause: string];

export type AccessLogEntry = {
  feature: string;
  action: string;
  cause: string;
  event_id: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown>;
};

export type Scenarios = TestApp & {
  /** Signs each envelope, POSTs it to /webhooks/stripe (200 expected), then processes it as the worker does. */
  deliver: (...envelopes: Json[]) => Promise<void>;
  /** Only the webhook: sign and POST (200 expected). */
  post: (envelope: Json) => Promise<void>;
  /** Only the processing: applies a stored event the way the stripe-events worker does. */
  process: (eventId: string) => Promise<{ status: string; skipped: boolean }>;
  entitlement: (customer: string, feature: string) => Promise<Record<string, unknown>>;
  check: (customer: string, feature: string, quantity?: number) => Promise<Record<string, unknown>>;
  /** The access log through the API, oldest first. */
  accessLog: (customer: string) => Promise<AccessLogEntry[]>;
  /** Asserts the whole access log, oldest first, as [feature, action, cause]; returns the entries. */
  expectLog: (customer: string, rows: LogRow[]) => Promise<AccessLogEntry[]>;
  /** Runs the queued enforce-entitlements job due at `at` for the customer, as a worker would. */
  runEnforcement: (customer: string, at: Date) => Promise<{ changes: string[] }>;
};

/** A whole app (own database, queue prefix and catalog file) that scenarios drive through signed webhooks. */
export async function createScenarios(options: { env?: Record<string, string> } = {}): Promise<Scenarios> {
  const dir = mkdtempSync(join(tmpdir(), "leakguard-access-scenarios-"));
  const catalogPath = join(dir, "catalog.json");
  writeFileSync(catalogPath, JSON.stringify(SCENARIO_CATALOG));
  const testApp = await createTestApp({
    env: { LEAKGUARD_CATALOG: catalogPath, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ...options.env },
  });
  const { app, ctx, auth } = testApp;
  const log = createLogger("silent");

  const post = async (envelope: Json) => {
    const body = JSON.stringify(envelope);
    const response = await app.inject({
      method: "POST",
      url: "/webhooks/stripe",
      headers: {
        "content-type": "application/json",
        "stripe-signature": signWebhookPayload(body, WEBHOOK_SECRET),
      },
      payload: body,
    });
    expect(response.statusCode, response.body).toBe(200);
  };
  const process = async (eventId: string) => {
    const result = await processStripeEvent(ctx, eventId, log);
    return { status: result.status, skipped: result.skipped };
  };
  const accessLog = async (customer: string) => {
    const response = await app.inject({
      method: "GET",
      url: `/v1/customers/${customer}/access-log?limit=1000`,
      headers: auth,
    });
    expect(response.statusCode, response.body).toBe(200);
    return (response.json().entries as AccessLogEntry[]).reverse();
  };

  return {
    ...testApp,
    post,
    process,
    deliver: async (...envelopes) => {
      for (const envelope of envelopes) {
        await post(envelope);
        const result = await process(String(envelope["id"]));
        expect(result.status).toBe("processed");
      }
    },
    entitlement: async (customer, feature) => {
      const response = await app.inject({
        method: "GET",
        url: `/v1/customers/${customer}/entitlements/${feature}`,
        headers: auth,
      });
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    },
    check: async (customer, feature, quantity = 1) => {
      const response = await app.inject({
        method: "POST",
        url: "/v1/check",
        headers: auth,
        payload: { customer, feature, quantity },
      });
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    },
    accessLog,
    expectLog: async (customer, rows) => {
      const entries = await accessLog(customer);
      const actual = entries.map((entry): LogRow => [entry.feature, entry.action, entry.cause]);
      expect(byCauseThenFeature(actual)).toEqual(byCauseThenFeature(rows));
      for (const entry of entries)
        expect(entry.event_id).toBe(entry.cause.startsWith("event:") ? entry.cause.slice(6) : null);
      return entries;
    },
    runEnforcement: async (customer, at) => {
      const jobId = enforcementJobId(customer, at);
      const job = await entitlementQueue(ctx).getJob(jobId);
      expect(job, `no ${jobId} queued`).toBeDefined();
      return (await processEntitlementJob(ctx, job!, log)) as { changes: string[] };
    },
    close: async () => {
      await testApp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function enforcementJobId(customer: string, at: Date): string {
  return `${ENTITLEMENT_JOBS.enforce}_${customer}_${at.getTime()}`;
}

/** `cause` of an access-log row written while applying the event. */
export const byEvent = (envelope: Json) => `event:${String(envelope["id"])}`;
export const ACCESS_API = "check:access-api";
export const byJob = (customer: string, at: Date) =>
  `job:${ENTITLEMENT_JOBS.enforce}:${enforcementJobId(customer, at)}`;

/** Rows of one recomputation are written in one transaction, in no promised order: compare them by feature. */
function byCauseThenFeature(rows: LogRow[]): LogRow[] {
  const groups: LogRow[][] = [];
  for (const row of rows) {
    const last = groups.at(-1);
    if (last !== undefined && last[0]![2] === row[2]) last.push(row);
    else groups.push([row]);
  }
  return groups.flatMap((group) => [...group].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** One row per feature. */
export function rowsFor(features: string[], action: string, cause: string): LogRow[] {
  return features.map((feature) => [feature, action, cause]);
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
export const at = (seconds: number) => new Date(seconds * 1000);

/**
 * Runs `work` with the wall clock (only `Date`) moved to `when`, so the access API decides as of then; timers,
 * the database and Redis keep real time.
 */
export async function atTime<T>(when: Date, work: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(when);
  try {
    return await work();
  } finally {
    vi.useRealTimers();
  }
}

/** One customer's subscription in one API shape; each call gives the subscription as of one event. */
export function aCustomerSubscription(shape: ApiShape, base: SubscriptionInput = {}) {
  const customer = base.customer ?? stripeId("cus");
  const id = base.id ?? stripeId("sub");
  return {
    customer,
    id,
    snapshot: (input: SubscriptionInput = {}) => aSubscription({ shape, ...base, customer, id, ...input }),
  };
}

/**
 * A Pro subscriber whose current 30-day period ends at `periodEnd` (unix seconds), and `event`, which gives the
 * scenario's events one minute apart, starting an hour before now.
 */
export function aProSubscriber(shape: ApiShape, periodEnd: number) {
  const now = nowSeconds();
  const periodStart = periodEnd - 30 * DAY;
  const sub = aCustomerSubscription(shape, {
    created: periodStart,
    currentPeriodStart: periodStart,
    currentPeriodEnd: periodEnd,
    items: [{ id: stripeId("si"), price: proPrice(shape) }],
  });
  let minute = 0;
  const event = (type: string, object: Json) => eventAt(type, object, now - 3600 + 60 * minute++);
  return { ...sub, now, periodStart, event };
}

/** A Stripe event at a given unix second (events of one scenario carry increasing times). */
export function eventAt(type: string, object: Json, created: number, id?: string): Json {
  return anEvent(type, object, { created, ...(id === undefined ? {} : { id }) });
}
