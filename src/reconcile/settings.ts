import type { Config } from "../config/config.js";

/** LEAKGUARD_ENFORCE_ON_AUDIT: what a run does with access held after payment ended. */
export type EnforcementMode = "revoke" | "flag";

export const ENFORCEMENT_MODES: readonly EnforcementMode[] = ["revoke", "flag"];

// The field the config owner adds to Config; until then the default applies.
type EnforcementConfig = Partial<{ enforceOnAudit: string }>;

/** `revoke` (default): revoke the access and mark the finding fixed; `flag`: report the finding only. */
export function enforcementModeOf(config: Config): EnforcementMode {
  const value = (config as Config & EnforcementConfig).enforceOnAudit;
  if (value === undefined || value === "") return "revoke";
  if (!(ENFORCEMENT_MODES as readonly string[]).includes(value))
    throw new Error(
      `invalid configuration: LEAKGUARD_ENFORCE_ON_AUDIT must be one of ${ENFORCEMENT_MODES.join(", ")} (got "${value}")`,
    );
  return value as EnforcementMode;
}
