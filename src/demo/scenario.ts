import { Decimal } from "decimal.js";
import {
  aCustomer,
  aMeter,
  anEvent,
  anInvoice,
  aPrice,
  aProduct,
  aSubscription,
  type InvoiceLineInput,
} from "./stripe-objects.js";
import type { StripeObject } from "./stripe-params.js";
import type { StandInData } from "./stripe-stand-in.js";

/**
 * The demo's world, generated from a seed: a Stripe account (prices on meters, customers, subscriptions,
 * invoices, events), the usage the product records, and leakage injected on purpose with the answer worked
 * out here, independently of leakguard's own pricing. Pure and deterministic for (seed, periodEnd).
 */

export type DemoFeature = "tokens" | "api_calls";
export const DEMO_FEATURES: readonly DemoFeature[] = ["tokens", "api_calls"];

export type DemoPlanKey = "starter" | "scale" | "starter_eu";

export type DemoPlan = {
  key: DemoPlanKey;
  name: string;
  currency: string;
  product: string;
  basePrice: { id: string; unitAmountDecimal: string };
  usagePrices: Record<DemoFeature, { id: string; unitAmountDecimal: string }>;
};

/** Fixed ids, so the catalog file (src/demo/demo-catalog.json) can name them. */
export const DEMO_PLANS: Record<DemoPlanKey, DemoPlan> = {
  starter: {
    key: "starter",
    name: "Starter",
    currency: "usd",
    product: "prod_demo_starter",
    basePrice: { id: "price_demo_starter_base", unitAmountDecimal: "2900" },
    usagePrices: {
      // $4.00 per million tokens: 0.0004 cents each.
      tokens: { id: "price_demo_starter_tokens", unitAmountDecimal: "0.0004" },
      // $2.00 per thousand requests.
      api_calls: { id: "price_demo_starter_calls", unitAmountDecimal: "0.2" },
    },
  },
  scale: {
    key: "scale",
    name: "Scale",
    currency: "usd",
    product: "prod_demo_scale",
    basePrice: { id: "price_demo_scale_base", unitAmountDecimal: "19900" },
    usagePrices: {
      tokens: { id: "price_demo_scale_tokens", unitAmountDecimal: "0.00025" },
      api_calls: { id: "price_demo_scale_calls", unitAmountDecimal: "0.1" },
    },
  },
  starter_eu: {
    key: "starter_eu",
    name: "Starter (EUR)",
    currency: "eur",
    product: "prod_demo_starter_eu",
    basePrice: { id: "price_demo_starter_eu_base", unitAmountDecimal: "2700" },
    usagePrices: {
      tokens: { id: "price_demo_starter_eu_tokens", unitAmountDecimal: "0.00035" },
      api_calls: { id: "price_demo_starter_eu_calls", unitAmountDecimal: "0.18" },
    },
  },
};

export const DEMO_METERS: Record<DemoFeature, { id: string; eventName: string; displayName: string }> = {
  tokens: { id: "mtr_demo_llm_tokens", eventName: "llm_tokens", displayName: "LLM tokens" },
  api_calls: { id: "mtr_demo_api_calls", eventName: "api_calls", displayName: "API calls" },
};

export type CustomerFate =
  /** Billed exactly what it used. */
  | "healthy"
  /** An invoice line bills less than the ledger holds. */
  | "under_billed"
  /** Canceled in Stripe, the deletion webhook never arrived, and it kept using the product. */
  | "canceled_unnoticed"
  /** Canceled in Stripe and the webhook arrived: access revoked, nothing leaks. */
  | "canceled";

export type DemoCustomer = {
  stripeCustomerId: string;
  /** The product's own id (metadata user_id), when the customer has one. */
  userId: string | null;
  /** What the product calls the customer in API calls: its own id when it has one. */
  apiId: string;
  name: string;
  plan: DemoPlanKey;
  fate: CustomerFate;
  subscriptionId: string;
  canceledAt: Date | null;
};

export type DemoUsage = {
  usage_id: string;
  customer: string;
  feature: DemoFeature;
  quantity: string;
  timestamp: string;
};

export type ExpectedFinding = {
  category: "billing_mismatch" | "access_not_revoked";
  stripeCustomerId: string;
  feature: DemoFeature;
  currency: string;
  /** Exact minor units, as a decimal string (sub-cent prices leave fractions). */
  amountMinor: string;
  /** The invoice line for billing_mismatch, the subscription for access_not_revoked. */
  locator: string;
  why: string;
};

