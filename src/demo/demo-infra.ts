import { connect } from "node:net";
import { databaseUrlFor, dropDatabase } from "../db/databases.js";
import { applyMigrations, ensureDatabase } from "../db/migrate.js";

/** Where a TCP service listens, from its URL (postgresql://..., redis://...). */
function endpointOf(serviceUrl: string, defaultPort: number): { host: string; port: number } {
  const url = new URL(serviceUrl);
  return { host: url.hostname || "127.0.0.1", port: url.port === "" ? defaultPort : Number(url.port) };
}

/** True when something accepts TCP connections at host:port within the timeout. */
function canConnect(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** One line naming the service that is down and how to start it; null when both answer. */
export async function findUnreachableService(databaseUrl: string, redisUrl: string): Promise<string | null> {
  const postgres = endpointOf(databaseUrl, 5432);
  const redis = endpointOf(redisUrl, 6379);
  const [postgresUp, redisUp] = await Promise.all([
    canConnect(postgres.host, postgres.port),
    canConnect(redis.host, redis.port),
  ]);
  const down = [
    ...(postgresUp ? [] : [`PostgreSQL is not reachable at ${postgres.host}:${postgres.port}`]),
    ...(redisUp ? [] : [`Redis is not reachable at ${redis.host}:${redis.port}`]),
  ];
  if (down.length === 0) return null;
  const services = [
    ...(postgresUp ? [] : [{ compose: "postgres", unit: "postgresql" }]),
    ...(redisUp ? [] : [{ compose: "redis", unit: "redis-server" }]),
  ];
  return (
    `${down.join(" and ")}: start ${services.length > 1 ? "them" : "it"} with ` +
    `\`docker compose up -d ${services.map((s) => s.compose).join(" ")}\` (compose.yaml in the repo) ` +
    `or your machine's service manager (e.g. ${services.map((s) => `\`sudo service ${s.unit} start\``).join(" and ")})`
  );
}

/** Drops and recreates the demo's own database, then applies every migration to it. */
export async function resetDemoDatabase(databaseUrl: string, databaseName: string): Promise<string> {
  if (!/^[a-z0-9_]+$/.test(databaseName)) throw new Error(`invalid demo database name "${databaseName}"`);
  await dropDatabase(databaseUrl, databaseName);
  const url = databaseUrlFor(databaseUrl, databaseName);
  await ensureDatabase(url);
  await applyMigrations(url);
  return url;
}
