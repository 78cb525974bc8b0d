import type { Config } from "../config/config.js";

/** LEAKGUARD_ENFORCE_ON_AUDIT: what a run does with access held after payment ended. */
export type EnforcementMode = Config["enforceOnAudit"];

/** `revoke` (default): revoke the access and mark the finding fixed; `flag`: report the finding only. */
export function enforcementModeOf(config: Config): EnforcementMode {
  return config.enforceOnAudit;
}
