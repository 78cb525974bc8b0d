import type { AppContext } from "../app-context.js";
import { DomainError } from "../errors.js";
import type { Report } from "../report/report.js";
import { applyAccessEnforcement } from "./apply-enforcement.js";
import { decideFindings } from "./decide-findings.js";
import { isoTime } from "./findings.js";
import { loadReconcileInputs, type Progress } from "./load-inputs.js";
import { loadWebhookStats } from "./load-webhook-stats.js";
import { saveRunFailure, saveRunFindings, saveRunReport } from "./save-run.js";
import { enforcementModeOf } from "./settings.js";

export const RECONCILE_TRIGGERS = ["cli", "schedule", "api", "demo"] as const;
export type ReconcileTrigger = (typeof RECONCILE_TRIGGERS)[number];

/** Reconcile [from, to). */
export type ReconcileRequest = { from: Date; to: Date; trigger: ReconcileTrigger };

export type ReconcileResult = { runId: string; report: Report };

/**
 * One reconciliation run: a run row, then load (mirror, Stripe, ledger) -> decide (pure checks) -> save the
 * findings -> enforce (LEAKGUARD_ENFORCE_ON_AUDIT=revoke: revoke access held after payment ended, finding fixed)
 * -> save the report. A failure marks the run failed with its reason and is rethrown for the caller to classify.
 */
export async function runReconciliation(
  ctx: AppContext,
  request: ReconcileRequest,
  onProgress: Progress = () => {},
): Promise<ReconcileResult> {
  assertValidPeriod(request);
  const mode = enforcementModeOf(ctx.config);
  const run = await ctx.db.reconciliationRun.create({
    data: { periodFrom: request.from, periodTo: request.to, status: "running", trigger: request.trigger },
  });
  const log = ctx.logger.child({ run_id: run.id });
  const progress: Progress = (message) => {
    log.info({ progress: message }, "reconciliation progress");
    onProgress(message);
  };
  progress(
    `run ${run.id}: reconciling ${isoTime(request.from)} to ${isoTime(request.to)} (${request.trigger})`,
  );
  try {
    const inputs = await loadReconcileInputs(ctx, request, progress);
    const findings = decideFindings(inputs);
    progress(`${findings.length} finding(s)`);
    await saveRunFindings(ctx.db, run, findings);
    const resolutions =
      mode === "revoke"
        ? await applyAccessEnforcement(ctx, run.id, findings, inputs.stripeSubscriptions, progress)
        : [];
    const webhooks = await loadWebhookStats(ctx.db, request);
    const report = await saveRunReport(ctx.db, run, findings, resolutions, inputs.fallbackCurrency, webhooks);
    progress(`run ${run.id} completed`);
    return { runId: run.id, report };
  } catch (error) {
    await saveRunFailure(ctx.db, run.id, error).catch((saveError: unknown) =>
      log.error({ err: (saveError as Error).message }, "could not record the run's failure"),
    );
    throw error;
  }
}

/** A period to reconcile has two valid dates, `from` before `to`; anything else is `invalid_period`. */
export function assertValidPeriod(request: { from: Date; to: Date }): void {
  for (const [name, date] of [
    ["from", request.from],
    ["to", request.to],
  ] as const) {
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
      throw new DomainError("invalid_period", `${name} is not a valid date`);
    }
  }
  if (request.from >= request.to) {
    throw new DomainError(
      "invalid_period",
      `the period is empty: from ${isoTime(request.from)} is not before to ${isoTime(request.to)}`,
    );
  }
}
