import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/config.js";
import { decideResolution, failedResolution } from "../../../src/reconcile/decide-enforcement.js";
import type { FindingDraft } from "../../../src/reconcile/findings.js";
import { enforcementModeOf } from "../../../src/reconcile/settings.js";
import { TEST_SECRETS } from "../../support/env.js";

const withMode = (mode?: string) =>
  loadConfig({ ...TEST_SECRETS, ...(mode === undefined ? {} : { LEAKGUARD_ENFORCE_ON_AUDIT: mode }) });

describe("LEAKGUARD_ENFORCE_ON_AUDIT", () => {
  it("revokes by default, flags when asked, and names the variable when the value is unknown", () => {
    expect(enforcementModeOf(withMode())).toBe("revoke");
    expect(enforcementModeOf(withMode("revoke"))).toBe("revoke");
    expect(enforcementModeOf(withMode("flag"))).toBe("flag");
    expect(() => withMode("delete")).toThrow("LEAKGUARD_ENFORCE_ON_AUDIT");
  });
});

describe("decideResolution", () => {
  const finding: FindingDraft = {
    fingerprint: "fp",
    category: "access_not_revoked",
    customerId: "cus_a",
    feature: "tokens",
    expected: "revoked",
    actual: "active",
    amountMinor: "0",
    currency: "usd",
    evidence: { why: "subscription sub_a is canceled in Stripe" },
  };
  const at = new Date("2026-12-02T03:00:01Z");

  it("a revoked entitlement fixes the finding, citing the access-log row that revoked it", () => {
    const revokedBy = { accessLogId: "log_1", cause: "check:reconcile:run_0", at };
    expect(
      decideResolution(
        finding,
        { status: "revoked", reason: "subscription_canceled", revokedBy },
        "check:reconcile:run_1",
      ),
    ).toEqual({
      fingerprint: "fp",
      status: "fixed",
      evidence: {
        why: "subscription sub_a is canceled in Stripe",
        fix: {
          action: "revoked",
          cause: "check:reconcile:run_0",
          access_log: "log_1",
          at: "2026-12-02T03:00:01Z",
          reason: "subscription_canceled",
        },
      },
    });
  });

  it("access still granted keeps the finding open with the reason; a failure keeps it open with the error", () => {
    const held = decideResolution(
      finding,
      { status: "grace", reason: "payment_past_due", revokedBy: null },
      "check:reconcile:run_1",
    );
    expect(held).toMatchObject({
      status: "open",
      evidence: { fix: { action: "not_revoked", entitlement_status: "grace", reason: "payment_past_due" } },
    });
    expect(failedResolution(finding, "check:reconcile:run_1", "connection reset")).toMatchObject({
      status: "open",
      evidence: { why: finding.evidence["why"], fix: { action: "failed", error: "connection reset" } },
    });
  });
});
