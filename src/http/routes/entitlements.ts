import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { requireCustomerId } from "../../customers/resolve-customer.js";
import { loadAccessLog } from "../../entitlements/access-log.js";
import { requireCatalogFeature } from "../../entitlements/catalog.js";
import { decideCheck, type FeatureAccess } from "../../entitlements/decide-access.js";
import { createAccessReader, loadCustomerAccess } from "../../entitlements/load-access.js";
import { Quantity } from "../../entitlements/quantity.js";
import { quantitySchema, storableText } from "../../ledger/usage-input.js";

const customerParams = z.object({ customer: storableText() });
const featureParams = customerParams.extend({ feature: storableText() });
/** Read exactly as usage reads it; omitted means one unit ("may one more be used?"), so boolean checks need none. */
const quantity = quantitySchema.optional().transform((value) => new Quantity(value ?? "1"));
const checkBody = z.object({
  customer: storableText(),
  feature: storableText(),
  quantity,
});
const accessLogQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  feature: storableText().optional(),
});

function accessJson(access: FeatureAccess) {
  return {
    feature: access.feature,
    has_access: access.hasAccess,
    limit: access.limit,
    used: access.used,
    remaining: access.remaining,
    resets_at: access.resetsAt?.toISOString() ?? null,
    reason: access.reason,
    status: access.status,
    grace_until: access.graceUntil?.toISOString() ?? null,
  };
}

/** The product asks "may this customer use feature X, and how much is left?" (API-key auth from the parent scope). */
export async function registerEntitlementRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const reader = createAccessReader(ctx.config.databaseUrl);
  app.addHook("onClose", async () => reader.close());

  app.get("/v1/customers/:customer/entitlements", async (request) => {
    const { customer } = customerParams.parse(request.params);
    const { stripeCustomerId, access } = await loadCustomerAccess(
      ctx,
      reader,
      customer,
      Object.values(ctx.catalog.features),
    );
    return { customer: stripeCustomerId, entitlements: access.map(accessJson) };
  });

  app.get("/v1/customers/:customer/entitlements/:feature", async (request) => {
    const { customer, feature } = featureParams.parse(request.params);
    const definition = requireCatalogFeature(ctx.catalog, feature);
    const { stripeCustomerId, access } = await loadCustomerAccess(ctx, reader, customer, [definition]);
    return { customer: stripeCustomerId, ...accessJson(access[0]!) };
  });

  // `{ customer, feature, quantity? }`: quantity as /v1/usage takes it (positive integer or decimal string), default 1.
  app.post("/v1/check", async (request) => {
    const body = checkBody.parse(request.body ?? {});
    const definition = requireCatalogFeature(ctx.catalog, body.feature);
    const { stripeCustomerId, access } = await loadCustomerAccess(ctx, reader, body.customer, [definition]);
    const outcome = decideCheck(access[0]!, body.quantity);
    return { customer: stripeCustomerId, feature: definition.key, ...outcome };
  });

  app.get("/v1/customers/:customer/access-log", async (request) => {
    const { customer } = customerParams.parse(request.params);
    const query = accessLogQuery.parse(request.query);
    const stripeCustomerId = await requireCustomerId(ctx.db, customer);
    const entries = await loadAccessLog(ctx.db, stripeCustomerId, query);
    return { customer: stripeCustomerId, entries };
  });
}
