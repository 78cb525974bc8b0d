import type { FastifyInstance } from "fastify";
import type { AppContext } from "../../app-context.js";

export async function registerReportRoutes(_app: FastifyInstance, _ctx: AppContext): Promise<void> {}
