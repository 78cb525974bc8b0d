import { z } from "zod";

/** The ledger column is numeric(38, 12): anything finer or larger cannot be stored exactly. */
export const MAX_FRACTION_DIGITS = 12;
export const MAX_INTEGER_DIGITS = 26;
export const MAX_FUTURE_MS = 5 * 60 * 1000;
/**
 * Stripe's meters take events from the past 35 calendar days only; usage older than that could never be billed.
 * A day of it is kept for the usage to reach Stripe (the reporter runs behind the API).
 */
export const MAX_PAST_DAYS = 34;
const MAX_PAST_MS = MAX_PAST_DAYS * 24 * 60 * 60 * 1000;
export const MAX_BATCH_EVENTS = 1000;

/** Caps on `properties`: deep enough for any real payload, small enough to store, hash and compare cheaply. */
export const MAX_PROPERTIES_DEPTH = 8;
export const MAX_PROPERTIES_BYTES = 16 * 1024;

const DECIMAL_PATTERN = /^(\d+)(?:\.(\d+))?$/;
// In a `u` regex a surrogate pair reads as one code point, so only unpaired halves are category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

/** Why Postgres could not store this text (text and jsonb refuse NUL; UTF-8 has no lone surrogates), or null. */
export function unstorableTextProblem(value: string): string | null {
  if (value.includes("\u0000")) return "must not contain the NUL character (\\u0000)";
  if (LONE_SURROGATE.test(value)) return "contains a lone UTF-16 surrogate (not valid Unicode text)";
  return null;
}

/** A non-empty string of at most `max` characters that Postgres can store; used for every id in the API. */
export function storableText(max = 255) {
  return z
    .string()
    .min(1)
    .max(max)
    .superRefine((value, zctx) => {
      const problem = unstorableTextProblem(value);
      if (problem !== null) zctx.addIssue({ code: "custom", message: problem });
    });
}

export type PropertiesProblem = { path: (string | number)[]; message: string };

/**
 * The first part of `properties` that cannot be stored (NUL, lone surrogates, in keys or values) or that is past
 * the caps; null when it is fine. Walks with an explicit stack, so no nesting can exhaust the call stack.
 */
