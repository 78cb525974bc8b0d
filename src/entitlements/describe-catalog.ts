import { type Catalog, type Grant, type Plan, planLabel } from "./catalog.js";

function describeMatch(plan: Plan): string {
  const by = plan.match.by === "lookup_key" ? "lookup key" : plan.match.by;
  return `${by} ${plan.match.value}`;
}

function describeGrant(grant: Grant): string {
  const seats = (perSeat: boolean) => (perSeat ? " per seat (times the item quantity)" : "");
  switch (grant.type) {
    case "boolean":
      return "granted";
    case "static":
      return `${grant.value}${seats(grant.perSeat)}`;
    case "metered": {
      const amount = grant.limit === null ? "unlimited" : grant.limit;
      const window =
        grant.limit === null ? "" : grant.reset === "billing_period" ? " per billing period" : " in total";
      return `${amount}${window}${seats(grant.perSeat)}`;
    }
  }
}

/** Human-readable lines saying what each plan grants (for `leakguard catalog check`). */
export function describeCatalog(catalog: Catalog): string[] {
  const features = Object.values(catalog.features);
  const lines = [
    `${features.length} features, ${catalog.plans.length} plans, past_due grace ${catalog.grace.pastDueDays} days`,
  ];
  for (const feature of features) {
    const meter = feature.type === "metered" ? ` (Stripe meter event "${feature.stripeMeterEventName}")` : "";
    lines.push(`  feature ${feature.key}: ${feature.type}${meter}`);
  }
  for (const plan of catalog.plans) {
    lines.push(`${planLabel(plan)}, matches ${describeMatch(plan)}:`);
    if (plan.grants.length === 0) lines.push("  grants nothing");
    for (const grant of plan.grants) lines.push(`  ${grant.feature}: ${describeGrant(grant)}`);
  }
  return lines;
}
