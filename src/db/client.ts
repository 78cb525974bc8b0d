import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client.js";

export type Db = PrismaClient;
export { Prisma } from "./generated/client.js";

/** The only place a Prisma client is created. */
export function createDb(databaseUrl: string, options: { poolSize?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}

/** Prisma's unique-constraint violation: expected in races on idempotency keys, never an error to surface. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002";
}

/**
 * An error message as one line. Prisma's messages open with the call site ("Invalid `...` invocation") and end
 * with the cause: that last line is the one kept; any other message keeps its first line. Colour codes go.
 */
export function causeLine(message: string): string | undefined {
  const lines = message
    // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes are what is removed
    .replace(/\u001b\[[0-9;]*m/g, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const dump = lines.some((line) => /^Invalid `.*` invocation/.test(line));
  return dump ? lines.at(-1) : lines[0];
}
