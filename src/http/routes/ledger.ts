import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { explainEntry, type LedgerRow } from "../../ledger/explain-entry.js";
import { loadLedgerPage } from "../../ledger/load-ledger.js";
import { storableText } from "../../ledger/usage-input.js";

const paramsSchema = z.object({ customer: storableText() });
const querySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: storableText()
    .transform((value) =>
      z.iso.datetime({ offset: true }).safeParse(value).success ? new Date(value) : value,
    )
    .optional(),
});

export function ledgerRowJson(row: LedgerRow) {
  return {
    id: row.id,
    usage_id: row.usageId,
    kind: row.kind,
    feature: row.feature,
    quantity: row.quantity,
    occurred_at: row.occurredAt.toISOString(),
    recorded_at: row.recordedAt.toISOString(),
    reported_at: row.reportedAt?.toISOString() ?? null,
    report_error: row.reportError,
    explanation: explainEntry(row),
  };
}

export async function registerLedgerRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get("/v1/customers/:customer/ledger", async (request) => {
    const { customer } = paramsSchema.parse(request.params);
    const { limit, before } = querySchema.parse(request.query);
    const page = await loadLedgerPage(ctx, { customer, limit, before });
    return {
      customer: page.customerId,
      entries: page.rows.map(ledgerRowJson),
      next_before: page.nextBefore,
    };
  });
}
