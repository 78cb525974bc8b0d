import { checkAccessNotRevoked } from "./checks/access-not-revoked.js";
import { checkBillingMismatch } from "./checks/billing-mismatch.js";
import type { FindingDraft } from "./findings.js";
import type { ReconcileInputs } from "./load-inputs.js";

/** Every check over the loaded inputs (pure); one finding per fingerprint, in a stable order. */
export function decideFindings(inputs: Omit<ReconcileInputs, "unreadable">): FindingDraft[] {
  const findings = [...checkBillingMismatch(inputs), ...checkAccessNotRevoked(inputs)];
  const byFingerprint = new Map(findings.map((finding) => [finding.fingerprint, finding]));
  return [...byFingerprint.values()].sort(
    (a, b) => a.category.localeCompare(b.category) || a.fingerprint.localeCompare(b.fingerprint),
  );
}
