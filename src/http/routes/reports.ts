import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { storableText } from "../../ledger/usage-input.js";
import { loadReport } from "../../report/load-report.js";
import { REPORT_FORMATS, renderReport } from "../../report/render-report.js";

const paramsSchema = z.object({ id: storableText(100) });
const querySchema = z.object({ format: z.enum(REPORT_FORMATS).default("json") });

const CONTENT_TYPES = {
  json: "application/json; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  html: "text/html; charset=utf-8",
} as const;

/** GET /v1/reports/latest and /v1/reports/:id: a stored report, as JSON unless `?format=csv|md|html`. */
export async function registerReportRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get("/v1/reports/:id", async (request, reply) => {
    const { id } = paramsSchema.parse(request.params);
    const { format } = querySchema.parse(request.query);
    const report = await loadReport(ctx.db, id);
    if (format === "json") return report;
    return reply.type(CONTENT_TYPES[format]).send(renderReport(report, format));
  });
}
