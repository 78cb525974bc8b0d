import Stripe from "stripe";
import { type IncomingStripeEvent, parseEventEnvelope } from "../ingest/event-envelope.js";

export type WebhookVerification = { ok: true; event: IncomingStripeEvent } | { ok: false; reason: string };

export type WebhookVerifyOptions = {
  secrets: readonly string[];
  toleranceSeconds: number;
  /** Clock for the timestamp check, in milliseconds; tests move it. */
  nowMs?: number;
};

// Verifying needs no API key or network; the SDK only exposes its helpers on an instance.
const verifier = new Stripe("sk_verify_only", { telemetry: false }).webhooks;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Checks `Stripe-Signature` over exactly the bytes received against every configured secret (rotation),
 * then that the body is a Stripe event envelope. Never throws for bad input.
 */
export function verifyStripeWebhook(
  rawBody: Buffer | undefined,
  signatureHeader: string | string[] | undefined,
  options: WebhookVerifyOptions,
): WebhookVerification {
  if (rawBody === undefined || rawBody.length === 0) return { ok: false, reason: "empty body" };
  if (typeof signatureHeader !== "string" || signatureHeader === "") {
    return { ok: false, reason: "missing Stripe-Signature header" };
  }
  let text: string;
  try {
    // Strict decoding: two different invalid byte sequences must never verify as the same text.
    text = utf8.decode(rawBody);
  } catch {
    return { ok: false, reason: "body is not UTF-8" };
  }
  const failures: string[] = [];
  const verified = options.secrets.some((secret) => {
    try {
      return verifier.signature!.verifyHeader(
        text,
        signatureHeader,
        secret,
        options.toleranceSeconds,
        undefined,
        options.nowMs,
      );
    } catch (error) {
      failures.push(classifyFailure((error as Error).message));
      return false;
    }
  });
  if (!verified) return { ok: false, reason: pickFailure(failures) };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not a Stripe event: body is not JSON" };
  }
  return parseEventEnvelope(json);
}

const STALE = "timestamp outside the tolerance window";

/** Our own fixed reasons: the SDK's messages can describe the configured secret, which a caller must not see. */
function classifyFailure(message: string): string {
  if (/tolerance/i.test(message)) return STALE;
  if (/extract timestamp|with expected scheme/i.test(message)) return "malformed Stripe-Signature header";
  return "signature does not match";
}

/** A stale timestamp under a matching secret says more than the other secrets' mismatches. */
function pickFailure(failures: string[]): string {
  return failures.includes(STALE) ? STALE : (failures[0] ?? "no webhook secret configured");
}
