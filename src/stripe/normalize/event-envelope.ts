import { z } from "zod";

/** A Stripe event as leakguard stores it: the envelope's routing fields plus the whole envelope as received. */
export type IncomingStripeEvent = {
  id: string;
  type: string;
  apiVersion: string | null;
  created: Date;
  livemode: boolean;
  objectId: string | null;
  payload: Record<string, unknown>;
};

const envelopeSchema = z.looseObject({
  id: z.string().regex(/^evt_[A-Za-z0-9_]+$/, "must be a Stripe event id (evt_...)"),
  object: z.literal("event").optional(),
  type: z.string().min(1),
  api_version: z.string().min(1).nullish(),
  // Unix seconds between 2000 and 2100: anything else is not a Stripe event and could not be stored.
  created: z.number().int().min(946_684_800).max(4_102_444_800),
  livemode: z.boolean().optional(),
  data: z.looseObject({ object: z.record(z.string(), z.unknown()) }),
});

export type EnvelopeParseResult = { ok: true; event: IncomingStripeEvent } | { ok: false; reason: string };

/** Checks that a parsed JSON body is a Stripe event envelope and extracts what intake stores. */
export function parseEventEnvelope(json: unknown): EnvelopeParseResult {
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") : "body";
    return { ok: false, reason: `not a Stripe event: ${where}: ${issue?.message ?? "invalid"}` };
  }
  const envelope = parsed.data;
  const objectId = envelope.data.object["id"];
  return {
    ok: true,
    event: {
      id: envelope.id,
      type: envelope.type,
      apiVersion: envelope.api_version ?? null,
      created: new Date(envelope.created * 1000),
      livemode: envelope.livemode ?? false,
      objectId: typeof objectId === "string" ? objectId : null,
      payload: json as Record<string, unknown>,
    },
  };
}
