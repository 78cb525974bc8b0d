import { readFileSync } from "node:fs";
import { z } from "zod";
import { DomainError } from "../errors.js";
import { isDecimalString, normalizeDecimal } from "./quantity.js";

/**
 * The catalog: which features exist, which Stripe prices/products grant them and how much.
 * Read once at start from LEAKGUARD_CATALOG; a bad file stops start-up with the path and the problem.
 */

export type MeteredFeature = {
  key: string;
  type: "metered";
  stripeMeterEventName: string;
  /** For prices without a meter: the price that bills this feature's usage. */
  stripePrice: string | null;
  /** What one unit costs the business, decimal string in the currency's major unit. */
  unitCost: string | null;
  description: string | null;
};
export type BooleanFeature = { key: string; type: "boolean"; description: string | null };
export type StaticFeature = { key: string; type: "static"; description: string | null };
export type FeatureDefinition = MeteredFeature | BooleanFeature | StaticFeature;

export type Reset = "billing_period" | "never";

export type Grant =
  | { feature: string; type: "boolean" }
  /** `limit` null = unlimited; a decimal string otherwise. */
  | { feature: string; type: "metered"; limit: string | null; reset: Reset; perSeat: boolean }
  | { feature: string; type: "static"; value: string; perSeat: boolean };

export type PlanMatch = { by: "price" | "product" | "lookup_key"; value: string };

export type Plan = { index: number; name: string | null; match: PlanMatch; grants: readonly Grant[] };

export type Catalog = {
  features: Readonly<Record<string, FeatureDefinition>>;
  plans: readonly Plan[];
  grace: { pastDueDays: number };
  /** Valid but surely unintended (e.g. a plan no item can ever match), for `catalog check` and the start-up log. */
  warnings: readonly string[];
};

export class CatalogError extends Error {
  override name = "CatalogError";
}

const decimalLike = z.union([
  z.number().finite().nonnegative(),
  z.string().refine(isDecimalString, 'must be a non-negative decimal string such as "1000" or "0.5"'),
]);

const featureSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("metered"),
    stripe_meter_event_name: z.string().min(1),
    stripe_price: z.string().min(1).optional(),
    unit_cost: z
      .string()
      .refine(isDecimalString, 'must be a non-negative decimal string such as "0.000002"')
      .optional(),
    description: z.string().optional(),
  }),
  z.strictObject({ type: z.literal("boolean"), description: z.string().optional() }),
  z.strictObject({ type: z.literal("static"), description: z.string().optional() }),
]);

const matchSchema = z
  .strictObject({
    price: z.string().min(1).optional(),
    product: z.string().min(1).optional(),
    lookup_key: z.string().min(1).optional(),
  })
  .refine(
    (match) => Object.values(match).filter((value) => value !== undefined).length === 1,
    "must name exactly one of price, product or lookup_key",
  );

const meteredGrantSchema = z.strictObject({
  limit: decimalLike.nullable(),
  reset: z.enum(["billing_period", "never"]).default("billing_period"),
  per_seat: z.boolean().default(false),
});
const staticGrantSchema = z.union([
  decimalLike,
  z.strictObject({ value: decimalLike, per_seat: z.boolean().default(false) }),
]);

const fileSchema = z.strictObject({
  $schema: z.string().optional(),
  features: z.record(
    z.string().regex(/^[A-Za-z0-9_.:-]+$/, "feature keys use letters, digits, _ . : -"),
    featureSchema,
  ),
  plans: z.array(
    z.strictObject({
      name: z.string().min(1).optional(),
      match: matchSchema,
      grants: z.record(z.string(), z.unknown()),
    }),
  ),
  grace: z.strictObject({ past_due_days: z.number().int().nonnegative() }).optional(),
});

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "(top level)" : out;
}

function problem(source: string, path: readonly PropertyKey[], message: string): CatalogError {
  return new CatalogError(`invalid catalog ${source}: ${formatPath(path)}: ${message}`);
}

function toDecimalString(value: number | string): string {
  return normalizeDecimal(typeof value === "number" ? String(value) : value);
}