export function findPropertiesProblem(properties: Record<string, unknown>): PropertiesProblem | null {
  const pending: { value: unknown; path: (string | number)[]; depth: number }[] = [
    { value: properties, path: [], depth: 1 },
  ];
  while (pending.length > 0) {
    const { value, path, depth } = pending.pop()!;
    if (typeof value === "string") {
      const problem = unstorableTextProblem(value);
      if (problem !== null) return { path, message: problem };
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth > MAX_PROPERTIES_DEPTH)
      return { path: [], message: `nested deeper than ${MAX_PROPERTIES_DEPTH} levels` };
    const entries: [string | number, unknown][] = Array.isArray(value)
      ? value.map((item, index) => [index, item])
      : Object.entries(value);
    for (const [key, inner] of entries.reverse()) {
      const problem = typeof key === "string" ? unstorableTextProblem(key) : null;
      if (problem !== null) return { path, message: `key ${JSON.stringify(key)} ${problem}` };
      pending.push({ value: inner, path: [...path, key], depth: depth + 1 });
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(properties));
  if (bytes > MAX_PROPERTIES_BYTES)
    return { path: [], message: `larger than ${MAX_PROPERTIES_BYTES / 1024} KiB as JSON (${bytes} bytes)` };
  return null;
}

export type QuantityCheck = { ok: true; quantity: string } | { ok: false; message: string };

/**
 * A positive decimal as a canonical string ("007.50" -> "7.5"). Strings are read digit by digit; a JSON
 * number is accepted only when it is a safe integer, because any other number already went through a float.
 */
export function normalizeQuantity(raw: unknown): QuantityCheck {
  if (typeof raw === "number") {
    if (!Number.isSafeInteger(raw)) {
      return {
        ok: false,
        message: `JSON number ${raw} is not an exact integer; send fractional quantities as a decimal string, e.g. "0.1"`,
      };
    }
    return raw > 0
      ? { ok: true, quantity: String(raw) }
      : { ok: false, message: "must be greater than zero" };
  }
  if (typeof raw !== "string")
    return { ok: false, message: 'must be a decimal string like "12.5" or an integer' };
  const match = DECIMAL_PATTERN.exec(raw.trim());
  if (match === null) {
    return {
      ok: false,
      message: `"${raw}" is not a plain positive decimal (digits with an optional "." part)`,
    };
  }
  const integerPart = match[1]!.replace(/^0+(?=\d)/, "");
  const fractionPart = (match[2] ?? "").replace(/0+$/, "");
  if (fractionPart.length > MAX_FRACTION_DIGITS) {
    return { ok: false, message: `has more than ${MAX_FRACTION_DIGITS} decimal places` };
  }
  if (integerPart.length > MAX_INTEGER_DIGITS) {
    return { ok: false, message: `has more than ${MAX_INTEGER_DIGITS} integer digits` };
  }
  if (/^0*$/.test(integerPart + fractionPart)) return { ok: false, message: "must be greater than zero" };
  return { ok: true, quantity: fractionPart.length > 0 ? `${integerPart}.${fractionPart}` : integerPart };
}

/** A quantity as the API receives it (usage and the check API alike), read by normalizeQuantity. */
export const quantitySchema = z.unknown().transform((raw, zctx) => {
  const checked = normalizeQuantity(raw);
  if (checked.ok) return checked.quantity;
  zctx.addIssue({ code: "custom", message: checked.message });
  return z.NEVER;
});

/** A usage event as the ledger receives it, after validation. `timestamp` is null when the caller sent none. */
export type UsageEvent = {
  usageId: string;
  customer: string;
  feature: string;
  quantity: string;
  timestamp: Date | null;
  properties: Record<string, unknown>;
};

export type UsageValidation = {
  /** The feature's catalog type, undefined when it does not exist; absent when no catalog is loaded (any name is accepted). */
  featureType?: (feature: string) => "metered" | "boolean" | "static" | undefined;
  now: Date;
};

const timestampSchema = z.union(
  [
    z.iso.datetime({ offset: true }).transform((value) => new Date(value)),
    z
      .number()
      .int()
      .positive()
      .max(253402300799)
      .transform((seconds) => new Date(seconds * 1000)),
  ],
  {
    error:
      "must be an ISO 8601 date-time with its time zone (e.g. 2026-12-01T12:00:00Z) or whole unix seconds (not milliseconds)",
  },
);

/** The zod schema of one usage event; the catalog and the clock are parameters so this stays pure. */
export function usageEventSchema(validation: UsageValidation) {
  return z
    .object({
      usage_id: storableText(),
      customer: storableText(),
      feature: storableText(),
      quantity: quantitySchema,
      timestamp: timestampSchema.nullish(),
      properties: z
        .record(z.string(), z.unknown())
        .superRefine((properties, zctx) => {
          const problem = findPropertiesProblem(properties);
          if (problem !== null)
            zctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
        })
        .nullish(),
    })
    .superRefine((event, zctx) => {
      const type = validation.featureType?.(event.feature);
      if (validation.featureType !== undefined && type === undefined) {
        zctx.addIssue({
          code: "custom",
          path: ["feature"],
          message: `unknown feature "${event.feature}" (not in the catalog)`,
        });
      } else if (type !== undefined && type !== "metered") {
        // Only metered features have a Stripe meter: any other usage would stay unreported forever.
        zctx.addIssue({
          code: "custom",
          path: ["feature"],
          message: `feature "${event.feature}" is not metered (type ${type}): usage can only be recorded for metered features`,
        });
      }
      if (event.timestamp && event.timestamp.getTime() > validation.now.getTime() + MAX_FUTURE_MS) {
        zctx.addIssue({
          code: "custom",
          path: ["timestamp"],
          message: "is more than 5 minutes in the future",
        });
      }
      if (event.timestamp && event.timestamp.getTime() < validation.now.getTime() - MAX_PAST_MS) {
        zctx.addIssue({
          code: "custom",
          path: ["timestamp"],
          message: `is more than ${MAX_PAST_DAYS} days in the past: Stripe meters take only the last 35 days, so this usage could never be billed`,
        });
      }
    })
    .transform(
      (event): UsageEvent => ({
        usageId: event.usage_id,
        customer: event.customer,
        feature: event.feature,
        quantity: event.quantity,
        timestamp: event.timestamp ?? null,
        properties: event.properties ?? {},
      }),
    );
}

export const usageBatchSchema = z.object({
  events: z.array(z.unknown()).min(1, "must hold at least one event").max(MAX_BATCH_EVENTS),
});

export function isBatchRequest(body: unknown): body is { events: unknown } {
  return typeof body === "object" && body !== null && "events" in body;
}

export type EventParse =
  | { ok: true; event: UsageEvent }
  | { ok: false; usageId: string | null; message: string };

/** Validates one event of a batch, turning zod's issues into one readable line. */
export function parseUsageEvent(raw: unknown, validation: UsageValidation): EventParse {
  return usageEventParser(validation)(raw);
}

/** parseUsageEvent with the schema built once, for a batch (building it costs far more than one parse). */
export function usageEventParser(validation: UsageValidation): (raw: unknown) => EventParse {
  const schema = usageEventSchema(validation);
  return (raw) => {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return { ok: true, event: parsed.data };
    const usageId =
      typeof raw === "object" && raw !== null && typeof (raw as { usage_id?: unknown }).usage_id === "string"
        ? (raw as { usage_id: string }).usage_id
        : null;
    const message = parsed.error.issues
      .map((issue) => `${issue.path.join(".") || "event"}: ${issue.message}`)
      .join("; ");
    return { ok: false, usageId, message };
  };
}
