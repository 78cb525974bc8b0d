import { createHmac, timingSafeEqual } from "node:crypto";
import { type IncomingStripeEvent, parseEventEnvelope } from "./normalize/event-envelope.js";

/** A verified delivery carries the body as received: it is what intake stores, byte for byte. */
export type WebhookVerification =
  | { ok: true; event: IncomingStripeEvent; body: string }
  | { ok: false; reason: string };

export type WebhookVerifyOptions = {
  secrets: readonly string[];
  toleranceSeconds: number;
  /** Clock for the timestamp check, in milliseconds; tests move it. */
  nowMs?: number;
};

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const SIGNATURE_SCHEME = "v1";
const STALE = "timestamp outside the tolerance window";
const MALFORMED = "malformed Stripe-Signature header";
const MISMATCH = "signature does not match";

/**
 * Checks `Stripe-Signature` over exactly the bytes received against every configured secret (rotation), the way
 * Stripe signs (HMAC-SHA256 of `<t>.<body>`, any `v1` entry may match, then the timestamp's age), then that the
 * body is a Stripe event envelope. One HMAC per secret, no exceptions on the way. Never throws for bad input.
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
    // Strict decoding: the stored text must be exactly the signed bytes, never a replacement character.
    text = utf8.decode(rawBody);
  } catch {
    return { ok: false, reason: "body is not UTF-8" };
  }
  const header = parseSignatureHeader(signatureHeader);
  if (header === null) return { ok: false, reason: MALFORMED };
  if (options.secrets.length === 0) return { ok: false, reason: "no webhook secret configured" };
  if (!options.secrets.some((secret) => matchesAny(header, rawBody, secret))) {
    return { ok: false, reason: MISMATCH };
  }
  // Only a signature that matches makes the timestamp worth judging (it is signed with the body).
  const ageSeconds = Math.floor((options.nowMs ?? Date.now()) / 1000) - header.timestamp;
  if (ageSeconds > options.toleranceSeconds) return { ok: false, reason: STALE };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not a Stripe event: body is not JSON" };
  }
  const parsed = parseEventEnvelope(json);
  return parsed.ok ? { ok: true, event: parsed.event, body: text } : parsed;
}

type SignatureHeader = { timestamp: number; signatures: Buffer[] };

/** `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, other schemes ignored; null when there is no timestamp or no v1. */
function parseSignatureHeader(header: string): SignatureHeader | null {
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const item of header.split(",")) {
    const separator = item.indexOf("=");
    if (separator < 0) continue;
    const key = item.slice(0, separator);
    const value = item.slice(separator + 1);
    if (key === "t") timestamp = /^\d{1,12}$/.test(value) ? Number(value) : null;
    // A value that is not 64 hex digits can never match; it is kept out rather than compared.
    else if (key === SIGNATURE_SCHEME && /^[0-9a-f]{64}$/.test(value))
      signatures.push(Buffer.from(value, "hex"));
    else if (key === SIGNATURE_SCHEME) signatures.push(Buffer.alloc(0));
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
}

function matchesAny(header: SignatureHeader, rawBody: Buffer, secret: string): boolean {
  const expected = createHmac("sha256", secret).update(`${header.timestamp}.`).update(rawBody).digest();
  let matched = false;
  // Every entry is compared in constant time, and none is skipped once one matches.
  for (const given of header.signatures) {
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched;
}
