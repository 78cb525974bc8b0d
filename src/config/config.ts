import { z } from "zod";

/** A comma-separated list with at least one non-empty entry. */
const requiredCsv = (missing: string) =>
  z
    .string({ error: missing })
    .transform((value) =>
      value
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part.length > 0),
    )
    .refine((parts) => parts.length > 0, missing);

const urlWith = (schemes: string[]) =>
  z
    .string()
    .url()
    .refine((value) => schemes.some((scheme) => value.startsWith(`${scheme}://`)), {
      message: `must be a ${schemes.join(" or ")} URL`,
    });

const schema = z.object({
  DATABASE_URL: urlWith(["postgresql", "postgres"]).default("postgresql://postgres@127.0.0.1:5432/leakguard"),
  REDIS_URL: urlWith(["redis", "rediss"]).default("redis://127.0.0.1:6379"),
  STRIPE_SECRET_KEY: z
    .string({ error: "is required (a Stripe secret or restricted key, sk_... or rk_...)" })
    .regex(
      /^(sk|rk)_(test|live)_\w+$/,
      "must be a Stripe secret or restricted key (sk_test_..., sk_live_..., rk_...)",
    ),
  STRIPE_WEBHOOK_SECRET: requiredCsv("is required (the endpoint's signing secret, whsec_...)").refine(
    (secrets) => secrets.every((secret) => /^whsec_\w+$/.test(secret)),
    "every secret must be an endpoint signing secret (whsec_...)",
  ),
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  STRIPE_API_BASE: urlWith(["http", "https"]).optional(),
  LEAKGUARD_CATALOG: z.string().min(1).default("catalog.example.json"),
  LEAKGUARD_API_KEYS: requiredCsv("is required (the keys your product sends as Bearer tokens)").refine(
    (keys) => keys.every((key) => key.length >= 16),
    "every key must be at least 16 characters",
  ),
  LEAKGUARD_QUEUE_PREFIX: z.string().min(1).default("leakguard"),
  LEAKGUARD_CUSTOMER_ID_METADATA: z.string().min(1).default("user_id"),
  LEAKGUARD_RECONCILE_CRON: z
    .string()
    .regex(/^\s*(\S+\s+){4,5}\S+\s*$/, 'must be a cron expression of 5 or 6 fields, e.g. "0 3 * * *"')
    .refine(
      (value) =>
        value
          .trim()
          .split(/\s+/)
          .every((field) => /^[\d*?/,LW#A-Za-z-]+$/.test(field)),
      {
        message: 'must be a cron expression of 5 or 6 fields, e.g. "0 3 * * *"',
      },
    )
    .default("0 3 * * *"),
  LEAKGUARD_WORKER_CONCURRENCY: z.coerce.number().int().positive().default(8),
  LEAKGUARD_OUTBOUND_URL: urlWith(["http", "https"]).optional(),
  LEAKGUARD_OUTBOUND_SECRET: z.string().min(16).optional(),
  LEAKGUARD_REVOKE_ON_REFUND: z.enum(["full", "any", "never"]).default("full"),
  LEAKGUARD_REVOKE_ON_DISPUTE: z.enum(["opened", "lost", "never"]).default("opened"),
  LEAKGUARD_ENFORCE_ON_AUDIT: z.enum(["revoke", "flag"]).default("revoke"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default("127.0.0.1"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = Readonly<{
  databaseUrl: string;
  redisUrl: string;
  stripeSecretKey: string;
  stripeWebhookSecrets: readonly string[];
  stripeWebhookToleranceSeconds: number;
  stripeApiBase: string | undefined;
  catalogPath: string;
  apiKeys: readonly string[];
  queuePrefix: string;
  customerIdMetadataKey: string;
  reconcileCron: string;
  workerConcurrency: number;
  outboundUrl: string | undefined;
  outboundSecret: string | undefined;
  revokeOnRefund: "full" | "any" | "never";
  revokeOnDispute: "opened" | "lost" | "never";
  /** What reconciliation does with access Stripe no longer backs: revoke it, or only report it. */
  enforceOnAudit: "revoke" | "flag";
  port: number;
  host: string;
  logLevel: string;
}>;

export type ConnectionConfig = Readonly<{ databaseUrl: string; redisUrl: string }>;

const connectionSchema = schema.pick({ DATABASE_URL: true, REDIS_URL: true });

export class ConfigError extends Error {
  override name = "ConfigError";
}

function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== "",
    ),
  );
}

function failure(error: z.ZodError): ConfigError {
  const issue = error.issues[0]!;
  return new ConfigError(`invalid configuration: ${issue.path.join(".")}: ${issue.message}`);
}

/** Only where PostgreSQL and Redis are, for commands that need no secrets. */
export function loadConnectionConfig(env: NodeJS.ProcessEnv = process.env): ConnectionConfig {
  const parsed = connectionSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) throw failure(parsed.error);
  return Object.freeze({ databaseUrl: parsed.data.DATABASE_URL, redisUrl: parsed.data.REDIS_URL });
}

/** The only reader of process.env: parses it once into a frozen Config, naming the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(withoutEmpty(env));
  if (!parsed.success) throw failure(parsed.error);
  const e = parsed.data;
  if (e.LEAKGUARD_OUTBOUND_URL !== undefined && e.LEAKGUARD_OUTBOUND_SECRET === undefined)
    throw new ConfigError(
      "invalid configuration: LEAKGUARD_OUTBOUND_SECRET is required with LEAKGUARD_OUTBOUND_URL",
    );
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    stripeSecretKey: e.STRIPE_SECRET_KEY,
    stripeWebhookSecrets: Object.freeze(e.STRIPE_WEBHOOK_SECRET),
    stripeWebhookToleranceSeconds: e.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
    stripeApiBase: e.STRIPE_API_BASE,
    catalogPath: e.LEAKGUARD_CATALOG,
    apiKeys: Object.freeze(e.LEAKGUARD_API_KEYS),
    queuePrefix: e.LEAKGUARD_QUEUE_PREFIX,
    customerIdMetadataKey: e.LEAKGUARD_CUSTOMER_ID_METADATA,
    reconcileCron: e.LEAKGUARD_RECONCILE_CRON,
    workerConcurrency: e.LEAKGUARD_WORKER_CONCURRENCY,
    outboundUrl: e.LEAKGUARD_OUTBOUND_URL,
    outboundSecret: e.LEAKGUARD_OUTBOUND_SECRET,
    revokeOnRefund: e.LEAKGUARD_REVOKE_ON_REFUND,
    revokeOnDispute: e.LEAKGUARD_REVOKE_ON_DISPUTE,
    enforceOnAudit: e.LEAKGUARD_ENFORCE_ON_AUDIT,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
  });
}
