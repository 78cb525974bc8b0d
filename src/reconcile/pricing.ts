import { DomainError } from "../errors.js";
import { Dec, type DecimalLike, toDec } from "./money.js";

/** One tier of a tiered price; `upTo` null is the last, unbounded tier ("inf"). Amounts in minor units. */
export type PriceTier = {
  upTo: DecimalLike | null;
  unitAmountDecimal: DecimalLike | null;
  flatAmountDecimal: DecimalLike | null;
};

/** Package pricing: bill ceil/floor(quantity / divideBy) units. */
export type TransformQuantity = { divideBy: number; round: "up" | "down" };

/** What a Stripe price says about turning a quantity into money (our own shape, not Stripe's). */
export type PriceTerms = {
  id: string;
  currency: string;
  billingScheme: "per_unit" | "tiered";
  unitAmountDecimal: DecimalLike | null;
  tiersMode: "graduated" | "volume" | null;
  tiers: readonly PriceTier[];
  transformQuantity: TransformQuantity | null;
};

/**
 * `exactMinor` is the unrounded amount in minor units; `billedMinor` is what Stripe puts on the invoice line.
 * Stripe rounds once per invoice line, after multiplying quantity by the (possibly sub-cent) unit amount, to the
 * nearest whole minor unit with halves rounded up (0.05 × 30 = 1.5 -> 2 cents; docs "Decimal amounts for pricing").
 * Zero-decimal currencies (jpy, krw, ...) need no special case here: their minor unit is the major unit, and the
 * amounts Stripe sends for them are already in that unit.
 */
export type PricedQuantity = { billableQuantity: Dec; exactMinor: Dec; billedMinor: Dec };

const ZERO = new Dec(0);

export function priceQuantity(price: PriceTerms, quantity: DecimalLike): PricedQuantity {
  const raw = toDec(quantity);
  if (raw.isNegative()) {
    throw new DomainError("invalid_quantity", `cannot price a negative quantity (${raw.toFixed()})`, {
      price: price.id,
    });
  }
  const billableQuantity = transformQuantity(raw, price.transformQuantity);
  const exactMinor =
    price.billingScheme === "tiered"
      ? priceTiered(price, billableQuantity)
      : pricePerUnit(price, billableQuantity);
  return { billableQuantity, exactMinor, billedMinor: roundToMinorUnit(exactMinor) };
}

/** Stripe's line rounding: to a whole minor unit, halves away from zero. */
export function roundToMinorUnit(amountMinor: Dec): Dec {
  return amountMinor.toDecimalPlaces(0, Dec.ROUND_HALF_UP);
}

function transformQuantity(quantity: Dec, transform: TransformQuantity | null): Dec {
  if (transform === null) return quantity;
  if (!(transform.divideBy > 0)) {
    throw new DomainError(
      "invalid_price",
      `transform_quantity.divide_by must be positive (${transform.divideBy})`,
    );
  }
  const divided = quantity.div(transform.divideBy);
  return divided.toDecimalPlaces(0, transform.round === "up" ? Dec.ROUND_UP : Dec.ROUND_DOWN);
}

function pricePerUnit(price: PriceTerms, quantity: Dec): Dec {
  if (price.unitAmountDecimal === null) {
    throw new DomainError("invalid_price", `price ${price.id} has no unit amount to price usage with`, {
      price: price.id,
    });
  }
  return quantity.mul(toDec(price.unitAmountDecimal));
}

type Tier = { upTo: Dec | null; unit: Dec; flat: Dec };

function sortedTiers(price: PriceTerms): Tier[] {
  if (price.tiers.length === 0) {
    throw new DomainError(
      "invalid_price",
      `tiered price ${price.id} has no tiers (retrieve it with expand tiers)`,
      {
        price: price.id,
      },
    );
  }
  const tiers = price.tiers.map((tier) => ({
    upTo: tier.upTo === null ? null : toDec(tier.upTo),
    unit: tier.unitAmountDecimal === null ? ZERO : toDec(tier.unitAmountDecimal),
    flat: tier.flatAmountDecimal === null ? ZERO : toDec(tier.flatAmountDecimal),
  }));
  return tiers.sort((a, b) => (a.upTo === null ? 1 : b.upTo === null ? -1 : a.upTo.cmp(b.upTo)));
}

function priceTiered(price: PriceTerms, quantity: Dec): Dec {
  const tiers = sortedTiers(price);
  return price.tiersMode === "volume" ? priceVolume(tiers, quantity) : priceGraduated(tiers, quantity);
}

/** Each tier prices the units that fall inside it; a tier's flat fee applies once any unit reaches it. */
function priceGraduated(tiers: Tier[], quantity: Dec): Dec {
  let total = ZERO;
  let lower = ZERO;
  for (const [index, tier] of tiers.entries()) {
    const upper = tier.upTo === null ? quantity : Dec.min(quantity, tier.upTo);
    const units = Dec.max(ZERO, upper.sub(lower));
    // Stripe bills the first tier's flat fee even at zero usage (the "base fee + usage" pattern).
    if (units.gt(0) || index === 0) total = total.add(tier.flat);
    total = total.add(units.mul(tier.unit));
    if (tier.upTo === null || quantity.lte(tier.upTo)) break;
    lower = tier.upTo;
  }
  return total;
}

/** The whole quantity is priced at the one tier it falls into. */
function priceVolume(tiers: Tier[], quantity: Dec): Dec {
  const tier =
    tiers.find((candidate) => candidate.upTo === null || quantity.lte(candidate.upTo)) ?? tiers.at(-1)!;
  return quantity.mul(tier.unit).add(tier.flat);
}
