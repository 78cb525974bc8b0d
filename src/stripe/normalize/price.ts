import {
  asRecord,
  type JsonRecord,
  readBoolean,
  readDecimalString,
  readExpandableId,
  readInteger,
  readString,
} from "./read.js";
import { readable, unreadable } from "./result.js";
import type { Normalized, PriceSnapshot, PriceTierSnapshot } from "./types.js";

/**
 * A Stripe price (or a legacy plan, which old subscription items and invoice lines embed under `plan` or even
 * under `price`): plans carry `amount`/`amount_decimal`/`interval`/`transform_usage` where prices carry
 * `unit_amount`/`unit_amount_decimal`/`recurring`/`transform_quantity`.
 */
export function normalizePrice(raw: unknown): Normalized<PriceSnapshot> {
  const price = asRecord(raw);
  if (price === null) return unreadable("price is not an object");
  const stripePriceId = readString(price, "id");
  if (stripePriceId === null) return unreadable("price has no id");
  const kind = readString(price, "object");
  if (kind !== null && kind !== "price" && kind !== "plan")
    return unreadable(`${stripePriceId} is a ${kind}, not a price`);
  const currency = readString(price, "currency");
  if (currency === null) return unreadable(`price ${stripePriceId} has no currency`);

  const unitAmount = readInteger(price, "unit_amount") ?? readInteger(price, "amount");
  const unitAmountDecimal =
    readDecimalString(price, "unit_amount_decimal") ??
    readDecimalString(price, "amount_decimal") ??
    (unitAmount === null ? null : String(unitAmount));
  const recurring = asRecord(price["recurring"]);
  const tiers = readTiers(price);
  if (tiers === "unreadable") return unreadable(`price ${stripePriceId} has tiers that cannot be read`);

  return readable({
    stripePriceId,
    stripeProductId: readExpandableId(price, "product"),
    currency: currency.toLowerCase(),
    unitAmountMinor: unitAmount === null ? null : BigInt(unitAmount),
    unitAmountDecimal,
    billingScheme: readString(price, "billing_scheme") ?? "per_unit",
    tiersMode: readString(price, "tiers_mode"),
    tiers,
    transformQuantity: readTransform(
      asRecord(price["transform_quantity"]) ?? asRecord(price["transform_usage"]),
    ),
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
  for (const entry of raw) {
    const tier = asRecord(entry);
    if (tier === null) return "unreadable";
    // `up_to` is null (or "inf" in requests) for the last tier.
    const upTo = readInteger(tier, "up_to");
    if (upTo === null && tier["up_to"] !== null && tier["up_to"] !== "inf") return "unreadable";
    tiers.push({
      upTo,
      unitAmountDecimal:
        readDecimalString(tier, "unit_amount_decimal") ?? readDecimalString(tier, "unit_amount"),
      flatAmountDecimal:
        readDecimalString(tier, "flat_amount_decimal") ?? readDecimalString(tier, "flat_amount"),
    });
  }
  return tiers;
}

function readTransform(transform: JsonRecord | null): PriceSnapshot["transformQuantity"] {
  const divideBy = readInteger(transform, "divide_by");
  const round = readString(transform, "round");
  return divideBy === null || round === null ? null : { divideBy, round };
}
