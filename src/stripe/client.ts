import Stripe from "stripe";

export type StripeClient = Stripe;

/** The SDK's pinned API version; logged at start so operators can match their webhook endpoint to it. */
export const STRIPE_API_VERSION: string = Stripe.API_VERSION;

/** The only place a Stripe client is made. STRIPE_API_BASE points it at a local stand-in. */
export function createStripe(secretKey: string, apiBase?: string): Stripe {
  if (apiBase === undefined) return new Stripe(secretKey, { maxNetworkRetries: 2, telemetry: false });
  const url = new URL(apiBase);
  return new Stripe(secretKey, {
    host: url.hostname,
    port: url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port),
    protocol: url.protocol === "https:" ? "https" : "http",
    maxNetworkRetries: 2,
    telemetry: false,
  });
}
