import type { Config } from "../config/config.js";

export type RefundPolicy = "full" | "any" | "never";
export type DisputePolicy = "opened" | "lost" | "never";
export type OutboundTarget = { url: string; secret: string };

export type EntitlementSettings = {
  /** LEAKGUARD_REVOKE_ON_REFUND: revoke on a full refund (default), on any refund, or never. */
  revokeOnRefund: RefundPolicy;
  /** LEAKGUARD_REVOKE_ON_DISPUTE: revoke when a dispute opens (default), only once it is lost, or never. */
  revokeOnDispute: DisputePolicy;
  /** LEAKGUARD_OUTBOUND_URL + LEAKGUARD_OUTBOUND_SECRET: where entitlement webhooks go; null = none are sent. */
  outbound: OutboundTarget | null;
};

// Fields the config owner adds to Config; until then the defaults apply.
type EntitlementConfig = Partial<{
  revokeOnRefund: string;
  revokeOnDispute: string;
  outboundUrl: string;
  outboundSecret: string;
}>;

const REFUND_POLICIES: readonly RefundPolicy[] = ["full", "any", "never"];
const DISPUTE_POLICIES: readonly DisputePolicy[] = ["opened", "lost", "never"];

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined || value === "") return fallback;
  if (!(allowed as readonly string[]).includes(value))
    throw new Error(`invalid configuration: ${name} must be one of ${allowed.join(", ")} (got "${value}")`);
  return value as T;
}

export function entitlementSettingsOf(config: Config): EntitlementSettings {
  const extra = config as Config & EntitlementConfig;
  const url = extra.outboundUrl;
  const secret = extra.outboundSecret;
  if (url && !secret)
    throw new Error(
      "invalid configuration: LEAKGUARD_OUTBOUND_SECRET is required with LEAKGUARD_OUTBOUND_URL",
    );
  return {
    revokeOnRefund: oneOf("LEAKGUARD_REVOKE_ON_REFUND", extra.revokeOnRefund, REFUND_POLICIES, "full"),
    revokeOnDispute: oneOf("LEAKGUARD_REVOKE_ON_DISPUTE", extra.revokeOnDispute, DISPUTE_POLICIES, "opened"),
    outbound: url && secret ? { url, secret } : null,
  };
}
