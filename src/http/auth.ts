import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

function sameKey(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** preHandler for the product API: `Authorization: Bearer <one of LEAKGUARD_API_KEYS>`. */
export function requireApiKey(apiKeys: readonly string[]) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const key = match?.[1]?.trim();
    if (key === undefined || !apiKeys.some((candidate) => sameKey(candidate, key))) {
      await reply
        .code(401)
        .send({ error: "unauthorized", message: "missing or unknown API key (Authorization: Bearer <key>)" });
    }
  };
}
