import { z } from "zod";

const csv = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part.length > 0),
    );

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
  STRIPE_SECRET_KEY: z.string().min(1).default("sk_test_leakguard_local"),
  STRIPE_WEBHOOK_SECRET: csv("whsec_leakguard_local"),
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  STRIPE_API_BASE: urlWith(["http", "https"]).optional(),
  LEAKGUARD_CATALOG: z.string().min(1).default("catalog.example.json"),
  LEAKGUARD_API_KEYS: csv("lg_local_key"),
  LEAKGUARD_QUEUE_PREFIX: z.string().min(1).default("leakguard"),
  LEAKGUARD_CUSTOMER_ID_METADATA: z.string().min(1).default("user_id"),
  LEAKGUARD_RECONCILE_CRON: z.string().min(1).default("0 3 * * *"),
  LEAKGUARD_WORKER_CONCURRENCY: z.coerce.number().int().positive().default(8),
  LEAKGUARD_OUTBOUND_URL: urlWith(["http", "https"]).optional(),
  LEAKGUARD_OUTBOUND_SECRET: z.string().min(16).optional(),
  LEAKGUARD_REVOKE_ON_REFUND: z.enum(["full", "any", "never"]).default("full"),
  LEAKGUARD_REVOKE_ON_DISPUTE: z.enum(["opened", "lost", "never"]).default("opened"),
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
  port: number;
  host: string;
  logLevel: string;
}>;

export type ConnectionConfig = Readonly<{ databaseUrl: string; redisUrl: string }>;

const connectionSchema = z.object({
  DATABASE_URL: urlWith(["postgresql", "postgres"]).default("postgresql://postgres@127.0.0.1:5432/leakguard"),
  REDIS_URL: urlWith(["redis", "rediss"]).default("redis://127.0.0.1:6379"),
});

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
  if (e.STRIPE_WEBHOOK_SECRET.length === 0)
    throw new ConfigError("invalid configuration: STRIPE_WEBHOOK_SECRET is empty");
  if (e.LEAKGUARD_OUTBOUND_URL !== undefined && e.LEAKGUARD_OUTBOUND_SECRET === undefined)
    throw new ConfigError(
      "invalid configuration: LEAKGUARD_OUTBOUND_SECRET is required with LEAKGUARD_OUTBOUND_URL",
    );
  if (e.LEAKGUARD_API_KEYS.length === 0)
    throw new ConfigError("invalid configuration: LEAKGUARD_API_KEYS is empty");
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
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
  });
}
