import type { FastifyInstance } from "fastify";
import { ZodError } from "zod";
import type { AppContext } from "../../app-context.js";
import { isDomainError } from "../../errors.js";
import { ledgerCatalogOf } from "../../ledger/catalog-view.js";
import {
  conflictDetails,
  type RecordedUsage,
  recordUsage,
  recordUsageBatch,
  type UsageOutcome,
} from "../../ledger/record-usage.js";
import {
  isBatchRequest,
  type UsageValidation,
  usageBatchSchema,
  usageEventSchema,
} from "../../ledger/usage-input.js";
import { countUsageOutcomes, type UsageMetricOutcome } from "../metrics.js";

export type UsageStatus = UsageMetricOutcome;

/** What a failed single-event request counts as, for the usage counters. */
function failedOutcome(error: unknown): UsageStatus | null {
  if (error instanceof ZodError) return "invalid";
  if (!isDomainError(error)) return null;
  return error.code === "usage_conflict" ? "conflict" : "invalid";
}

export function usageEntryJson(entry: RecordedUsage) {
  return {
    id: entry.id,
    usage_id: entry.usageId,
    customer: entry.customerId,
    feature: entry.feature,
    quantity: entry.quantity,
    timestamp: entry.occurredAt.toISOString(),
    recorded_at: entry.recordedAt.toISOString(),
  };
}

function outcomeJson(index: number, outcome: UsageOutcome) {
  switch (outcome.status) {
    case "recorded":
    case "duplicate":
      return {
        index,
        usage_id: outcome.entry.usageId,
        status: outcome.status,
        entry: usageEntryJson(outcome.entry),
      };
    case "conflict":
      return {
        index,
        status: outcome.status,
        error: "usage_conflict",
        message: outcome.message,
        ...conflictDetails(outcome),
      };
    case "invalid":
      return {
        index,
        usage_id: outcome.usageId,
        status: outcome.status,
        error: outcome.error,
        message: outcome.message,
      };
  }
}

export async function registerUsageRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post("/v1/usage", async (request, reply) => {
    const validation: UsageValidation = {
      featureType: ledgerCatalogOf(ctx.catalog).featureType,
      now: new Date(),
    };

    if (isBatchRequest(request.body)) {
      const { events } = usageBatchSchema.parse(request.body);
      const outcomes = await recordUsageBatch(ctx, events, validation);
      countUsageOutcomes(
        request.server,
        outcomes.map((outcome) => outcome.status),
      );
      const counts: Record<UsageStatus, number> = { recorded: 0, duplicate: 0, conflict: 0, invalid: 0 };
      for (const outcome of outcomes) counts[outcome.status] += 1;
      const body = { results: outcomes.map((outcome, index) => outcomeJson(index, outcome)), counts };
      if (counts.invalid === outcomes.length) {
        return reply
          .code(400)
          .send({ error: "validation_failed", message: "every event in the batch was invalid", ...body });
      }
      return reply.code(200).send(body);
    }

    try {
      const event = usageEventSchema(validation).parse(request.body);
      const { entry, duplicate } = await recordUsage(ctx, event, validation.now);
      countUsageOutcomes(request.server, [duplicate ? "duplicate" : "recorded"]);
      return reply.code(200).send({ ...usageEntryJson(entry), duplicate });
    } catch (error) {
      const outcome = failedOutcome(error);
      if (outcome !== null) countUsageOutcomes(request.server, [outcome]);
      throw error;
    }
  });
}
