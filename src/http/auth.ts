import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

function sameKey(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The key a request presents: `Authorization: Bearer <key>`, or Basic auth with the key as password (browsers). */
function presentedKey(header: string): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(header);
  if (bearer) return bearer[1]?.trim();
  const basic = /^Basic\s+(.+)$/i.exec(header);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], "base64").toString("utf8");
    return decoded.slice(decoded.indexOf(":") + 1);
  }
  return undefined;
}

/** preHandler for the product API and the dashboard: the key must be one of LEAKGUARD_API_KEYS. */
export function requireApiKey(apiKeys: readonly string[], options: { browser?: boolean } = {}) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const key = presentedKey(request.headers.authorization ?? "");
    if (key === undefined || !apiKeys.some((candidate) => sameKey(candidate, key))) {
      if (options.browser) reply.header("WWW-Authenticate", 'Basic realm="leakguard"');
      await reply
        .code(401)
        .send({ error: "unauthorized", message: "missing or unknown API key (Authorization: Bearer <key>)" });
    }
  };
}
