import {
  asRecord,
  inField,
  type JsonRecord,
  readAmount,
  readBoolean,
  readCount,
  readDecimalString,
  readExpandableId,
  readString,
} from "./read.js";
import { readable, refusingInvalidValues, unreadable } from "./result.js";
import type { Normalized, PriceSnapshot, PriceTierSnapshot } from "./types.js";

/**
 * A Stripe price (or a legacy plan, which old subscription items and invoice lines embed under `plan` or even
 * under `price`): plans carry `amount`/`amount_decimal`/`interval`/`transform_usage` where prices carry
 * `unit_amount`/`unit_amount_decimal`/`recurring`/`transform_quantity`.
 */
export function normalizePrice(raw: unknown): Normalized<PriceSnapshot> {
  return refusingInvalidValues("price", raw, readPrice);
}

/** normalizePrice for a price embedded in another object: an invalid value throws to that object's reader. */
export function readPrice(raw: unknown): Normalized<PriceSnapshot> {
  const price = asRecord(raw);
  if (price === null) return unreadable("price is not an object");
  const stripePriceId = readString(price, "id");
  if (stripePriceId === null) return unreadable("price has no id");
  const kind = readString(price, "object");
  if (kind !== null && kind !== "price" && kind !== "plan")
    return unreadable(`${stripePriceId} is a ${kind}, not a price`);
  const currency = readString(price, "currency");
  if (currency === null) return unreadable(`price ${stripePriceId} has no currency`);

  const unitAmount = readAmount(price, "unit_amount") ?? readAmount(price, "amount");
  const unitAmountDecimal =
    readDecimalString(price, "unit_amount_decimal") ??
    readDecimalString(price, "amount_decimal") ??
    (unitAmount === null ? null : String(unitAmount));
  const recurring = asRecord(price["recurring"]);
  const tiers = inField("tiers", () => readTiers(price));
  if (tiers === "unreadable") return unreadable(`price ${stripePriceId} has tiers that cannot be read`);

  return readable({
    stripePriceId,
    stripeProductId: readExpandableId(price, "product"),
    currency: currency.toLowerCase(),
    unitAmountMinor: unitAmount,
    unitAmountDecimal,
    billingScheme: readString(price, "billing_scheme") ?? "per_unit",
    tiersMode: readString(price, "tiers_mode"),
    tiers,
    transformQuantity: readTransform(price),
    recurringInterval: readString(recurring, "interval") ?? readString(price, "interval"),
    usageType: readString(recurring, "usage_type") ?? readString(price, "usage_type"),
    stripeMeterId: readExpandableId(recurring, "meter") ?? readExpandableId(price, "meter"),
    lookupKey: readString(price, "lookup_key"),
    active: readBoolean(price, "active") ?? true,
  });
}

function readTiers(price: JsonRecord): PriceTierSnapshot[] | null | "unreadable" {
  const raw = price["tiers"];
  if (!Array.isArray(raw)) return null;
  const tiers: PriceTierSnapshot[] = [];
  for (const [index, entry] of raw.entries()) {
    const tier = asRecord(entry);
    if (tier === null) return "unreadable";
    tiers.push(inField(`[${index}]`, () => readTier(tier)));
  }
  return tiers;
}

function readTier(tier: JsonRecord): PriceTierSnapshot {
  return {
    // `up_to` is null (or "inf" in requests) for the last tier.
    upTo: tier["up_to"] === "inf" ? null : readCount(tier, "up_to", { min: 1 }),
    unitAmountDecimal:
      readDecimalString(tier, "unit_amount_decimal") ?? readDecimalString(tier, "unit_amount"),
    flatAmountDecimal:
      readDecimalString(tier, "flat_amount_decimal") ?? readDecimalString(tier, "flat_amount"),
  };
}

/** `transform_quantity` on prices, `transform_usage` on legacy plans. */
function readTransform(price: JsonRecord): PriceSnapshot["transformQuantity"] {
  const field = asRecord(price["transform_quantity"]) !== null ? "transform_quantity" : "transform_usage";
  const transform = asRecord(price[field]);
  return inField(field, () => {
    const divideBy = readCount(transform, "divide_by", { min: 1 });
    const round = readString(transform, "round");
    return divideBy === null || round === null ? null : { divideBy, round };
  });
}