export type EntitlementExpectation = {
  customer: string;
  feature: DemoFeature;
  hasAccess: boolean;
  why: string;
};

export type DemoScenario = {
  seed: number;
  /** The billing period every subscription ran through: [from, to). */
  period: { from: Date; to: Date };
  /** What to reconcile: the period plus the hour in which its invoices were issued. */
  reconcile: { from: Date; to: Date };
  /** Stripe's state at the end: what the stand-in serves. */
  stripe: StandInData;
  /** Events delivered to the webhook endpoint, in Stripe's creation order. */
  webhooks: StripeObject[];
  /** Events Stripe has (listed by /v1/events) but the endpoint never received. */
  undelivered: StripeObject[];
  usage: DemoUsage[];
  /** usage_ids the demo sends a second time, to show nothing is recorded twice. */
  retriedUsageIds: string[];
  customers: DemoCustomer[];
  entitlementChecks: EntitlementExpectation[];
  expected: { findings: ExpectedFinding[]; totals: Record<string, string> };
};

/** The fewest customers the default mix fits in: one of each fate. */
export const MIN_SCENARIO_CUSTOMERS = 4;

export type ScenarioOptions = {
  seed: number;
  /** End of the billing period (invoices are issued right after it); must be in the past by an hour. */
  periodEnd: Date;
  customers?: number;
  underBilled?: number;
  canceledUnnoticed?: number;
  canceled?: number;
  /** Include the EUR plan (a second currency in the report). */
  secondCurrency?: boolean;
};

const DAY = 86_400;
const HOUR = 3_600;
const PERIOD_DAYS = 30;
const Money = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_UP });

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const FIRST_NAMES = [
  "Ada",
  "Grace",
  "Alan",
  "Edsger",
  "Barbara",
  "Ken",
  "Radia",
  "Linus",
  "Margaret",
  "Dennis",
];
const COMPANIES = ["Labs", "AI", "Systems", "Robotics", "Analytics", "Cloud", "Works", "Data"];

