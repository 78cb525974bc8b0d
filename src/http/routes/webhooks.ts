import type { FastifyInstance } from "fastify";
import type { AppContext } from "../../app-context.js";

export async function registerWebhookRoutes(_app: FastifyInstance, _ctx: AppContext): Promise<void> {}
