// `npm run demo`: plain Node (runs before anything is installed). Installs if needed, checks that PostgreSQL and
// Redis answer, generates the Prisma client, then runs `leakguard demo` (extra arguments are passed through).
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

const databaseUrl = process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/leakguard";
const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";

function stop(message) {
  process.stderr.write(`leakguard demo: ${message}\n`);
  process.exit(1);
}

function endpoint(serviceUrl, defaultPort, variable) {
  try {
    const url = new URL(serviceUrl);
    return { host: url.hostname || "127.0.0.1", port: url.port === "" ? defaultPort : Number(url.port) };
  } catch {
    return stop(`${variable} is not a URL: ${serviceUrl}`);
  }
}

function reachable({ host, port }) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1500, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

if (!existsSync(join(root, "node_modules"))) {
  process.stdout.write("installing dependencies (npm install)...\n");
  const install = spawnSync(npm, ["install", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (install.status !== 0) stop("npm install failed");
}

const postgres = endpoint(databaseUrl, 5432, "DATABASE_URL");
const redis = endpoint(redisUrl, 6379, "REDIS_URL");
const [postgresUp, redisUp] = await Promise.all([reachable(postgres), reachable(redis)]);
const down = [
  ...(postgresUp ? [] : [{ name: "PostgreSQL", at: postgres, service: "postgres", unit: "postgresql" }]),
  ...(redisUp ? [] : [{ name: "Redis", at: redis, service: "redis", unit: "redis-server" }]),
];
if (down.length > 0) {
  stop(
    `${down.map((d) => `${d.name} is not reachable at ${d.at.host}:${d.at.port}`).join(" and ")}: ` +
      `start ${down.length > 1 ? "them" : "it"} with \`docker compose up -d ${down.map((d) => d.service).join(" ")}\` ` +
      `(compose.yaml in the repo) or your machine's service manager ` +
      `(e.g. ${down.map((d) => `\`sudo service ${d.unit} start\``).join(" and ")})`,
  );
}

// prisma.config.ts needs a database URL even to generate (without one the CLI fetches a native engine).
const env = { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl };
const generate = spawnSync(npx, ["prisma", "generate", "--no-hints"], { cwd: root, env, encoding: "utf8" });
if (generate.status !== 0) {
  process.stderr.write(`${generate.stdout ?? ""}${generate.stderr ?? ""}`);
  stop("prisma generate failed");
}

const demo = spawn(
  process.execPath,
  ["--import", "tsx", join(root, "src/cli/main.ts"), "demo", ...process.argv.slice(2)],
  { cwd: root, env, stdio: "inherit" },
);
// Ctrl-C reaches the demo too; wait for it to stop its processes instead of exiting under it.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => demo.kill("SIGTERM"));
demo.on("exit", (code, signal) => process.exit(code ?? (signal === "SIGINT" ? 130 : 1)));