export function generateScenario(options: ScenarioOptions): DemoScenario {
  const random = createRandom(options.seed);
  const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
  const stripeId = (prefix: string, length = 14): string =>
    `${prefix}_${Array.from({ length }, () => ALPHABET[Math.floor(random() * ALPHABET.length)]).join("")}`;

  const periodTo = Math.floor(options.periodEnd.getTime() / 1000);
  const periodFrom = periodTo - PERIOD_DAYS * DAY;
  const nextPeriodEnd = periodTo + PERIOD_DAYS * DAY;
  const customerCount = options.customers ?? 30;
  // One in five under-billed, one in ten canceled unnoticed, one in ten canceled properly (6, 3, 3 of 30).
  const underBilledCount = options.underBilled ?? Math.max(1, Math.round(customerCount / 5));
  const unnoticedCount = options.canceledUnnoticed ?? Math.max(1, Math.round(customerCount / 10));
  const canceledCount = options.canceled ?? Math.max(1, Math.round(customerCount / 10));
  if (underBilledCount + unnoticedCount + canceledCount > customerCount)
    throw new RangeError(
      `a scenario of ${customerCount} customers cannot hold ${underBilledCount + unnoticedCount + canceledCount} leaks and cancellations`,
    );
  const planKeys: DemoPlanKey[] =
    options.secondCurrency === false ? ["starter", "scale"] : ["starter", "scale", "starter_eu"];

  // Stripe's catalog: one product per plan, a licensed base price and two metered prices on shared meters.
  const created = periodFrom - 90 * DAY;
  const meters = DEMO_FEATURES.map((feature) => aMeter({ ...DEMO_METERS[feature], created }));
  const prices = new Map<string, StripeObject>();
  const products: StripeObject[] = [];
  for (const key of planKeys) {
    const plan = DEMO_PLANS[key];
    products.push(aProduct({ id: plan.product, name: `Demo AI ${plan.name}`, created }));
    const base = {
      product: plan.product,
      currency: plan.currency,
      created,
      interval: "day",
      intervalCount: PERIOD_DAYS,
    } as const;
    prices.set(
      plan.basePrice.id,
      aPrice({
        ...base,
        id: plan.basePrice.id,
        nickname: `${plan.name} platform fee`,
        unitAmountDecimal: plan.basePrice.unitAmountDecimal,
      }),
    );
    for (const feature of DEMO_FEATURES) {
      const price = plan.usagePrices[feature];
      prices.set(
        price.id,
        aPrice({
          ...base,
          id: price.id,
          nickname: `${plan.name} ${feature}`,
          unitAmountDecimal: price.unitAmountDecimal,
          meter: DEMO_METERS[feature].id,
        }),
      );
    }
  }

  // Who is who: plans round-robin, fates spread across plans so leakage shows up at different prices.
  const order = shuffle(
    Array.from({ length: customerCount }, (_, index) => index),
    random,
  );
  const fates = new Array<CustomerFate>(customerCount).fill("healthy");
  const assign = (fate: CustomerFate, count: number, offset: number) => {
    for (let n = 0; n < count; n++) fates[order[offset + n]!] = fate;
    return offset + count;
  };
  let offset = assign("under_billed", underBilledCount, 0);
  offset = assign("canceled_unnoticed", unnoticedCount, offset);
  assign("canceled", canceledCount, offset);

  const customers: DemoCustomer[] = [];
  const stripeCustomers: StripeObject[] = [];
  const subscriptions: StripeObject[] = [];
  const invoices: StripeObject[] = [];
  const events: { event: StripeObject; delivered: boolean }[] = [];
  const usage: DemoUsage[] = [];
  const expected: ExpectedFinding[] = [];
  const entitlementChecks: EntitlementExpectation[] = [];
  let invoiceNumber = 0;
  let underBilledSeen = 0;

  const emit = (
    type: string,
    at: number,
    object: StripeObject,
    delivered = true,
    previousAttributes?: Record<string, unknown>,
  ) =>
    events.push({
      event: anEvent({
        id: stripeId("evt", 24),
        type,
        created: at,
        object: structuredClone(object),
        ...(previousAttributes === undefined ? {} : { previousAttributes }),
      }),
      delivered,
    });

  for (let index = 0; index < customerCount; index++) {
    const plan = DEMO_PLANS[planKeys[index % planKeys.length]!];
    const fate = fates[index]!;
    const stripeCustomerId = stripeId("cus");
    // Two in three customers carry the product's own id, so the API is called with either kind of id.
    const userId = index % 3 === 2 ? null : `user_${String(1000 + index)}`;
    const name = `${FIRST_NAMES[index % FIRST_NAMES.length]} ${COMPANIES[between(0, COMPANIES.length - 1)]}`;
    const customerCreated = periodFrom - between(60, 3 * HOUR);
    const customer = aCustomer({
      id: stripeCustomerId,
      created: customerCreated,
      email: `billing+${index}@demo-customer.example`,
      name,
      metadata: userId === null ? {} : { user_id: userId },
    });
    stripeCustomers.push(customer);
    emit("customer.created", customerCreated, customer);

    const subscriptionId = stripeId("sub", 24);
    const itemIds = { base: stripeId("si"), tokens: stripeId("si"), api_calls: stripeId("si") };
    const items = [
      { id: itemIds.base, price: prices.get(plan.basePrice.id)! },
      ...DEMO_FEATURES.map((feature) => ({
        id: itemIds[feature],
        price: prices.get(plan.usagePrices[feature].id)!,
      })),
    ];
    const canceledAt =
      fate === "canceled" || fate === "canceled_unnoticed" ? periodFrom + between(10 * DAY, 20 * DAY) : null;
    const subscriptionBase = {
      id: subscriptionId,
      customer: stripeCustomerId,
      currency: plan.currency,
      created: periodFrom,
      items,
    };
    const atStart = aSubscription({
      ...subscriptionBase,
      status: "active",
      currentPeriodStart: periodFrom,
      currentPeriodEnd: periodTo,
    });
    emit("customer.subscription.created", periodFrom, atStart);
    const apiId = userId ?? stripeCustomerId;
    customers.push({
      stripeCustomerId,
      userId,
      apiId,
      name,
      plan: plan.key,
      fate,
      subscriptionId,
      canceledAt: canceledAt === null ? null : new Date(canceledAt * 1000),
    });

    // The first invoice bills the platform fee in advance.
    const invoiceOf = (input: {
      at: number;
      reason: "subscription_create" | "subscription_cycle" | "subscription_update";
      lines: InvoiceLineInput[];
    }) => {
      invoiceNumber++;
      const invoice = anInvoice({
        id: stripeId("in", 24),
        customer: stripeCustomerId,
        customerEmail: customer["email"] as string,
        customerName: name,
        subscription: subscriptionId,
        currency: plan.currency,
        created: input.at,
        status: "paid",
        billingReason: input.reason,
        periodStart: input.reason === "subscription_create" ? input.at : periodFrom,
        periodEnd:
          input.reason === "subscription_create" ? input.at : Math.min(periodTo, canceledAt ?? periodTo),
        number: `DEMO-${String(invoiceNumber).padStart(4, "0")}`,
        finalizedAt: input.at + 60,
        paidAt: input.at + 120,
        lines: input.lines,
      });
      invoices.push(invoice);
      emit("invoice.finalized", input.at + 60, {
        ...invoice,
        status: "open",
        amount_paid: 0,
        amount_remaining: invoice["amount_due"],
        status_transitions: { ...(invoice["status_transitions"] as object), paid_at: null },
      });
      emit("invoice.paid", input.at + 120, invoice);
      return invoice;
    };
    const baseLine = (start: number, end: number): InvoiceLineInput => ({
      id: stripeId("il", 24),
      subscription: subscriptionId,
      subscriptionItem: itemIds.base,
      price: prices.get(plan.basePrice.id)!,
      quantity: "1",
      amount: Number(plan.basePrice.unitAmountDecimal),
      periodStart: start,
      periodEnd: end,
      description: `1 × Demo AI ${plan.name} platform fee`,
    });
    invoiceOf({ at: periodFrom, reason: "subscription_create", lines: [baseLine(periodFrom, periodTo)] });

    // Usage: a handful of records per feature, an hour or more inside the windows they belong to.
    const usedEnd = canceledAt ?? periodTo;
    const usageTotals = { tokens: new Money(0), api_calls: new Money(0) };
    const afterCancel = { tokens: new Money(0), api_calls: new Money(0) };
    for (const feature of DEMO_FEATURES) {
      const records = between(3, 7);
      for (let n = 0; n < records; n++) {
        const quantity = feature === "tokens" ? between(150_000, 9_000_000) : between(20, 12_000);
        const at = between(periodFrom + HOUR, usedEnd - HOUR);
        usage.push({
          usage_id: `demo_${options.seed}_${index}_${feature}_${n}`,
          customer: apiId,
          feature,
          quantity: String(quantity),
          timestamp: new Date(at * 1000).toISOString(),
        });
        usageTotals[feature] = usageTotals[feature].plus(quantity);
      }
      if (fate === "canceled_unnoticed") {
        // Still entitled in leakguard, so the product kept serving it after the cancellation.
        for (let n = 0; n < between(1, 3); n++) {
          const quantity = feature === "tokens" ? between(500_000, 9_000_000) : between(200, 12_000);
          const at = between(canceledAt! + HOUR, periodTo - HOUR);
          usage.push({
            usage_id: `demo_${options.seed}_${index}_${feature}_after_${n}`,
            customer: apiId,
            feature,
            quantity: String(quantity),
            timestamp: new Date(at * 1000).toISOString(),
          });
          afterCancel[feature] = afterCancel[feature].plus(quantity);
        }
      }
    }

    // Which metered lines bill less than was used: one of the under-billed customers is short on both.
    const shortFeatures: DemoFeature[] =
      fate !== "under_billed"
        ? []
        : underBilledSeen++ === 0
          ? ["tokens", "api_calls"]
          : [DEMO_FEATURES[between(0, 1)]!];
    const usageLines: InvoiceLineInput[] = DEMO_FEATURES.map((feature) => {
      const used = usageTotals[feature];
      const shortBy = shortFeatures.includes(feature)
        ? used.mul(between(8, 45)).div(100).floor()
        : new Money(0);
      const billed = used.minus(shortBy);
      const unit = plan.usagePrices[feature].unitAmountDecimal;
      // Stripe rounds each line to a whole minor unit, halves up.
      const amount = billed.mul(unit).toDecimalPlaces(0, Money.ROUND_HALF_UP);
      const line: InvoiceLineInput = {
        id: stripeId("il", 24),
        subscription: subscriptionId,
        subscriptionItem: itemIds[feature],
        price: prices.get(plan.usagePrices[feature].id)!,
        quantity: billed.toFixed(0),
        amount: amount.toNumber(),
        periodStart: periodFrom,
        periodEnd: usedEnd,
        description: `${billed.toFixed(0)} × Demo AI ${plan.name} ${feature} (at ${unit} ${plan.currency} minor units / unit)`,
      };
      if (shortBy.gt(0)) {
        expected.push({
          category: "billing_mismatch",
          stripeCustomerId,
          feature,
          currency: plan.currency,
          amountMinor: plain(used.mul(unit).minus(amount)),
          locator: line.id,
          why: `${line.id} bills ${billed.toFixed(0)} ${feature} of ${used.toFixed(0)} used`,
        });
      }
      return line;
    });

    if (canceledAt === null) {
      const renewed = aSubscription({
        ...subscriptionBase,
        status: "active",
        currentPeriodStart: periodTo,
        currentPeriodEnd: nextPeriodEnd,
      });
      subscriptions.push(renewed);
      emit("customer.subscription.updated", periodTo, renewed, true, {
        items: { ...(atStart["items"] as object), data: (atStart["items"] as { data: unknown[] }).data },
      });
      invoiceOf({
        at: periodTo,
        reason: "subscription_cycle",
        lines: [baseLine(periodTo, nextPeriodEnd), ...usageLines],
      });
      entitlementChecks.push({
        customer: apiId,
        feature: "tokens",
        hasAccess: true,
        why: "active subscription",
      });
    } else {
      const ended = aSubscription({
        ...subscriptionBase,
        status: "canceled",
        currentPeriodStart: periodFrom,
        currentPeriodEnd: periodTo,
        canceledAt,
        endedAt: canceledAt,
      });
      subscriptions.push(ended);
      // Canceling immediately invoices the metered usage up to the cancellation.
      invoiceOf({ at: canceledAt, reason: "subscription_update", lines: usageLines });
      const unnoticed = fate === "canceled_unnoticed";
      emit("customer.subscription.deleted", canceledAt, ended, !unnoticed);
      entitlementChecks.push({
        customer: apiId,
        feature: "tokens",
        hasAccess: unnoticed,
        why: unnoticed ? "canceled in Stripe, deletion webhook never arrived" : "canceled, webhook received",
      });
      if (unnoticed) {
        for (const feature of DEMO_FEATURES) {
          expected.push({
            category: "access_not_revoked",
            stripeCustomerId,
            feature,
            currency: plan.currency,
            amountMinor: plain(afterCancel[feature].mul(plan.usagePrices[feature].unitAmountDecimal)),
            locator: subscriptionId,
            why: `${afterCancel[feature].toFixed(0)} ${feature} used after ${subscriptionId} was canceled`,
          });
        }
      }
    }
  }

  // A few usage records are sent twice, as a client retrying after a timeout would.
  const retriedUsageIds = shuffle(
    usage.map((record) => record.usage_id),
    random,
  ).slice(0, 5);
  const ordered = [...events].sort((a, b) => (a.event["created"] as number) - (b.event["created"] as number));
  const totals: Record<string, string> = {};
  for (const finding of expected) {
    totals[finding.currency] = plain(new Money(totals[finding.currency] ?? 0).plus(finding.amountMinor));
  }

  return {
    seed: options.seed,
    period: { from: new Date(periodFrom * 1000), to: new Date(periodTo * 1000) },
    reconcile: { from: new Date(periodFrom * 1000), to: new Date((periodTo + HOUR) * 1000) },
    stripe: {
      customers: stripeCustomers,
      products,
      prices: [...prices.values()],
      meters,
      subscriptions,
      invoices,
      events: ordered.map(({ event }) => event),
    },
    webhooks: ordered.filter(({ delivered }) => delivered).map(({ event }) => event),
    undelivered: ordered.filter(({ delivered }) => !delivered).map(({ event }) => event),
    usage,
    retriedUsageIds,
    customers,
    entitlementChecks: pickChecks(entitlementChecks, customers),
    expected: { findings: expected, totals },
  };
}

/** One entitlement check per kind of customer: active, canceled (revoked), canceled unnoticed (leaking). */
function pickChecks(checks: EntitlementExpectation[], customers: DemoCustomer[]): EntitlementExpectation[] {
  const fateOf = new Map(customers.map((customer) => [customer.apiId, customer.fate]));
  const picked: EntitlementExpectation[] = [];
  for (const fate of ["healthy", "canceled", "canceled_unnoticed"] as const) {
    const check = checks.find((candidate) => fateOf.get(candidate.customer) === fate);
    if (check !== undefined) picked.push(check);
  }
  return picked;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

/** A decimal as a plain string: no exponent, no trailing zeros. */
function plain(value: Decimal): string {
  return value.isZero() ? "0" : value.toFixed();
}
