import { withTimeout } from "../timeout.js";
import type { Db } from "./client.js";

/** "ok", or why the database cannot be used right now. */
export async function pingDatabase(db: Db, timeoutMs = 1000): Promise<string> {
  try {
    await withTimeout(db.$queryRaw`SELECT 1`, timeoutMs, `no answer within ${timeoutMs} ms`);
    return "ok";
  } catch (error) {
    return firstLine(error);
  }
}

function firstLine(error: unknown): string {
  const lines = String((error as Error).message ?? error)
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return (lines.length > 1 && /invocation/.test(lines[0] ?? "") ? lines.at(-1) : lines[0]) ?? "unavailable";
}
