import { type FindingDraft, fingerprintOf, isoTime } from "../findings.js";
import { toDec, toMinorString } from "../money.js";
import { type PriceTerms, priceQuantity } from "../pricing.js";
import type { InvoiceLineSnapshot, InvoiceSnapshot } from "../snapshots.js";
import { type UsageTotals, type UsageWindow, usageIn } from "../usage-windows.js";
import { type FeatureMapping, featureOfPrice } from "./feature-of-price.js";

export type BillingMismatchInput = FeatureMapping & { invoices: readonly InvoiceSnapshot[] };

/** An invoice line that bills a catalog feature by usage, and the ledger window it must agree with. */
export type MeteredLine = {
  invoice: InvoiceSnapshot;
  line: InvoiceLineSnapshot;
  feature: string;
  window: UsageWindow;
};

// Drafts can still change, void invoices collect nothing and deleted drafts (kept by the mirror as tombstones)
// never existed for the customer: none of them is what the customer was billed.
const UNBILLED_STATUSES = new Set(["draft", "void", "deleted"]);

/** The metered lines of billed invoices, each mapped to its feature; the loaders read usage for their windows. */
export function findMeteredLines(input: BillingMismatchInput): MeteredLine[] {
  const lines: MeteredLine[] = [];
  for (const invoice of input.invoices) {
    if (invoice.status !== null && UNBILLED_STATUSES.has(invoice.status)) continue;
    for (const line of invoice.lines) {
      // Prorations carry licensed quantities, never metered usage.
      if (line.proration || line.periodStart === null || line.periodEnd === null) continue;
      const feature = featureOfPrice(line.priceId, input);
      if (feature === null) continue;
      lines.push({
        invoice,
        line,
        feature: feature.feature,
        window: {
          customerId: invoice.customerId,
          feature: feature.feature,
          from: line.periodStart,
          to: line.periodEnd,
        },
      });
    }
  }
  return lines;
}

/**
 * A metered line whose quantity differs from the ledger's usage over the line's period. The amount is what the
 * ledger quantity costs at the line's price (exact, unrounded) minus what Stripe billed: negative = over-billed.
 */
export function checkBillingMismatch(input: BillingMismatchInput & { usage: UsageTotals }): FindingDraft[] {
  const findings: FindingDraft[] = [];
  for (const metered of findMeteredLines(input)) {
    const { invoice, line, window } = metered;
    const ledgerQuantity = usageIn(input.usage, window);
    const invoicedQuantity = toDec(line.quantity ?? "0");
    if (ledgerQuantity.eq(invoicedQuantity)) continue;

    const price = priceForLine(line, input);
    const expectedMinor = price === null ? null : priceQuantity(price, ledgerQuantity).exactMinor;
    const amountMinor = expectedMinor === null ? null : expectedMinor.sub(toDec(line.amountMinor));
    findings.push({
      fingerprint: fingerprintOf("billing_mismatch", [invoice.id, line.id]),
      category: "billing_mismatch",
      customerId: invoice.customerId,
      feature: metered.feature,
      expected: toMinorString(ledgerQuantity),
      actual: toMinorString(invoicedQuantity),
      amountMinor: amountMinor === null ? "0" : toMinorString(amountMinor),
      currency: line.currency || invoice.currency,
      evidence: {
        invoice: invoice.id,
        line: line.id,
        period: { from: isoTime(window.from), to: isoTime(window.to) },
        subscription: invoice.subscriptionId,
        subscription_item: line.subscriptionItemId,
        price: line.priceId,
        invoice_status: invoice.status,
        billed_minor: line.amountMinor,
        expected_minor: expectedMinor === null ? null : toMinorString(expectedMinor),
        ...(price === null ? { pricing: "unknown: the line's price could not be loaded" } : {}),
      },
    });
  }
  return findings;
}

/** The line's price, or its own unit amount when the price itself is unknown (a per-unit line still prices). */
function priceForLine(line: InvoiceLineSnapshot, input: BillingMismatchInput): PriceTerms | null {
  const price = line.priceId === null ? undefined : input.prices.get(line.priceId);
  if (price !== undefined) return price;
  if (line.unitAmountDecimal === null) return null;
  return {
    id: line.priceId ?? line.id,
    currency: line.currency,
    billingScheme: "per_unit",
    unitAmountDecimal: line.unitAmountDecimal,
    tiersMode: null,
    tiers: [],
    transformQuantity: null,
  };
}
