import { createHash } from "node:crypto";
import Stripe from "stripe";

/** One usage row as Stripe's meter sees it. `value` is an exact decimal string, never a float. */
export type MeterEventInput = {
  eventName: string;
  stripeCustomerId: string;
  value: string;
  /** Our own id for the usage (usage_id); Stripe rejects a second event with the same identifier. */
  usageId: string;
  occurredAt: Date;
};

export type MeterEventOutcome =
  | { status: "sent"; identifier: string }
  /** Stripe already holds an event with this identifier: the usage was delivered by an earlier attempt. */
  | { status: "already_sent"; identifier: string }
  /** Stripe refused the event for good (bad customer, meter, value or time): retrying cannot help. */
  | { status: "rejected"; identifier: string; reason: string };

/** A failure worth retrying later (network, rate limit, Stripe down, bad credentials). */
export class MeterEventUnavailableError extends Error {
  override name = "MeterEventUnavailableError";
}

const MAX_IDENTIFIER_LENGTH = 100;

/** Stripe caps identifiers at 100 characters; longer usage ids are hashed so the identifier stays stable. */
export function meterEventIdentifier(usageId: string): string {
  if (usageId.length <= MAX_IDENTIFIER_LENGTH) return usageId;
  return `lgu_${createHash("sha256").update(usageId).digest("hex")}`;
}

function isDuplicateIdentifier(error: InstanceType<typeof Stripe.errors.StripeError>): boolean {
  // Stripe documents no code for this rejection, so its fixed message is the signal.
  return (
    error.code === "meter_event_duplicate_identifier" || /already exists with identifier/i.test(error.message)
  );
}

/**
 * Sends one meter event. The identifier (and the request's idempotency key) derive from the usage id,
 * so a resend after a crash or a lost reply can never bill the same usage twice.
 */
export async function sendMeterEvent(stripe: Stripe, input: MeterEventInput): Promise<MeterEventOutcome> {
  const identifier = meterEventIdentifier(input.usageId);
  try {
    await stripe.billing.meterEvents.create(
      {
        event_name: input.eventName,
        payload: { stripe_customer_id: input.stripeCustomerId, value: input.value },
        identifier,
        timestamp: Math.floor(input.occurredAt.getTime() / 1000),
      },
      { idempotencyKey: `leakguard-meter-event-${identifier}` },
    );
    return { status: "sent", identifier };
  } catch (error) {
    if (!(error instanceof Stripe.errors.StripeError)) throw error;
    const status = error.statusCode ?? 0;
    if (status === 400 || status === 404) {
      if (isDuplicateIdentifier(error)) return { status: "already_sent", identifier };
      return { status: "rejected", identifier, reason: `${error.code ?? error.type}: ${error.message}` };
    }
    throw new MeterEventUnavailableError(
      `Stripe meter event failed (${status || error.type}): ${error.message}`,
      {
        cause: error,
      },
    );
  }
}
