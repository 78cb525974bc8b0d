import { withTimeout } from "../timeout.js";
import { causeLine, type Db } from "./client.js";

/** "ok", or why the database cannot be used right now. */
export async function pingDatabase(db: Db, timeoutMs = 1000): Promise<string> {
  try {
    await withTimeout(db.$queryRaw`SELECT 1`, timeoutMs, `no answer within ${timeoutMs} ms`);
    return "ok";
  } catch (error) {
    return causeLine(String((error as Error).message ?? error)) ?? "unavailable";
  }
}
