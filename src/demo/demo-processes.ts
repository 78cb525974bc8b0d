import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLI_MAIN = join(REPO_ROOT, "src/cli/main.ts");

export type DemoChild = {
  name: string;
  logPath: string;
  process: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop: () => Promise<void>;
};

/** A free TCP port on the loopback interface (the OS picks it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(),
      );
    });
  });
}

/**
 * Starts `leakguard <command>` as a child process with the demo's environment; its output goes to a log file
 * so the demo's own output stays readable.
 */
export function startLeakguardProcess(
  command: "serve" | "worker",
  env: Record<string, string>,
  logDir: string,
): DemoChild {
  const logPath = join(logDir, `${command}.log`);
  const log: WriteStream = createWriteStream(logPath);
  const child = spawn(process.execPath, ["--import", "tsx", CLI_MAIN, command], {
    cwd: REPO_ROOT,
    // The child needs PATH and friends; the demo's own settings override anything inherited.
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      log.end();
      resolve(code);
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { name: command, logPath, process: child, exited, stop };
}

/** The last lines a child wrote, to explain why it stopped. */
export function tailOf(path: string, lines = 15): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Waits until `GET url` answers 200, or fails when the child exits or the time runs out. */
export async function waitForHealth(url: string, child: DemoChild, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void child.exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(`${child.name} exited (code ${exitCode}) before it was healthy`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${child.name} did not answer ${url} within ${Math.round(timeoutMs / 1000)} s`);
}
