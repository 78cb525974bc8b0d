import { type FindingDraft, type FindingResolution, isoTime } from "./findings.js";

/** A lapsed feature's entitlement once enforcement ran: its status (null = no row) and the revoke that ended it. */
export type EnforcedAccess = {
  status: "active" | "grace" | "revoked" | null;
  reason: string | null;
  revokedBy: { accessLogId: string; cause: string; at: Date } | null;
};

/**
 * Fixed when the access is revoked now (by this run, or by a run or event that got there first: the access log
 * names which); open, with the reason leakguard still grants it, otherwise.
 */
export function decideResolution(
  finding: FindingDraft,
  access: EnforcedAccess,
  cause: string,
): FindingResolution {
  if (access.status === null || access.status === "revoked") {
    const by = access.revokedBy;
    return {
      fingerprint: finding.fingerprint,
      status: "fixed",
      evidence: {
        ...finding.evidence,
        fix: {
          action: "revoked",
          cause: by?.cause ?? cause,
          access_log: by?.accessLogId ?? null,
          at: by === null ? null : isoTime(by.at),
          reason: access.reason,
        },
      },
    };
  }
  return {
    fingerprint: finding.fingerprint,
    status: "open",
    evidence: {
      ...finding.evidence,
      fix: { action: "not_revoked", cause, entitlement_status: access.status, reason: access.reason },
    },
  };
}

/** Enforcement could not run for the customer: the finding stays open and says why. */
export function failedResolution(finding: FindingDraft, cause: string, error: string): FindingResolution {
  return {
    fingerprint: finding.fingerprint,
    status: "open",
    evidence: { ...finding.evidence, fix: { action: "failed", cause, error } },
  };
}
