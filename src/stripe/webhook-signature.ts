import Stripe from "stripe";

const signer = new Stripe("sk_test_signing_only");

/** A `Stripe-Signature` header for a payload, the way Stripe signs (for the demo, the stand-in and tests). */
export function signWebhookPayload(payload: string, secret: string, timestampSeconds?: number): string {
  return signer.webhooks.generateTestHeaderString({
    payload,
    secret,
    ...(timestampSeconds === undefined ? {} : { timestamp: timestampSeconds }),
  });
}
