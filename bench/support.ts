/**
 * What the benchmarks share: where PostgreSQL and Redis are, throwaway databases and queue prefixes, and servers
 * run in child processes (so the load generator does not share their event loop).
 */
import { type ChildProcess, fork } from "node:child_process";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { databaseUrlFor, dropDatabase } from "../src/db/databases.js";
import { applyMigrations, ensureDatabase } from "../src/db/migrate.js";
import { createRedis } from "../src/queue/connection.js";
import { deleteQueueKeys } from "../src/queue/keys.js";

/** BENCH_DATABASE_URL: the PostgreSQL server to bench on (default the local one). */
export const PG_ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** The URL of a database of this name on the bench server. */
export function benchDatabaseUrl(name: string): string {
  return databaseUrlFor(PG_ADMIN_URL, name);
}

/** Creates the database if needed and applies every migration. */
export async function prepareBenchDatabase(databaseUrl: string): Promise<void> {
  await ensureDatabase(databaseUrl);
  await applyMigrations(databaseUrl);
}

export function dropBenchDatabase(databaseUrl: string): Promise<void> {
  return dropDatabase(PG_ADMIN_URL, new URL(databaseUrl).pathname.slice(1));
}

export async function deleteBenchQueueKeys(prefix: string): Promise<void> {
  const redis = createRedis(REDIS_URL);
  try {
    await deleteQueueKeys(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

/** One pg connection for the bench's own reads and writes (seeding, counting, statistics). */
export async function withClient<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Forks `file` (a bench module that, given `env`, starts a server and calls serveToParent) and waits for the port
 * it listens on; `label` names it if it exits first.
 */
export async function forkServer(
  label: string,
  file: string,
  env: Record<string, string>,
  stdout: "ignore" | "inherit",
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(file, [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, ...env },
    stdio: ["ignore", stdout, "inherit", "ipc"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message) => resolve((message as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`${label} server exited with ${code}`)));
  });
  return { child, port };
}

/**
 * In a forked server: tells the parent its port, answers "cpu" with its own CPU time so far (user + system,
 * microseconds) and "stop" by closing and exiting.
 */
export function serveToParent(address: AddressInfo | string | null, close: () => Promise<void>): void {
  process.send!({ port: (address as AddressInfo).port });
  process.on("message", async (message) => {
    if (message === "cpu") {
      const { user, system } = process.cpuUsage();
      process.send!({ cpu: user + system });
      return;
    }
    if (message !== "stop") return;
    await close();
    process.exit(0);
  });
}

/** Asks a server to stop (by default over IPC), killing it if it has not exited within 5 s. */
export async function stopChild(
  child: ChildProcess,
  ask: () => void = () => child.send("stop"),
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // autocannon stops at its deadline with requests still in flight; let the server answer them first.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  ask();
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
