import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findUnreachableService } from "../../../src/demo/demo-infra.js";
import { REPO_ROOT } from "../../../src/demo/demo-processes.js";
import { DemoError, runDemo } from "../../../src/demo/run-demo.js";
import { TEST_PG_URL, TEST_REDIS_URL } from "../../support/env.js";

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("demo preflight", () => {
  it("names the service that is down and how to start it, in one line", async () => {
    const port = await closedPort();
    expect(await findUnreachableService(TEST_PG_URL, TEST_REDIS_URL)).toBeNull();
    const message = await findUnreachableService(TEST_PG_URL, `redis://127.0.0.1:${port}`);
    expect(message).toBe(
      `Redis is not reachable at 127.0.0.1:${port}: start it with \`docker compose up -d redis\` (compose.yaml in the repo) or your machine's service manager (e.g. \`sudo service redis-server start\`)`,
    );
  });

  it("stops the demo before starting anything when PostgreSQL is down", async () => {
    const port = await closedPort();
    const started = Date.now();
    let output = "";
    await expect(
      runDemo({
        databaseUrl: `postgresql://postgres@127.0.0.1:${port}/leakguard`,
        redisUrl: TEST_REDIS_URL,
        write: (text) => {
          output += text;
        },
      }),
    ).rejects.toThrow(DemoError);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(output).toBe("");
  });

  it("npm run demo's script exits 1 with one line when PostgreSQL is down", async () => {
    const port = await closedPort();
    const result = spawnSync(process.execPath, [join(REPO_ROOT, "scripts/demo.mjs")], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/leakguard`,
        REDIS_URL: TEST_REDIS_URL,
      },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([
      `leakguard demo: PostgreSQL is not reachable at 127.0.0.1:${port}: start it with \`docker compose up -d postgres\` (compose.yaml in the repo) or your machine's service manager (e.g. \`sudo service postgresql start\`)`,
    ]);
  });
});
