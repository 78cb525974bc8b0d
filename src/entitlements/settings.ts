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

export function entitlementSettingsOf(config: Config): EntitlementSettings {
  const { outboundUrl: url, outboundSecret: secret } = config;
  return {
    revokeOnRefund: config.revokeOnRefund,
    revokeOnDispute: config.revokeOnDispute,
    outbound: url && secret ? { url, secret } : null,
  };
}
