import { readdir } from "node:fs/promises";
import type { AppContext } from "../app-context.js";
import { pingDatabase } from "../db/health.js";
import { MIGRATIONS_DIR } from "../db/migrate.js";
import { readEvictionPolicy } from "../queue/health.js";
import { STRIPE_API_VERSION } from "../stripe/client.js";

export type DoctorCheck = { name: string; ok: boolean; warning?: boolean; message: string };

const RECENT_DAYS = 7;

/** Health of one install: database and migrations, Redis, catalog, and the API version of recent events. */
export async function runDoctor(ctx: AppContext): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  checks.push({
    name: "catalog",
    ok: true,
    message: `${ctx.config.catalogPath}: ${Object.keys(ctx.catalog.features).length} features, ${ctx.catalog.plans.length} plans`,
  });

  try {
    const applied = await ctx.db.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
    const names = (await readdir(MIGRATIONS_DIR, { withFileTypes: true })).filter((e) => e.isDirectory());
    const done = new Set(applied.map((row) => row.migration_name));
    const pending = names.filter((entry) => !done.has(entry.name)).map((entry) => entry.name);
    checks.push(
      pending.length === 0
        ? { name: "database", ok: true, message: `reachable, ${done.size} migrations applied` }
        : {
            name: "database",
            ok: false,
            message: `pending migrations: ${pending.join(", ")} (run: leakguard migrate)`,
          },
    );
  } catch (error) {
    const reason = await pingDatabase(ctx.db);
    checks.push({
      name: "database",
      ok: false,
      message:
        reason === "ok"
          ? `not migrated (run: leakguard migrate): ${(error as Error).message.split("\n")[0]}`
          : `unreachable: ${reason} (${redactedUrl(ctx.config.databaseUrl)})`,
    });
    return checks;
  }

  const { policy, error } = await readEvictionPolicy(ctx.redis);
  checks.push(
    error !== undefined
      ? { name: "redis", ok: false, message: `unreachable: ${error} (${redactedUrl(ctx.config.redisUrl)})` }
      : policy === "noeviction"
        ? { name: "redis", ok: true, message: "reachable, maxmemory-policy noeviction" }
        : { name: "redis", ok: false, message: `maxmemory-policy is ${policy}; BullMQ needs noeviction` },
  );

  const since = new Date(Date.now() - RECENT_DAYS * 86_400_000);
  const versions = await ctx.db.stripeEvent.groupBy({
    by: ["apiVersion"],
    where: { receivedAt: { gte: since }, source: "webhook" },
    _count: { _all: true },
  });
  const other = versions.filter((row) => row.apiVersion !== STRIPE_API_VERSION);
  if (versions.length === 0) {
    checks.push({
      name: "api version",
      ok: true,
      message: `SDK pins ${STRIPE_API_VERSION}; no webhooks in the last ${RECENT_DAYS} days`,
    });
  } else if (other.length === 0) {
    checks.push({
      name: "api version",
      ok: true,
      message: `recent webhooks match the SDK's ${STRIPE_API_VERSION}`,
    });
  } else {
    const list = other.map((row) => `${row.apiVersion ?? "unknown"} (${row._count._all})`).join(", ");
    checks.push({
      name: "api version",
      ok: true,
      warning: true,
      message: `SDK pins ${STRIPE_API_VERSION} but recent webhooks arrived as ${list}; leakguard reads both shapes, but pin the endpoint to one version to be sure`,
    });
  }
  return checks;
}

/** host:port/path of a connection URL, without credentials, for messages. */
function redactedUrl(value: string): string {
  const url = new URL(value);
  return `${url.protocol}//${url.host}${url.pathname}`;
}