function parseGrant(
  source: string,
  path: PropertyKey[],
  feature: FeatureDefinition,
  raw: unknown,
): Grant | null {
  const fail = (result: { error: z.ZodError }): never => {
    const issue = result.error.issues[0]!;
    throw problem(source, [...path, ...issue.path], issue.message);
  };
  switch (feature.type) {
    case "boolean":
      if (typeof raw !== "boolean")
        throw problem(source, path, "a boolean feature is granted with true (or false)");
      return raw ? { feature: feature.key, type: "boolean" } : null;
    case "metered": {
      const result = meteredGrantSchema.safeParse(raw);
      if (!result.success) return fail(result);
      const { limit, reset, per_seat } = result.data;
      return {
        feature: feature.key,
        type: "metered",
        limit: limit === null ? null : toDecimalString(limit),
        reset,
        perSeat: per_seat,
      };
    }
    case "static": {
      const result = staticGrantSchema.safeParse(raw);
      if (!result.success) return fail(result);
      const grant = typeof result.data === "object" ? result.data : { value: result.data, per_seat: false };
      return {
        feature: feature.key,
        type: "static",
        value: toDecimalString(grant.value),
        perSeat: grant.per_seat,
      };
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Validates a parsed catalog document; `source` (the file path) is named in every error. */
export function parseCatalog(document: unknown, source: string): Catalog {
  const parsed = fileSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw problem(source, issue.path, issue.message);
  }
  const file = parsed.data;

  const features: Record<string, FeatureDefinition> = {};
  const meterOwners = new Map<string, string>();
  for (const [key, raw] of Object.entries(file.features)) {
    const description = raw.description ?? null;
    if (raw.type === "metered") {
      const owner = meterOwners.get(raw.stripe_meter_event_name);
      if (owner !== undefined)
        throw problem(
          source,
          ["features", key, "stripe_meter_event_name"],
          `"${raw.stripe_meter_event_name}" is already the meter of feature "${owner}"`,
        );
      meterOwners.set(raw.stripe_meter_event_name, key);
      features[key] = {
        key,
        type: "metered",
        stripeMeterEventName: raw.stripe_meter_event_name,
        stripePrice: raw.stripe_price ?? null,
        unitCost: raw.unit_cost === undefined ? null : normalizeDecimal(raw.unit_cost),
        description,
      };
    } else {
      features[key] = { key, type: raw.type, description };
    }
  }

  const plans = file.plans.map((rawPlan, index): Plan => {
    const [by, value] = Object.entries(rawPlan.match).find(([, v]) => v !== undefined) as [
      PlanMatch["by"],
      string,
    ];
    const grants: Grant[] = [];
    for (const [featureKey, rawGrant] of Object.entries(rawPlan.grants)) {
      const path = ["plans", index, "grants", featureKey];
      const feature = features[featureKey];
      if (feature === undefined)
        throw problem(source, path, `feature "${featureKey}" is not defined under "features"`);
      const grant = parseGrant(source, path, feature, rawGrant);
      if (grant !== null) grants.push(grant);
    }
    return { index, name: rawPlan.name ?? null, match: { by, value }, grants };
  });

  return deepFreeze({
    features,
    plans,
    grace: { pastDueDays: file.grace?.past_due_days ?? 0 },
    warnings: decideShadowedPlans(plans),
  });
}

export function planLabel(plan: Plan): string {
  return plan.name === null ? `plan ${plan.index + 1}` : `plan "${plan.name}"`;
}

/** A plan matching what an earlier plan matches is dead: an item takes the first plan that matches it. */
function decideShadowedPlans(plans: readonly Plan[]): string[] {
  const firstByMatch = new Map<string, Plan>();
  const warnings: string[] = [];
  for (const plan of plans) {
    const key = `${plan.match.by} ${plan.match.value}`;
    const first = firstByMatch.get(key);
    if (first === undefined) {
      firstByMatch.set(key, plan);
      continue;
    }
    const by = plan.match.by === "lookup_key" ? "lookup key" : plan.match.by;
    warnings.push(
      `${planLabel(plan)} can never match: ${planLabel(first)} already matches ${by} ${plan.match.value} ` +
        "(an item takes the first plan that matches)",
    );
  }
  return warnings;
}

/** Reads and validates the catalog file (synchronously: it runs once while the process starts). */
export function loadCatalog(path: string): Catalog {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CatalogError(
      `invalid catalog ${path}: cannot read the file (${code === "ENOENT" ? "no such file" : (error as Error).message})`,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new CatalogError(`invalid catalog ${path}: not valid JSON (${(error as Error).message})`);
  }
  return parseCatalog(document, path);
}

export function catalogFeature(catalog: Catalog, feature: string): FeatureDefinition | undefined {
  return Object.hasOwn(catalog.features, feature) ? catalog.features[feature] : undefined;
}

/** The feature `key` names, or `feature_not_found` (a 404 in the API) listing the catalog's features. */
export function requireCatalogFeature(catalog: Catalog, key: string): FeatureDefinition {
  const definition = catalogFeature(catalog, key);
  if (definition === undefined)
    throw new DomainError(
      "feature_not_found",
      `no feature "${key}" in the catalog (known: ${Object.keys(catalog.features).join(", ")})`,
    );
  return definition;
}
